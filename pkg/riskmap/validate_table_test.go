package riskmap_test

import (
	"math"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"riskmap/pkg/config"
	"riskmap/pkg/riskmap"
)

// The domain's validation, case by case: each case changes one thing of a valid unit (or
// user) and names the outcome; a refusal must be EINVALID and name exactly the fields that
// are wrong, as the API shows them to the user.

// vUnit is a valid unit: a hazardous-chemicals point in 凤麓街道, graded by LS.
func vUnit() *riskmap.Unit {
	return &riskmap.Unit{Code: "V-1", Name: "储罐区", Category: "hazardous_chemicals", RegionCode: "530481001001",
		Assessment: riskmap.Assessment{Method: riskmap.MethodLS, Likelihood: 2, Severity: 3},
		Geometry:   orb.Point{102.915, 24.675}}
}

// vRing closes a ring of x, y pairs.
func vRing(xy ...float64) orb.Ring {
	r := orb.Ring{}
	for i := 0; i+1 < len(xy); i += 2 {
		r = append(r, orb.Point{xy[i], xy[i+1]})
	}
	return append(r, r[0])
}

var (
	vSquare = vRing(102.91, 24.67, 102.92, 24.67, 102.92, 24.68, 102.91, 24.68)
	vHole   = vRing(102.912, 24.672, 102.912, 24.678, 102.918, 24.678, 102.918, 24.672)
	// vBowtie's halves differ in size: a symmetric bowtie has no area at all.
	vBowtie = vRing(102.91, 24.67, 102.92, 24.68, 102.92, 24.67, 102.91, 24.675)
)

// vLine is a line of n distinct positions in 澄江市.
func vLine(n int) orb.LineString {
	l := make(orb.LineString, n)
	for i := range l {
		l[i] = orb.Point{102.9 + float64(i)*1e-7, 24.6 + float64(i%2)*1e-7}
	}
	return l
}

// vPolygon is a valid polygon with n positions in its outer ring: a fan of corners on a
// circle.
func vPolygon(n int) orb.Polygon {
	r := make(orb.Ring, 0, n)
	for i := range n - 1 {
		a := 2 * math.Pi * float64(i) / float64(n-1)
		r = append(r, orb.Point{102.91 + 0.01*math.Cos(a), 24.67 + 0.01*math.Sin(a)})
	}
	return orb.Polygon{append(r, r[0])}
}

func vFields(err error) []string {
	var fs []string
	for _, f := range riskmap.ErrorFields(err) {
		if !slices.Contains(fs, f.Field) {
			fs = append(fs, f.Field)
		}
	}
	slices.Sort(fs)
	return fs
}

