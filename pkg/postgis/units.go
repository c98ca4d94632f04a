package postgis

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

// unitColumns are the columns a unit is written to, in the order of unitValues and of the
// COPY rows of appendUnitRow. The last one is geom.
var unitColumns = []string{
	"code", "name", "category", "sub_category", "region_code", "address",
	"accident_types", "major_hazard_level", "major_risk_factors",
	"assessment_method", "assessment", "direct_major_reason",
	"risk_value", "grade", "grade_label", "grade_explanation", "controls",
	"responsible_department", "responsible_unit", "contact_person", "contact_phone",
	"influence_radius_m", "status", "version", "created_at", "updated_at",
	"assessed_by", "assessed_at", "next_review_due", "geom",
}

// selectUnit reads what unitScan decodes. grade_label and assessment_method are derived
// from grade and assessment and are not read back.
var selectUnit = `SELECT id, code, name, category, sub_category, region_code, address,
	accident_types, major_hazard_level, major_risk_factors, assessment, direct_major_reason,
	risk_value, grade, grade_explanation, controls,
	responsible_department, responsible_unit, contact_person, contact_phone,
	influence_radius_m, status, version, created_at, updated_at,
	assessed_by, assessed_at, next_review_due, ST_AsBinary(geom)` + unitcodec.PublicColumns("") +
	unitcodec.DynamicColumns("") + `
FROM risk_units`

var returningUnit = ` RETURNING id, code, name, category, sub_category, region_code, address,
	accident_types, major_hazard_level, major_risk_factors, assessment, direct_major_reason,
	risk_value, grade, grade_explanation, controls,
	responsible_department, responsible_unit, contact_person, contact_phone,
	influence_radius_m, status, version, created_at, updated_at,
	assessed_by, assessed_at, next_review_due, ST_AsBinary(geom)` + unitcodec.PublicColumns("") +
	unitcodec.DynamicColumns("")

var insertUnitSQL = func() string {
	var b strings.Builder
	b.WriteString("WITH w AS (INSERT INTO risk_units (")
	b.WriteString(strings.Join(unitColumns, ", ") + unitcodec.PublicColumns("") + unitcodec.DynamicColumns(""))
	b.WriteString(") VALUES (")
	for i := range unitColumns {
		if i > 0 {
			b.WriteString(", ")
		}
		if unitColumns[i] == "geom" {
			b.WriteString("ST_GeomFromEWKB($" + strconv.Itoa(i+1) + ")")
		} else {
			b.WriteString("$" + strconv.Itoa(i+1))
		}
	}
	// The public texts follow the author ($31).
	b.WriteString(unitcodec.PublicPlaceholders(len(unitColumns) + 2))
	// The dynamic columns follow the public texts.
	b.WriteString(unitcodec.DynamicPlaceholders(len(unitColumns) + 2 + len(riskmap.PublicTextFields)))
	// The approved register follows in the same statement (review.go).
	b.WriteString(") RETURNING id, version, " + writtenApproved + ")" + upsertApproved + createdAuthor +
		" SELECT w.id FROM w" + notifyWritten)
	return b.String()
}()

// createdAuthor and updatedAuthor record Unit.Author ($31) in the unit's author record in
// the statement that writes the revision: a reviewer who can see the revision sees who
// wrote it. "" leaves the record alone.
const (
	createdAuthor = `, authored AS (INSERT INTO unit_authors (unit_id, created_by, updated_by)
	SELECT id, $31::text, $31::text FROM w WHERE $31::text <> ''
	ON CONFLICT (unit_id) DO UPDATE SET updated_by = EXCLUDED.updated_by)`
	updatedAuthor = `, authored AS (INSERT INTO unit_authors (unit_id, updated_by)
	SELECT id, $31::text FROM w WHERE $31::text <> ''
	ON CONFLICT (unit_id) DO UPDATE SET updated_by = EXCLUDED.updated_by)`
)

// Positions in unitValues of the values UpdateUnit binds again.
const (
	colVersion = 23
	colUpdated = 25
)

