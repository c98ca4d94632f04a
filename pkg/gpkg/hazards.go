package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/hazards"
	"riskmap/pkg/riskmap"
)

// Hidden dangers (隐患), their history and photos, and the public's reports: hazards.Store
// on the GeoPackage. Every write runs in one write transaction, which holds the file's
// write lock: that is the lock on the unit whose dynamics a hidden danger's write
// recomputes (hazardDynamics).

var _ hazards.Store = (*Store)(nil)

// hazardColumns is the column list of every hidden danger read, in scanHazard's order.
const hazardColumns = `id, code, unit_id, unit_code, unit_name, category, region_code, department,
    level, description, location, geom, CAST(found_at AS TEXT), found_by, source, report_id,
    responsible_unit, responsible_person, measures, CAST(deadline AS TEXT), five, supervision,
    extension, status, accepted_by, CAST(accepted_at AS TEXT), closed_by, CAST(closed_at AS TEXT),
    version, created_by, CAST(created_at AS TEXT), CAST(updated_at AS TEXT), alarm_id`

const insertHazard = `INSERT INTO hazards (code, unit_id, unit_code, unit_name, category, region_code,
    department, level, description, location, geom, found_at, found_by, source, report_id,
    responsible_unit, responsible_person, measures, deadline, five, supervision, supervised,
    extension, status, accepted_by, accepted_at, closed_by, closed_at, version, created_by,
    created_at, updated_at, alarm_id)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)
RETURNING id`

// updateHazard replaces every field but id, code, unit_id, created_by and created_at; it
// matches only the version the caller read.
const updateHazard = `UPDATE hazards SET unit_code = ?, unit_name = ?, category = ?, region_code = ?,
    department = ?, level = ?, description = ?, location = ?, geom = ?, found_at = ?, found_by = ?,
    source = ?, report_id = ?, responsible_unit = ?, responsible_person = ?, measures = ?,
    deadline = ?, five = ?, supervision = ?, supervised = ?, extension = ?, status = ?,
    accepted_by = ?, accepted_at = ?, closed_by = ?, closed_at = ?, version = version + 1,
    updated_at = ?
WHERE id = ? AND version = ?`

// jsonText encodes v (a pointer) as JSON text, or NULL when it is nil.
func jsonText[T any](v *T) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// jsonValue decodes JSON text into a new T; NULL is nil.
func jsonValue[T any](s sql.NullString) (*T, error) {
	if !s.Valid || s.String == "" {
		return nil, nil
	}
	v := new(T)
	if err := json.Unmarshal([]byte(s.String), v); err != nil {
		return nil, err
	}
	return v, nil
}

func optTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return formatTime(*t)
}

