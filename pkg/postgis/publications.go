package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

const sqlSerializationFailure = "40001"

// Publish creates the next publication in one REPEATABLE READ transaction: the approved
// register it compares with the latest publication, summarises and writes from is one
// snapshot, whatever is approved meanwhile. Only what changed is written (see
// sql/postgis/016_incremental_publications.sql). Two publications made at once would take
// the same number; the later one then fails on the primary key (or on the rows the other
// withdrew) and is tried once more with the next number.
func (s *Store) Publish(ctx context.Context, p *riskmap.Publication, summarize riskmap.Summarizer) (*riskmap.PublicationChange, error) {
	return s.PublishRecorded(ctx, p, summarize, nil)
}

// PublishRecorded is Publish that keeps what rec returns in the same transaction.
func (s *Store) PublishRecorded(ctx context.Context, p *riskmap.Publication, summarize riskmap.Summarizer, rec func(*riskmap.Publication) (*riskmap.WriteRecords, error)) (*riskmap.PublicationChange, error) {
	for attempt := 0; ; attempt++ {
		ch, err := s.publish(ctx, p, summarize, rec)
		if !isPublishRace(err) {
			return ch, err
		}
		if attempt > 0 {
			return nil, riskmap.Errorf(riskmap.ECONFLICT, "另一期正在同时发布；请再试一次")
		}
	}
}

func isPublishRace(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == sqlUniqueViolation || pe.Code == sqlSerializationFailure)
}

// publishedColumns are what scanApproved reads from published_units: no approver, no time.
var publishedColumns = `unit_id, version, code, name, category, region_code, grade, risk_value, ST_AsBinary(geom), '', NULL::timestamptz` +
	unitcodec.PublicColumns("")

// changedSQL finds the units whose approved version or grade differs from the latest
// publication's (a condition raising the approved grade of a unit whose newer revision is
// under review changes the grade in place, keeping the approved version):
// the approved side (a new unit or version) and the published side (withdrawn or replaced).
const changedSQL = `SELECT a.unit_id, p.unit_id
FROM approved_units a
FULL JOIN (SELECT unit_id, version, grade FROM published_units WHERE withdrawn_in IS NULL) p ON p.unit_id = a.unit_id
WHERE a.version IS DISTINCT FROM p.version OR a.grade IS DISTINCT FROM p.grade`

// changedAmongSQL is changedSQL for the units of $1 (distinct ids): those approved_changes
// named (sql/postgis/017_approved_changes.sql).
const changedAmongSQL = `SELECT a.unit_id, p.unit_id
FROM unnest($1::bigint[]) c(id)
LEFT JOIN approved_units a ON a.unit_id = c.id
LEFT JOIN published_units p ON p.unit_id = c.id AND p.withdrawn_in IS NULL
WHERE a.version IS DISTINCT FROM p.version OR a.grade IS DISTINCT FROM p.grade`

// takeChangesSQL takes the ids of the units whose approved row changed, as this
// transaction's snapshot sees them, each once and in id order (the compare's index probes
// then walk both indexes forwards); those of transactions it does not see stay.
const takeChangesSQL = `WITH taken AS (DELETE FROM approved_changes RETURNING unit_id)
SELECT DISTINCT unit_id FROM taken ORDER BY unit_id`