func TestUnitValidateTable(t *testing.T) {
	cat := config.Default().Catalog
	long := func(n int) string { return strings.Repeat("储", n) }
	items := func(n int) []string {
		s := make([]string, n)
		for i := range s {
			s[i] = "定期巡查"
		}
		return s
	}
	cases := []struct {
		name   string
		change func(u *riskmap.Unit)
		fields []string // the fields named; none for a valid unit
		// boundary: only the boundary check finds it (Validate does, CheckFields does not).
		boundary bool
		// msg, when set, is text the geometry's message must hold.
		msg string
		// bug, when set, says why the case fails today; the case is skipped with it.
		bug string
	}{
		{name: "OK", change: func(*riskmap.Unit) {}},
		{name: "OK/EveryField", change: func(u *riskmap.Unit) {
			u.SubCategory, u.Address = "危化品储存", "凤麓街道化工园区1号"
			u.AccidentTypes = []string{"fire", "other_explosion"}
			u.MajorHazardSource = &riskmap.MajorHazardSource{Level: 1}
			u.MajorRiskFactors = "液氯储罐"
			u.DirectMajorReason = "构成一级重大危险源"
			u.Controls = riskmap.Controls{Engineering: []string{"紧急切断"}, Emergency: []string{"应急预案"}}
			u.ResponsibleDepartment, u.ResponsibleUnit = "应急局", "澄江化工有限公司"
			u.ContactPerson, u.ContactPhone = "张三", "0877-1234567"
			u.InfluenceRadiusM, u.Status, u.AssessedBy = 500, riskmap.StatusSubmitted, "李四"
		}},
		{name: "OK/NameAtLimit", change: func(u *riskmap.Unit) { u.Name = long(riskmap.MaxNameLen) }},
		{name: "OK/RegionCode6", change: func(u *riskmap.Unit) { u.RegionCode = "530481" }},
		{name: "OK/RegionCode9", change: func(u *riskmap.Unit) { u.RegionCode = "530481001" }},
		{name: "OK/LSCorners", change: func(u *riskmap.Unit) { u.Assessment.Likelihood, u.Assessment.Severity = 5, 1 }},
		{name: "OK/LEC", change: func(u *riskmap.Unit) {
			u.Assessment = riskmap.Assessment{Method: riskmap.MethodLEC, L: 0.1, E: 10, C: 100}
		}},
		{name: "OK/MajorHazardLevel4", change: func(u *riskmap.Unit) { u.MajorHazardSource = &riskmap.MajorHazardSource{Level: 4} }},
		{name: "OK/InfluenceAtLimit", change: func(u *riskmap.Unit) { u.InfluenceRadiusM = riskmap.MaxInfluenceM }},
		{name: "OK/PolygonWithHole", change: func(u *riskmap.Unit) { u.Geometry = orb.Polygon{vSquare, vHole} }},
		{name: "OK/MultiPolygon", change: func(u *riskmap.Unit) {
			u.Geometry = orb.MultiPolygon{{vSquare}, {vRing(102.93, 24.67, 102.94, 24.67, 102.94, 24.68)}}
		}},
		{name: "OK/MultiLineString", change: func(u *riskmap.Unit) { u.Geometry = orb.MultiLineString{vLine(2), vLine(3)} }},
		{name: "OK/MultiPoint", change: func(u *riskmap.Unit) { u.Geometry = orb.MultiPoint{{102.91, 24.67}, {102.92, 24.68}} }},
		{name: "OK/EdgeOfTheWorld", change: func(u *riskmap.Unit) { u.Geometry = orb.Point{180, -90} }},
		{name: "OK/MaxVerticesLine", change: func(u *riskmap.Unit) { u.Geometry = vLine(riskmap.MaxVertices) }},
		{name: "OK/MaxVerticesPolygon", change: func(u *riskmap.Unit) { u.Geometry = vPolygon(riskmap.MaxVertices) }},

		{name: "ErrCodeRequired", change: func(u *riskmap.Unit) { u.Code = "" }, fields: []string{"code"}},
		{name: "ErrCodeBlank", change: func(u *riskmap.Unit) { u.Code = " \t" }, fields: []string{"code"}},
		{name: "ErrCodeTooLong", change: func(u *riskmap.Unit) { u.Code = strings.Repeat("A", riskmap.MaxCodeLen+1) }, fields: []string{"code"}},
		{name: "ErrNameRequired", change: func(u *riskmap.Unit) { u.Name = "" }, fields: []string{"name"}},
		{name: "ErrNameTooLong", change: func(u *riskmap.Unit) { u.Name = long(riskmap.MaxNameLen + 1) }, fields: []string{"name"}},
		{name: "ErrNameNUL", change: func(u *riskmap.Unit) { u.Name = "储\x00罐" }, fields: []string{"name"}},
		{name: "ErrAddressNotUTF8", change: func(u *riskmap.Unit) { u.Address = "凤麓\xff" }, fields: []string{"address"}},
		{name: "ErrSubCategoryTooLong", change: func(u *riskmap.Unit) { u.SubCategory = long(riskmap.MaxShortTextLen + 1) }, fields: []string{"sub_category"}},
		{name: "ErrCategoryRequired", change: func(u *riskmap.Unit) { u.Category = "" }, fields: []string{"category"}},
		{name: "ErrCategoryUnknown", change: func(u *riskmap.Unit) { u.Category = "nuclear" }, fields: []string{"category"}},
		{name: "ErrRegionCodeRequired", change: func(u *riskmap.Unit) { u.RegionCode = "" }, fields: []string{"region_code"}},
		{name: "ErrRegionCodeLength", change: func(u *riskmap.Unit) { u.RegionCode = "5304810" }, fields: []string{"region_code"}},
		{name: "ErrRegionCodeTooLong", change: func(u *riskmap.Unit) { u.RegionCode = "5304810010011" }, fields: []string{"region_code"}},
		{name: "ErrRegionCodeNotDigits", change: func(u *riskmap.Unit) { u.RegionCode = "53048a" }, fields: []string{"region_code"}},
		{name: "ErrRegionCodeFullWidth", change: func(u *riskmap.Unit) { u.RegionCode = "５３０４８１" }, fields: []string{"region_code"}},
		{name: "ErrRegionCodeNewline", change: func(u *riskmap.Unit) { u.RegionCode = "530481\n" }, fields: []string{"region_code"}},
		{name: "ErrAccidentTypeUnknown", change: func(u *riskmap.Unit) { u.AccidentTypes = []string{"fire", "meteor"} }, fields: []string{"accident_types"}},
		{name: "ErrAccidentTypeTwice", change: func(u *riskmap.Unit) { u.AccidentTypes = []string{"fire", "fire"} }, fields: []string{"accident_types"}},
		{name: "ErrAccidentTypesTooMany", change: func(u *riskmap.Unit) {
			u.AccidentTypes = make([]string, riskmap.MaxAccidentTypes+1)
			for i := range u.AccidentTypes {
				u.AccidentTypes[i] = "fire"
			}
		}, fields: []string{"accident_types"}},
		{name: "ErrMajorHazardLevel0", change: func(u *riskmap.Unit) { u.MajorHazardSource = &riskmap.MajorHazardSource{} }, fields: []string{"major_hazard_source.level"}},
		{name: "ErrMajorHazardLevel5", change: func(u *riskmap.Unit) { u.MajorHazardSource = &riskmap.MajorHazardSource{Level: 5} }, fields: []string{"major_hazard_source.level"}},
		{name: "ErrMajorRiskFactorsTooLong", change: func(u *riskmap.Unit) { u.MajorRiskFactors = long(riskmap.MaxLongTextLen + 1) }, fields: []string{"major_risk_factors"}},

		{name: "ErrMethodRequired", change: func(u *riskmap.Unit) { u.Assessment = riskmap.Assessment{} }, fields: []string{"assessment.method"}},
		{name: "ErrMethodUnknown", change: func(u *riskmap.Unit) { u.Assessment.Method = "ls" }, fields: []string{"assessment.method"}},
		{name: "ErrLikelihood0", change: func(u *riskmap.Unit) { u.Assessment.Likelihood = 0 }, fields: []string{"assessment.likelihood"}},
		{name: "ErrLikelihood6", change: func(u *riskmap.Unit) { u.Assessment.Likelihood = 6 }, fields: []string{"assessment.likelihood"}},
		{name: "ErrSeverityNegative", change: func(u *riskmap.Unit) { u.Assessment.Severity = -1 }, fields: []string{"assessment.severity"}},
		{name: "ErrLSBoth", change: func(u *riskmap.Unit) { u.Assessment.Likelihood, u.Assessment.Severity = 0, 9 }, fields: []string{"assessment.likelihood", "assessment.severity"}},
		{name: "ErrLSWithLECInputs", change: func(u *riskmap.Unit) {
			u.Assessment = riskmap.Assessment{Method: riskmap.MethodLS, L: 3, E: 6, C: 7}
		}, fields: []string{"assessment.likelihood", "assessment.severity"}},
		{name: "ErrLECL", change: func(u *riskmap.Unit) {
			u.Assessment = riskmap.Assessment{Method: riskmap.MethodLEC, L: 2, E: 6, C: 7}
		}, fields: []string{"assessment.l"}},
		{name: "ErrLECE", change: func(u *riskmap.Unit) {
			u.Assessment = riskmap.Assessment{Method: riskmap.MethodLEC, L: 3, E: 4, C: 7}
		}, fields: []string{"assessment.e"}},
		{name: "ErrLECC", change: func(u *riskmap.Unit) {
			u.Assessment = riskmap.Assessment{Method: riskmap.MethodLEC, L: 3, E: 6, C: 5}
		}, fields: []string{"assessment.c"}},
		{name: "ErrLECNaN", change: func(u *riskmap.Unit) {
			u.Assessment = riskmap.Assessment{Method: riskmap.MethodLEC, L: math.NaN(), E: math.Inf(1), C: 7}
		}, fields: []string{"assessment.e", "assessment.l"}},
		{name: "ErrLECWithLSInputs", change: func(u *riskmap.Unit) {
			u.Assessment = riskmap.Assessment{Method: riskmap.MethodLEC, Likelihood: 3, Severity: 3}
		}, fields: []string{"assessment.c", "assessment.e", "assessment.l"}},
		{name: "ErrDirectReasonTooLong", change: func(u *riskmap.Unit) { u.DirectMajorReason = long(riskmap.MaxLongTextLen + 1) }, fields: []string{"direct_major_reason"}},
		{name: "ErrDirectReasonNUL", change: func(u *riskmap.Unit) { u.DirectMajorReason = "重大\x00" }, fields: []string{"direct_major_reason"}},

		{name: "ErrControlEmpty", change: func(u *riskmap.Unit) { u.Controls.Management = []string{"巡查", "  "} }, fields: []string{"controls.management"}},
		{name: "ErrControlsTooMany", change: func(u *riskmap.Unit) { u.Controls.PPE = items(riskmap.MaxControlItems + 1) }, fields: []string{"controls.ppe"}},
		{name: "ErrControlTooLong", change: func(u *riskmap.Unit) { u.Controls.Training = []string{long(riskmap.MaxLongTextLen + 1)} }, fields: []string{"controls.training"}},
		{name: "ErrResponsibleDepartmentTooLong", change: func(u *riskmap.Unit) { u.ResponsibleDepartment = long(riskmap.MaxShortTextLen + 1) }, fields: []string{"responsible_department"}},
		{name: "ErrResponsibleUnitTooLong", change: func(u *riskmap.Unit) { u.ResponsibleUnit = long(riskmap.MaxShortTextLen + 1) }, fields: []string{"responsible_unit"}},
		{name: "ErrContactPersonNUL", change: func(u *riskmap.Unit) { u.ContactPerson = "\x00" }, fields: []string{"contact_person"}},
		{name: "ErrContactPhoneTooLong", change: func(u *riskmap.Unit) { u.ContactPhone = strings.Repeat("1", 41) }, fields: []string{"contact_phone"}},
		{name: "ErrInfluenceNegative", change: func(u *riskmap.Unit) { u.InfluenceRadiusM = -1 }, fields: []string{"influence_radius_m"}, msg: "影响半径应在 0 到 50000 米之间"},
		{name: "ErrInfluenceTooFar", change: func(u *riskmap.Unit) { u.InfluenceRadiusM = riskmap.MaxInfluenceM + 1 }, fields: []string{"influence_radius_m"}, msg: "影响半径应在 0 到 50000 米之间"},
		{name: "ErrInfluenceAbsurd", change: func(u *riskmap.Unit) { u.InfluenceRadiusM = 50000.5 }, fields: []string{"influence_radius_m"}},
		{name: "ErrInfluenceNaN", change: func(u *riskmap.Unit) { u.InfluenceRadiusM = math.NaN() }, fields: []string{"influence_radius_m"}, msg: "影响半径应在 0 到 50000 米之间"},
		{name: "ErrInfluenceInf", change: func(u *riskmap.Unit) { u.InfluenceRadiusM = math.Inf(1) }, fields: []string{"influence_radius_m"}},
		{name: "ErrInfluenceMinusInf", change: func(u *riskmap.Unit) { u.InfluenceRadiusM = math.Inf(-1) }, fields: []string{"influence_radius_m"}},
		{name: "ErrStatusUnknown", change: func(u *riskmap.Unit) { u.Status = "published" }, fields: []string{"status"}},
		{name: "ErrAssessedByTooLong", change: func(u *riskmap.Unit) { u.AssessedBy = long(riskmap.MaxShortTextLen + 1) }, fields: []string{"assessed_by"}},

		{name: "ErrGeometryRequired", change: func(u *riskmap.Unit) { u.Geometry = nil }, fields: []string{"geometry"}, msg: "必填"},
		{name: "ErrGeometryType", change: func(u *riskmap.Unit) { u.Geometry = orb.Collection{orb.Point{102.91, 24.67}} }, fields: []string{"geometry"}, msg: "GeometryCollection"},
		{name: "ErrLongitudeOutOfRange", change: func(u *riskmap.Unit) { u.Geometry = orb.Point{180.5, 24.67} }, fields: []string{"geometry"}, msg: "经度"},
		{name: "ErrLatitudeOutOfRange", change: func(u *riskmap.Unit) { u.Geometry = orb.Point{102.91, -90.1} }, fields: []string{"geometry"}, msg: "纬度"},
		{name: "ErrLatLonSwapped", change: func(u *riskmap.Unit) { u.Geometry = orb.Point{24.67, 102.91} }, fields: []string{"geometry"}, msg: "纬度"},
		{name: "ErrCoordinateNaN", change: func(u *riskmap.Unit) { u.Geometry = orb.Point{math.NaN(), 24.67} }, fields: []string{"geometry"}, msg: "有限的数值"},
		{name: "ErrCoordinateInf", change: func(u *riskmap.Unit) { u.Geometry = orb.Point{102.91, math.Inf(-1)} }, fields: []string{"geometry"}, msg: "有限的数值"},
		{name: "ErrLineVertexNaN", change: func(u *riskmap.Unit) {
			u.Geometry = orb.LineString{{102.91, 24.67}, {102.92, math.NaN()}}
		}, fields: []string{"geometry"}, msg: "第 2 个顶点"},
		{name: "ErrRingVertexOutOfRange", change: func(u *riskmap.Unit) {
			u.Geometry = orb.Polygon{vRing(102.91, 24.67, 200, 24.67, 102.92, 24.68)}
		}, fields: []string{"geometry"}, msg: "外环：第 2 个顶点"},
		{name: "ErrMultiPointEmpty", change: func(u *riskmap.Unit) { u.Geometry = orb.MultiPoint{} }, fields: []string{"geometry"}, msg: "为空"},
		{name: "ErrMultiPointOutOfRange", change: func(u *riskmap.Unit) {
			u.Geometry = orb.MultiPoint{{102.91, 24.67}, {102.91, 95}}
		}, fields: []string{"geometry"}, msg: "第 2 个点"},
		{name: "ErrLineEmpty", change: func(u *riskmap.Unit) { u.Geometry = orb.LineString{} }, fields: []string{"geometry"}, msg: "为空"},
		{name: "ErrLineOnePoint", change: func(u *riskmap.Unit) {
			u.Geometry = orb.LineString{{102.91, 24.67}, {102.91, 24.67}}
		}, fields: []string{"geometry"}, msg: "两个不同的点"},
		{name: "ErrMultiLineBadPart", change: func(u *riskmap.Unit) {
			u.Geometry = orb.MultiLineString{vLine(2), {{102.91, 24.67}}}
		}, fields: []string{"geometry"}, msg: "第 2 个线"},
		{name: "ErrPolygonEmpty", change: func(u *riskmap.Unit) { u.Geometry = orb.Polygon{} }, fields: []string{"geometry"}, msg: "为空"},
		{name: "ErrRingTooShort", change: func(u *riskmap.Unit) {
			u.Geometry = orb.Polygon{{{102.91, 24.67}, {102.92, 24.67}, {102.91, 24.67}}}
		}, fields: []string{"geometry"}, msg: "至少需要 4 个坐标"},
		{name: "ErrRingNotClosed", change: func(u *riskmap.Unit) { u.Geometry = orb.Polygon{vSquare[:len(vSquare)-1]} }, fields: []string{"geometry"}, msg: "未闭合"},
		{name: "ErrRingTwoCorners", change: func(u *riskmap.Unit) {
			u.Geometry = orb.Polygon{{{102.91, 24.67}, {102.92, 24.67}, {102.91, 24.67}, {102.92, 24.67}, {102.91, 24.67}}}
		}, fields: []string{"geometry"}, msg: "3 个不同的角点"},
		{name: "ErrRingNoArea", change: func(u *riskmap.Unit) {
			u.Geometry = orb.Polygon{vRing(102.91, 24.67, 102.92, 24.67, 102.93, 24.67)}
		}, fields: []string{"geometry"}, msg: "没有面积"},
		{name: "ErrHoleNotClosed", change: func(u *riskmap.Unit) { u.Geometry = orb.Polygon{vSquare, vHole[:4]} }, fields: []string{"geometry"}, msg: "第 2 个环"},
		{name: "ErrMultiPolygonEmpty", change: func(u *riskmap.Unit) { u.Geometry = orb.MultiPolygon{} }, fields: []string{"geometry"}, msg: "为空"},
		{name: "ErrMultiPolygonBadPart", change: func(u *riskmap.Unit) {
			u.Geometry = orb.MultiPolygon{{vSquare}, {}}
		}, fields: []string{"geometry"}, msg: "第 2 个面"},
		{name: "ErrTooManyVerticesLine", change: func(u *riskmap.Unit) { u.Geometry = vLine(riskmap.MaxVertices + 1) }, fields: []string{"geometry"}, msg: "顶点过多（共 50001 个，上限 50000 个）"},
		{name: "ErrTooManyVerticesMultiPoint", change: func(u *riskmap.Unit) {
			u.Geometry = orb.MultiPoint(vLine(riskmap.MaxVertices + 1))
		}, fields: []string{"geometry"}, msg: "顶点过多"},
		{name: "ErrTooManyVerticesRings", change: func(u *riskmap.Unit) {
			// Each ring is allowed; together they are one position over.
			p := vPolygon(riskmap.MaxVertices / 2)
			q := vPolygon(riskmap.MaxVertices/2 + 1)
			u.Geometry = orb.MultiPolygon{p, q}
		}, fields: []string{"geometry"}, msg: "顶点过多（共 50001 个"},
		{name: "ErrTooManyVerticesBeforeCoordinates", change: func(u *riskmap.Unit) {
			l := vLine(riskmap.MaxVertices + 1)
			l[0] = orb.Point{math.NaN(), 0}
			u.Geometry = l
		}, fields: []string{"geometry"}, msg: "顶点过多"},
		{name: "ErrBoundaryCrosses", change: func(u *riskmap.Unit) { u.Geometry = orb.Polygon{vBowtie} }, fields: []string{"geometry"}, boundary: true, msg: "自相交或自接触"},
		{name: "ErrHoleCrossesOuter", change: func(u *riskmap.Unit) {
			u.Geometry = orb.Polygon{vSquare, vRing(102.915, 24.675, 102.925, 24.675, 102.925, 24.676, 102.915, 24.676)}
		}, fields: []string{"geometry"}, boundary: true, msg: "自相交或自接触"},
		{name: "ErrHoleOutsideOuter", change: func(u *riskmap.Unit) {
			u.Geometry = orb.Polygon{vSquare, vRing(102.95, 24.67, 102.95, 24.68, 102.96, 24.68, 102.96, 24.67)}
		}, fields: []string{"geometry"}, boundary: true, msg: "第 2 个环：内环（洞）位于外环之外"},
		{name: "ErrHoleInsideHole", change: func(u *riskmap.Unit) {
			u.Geometry = orb.Polygon{vSquare, vHole, vRing(102.914, 24.674, 102.914, 24.676, 102.916, 24.676, 102.916, 24.674)}
		}, fields: []string{"geometry"}, boundary: true, msg: "第 3 个环：内环（洞）嵌套在另一个内环之中"},
		{name: "ErrBoundaryInSecondPolygon", change: func(u *riskmap.Unit) {
			u.Geometry = orb.MultiPolygon{{vSquare}, {vBowtie}}
		}, fields: []string{"geometry"}, boundary: true, msg: "第 2 个面"},

		{name: "ErrEveryProblemListed", change: func(u *riskmap.Unit) {
			u.Code, u.Category, u.RegionCode = "", "nuclear", "1"
			u.Assessment.Likelihood = 7
			u.Geometry = orb.Polygon{vBowtie}
		}, fields: []string{"assessment.likelihood", "category", "code", "geometry", "region_code"}, boundary: true},
		{name: "ErrShapeHidesBoundary", change: func(u *riskmap.Unit) {
			// A ring that is not closed has no boundary to check: one geometry problem.
			u.Geometry = orb.Polygon{vBowtie, vHole[:4]}
		}, fields: []string{"geometry"}, msg: "第 2 个环"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.bug != "" {
				t.Skip("bug: " + tc.bug)
			}
			u := vUnit()
			tc.change(u)
			err := u.Validate(cat)
			if len(tc.fields) == 0 {
				if err != nil {
					t.Fatalf("want a valid unit, got %v", err)
				}
				if p := u.CheckFields(cat); len(p) != 0 {
					t.Fatalf("want CheckFields to find nothing, got %v", p)
				}
				return
			}
			if riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Fatalf("want EINVALID, got %q (%v)", riskmap.ErrorCode(err), err)
			}
			if got := vFields(err); !slices.Equal(got, tc.fields) {
				t.Fatalf("want the fields %v named, got %v (%v)", tc.fields, got, err)
			}
			if tc.msg != "" {
				found := false
				for _, f := range riskmap.ErrorFields(err) {
					found = found || f.Field == tc.fields[0] && strings.Contains(f.Message, tc.msg)
				}
				if !found {
					t.Errorf("want the %s message to say %q, got %v", tc.fields[0], tc.msg, riskmap.ErrorFields(err))
				}
			}
			// CheckFields finds the same, but for crossing boundaries, which it leaves to
			// CheckBoundaries.
			want := tc.fields
			if tc.boundary {
				want = slices.DeleteFunc(slices.Clone(want), func(f string) bool { return f == "geometry" })
			}
			if got := vFields(u.CheckFields(cat).Err()); !slices.Equal(got, want) {
				t.Errorf("want CheckFields to name %v, got %v", want, got)
			}
		})
	}
}

