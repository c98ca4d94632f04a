package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

// The approved register (approved_units) is kept in the transaction of each write of
// risk_units: CreateUnit and UpdateUnit call putApproved, RetireUnit dropApproved and
// BulkInsertUnits bulkApproved. approved_units is a GeoPackage features table, so each
// approval also widens its bounds in gpkg_contents.

// upsertApprovedSQL copies unit ? into the approved register if its stored revision is
// approved, replacing its earlier approved revision; a draft or submitted revision leaves
// the earlier one alone. Who approved it is not known here: SetUnitAuthor records it.
var upsertApprovedSQL = `INSERT INTO approved_units (unit_id, version, code, name, category, region_code, grade, risk_value,
    geom, approved_by, approved_at, inherent_grade` + unitcodec.PublicColumns("") + `)
SELECT id, version, code, name, category, region_code, grade, risk_value, geom, '', updated_at, inherent_grade` + unitcodec.PublicColumns("") + `
FROM risk_units WHERE id = ? AND status = 'approved'
ON CONFLICT (unit_id) DO UPDATE SET version = excluded.version, code = excluded.code, name = excluded.name,
    category = excluded.category, region_code = excluded.region_code, grade = excluded.grade,
    inherent_grade = excluded.inherent_grade,
    risk_value = excluded.risk_value, geom = excluded.geom, approved_by = excluded.approved_by,
    approved_at = excluded.approved_at` + unitcodec.PublicCopies("excluded")

// putApproved puts unit id's revision just written, of extent ext, into the approved
// register when it is approved.
func (s *Store) putApproved(ctx context.Context, tx *sql.Tx, id int64, ext *extent) error {
	n, err := s.changedRows(ctx, tx, "update the approved register", upsertApprovedSQL, id)
	if err != nil || n == 0 {
		return err // or not approved: the register keeps what it had
	}
	return s.dbErr(ext.write(ctx, tx, "approved_units"), "update gpkg_contents")
}

// dropApproved takes a retired unit out of the approved register.
func (s *Store) dropApproved(ctx context.Context, tx *sql.Tx, id int64) error {
	n, err := s.changedRows(ctx, tx, "update the approved register", "DELETE FROM approved_units WHERE unit_id = ?", id)
	if err != nil || n == 0 {
		return err // or never approved
	}
	_, err = tx.ExecContext(ctx, contentsTouch, "approved_units")
	return s.dbErr(err, "update gpkg_contents")
}

// bulkApproved copies the approved units of a bulk load, the rows with an id above after
// (the load holds the write lock, and AUTOINCREMENT ids only grow), into the approved
// register.
func (s *Store) bulkApproved(ctx context.Context, tx *sql.Tx, after int64, ts string, ext *extent) error {
	// Everything changed, for the next publication: one 0 instead of an id per unit
	// (sql/gpkg/016_approved_changes.sql).
	if _, err := tx.ExecContext(ctx, "DELETE FROM approved_changes"); err != nil {
		return s.dbErr(err, "bulk insert: approved register")
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO approved_changes (unit_id) VALUES (0)"); err != nil {
		return s.dbErr(err, "bulk insert: approved register")
	}
	_, err := tx.ExecContext(ctx, bulkApprovedSQL, ts, after)
	if err != nil {
		return s.dbErr(err, "bulk insert: approved register")
	}
	return s.dbErr(ext.write(ctx, tx, "approved_units"), "update gpkg_contents")
}

// addBound widens the extent by a non-empty geometry's bound.
func (e *extent) addBound(b orb.Bound) {
	if e.ok {
		e.b = e.b.Union(b)
	} else {
		e.b, e.ok = b, true
	}
}

// SetUnitAuthor records who wrote and reviewed the current revision of a unit. When that
// revision is the approved one, its reviewer is also recorded as its approver in the
// approved register.
func (s *Store) SetUnitAuthor(ctx context.Context, a *riskmap.UnitAuthor) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return s.setUnitAuthor(ctx, tx, a) })
}