// updateUnitSQL writes every column but version and created_at. $29 is the id and $30 the
// expected version: optimistic locking in the WHERE clause, so a stale write changes no row
// and notifies nobody. An approved revision also replaces the unit's row in the approved
// register (upsertApproved).
var updateUnitSQL = `WITH w AS (UPDATE risk_units SET
	code = $1, name = $2, category = $3, sub_category = $4, region_code = $5, address = $6,
	accident_types = $7, major_hazard_level = $8, major_risk_factors = $9,
	assessment_method = $10, assessment = $11, direct_major_reason = $12,
	risk_value = $13, grade = $14, grade_label = $15, grade_explanation = $16, controls = $17,
	responsible_department = $18, responsible_unit = $19, contact_person = $20, contact_phone = $21,
	influence_radius_m = $22, status = COALESCE(NULLIF($23, ''), status),
	version = version + 1, updated_at = $24,
	assessed_by = $25, assessed_at = $26, next_review_due = $27, geom = ST_GeomFromEWKB($28)` +
	unitcodec.PublicAssignments(32) + unitcodec.DynamicAssignments(32+len(riskmap.PublicTextFields)) + `
WHERE id = $29 AND version = $30
RETURNING id, version, created_at, ` + writtenApproved + `)` + upsertApproved + updatedAuthor + `
SELECT w.version, w.created_at, w.updated_at, w.status FROM w` + notifyWritten

// unitValues returns the values of unitColumns for u, with geom as EWKB. status "" is
// stored as draft.
func unitValues(u *riskmap.Unit, version int64, created, updated time.Time) ([]any, error) {
	g, err := encodeEWKB(u.Geometry)
	if err != nil {
		return nil, riskmap.Errorf(riskmap.EINVALID, "风险单元 %q 的位置：%v", u.Code, err)
	}
	docs, err := unitcodec.EncodeDocuments(u)
	if err != nil {
		return nil, err
	}
	accidents := u.AccidentTypes
	if accidents == nil {
		accidents = []string{} // the column is NOT NULL; nil would be sent as NULL
	}
	var mhl pgtype.Int2
	if u.MajorHazardSource != nil {
		mhl = pgtype.Int2{Int16: int16(u.MajorHazardSource.Level), Valid: true}
	}
	status := u.Status
	if status == "" {
		status = riskmap.StatusDraft
	}
	return []any{
		u.Code, u.Name, u.Category, u.SubCategory, u.RegionCode, u.Address,
		accidents, mhl, u.MajorRiskFactors,
		u.Assessment.Method, docs.Assessment, u.DirectMajorReason,
		u.RiskValue, string(u.Grade), u.Grade.Label(), docs.Explanation, docs.Controls,
		u.ResponsibleDepartment, u.ResponsibleUnit, u.ContactPerson, u.ContactPhone,
		u.InfluenceRadiusM, string(status), version, created, updated,
		u.AssessedBy, timestamptz(u.AssessedAt), date(u.NextReviewDue), g,
	}, nil
}

// insertValues returns the arguments of insertUnitSQL: the values of unitColumns, the
// author ($31) and the public texts.
func insertValues(u *riskmap.Unit, now time.Time) ([]any, error) {
	vals, err := unitValues(u, 1, now, now)
	if err != nil {
		return nil, err
	}
	return appendDynamicValues(unitcodec.AppendPublicValues(append(vals, u.Author), &u.PublicTexts), u), nil
}

// appendDynamicValues appends the values of the dynamic columns of u
// (unitcodec.DynamicColumns) to args.
func appendDynamicValues(args []any, u *riskmap.Unit) []any {
	var inherent pgtype.Text
	if u.InherentGrade != "" {
		inherent = pgtype.Text{String: string(u.InherentGrade), Valid: true}
	}
	var conds any
	if c := unitcodec.EncodeConditions(u.Conditions); c != "" {
		conds = c
	}
	return append(args, inherent, conds, int32(u.OpenHazards), date(u.IdentifiedAt))
}

func timestamptz(t *time.Time) pgtype.Timestamptz {
	if t == nil {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: *t, Valid: true}
}

func date(t *time.Time) pgtype.Date {
	if t == nil {
		return pgtype.Date{}
	}
	return pgtype.Date{Time: *t, Valid: true}
}