func (s *Store) publish(ctx context.Context, p *riskmap.Publication, summarize riskmap.Summarizer, rec func(*riskmap.Publication) (*riskmap.WriteRecords, error)) (*riskmap.PublicationChange, error) {
	var (
		number int64
		count  int
		ch     *riskmap.PublicationChange
		sum    *riskmap.PublicationSummary
	)
	created := microOr(p.CreatedAt, s.timestamp())
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		// The first publication copies the whole register: it gets the bulk load's time limit.
		if _, err := tx.Exec(ctx, "SELECT set_config('statement_timeout', $1, true)",
			strconv.FormatInt(s.cfg.BulkTimeout.Milliseconds(), 10)); err != nil {
			return err
		}
		ch = &riskmap.PublicationChange{}
		var logged bool
		prev, err := scanPublicationCounts(tx.QueryRow(ctx, "SELECT number, created_at, created_by, note, unit_count, regions, counts, changes_logged FROM publications ORDER BY number DESC LIMIT 1"), &logged)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			number = 1
		case err != nil:
			return err
		default:
			ch.Previous, number, count = prev, prev.Number+1, prev.UnitCount
		}
		// The changes this snapshot sees are taken whatever the path: the first
		// publication, or one after a publication that did not take them, compares the
		// whole register and needs not read them.
		var changed []int64
		if ch.Previous != nil && logged {
			changed, err = takeChanges(ctx, tx)
		} else {
			_, err = tx.Exec(ctx, "DELETE FROM approved_changes")
		}
		if err != nil {
			return err
		}
		register := func() ([]*riskmap.ApprovedUnit, error) {
			rows, err := tx.Query(ctx, "SELECT "+approvedColumns+" FROM approved_units ORDER BY unit_id")
			if err != nil {
				return nil, err
			}
			return collect(rows, scanApproved)
		}
		var added, removed []int64
		if ch.Previous == nil {
			if ch.Added, err = register(); err != nil {
				return err
			}
		} else {
			// The logged changes suffice when the latest publication took those before
			// them and they are few; a bulk load's are compared as the whole register.
			if riskmap.LoggedChangesSuffice(logged, slices.Contains(changed, 0), len(changed), count) {
				added, removed, err = changedAmong(ctx, tx, changed)
			} else {
				added, removed, err = changedUnits(ctx, tx)
			}
			if err != nil {
				return err
			}
			if ch.Added, err = unitsAmong(ctx, tx, "SELECT "+approvedColumns+" FROM approved_units WHERE unit_id = ANY($1) ORDER BY unit_id", added); err != nil {
				return err
			}
			if ch.Removed, err = unitsAmong(ctx, tx, "SELECT "+publishedColumns+" FROM published_units WHERE withdrawn_in IS NULL AND unit_id = ANY($1) ORDER BY unit_id", removed); err != nil {
				return err
			}
		}
		count += len(ch.Added) - len(ch.Removed)
		ch.Register = register
		if sum, err = riskmap.Summarize(ch, summarize); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO publications (number, created_at, created_by, note, unit_count, regions, counts, changes_logged)
			VALUES ($1, $2, $3, $4, $5, $6, $7, true)`, number, created, p.CreatedBy, p.Note, count, []byte(sum.Regions), nullJSON(sum.Counts)); err != nil {
			return err
		}
		if err := writeChange(ctx, tx, number, ch.Previous == nil, added, removed, len(ch.Added), len(ch.Removed), count); err != nil {
			return err
		}
		r, err := riskmap.RecordPublication(rec, p, number, created, count, sum.Regions)
		if err != nil {
			return err
		}
		return s.keepRecords(ctx, tx, r)
	})
	if err != nil {
		if isPublishRace(err) {
			return nil, err
		}
		return nil, dbError("publish", err)
	}
	ch.Register = nil
	p.Number, p.CreatedAt, p.UnitCount, p.Regions = number, created, count, sum.Regions
	return ch, nil
}

// changedUnits returns the ids of the approved units to add (new units, new versions) and
// of the latest publication's units to withdraw (no longer approved, or replaced).
func changedUnits(ctx context.Context, tx pgx.Tx) (added, removed []int64, err error) {
	// Both sides are read in unit order from their version indexes and merged: a hash
	// join of a million rows each spills to disk at the default work_mem (8 batches,
	// 0.65 s against 0.3–0.4 s merged), and the planner picks it while the tables'
	// statistics are those of before a bulk load. For this transaction only.
	if _, err := tx.Exec(ctx, "SELECT set_config('enable_hashjoin', 'off', true)"); err != nil {
		return nil, nil, err
	}
	return readChanged(ctx, tx, changedSQL)
}

// readChanged reads the (added, removed) id pairs of changedSQL or changedAmongSQL.
func readChanged(ctx context.Context, tx pgx.Tx, query string, args ...any) (added, removed []int64, err error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var a, p *int64
		if err := rows.Scan(&a, &p); err != nil {
			return nil, nil, err
		}
		if a != nil {
			added = append(added, *a)
		}
		if p != nil {
			removed = append(removed, *p)
		}
	}
	return added, removed, rows.Err()
}

// takeChanges takes the logged ids of the units whose approved row changed (takeChangesSQL);
// a 0 says that everything changed (a bulk load).
func takeChanges(ctx context.Context, tx pgx.Tx) ([]int64, error) {
	rows, err := tx.Query(ctx, takeChangesSQL)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// changedAmong is changedUnits for the units of ids alone (distinct, in id order).
func changedAmong(ctx context.Context, tx pgx.Tx, ids []int64) (added, removed []int64, err error) {
	if len(ids) == 0 {
		return nil, nil, nil
	}
	return readChanged(ctx, tx, changedAmongSQL, ids)
}

// unitsAmong reads the units of query (a SELECT of approvedColumns or publishedColumns
// whose ids are = ANY($1)) for ids; none for no ids.
func unitsAmong(ctx context.Context, tx pgx.Tx, query string, ids []int64) ([]*riskmap.ApprovedUnit, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := tx.Query(ctx, query, ids)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanApproved)
}

// writeChange writes publication number's change: the first publication copies the whole
// approved register; a later one withdraws the removed units' rows and adds the added
// units'. It refuses a count that differs from what was read (cannot happen in one
// snapshot) rather than publish a mismatch.
func writeChange(ctx context.Context, tx pgx.Tx, number int64, first bool, added, removed []int64, nAdded, nRemoved, count int) error {
	check := func(what string, tag pgconn.CommandTag, want int) error {
		if n := tag.RowsAffected(); n != int64(want) {
			return fmt.Errorf("postgis: publish: %s %d units, read %d", what, n, want)
		}
		return nil
	}
	if first {
		tag, err := tx.Exec(ctx, copyPublicationSQL, number)
		if err != nil {
			return err
		}
		if err := check("copied", tag, nAdded); err != nil {
			return err
		}
	} else {
		if len(removed) > 0 {
			tag, err := tx.Exec(ctx, "UPDATE published_units SET withdrawn_in = $1 WHERE withdrawn_in IS NULL AND unit_id = ANY($2)", number, removed)
			if err != nil {
				return err
			}
			if err := check("withdrew", tag, nRemoved); err != nil {
				return err
			}
		}
		if len(added) > 0 {
			tag, err := tx.Exec(ctx, copyPublicationSQL+" WHERE unit_id = ANY($2)", number, added)
			if err != nil {
				return err
			}
			if err := check("added", tag, nAdded); err != nil {
				return err
			}
		}
	}
	if first || (nAdded+nRemoved)*10 > count {
		// The change is a tenth of the register or more: give the planner its statistics
		// now rather than when autovacuum comes by (the public view and diffs read it next).
		if _, err := tx.Exec(ctx, "ANALYZE published_units"); err != nil {
			return err
		}
	}
	return nil
}

func nullJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return []byte(b)
}

const selectPublication = `SELECT number, created_at, created_by, note, unit_count, regions FROM publications`

func scanPublication(row pgx.Row) (*riskmap.Publication, error) {
	p := &riskmap.Publication{}
	var regions []byte
	if err := row.Scan(&p.Number, &p.CreatedAt, &p.CreatedBy, &p.Note, &p.UnitCount, &regions); err != nil {
		return nil, err
	}
	p.CreatedAt, p.Regions = p.CreatedAt.UTC(), json.RawMessage(regions)
	return p, nil
}

func scanPublicationCounts(row pgx.Row, more ...any) (*riskmap.Publication, error) {
	p := &riskmap.Publication{}
	var regions, counts []byte
	if err := row.Scan(append([]any{&p.Number, &p.CreatedAt, &p.CreatedBy, &p.Note, &p.UnitCount, &regions, &counts}, more...)...); err != nil {
		return nil, err
	}
	p.CreatedAt, p.Regions, p.Counts = p.CreatedAt.UTC(), json.RawMessage(regions), json.RawMessage(counts)
	return p, nil
}

// LatestPublication returns the highest-numbered publication.
func (s *Store) LatestPublication(ctx context.Context) (*riskmap.Publication, error) {
	return readOne("latest publication", riskmap.NothingPublished(),
		scanPublication, s.pool.QueryRow(ctx, selectPublication+" ORDER BY number DESC LIMIT 1"))
}

// GetPublication returns publication number.
func (s *Store) GetPublication(ctx context.Context, number int64) (*riskmap.Publication, error) {
	return readOne("get publication", riskmap.PublicationNotFound(number),
		scanPublication, s.pool.QueryRow(ctx, selectPublication+" WHERE number = $1", number))
}

// Publications returns every publication, newest first.
func (s *Store) Publications(ctx context.Context) ([]*riskmap.Publication, error) {
	return queryAll(ctx, s, "list publications", func(r pgx.Rows) (*riskmap.Publication, error) { return scanPublication(r) },
		selectPublication+" ORDER BY number DESC")
}

// PublicationUnits streams the units of publication number, ordered by unit id; ENOTFOUND
// if there is no such publication. They carry neither approver nor approval time.
func (s *Store) PublicationUnits(ctx context.Context, number int64) iter.Seq2[*riskmap.ApprovedUnit, error] {
	return func(yield func(*riskmap.ApprovedUnit, error) bool) {
		if err := s.publicationExists(ctx, number); err != nil {
			yield(nil, err)
			return
		}
		for a, err := range s.approvedPages(ctx, "read publication units",
			`SELECT `+publishedColumns+` FROM published_units
