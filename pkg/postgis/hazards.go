package postgis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/paulmach/orb"

	"riskmap/pkg/hazards"
	"riskmap/pkg/riskmap"
)

// Hidden dangers (隐患), their history and photos, and the public's reports: hazards.Store
// on PostGIS. A hidden danger's write locks its unit's row (SELECT … FOR UPDATE) before it
// touches the hidden danger, recomputes the unit's dynamics from its open hidden dangers
// and, when they changed, writes them as a new version of the unit announced on Channel as
// every unit write is.

var _ hazards.Store = (*Store)(nil)

// hazardColumns is the column list of every hidden danger read, in scanHazard's order.
const hazardColumns = `id, code, unit_id, unit_code, unit_name, category, region_code, department,
	level, description, location, ST_X(geom), ST_Y(geom), found_at, found_by, source, report_id,
	responsible_unit, responsible_person, measures, deadline, five, supervision, extension,
	status, accepted_by, accepted_at, closed_by, closed_at, version, created_by, created_at, updated_at, alarm_id`

// insertHazardSQL binds the id ($1), the code ($2), the unit ($3), the values of
// hazardValues ($4-$30), created_by ($31), the time ($32) and the alarm ($33).
const insertHazardSQL = `INSERT INTO hazards (id, code, unit_id, unit_code, unit_name, category, region_code,
	department, level, description, location, geom, found_at, found_by, source, report_id,
	responsible_unit, responsible_person, measures, deadline, five, supervision, supervised,
	extension, status, accepted_by, accepted_at, closed_by, closed_at, version, created_by,
	created_at, updated_at, alarm_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, ST_SetSRID(ST_MakePoint($12, $13), 4326), $14, $15, $16, $17,
	$18, $19, $20, $21::date, $22::jsonb, $23::jsonb, $24, $25::jsonb, $26, $27, $28, $29, $30, 1, $31, $32, $32, $33)`

// updateHazardSQL binds the values of hazardValues ($1-$27), the time ($28), the id ($29)
// and the version read ($30).
const updateHazardSQL = `UPDATE hazards SET unit_code = $1, unit_name = $2, category = $3, region_code = $4,
	department = $5, level = $6, description = $7, location = $8, geom = ST_SetSRID(ST_MakePoint($9, $10), 4326),
	found_at = $11, found_by = $12, source = $13, report_id = $14, responsible_unit = $15,
	responsible_person = $16, measures = $17, deadline = $18::date, five = $19::jsonb,
	supervision = $20::jsonb, supervised = $21, extension = $22::jsonb, status = $23,
	accepted_by = $24, accepted_at = $25, closed_by = $26, closed_at = $27,
	version = version + 1, updated_at = $28
WHERE id = $29 AND version = $30`

// jsonArg encodes v (a pointer) as JSON text for a ::jsonb parameter; nil is NULL.
func jsonArg[T any](v *T) (*string, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}

func jsonOf[T any](b []byte) (*T, error) {
	if len(b) == 0 {
		return nil, nil
	}
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, err
	}
	return v, nil
}

func optMicro(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := micro(*t)
	return &v
}

// hazardValues are the values from unit_code to closed_at, in updateHazardSQL's order.
func hazardValues(h *hazards.Hazard) ([]any, error) {
	if err := hazards.CheckHazard(h); err != nil {
		return nil, err
	}
	for _, v := range []float64{h.Point[0], h.Point[1]} {
		if v != v || v > 1e300 || v < -1e300 {
			return nil, riskmap.Errorf(riskmap.EINVALID, "隐患的位置无效：%v", h.Point)
		}
	}
	five, err := jsonArg(h.Five)
	if err != nil {
		return nil, err
	}
	sup, err := jsonArg(h.Supervision)
	if err != nil {
		return nil, err
	}
	ext, err := jsonArg(h.Extension)
	if err != nil {
		return nil, err
	}
	return []any{h.UnitCode, h.UnitName, h.Category, h.RegionCode, h.Department, string(h.Level),
		h.Description, h.Location, h.Point[0], h.Point[1], h.FoundAt, h.FoundBy, string(h.Source), h.ReportID,
		h.ResponsibleUnit, h.ResponsiblePerson, h.Measures, h.Deadline.Format(time.DateOnly), five, sup,
		h.Supervision != nil, ext, string(h.Status), h.AcceptedBy, timestamptz(h.AcceptedAt), h.ClosedBy,
		timestamptz(h.ClosedAt)}, nil
}

