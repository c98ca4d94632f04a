package gpkg

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

// bulkProgressEvery is how many units pass between progress calls.
const bulkProgressEvery = 10000

// bulkBatch is how many encoded units the encoding goroutine hands over at a time.
const bulkBatch = 128

// rtreeInsertTrigger is the gpkg_rtree_index trigger that a bulk load suspends.
const rtreeInsertTrigger = "rtree_risk_units_geom_insert"

// encodedUnit is a unit turned into the arguments of insertUnit.
type encodedUnit struct {
	args  []any
	code  string
	bound orb.Bound
	empty bool
	// approved units also enter the approved register.
	approved bool
}

// unitBatch carries encoded units, or the reason the sequence stopped early.
type unitBatch struct {
	units []encodedUnit
	err   error
	panic any // a panic of the caller's sequence, re-raised on the caller's goroutine
}

// indexEntry is one R-tree row a bulk load writes after the units.
type indexEntry struct {
	id  int64
	b   orb.Bound
	key uint64
}

// BulkInsertUnits stores units in one transaction through one prepared statement, reading
// the sequence as it goes, so memory stays flat but for ~50 bytes of index entry per unit.
// Every unit is inserted with version 1 and the same timestamp; an empty status is stored
// as draft. The units are only read: their IDs are not set (the sequence may reuse one
// Unit value). On any error nothing is stored.
//
// What makes it several times faster than inserting one unit at a time:
//   - The sequence is read and the units are encoded (JSON, geometry) on a second
//     goroutine while SQLite inserts on the caller's. The sequence therefore runs on
//     another goroutine than the caller's; a panic in it is re-raised on the caller's.
//   - The R-tree insert trigger is suspended for the load, inside the transaction, so no
//     other connection ever sees it missing. A trigger per row costs a statement journal
//     per row and an R-tree insert in random order.
//   - The index entries, collected as the units go in, are added at the end: by packing a
//     new tree when the load is at least as large as the index (rtreebulk.go), otherwise
//     by inserting them in Hilbert order, so that consecutive inserts touch the same nodes.
//   - The writer's page cache is raised for the load, so the indexes stay in memory.
func (s *Store) BulkInsertUnits(ctx context.Context, units iter.Seq[*riskmap.Unit], progress func(n int)) (int, error) {
	if progress == nil {
		progress = func(int) {}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	ts := formatTime(now())
	n := 0
	var ext extent
	var entries []indexEntry
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return 0, s.dbErr(err, "bulk insert")
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = %d", bulkCacheKiB)); err != nil {
		return 0, s.dbErr(err, "bulk insert")
	}
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA cache_size = %d", writerCacheKiB))
	}()
	err = s.inTxOn(ctx, conn, func(tx *sql.Tx) error {
		var trigger string
		err := tx.QueryRowContext(ctx, "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", rtreeInsertTrigger).Scan(&trigger)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			trigger = "" // no spatial index to maintain
		case err != nil:
			return s.dbErr(err, "read the R-tree trigger")
		default:
			if _, err := tx.ExecContext(ctx, "DROP TRIGGER "+rtreeInsertTrigger); err != nil {
				return s.dbErr(err, "suspend the R-tree trigger")
			}
		}
		// The load's ids are all above the largest now: it holds the write lock, and
		// AUTOINCREMENT never hands out an id below one used before.
		var lastID int64
		if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM risk_units").Scan(&lastID); err != nil {
			return s.dbErr(err, "bulk insert")
		}
		approved := 0
		var approvedExt extent
		stmt, err := tx.PrepareContext(ctx, insertUnit)
		if err != nil {
			return s.dbErr(err, "prepare bulk insert")
		}
		defer stmt.Close()

		batches := make(chan unitBatch, 8)
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(batches)
			encodeUnits(units, ts, batches, done)
		}()
		defer func() {
			close(done)
			wg.Wait()
		}()
		for b := range batches {
			if b.panic != nil {
				panic(b.panic)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			for _, e := range b.units {
				res, err := stmt.ExecContext(ctx, e.args...)
				if isUnique(err) {
					return riskmap.Errorf(riskmap.ECONFLICT, "第 %d 个单元：编号 %q 已被另一个未注销的风险单元使用（或在本次导入中重复）；未写入任何单元", n+1, e.code)
				}
				if err != nil {
					return s.dbErr(err, "insert unit %d", n+1)
				}
				if trigger != "" && !e.empty {
					id, err := res.LastInsertId()
					if err != nil {
						return s.dbErr(err, "insert unit %d", n+1)
					}
					entries = append(entries, indexEntry{id: id, b: e.bound})
				}
				if !e.empty {
					if ext.ok {
						ext.b = ext.b.Union(e.bound)
					} else {
						ext.b, ext.ok = e.bound, true
					}
				}
				if e.approved {
					approved++
					if !e.empty {
						approvedExt.addBound(e.bound)
					}
				}
				n++
				if n%bulkProgressEvery == 0 {
					progress(n)
				}
			}
			if b.err != nil {
				return fmt.Errorf("unit %d: %w", n+1, b.err)
			}
		}
		if trigger != "" {
			// Packing rewrites the whole tree: worth it when the load is at least as big
			// as what the index holds already.
			held, err := rtreeSize(ctx, tx)
			if err != nil {
				return s.dbErr(err, "count the R-tree")
			}
			if held <= len(entries) {
				err = s.rebuildIndex(ctx, tx, entries)
			} else {
				err = s.writeIndex(ctx, tx, entries, ext.b)
			}
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, trigger); err != nil {
				return s.dbErr(err, "restore the R-tree trigger")
			}
		}
		if n == 0 {
			return nil
		}
		if approved > 0 {
			if err := s.bulkApproved(ctx, tx, lastID, ts, &approvedExt); err != nil {
				return err
			}
		}
		return s.dbErr(ext.write(ctx, tx, "risk_units"), "update gpkg_contents")
	})
	if err != nil {
		return 0, err
	}
	progress(n)
	if n > 0 {
		// The load went into the WAL; fold it into the file now rather than leave a WAL as
		// large as the data for the next reader to wade through. Failure only costs speed.
		_, _ = conn.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	}
	return n, nil
}