// setUnitAuthor is SetUnitAuthor in the transaction tx.
func (s *Store) setUnitAuthor(ctx context.Context, tx *sql.Tx, a *riskmap.UnitAuthor) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO unit_authors (unit_id, created_by, updated_by, submitted_by, submitted_at,
    reviewed_by, reviewed_at, approved_version, review_comment, downgrade_reason, approved_grade, approved_feature,
    retire_reason, retire_requested_by, retire_requested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (unit_id) DO UPDATE SET submitted_by = excluded.submitted_by, submitted_at = excluded.submitted_at,
    reviewed_by = excluded.reviewed_by, reviewed_at = excluded.reviewed_at,
    approved_version = excluded.approved_version, review_comment = excluded.review_comment,
    downgrade_reason = excluded.downgrade_reason, approved_grade = excluded.approved_grade,
    approved_feature = excluded.approved_feature, retire_reason = excluded.retire_reason,
    retire_requested_by = excluded.retire_requested_by, retire_requested_at = excluded.retire_requested_at`,
		a.UnitID, a.CreatedBy, a.UpdatedBy, a.SubmittedBy, optTimeArg(a.SubmittedAt),
		a.ReviewedBy, optTimeArg(a.ReviewedAt), a.ApprovedVersion, a.Comment, a.DowngradeReason,
		string(a.ApprovedGrade), a.Approved, a.RetireReason, a.RetireRequestedBy, optTimeArg(a.RetireRequestedAt))
	if isForeignKey(err) {
		return riskmap.UnitNotFound(a.UnitID)
	}
	if err != nil {
		return s.dbErr(err, "set unit author")
	}
	if a.ReviewedBy == "" {
		return nil
	}
	_, err = tx.ExecContext(ctx, `UPDATE approved_units SET approved_by = ?
WHERE unit_id = ? AND version = ?
    AND EXISTS (SELECT 1 FROM risk_units r WHERE r.id = approved_units.unit_id AND r.version = approved_units.version AND r.status = 'approved')`,
		a.ReviewedBy, a.UnitID, a.ApprovedVersion)
	return s.dbErr(err, "set unit approver")
}

// UnitAuthor returns a unit's author record, empty when none was recorded.
func (s *Store) UnitAuthor(ctx context.Context, unitID int64) (*riskmap.UnitAuthor, error) {
	a := &riskmap.UnitAuthor{UnitID: unitID}
	var submitted, reviewed, retire sql.NullString
	var grade string
	err := s.r.QueryRowContext(ctx, `SELECT created_by, updated_by, submitted_by, CAST(submitted_at AS TEXT), reviewed_by,
    CAST(reviewed_at AS TEXT), approved_version, review_comment, downgrade_reason, approved_grade, approved_feature,
    retire_reason, retire_requested_by, CAST(retire_requested_at AS TEXT) FROM unit_authors WHERE unit_id = ?`, unitID).
		Scan(&a.CreatedBy, &a.UpdatedBy, &a.SubmittedBy, &submitted, &a.ReviewedBy, &reviewed, &a.ApprovedVersion,
			&a.Comment, &a.DowngradeReason, &grade, &a.Approved, &a.RetireReason, &a.RetireRequestedBy, &retire)
	if errors.Is(err, sql.ErrNoRows) {
		return a, nil
	}
	if err != nil {
		return nil, s.dbErr(err, "get unit author")
	}
	if a.SubmittedAt, err = parseOptTime(submitted); err != nil {
		return nil, err
	}
	if a.ReviewedAt, err = parseOptTime(reviewed); err != nil {
		return nil, err
	}
	if a.RetireRequestedAt, err = parseOptTime(retire); err != nil {
		return nil, err
	}
	a.ApprovedGrade = riskmap.Grade(grade)
	return a, nil
}

// bulkApprovedSQL copies the approved units with an id above the second argument into the
// approved register, approved at the first.
var bulkApprovedSQL = `INSERT INTO approved_units (unit_id, version, code, name, category, region_code, grade,
    risk_value, geom, approved_by, approved_at, inherent_grade` + unitcodec.PublicColumns("") + `)
SELECT id, version, code, name, category, region_code, grade, risk_value, geom, '', ?, inherent_grade` + unitcodec.PublicColumns("") + `
FROM risk_units WHERE id > ? AND status = 'approved'
ON CONFLICT (unit_id) DO NOTHING`

// selectApproved reads what scanApproved decodes, from approved_units.
var selectApproved = `SELECT unit_id, version, code, name, category, region_code, grade, risk_value, geom, approved_by,
    CAST(approved_at AS TEXT)` + unitcodec.PublicColumns("") + ` FROM approved_units`

// scanApproved decodes a row of selectApproved (or of published_units, with an empty
// approver and a NULL approval time); scan is a Row's or Rows' Scan.
func scanApproved(scan func(...any) error) (*riskmap.ApprovedUnit, error) {
	a := &riskmap.ApprovedUnit{}
	var grade string
	var geom []byte
	var at sql.NullString
	if err := scan(unitcodec.ApprovedTargets(a, &grade, &geom, &at)...); err != nil {
		return nil, err
	}
	a.Grade = riskmap.Grade(grade)
	t, err := parseOptTime(at)
	if err != nil {
		return nil, err
	}
	if t != nil {
		a.ApprovedAt = *t
	}
	if a.Geometry, err = decodeStored(geom); err != nil {
		return nil, fmt.Errorf("gpkg: unit %d: geom: %w", a.UnitID, err)
	}
	return a, nil
}

// ApprovedUnits streams the approved register, ordered by unit id, from one read snapshot.
func (s *Store) ApprovedUnits(ctx context.Context) iter.Seq2[*riskmap.ApprovedUnit, error] {
	return s.streamApproved(ctx, "read approved units", selectApproved+" ORDER BY unit_id")
}

// streamApproved streams the rows of a query that scanApproved decodes.
func (s *Store) streamApproved(ctx context.Context, op, query string, args ...any) iter.Seq2[*riskmap.ApprovedUnit, error] {
	return func(yield func(*riskmap.ApprovedUnit, error) bool) {
		rows, err := s.r.QueryContext(ctx, query, args...)
		if err != nil {
			yield(nil, s.dbErr(err, "%s", op))
			return
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanApproved(rows.Scan)
			if err != nil {
				yield(nil, s.dbErr(err, "%s", op))
				return
			}
			if !yield(a, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(nil, s.dbErr(err, "%s", op))
		}
	}
}