func optParse(s sql.NullString) (*time.Time, error) {
	if !s.Valid || s.String == "" {
		return nil, nil
	}
	t, err := parseTime(s.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func dateText(t time.Time) string { return hazards.UTCDay(t).Format(dateLayout) }

// hazardValues are the values of updateHazard from unit_code to extension... closed_at
// (the columns both writes bind in the same order), with the geometry encoded.
func hazardValues(h *hazards.Hazard) ([]any, error) {
	if err := hazards.CheckHazard(h); err != nil {
		return nil, err
	}
	geom, err := EncodeGeometry(h.Point, SRSID)
	if err != nil {
		return nil, riskmap.Errorf(riskmap.EINVALID, "隐患的位置无效：%v", err)
	}
	five, err := jsonText(h.Five)
	if err != nil {
		return nil, err
	}
	sup, err := jsonText(h.Supervision)
	if err != nil {
		return nil, err
	}
	ext, err := jsonText(h.Extension)
	if err != nil {
		return nil, err
	}
	return []any{h.UnitCode, h.UnitName, h.Category, h.RegionCode, h.Department, string(h.Level),
		h.Description, h.Location, geom, formatTime(h.FoundAt), h.FoundBy, string(h.Source), h.ReportID,
		h.ResponsibleUnit, h.ResponsiblePerson, h.Measures, dateText(h.Deadline), five, sup,
		h.Supervision != nil, ext, string(h.Status), h.AcceptedBy, optTime(h.AcceptedAt), h.ClosedBy,
		optTime(h.ClosedAt)}, nil
}

// hazardRow is a row of hazardColumns as SQLite hands it over, before decoding: what a
// desktop GIS user may have written into the file.
type hazardRow struct {
	h                                    hazards.Hazard
	geom                                 []byte
	found, deadline, created, updated    string
	level, source, status                string
	five, sup, ext, acceptedAt, closedAt sql.NullString
}

// scanHazard decodes a row of hazardColumns.
func scanHazard(scan func(...any) error) (*hazards.Hazard, error) {
	var r hazardRow
	h := &r.h
	err := scan(&h.ID, &h.Code, &h.UnitID, &h.UnitCode, &h.UnitName, &h.Category, &h.RegionCode,
		&h.Department, &r.level, &h.Description, &h.Location, &r.geom, &r.found, &h.FoundBy, &r.source,
		&h.ReportID, &h.ResponsibleUnit, &h.ResponsiblePerson, &h.Measures, &r.deadline, &r.five, &r.sup,
		&r.ext, &r.status, &h.AcceptedBy, &r.acceptedAt, &h.ClosedBy, &r.closedAt, &h.Version, &h.CreatedBy,
		&r.created, &r.updated, &h.AlarmID)
	if err != nil {
		return nil, err
	}
	return r.decode()
}

// decode turns the row into a hidden danger, or an error naming what it cannot read.
func (r *hazardRow) decode() (*hazards.Hazard, error) {
	h := r.h
	var err error
	h.Level, h.Source, h.Status = hazards.Level(r.level), hazards.Source(r.source), hazards.Status(r.status)
	g, _, err := DecodeGeometry(r.geom)
	if err != nil {
		return nil, fmt.Errorf("hazard %d: geometry: %w", h.ID, err)
	}
	if p, ok := g.(orb.Point); ok {
		h.Point = p
	}
	if err := parseTimes([]string{r.found, r.created, r.updated}, &h.FoundAt, &h.CreatedAt, &h.UpdatedAt); err != nil {
		return nil, err
	}
	if h.Deadline, err = time.Parse(dateLayout, r.deadline); err != nil {
		return nil, fmt.Errorf("hazard %d: deadline %q", h.ID, r.deadline)
	}
	if h.AcceptedAt, err = optParse(r.acceptedAt); err != nil {
		return nil, err
	}
	if h.ClosedAt, err = optParse(r.closedAt); err != nil {
		return nil, err
	}
	if h.Five, err = jsonValue[hazards.FiveImplementations](r.five); err != nil {
		return nil, fmt.Errorf("hazard %d: five: %w", h.ID, err)
	}
	if h.Supervision, err = jsonValue[hazards.Supervision](r.sup); err != nil {
		return nil, fmt.Errorf("hazard %d: supervision: %w", h.ID, err)
	}
	if h.Extension, err = jsonValue[hazards.Extension](r.ext); err != nil {
		return nil, fmt.Errorf("hazard %d: extension: %w", h.ID, err)
	}
	return &h, nil
}

// hazardUnit reads unit id in the write transaction tx for a write of h, which takes the
// unit's code, name, category, region and department (and its place, for a zero point).
// A missing unit is ENOTFOUND; so is a retired one when create.
func (s *Store) hazardUnit(ctx context.Context, tx *sql.Tx, h *hazards.Hazard, create bool) (*riskmap.Unit, error) {
	u, err := queryUnit(ctx, tx, h.UnitID)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && create && u.Status == riskmap.StatusRetired) {
		return nil, riskmap.UnitNotFound(h.UnitID)
	}
	if err != nil {
		return nil, s.dbErr(err, "read unit %d", h.UnitID)
	}
	h.UnitCode, h.UnitName, h.Category, h.RegionCode, h.Department = u.Code, u.Name, u.Category, u.RegionCode, u.ResponsibleDepartment
	if create && h.Point == (orb.Point{}) && u.Geometry != nil {
		h.Point = u.Geometry.Bound().Center()
	}
	return u, nil
}

// addEvent appends ev to the history of hidden danger id.
func (s *Store) addEvent(ctx context.Context, tx *sql.Tx, id int64, ev *hazards.Event, t time.Time) error {
	if ev == nil {
		return nil
	}
	if ev.At.IsZero() {
		ev.At = t
	}
	ev.At = ev.At.UTC().Truncate(time.Millisecond)
	var data any
	if len(ev.Data) > 0 {
		b, err := json.Marshal(ev.Data)
		if err != nil {
			return riskmap.Errorf(riskmap.EINVALID, "隐患记录的数据无法保存：%v", err)
		}
		data = string(b)
	}
	err := tx.QueryRowContext(ctx, `INSERT INTO hazard_events (hazard_id, kind, from_status, to_status, by_user, at, note, data)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, ev.Kind, string(ev.From), string(ev.To), ev.By, formatTime(ev.At), ev.Note, data).Scan(&ev.ID)
	if err != nil {
		return s.dbErr(err, "add an event to hazard %d", id)
	}
	ev.HazardID = id
	return nil
}

// CreateHazard stores a new hidden danger and recomputes its unit's dynamics.
func (s *Store) CreateHazard(ctx context.Context, h *hazards.Hazard, ev *hazards.Event, dyn riskmap.DynamicsFunc, rec riskmap.AccessRecordFunc) (*riskmap.Unit, error) {
	var out *riskmap.Unit
	old := *h
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = s.createHazard(ctx, tx, h, ev, dyn)
		if err != nil {
			return err
		}
		return rec.Keep(func(r *riskmap.WriteRecords) error { return s.keepRecords(ctx, tx, r) })
	})
	if err != nil {
		*h = old
		return nil, err
	}
	return out, nil
}

func (s *Store) createHazard(ctx context.Context, tx *sql.Tx, h *hazards.Hazard, ev *hazards.Event, dyn riskmap.DynamicsFunc) (*riskmap.Unit, error) {
	u, err := s.hazardUnit(ctx, tx, h, true)
	if err != nil {
		return nil, err
	}
	t := now()
	h.FoundAt = h.FoundAt.UTC().Truncate(time.Millisecond)
	h.Deadline = hazards.UTCDay(h.Deadline)
	vals, err := hazardValues(h)
	if err != nil {
		return nil, err
	}
	// The code needs the id: a placeholder no committed row can hold, replaced at once.
	args := append([]any{"", h.UnitID}, vals...)
	args = append(args, h.CreatedBy, formatTime(t), formatTime(t), h.AlarmID)
	var id int64
	if err := tx.QueryRowContext(ctx, insertHazard, args...).Scan(&id); err != nil {
		if isUnique(err) && h.AlarmID > 0 {
			return nil, riskmap.Errorf(riskmap.ECONFLICT, "该报警已转为隐患")
		}
		return nil, s.dbErr(err, "insert hazard")
	}
	code := hazards.HazardCode(h.FoundAt.Year(), id)
	if _, err := tx.ExecContext(ctx, "UPDATE hazards SET code = ? WHERE id = ?", code, id); err != nil {
		if isUnique(err) {
			return nil, riskmap.Errorf(riskmap.ECONFLICT, "隐患编号 %s 已被占用", code)
		}
		return nil, s.dbErr(err, "number hazard %d", id)
	}
	var ext extent
	ext.add(h.Point)
	if err := ext.write(ctx, tx, "hazards"); err != nil {
		return nil, s.dbErr(err, "update gpkg_contents")
	}
	h.ID, h.Code, h.Version, h.CreatedAt, h.UpdatedAt = id, code, 1, t, t
	if err := s.addEvent(ctx, tx, id, ev, t); err != nil {
		return nil, err
	}
	return s.hazardDynamics(ctx, tx, u, dyn, t)
}

// UpdateHazard replaces a hidden danger at the version read and recomputes its unit's
// dynamics.
func (s *Store) UpdateHazard(ctx context.Context, h *hazards.Hazard, evs []*hazards.Event, dyn riskmap.DynamicsFunc, rec riskmap.AccessRecordFunc) (*riskmap.Unit, error) {
	var out *riskmap.Unit
	old := *h
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var unitID int64
		err := tx.QueryRowContext(ctx, "SELECT unit_id FROM hazards WHERE id = ?", h.ID).Scan(&unitID)
		if errors.Is(err, sql.ErrNoRows) {
			return hazards.HazardNotFound(h.ID)
		}
		if err != nil {
			return s.dbErr(err, "read hazard %d", h.ID)
		}
		h.UnitID = unitID
		u, err := s.hazardUnit(ctx, tx, h, false)
		if err != nil {
			return err
		}
		h.FoundAt = h.FoundAt.UTC().Truncate(time.Millisecond)
		h.Deadline = hazards.UTCDay(h.Deadline)
		vals, err := hazardValues(h)
		if err != nil {
			return err
		}
		t := now()
		res, err := tx.ExecContext(ctx, updateHazard, append(vals, formatTime(t), h.ID, h.Version)...)
		if err != nil {
			return s.dbErr(err, "update hazard %d", h.ID)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return s.dbErr(err, "update hazard %d", h.ID)
			}
			var current int64
			if err := tx.QueryRowContext(ctx, "SELECT version FROM hazards WHERE id = ?", h.ID).Scan(&current); err != nil {
				return s.dbErr(err, "read hazard %d", h.ID)
			}
			return hazards.StaleHazard(h.ID, h.Version, current)
		}
		var ext extent
		ext.add(h.Point)
		if err := ext.write(ctx, tx, "hazards"); err != nil {
			return s.dbErr(err, "update gpkg_contents")
		}
		h.Version++
		h.UpdatedAt = t
		for _, ev := range evs {
			if err := s.addEvent(ctx, tx, h.ID, ev, t); err != nil {
				return err
			}
		}
		if out, err = s.hazardDynamics(ctx, tx, u, dyn, t); err != nil {
			return err
		}
		return rec.Keep(func(r *riskmap.WriteRecords) error { return s.keepRecords(ctx, tx, r) })
	})
	if err != nil {
		*h = old
		return nil, err
	}
	return out, nil
}

// hazardDynamics recomputes the dynamics of unit u (read in tx, which holds the write
// lock) from its open hidden dangers, keeping its stored conditions of other sources, and
// writes them as a new version of the unit when they changed (writeDynamics). It returns
// the unit as stored afterwards, or nil when nothing changed.
func (s *Store) hazardDynamics(ctx context.Context, tx *sql.Tx, u *riskmap.Unit, dyn riskmap.DynamicsFunc, t time.Time) (*riskmap.Unit, error) {
	if dyn == nil || u.Status == riskmap.StatusRetired {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, "SELECT code, level, CAST(found_at AS TEXT) FROM hazards WHERE unit_id = ? AND status <> 'closed' ORDER BY found_at, id", u.ID)
	if err != nil {
		return nil, s.dbErr(err, "read the open hazards of unit %d", u.ID)
	}
	var open []riskmap.Condition
	for rows.Next() {
		var code, level, found string
		if err := rows.Scan(&code, &level, &found); err != nil {
			rows.Close()
			return nil, s.dbErr(err, "read the open hazards of unit %d", u.ID)
		}
		ft, err := parseTime(found)
		if err != nil {
			rows.Close()
			return nil, err
		}
		open = append(open, hazards.OpenCondition(code, hazards.Level(level), ft))
	}
	if err := rows.Close(); err != nil {
		return nil, s.dbErr(err, "read the open hazards of unit %d", u.ID)
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbErr(err, "read the open hazards of unit %d", u.ID)
	}
	n := len(open)
	return s.writeDynamics(ctx, tx, u, dyn, t, conditionUpdate{Source: riskmap.ConditionHazard, Conds: open, OpenHazards: &n})
}

// GetHazard returns one hidden danger.
func (s *Store) GetHazard(ctx context.Context, id int64) (*hazards.Hazard, error) {
	h, err := scanHazard(s.r.QueryRowContext(ctx, "SELECT "+hazardColumns+" FROM hazards WHERE id = ?", id).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hazards.HazardNotFound(id)
	}
	if err != nil {
		return nil, s.dbErr(err, "get hazard %d", id)
	}
	return h, nil
}

// pendingStatuses are the statuses of a hidden danger not yet accepted: those that can be
// overdue or due soon.
const pendingStatuses = "status IN ('registered', 'reported', 'rectifying')"

// today is the filter's day, or the current one (UTC).
func hazardToday(f hazards.Filter) time.Time {
	if f.Today.IsZero() {
		return hazards.UTCDay(time.Now())
	}
	return hazards.UTCDay(f.Today)
}

// hazardFilter turns a filter into a WHERE clause of fixed fragments and its arguments,
// without paging. dueWithin says whether DueWithinDays selects.
func hazardFilter(f hazards.Filter, dueWithin bool) (string, []any, error) {
	var conds []string
	var args []any
	in := func(column string, list []string) {
		if list == nil {
			return
		}
		conds = append(conds, column+" IN ("+placeholders(len(list))+")")
		for _, v := range list {
			args = append(args, v)
		}
	}
	prefix := func(p string) string {
		if hi, ok := prefixEnd(p); ok {
			args = append(args, p, hi)
			return "region_code >= ? AND region_code < ?"
		}
		args = append(args, p)
		return "region_code >= ?"
	}
	if f.UnitID > 0 {
		conds = append(conds, "unit_id = ?")
		args = append(args, f.UnitID)
	}
	if f.AlarmID > 0 {
		conds = append(conds, "alarm_id = ?")
		args = append(args, f.AlarmID)
	}
	if f.Statuses != nil {
		ss := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			ss[i] = string(st)
		}
		in("status", ss)
	}
	if f.Levels != nil {
		ls := make([]string, len(f.Levels))
		for i, l := range f.Levels {
			ls[i] = string(l)
		}
		in("level", ls)
	}
	if f.Open {
		conds = append(conds, "status <> 'closed'")
	}
	day := hazardToday(f)
	if f.Overdue {
		conds = append(conds, pendingStatuses, "deadline < ?")
		args = append(args, day.Format(dateLayout))
	}
	if dueWithin && f.DueWithinDays > 0 {
		conds = append(conds, pendingStatuses, "deadline >= ?", "deadline <= ?")
		args = append(args, day.Format(dateLayout), day.AddDate(0, 0, f.DueWithinDays).Format(dateLayout))
	}
	if f.Supervised {
		conds = append(conds, "supervised")
	}
	if f.RegionPrefix != "" {
		conds = append(conds, prefix(f.RegionPrefix))
	}
	in("department", f.Departments)
	in("category", f.Categories)
	if b := f.BBox; b != nil {
		if err := hazards.CheckBBox(*b); err != nil {
			return "", nil, err
		}
		conds = append(conds, "id IN (SELECT id FROM rtree_hazards_geom WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?)")
		args = append(args, b.Max[0], b.Min[0], b.Max[1], b.Min[1])
	}
	if f.Q != "" {
		conds = append(conds, "(instr(lower(code), lower(?)) > 0 OR instr(lower(unit_code), lower(?)) > 0 OR instr(lower(unit_name), lower(?)) > 0 OR instr(lower(description), lower(?)) > 0)")
		args = append(args, f.Q, f.Q, f.Q, f.Q)
	}
	if u := f.Scope; u != nil && u.Role == riskmap.RoleDepartment {
		in("category", append([]string{}, u.Categories...))
		regions := []string{}
		for _, r := range u.Regions {
			regions = append(regions, "("+prefix(r)+")")
		}
		if len(regions) == 0 {
			regions = append(regions, "0")
		}
		conds = append(conds, "("+strings.Join(regions, " OR ")+")")
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

// FindHazards returns the hidden dangers the filter selects, ordered by id, and how many
// match in all, from one read transaction.
func (s *Store) FindHazards(ctx context.Context, f hazards.Filter) ([]*hazards.Hazard, int, error) {
	where, args, err := hazardFilter(f, true)
	if err != nil {
		return nil, 0, err
	}
	if f.Limit < 0 {
		return nil, 0, riskmap.Errorf(riskmap.EINVALID, "limit 不能为负数")
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, s.dbErr(err, "begin")
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM hazards"+where, args...).Scan(&total); err != nil {
		return nil, 0, s.dbErr(err, "count hazards")
	}
	q := "SELECT " + hazardColumns + " FROM hazards" + where
	pageArgs := args[:len(args):len(args)]
	if f.AfterID > 0 {
		if where == "" {
			q += " WHERE id > ?"
		} else {
			q += " AND id > ?"
		}
		pageArgs = append(pageArgs, f.AfterID)
	}
	limit := int64(-1)
	if f.Limit > 0 {
		limit = int64(f.Limit)
	}
	rows, err := tx.QueryContext(ctx, q+" ORDER BY id LIMIT ?", append(pageArgs, limit)...)
	if err != nil {
		return nil, 0, s.dbErr(err, "find hazards")
	}
	defer rows.Close()
	var out []*hazards.Hazard
	for rows.Next() {
		h, err := scanHazard(rows.Scan)
		if err != nil {
			return nil, 0, s.dbErr(err, "find hazards")
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, s.dbErr(err, "find hazards")
	}
	return out, total, nil
}

// countKeys are the group keys of CountHazards, as fixed SQL. The unary + keeps SQLite
// from grouping by walking an index of the key (hazards_category, hazards_department),
// which would visit every hidden danger, rather than reading the few the filter selects
// from hazards_pending.
var countKeys = map[string]string{
	hazards.ByCategory:   "+category",
	hazards.ByRegion:     "substr(region_code, 1, 9)",
	hazards.ByDepartment: "+department",
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
	where, args, err := hazardFilter(f, false)
	if err != nil {
		return nil, err
	}
	day := hazardToday(f)
	days := f.DueWithinDays
	if days <= 0 {
		days = 7
	}
	d0, d1 := day.Format(dateLayout), day.AddDate(0, 0, days).Format(dateLayout)
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.dbErr(err, "begin")
	}
	defer tx.Rollback()
	out := []hazards.Count{}
	read := func(q string, args []any, scan func(*sql.Rows) error) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return s.dbErr(err, "count hazards")
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return s.dbErr(err, "count hazards")
			}
		}
		return s.dbErr(rows.Err(), "count hazards")
	}
	if f.UnitID > 0 || f.AlarmID > 0 || f.Overdue || f.BBox != nil || f.Q != "" {
		q := `SELECT ` + key + ` AS k, count(*),
    coalesce(sum(status = 'closed'), 0),
    coalesce(sum(status IN ('accepted', 'closed')), 0),
    coalesce(sum(status <> 'closed'), 0),
    coalesce(sum(status <> 'closed' AND level = 'major'), 0),
    coalesce(sum(` + pendingStatuses + ` AND deadline < ?), 0),
    coalesce(sum(` + pendingStatuses + ` AND deadline >= ? AND deadline <= ?), 0),
    coalesce(sum(supervised AND status <> 'closed'), 0)
FROM hazards` + where + ` GROUP BY k ORDER BY k`
		err := read(q, append([]any{d0, d0, d1}, args...), func(rows *sql.Rows) error {
			var c hazards.Count
			err := rows.Scan(&c.Key, &c.Total, &c.Closed, &c.Accepted, &c.Open, &c.OpenMajor, &c.Overdue, &c.DueSoon, &c.Supervised)
			out = append(out, c)
			return err
		})
		return out, err
	}
	// The counts that do not depend on the day from hazard_counts, then overdue and due
	// soon from hazards_pending, in one read transaction.
	q := `SELECT ` + key + ` AS k, sum(n),
    coalesce(sum(CASE WHEN status = 'closed' THEN n END), 0),
    coalesce(sum(CASE WHEN status IN ('accepted', 'closed') THEN n END), 0),
    coalesce(sum(CASE WHEN status <> 'closed' THEN n END), 0),
    coalesce(sum(CASE WHEN status <> 'closed' AND level = 'major' THEN n END), 0),
    coalesce(sum(CASE WHEN supervised AND status <> 'closed' THEN n END), 0)
FROM hazard_counts` + where + ` GROUP BY k HAVING sum(n) > 0 ORDER BY k`
	index := map[string]int{}
	err = read(q, args, func(rows *sql.Rows) error {
		var c hazards.Count
		err := rows.Scan(&c.Key, &c.Total, &c.Closed, &c.Accepted, &c.Open, &c.OpenMajor, &c.Supervised)
		index[c.Key] = len(out)
		out = append(out, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	pending := " WHERE " + pendingStatuses + " AND deadline <= ?"
	if where != "" {
		pending += " AND " + strings.TrimPrefix(where, " WHERE ")
	}
	q = `SELECT ` + key + ` AS k, coalesce(sum(deadline < ?), 0), coalesce(sum(deadline >= ?), 0)
FROM hazards` + pending + ` GROUP BY k`
	err = read(q, append([]any{d0, d0, d1}, args...), func(rows *sql.Rows) error {
		var k string
		var overdue, soon int
		if err := rows.Scan(&k, &overdue, &soon); err != nil {
			return err
		}
		if i, ok := index[k]; ok {
			out[i].Overdue, out[i].DueSoon = overdue, soon
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// HazardEvents returns a hidden danger's history, oldest first.
func (s *Store) HazardEvents(ctx context.Context, id int64) ([]*hazards.Event, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, hazard_id, kind, from_status, to_status, by_user, CAST(at AS TEXT), note, data
FROM hazard_events WHERE hazard_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, s.dbErr(err, "hazard %d history", id)
	}
	defer rows.Close()
	out := []*hazards.Event{}
	for rows.Next() {
		var (
			ev       hazards.Event
			from, to string
			at       string
			data     sql.NullString
		)
		if err := rows.Scan(&ev.ID, &ev.HazardID, &ev.Kind, &from, &to, &ev.By, &at, &ev.Note, &data); err != nil {
			return nil, s.dbErr(err, "hazard %d history", id)
		}
		ev.From, ev.To = hazards.Status(from), hazards.Status(to)
		if ev.At, err = parseTime(at); err != nil {
			return nil, err
		}
		if data.Valid && data.String != "" {
			if err := json.Unmarshal([]byte(data.String), &ev.Data); err != nil {
				return nil, fmt.Errorf("gpkg: hazard event %d: data: %w", ev.ID, err)
			}
		}
		out = append(out, &ev)
	}
	if err := rows.Err(); err != nil {
		return nil, s.dbErr(err, "hazard %d history", id)
	}
	if len(out) == 0 {
		var n int
		if err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM hazards WHERE id = ?", id).Scan(&n); err != nil {
			return nil, s.dbErr(err, "read hazard %d", id)
		}
		if n == 0 {
			return nil, hazards.HazardNotFound(id)
		}
	}
	return out, nil
}

// addPhoto stores p in tx.
func (s *Store) addPhoto(ctx context.Context, tx *sql.Tx, p *hazards.Photo, t time.Time) error {
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
	p.At = p.At.UTC().Truncate(time.Millisecond)
	err := tx.QueryRowContext(ctx, `INSERT INTO photos (owner, owner_id, stage, content_type, width, height, bytes, by_user, at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, p.Owner, p.OwnerID, p.Stage, p.ContentType, p.Width, p.Height, p.Bytes, p.By, formatTime(p.At)).Scan(&p.ID)
	return s.dbErr(err, "add photo")
}

// AddPhoto stores a photo and, for a hidden danger, ev in its history.
func (s *Store) AddPhoto(ctx context.Context, p *hazards.Photo, ev *hazards.Event, rec riskmap.AccessRecordFunc) error {
	old := *p
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		table := "hazard_reports"
		if p.Owner == "hazard" {
			table = "hazards"
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM "+table+" WHERE id = ?", p.OwnerID).Scan(&n); err != nil {
			return s.dbErr(err, "read the owner of a photo")
		}
		if n == 0 {
			if p.Owner == "hazard" {
				return hazards.HazardNotFound(p.OwnerID)
			}
			return hazards.ReportNotFound()
		}
		t := now()
		if err := s.addPhoto(ctx, tx, p, t); err != nil {
			return err
		}
		if p.Owner == "hazard" {
			if err := s.addEvent(ctx, tx, p.OwnerID, ev, t); err != nil {
				return err
			}
		}
		return rec.Keep(func(r *riskmap.WriteRecords) error { return s.keepRecords(ctx, tx, r) })
	})
	if err != nil {
		*p = old
	}
	return err
}