// unitScan holds the scan targets of one row, reused across rows so that a scan allocates
// only what the returned unit keeps.
type unitScan struct {
	intern                      *interner // for decodeRow reading many units (readRanges)
	u                           riskmap.Unit
	grade, status               string
	mhl                         pgtype.Int2
	assessedAt                  pgtype.Timestamptz
	nextReview, identified      pgtype.Date
	inherent                    pgtype.Text
	conditions                  []byte
	openHazards                 int32
	assessment, expl, ctl, geom pgtype.DriverBytes
	dest                        []any
}

func newUnitScan() *unitScan {
	s := &unitScan{}
	u := &s.u
	s.dest = []any{&u.ID, &u.Code, &u.Name, &u.Category, &u.SubCategory, &u.RegionCode, &u.Address,
		&u.AccidentTypes, &s.mhl, &u.MajorRiskFactors, &s.assessment, &u.DirectMajorReason,
		&u.RiskValue, &s.grade, &s.expl, &s.ctl,
		&u.ResponsibleDepartment, &u.ResponsibleUnit, &u.ContactPerson, &u.ContactPhone,
		&u.InfluenceRadiusM, &s.status, &u.Version, &u.CreatedAt, &u.UpdatedAt,
		&u.AssessedBy, &s.assessedAt, &s.nextReview, &s.geom}
	s.dest = unitcodec.AppendPublicTargets(s.dest, &u.PublicTexts)
	s.dest = append(s.dest, &s.inherent, &s.conditions, &s.openHazards, &s.identified)
	return s
}

// scan decodes the current row into a new unit. It needs pgx.Rows, not pgx.Row: the
// DriverBytes targets are only valid until the next row.
func (s *unitScan) scan(row pgx.Rows) (*riskmap.Unit, error) {
	if rawUnitOK(row.FieldDescriptions()) {
		return decodeUnitRow(row.RawValues())
	}
	s.u = riskmap.Unit{}
	if err := row.Scan(s.dest...); err != nil {
		return nil, err
	}
	u := new(riskmap.Unit)
	*u = s.u
	u.Grade = riskmap.Grade(s.grade)
	u.Status = riskmap.Status(s.status)
	u.CreatedAt = u.CreatedAt.UTC()
	u.UpdatedAt = u.UpdatedAt.UTC()
	if s.mhl.Valid {
		u.MajorHazardSource = &riskmap.MajorHazardSource{Level: int(s.mhl.Int16)}
	}
	if s.assessedAt.Valid {
		t := s.assessedAt.Time.UTC()
		u.AssessedAt = &t
	}
	if s.nextReview.Valid {
		t := s.nextReview.Time
		u.NextReviewDue = &t
	}
	if len(u.AccidentTypes) == 0 {
		u.AccidentTypes = nil
	}
	var identified *time.Time
	if s.identified.Valid {
		t := s.identified.Time
		identified = &t
	}
	if err := unitcodec.SetDynamic(u, s.inherent.String, string(s.conditions), int(s.openHazards), identified); err != nil {
		return nil, fmt.Errorf("unit %d: conditions: %w", u.ID, err)
	}
	if err := unitcodec.DecodeAssessment(string(s.assessment), &u.Assessment); err != nil {
		return nil, fmt.Errorf("unit %d: assessment: %w", u.ID, err)
	}
	if err := unitcodec.DecodeExplanation(string(s.expl), &u.Explanation); err != nil {
		return nil, fmt.Errorf("unit %d: grade_explanation: %w", u.ID, err)
	}
	if err := unitcodec.DecodeControls(string(s.ctl), &u.Controls); err != nil {
		return nil, fmt.Errorf("unit %d: controls: %w", u.ID, err)
	}
	g, err := decodeWKB(s.geom)
	if err != nil {
		return nil, fmt.Errorf("unit %d: geometry: %w", u.ID, err)
	}
	u.Geometry = g
	return u, nil
}

