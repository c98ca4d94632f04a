package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"iter"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

// Publish creates the next publication in one write transaction. The store has one
// writer, so the approved register it reads, summarises and copies cannot change meanwhile
// and no other publication can take its number.
func (s *Store) Publish(ctx context.Context, p *riskmap.Publication, summarize func([]*riskmap.ApprovedUnit) (json.RawMessage, error)) error {
	return s.PublishRecorded(ctx, p, summarize, nil)
}

// PublishRecorded is Publish that keeps what rec returns in the same transaction.
func (s *Store) PublishRecorded(ctx context.Context, p *riskmap.Publication, summarize func([]*riskmap.ApprovedUnit) (json.RawMessage, error), rec func(*riskmap.Publication) (*riskmap.WriteRecords, error)) error {
	created := milliOr(p.CreatedAt, now())
	var (
		number  int64
		units   []*riskmap.ApprovedUnit
		regions json.RawMessage
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, selectApproved+" ORDER BY unit_id")
		if err != nil {
			return s.dbErr(err, "publish: read the approved register")
		}
		for rows.Next() {
			a, err := scanApproved(rows.Scan)
			if err != nil {
				rows.Close()
				return s.dbErr(err, "publish: read the approved register")
			}
			units = append(units, a)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return s.dbErr(err, "publish: read the approved register")
		}
		if regions, err = riskmap.PublicationRegions(units, summarize); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(number), 0) + 1 FROM publications").Scan(&number); err != nil {
			return s.dbErr(err, "publish: number")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO publications (number, created_at, created_by, note, unit_count, regions)
VALUES (?, ?, ?, ?, ?, ?)`, number, formatTime(created), p.CreatedBy, p.Note, len(units), string(regions)); err != nil {
			return s.dbErr(err, "publish")
		}
		res, err := tx.ExecContext(ctx, copyPublicationSQL, number)
		if err != nil {
			return s.dbErr(err, "publish: copy the approved register")
		}
		if n, err := res.RowsAffected(); err != nil || n != int64(len(units)) {
			// Cannot happen under the write lock; refuse rather than publish a mismatch.
			return fmt.Errorf("gpkg: publish: copied %d units, read %d (%v)", n, len(units), err)
		}
		r, err := riskmap.RecordPublication(rec, p, number, created, len(units), regions)
		if err != nil {
			return err
		}
		return s.keepRecords(ctx, tx, r)
	})
	if err != nil {
		return err
	}
	p.Number, p.CreatedAt, p.UnitCount, p.Regions = number, created, len(units), regions
	return nil
}

const selectPublication = `SELECT number, CAST(created_at AS TEXT), created_by, note, unit_count, regions FROM publications`

func scanPublication(scan func(...any) error) (*riskmap.Publication, error) {
	p := &riskmap.Publication{}
	var created, regions string
	if err := scan(&p.Number, &created, &p.CreatedBy, &p.Note, &p.UnitCount, &regions); err != nil {
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

// PublicationUnits streams the units of publication number, ordered by unit id; ENOTFOUND
// if there is no such publication. They carry neither approver nor approval time.
func (s *Store) PublicationUnits(ctx context.Context, number int64) iter.Seq2[*riskmap.ApprovedUnit, error] {
	return func(yield func(*riskmap.ApprovedUnit, error) bool) {
		var n int
		if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM publications WHERE number = ?", number).Scan(&n); err != nil {
			yield(nil, s.dbErr(err, "read publication units"))
			return
		}
		if n == 0 {
			yield(nil, riskmap.PublicationNotFound(number))
			return
		}
		for a, err := range s.streamApproved(ctx, "read publication units", `SELECT unit_id, version, code, name, category,
    region_code, grade, risk_value, geom, '', NULL`+unitcodec.PublicColumns("")+` FROM publication_units WHERE publication = ? ORDER BY unit_id`, number) {
			if !yield(a, err) || err != nil {
				return
			}
		}
	}
}

// copyPublicationSQL copies the approved register into publication ?.
var copyPublicationSQL = `INSERT INTO publication_units (publication, unit_id, version, code, name, category,
    region_code, grade, risk_value, geom` + unitcodec.PublicColumns("") + `)
SELECT ?, unit_id, version, code, name, category, region_code, grade, risk_value, geom` + unitcodec.PublicColumns("") + ` FROM approved_units`