func TestPersonLabel(t *testing.T) {
	for _, tc := range []struct{ login, name, org, want string }{
		{"liexp", "", "", "liexp"},
		{"liexp", "", "应急局", "liexp"},
		{"liexp", "李明", "", "李明"},
		{"liexp", "李明", "云南省安全生产专家库", "李明（云南省安全生产专家库）"},
		{"liexp", " 李明 ", " ", "李明"},
	} {
		if got := riskmap.PersonLabel(tc.login, tc.name, tc.org); got != tc.want {
			t.Errorf("PersonLabel(%q, %q, %q) = %q, want %q", tc.login, tc.name, tc.org, got, tc.want)
		}
	}
}

func FuzzValidPhone(f *testing.F) {
	for _, s := range []string{"", "12350", "0877-6691234 转 8012", "+86 (138) 0000 1111", "ext", "转转转", "１２３"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !riskmap.ValidPhone(s) || s == "" {
			return
		}
		if len(s) > riskmap.MaxPhone || !utf8.ValidString(s) {
			t.Fatalf("%q accepted: too long or not UTF-8", s)
		}
		digits := 0
		for _, r := range s {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits < 3 {
			t.Fatalf("%q accepted with %d digits", s, digits)
		}
	})
}

func TestUserValidateTable(t *testing.T) {
	cat := config.Default().Catalog
	dept := func() *riskmap.User {
		return &riskmap.User{Name: "yjj", Role: riskmap.RoleDepartment, Department: "应急局",
			Categories: []string{"hazardous_chemicals", "fireworks"}, Regions: []string{"530481", "530481001001"},
			PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA"}
	}
	cases := []struct {
		name   string
		change func(u *riskmap.User)
		fields []string
	}{
		{"OK/Department", func(*riskmap.User) {}, nil},
		{"OK/Admin", func(u *riskmap.User) { u.Role, u.Categories, u.Regions = riskmap.RoleAdmin, nil, nil }, nil},
		{"OK/Expert", func(u *riskmap.User) { u.Role, u.Categories, u.Regions = riskmap.RoleExpert, nil, nil }, nil},
		{"OK/NameAtLimit", func(u *riskmap.User) { u.Name = strings.Repeat("张", 64) }, nil},
		{"ErrNameRequired", func(u *riskmap.User) { u.Name = " " }, []string{"name"}},
		{"ErrNameTooLong", func(u *riskmap.User) { u.Name = strings.Repeat("张", 65) }, []string{"name"}},
		{"ErrNameNUL", func(u *riskmap.User) { u.Name = "y\x00jj" }, []string{"name"}},
		{"ErrRoleRequired", func(u *riskmap.User) { u.Role = "" }, []string{"role"}},
		{"ErrRoleUnknown", func(u *riskmap.User) { u.Role = "root" }, []string{"role"}},
		{"ErrRoleCase", func(u *riskmap.User) { u.Role = "Admin" }, []string{"role"}},
		{"ErrCategoryUnknown", func(u *riskmap.User) { u.Categories = []string{"hazardous_chemicals", "nuclear"} }, []string{"categories"}},
		{"ErrCategoriesMissing", func(u *riskmap.User) { u.Categories = nil }, []string{"categories"}},
		{"ErrRegionsMissing", func(u *riskmap.User) { u.Regions = nil }, []string{"regions"}},
		{"ErrRegionEmpty", func(u *riskmap.User) { u.Regions = []string{""} }, []string{"regions"}},
		{"ErrRegionNotDigits", func(u *riskmap.User) { u.Regions = []string{"53a481"} }, []string{"regions"}},
		{"ErrRegionTooLong", func(u *riskmap.User) { u.Regions = []string{"5304810010011"} }, []string{"regions"}},
		{"ErrExpertCategoryUnknown", func(u *riskmap.User) { u.Role = riskmap.RoleExpert; u.Categories = []string{"nuclear"} }, []string{"categories"}},
		{"ErrPasswordRequired", func(u *riskmap.User) { u.PasswordHash = "" }, []string{"password"}},
		{"OK/Profile", func(u *riskmap.User) {
			u.DisplayName, u.Organisation, u.Phone = "李卫东", "澄江市应急管理局", "0877-6691234 转 8012"
		}, nil},
		{"OK/PhoneMobile", func(u *riskmap.User) { u.Phone = "+86 138 0000 1111" }, nil},
		{"ErrDisplayNameTooLong", func(u *riskmap.User) { u.DisplayName = strings.Repeat("张", 65) }, []string{"display_name"}},
		{"ErrOrganisationTooLong", func(u *riskmap.User) { u.Organisation = strings.Repeat("局", 101) }, []string{"organisation"}},
		{"ErrPhoneLetters", func(u *riskmap.User) { u.Phone = "call me" }, []string{"phone"}},
		{"ErrPhoneTooShort", func(u *riskmap.User) { u.Phone = "12" }, []string{"phone"}},
		{"ErrPhoneTooLong", func(u *riskmap.User) { u.Phone = strings.Repeat("1", 33) }, []string{"phone"}},
		{"ErrEveryProblemListed", func(u *riskmap.User) { *u = riskmap.User{Role: riskmap.RoleDepartment} },
			[]string{"categories", "name", "password", "regions"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := dept()
			tc.change(u)
			err := u.Validate(cat)
			if len(tc.fields) == 0 {
				if err != nil {
					t.Fatalf("want a valid user, got %v", err)
				}
				return
			}
			if riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Fatalf("want EINVALID, got %q (%v)", riskmap.ErrorCode(err), err)
			}
			if got := vFields(err); !slices.Equal(got, tc.fields) {
				t.Fatalf("want the fields %v named, got %v (%v)", tc.fields, got, err)
			}
		})
	}
}