// scanHazard decodes a row of hazardColumns.
func scanHazard(row pgx.Row) (*hazards.Hazard, error) {
	var (
		h                     hazards.Hazard
		level, source, status string
		five, sup, ext        []byte
		acceptedAt, closedAt  pgtype.Timestamptz
		deadline              pgtype.Date
	)
	err := row.Scan(&h.ID, &h.Code, &h.UnitID, &h.UnitCode, &h.UnitName, &h.Category, &h.RegionCode,
		&h.Department, &level, &h.Description, &h.Location, &h.Point[0], &h.Point[1], &h.FoundAt, &h.FoundBy,
		&source, &h.ReportID, &h.ResponsibleUnit, &h.ResponsiblePerson, &h.Measures, &deadline, &five, &sup,
		&ext, &status, &h.AcceptedBy, &acceptedAt, &h.ClosedBy, &closedAt, &h.Version, &h.CreatedBy,
		&h.CreatedAt, &h.UpdatedAt, &h.AlarmID)
	if err != nil {
		return nil, err
	}
	h.Level, h.Source, h.Status = hazards.Level(level), hazards.Source(source), hazards.Status(status)
	h.FoundAt, h.CreatedAt, h.UpdatedAt = h.FoundAt.UTC(), h.CreatedAt.UTC(), h.UpdatedAt.UTC()
	if deadline.Valid {
		h.Deadline = hazards.UTCDay(deadline.Time)
	}
	if acceptedAt.Valid {
		t := acceptedAt.Time.UTC()
		h.AcceptedAt = &t
	}
	if closedAt.Valid {
		t := closedAt.Time.UTC()
		h.ClosedAt = &t
	}
	if h.Five, err = jsonOf[hazards.FiveImplementations](five); err != nil {
		return nil, fmt.Errorf("hazard %d: five: %w", h.ID, err)
	}
	if h.Supervision, err = jsonOf[hazards.Supervision](sup); err != nil {
		return nil, fmt.Errorf("hazard %d: supervision: %w", h.ID, err)
	}
	if h.Extension, err = jsonOf[hazards.Extension](ext); err != nil {
		return nil, fmt.Errorf("hazard %d: extension: %w", h.ID, err)
	}
	return &h, nil
}

// lockHazardUnit locks and reads unit h.UnitID in tx for a write of h, which takes the
// unit's code, name, category, region and department (and its place, for a zero point on
// create). A missing unit is ENOTFOUND; so is a retired one on create.
func lockHazardUnit(ctx context.Context, tx pgx.Tx, h *hazards.Hazard, create bool) (*riskmap.Unit, error) {
	u, err := queryUnit(ctx, tx, selectUnit+" WHERE id = $1 FOR UPDATE", h.UnitID)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && create && u.Status == riskmap.StatusRetired) {
		return nil, riskmap.UnitNotFound(h.UnitID)
	}
	if err != nil {
		return nil, dbError("lock unit", err)
	}
	h.UnitCode, h.UnitName, h.Category, h.RegionCode, h.Department = u.Code, u.Name, u.Category, u.RegionCode, u.ResponsibleDepartment
	if create && h.Point == (orb.Point{}) && u.Geometry != nil {
		h.Point = u.Geometry.Bound().Center()
	}
	return u, nil
}

// addEvent appends ev to the history of hidden danger id.
func addEvent(ctx context.Context, tx pgx.Tx, id int64, ev *hazards.Event, t time.Time) error {
	if ev == nil {
		return nil
	}
	if ev.At.IsZero() {
		ev.At = t
	}
	ev.At = micro(ev.At)
	var data *string
	if len(ev.Data) > 0 {
		b, err := json.Marshal(ev.Data)
		if err != nil {
			return riskmap.Errorf(riskmap.EINVALID, "隐患记录的数据无法保存：%v", err)
		}
		s := string(b)
		data = &s
	}
	err := tx.QueryRow(ctx, `INSERT INTO hazard_events (hazard_id, kind, from_status, to_status, by_user, at, note, data)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb) RETURNING id`, id, ev.Kind, string(ev.From), string(ev.To), ev.By, ev.At, ev.Note, data).Scan(&ev.ID)
	if err != nil {
		return dbError("add hazard event", err)
	}
	ev.HazardID = id
	return nil
}

// CreateHazard stores a new hidden danger and recomputes its unit's dynamics.
func (s *Store) CreateHazard(ctx context.Context, h *hazards.Hazard, ev *hazards.Event, dyn riskmap.DynamicsFunc, rec riskmap.AccessRecordFunc) (*riskmap.Unit, error) {
	var out *riskmap.Unit
	old := *h
	err := s.recordedTx(ctx, "create hazard", rec, func(tx pgx.Tx) error {
		var err error
		out, err = s.createHazard(ctx, tx, h, ev, dyn)
		return err
	})
	if err != nil {
		*h = old
		return nil, err
	}
	return out, nil
}