// encodeUnits reads the sequence and sends encoded units in batches until the sequence
// ends, a unit is invalid, or done closes.
func encodeUnits(units iter.Seq[*riskmap.Unit], ts string, out chan<- unitBatch, done <-chan struct{}) {
	send := func(b unitBatch) bool {
		select {
		case out <- b:
			return true
		case <-done:
			return false
		}
	}
	batch := make([]encodedUnit, 0, bulkBatch)
	defer func() {
		if p := recover(); p != nil {
			send(unitBatch{units: batch, panic: p})
		}
	}()
	for u := range units {
		e, err := encodeForInsert(u, ts)
		if err != nil {
			send(unitBatch{units: batch, err: err})
			return
		}
		batch = append(batch, e)
		if len(batch) == bulkBatch {
			if !send(unitBatch{units: batch}) {
				return
			}
			batch = make([]encodedUnit, 0, bulkBatch)
		}
	}
	if len(batch) > 0 {
		send(unitBatch{units: batch})
	}
}

// encodeForInsert validates what the schema would reject and encodes a new unit.
func encodeForInsert(u *riskmap.Unit, ts string) (encodedUnit, error) {
	if u == nil {
		return encodedUnit{}, riskmap.Errorf(riskmap.EINVALID, "风险单元为空")
	}
	status := u.Status
	if status == "" {
		status = riskmap.StatusDraft
	}
	v := *u
	v.Status = status
	a, geom, err := prepareUnit(&v)
	if err != nil {
		return encodedUnit{}, err
	}
	return encodedUnit{
		args: appendDynamic(unitcodec.AppendPublicValues([]any{u.Code, u.Name, u.Category, u.SubCategory, u.RegionCode, u.Address,
			a.accidentTypes, a.hazard, u.MajorRiskFactors, u.Assessment.Method, a.assessment,
			u.DirectMajorReason, u.RiskValue, string(u.Grade), u.Grade.Label(), a.explanation, a.controls,
			u.ResponsibleDepartment, u.ResponsibleUnit, u.ContactPerson, u.ContactPhone, u.InfluenceRadiusM,
			string(status), int64(1), ts, ts, u.AssessedBy, a.assessedAt, a.nextReview, geom}, &u.PublicTexts), u),
		code:     u.Code,
		bound:    u.Geometry.Bound(),
		empty:    isEmpty(u.Geometry),
		approved: status == riskmap.StatusApproved,
	}, nil
}

// writeIndex adds R-tree entries in the Hilbert order of their centres within ext.
func (s *Store) writeIndex(ctx context.Context, tx *sql.Tx, entries []indexEntry, ext orb.Bound) error {
	w, h := ext.Max[0]-ext.Min[0], ext.Max[1]-ext.Min[1]
	for i := range entries {
		c := entries[i].b.Center()
		var x, y uint32
		if w > 0 {
			x = uint32((c[0] - ext.Min[0]) / w * 65535)
		}
		if h > 0 {
			y = uint32((c[1] - ext.Min[1]) / h * 65535)
		}
		entries[i].key = hilbert(x, y)
	}
	slices.SortFunc(entries, func(a, b indexEntry) int { return cmp.Compare(a.key, b.key) })
	return s.execEach(ctx, tx, "prepare R-tree insert", "write the R-tree",
		"INSERT OR REPLACE INTO rtree_risk_units_geom (id, minx, maxx, miny, maxy) VALUES (?, ?, ?, ?, ?)",
		len(entries), 1024, func(i int) []any {
			e := &entries[i]
			return []any{e.id, e.b.Min[0], e.b.Max[0], e.b.Min[1], e.b.Max[1]}
		})
}

// execEach prepares query in tx (prepareOp names a failure) and runs it n times with the
// arguments args gives for 0 … n-1 (op names a failure), looking at ctx every every runs.
func (s *Store) execEach(ctx context.Context, tx *sql.Tx, prepareOp, op, query string, n, every int, args func(i int) []any) error {
	stmt, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return s.dbErr(err, "%s", prepareOp)
	}
	defer stmt.Close()
	for i := range n {
		if i%every == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if _, err := stmt.ExecContext(ctx, args(i)...); err != nil {
			return s.dbErr(err, "%s", op)
		}
	}
	return nil
}

// hilbert returns the position of (x, y) along a Hilbert curve over a 2^16 × 2^16 grid.
func hilbert(x, y uint32) uint64 {
	var d uint64
	for s := uint32(1 << 15); s > 0; s /= 2 {
		var rx, ry uint32
		if x&s > 0 {
			rx = 1
		}
		if y&s > 0 {
			ry = 1
		}
		d += uint64(s) * uint64(s) * uint64((3*rx)^ry)
		if ry == 0 {
			if rx == 1 {
				x = 1<<16 - 1 - x
				y = 1<<16 - 1 - y
			}
			x, y = y, x
		}
	}
	return d
}
