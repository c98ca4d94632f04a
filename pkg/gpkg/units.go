package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

// unitColumns is the column list of every unit read. DATE and DATETIME columns are read
// through CAST: the driver otherwise tries a list of time layouts on them itself, which is
// slow and does not know the GeoPackage form.
var unitColumns = `id, code, name, category, sub_category, region_code, address, accident_types,
    major_hazard_level, major_risk_factors, assessment_method, assessment, direct_major_reason,
    risk_value, grade, grade_label, grade_explanation, controls, responsible_department,
    responsible_unit, contact_person, contact_phone, influence_radius_m, status, version,
    CAST(created_at AS TEXT), CAST(updated_at AS TEXT), assessed_by, CAST(assessed_at AS TEXT),
    CAST(next_review_due AS TEXT), geom` + unitcodec.PublicColumns("") +
	`, inherent_grade, conditions, open_hazards, CAST(identified_at AS TEXT)` // unitcodec.DynamicColumns

var insertUnit = `INSERT INTO risk_units (code, name, category, sub_category, region_code, address,
    accident_types, major_hazard_level, major_risk_factors, assessment_method, assessment,
    direct_major_reason, risk_value, grade, grade_label, grade_explanation, controls,
    responsible_department, responsible_unit, contact_person, contact_phone, influence_radius_m,
    status, version, created_at, updated_at, assessed_by, assessed_at, next_review_due, geom` +
	unitcodec.PublicColumns("") + unitcodec.DynamicColumns("") + `)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?` +
	unitcodec.PublicPlaceholders(0) + unitcodec.DynamicPlaceholders(0) + `)`

// updateUnit replaces every stored field but id, created_at and version, which it bumps; it
// matches only the version the caller read.
var updateUnit = `UPDATE risk_units SET code = ?, name = ?, category = ?, sub_category = ?,
    region_code = ?, address = ?, accident_types = ?, major_hazard_level = ?,
    major_risk_factors = ?, assessment_method = ?, assessment = ?, direct_major_reason = ?,
    risk_value = ?, grade = ?, grade_label = ?, grade_explanation = ?, controls = ?,
    responsible_department = ?, responsible_unit = ?, contact_person = ?, contact_phone = ?,
    influence_radius_m = ?, status = ?, version = version + 1, updated_at = ?, assessed_by = ?,
    assessed_at = ?, next_review_due = ?, geom = ?` + unitcodec.PublicAssignments(0) + unitcodec.DynamicAssignments(0) + `
WHERE id = ? AND version = ?
RETURNING version, CAST(created_at AS TEXT)`

// contentsBounds widens the extent recorded in gpkg_contents to take in a written geometry
// and marks the table changed. Bounds only grow: after an update or a retirement they may
// be larger than the data, which the specification allows (they are informative).
const contentsBounds = `UPDATE gpkg_contents SET
    min_x = min(coalesce(min_x, ?1), ?1), min_y = min(coalesce(min_y, ?2), ?2),
    max_x = max(coalesce(max_x, ?3), ?3), max_y = max(coalesce(max_y, ?4), ?4),
    last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE table_name = ?5`

const contentsTouch = `UPDATE gpkg_contents SET last_change = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE table_name = ?`

// extent gathers the bounds of the geometries a write stores, for gpkg_contents.
type extent struct {
	b  orb.Bound
	ok bool
}

func (e *extent) add(g orb.Geometry) {
	if isEmpty(g) {
		return
	}
	if e.ok {
		e.b = e.b.Union(g.Bound())
	} else {
		e.b, e.ok = g.Bound(), true
	}
}

// write widens the bounds of table in gpkg_contents to take in the extent.
func (e *extent) write(ctx context.Context, tx *sql.Tx, table string) error {
	if !e.ok {
		_, err := tx.ExecContext(ctx, contentsTouch, table)
		return err
	}
	_, err := tx.ExecContext(ctx, contentsBounds, e.b.Min[0], e.b.Min[1], e.b.Max[0], e.b.Max[1], table)
	return err
}

// unitArgs holds the encoded column values of a unit that are not plain fields. The JSON
// columns are bound as strings: a []byte would be stored as a BLOB, which GeoPackage
// readers do not take for TEXT.
type unitArgs struct {
	accidentTypes, assessment, explanation, controls string
	hazard                                           any
	assessedAt, nextReview                           any
}