func (s *Store) createHazard(ctx context.Context, tx pgx.Tx, h *hazards.Hazard, ev *hazards.Event, dyn riskmap.DynamicsFunc) (*riskmap.Unit, error) {
	u, err := lockHazardUnit(ctx, tx, h, true)
	if err != nil {
		return nil, err
	}
	t := s.timestamp()
	h.FoundAt, h.Deadline = micro(h.FoundAt), hazards.UTCDay(h.Deadline)
	h.AcceptedAt, h.ClosedAt = optMicro(h.AcceptedAt), optMicro(h.ClosedAt)
	vals, err := hazardValues(h)
	if err != nil {
		return nil, err
	}
	var id int64
	if err := tx.QueryRow(ctx, "SELECT nextval(pg_get_serial_sequence('hazards', 'id'))").Scan(&id); err != nil {
		return nil, dbError("number hazard", err)
	}
	code := hazards.HazardCode(h.FoundAt.Year(), id)
	args := append([]any{id, code, h.UnitID}, vals...)
	if _, err := tx.Exec(ctx, insertHazardSQL, append(args, h.CreatedBy, t, h.AlarmID)...); err != nil {
		if isUniqueViolation(err) && h.AlarmID > 0 && constraintOf(err) == "hazards_alarm_id" {
			return nil, riskmap.Errorf(riskmap.ECONFLICT, "该报警已转为隐患")
		}
		if isUniqueViolation(err) {
			return nil, riskmap.Errorf(riskmap.ECONFLICT, "隐患编号 %s 已被占用", code)
		}
		return nil, dbError("insert hazard", err)
	}
	h.ID, h.Code, h.Version, h.CreatedAt, h.UpdatedAt = id, code, 1, t, t
	if err := addEvent(ctx, tx, id, ev, t); err != nil {
		return nil, err
	}
	return s.hazardDynamics(ctx, tx, u, dyn, t)
}

// UpdateHazard replaces a hidden danger at the version read and recomputes its unit's
// dynamics.
func (s *Store) UpdateHazard(ctx context.Context, h *hazards.Hazard, evs []*hazards.Event, dyn riskmap.DynamicsFunc, rec riskmap.AccessRecordFunc) (*riskmap.Unit, error) {
	var out *riskmap.Unit
	old := *h
	err := s.recordedTx(ctx, "update hazard", rec, func(tx pgx.Tx) error {
		// The unit first, as every hidden danger's write does: no two writes wait for
		// each other the other way round.
		var unitID int64
		err := tx.QueryRow(ctx, "SELECT unit_id FROM hazards WHERE id = $1", h.ID).Scan(&unitID)
		if errors.Is(err, pgx.ErrNoRows) {
			return hazards.HazardNotFound(h.ID)
		}
		if err != nil {
			return dbError("read hazard", err)
		}
		h.UnitID = unitID
		u, err := lockHazardUnit(ctx, tx, h, false)
		if err != nil {
			return err
		}
		h.FoundAt, h.Deadline = micro(h.FoundAt), hazards.UTCDay(h.Deadline)
		h.AcceptedAt, h.ClosedAt = optMicro(h.AcceptedAt), optMicro(h.ClosedAt)
		vals, err := hazardValues(h)
		if err != nil {
			return err
		}
		t := s.timestamp()
		tag, err := tx.Exec(ctx, updateHazardSQL, append(vals, t, h.ID, h.Version)...)
		if err != nil {
			return dbError("update hazard", err)
		}
		if tag.RowsAffected() == 0 {
			var current int64
			if err := tx.QueryRow(ctx, "SELECT version FROM hazards WHERE id = $1", h.ID).Scan(&current); err != nil {
				return dbError("read hazard", err)
			}
			return hazards.StaleHazard(h.ID, h.Version, current)
		}
		h.Version++
		h.UpdatedAt = t
		for _, ev := range evs {
			if err := addEvent(ctx, tx, h.ID, ev, t); err != nil {
				return err
			}
		}
		out, err = s.hazardDynamics(ctx, tx, u, dyn, t)
		return err
	})
	if err != nil {
		*h = old
		return nil, err
	}
	return out, nil
}

