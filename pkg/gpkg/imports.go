package gpkg

import (
	"context"
	"database/sql"
	"errors"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

var _ riskmap.UnitImportStore = (*Store)(nil)

// UnitsByCode returns the active units whose code is among codes.
func (s *Store) UnitsByCode(ctx context.Context, codes []string) ([]*riskmap.Unit, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	// The codes go in as one JSON array, bound: the statement stays the same.
	list := string(unitcodec.AppendStrings(nil, codes, unitcodec.Stored))
	rows, err := s.r.QueryContext(ctx, "SELECT "+unitColumns+" FROM risk_units WHERE code IN (SELECT value FROM json_each(?)) AND status <> 'retired'", list)
	if err != nil {
		return nil, s.dbErr(err, "units by code")
	}
	defer rows.Close()
	var out []*riskmap.Unit
	for rows.Next() {
		u, err := scanUnit(rows)
		if err != nil {
			return nil, s.dbErr(err, "units by code")
		}
		out = append(out, u)
	}
	return out, s.dbErr(rows.Err(), "units by code")
}

// ImportUnits writes an import's units, their author records and its records in one
// transaction, with the statements of CreateUnit and UpdateUnit.
func (s *Store) ImportUnits(ctx context.Context, imp *riskmap.UnitImport) error {
	type was struct {
		id, version int64
		status      riskmap.Status
	}
	old := make([]was, len(imp.Writes))
	for i, w := range imp.Writes {
		old[i] = was{w.Unit.ID, w.Unit.Version, w.Unit.Status}
	}
	t := now()
	ts := formatTime(t)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, insertUnit+" RETURNING id")
		if err != nil {
			return s.dbErr(err, "import: prepare")
		}
		defer ins.Close()
		upd, err := tx.PrepareContext(ctx, updateUnit)
		if err != nil {
			return s.dbErr(err, "import: prepare")
		}
		defer upd.Close()
		var ext extent
		for i, w := range imp.Writes {
			if i%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
				if imp.Progress != nil && i > 0 {
					imp.Progress(i)
				}
			}
			u := w.Unit
			if u.Status == "" {
				u.Status = riskmap.StatusDraft
			}
			a, geom, err := prepareUnit(u)
			if err != nil {
				return err
			}
			vals := []any{
				u.Code, u.Name, u.Category, u.SubCategory, u.RegionCode, u.Address,
				a.accidentTypes, a.hazard, u.MajorRiskFactors, u.Assessment.Method, a.assessment,
				u.DirectMajorReason, u.RiskValue, string(u.Grade), u.Grade.Label(), a.explanation, a.controls,
				u.ResponsibleDepartment, u.ResponsibleUnit, u.ContactPerson, u.ContactPhone, u.InfluenceRadiusM,
				string(u.Status)}
			if u.ID == 0 {
				var id int64
				vals = append(vals, int64(1), ts, ts, u.AssessedBy, a.assessedAt, a.nextReview, geom)
				err := ins.QueryRowContext(ctx, appendDynamic(unitcodec.AppendPublicValues(vals, &u.PublicTexts), u)...).Scan(&id)
				if isUnique(err) {
					return riskmap.CodeTaken(u.Code)
				}
				if err != nil {
					return s.dbErr(err, "import: insert unit")
				}
				if err := s.recordAuthor(ctx, tx, id, u.Author, true); err != nil {
					return err
				}
				u.ID, u.Version, u.CreatedAt, u.UpdatedAt = id, 1, t, t
			} else {
				var version int64
				var created string
				vals = append(vals, ts, u.AssessedBy, a.assessedAt, a.nextReview, geom)
				err := upd.QueryRowContext(ctx, append(appendDynamic(unitcodec.AppendPublicValues(vals, &u.PublicTexts), u), u.ID, u.Version)...).Scan(&version, &created)
				switch {
				case errors.Is(err, sql.ErrNoRows):
					return s.missingOrStale(ctx, tx, u.ID, u.Version)
				case isUnique(err):
					return riskmap.CodeTaken(u.Code)
				case err != nil:
					return s.dbErr(err, "import: update unit %d", u.ID)
				}
				if err := s.recordAuthor(ctx, tx, u.ID, u.Author, false); err != nil {
					return err
				}
				ct, err := parseTime(created)
				if err != nil {
					return err
				}
				u.Version, u.UpdatedAt, u.CreatedAt = version, t, ct
			}
			ext.add(u.Geometry)
			if u.Status == riskmap.StatusApproved {
				if err := s.putApproved(ctx, tx, u.ID, &ext); err != nil {
					return err
				}
			}
			if w.Author != nil {
				w.Author.UnitID = u.ID
				if err := s.setUnitAuthor(ctx, tx, w.Author); err != nil {
					return err
				}
			}
		}
		if err := ext.write(ctx, tx, "risk_units"); err != nil {
			return s.dbErr(err, "update gpkg_contents")
		}
		if imp.Progress != nil {
			imp.Progress(len(imp.Writes))
		}
		if imp.Record != nil {
			r, err := imp.Record()
			if err != nil {
				return err
			}
			if err := s.keepRecords(ctx, tx, r); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	if err != nil {
		for i, w := range imp.Writes {
			w.Unit.ID, w.Unit.Version, w.Unit.Status = old[i].id, old[i].version, old[i].status
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	return nil
}