// CreateUnit stores a new unit and sets its ID, Version, CreatedAt and UpdatedAt.
func (s *Store) CreateUnit(ctx context.Context, u *riskmap.Unit) error {
	return s.CreateUnitRecorded(ctx, u, nil)
}

// CreateUnitRecorded is CreateUnit that keeps what rec returns in the same transaction.
func (s *Store) CreateUnitRecorded(ctx context.Context, u *riskmap.Unit, rec riskmap.RecordFunc) error {
	now := s.timestamp()
	vals, err := insertValues(u, now)
	if err != nil {
		return err
	}
	write := func(q querier) error {
		var id int64
		if err := q.QueryRow(ctx, insertUnitSQL, vals...).Scan(&id); err != nil {
			return unitError("create unit", u.Code, err)
		}
		u.ID, u.Version, u.CreatedAt, u.UpdatedAt = id, 1, now, now
		if u.Status == "" {
			u.Status = riskmap.StatusDraft
		}
		return nil
	}
	if rec == nil {
		return write(s.pool)
	}
	err = s.recordedUnitTx(ctx, "create unit", &u, rec, write)
	if err != nil {
		u.ID, u.Version = 0, 0
	}
	return err
}

// recordedUnitTx runs write and then keeps what rec returns for the unit *u as written, in
// one transaction.
func (s *Store) recordedUnitTx(ctx context.Context, op string, u **riskmap.Unit, rec riskmap.RecordFunc, write func(querier) error) error {
	return s.inTx(ctx, op, func(tx pgx.Tx) error {
		if err := write(tx); err != nil {
			return err
		}
		return s.writeRecords(ctx, tx, *u, rec)
	})
}

// GetUnit returns a unit by id, retired or not.
func (s *Store) GetUnit(ctx context.Context, id int64) (*riskmap.Unit, error) {
	u, err := queryUnit(ctx, s.pool, selectUnit+" WHERE id = $1", id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, riskmap.UnitNotFound(id)
	}
	if err != nil {
		return nil, dbError("get unit", err)
	}
	return u, nil
}

// UpdateUnit replaces unit u.ID if its stored version is still u.Version, then sets
// u.Version, u.UpdatedAt and u.CreatedAt from the stored row.
func (s *Store) UpdateUnit(ctx context.Context, u *riskmap.Unit) error {
	return s.UpdateUnitRecorded(ctx, u, nil)
}

// UpdateUnitRecorded is UpdateUnit that keeps what rec returns in the same transaction.
func (s *Store) UpdateUnitRecorded(ctx context.Context, u *riskmap.Unit, rec riskmap.RecordFunc) error {
	now := s.timestamp()
	vals, err := unitValues(u, 0, now, now)
	if err != nil {
		return err
	}
	// The update binds every written column but version and created_at, then the key.
	args := make([]any, 0, 31)
	args = append(args, vals[:colVersion]...) // code … influence_radius_m, status
	args[colVersion-1] = string(u.Status)     // "" keeps the stored status
	args = append(args, now)
	args = append(args, vals[colUpdated+1:]...) // assessed_by, assessed_at, next_review_due, geom
	args = unitcodec.AppendPublicValues(append(args, u.ID, u.Version, u.Author), &u.PublicTexts)
	args = appendDynamicValues(args, u)
	old := *u
	write := func(q querier) error {
		var (
			version          int64
			created, updated time.Time
			status           string
		)
		err := q.QueryRow(ctx, updateUnitSQL, args...).Scan(&version, &created, &updated, &status)
		if errors.Is(err, pgx.ErrNoRows) {
			return s.missOrStale(ctx, q, u.ID, u.Version)
		}
		if err != nil {
			return unitError("update unit", u.Code, err)
		}
		u.Version, u.CreatedAt, u.UpdatedAt = version, created.UTC(), updated.UTC()
		u.Status = riskmap.Status(status)
		return nil
	}
	if rec == nil {
		return write(s.pool)
	}
	err = s.recordedUnitTx(ctx, "update unit", &u, rec, write)
	if err != nil {
		u.Version, u.CreatedAt, u.UpdatedAt, u.Status = old.Version, old.CreatedAt, old.UpdatedAt, old.Status
	}
	return err
}