// hazardDynamics recomputes the dynamics of unit u (locked by tx) from its open hidden
// dangers, keeping its stored conditions of other sources, and writes them as a new
// version of the unit, announced on Channel, when they changed. It returns the unit as
// stored afterwards, or nil when nothing changed.
func (s *Store) hazardDynamics(ctx context.Context, tx pgx.Tx, u *riskmap.Unit, dyn riskmap.DynamicsFunc, t time.Time) (*riskmap.Unit, error) {
	if dyn == nil || u.Status == riskmap.StatusRetired {
		return nil, nil
	}
	rows, err := tx.Query(ctx, "SELECT code, level, found_at FROM hazards WHERE unit_id = $1 AND status <> 'closed' ORDER BY found_at, id", u.ID)
	if err != nil {
		return nil, dbError("read open hazards", err)
	}
	open, err := collect(rows, func(r pgx.Rows) (riskmap.Condition, error) {
		var code, level string
		var found time.Time
		if err := r.Scan(&code, &level, &found); err != nil {
			return riskmap.Condition{}, err
		}
		return hazards.OpenCondition(code, hazards.Level(level), found), nil
	})
	if err != nil {
		return nil, dbError("read open hazards", err)
	}
	n := len(open)
	return s.writeDynamics(ctx, tx, u, dyn, t, conditionUpdate{Source: riskmap.ConditionHazard, Conds: open, OpenHazards: &n})
}

// GetHazard returns one hidden danger.
func (s *Store) GetHazard(ctx context.Context, id int64) (*hazards.Hazard, error) {
	return readOne("get hazard", hazards.HazardNotFound(id), scanHazard,
		s.pool.QueryRow(ctx, "SELECT "+hazardColumns+" FROM hazards WHERE id = $1", id))
}

// pendingStatuses are the statuses of a hidden danger not yet accepted: those that can be
// overdue or due soon.
const pendingStatuses = "status IN ('registered', 'reported', 'rectifying')"

// hazardToday is the filter's day, or the current one (UTC).
func hazardToday(f hazards.Filter) time.Time {
	if f.Today.IsZero() {
		return hazards.UTCDay(time.Now())
	}
	return hazards.UTCDay(f.Today)
}

// scopeFilter adds User.InScope for a department user on the category and region_code
// columns, as unitFilter does.
func scopeFilter(q *filterQuery, u *riskmap.User) {
	if u == nil || u.Role != riskmap.RoleDepartment {
		return
	}
	prefixes := make([]string, len(u.Regions))
	for i, r := range u.Regions {
		prefixes[i] = escapeLike(r) + "%"
	}
	q.add("category = ANY(" + q.arg(append([]string{}, u.Categories...)) + ") AND region_code LIKE ANY(" + q.arg(prefixes) + "::text[])")
}

// hazardFilter builds the WHERE clause of f, without paging. dueWithin says whether
// DueWithinDays selects.
func hazardFilter(f hazards.Filter, dueWithin bool) (*filterQuery, error) {
	q := &filterQuery{}
	if f.UnitID > 0 {
		q.add("unit_id = " + q.arg(f.UnitID))
	}
	if f.AlarmID > 0 {
		q.add("alarm_id = " + q.arg(f.AlarmID))
	}
	if f.Statuses != nil {
		ss := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			ss[i] = string(st)
		}
		q.add("status = ANY(" + q.arg(ss) + ")")
	}
	if f.Levels != nil {
		ls := make([]string, len(f.Levels))
		for i, l := range f.Levels {
			ls[i] = string(l)
		}
		q.add("level = ANY(" + q.arg(ls) + ")")
	}
	if f.Open {
		q.add("status <> 'closed'")
	}
	day := hazardToday(f)
	if f.Overdue {
		q.add(pendingStatuses + " AND deadline < " + q.arg(day.Format(time.DateOnly)) + "::date")
	}
	if dueWithin && f.DueWithinDays > 0 {
		q.add(pendingStatuses + " AND deadline >= " + q.arg(day.Format(time.DateOnly)) + "::date AND deadline <= " +
			q.arg(day.AddDate(0, 0, f.DueWithinDays).Format(time.DateOnly)) + "::date")
	}
	if f.Supervised {
		q.add("supervised")
	}
	if f.RegionPrefix != "" {
		q.add("region_code LIKE " + q.arg(escapeLike(f.RegionPrefix)+"%") + ` ESCAPE '\'`)
	}
	if f.Departments != nil {
		q.add("department = ANY(" + q.arg(f.Departments) + ")")
	}
	if f.Categories != nil {
		q.add("category = ANY(" + q.arg(f.Categories) + ")")
	}
	if b := f.BBox; b != nil {
		if err := hazards.CheckBBox(*b); err != nil {
			return nil, err
		}
		q.add("geom && ST_MakeEnvelope(" + q.arg(b.Min[0]) + ", " + q.arg(b.Min[1]) + ", " +
			q.arg(b.Max[0]) + ", " + q.arg(b.Max[1]) + ", 4326)")
	}
	if f.Q != "" {
		p := q.arg("%" + escapeLike(f.Q) + "%")
		q.add("(code ILIKE " + p + ` ESCAPE '\' OR unit_code ILIKE ` + p + ` ESCAPE '\' OR unit_name ILIKE ` + p +
			` ESCAPE '\' OR description ILIKE ` + p + ` ESCAPE '\')`)
	}
	scopeFilter(q, f.Scope)
	return q, nil
}