func encodeUnit(u *riskmap.Unit) (unitArgs, error) {
	var a unitArgs
	docs, err := unitcodec.EncodeDocuments(u)
	if err != nil {
		return a, err
	}
	a.assessment, a.explanation, a.controls = docs.Assessment, docs.Explanation, docs.Controls
	a.accidentTypes = "[]"
	if len(u.AccidentTypes) > 0 {
		a.accidentTypes = string(unitcodec.AppendStrings(make([]byte, 0, 64), u.AccidentTypes, unitcodec.Stored))
	}
	if u.MajorHazardSource != nil {
		a.hazard = int64(u.MajorHazardSource.Level)
	}
	if u.AssessedAt != nil {
		a.assessedAt = formatTime(*u.AssessedAt)
	}
	if u.NextReviewDue != nil {
		// The calendar date as the caller wrote it: converting to UTC first would move a
		// midnight in UTC+8 to the day before.
		a.nextReview = u.NextReviewDue.Format(dateLayout)
	}
	return a, nil
}

// appendDynamic appends the values of the dynamic columns of u (unitcodec.DynamicColumns)
// to args: NULL for no inherent grade, no conditions or no identification date.
func appendDynamic(args []any, u *riskmap.Unit) []any {
	var inherent, conds, identified any
	if u.InherentGrade != "" {
		inherent = string(u.InherentGrade)
	}
	if c := unitcodec.EncodeConditions(u.Conditions); c != "" {
		conds = c
	}
	if u.IdentifiedAt != nil {
		identified = u.IdentifiedAt.Format(dateLayout)
	}
	return append(args, inherent, conds, int64(u.OpenHazards), identified)
}

// checkUnit rejects what the schema would reject with an opaque constraint error.
func checkUnit(u *riskmap.Unit) error {
	if u.Geometry == nil {
		return riskmap.Errorf(riskmap.EINVALID, "风险单元 %q 没有位置", u.Code)
	}
	if !u.Grade.Valid() {
		return riskmap.Errorf(riskmap.EINVALID, "风险单元 %q 没有有效的等级；请先定级再保存", u.Code)
	}
	if !u.Status.Valid() {
		return riskmap.Errorf(riskmap.EINVALID, "风险单元 %q 的状态 %q 无效", u.Code, u.Status)
	}
	if m := u.Assessment.Method; m != riskmap.MethodLS && m != riskmap.MethodLEC {
		return riskmap.Errorf(riskmap.EINVALID, "风险单元 %q：评估方法应为 LS 或 LEC，收到 %q", u.Code, m)
	}
	if h := u.MajorHazardSource; h != nil && (h.Level < 1 || h.Level > 4) {
		return riskmap.Errorf(riskmap.EINVALID, "风险单元 %q：重大危险源级别应为 1 至 4，收到 %d", u.Code, h.Level)
	}
	return nil
}

// prepareUnit checks a unit to be written (checkUnit) and encodes its columns and its
// geometry.
func prepareUnit(u *riskmap.Unit) (unitArgs, []byte, error) {
	if err := checkUnit(u); err != nil {
		return unitArgs{}, nil, err
	}
	a, err := encodeUnit(u)
	if err != nil {
		return a, nil, fmt.Errorf("gpkg: encode unit: %w", err)
	}
	geom, err := EncodeGeometry(u.Geometry, SRSID)
	if err != nil {
		return a, nil, riskmap.Errorf(riskmap.EINVALID, "风险单元 %q：%v", u.Code, err)
	}
	return a, geom, nil
}

// CreateUnit stores a new unit and sets its ID, Version (1), CreatedAt and UpdatedAt. An
// empty status is stored as draft. An approved unit enters the approved register.
func (s *Store) CreateUnit(ctx context.Context, u *riskmap.Unit) error {
	return s.CreateUnitRecorded(ctx, u, nil)
}