// RetireUnit marks unit id retired if its version is still version.
func (s *Store) RetireUnit(ctx context.Context, id, version int64) (*riskmap.Unit, error) {
	return s.RetireUnitRecorded(ctx, id, version, nil)
}

// RetireUnitRecorded is RetireUnit that keeps what rec returns in the same transaction.
func (s *Store) RetireUnitRecorded(ctx context.Context, id, version int64, rec riskmap.RecordFunc) (*riskmap.Unit, error) {
	var u *riskmap.Unit
	write := func(q querier) error {
		var err error
		u, err = queryUnit(ctx, q, `WITH w AS (UPDATE risk_units SET status = 'retired', version = version + 1, updated_at = $3
		WHERE id = $1 AND version = $2`+returningUnit+`)`+deleteApproved+` SELECT w.* FROM w`+notifyWritten, id, version, s.timestamp())
		if errors.Is(err, pgx.ErrNoRows) {
			return s.missOrStale(ctx, q, id, version)
		}
		return dbError("retire unit", err)
	}
	var err error
	if rec == nil {
		err = write(s.pool)
	} else {
		err = s.recordedUnitTx(ctx, "retire unit", &u, rec, write)
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// queryUnit returns the one unit a statement on q (a pool or a transaction) yields, or
// pgx.ErrNoRows.
func queryUnit(ctx context.Context, q querier, sql string, args ...any) (*riskmap.Unit, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	u, err := unitcodec.FirstRow(rows, pgx.ErrNoRows, newUnitScan().scan)
	if err != nil {
		return nil, err
	}
	rows.Close()
	return u, rows.Err()
}

// missOrStale tells why a versioned write matched no row.
func (s *Store) missOrStale(ctx context.Context, q querier, id, version int64) error {
	var current int64
	err := q.QueryRow(ctx, "SELECT version FROM risk_units WHERE id = $1", id).Scan(&current)
	if errors.Is(err, pgx.ErrNoRows) {
		return riskmap.UnitNotFound(id)
	}
	if err != nil {
		return dbError("check unit version", err)
	}
	return riskmap.StaleVersion(id, version, current)
}

// unitError names the taken code of a unique violation.
func unitError(op, code string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == sqlUniqueViolation {
		return riskmap.CodeTaken(code)
	}
	return dbError(op, err)
}

// CountUnits counts the units that are not retired.
func (s *Store) CountUnits(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM risk_units WHERE status <> 'retired'").Scan(&n); err != nil {
		return 0, dbError("count units", err)
	}
	return n, nil
}

// filterQuery collects WHERE fragments and their bound values. Fragments are fixed text;
// only placeholders are generated.
type filterQuery struct {
	where []string
	args  []any
}

// arg binds v and returns its placeholder.
func (q *filterQuery) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

func (q *filterQuery) add(fragment string) { q.where = append(q.where, fragment) }

func (q *filterQuery) sql() string {
	if len(q.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.where, " AND ")
}

// escapeLike makes s match itself literally in a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	if !strings.ContainsAny(s, `\%_`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r == '\\' || r == '%' || r == '_' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// unitFilter builds the WHERE clause of f, without paging.
func unitFilter(f riskmap.UnitFilter) *filterQuery {
	q := &filterQuery{}
	if b := f.BBox; b != nil {
		env := "ST_MakeEnvelope(" + q.arg(b.Min[0]) + ", " + q.arg(b.Min[1]) + ", " +
			q.arg(b.Max[0]) + ", " + q.arg(b.Max[1]) + ", 4326)"
		// && alone matches a line whose box meets the bbox; ST_Intersects makes it exact.
		q.add("geom && " + env + " AND ST_Intersects(geom, " + env + ")")
	}
	// A nil list does not filter; an empty one selects nothing, as = ANY('{}') does.
	if f.Categories != nil {
		q.add("category = ANY(" + q.arg(f.Categories) + ")")
	}
	if f.Grades != nil {
		gs := make([]string, len(f.Grades))
		for i, g := range f.Grades {
			gs[i] = string(g)
		}
		q.add("grade = ANY(" + q.arg(gs) + ")")
	}
	if f.RegionPrefix != "" {
		q.add("region_code LIKE " + q.arg(escapeLike(f.RegionPrefix)+"%") + ` ESCAPE '\'`)
	}
	if f.Departments != nil {
		q.add("responsible_department = ANY(" + q.arg(f.Departments) + ")")
	}
	if f.Q != "" {
		p := q.arg("%" + escapeLike(f.Q) + "%")
		q.add("(name ILIKE " + p + ` ESCAPE '\' OR code ILIKE ` + p + ` ESCAPE '\')`)
	}
	if f.Kind != "" {
		// GeometryType names a 2D geometry's type in capitals; riskmap.KindOf's kinds each
		// take a type and its Multi- form. An unknown kind names no type: nothing matches.
		types := []string{}
		switch f.Kind {
		case riskmap.KindPoint:
			types = []string{"POINT", "MULTIPOINT"}
		case riskmap.KindLine:
			types = []string{"LINESTRING", "MULTILINESTRING"}
		case riskmap.KindPolygon:
			types = []string{"POLYGON", "MULTIPOLYGON"}
		}
		q.add("GeometryType(geom) = ANY(" + q.arg(types) + "::text[])")
	}
	if u := f.Scope; u != nil && u.Role == riskmap.RoleDepartment {
		// User.InScope: one of the user's categories, in one of the user's regions (LIKE
		// escapes with a backslash unless told otherwise).
		prefixes := make([]string, len(u.Regions))
		for i, r := range u.Regions {
			prefixes[i] = escapeLike(r) + "%"
		}
		q.add("category = ANY(" + q.arg(append([]string{}, u.Categories...)) + ") AND region_code LIKE ANY(" + q.arg(prefixes) + "::text[])")
	}
	switch {
	case len(f.Statuses) > 0:
		ss := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			ss[i] = string(st)
		}
		q.add("status = ANY(" + q.arg(ss) + ")")
	case !f.IncludeRetired:
		q.add("status <> 'retired'")
	}
	if d := f.ReviewDueBefore; d != nil {
		q.add("next_review_due < " + q.arg(d.UTC().Format(time.DateOnly)) + "::date")
	}
	if f.HasOpenHazards {
		q.add("open_hazards > 0")
	}
	return q
}

