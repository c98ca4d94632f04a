package gpkg

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"iter"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

// Column positions in unitColumns.
const (
	colID = iota
	colCode
	colName
	colCategory
	colSubCategory
	colRegionCode
	colAddress
	colAccidentTypes
	colHazardLevel
	colMajorRiskFactors
	colAssessmentMethod
	colAssessment
	colDirectMajorReason
	colRiskValue
	colGrade
	colGradeLabel
	colExplanation
	colControls
	colResponsibleDepartment
	colResponsibleUnit
	colContactPerson
	colContactPhone
	colInfluenceRadius
	colStatus
	colVersion
	colCreatedAt
	colUpdatedAt
	colAssessedBy
	colAssessedAt
	colNextReviewDue
	colGeom
	unitColumnCount
)

var unitColumnNames = [unitColumnCount]string{"id", "code", "name", "category", "sub_category", "region_code",
	"address", "accident_types", "major_hazard_level", "major_risk_factors", "assessment_method", "assessment",
	"direct_major_reason", "risk_value", "grade", "grade_label", "grade_explanation", "controls",
	"responsible_department", "responsible_unit", "contact_person", "contact_phone", "influence_radius_m",
	"status", "version", "created_at", "updated_at", "assessed_by", "assessed_at", "next_review_due", "geom"}

// dynamicColumnNames are the dynamic columns that follow the public texts
// (unitcodec.DynamicColumns).
var dynamicColumnNames = [...]string{"inherent_grade", "conditions", "open_hazards", "identified_at"}

// rowColumns is the number of columns of unitColumns.
var rowColumns = unitColumnCount + len(riskmap.PublicTextFields) + len(dynamicColumnNames)

// colDynamic is the position of the first dynamic column in unitColumns.
var colDynamic = unitColumnCount + len(riskmap.PublicTextFields)

// columnName names column i of unitColumns: the public texts follow the fixed columns, and
// the dynamic columns the public texts.
func columnName(i int) string {
	if i < unitColumnCount {
		return unitColumnNames[i]
	}
	if i >= colDynamic {
		return dynamicColumnNames[i-colDynamic]
	}
	return riskmap.PublicTextFields[i-unitColumnCount].Name
}

// rowDecoder turns the raw column values of a risk_units row (as the driver returns them:
// int64, float64, string, []byte or nil) into a unit. It keeps the first problem; a row
// with one is not returned.
type rowDecoder struct {
	v   []driver.Value
	err error
}

func (d *rowDecoder) fail(i int, format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("column %s: %s", columnName(i), fmt.Sprintf(format, args...))
	}
}

func (d *rowDecoder) text(i int) string {
	switch v := d.v[i].(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case nil:
		d.fail(i, "is NULL")
	default:
		d.fail(i, "holds a %T, want text", v)
	}
	return ""
}

func (d *rowDecoder) int(i int) int64 {
	switch v := d.v[i].(type) {
	case int64:
		return v
	case float64:
		if v == float64(int64(v)) {
			return int64(v)
		}
	}
	d.fail(i, "holds %v, want an integer", d.v[i])
	return 0
}

func (d *rowDecoder) float(i int) float64 {
	switch v := d.v[i].(type) {
	case float64:
		return v
	case int64:
		return float64(v)
	}
	d.fail(i, "holds %v, want a number", d.v[i])
	return 0
}

func (d *rowDecoder) time(i int) time.Time {
	t, err := readTime(d.text(i))
	if err != nil {
		d.fail(i, "%v", err)
	}
	return t
}

func (d *rowDecoder) check(i int, err error) {
	if err != nil {
		d.fail(i, "%v", err)
	}
}