// CreateUnitRecorded is CreateUnit that keeps what rec returns in the same transaction.
func (s *Store) CreateUnitRecorded(ctx context.Context, u *riskmap.Unit, rec riskmap.RecordFunc) error {
	if u.Status == "" {
		u.Status = riskmap.StatusDraft
	}
	a, geom, err := prepareUnit(u)
	if err != nil {
		return err
	}
	t := now()
	var id int64
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, insertUnit+" RETURNING id", appendDynamic(unitcodec.AppendPublicValues([]any{
			u.Code, u.Name, u.Category, u.SubCategory, u.RegionCode, u.Address,
			a.accidentTypes, a.hazard, u.MajorRiskFactors, u.Assessment.Method, a.assessment,
			u.DirectMajorReason, u.RiskValue, string(u.Grade), u.Grade.Label(), a.explanation, a.controls,
			u.ResponsibleDepartment, u.ResponsibleUnit, u.ContactPerson, u.ContactPhone, u.InfluenceRadiusM,
			string(u.Status), int64(1), formatTime(t), formatTime(t), u.AssessedBy, a.assessedAt, a.nextReview,
			geom}, &u.PublicTexts), u)...).Scan(&id)
		if isUnique(err) {
			return riskmap.CodeTaken(u.Code)
		}
		if err != nil {
			return s.dbErr(err, "insert unit")
		}
		if err := s.recordAuthor(ctx, tx, id, u.Author, true); err != nil {
			return err
		}
		var ext extent
		ext.add(u.Geometry)
		if err := ext.write(ctx, tx, "risk_units"); err != nil {
			return s.dbErr(err, "update gpkg_contents")
		}
		if err := s.putApproved(ctx, tx, id, &ext); err != nil {
			return err
		}
		u.ID, u.Version, u.CreatedAt, u.UpdatedAt = id, 1, t, t
		return s.writeRecords(ctx, tx, u, rec)
	})
	if err != nil {
		u.ID, u.Version = 0, 0
		return err
	}
	return nil
}

// recordAuthor records who wrote a revision in the unit's author record, in the write's
// transaction (see riskmap.Unit.Author); "" leaves the record alone.
func (s *Store) recordAuthor(ctx context.Context, tx *sql.Tx, id int64, author string, created bool) error {
	if author == "" {
		return nil
	}
	createdBy := ""
	if created {
		createdBy = author
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO unit_authors (unit_id, created_by, updated_by) VALUES (?, ?, ?)
ON CONFLICT (unit_id) DO UPDATE SET updated_by = excluded.updated_by`, id, createdBy, author)
	return s.dbErr(err, "record the author of unit %d", id)
}

// GetUnit returns a unit by id, retired ones included.
func (s *Store) GetUnit(ctx context.Context, id int64) (*riskmap.Unit, error) {
	u, err := queryUnit(ctx, s.r, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, riskmap.UnitNotFound(id)
	}
	if err != nil {
		return nil, s.dbErr(err, "get unit %d", id)
	}
	return u, nil
}

// UpdateUnit replaces unit u.ID if its stored version is still u.Version, then bumps
// u.Version and sets u.UpdatedAt (and u.CreatedAt from the record). An approved revision
// replaces the unit's row in the approved register; any other keeps it.
func (s *Store) UpdateUnit(ctx context.Context, u *riskmap.Unit) error {
	return s.UpdateUnitRecorded(ctx, u, nil)
}

// UpdateUnitRecorded is UpdateUnit that keeps what rec returns in the same transaction.
func (s *Store) UpdateUnitRecorded(ctx context.Context, u *riskmap.Unit, rec riskmap.RecordFunc) error {
	a, geom, err := prepareUnit(u)
	if err != nil {
		return err
	}
	t := now()
	var version int64
	var created string
	old := *u
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, updateUnit, append(appendDynamic(unitcodec.AppendPublicValues([]any{
			u.Code, u.Name, u.Category, u.SubCategory, u.RegionCode, u.Address,
			a.accidentTypes, a.hazard, u.MajorRiskFactors, u.Assessment.Method, a.assessment,
			u.DirectMajorReason, u.RiskValue, string(u.Grade), u.Grade.Label(), a.explanation, a.controls,
			u.ResponsibleDepartment, u.ResponsibleUnit, u.ContactPerson, u.ContactPhone, u.InfluenceRadiusM,
			string(u.Status), formatTime(t), u.AssessedBy, a.assessedAt, a.nextReview, geom}, &u.PublicTexts), u),
			u.ID, u.Version)...).Scan(&version, &created)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return s.missingOrStale(ctx, tx, u.ID, u.Version)
		case isUnique(err):
			return riskmap.CodeTaken(u.Code)
		case err != nil:
			return s.dbErr(err, "update unit %d", u.ID)
		}
		if err := s.recordAuthor(ctx, tx, u.ID, u.Author, false); err != nil {
			return err
		}
		var ext extent
		ext.add(u.Geometry)
		if err := ext.write(ctx, tx, "risk_units"); err != nil {
			return s.dbErr(err, "update gpkg_contents")
		}
		if err := s.putApproved(ctx, tx, u.ID, &ext); err != nil {
			return err
		}
		ct, err := parseTime(created)
		if err != nil {
			return err
		}
		u.Version, u.UpdatedAt, u.CreatedAt = version, t, ct
		return s.writeRecords(ctx, tx, u, rec)
	})
	if err != nil {
		u.Version, u.UpdatedAt, u.CreatedAt = old.Version, old.UpdatedAt, old.CreatedAt
		return err
	}
	return nil
}

// missingOrStale explains why a versioned write matched no row.
func (s *Store) missingOrStale(ctx context.Context, tx *sql.Tx, id, version int64) error {
	var current int64
	err := tx.QueryRowContext(ctx, "SELECT version FROM risk_units WHERE id = ?", id).Scan(&current)
	if errors.Is(err, sql.ErrNoRows) {
		return riskmap.UnitNotFound(id)
	}
	if err != nil {
		return s.dbErr(err, "read unit %d", id)
	}
	return riskmap.StaleVersion(id, version, current)
}

// RetireUnit marks a unit retired if its version is still version, and takes it out of the
// approved register. Nothing is erased from the register.
func (s *Store) RetireUnit(ctx context.Context, id, version int64) (*riskmap.Unit, error) {
	return s.RetireUnitRecorded(ctx, id, version, nil)
}

// RetireUnitRecorded is RetireUnit that keeps what rec returns in the same transaction.
func (s *Store) RetireUnitRecorded(ctx context.Context, id, version int64, rec riskmap.RecordFunc) (*riskmap.Unit, error) {
	var u *riskmap.Unit
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE risk_units SET status = 'retired', version = version + 1, updated_at = ?
WHERE id = ? AND version = ?`, formatTime(now()), id, version)
		if err != nil {
			return s.dbErr(err, "retire unit %d", id)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return s.dbErr(err, "retire unit %d", id)
			}
			return s.missingOrStale(ctx, tx, id, version)
		}
		if _, err := tx.ExecContext(ctx, contentsTouch, "risk_units"); err != nil {
			return s.dbErr(err, "update gpkg_contents")
		}
		if err := s.dropApproved(ctx, tx, id); err != nil {
			return err
		}
		u, err = queryUnit(ctx, tx, id)
		if err != nil {
			return s.dbErr(err, "read unit %d", id)
		}
		return s.writeRecords(ctx, tx, u, rec)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// CountUnits counts the units that are not retired.