WHERE published_in <= $3 AND (withdrawn_in IS NULL OR withdrawn_in > $3) AND unit_id > $1 ORDER BY unit_id LIMIT $2`, number) {
			if !yield(a, err) || err != nil {
				return
			}
		}
	}
}

func (s *Store) publicationExists(ctx context.Context, number int64) error {
	var exists bool
	if err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM publications WHERE number = $1)", number).Scan(&exists); err != nil {
		return dbError("read publication units", err)
	}
	if !exists {
		return riskmap.PublicationNotFound(number)
	}
	return nil
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
WHERE published_in > $1 AND published_in <= $2 AND (withdrawn_in IS NULL OR withdrawn_in > $2) ORDER BY unit_id`, from, to)
	if err != nil {
		return nil, err
	}
	removed, err := queryAll(ctx, s, "read publication changes", scanApproved, `SELECT `+publishedColumns+` FROM published_units
WHERE published_in <= $1 AND withdrawn_in > $1 AND withdrawn_in <= $2 ORDER BY unit_id`, from, to)
	if err != nil {
		return nil, err
	}
	return &riskmap.PublicationChange{Added: added, Removed: removed}, nil
}

// copyPublicationSQL adds the approved register (WHERE … may follow) to publication $1.
var copyPublicationSQL = `INSERT INTO published_units (published_in, unit_id, version, code, name, category, region_code, grade, risk_value, geom` +
	unitcodec.PublicColumns("") + `)
SELECT $1, unit_id, version, code, name, category, region_code, grade, risk_value, geom` + unitcodec.PublicColumns("") + ` FROM approved_units`