// unit decodes the row.
func (d *rowDecoder) unit() (*riskmap.Unit, error) {
	u := &riskmap.Unit{
		ID: d.int(colID), Code: d.text(colCode), Name: d.text(colName), Category: d.text(colCategory),
		SubCategory: d.text(colSubCategory), RegionCode: d.text(colRegionCode), Address: d.text(colAddress),
		MajorRiskFactors: d.text(colMajorRiskFactors), DirectMajorReason: d.text(colDirectMajorReason),
		RiskValue: d.float(colRiskValue), Grade: riskmap.Grade(d.text(colGrade)),
		ResponsibleDepartment: d.text(colResponsibleDepartment), ResponsibleUnit: d.text(colResponsibleUnit),
		ContactPerson: d.text(colContactPerson), ContactPhone: d.text(colContactPhone),
		InfluenceRadiusM: d.float(colInfluenceRadius), Status: riskmap.Status(d.text(colStatus)),
		Version: d.int(colVersion), CreatedAt: d.time(colCreatedAt), UpdatedAt: d.time(colUpdatedAt),
		AssessedBy: d.text(colAssessedBy),
	}
	if s := d.text(colAccidentTypes); s != "[]" {
		var err error
		u.AccidentTypes, err = unitcodec.DecodeStrings(s)
		d.check(colAccidentTypes, err)
	}
	if d.v[colHazardLevel] != nil {
		u.MajorHazardSource = &riskmap.MajorHazardSource{Level: int(d.int(colHazardLevel))}
	}
	// The JSON repeats assessment_method, which is a column for SQL users.
	d.check(colAssessment, unitcodec.DecodeAssessment(d.text(colAssessment), &u.Assessment))
	d.check(colExplanation, unitcodec.DecodeExplanation(d.text(colExplanation), &u.Explanation))
	d.check(colControls, unitcodec.DecodeControls(d.text(colControls), &u.Controls))
	if d.v[colAssessedAt] != nil {
		t := d.time(colAssessedAt)
		u.AssessedAt = &t
	}
	if d.v[colNextReviewDue] != nil {
		t, err := time.Parse(dateLayout, d.text(colNextReviewDue))
		d.check(colNextReviewDue, err)
		u.NextReviewDue = &t
	}
	switch b := d.v[colGeom].(type) {
	case []byte:
		var err error
		u.Geometry, err = decodeStored(b)
		d.check(colGeom, err)
	default:
		d.fail(colGeom, "holds a %T, want a GeoPackage geometry blob", b)
	}
	for i, f := range riskmap.PublicTextFields {
		*f.Of(&u.PublicTexts) = d.text(unitColumnCount + i)
	}
	d.dynamic(u)
	if d.err != nil {
		return nil, fmt.Errorf("gpkg: unit %d: %w", u.ID, d.err)
	}
	return u, nil
}

// dynamic decodes the dynamic columns into u, whose grade is set.
func (d *rowDecoder) dynamic(u *riskmap.Unit) {
	var inherent, conds string
	if d.v[colDynamic] != nil {
		inherent = d.text(colDynamic)
	}
	if d.v[colDynamic+1] != nil {
		conds = d.text(colDynamic + 1)
	}
	open := d.int(colDynamic + 2)
	var identified *time.Time
	if d.v[colDynamic+3] != nil {
		t, err := time.Parse(dateLayout, d.text(colDynamic+3))
		d.check(colDynamic+3, err)
		identified = &t
	}
	d.check(colDynamic+1, unitcodec.SetDynamic(u, inherent, conds, int(open), identified))
}

// decodeStored decodes a geometry column value and insists on the store's SRS: a geometry
// in any other system would be drawn in the wrong place.
func decodeStored(b []byte) (orb.Geometry, error) {
	g, srs, err := DecodeGeometry(b)
	if err != nil {
		return nil, err
	}
	if srs != SRSID {
		return nil, fmt.Errorf("srs_id %d, want %d", srs, SRSID)
	}
	return g, nil
}

// scanUnit reads the current row of rows, selected with unitColumns.
func scanUnit(rows *sql.Rows) (*riskmap.Unit, error) {
	n := rowColumns
	v := make([]any, 2*n)
	ptrs := v[n:]
	for i := range n {
		ptrs[i] = &v[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	dv := make([]driver.Value, n)
	for i := range n {
		dv[i] = v[i]
	}
	d := rowDecoder{v: dv}
	return d.unit()
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryUnit reads one unit; sql.ErrNoRows if there is none.
func queryUnit(ctx context.Context, q querier, id int64) (*riskmap.Unit, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+unitColumns+" FROM risk_units WHERE id = ?", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return unitcodec.FirstRow(rows, sql.ErrNoRows, scanUnit)
}

// Units streams every unit that is not retired, ordered by id, from one read snapshot.
//
// It reads ranges of ids on two reader connections at once, each stepping SQLite and
// decoding on its own goroutine, while the caller's goroutine runs the loop body
// (readback.go).
func (s *Store) Units(ctx context.Context) iter.Seq2[*riskmap.Unit, error] {
	return func(yield func(*riskmap.Unit, error) bool) {
		s.readBack(ctx, yield)
	}
}
