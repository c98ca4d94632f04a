package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

// A unit's open conditions on PostGIS: every write that changes them (a hidden danger's,
// SetConditions for the other sources) locks the unit's row, replaces the conditions of its
// own source, keeps the others, recomputes the dynamics and, when they changed, writes them
// as a new version of the unit announced on Channel (writeDynamics). A new source (issue
// 17's alarms) gathers its open conditions in its own write's transaction and calls
// writeDynamics the same way.

var _ riskmap.ConditionStore = (*Store)(nil)

// conditionUpdate is what a write changes of a unit's open conditions: those of Source
// become Conds; OpenHazards, when not nil, is the new count of open hidden dangers.
type conditionUpdate struct {
	Source      string
	Conds       []riskmap.Condition
	OpenHazards *int
}

// writeDynamics applies up to unit u (locked by tx), recomputes its dynamics with dyn and
// writes them as a new version of the unit, announced on Channel, when they changed; the
// approved revision's grade and the author record's approved version follow. It returns
// the unit as stored afterwards, or nil when nothing changed (or u is retired).
func (s *Store) writeDynamics(ctx context.Context, tx pgx.Tx, u *riskmap.Unit, dyn riskmap.DynamicsFunc, t time.Time, up conditionUpdate) (*riskmap.Unit, error) {
	if dyn == nil || u.Status == riskmap.StatusRetired {
		return nil, nil
	}
	var (
		inherent pgtype.Text
		conds    []byte
		openN    int
	)
	if err := tx.QueryRow(ctx, "SELECT inherent_grade, conditions, open_hazards FROM risk_units WHERE id = $1", u.ID).
		Scan(&inherent, &conds, &openN); err != nil {
		return nil, dbError("read unit dynamics", err)
	}
	u.InherentGrade = u.Grade
	if inherent.Valid && inherent.String != "" {
		u.InherentGrade = riskmap.Grade(inherent.String)
	}
	u.Conditions = nil
	if len(conds) > 0 {
		if err := json.Unmarshal(conds, &u.Conditions); err != nil {
			return nil, fmt.Errorf("postgis: unit %d: conditions: %w", u.ID, err)
		}
	}
	u.OpenHazards = openN

	var approvedInherent, approvedGrade string
	err := tx.QueryRow(ctx, "SELECT coalesce(inherent_grade, grade), grade FROM approved_units WHERE unit_id = $1", u.ID).
		Scan(&approvedInherent, &approvedGrade)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, dbError("read approved unit", err)
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
	var condText *string
	if c := unitcodec.EncodeConditions(d.Conditions); c != "" {
		condText = &c
	}
	var review *string
	if d.NextReviewDue != nil {
		r := d.NextReviewDue.Format(time.DateOnly)
		review = &r
	}
	// SET reads the old row: inherent_grade keeps the grade the unit had before its first
	// raise. The write is announced as every unit write is (notifyWritten).
	var newVersion int64
	err = tx.QueryRow(ctx, `WITH w AS (UPDATE risk_units SET inherent_grade = coalesce(inherent_grade, grade),
		grade = $2, grade_label = $3, conditions = $4::jsonb, open_hazards = $5, next_review_due = $6::date,
		version = version + 1, updated_at = $7
	WHERE id = $1 RETURNING id, version) SELECT w.version FROM w`+notifyWritten,
		u.ID, string(d.Grade), d.Grade.Label(), condText, d.OpenHazards, review, t).Scan(&newVersion)
	if err != nil {
		return nil, dbError("write unit dynamics", err)
	}
	if approvedGrade != "" && d.ApprovedGrade.Valid() {
		if _, err := tx.Exec(ctx, `UPDATE approved_units SET inherent_grade = coalesce(inherent_grade, grade),
			grade = $2, version = CASE WHEN version = $3 THEN $4 ELSE version END WHERE unit_id = $1`,
			u.ID, string(d.ApprovedGrade), u.Version, newVersion); err != nil {
			return nil, dbError("write approved grade", err)
		}
	}
	if _, err := tx.Exec(ctx, "UPDATE unit_authors SET approved_version = $2 WHERE unit_id = $1 AND approved_version = $3",
		u.ID, newVersion, u.Version); err != nil {
		return nil, dbError("update unit author", err)
	}
	stored, err := queryUnit(ctx, tx, selectUnit+" WHERE id = $1", u.ID)
	if err != nil {
		return nil, dbError("read unit", err)
	}
	stored.InherentGrade, stored.Conditions, stored.OpenHazards = u.InherentGrade, d.Conditions, d.OpenHazards
	return stored, nil
}

// checkConditionSource refuses a source SetConditions may not write.
func checkConditionSource(source string, conds []riskmap.Condition) error {
	switch source {
	case riskmap.ConditionAlarm, riskmap.ConditionConflict:
	default:
		return fmt.Errorf("postgis: SetConditions: source %q is not kept by SetConditions", source)
	}
	for _, c := range conds {
		if c.Source != "" && c.Source != source {
			return fmt.Errorf("postgis: SetConditions: a condition of source %q among those of %q", c.Source, source)
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
	err := s.inTx(ctx, "set conditions", func(tx pgx.Tx) error {
		u, err := queryUnit(ctx, tx, selectUnit+" WHERE id = $1 FOR UPDATE", unitID)
		if errors.Is(err, pgx.ErrNoRows) {
			return riskmap.UnitNotFound(unitID)
		}
		if err != nil {
			return dbError("lock unit", err)
		}
		out, err = s.writeDynamics(ctx, tx, u, dyn, s.timestamp(), conditionUpdate{Source: source, Conds: conds})
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
	rows, err := s.pool.Query(ctx, `SELECT id, conditions::text FROM risk_units
	WHERE status <> 'retired' AND conditions IS NOT NULL AND conditions @> jsonb_build_array(jsonb_build_object('source', $1::text))`, source)
	if err != nil {
		return nil, dbError("read unit conditions", err)
	}
	defer rows.Close()
	out := map[int64][]riskmap.Condition{}
	for rows.Next() {
		var (
			id   int64
			text string
		)
		if err := rows.Scan(&id, &text); err != nil {
			return nil, dbError("read unit conditions", err)
		}
		cs, err := unitcodec.DecodeConditions(text)
		if err != nil {
			return nil, fmt.Errorf("postgis: unit %d: conditions: %w", id, err)
		}
		if of := riskmap.ConditionsOf(cs, source); len(of) > 0 {
			out[id] = of
		}
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("read unit conditions", err)
	}
	return out, nil
}