// FindHazards returns the hidden dangers the filter selects, ordered by id, and how many
// match in all.
func (s *Store) FindHazards(ctx context.Context, f hazards.Filter) ([]*hazards.Hazard, int, error) {
	if f.Limit < 0 {
		return nil, 0, riskmap.Errorf(riskmap.EINVALID, "limit 不能为负数")
	}
	q, err := hazardFilter(f, true)
	if err != nil {
		return nil, 0, err
	}
	where, nFilter := q.sql(), len(q.args)
	if f.AfterID > 0 {
		q.add("id > " + q.arg(f.AfterID))
	}
	text := "SELECT " + hazardColumns + " FROM hazards" + q.sql() + " ORDER BY id"
	if f.Limit > 0 {
		text += " LIMIT " + q.arg(int64(f.Limit))
	}
	list, err := queryAll(ctx, s, "find hazards", func(r pgx.Rows) (*hazards.Hazard, error) { return scanHazard(r) }, text, q.args...)
	if err != nil {
		return nil, 0, err
	}
	if f.AfterID <= 0 && (f.Limit <= 0 || len(list) < f.Limit) {
		return list, len(list), nil
	}
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM hazards"+where, q.args[:nFilter]...).Scan(&n); err != nil {
		return nil, 0, dbError("count hazards", err)
	}
	return list, n, nil
}

// countKeys are the group keys of CountHazards, as fixed SQL.
var countKeys = map[string]string{
	hazards.ByCategory:   "category",
	hazards.ByRegion:     "left(region_code, 9)",
	hazards.ByDepartment: "department",
}

// CountHazards counts the hidden dangers the filter selects by group. A filter on what
// hazard_counts keeps (category, region, department, level, status, supervision, scope)
// is answered from it and from the index of the hidden dangers not yet accepted
// (hazards_pending), without reading every hidden danger; any other reads them all.
func (s *Store) CountHazards(ctx context.Context, f hazards.Filter, by string) ([]hazards.Count, error) {
	key, ok := countKeys[by]
	if !ok {
		return nil, riskmap.Errorf(riskmap.EINVALID, "统计分组 %q 无效；应为 category、region 或 department", by)
	}
	q, err := hazardFilter(f, false)
	if err != nil {
		return nil, err
	}
	day := hazardToday(f)
	days := f.DueWithinDays
	if days <= 0 {
		days = 7
	}
	d0 := q.arg(day.Format(time.DateOnly))
	d1 := q.arg(day.AddDate(0, 0, days).Format(time.DateOnly))
	scan := func(r pgx.Rows) (hazards.Count, error) {
		var c hazards.Count
		err := r.Scan(&c.Key, &c.Total, &c.Closed, &c.Accepted, &c.Open, &c.OpenMajor, &c.Overdue, &c.DueSoon, &c.Supervised)
		return c, err
	}
	if f.UnitID > 0 || f.AlarmID > 0 || f.Overdue || f.BBox != nil || f.Q != "" {
		text := `SELECT ` + key + ` AS k, count(*),
	count(*) FILTER (WHERE status = 'closed'),
	count(*) FILTER (WHERE status IN ('accepted', 'closed')),
	count(*) FILTER (WHERE status <> 'closed'),
	count(*) FILTER (WHERE status <> 'closed' AND level = 'major'),
	count(*) FILTER (WHERE ` + pendingStatuses + ` AND deadline < ` + d0 + `::date),
	count(*) FILTER (WHERE ` + pendingStatuses + ` AND deadline >= ` + d0 + `::date AND deadline <= ` + d1 + `::date),
	count(*) FILTER (WHERE supervised AND status <> 'closed')
FROM hazards` + q.sql() + ` GROUP BY k ORDER BY ` + key + ` COLLATE "C"`
		out, err := queryAll(ctx, s, "count hazards", scan, text, q.args...)
		if out == nil && err == nil {
			out = []hazards.Count{}
		}
		return out, err
	}
	// The counts that do not depend on the day, from hazard_counts; overdue and due soon
	// from hazards_pending (deadline up to d1), joined by key.
	where := q.sql()
	pending := q.where[:len(q.where):len(q.where)]
	pending = append(pending, pendingStatuses, "deadline <= "+d1+"::date")
	text := `WITH c AS (SELECT ` + key + ` AS k, sum(n) AS total,
	coalesce(sum(n) FILTER (WHERE status = 'closed'), 0) AS closed,
	coalesce(sum(n) FILTER (WHERE status IN ('accepted', 'closed')), 0) AS accepted,
	coalesce(sum(n) FILTER (WHERE status <> 'closed'), 0) AS open,
	coalesce(sum(n) FILTER (WHERE status <> 'closed' AND level = 'major'), 0) AS open_major,
	coalesce(sum(n) FILTER (WHERE supervised AND status <> 'closed'), 0) AS supervised
FROM hazard_counts` + where + ` GROUP BY k HAVING sum(n) > 0),
p AS (SELECT ` + key + ` AS k, count(*) FILTER (WHERE deadline < ` + d0 + `::date) AS overdue,
	count(*) FILTER (WHERE deadline >= ` + d0 + `::date) AS due_soon
FROM hazards WHERE ` + strings.Join(pending, " AND ") + ` GROUP BY k)
SELECT c.k, c.total, c.closed, c.accepted, c.open, c.open_major, coalesce(p.overdue, 0), coalesce(p.due_soon, 0), c.supervised
FROM c LEFT JOIN p ON p.k = c.k ORDER BY c.k COLLATE "C"`
	out, err := queryAll(ctx, s, "count hazards", scan, text, q.args...)
	if out == nil && err == nil {
		out = []hazards.Count{}
	}
	return out, err
}