// Photos lists the photos of an owner without their bytes, oldest first.
func (s *Store) Photos(ctx context.Context, owner string, ownerID int64) ([]*hazards.Photo, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, owner, owner_id, stage, content_type, width, height, by_user, CAST(at AS TEXT)
FROM photos WHERE owner = ? AND owner_id = ? ORDER BY id`, owner, ownerID)
	if err != nil {
		return nil, s.dbErr(err, "list photos")
	}
	defer rows.Close()
	out := []*hazards.Photo{}
	for rows.Next() {
		var p hazards.Photo
		var at string
		if err := rows.Scan(&p.ID, &p.Owner, &p.OwnerID, &p.Stage, &p.ContentType, &p.Width, &p.Height, &p.By, &at); err != nil {
			return nil, s.dbErr(err, "list photos")
		}
		if p.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, &p)
	}
	return out, s.dbErr(rows.Err(), "list photos")
}

// GetPhoto returns one photo with its bytes.
func (s *Store) GetPhoto(ctx context.Context, id int64) (*hazards.Photo, error) {
	var p hazards.Photo
	var at string
	err := s.r.QueryRowContext(ctx, `SELECT id, owner, owner_id, stage, content_type, width, height, bytes, by_user, CAST(at AS TEXT)
FROM photos WHERE id = ?`, id).Scan(&p.ID, &p.Owner, &p.OwnerID, &p.Stage, &p.ContentType, &p.Width, &p.Height, &p.Bytes, &p.By, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hazards.PhotoNotFound(id)
	}
	if err != nil {
		return nil, s.dbErr(err, "get photo %d", id)
	}
	if p.At, err = parseTime(at); err != nil {
		return nil, err
	}
	return &p, nil
}

const reportColumns = `id, tracking_number, lon, lat, category, description, contact, region_code, department,
    client_hash, status, hazard_id, reason, handled_by, CAST(handled_at AS TEXT), version,
    CAST(created_at AS TEXT), CAST(updated_at AS TEXT)`

func scanReport(scan func(...any) error) (*hazards.Report, error) {
	var (
		r                hazards.Report
		handled          sql.NullString
		created, updated string
	)
	err := scan(&r.ID, &r.TrackingNumber, &r.Point[0], &r.Point[1], &r.Category, &r.Description, &r.Contact,
		&r.RegionCode, &r.Department, &r.ClientHash, &r.Status, &r.HazardID, &r.Reason, &r.HandledBy,
		&handled, &r.Version, &created, &updated)
	if err != nil {
		return nil, err
	}
	if r.HandledAt, err = optParse(handled); err != nil {
		return nil, err
	}
	if err := parseTimes([]string{created, updated}, &r.CreatedAt, &r.UpdatedAt); err != nil {
		return nil, err
	}
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
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		t := now()
		err := tx.QueryRowContext(ctx, `INSERT INTO hazard_reports (tracking_number, lon, lat, category, description, contact,
    region_code, department, client_hash, status, hazard_id, reason, handled_by, handled_at, version, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id`,
			r.TrackingNumber, r.Point[0], r.Point[1], r.Category, r.Description, r.Contact, r.RegionCode, r.Department,
			r.ClientHash, r.Status, r.HazardID, r.Reason, r.HandledBy, optTime(r.HandledAt), formatTime(t), formatTime(t)).Scan(&r.ID)
		if isUnique(err) {
			return hazards.TrackingTaken()
		}
		if err != nil {
			return s.dbErr(err, "create report")
		}
		r.Version, r.CreatedAt, r.UpdatedAt = 1, t, t
		if photo != nil {
			photo.Owner, photo.OwnerID = "report", r.ID
			if photo.Stage == "" {
				photo.Stage = hazards.PhotoReport
			}
			if err := s.addPhoto(ctx, tx, photo, t); err != nil {
				return err
			}
		}
		return rec.Keep(func(w *riskmap.WriteRecords) error { return s.keepRecords(ctx, tx, w) })
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
	return s.oneReport(ctx, "SELECT "+reportColumns+" FROM hazard_reports WHERE id = ?", id)
}

// ReportByTracking returns the report of a tracking number.
func (s *Store) ReportByTracking(ctx context.Context, tracking string) (*hazards.Report, error) {
	return s.oneReport(ctx, "SELECT "+reportColumns+" FROM hazard_reports WHERE tracking_number = ?", tracking)
}

func (s *Store) oneReport(ctx context.Context, q string, arg any) (*hazards.Report, error) {
	r, err := scanReport(s.r.QueryRowContext(ctx, q, arg).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, hazards.ReportNotFound()
	}
	if err != nil {
		return nil, s.dbErr(err, "get report")
	}
	return r, nil
}

// FindReports returns the reports the filter selects, newest first, and the count.
func (s *Store) FindReports(ctx context.Context, f hazards.ReportFilter) ([]*hazards.Report, int, error) {
	var conds []string
	var args []any
	in := func(column string, list []string) {
		if list == nil {
			return
		}
		conds = append(conds, column+" IN ("+placeholders(len(list))+")")
		for _, v := range list {
			args = append(args, v)
		}
	}
	prefix := func(p string) string {
		if hi, ok := prefixEnd(p); ok {
			args = append(args, p, hi)
			return "region_code >= ? AND region_code < ?"
		}
		args = append(args, p)
		return "region_code >= ?"
	}
	in("status", f.Statuses)
	if f.RegionPrefix != "" {
		conds = append(conds, prefix(f.RegionPrefix))
	}
	in("department", f.Departments)
	if u := f.Scope; u != nil && u.Role == riskmap.RoleDepartment {
		in("category", append([]string{}, u.Categories...))
		regions := []string{}
		for _, r := range u.Regions {
			regions = append(regions, "("+prefix(r)+")")
		}
		if len(regions) == 0 {
			regions = append(regions, "0")
		}
		conds = append(conds, "("+strings.Join(regions, " OR ")+")")
	}
	if f.Limit < 0 {
		return nil, 0, riskmap.Errorf(riskmap.EINVALID, "limit 不能为负数")
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, s.dbErr(err, "begin")
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM hazard_reports"+where, args...).Scan(&total); err != nil {
		return nil, 0, s.dbErr(err, "count reports")
	}
	q := "SELECT " + reportColumns + " FROM hazard_reports" + where
	pageArgs := args[:len(args):len(args)]
	if f.AfterID > 0 {
		if where == "" {
			q += " WHERE id < ?"
		} else {
			q += " AND id < ?"
		}
		pageArgs = append(pageArgs, f.AfterID)
	}
	limit := int64(-1)
	if f.Limit > 0 {
		limit = int64(f.Limit)
	}
	rows, err := tx.QueryContext(ctx, q+" ORDER BY id DESC LIMIT ?", append(pageArgs, limit)...)
	if err != nil {
		return nil, 0, s.dbErr(err, "find reports")
	}
	defer rows.Close()
	out := []*hazards.Report{}
	for rows.Next() {
		r, err := scanReport(rows.Scan)
		if err != nil {
			return nil, 0, s.dbErr(err, "find reports")
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, s.dbErr(err, "find reports")
	}
	return out, total, nil
}

// updateReport replaces report r at its version in tx.
func (s *Store) updateReport(ctx context.Context, tx *sql.Tx, r *hazards.Report) error {
	if err := checkReport(r); err != nil {
		return err
	}
	t := now()
	res, err := tx.ExecContext(ctx, `UPDATE hazard_reports SET lon = ?, lat = ?, category = ?, description = ?, contact = ?,
    region_code = ?, department = ?, client_hash = ?, status = ?, hazard_id = ?, reason = ?, handled_by = ?, handled_at = ?,
    version = version + 1, updated_at = ?
WHERE id = ? AND version = ?`, r.Point[0], r.Point[1], r.Category, r.Description, r.Contact, r.RegionCode, r.Department,
		r.ClientHash, r.Status, r.HazardID, r.Reason, r.HandledBy, optTime(r.HandledAt), formatTime(t), r.ID, r.Version)
	if err != nil {
		return s.dbErr(err, "update report %d", r.ID)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err != nil {
			return s.dbErr(err, "update report %d", r.ID)
		}
		var current int64
		err := tx.QueryRowContext(ctx, "SELECT version FROM hazard_reports WHERE id = ?", r.ID).Scan(&current)
		if errors.Is(err, sql.ErrNoRows) {
			return hazards.ReportNotFound()
		}
		if err != nil {
			return s.dbErr(err, "read report %d", r.ID)
		}
		return hazards.StaleReport(r.ID, r.Version, current)
	}
	r.Version++
	r.UpdatedAt = t
	if r.HandledAt != nil {
		at := r.HandledAt.UTC().Truncate(time.Millisecond)
		r.HandledAt = &at
	}
	return nil
}

// UpdateReport replaces a report at its version.
func (s *Store) UpdateReport(ctx context.Context, r *hazards.Report, rec riskmap.AccessRecordFunc) error {
	old := *r
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.updateReport(ctx, tx, r); err != nil {
			return err
		}
		return rec.Keep(func(w *riskmap.WriteRecords) error { return s.keepRecords(ctx, tx, w) })
	})
	if err != nil {
		*r = old
	}
	return err
}

// ConvertReport turns a report into a hidden danger in one transaction.
func (s *Store) ConvertReport(ctx context.Context, r *hazards.Report, h *hazards.Hazard, ev *hazards.Event, dyn riskmap.DynamicsFunc, rec riskmap.AccessRecordFunc) (*riskmap.Unit, error) {
	oldR, oldH := *r, *h
	var out *riskmap.Unit
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		h.ReportID = r.ID
		var err error
		if out, err = s.createHazard(ctx, tx, h, ev, dyn); err != nil {
			return err
		}
		r.HazardID = h.ID
		if err := s.updateReport(ctx, tx, r); err != nil {
			return err
		}
		return rec.Keep(func(w *riskmap.WriteRecords) error { return s.keepRecords(ctx, tx, w) })
	})
	if err != nil {
		*r, *h = oldR, oldH
		return nil, err
	}
	return out, nil
}
