package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

// A unit's open conditions on the GeoPackage: every write that changes them (a hidden
// danger's, SetConditions for the other sources) runs in one write transaction, which
// holds the file's write lock, replaces the conditions of its own source, keeps the
// others, recomputes the dynamics and, when they changed, writes them as a new version of
// the unit (writeDynamics). A new source (issue 17's alarms) gathers its open conditions in
// its own write's transaction and calls writeDynamics the same way.

var _ riskmap.ConditionStore = (*Store)(nil)

// conditionUpdate is what a write changes of a unit's open conditions: those of Source
// become Conds; OpenHazards, when not nil, is the new count of open hidden dangers.
type conditionUpdate struct {
	Source      string
	Conds       []riskmap.Condition
	OpenHazards *int
}

// writeDynamics applies up to unit u (read in tx), recomputes its dynamics with dyn and
// writes them as a new version of the unit when they changed; the approved revision's
// grade and the author record's approved version follow. It returns the unit as stored
// afterwards, or nil when nothing changed (or u is retired).
func (s *Store) writeDynamics(ctx context.Context, tx *sql.Tx, u *riskmap.Unit, dyn riskmap.DynamicsFunc, t time.Time, up conditionUpdate) (*riskmap.Unit, error) {
	if dyn == nil || u.Status == riskmap.StatusRetired {
		return nil, nil
	}
	var (
		inherent, conds sql.NullString
		openN           int
	)
	if err := tx.QueryRowContext(ctx, "SELECT inherent_grade, conditions, open_hazards FROM risk_units WHERE id = ?", u.ID).
		Scan(&inherent, &conds, &openN); err != nil {
		return nil, s.dbErr(err, "read the dynamics of unit %d", u.ID)
	}
	u.InherentGrade = u.Grade
	if inherent.Valid && inherent.String != "" {
		u.InherentGrade = riskmap.Grade(inherent.String)
	}
	stored, err := unitcodec.DecodeConditions(conds.String)
	if err != nil {
		return nil, fmt.Errorf("gpkg: unit %d: conditions: %w", u.ID, err)
	}
	u.Conditions, u.OpenHazards = stored, openN

	var approvedInherent, approvedGrade string
	var approvedVersion int64
	err = tx.QueryRowContext(ctx, "SELECT coalesce(inherent_grade, grade), grade, version FROM approved_units WHERE unit_id = ?", u.ID).
		Scan(&approvedInherent, &approvedGrade, &approvedVersion)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, s.dbErr(err, "read the approved revision of unit %d", u.ID)
	}

	open := riskmap.ReplaceConditions(u.Conditions, up.Source, up.Conds, t)
	openHazards := u.OpenHazards
	if up.OpenHazards != nil {
		openHazards = *up.OpenHazards
	}
	d := dyn(u, riskmap.Grade(approvedInherent), open, openHazards)
	if !riskmap.DynamicsChanged(u, riskmap.Grade(approvedGrade), d) {
		return nil, nil
	}
	if !d.Grade.Valid() {
		return nil, riskmap.Errorf(riskmap.EINVALID, "风险单元 %d 的动态等级 %q 无效", u.ID, d.Grade)
	}
	var condText, review any
	if c := unitcodec.EncodeConditions(d.Conditions); c != "" {
		condText = c
	}
	if d.NextReviewDue != nil {
		review = d.NextReviewDue.Format(dateLayout)
	}
	// SET reads the old row: inherent_grade keeps the grade the unit had before its first
	// raise.
	if _, err := tx.ExecContext(ctx, `UPDATE risk_units SET inherent_grade = coalesce(inherent_grade, grade),
    grade = ?, grade_label = ?, conditions = ?, open_hazards = ?, next_review_due = ?,
    version = version + 1, updated_at = ? WHERE id = ?`,
		string(d.Grade), d.Grade.Label(), condText, d.OpenHazards, review, formatTime(t), u.ID); err != nil {
		return nil, s.dbErr(err, "write the dynamics of unit %d", u.ID)
	}
	newVersion := u.Version + 1
	if approvedGrade != "" && d.ApprovedGrade.Valid() {
		if _, err := tx.ExecContext(ctx, `UPDATE approved_units SET inherent_grade = coalesce(inherent_grade, grade),
    grade = ?, version = CASE WHEN version = ? THEN ? ELSE version END WHERE unit_id = ?`,
			string(d.ApprovedGrade), u.Version, newVersion, u.ID); err != nil {
			return nil, s.dbErr(err, "write the approved grade of unit %d", u.ID)
		}
		if _, err := tx.ExecContext(ctx, contentsTouch, "approved_units"); err != nil {
			return nil, s.dbErr(err, "update gpkg_contents")
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE unit_authors SET approved_version = ? WHERE unit_id = ? AND approved_version = ?",
		newVersion, u.ID, u.Version); err != nil {
		return nil, s.dbErr(err, "update the author record of unit %d", u.ID)
	}
	if _, err := tx.ExecContext(ctx, contentsTouch, "risk_units"); err != nil {
		return nil, s.dbErr(err, "update gpkg_contents")
	}
	out, err := queryUnit(ctx, tx, u.ID)
	if err != nil {
		return nil, s.dbErr(err, "read unit %d", u.ID)
	}
	out.InherentGrade, out.Conditions, out.OpenHazards = u.InherentGrade, d.Conditions, d.OpenHazards
	return out, nil
}