// HazardEvents returns a hidden danger's history, oldest first.
func (s *Store) HazardEvents(ctx context.Context, id int64) ([]*hazards.Event, error) {
	out, err := queryAll(ctx, s, "hazard history", func(r pgx.Rows) (*hazards.Event, error) {
		var ev hazards.Event
		var from, to string
		var data []byte
		if err := r.Scan(&ev.ID, &ev.HazardID, &ev.Kind, &from, &to, &ev.By, &ev.At, &ev.Note, &data); err != nil {
			return nil, err
		}
		ev.From, ev.To, ev.At = hazards.Status(from), hazards.Status(to), ev.At.UTC()
		if len(data) > 0 {
			if err := json.Unmarshal(data, &ev.Data); err != nil {
				return nil, fmt.Errorf("hazard event %d: data: %w", ev.ID, err)
			}
		}
		return &ev, nil
	}, `SELECT id, hazard_id, kind, from_status, to_status, by_user, at, note, data
	FROM hazard_events WHERE hazard_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		var exists bool
		if err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM hazards WHERE id = $1)", id).Scan(&exists); err != nil {
			return nil, dbError("read hazard", err)
		}
		if !exists {
			return nil, hazards.HazardNotFound(id)
		}
		out = []*hazards.Event{}
	}
	return out, nil
}

// addPhoto stores p in tx.
func addPhoto(ctx context.Context, tx pgx.Tx, p *hazards.Photo, t time.Time) error {
	if p.ContentType != "image/jpeg" && p.ContentType != "image/png" {
		return riskmap.Errorf(riskmap.EINVALID, "照片只能是 JPEG 或 PNG")
	}
	if p.Owner != "hazard" && p.Owner != "report" {
		return riskmap.Errorf(riskmap.EINVALID, "照片的归属 %q 无效", p.Owner)
	}
	if p.Bytes == nil {
		p.Bytes = []byte{}
	}
	if p.At.IsZero() {
		p.At = t
	}
	p.At = micro(p.At)
	err := tx.QueryRow(ctx, `INSERT INTO photos (owner, owner_id, stage, content_type, width, height, bytes, by_user, at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, p.Owner, p.OwnerID, p.Stage, p.ContentType, p.Width, p.Height, p.Bytes, p.By, p.At).Scan(&p.ID)
	return dbError("add photo", err)
}

// AddPhoto stores a photo and, for a hidden danger, ev in its history.
func (s *Store) AddPhoto(ctx context.Context, p *hazards.Photo, ev *hazards.Event, rec riskmap.AccessRecordFunc) error {
	old := *p
	err := s.recordedTx(ctx, "add photo", rec, func(tx pgx.Tx) error {
		var exists bool
		var err error
		if p.Owner == "hazard" {
			err = tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM hazards WHERE id = $1)", p.OwnerID).Scan(&exists)
		} else {
			err = tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM hazard_reports WHERE id = $1)", p.OwnerID).Scan(&exists)
		}
		if err != nil {
			return dbError("read photo owner", err)
		}
		if !exists {
			if p.Owner == "hazard" {
				return hazards.HazardNotFound(p.OwnerID)
			}
			return hazards.ReportNotFound()
		}
		t := s.timestamp()
		if err := addPhoto(ctx, tx, p, t); err != nil {
			return err
		}
		if p.Owner == "hazard" {
			return addEvent(ctx, tx, p.OwnerID, ev, t)
		}
		return nil
	})
	if err != nil {
		*p = old
	}
	return err
}

