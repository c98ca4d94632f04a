package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strconv"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

// Publish creates the next publication in one write transaction. The store has one
// writer, so the approved register it compares with the latest publication, summarises
// and writes from cannot change meanwhile and no other publication can take its number.
// Only what changed is written (see sql/gpkg/015_incremental_publications.sql).
func (s *Store) Publish(ctx context.Context, p *riskmap.Publication, summarize riskmap.Summarizer) (*riskmap.PublicationChange, error) {
	return s.PublishRecorded(ctx, p, summarize, nil)
}

// publishedColumns are what scanApproved reads from published_units: no approver, no time.
var publishedColumns = `unit_id, version, code, name, category, region_code, grade, risk_value, geom, '', NULL` +
	unitcodec.PublicColumns("")

// addedSQL finds the approved units the latest publication does not hold at their version
// and grade (a condition raises an approved grade in place, see postgis), and removedSQL
// the latest publication's units the approved register no longer holds so. Two joins, each
// looking the other side up by its index: SQLite answers a FULL JOIN of the two by
// scanning one side for every row of the other (200,000 units: minutes).
const (
	addedSQL = `SELECT a.unit_id FROM approved_units a
LEFT JOIN published_units p ON p.unit_id = a.unit_id AND p.withdrawn_in IS NULL
WHERE p.unit_id IS NULL OR p.version IS NOT a.version OR p.grade IS NOT a.grade`
	removedSQL = `SELECT p.unit_id FROM published_units p
LEFT JOIN approved_units a ON a.unit_id = p.unit_id
WHERE p.withdrawn_in IS NULL AND (a.unit_id IS NULL OR a.version IS NOT p.version OR a.grade IS NOT p.grade)`
	// The same, for the units approved_changes names (sql/gpkg/016_approved_changes.sql).
	addedAmongSQL = `SELECT a.unit_id FROM approved_units a
LEFT JOIN published_units p ON p.unit_id = a.unit_id AND p.withdrawn_in IS NULL
WHERE a.unit_id IN (SELECT unit_id FROM approved_changes)
AND (p.unit_id IS NULL OR p.version IS NOT a.version OR p.grade IS NOT a.grade)
ORDER BY a.unit_id`
	removedAmongSQL = `SELECT p.unit_id FROM published_units p
LEFT JOIN approved_units a ON a.unit_id = p.unit_id
WHERE p.withdrawn_in IS NULL AND p.unit_id IN (SELECT unit_id FROM approved_changes)
AND (a.unit_id IS NULL OR a.version IS NOT p.version OR a.grade IS NOT p.grade)
ORDER BY p.unit_id`
)