func (s *Store) CountUnits(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM risk_units WHERE status <> 'retired'").Scan(&n)
	return n, s.dbErr(err, "count units")
}

// unitFilter turns a filter into a WHERE clause built from fixed fragments and its
// arguments.
func unitFilter(f riskmap.UnitFilter) (string, []any, error) {
	var conds []string
	var args []any
	if b := f.BBox; b != nil {
		for _, v := range []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return "", nil, riskmap.Errorf(riskmap.EINVALID, "bbox：坐标应为有限的数值")
			}
		}
		if b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1] {
			return "", nil, riskmap.Errorf(riskmap.EINVALID, "bbox：最小值不能大于最大值")
		}
		// The R-tree finds candidates by envelope; the function then keeps only geometries
		// that really meet the box (a diagonal line's envelope may overlap it while the line
		// passes by).
		conds = append(conds,
			"id IN (SELECT id FROM rtree_risk_units_geom WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?)",
			"riskmap_intersects_bbox(geom, ?, ?, ?, ?)")
		args = append(args, b.Max[0], b.Min[0], b.Max[1], b.Min[1], b.Min[0], b.Min[1], b.Max[0], b.Max[1])
	}
	// in is "column IN (?, ...)" over a list: a nil list does not filter, an empty one
	// selects nothing (SQLite takes IN ()).
	in := func(column string, list []string) {
		if list == nil {
			return
		}
		conds = append(conds, column+" IN ("+placeholders(len(list))+")")
		for _, v := range list {
			args = append(args, v)
		}
	}
	// prefix is a range over the index instead of LIKE, which would treat % and _ as
	// wildcards and, being case-insensitive, could not use the index.
	prefix := func(p string) string {
		if hi, ok := prefixEnd(p); ok {
			args = append(args, p, hi)
			return "region_code >= ? AND region_code < ?"
		}
		args = append(args, p)
		return "region_code >= ?"
	}
	in("category", f.Categories)
	if f.Grades != nil {
		gs := make([]string, len(f.Grades))
		for i, g := range f.Grades {
			gs[i] = string(g)
		}
		in("grade", gs)
	}
	if p := f.RegionPrefix; p != "" {
		conds = append(conds, prefix(p))
	}
	in("responsible_department", f.Departments)
	if f.Q != "" {
		// instr is a literal substring test: no wildcard, nothing to escape. lower() folds
		// ASCII only, which is what a code needs; Chinese has no case.
		conds = append(conds, "(instr(lower(name), lower(?)) > 0 OR instr(lower(code), lower(?)) > 0)")
		args = append(args, f.Q, f.Q)
	}
	if f.Kind != "" {
		// The geometry type of the blob's WKB, read in SQL: the GeoPackage header is 8 bytes
		// and an envelope of 0, 32, 48 or 64 by the flags byte's bits 1-3 (the low hex digit
		// of byte 4); then the WKB's byte order (01: little-endian) and its uint32 type,
		// whose ISO Z, M and ZM forms add 1000, 2000 and 3000. riskmap.KindOf's kinds each
		// take a type and its Multi- form (1 and 4, 2 and 5, 3 and 6); an unknown kind
		// names none and selects nothing.
		var types []int64
		switch f.Kind {
		case riskmap.KindPoint:
			types = []int64{1, 4}
		case riskmap.KindLine:
			types = []int64{2, 5}
		case riskmap.KindPolygon:
			types = []int64{3, 6}
		}
		// hexByte is the value of the byte whose two hex digits start at i in w.
		hexByte := func(i int) string {
			return fmt.Sprintf("((instr('0123456789ABCDEF', substr(w, %d, 1)) - 1) * 16 + instr('0123456789ABCDEF', substr(w, %d, 1)) - 1)", i, i+1)
		}
		conds = append(conds, "(SELECT (CASE substr(w, 1, 2) WHEN '01' THEN "+hexByte(3)+" + 256 * "+hexByte(5)+
			" ELSE "+hexByte(9)+" + 256 * "+hexByte(7)+" END) % 1000"+
			" FROM (SELECT hex(substr(geom, 9 + CASE substr(hex(substr(geom, 4, 1)), 2, 1)"+
			" WHEN '2' THEN 32 WHEN '3' THEN 32 WHEN '4' THEN 48 WHEN '5' THEN 48 WHEN '6' THEN 48 WHEN '7' THEN 48"+
			" WHEN '8' THEN 64 WHEN '9' THEN 64 ELSE 0 END, 5)) AS w)) IN ("+placeholders(len(types))+")")
		for _, t := range types {
			args = append(args, t)
		}
	}
	if u := f.Scope; u != nil && u.Role == riskmap.RoleDepartment {
		// User.InScope: one of the user's categories, in one of the user's regions.
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
	switch {
	case len(f.Statuses) > 0:
		conds = append(conds, "status IN ("+placeholders(len(f.Statuses))+")")
		for _, st := range f.Statuses {
			args = append(args, string(st))
		}
	case !f.IncludeRetired:
		conds = append(conds, "status <> 'retired'")
	}
	if d := f.ReviewDueBefore; d != nil {
		// Dates are stored as text, YYYY-MM-DD, which sorts as the dates do.
		conds = append(conds, "next_review_due < ?")
		args = append(args, d.UTC().Format(dateLayout))
	}
	if f.HasOpenHazards {
		conds = append(conds, "open_hazards > 0")
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// prefixEnd returns the smallest string greater than every string starting with p, and
// false if there is none (p is all 0xFF bytes).
func prefixEnd(p string) (string, bool) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xFF {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// FindUnits returns the units the filter selects, ordered by id, and how many match in all.
// Both come from one read transaction, so the count and the page agree.
func (s *Store) FindUnits(ctx context.Context, f riskmap.UnitFilter) ([]*riskmap.Unit, int, error) {
	where, args, err := unitFilter(f)
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
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM risk_units"+where, args...).Scan(&total); err != nil {
		return nil, 0, s.dbErr(err, "count units")
	}
	q := "SELECT " + unitColumns + " FROM risk_units" + where
	pageArgs := args
	if f.AfterID > 0 {
		if where == "" {
			q += " WHERE id > ?"
		} else {
			q += " AND id > ?"
		}
		pageArgs = append(pageArgs[:len(pageArgs):len(pageArgs)], f.AfterID)
	}
	q += " ORDER BY id LIMIT ?"
	limit := int64(-1)
	if f.Limit > 0 {
		limit = int64(f.Limit)
	}
	pageArgs = append(pageArgs[:len(pageArgs):len(pageArgs)], limit)
	rows, err := tx.QueryContext(ctx, q, pageArgs...)
	if err != nil {
		return nil, 0, s.dbErr(err, "find units")
	}
	defer rows.Close()
	var out []*riskmap.Unit
	for rows.Next() {
		u, err := scanUnit(rows)
		if err != nil {
			return nil, 0, s.dbErr(err, "find units")
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, s.dbErr(err, "find units")
	}
	return out, total, nil
}