// checkConditionSource refuses a source SetConditions may not write.
func checkConditionSource(source string, conds []riskmap.Condition) error {
	switch source {
	case riskmap.ConditionAlarm, riskmap.ConditionConflict:
	default:
		return fmt.Errorf("gpkg: SetConditions: source %q is not kept by SetConditions", source)
	}
	for _, c := range conds {
		if c.Source != "" && c.Source != source {
			return fmt.Errorf("gpkg: SetConditions: a condition of source %q among those of %q", c.Source, source)
		}
	}
	return nil
}

// SetConditions replaces unit unitID's conditions of source (riskmap.ConditionStore).
func (s *Store) SetConditions(ctx context.Context, unitID int64, source string, conds []riskmap.Condition, dyn riskmap.DynamicsFunc) (*riskmap.Unit, error) {
	if err := checkConditionSource(source, conds); err != nil {
		return nil, err
	}
	var out *riskmap.Unit
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		u, err := queryUnit(ctx, tx, unitID)
		if errors.Is(err, sql.ErrNoRows) {
			return riskmap.UnitNotFound(unitID)
		}
		if err != nil {
			return s.dbErr(err, "read unit %d", unitID)
		}
		out, err = s.writeDynamics(ctx, tx, u, dyn, now(), conditionUpdate{Source: source, Conds: conds})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UnitConditions returns the conditions of source of every unit not retired that has any
// (riskmap.ConditionStore).
func (s *Store) UnitConditions(ctx context.Context, source string) (map[int64][]riskmap.Condition, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, conditions FROM risk_units
    WHERE status <> 'retired' AND conditions IS NOT NULL
      AND EXISTS (SELECT 1 FROM json_each(risk_units.conditions) WHERE json_extract(value, '$.source') = ?)`, source)
	if err != nil {
		return nil, s.dbErr(err, "read unit conditions")
	}
	defer rows.Close()
	out := map[int64][]riskmap.Condition{}
	for rows.Next() {
		var (
			id   int64
			text string
		)
		if err := rows.Scan(&id, &text); err != nil {
			return nil, s.dbErr(err, "read unit conditions")
		}
		cs, err := unitcodec.DecodeConditions(text)
		if err != nil {
			return nil, fmt.Errorf("gpkg: unit %d: conditions: %w", id, err)
		}
		if of := riskmap.ConditionsOf(cs, source); len(of) > 0 {
			out[id] = of
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbErr(err, "read unit conditions")
	}
	return out, nil
}
