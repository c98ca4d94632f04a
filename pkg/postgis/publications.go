package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

const sqlSerializationFailure = "40001"

// Publish creates the next publication in one REPEATABLE READ transaction: the approved
// register it reads, summarises and copies is one snapshot, whatever is approved
// meanwhile. Two publications made at once would take the same number; the later one then
// fails on the primary key and is tried once more with the next number.
func (s *Store) Publish(ctx context.Context, p *riskmap.Publication, summarize func([]*riskmap.ApprovedUnit) (json.RawMessage, error)) error {
	return s.PublishRecorded(ctx, p, summarize, nil)
}

// PublishRecorded is Publish that keeps what rec returns in the same transaction.
func (s *Store) PublishRecorded(ctx context.Context, p *riskmap.Publication, summarize func([]*riskmap.ApprovedUnit) (json.RawMessage, error), rec func(*riskmap.Publication) (*riskmap.WriteRecords, error)) error {
	for attempt := 0; ; attempt++ {
		err := s.publish(ctx, p, summarize, rec)
		if !isPublishRace(err) {
			return err
		}
		if attempt > 0 {
			return riskmap.Errorf(riskmap.ECONFLICT, "另一期正在同时发布；请再试一次")
		}
	}
}

func isPublishRace(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == sqlUniqueViolation || pe.Code == sqlSerializationFailure)
}

func (s *Store) publish(ctx context.Context, p *riskmap.Publication, summarize func([]*riskmap.ApprovedUnit) (json.RawMessage, error), rec func(*riskmap.Publication) (*riskmap.WriteRecords, error)) error {
	var (
		number  int64
		units   []*riskmap.ApprovedUnit
		regions json.RawMessage
	)
	created := microOr(p.CreatedAt, s.timestamp())
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		// The copy is as large as the register: it gets the bulk load's time limit.
		if _, err := tx.Exec(ctx, "SELECT set_config('statement_timeout', $1, true)",
			strconv.FormatInt(s.cfg.BulkTimeout.Milliseconds(), 10)); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT "+approvedColumns+" FROM approved_units ORDER BY unit_id")
		if err != nil {
			return err
		}
		if units, err = collect(rows, scanApproved); err != nil {
			return err
		}
		if regions, err = riskmap.PublicationRegions(units, summarize); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(number), 0) + 1 FROM publications").Scan(&number); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO publications (number, created_at, created_by, note, unit_count, regions)
			VALUES ($1, $2, $3, $4, $5, $6)`, number, created, p.CreatedBy, p.Note, len(units), []byte(regions)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, copyPublicationSQL, number)
		if err != nil {
			return err
		}
		if n := tag.RowsAffected(); n != int64(len(units)) {
			// Cannot happen in one snapshot; refuse rather than publish a mismatch.
			return fmt.Errorf("postgis: publish: copied %d units, read %d", n, len(units))
		}
		// The table grew by a whole register: give the planner its statistics now rather
		// than when autovacuum comes by (diffs and the public view read it next).
		if _, err = tx.Exec(ctx, "ANALYZE publication_units"); err != nil {
			return err
		}
		r, err := riskmap.RecordPublication(rec, p, number, created, len(units), regions)
		if err != nil {
			return err
		}
		return s.keepRecords(ctx, tx, r)
	})
	if err != nil {
		if isPublishRace(err) {
			return err
		}
		return dbError("publish", err)
	}
	p.Number, p.CreatedAt, p.UnitCount, p.Regions = number, created, len(units), regions
	return nil
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
		var exists bool
		if err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM publications WHERE number = $1)", number).Scan(&exists); err != nil {
			yield(nil, dbError("read publication units", err))
			return
		}
		if !exists {
			yield(nil, riskmap.PublicationNotFound(number))
			return
		}
		for a, err := range s.approvedPages(ctx, "read publication units",
			`SELECT unit_id, version, code, name, category, region_code, grade, risk_value, ST_AsBinary(geom), '', NULL::timestamptz`+
				unitcodec.PublicColumns("")+` FROM publication_units WHERE publication = $3 AND unit_id > $1 ORDER BY unit_id LIMIT $2`, number) {
			if !yield(a, err) || err != nil {
				return
			}
		}
	}
}

// copyPublicationSQL copies the approved register into publication $1.
var copyPublicationSQL = `INSERT INTO publication_units (publication, unit_id, version, code, name, category, region_code, grade, risk_value, geom` +
	unitcodec.PublicColumns("") + `)
SELECT $1, unit_id, version, code, name, category, region_code, grade, risk_value, geom` + unitcodec.PublicColumns("") + ` FROM approved_units`