// Photos lists the photos of an owner without their bytes, oldest first.
func (s *Store) Photos(ctx context.Context, owner string, ownerID int64) ([]*hazards.Photo, error) {
	out, err := queryAll(ctx, s, "list photos", func(r pgx.Rows) (*hazards.Photo, error) {
		var p hazards.Photo
		if err := r.Scan(&p.ID, &p.Owner, &p.OwnerID, &p.Stage, &p.ContentType, &p.Width, &p.Height, &p.By, &p.At); err != nil {
			return nil, err
		}
		p.At = p.At.UTC()
		return &p, nil
	}, `SELECT id, owner, owner_id, stage, content_type, width, height, by_user, at
	FROM photos WHERE owner = $1 AND owner_id = $2 ORDER BY id`, owner, ownerID)
	if out == nil && err == nil {
		out = []*hazards.Photo{}
	}
	return out, err
}

// GetPhoto returns one photo with its bytes.
func (s *Store) GetPhoto(ctx context.Context, id int64) (*hazards.Photo, error) {
	return readOne("get photo", hazards.PhotoNotFound(id), func(r pgx.Row) (*hazards.Photo, error) {
		var p hazards.Photo
		if err := r.Scan(&p.ID, &p.Owner, &p.OwnerID, &p.Stage, &p.ContentType, &p.Width, &p.Height, &p.Bytes, &p.By, &p.At); err != nil {
			return nil, err
		}
		p.At = p.At.UTC()
		return &p, nil
	}, s.pool.QueryRow(ctx, `SELECT id, owner, owner_id, stage, content_type, width, height, bytes, by_user, at
	FROM photos WHERE id = $1`, id))
}

const reportColumns = `id, tracking_number, lon, lat, category, description, contact, region_code, department,
	client_hash, status, hazard_id, reason, handled_by, handled_at, version, created_at, updated_at`

func scanReport(row pgx.Row) (*hazards.Report, error) {
	var r hazards.Report
	var handled pgtype.Timestamptz
	err := row.Scan(&r.ID, &r.TrackingNumber, &r.Point[0], &r.Point[1], &r.Category, &r.Description, &r.Contact,
		&r.RegionCode, &r.Department, &r.ClientHash, &r.Status, &r.HazardID, &r.Reason, &r.HandledBy,
		&handled, &r.Version, &r.CreatedAt, &r.UpdatedAt)
	if err != nil {
		return nil, err
	}
	if handled.Valid {
		t := handled.Time.UTC()
		r.HandledAt = &t
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return &r, nil
}

func checkReport(r *hazards.Report) error {
	switch r.Status {
	case hazards.ReportReceived, hazards.ReportConverted, hazards.ReportDismissed:
	default:
		return riskmap.Errorf(riskmap.EINVALID, "举报状态 %q 无效", r.Status)
	}
	return nil
}

// CreateReport stores a citizen's report and its photo in one transaction.
func (s *Store) CreateReport(ctx context.Context, r *hazards.Report, photo *hazards.Photo, rec riskmap.AccessRecordFunc) error {
	if r.Status == "" {
		r.Status = hazards.ReportReceived
	}
	if err := checkReport(r); err != nil {
		return err
	}
	old := *r
	var oldPhoto hazards.Photo
	if photo != nil {
		oldPhoto = *photo
	}
	err := s.recordedTx(ctx, "create report", rec, func(tx pgx.Tx) error {
		t := s.timestamp()
		err := tx.QueryRow(ctx, `INSERT INTO hazard_reports (tracking_number, lon, lat, category, description, contact,
		region_code, department, client_hash, status, hazard_id, reason, handled_by, handled_at, version, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15, $15) RETURNING id`,
			r.TrackingNumber, r.Point[0], r.Point[1], r.Category, r.Description, r.Contact, r.RegionCode, r.Department,
			r.ClientHash, r.Status, r.HazardID, r.Reason, r.HandledBy, timestamptz(optMicro(r.HandledAt)), t).Scan(&r.ID)
		if isUniqueViolation(err) {
			return hazards.TrackingTaken()
		}
		if err != nil {
			return dbError("create report", err)
		}
		r.Version, r.CreatedAt, r.UpdatedAt, r.HandledAt = 1, t, t, optMicro(r.HandledAt)
		if photo != nil {
			photo.Owner, photo.OwnerID = "report", r.ID
			if photo.Stage == "" {
				photo.Stage = hazards.PhotoReport
			}
			return addPhoto(ctx, tx, photo, t)
		}
		return nil
	})
	if err != nil {
		*r = old
		if photo != nil {
			*photo = oldPhoto
		}
	}
	return err
}

// GetReport returns one report.
func (s *Store) GetReport(ctx context.Context, id int64) (*hazards.Report, error) {
	return readOne("get report", hazards.ReportNotFound(), scanReport,
		s.pool.QueryRow(ctx, "SELECT "+reportColumns+" FROM hazard_reports WHERE id = $1", id))
}

// ReportByTracking returns the report of a tracking number.
func (s *Store) ReportByTracking(ctx context.Context, tracking string) (*hazards.Report, error) {
	return readOne("get report", hazards.ReportNotFound(), scanReport,
		s.pool.QueryRow(ctx, "SELECT "+reportColumns+" FROM hazard_reports WHERE tracking_number = $1", tracking))
}

// FindReports returns the reports the filter selects, newest first, and the count.
func (s *Store) FindReports(ctx context.Context, f hazards.ReportFilter) ([]*hazards.Report, int, error) {
	if f.Limit < 0 {
		return nil, 0, riskmap.Errorf(riskmap.EINVALID, "limit 不能为负数")
	}
	q := &filterQuery{}
	if f.Statuses != nil {
		q.add("status = ANY(" + q.arg(f.Statuses) + ")")
	}
	if f.RegionPrefix != "" {
		q.add("region_code LIKE " + q.arg(escapeLike(f.RegionPrefix)+"%") + ` ESCAPE '\'`)
	}
	if f.Departments != nil {
		q.add("department = ANY(" + q.arg(f.Departments) + ")")
	}
	scopeFilter(q, f.Scope)
	where, nFilter := q.sql(), len(q.args)
	if f.AfterID > 0 {
		q.add("id < " + q.arg(f.AfterID))
	}
	text := "SELECT " + reportColumns + " FROM hazard_reports" + q.sql() + " ORDER BY id DESC"
	if f.Limit > 0 {
		text += " LIMIT " + q.arg(int64(f.Limit))
	}
	list, err := queryAll(ctx, s, "find reports", func(r pgx.Rows) (*hazards.Report, error) { return scanReport(r) }, text, q.args...)
	if err != nil {
		return nil, 0, err
	}
	if list == nil {
		list = []*hazards.Report{}
	}
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM hazard_reports"+where, q.args[:nFilter]...).Scan(&n); err != nil {
		return nil, 0, dbError("count reports", err)
	}
	return list, n, nil
}