// FindUnits returns the units f selects, ordered by id, and how many match in all.
func (s *Store) FindUnits(ctx context.Context, f riskmap.UnitFilter) ([]*riskmap.Unit, int, error) {
	q := unitFilter(f)
	where, nFilter := q.sql(), len(q.args)
	if f.AfterID > 0 {
		q.add("id > " + q.arg(f.AfterID))
	}
	text := selectUnit + q.sql() + " ORDER BY id"
	if f.Limit > 0 {
		text += " LIMIT " + q.arg(int64(f.Limit))
	}
	rows, err := s.pool.Query(ctx, text, q.args...)
	if err != nil {
		return nil, 0, dbError("find units", err)
	}
	var units []*riskmap.Unit
	sc := newUnitScan()
	for rows.Next() {
		u, err := sc.scan(rows)
		if err != nil {
			rows.Close()
			return nil, 0, dbError("find units", err)
		}
		units = append(units, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, dbError("find units", err)
	}
	// The page is the whole match when it starts at the beginning and is not cut short.
	if f.AfterID <= 0 && (f.Limit <= 0 || len(units) < f.Limit) {
		return units, len(units), nil
	}
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM risk_units"+where, q.args[:nFilter]...).Scan(&n); err != nil {
		return nil, 0, dbError("count matching units", err)
	}
	return units, n, nil
}

// Units streams every unit that is not retired, ordered by id. Units added while it runs
// may or may not be seen; none is seen twice.
//
// It reads ranges of ids on two connections at once and decodes them on two goroutines,
// while the caller's goroutine runs the loop body (readback.go). At most a few pages of
// unitsPage units are in memory at once.
func (s *Store) Units(ctx context.Context) iter.Seq2[*riskmap.Unit, error] {
	return func(yield func(*riskmap.Unit, error) bool) {
		s.readBack(ctx, yield)
	}
}
