package postgis

import (
	"context"
	"errors"
	"io"
	"iter"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

// progressEvery is how often BulkInsertUnits calls progress, in units.
const progressEvery = 10000

// BulkInsertUnits stores units with one binary COPY in one transaction: all or nothing.
// Each unit gets version 1 and the same created_at/updated_at; a unit without a status is
// a draft. The IDs of the inserted units are not set. Listeners hear one Resync event.
// Approved units enter the approved register in the same transaction.
//
// The units are read from the iterator and encoded on another goroutine while the
// previous chunk is sent, so progress is called from that goroutine too (never
// concurrently), and once more with the total before BulkInsertUnits returns.
func (s *Store) BulkInsertUnits(ctx context.Context, units iter.Seq[*riskmap.Unit], progress func(n int)) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	now := s.timestamp()
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT set_config('statement_timeout', $1, true), set_config('maintenance_work_mem', '256MB', true)",
			strconv.FormatInt(s.cfg.BulkTimeout.Milliseconds(), 10)); err != nil {
			return dbError("bulk insert", err)
		}
		rebuild, err := dropIndexesIfSmall(ctx, tx)
		if err != nil {
			return err
		}

		// approved counts the approved units of the load, so that a load without any skips
		// the approved register. The encoder goroutine writes it; it is read after <-encoded.
		approved := 0
		counted := func(yield func(*riskmap.Unit) bool) {
			for u := range units {
				if u != nil && u.Status == riskmap.StatusApproved {
					approved++
				}
				if !yield(u) {
					return
				}
			}
		}
		pr, pw := io.Pipe()
		encoded := make(chan error, 1)
		var ended atomic.Bool
		go func() {
			err := writeCopy(ctx, &ended, pw, counted, now, progress)
			pw.CloseWithError(err) // nil closes cleanly: the end of the data
			encoded <- err
		}()
		tag, err := tx.Conn().PgConn().CopyFrom(ctx, pr, copyUnitsSQL)
		// When the COPY ends early the encoder is stuck in Write or still reading units;
		// this stops it.
		ended.Store(true)
		pr.CloseWithError(errCopyEnded)
		encErr := <-encoded
		if encErr != nil && !errors.Is(encErr, errCopyEnded) {
			return encErr // the input was at fault (a bad geometry), not the database
		}
		if err != nil {
			return bulkError(err)
		}
		n = tag.RowsAffected()
		for _, def := range rebuild {
			if _, err := tx.Exec(ctx, def); err != nil {
				return bulkError(err)
			}
		}
		if rebuild != nil {
			// The planner would otherwise take the table for as small as it was.
			if _, err := tx.Exec(ctx, "ANALYZE risk_units (id, category, grade, region_code, status, geom, change_xid)"); err != nil {
				return dbError("bulk insert: analyze", err)
			}
		}
		// After the indexes are back: bulkApproved finds the new rows by change_xid.
		if approved > 0 {
			if err := bulkApproved(ctx, tx, now, rebuild != nil); err != nil {
				return err
			}
		}
		if n == 0 {
			return nil
		}
		// One notification for the whole load, delivered on commit: followers catch up.
		if _, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", Channel, resyncPayload); err != nil {
			return dbError("bulk insert: notify", err)
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, err
	}
	if progress != nil {
		progress(int(n))
	}
	return int(n), nil
}

// copyUnitsSQL is the COPY statement of BulkInsertUnits; the rows follow in binary.
var copyUnitsSQL = "COPY risk_units (" + strings.Join(unitColumns, ", ") + unitcodec.PublicColumns("") + unitcodec.DynamicColumns("") + ") FROM STDIN (FORMAT binary)"

var errCopyEnded = errors.New("the COPY ended")

// copyChunk is how much encoded COPY data is handed over at a time.
const copyChunk = 256 << 10

// writeCopy encodes units as a binary COPY stream into w until they end, ctx ends or ended
// is set.
func writeCopy(ctx context.Context, ended *atomic.Bool, w io.Writer, units iter.Seq[*riskmap.Unit], now time.Time, progress func(int)) error {
	buf := make([]byte, 0, copyChunk+64<<10)
	buf = append(buf, copyHeader...)
	count := 0
	for u := range units {
		if ended.Load() {
			return errCopyEnded
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		var err error
		if buf, err = appendUnitRow(buf, u, now); err != nil {
			return err
		}
		if len(buf) >= copyChunk {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
		count++
		if progress != nil && count%progressEvery == 0 {
			progress(count)
		}
	}
	buf = append(buf, copyTrailer...)
	_, err := w.Write(buf)
	return err
}

// rebuildBelow is the table size under which a bulk insert drops the secondary indexes of
// risk_units and builds them again after the COPY. Maintaining the GiST and five b-tree
// indexes row by row makes a COPY about five times slower than loading bare rows and
// building the indexes once (sorted GiST build); rebuilding costs about as much per
// existing row as maintaining costs per ten new ones, so it pays off for seeding an empty or
// small register. The price is an ACCESS EXCLUSIVE lock on risk_units until the commit:
// readers wait for the load, so a large register keeps its indexes and its readers.
const rebuildBelow = 50_000

// dropIndexesIfSmall drops the indexes of risk_units that no constraint owns when the
// table has fewer than rebuildBelow rows, and returns their definitions to run after the
// load. The definitions come from the catalog, as the migrations made them.
func dropIndexesIfSmall(ctx context.Context, tx pgx.Tx) ([]string, error) {
	var small bool
	if err := tx.QueryRow(ctx, "SELECT count(*) < $1 FROM (SELECT 1 FROM risk_units LIMIT $1) t", rebuildBelow).Scan(&small); err != nil {
		return nil, dbError("bulk insert: size", err)
	}
	if !small {
		return nil, nil
	}
	rows, err := tx.Query(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
		FROM pg_index i
		WHERE i.indrelid = 'risk_units'::regclass
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
		ORDER BY 1`)
	if err != nil {
		return nil, dbError("bulk insert: list indexes", err)
	}
	type index struct{ name, def string }
	idx, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (index, error) {
		var x index
		err := r.Scan(&x.name, &x.def)
		return x, err
	})
	if err != nil {
		return nil, dbError("bulk insert: list indexes", err)
	}
	defs := make([]string, 0, len(idx))
	for _, x := range idx {
		// The name is regclass text, already quoted where needed.
		if _, err := tx.Exec(ctx, "DROP INDEX "+x.name); err != nil {
			return nil, dbError("bulk insert: drop index", err)
		}
		defs = append(defs, x.def)
	}
	return defs, nil
}

// keyRE finds the taken value in a unique violation's detail:
// Key (code)=(X) already exists. (during the COPY)
// Key (code)=(X) is duplicated. (when the unique index is built after the load)
var keyRE = regexp.MustCompile(`^Key \(code\)=\((.*)\) (?:already exists|is duplicated)\.?$`)

func bulkError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == sqlUniqueViolation {
		if m := keyRE.FindStringSubmatch(pe.Detail); m != nil {
			return riskmap.Errorf(riskmap.ECONFLICT, "编号 %q 已被另一个未注销的风险单元使用（或在本次导入中重复）；未写入任何单元", m[1])
		}
		return riskmap.Errorf(riskmap.ECONFLICT, "有编号重复或已被占用；未写入任何单元")
	}
	return dbError("bulk insert", err)
}