// updateReport replaces report r at its version in tx.
func (s *Store) updateReport(ctx context.Context, tx pgx.Tx, r *hazards.Report) error {
	if err := checkReport(r); err != nil {
		return err
	}
	t := s.timestamp()
	handled := optMicro(r.HandledAt)
	tag, err := tx.Exec(ctx, `UPDATE hazard_reports SET lon = $1, lat = $2, category = $3, description = $4, contact = $5,
		region_code = $6, department = $7, client_hash = $8, status = $9, hazard_id = $10, reason = $11, handled_by = $12,
		handled_at = $13, version = version + 1, updated_at = $14
	WHERE id = $15 AND version = $16`, r.Point[0], r.Point[1], r.Category, r.Description, r.Contact, r.RegionCode, r.Department,
		r.ClientHash, r.Status, r.HazardID, r.Reason, r.HandledBy, timestamptz(handled), t, r.ID, r.Version)
	if err != nil {
		return dbError("update report", err)
	}
	if tag.RowsAffected() == 0 {
		var current int64
		err := tx.QueryRow(ctx, "SELECT version FROM hazard_reports WHERE id = $1", r.ID).Scan(&current)
		if errors.Is(err, pgx.ErrNoRows) {
			return hazards.ReportNotFound()
		}
		if err != nil {
			return dbError("read report", err)
		}
		return hazards.StaleReport(r.ID, r.Version, current)
	}
	r.Version++
	r.UpdatedAt, r.HandledAt = t, handled
	return nil
}

// UpdateReport replaces a report at its version.
func (s *Store) UpdateReport(ctx context.Context, r *hazards.Report, rec riskmap.AccessRecordFunc) error {
	old := *r
	err := s.recordedTx(ctx, "update report", rec, func(tx pgx.Tx) error { return s.updateReport(ctx, tx, r) })
	if err != nil {
		*r = old
	}
	return err
}

// ConvertReport turns a report into a hidden danger in one transaction.
func (s *Store) ConvertReport(ctx context.Context, r *hazards.Report, h *hazards.Hazard, ev *hazards.Event, dyn riskmap.DynamicsFunc, rec riskmap.AccessRecordFunc) (*riskmap.Unit, error) {
	oldR, oldH := *r, *h
	var out *riskmap.Unit
	err := s.recordedTx(ctx, "convert report", rec, func(tx pgx.Tx) error {
		h.ReportID = r.ID
		var err error
		if out, err = s.createHazard(ctx, tx, h, ev, dyn); err != nil {
			return err
		}
		r.HazardID = h.ID
		return s.updateReport(ctx, tx, r)
	})
	if err != nil {
		*r, *h = oldR, oldH
		return nil, err
	}
	return out, nil
}