// PublishRecorded is Publish that keeps what rec returns in the same transaction.
func (s *Store) PublishRecorded(ctx context.Context, p *riskmap.Publication, summarize riskmap.Summarizer, rec func(*riskmap.Publication) (*riskmap.WriteRecords, error)) (*riskmap.PublicationChange, error) {
	created := milliOr(p.CreatedAt, now())
	var (
		number int64
		count  int
		ch     *riskmap.PublicationChange
		sum    *riskmap.PublicationSummary
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		ch = &riskmap.PublicationChange{}
		var logged bool
		prev, err := scanPublicationCounts(func(dest ...any) error {
			return tx.QueryRowContext(ctx, selectPublicationCounts+" ORDER BY number DESC LIMIT 1").Scan(append(dest, &logged)...)
		})
		switch {
		case errors.Is(err, sql.ErrNoRows):
			number = 1
		case err != nil:
			return s.dbErr(err, "publish: the latest publication")
		default:
			ch.Previous, number, count = prev, prev.Number+1, prev.UnitCount
		}
		read := func(query string, args ...any) ([]*riskmap.ApprovedUnit, error) {
			rows, err := tx.QueryContext(ctx, query, args...)
			if err != nil {
				return nil, s.dbErr(err, "publish: read the approved register")
			}
			defer rows.Close()
			out, err := unitcodec.Collect(rows, func(r *sql.Rows) (*riskmap.ApprovedUnit, error) { return scanApproved(r.Scan) })
			if err != nil {
				return nil, s.dbErr(err, "publish: read the approved register")
			}
			return out, nil
		}
		register := func() ([]*riskmap.ApprovedUnit, error) { return read(selectApproved + " ORDER BY unit_id") }
		var added, removed string // JSON arrays of ids
		if ch.Previous == nil {
			if ch.Added, err = register(); err != nil {
				return err
			}
		} else {
			// The logged changes suffice when the latest publication took those before
			// them and they are few; a bulk load's are compared as the whole register.
			var changes int
			var everything bool
			if logged {
				if err := tx.QueryRowContext(ctx, "SELECT count(DISTINCT unit_id), coalesce(max(unit_id = 0), 0) FROM approved_changes").Scan(&changes, &everything); err != nil {
					return s.dbErr(err, "publish: the changed units")
				}
			}
			if riskmap.LoggedChangesSuffice(logged, everything, changes, count) {
				added, removed, err = s.changedUnits(ctx, tx, addedAmongSQL, removedAmongSQL)
			} else {
				added, removed, err = s.changedUnits(ctx, tx, addedSQL, removedSQL)
			}
			if err != nil {
				return err
			}
			if ch.Added, err = read(selectApproved+" WHERE unit_id IN (SELECT value FROM json_each(?)) ORDER BY unit_id", added); err != nil {
				return err
			}
			if ch.Removed, err = read("SELECT "+publishedColumns+` FROM published_units
WHERE withdrawn_in IS NULL AND unit_id IN (SELECT value FROM json_each(?)) ORDER BY unit_id`, removed); err != nil {
				return err
			}
		}
		count += len(ch.Added) - len(ch.Removed)
		ch.Register = register
		if sum, err = riskmap.Summarize(ch, summarize); err != nil {
			return err
		}
		var counts any
		if len(sum.Counts) > 0 {
			counts = string(sum.Counts)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO publications (number, created_at, created_by, note, unit_count, regions, counts, changes_logged)
VALUES (?, ?, ?, ?, ?, ?, ?, 1)`, number, formatTime(created), p.CreatedBy, p.Note, count, string(sum.Regions), counts); err != nil {
			return s.dbErr(err, "publish")
		}
		// Every change so far is in this publication, whichever way it was compared.
		if _, err := tx.ExecContext(ctx, "DELETE FROM approved_changes"); err != nil {
			return s.dbErr(err, "publish: the changed units")
		}
		check := func(what string, res sql.Result, err error, want int) error {
			if err != nil {
				return s.dbErr(err, "publish: %s", what)
			}
			if n, err := res.RowsAffected(); err != nil || n != int64(want) {
				// Cannot happen under the write lock; refuse rather than publish a mismatch.
				return fmt.Errorf("gpkg: publish: %s %d units, read %d (%v)", what, n, want, err)
			}
			return nil
		}
		if ch.Previous == nil {
			res, err := tx.ExecContext(ctx, copyPublicationSQL, number)
			if err := check("copy the approved register", res, err, len(ch.Added)); err != nil {
				return err
			}
		} else {
			res, err := tx.ExecContext(ctx, `UPDATE published_units SET withdrawn_in = ?
WHERE withdrawn_in IS NULL AND unit_id IN (SELECT value FROM json_each(?))`, number, removed)
			if err := check("withdraw", res, err, len(ch.Removed)); err != nil {
				return err
			}
			res, err = tx.ExecContext(ctx, copyPublicationSQL+" WHERE unit_id IN (SELECT value FROM json_each(?))", number, added)
			if err := check("add", res, err, len(ch.Added)); err != nil {
				return err
			}
		}
		r, err := riskmap.RecordPublication(rec, p, number, created, count, sum.Regions)
		if err != nil {
			return err
		}
		return s.keepRecords(ctx, tx, r)
	})
	if err != nil {
		return nil, err
	}
	ch.Register = nil
	p.Number, p.CreatedAt, p.UnitCount, p.Regions = number, created, count, sum.Regions
	return ch, nil
}

// changedUnits returns, as JSON arrays, the ids of the approved units to add (new units,
// new versions or grades) and of the latest publication's units to withdraw.
func (s *Store) changedUnits(ctx context.Context, tx *sql.Tx, addedQuery, removedQuery string) (added, removed string, err error) {
	ids := func(query string) (string, error) {
		rows, err := tx.QueryContext(ctx, query)
		if err != nil {
			return "", s.dbErr(err, "publish: compare with the latest publication")
		}
		defer rows.Close()
		b := []byte{'['}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return "", s.dbErr(err, "publish: compare with the latest publication")
			}
			b = strconv.AppendInt(append(b, ','), id, 10)
		}
		if err := rows.Err(); err != nil {
			return "", s.dbErr(err, "publish: compare with the latest publication")
		}
		return idArray(b), nil
	}
	if added, err = ids(addedQuery); err != nil {
		return "", "", err
	}
	removed, err = ids(removedQuery)
	return added, removed, err
}

// idArray closes a JSON array written as "[" followed by ",id" items.
func idArray(b []byte) string {
	if len(b) > 1 {
		b[1] = ' ' // the first item's comma
	}
	return string(append(b, ']'))
}

const selectPublication = `SELECT number, CAST(created_at AS TEXT), created_by, note, unit_count, regions FROM publications`

// selectPublicationCounts is selectPublication with counts and whether the publication took
// the logged changes before it (changes_logged), which only publishing reads.
const selectPublicationCounts = `SELECT number, CAST(created_at AS TEXT), created_by, note, unit_count, regions, counts, changes_logged FROM publications`

func scanPublication(scan func(...any) error) (*riskmap.Publication, error) {
	return scanPublicationInto(scan)
}

func scanPublicationCounts(scan func(...any) error) (*riskmap.Publication, error) {
	var counts sql.NullString
	p, err := scanPublicationInto(scan, &counts)
	if err != nil {
		return nil, err
	}
	if counts.Valid {
		p.Counts = json.RawMessage(counts.String)
	}
	return p, nil
}

func scanPublicationInto(scan func(...any) error, more ...any) (*riskmap.Publication, error) {
	p := &riskmap.Publication{}
	var created, regions string
	if err := scan(append([]any{&p.Number, &created, &p.CreatedBy, &p.Note, &p.UnitCount, &regions}, more...)...); err != nil {
		return nil, err
	}
	var err error
	if p.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	p.Regions = json.RawMessage(regions)
	return p, nil
}

// LatestPublication returns the highest-numbered publication.
func (s *Store) LatestPublication(ctx context.Context) (*riskmap.Publication, error) {
	return readOne(s, "latest publication", riskmap.NothingPublished(),
		scanPublication, s.r.QueryRowContext(ctx, selectPublication+" ORDER BY number DESC LIMIT 1").Scan)
}

// GetPublication returns publication number.
func (s *Store) GetPublication(ctx context.Context, number int64) (*riskmap.Publication, error) {
	return readOne(s, "get publication", riskmap.PublicationNotFound(number),
		scanPublication, s.r.QueryRowContext(ctx, selectPublication+" WHERE number = ?", number).Scan)
}

// Publications returns every publication, newest first.
func (s *Store) Publications(ctx context.Context) ([]*riskmap.Publication, error) {
	return queryAll(ctx, s, "list publications", scanPublication, selectPublication+" ORDER BY number DESC")
}

func (s *Store) publicationExists(ctx context.Context, number int64) error {
	var n int
	if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM publications WHERE number = ?", number).Scan(&n); err != nil {
		return s.dbErr(err, "read publication units")
	}
	if n == 0 {
		return riskmap.PublicationNotFound(number)
	}
	return nil
}

// PublicationUnits streams the units of publication number, ordered by unit id; ENOTFOUND
// if there is no such publication. They carry neither approver nor approval time.
func (s *Store) PublicationUnits(ctx context.Context, number int64) iter.Seq2[*riskmap.ApprovedUnit, error] {
	return func(yield func(*riskmap.ApprovedUnit, error) bool) {
		if err := s.publicationExists(ctx, number); err != nil {
			yield(nil, err)
			return
		}
		for a, err := range s.streamApproved(ctx, "read publication units", `SELECT `+publishedColumns+` FROM published_units
WHERE published_in <= ?1 AND (withdrawn_in IS NULL OR withdrawn_in > ?1) ORDER BY unit_id`, number) {
			if !yield(a, err) || err != nil {
				return
			}
		}
	}
}

// PublicationChanges returns what changed from publication from (0: nothing) to to.
func (s *Store) PublicationChanges(ctx context.Context, from, to int64) (*riskmap.PublicationChange, error) {
	if err := riskmap.CheckPublicationRange(from, to); err != nil {
		return nil, err
	}
	for _, n := range []int64{from, to} {
		if n > 0 {
			if err := s.publicationExists(ctx, n); err != nil {
				return nil, err
			}
		}
	}
	added, err := queryAll(ctx, s, "read publication changes", scanApproved, `SELECT `+publishedColumns+` FROM published_units
WHERE published_in > ?1 AND published_in <= ?2 AND (withdrawn_in IS NULL OR withdrawn_in > ?2) ORDER BY unit_id`, from, to)
	if err != nil {
		return nil, err
	}
	removed, err := queryAll(ctx, s, "read publication changes", scanApproved, `SELECT `+publishedColumns+` FROM published_units
WHERE published_in <= ?1 AND withdrawn_in > ?1 AND withdrawn_in <= ?2 ORDER BY unit_id`, from, to)
	if err != nil {
		return nil, err
	}
	return &riskmap.PublicationChange{Added: added, Removed: removed}, nil
}

// copyPublicationSQL adds the approved register (WHERE … may follow) to publication ?.
var copyPublicationSQL = `INSERT INTO published_units (published_in, unit_id, version, code, name, category,
    region_code, grade, risk_value, geom` + unitcodec.PublicColumns("") + `)
SELECT ?1, unit_id, version, code, name, category, region_code, grade, risk_value, geom` + unitcodec.PublicColumns("") + ` FROM approved_units`
