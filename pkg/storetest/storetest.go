// Package storetest is the contract every riskmap.Store must pass. Each store package runs
// it against a real store: PostGIS through pgx, the GeoPackage file through SQLite.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// Opener returns a fresh, empty, migrated store, closed when the test ends.
type Opener func(t *testing.T) riskmap.Store

// A part of the contract runs as the subtest of its name: its test, or the parts of a group.
type part struct {
	name  string
	test  func(*testing.T, Opener)
	parts []part
}

// contract is the whole contract, in the order Run runs it. The parts of Access are the
// contract of AccessStore, AuditStore, ReviewStore and PublicationStore; that the audit
// log and the publications refuse UPDATE and DELETE through SQL is checked by each store
// package, which has raw access to its database.
var contract = []part{
	{"Units", testUnits, nil},
	{"Documents", testDocuments, nil},
	{"FindUnits", testFind, nil},
	{"Bulk", testBulk, nil},
	{"Regions", testRegions, nil},
	{"Sites", testSites, nil},
	{"ManagedSites", testManagedSites, nil},
	{"Users", testUsers, nil},
	{"Access", nil, []part{
		{"Users", testUserAdmin, nil},
		{"Sessions", testSessions, nil},
		{"APITokens", testAPITokens, nil},
		{"Audit", testAudit, nil},
		{"AuditLimits", testAuditLimits, nil},
		{"ApprovedRegister", testApprovedRegister, nil},
		{"Publications", testPublications, nil},
		{"UnitAuthor", testUnitAuthor, nil},
		{"ReviewNotes", testReviewNotes, nil},
		{"ReviewDesk", testReviewDesk, nil},
	}},
	{"Edge", testEdge, nil},
	{"Records", testRecords, nil},
	{"AccessRecords", testAccessRecords, nil},
	{"Hazards", testHazards, nil},
	{"Conditions", testConditions, nil},
	{"Imports", testImports, nil},
	{"Migrate", testMigrate, nil},
}

// Run runs the whole contract against stores made by open.
func Run(t *testing.T, open Opener) { runParts(t, open, contract) }

func runParts(t *testing.T, open Opener, parts []part) {
	for _, p := range parts {
		t.Run(p.name, func(t *testing.T) {
			if p.test == nil {
				runParts(t, open, p.parts)
				return
			}
			p.test(t, open)
		})
	}
}

// testMigrate checks that migrating a migrated store changes nothing.
func testMigrate(t *testing.T, open Opener) {
	s := open(t)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("a second Migrate must be a no-op, got %v", err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// NewUnit returns a valid, graded unit with the given code and geometry, with Chinese text
// and every optional field set, so that round trips exercise every column.
func NewUnit(code string, g orb.Geometry) *riskmap.Unit {
	assessed := time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC)
	due := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	return &riskmap.Unit{
		Code: code, Name: "澄江某化工有限公司液氨储罐区 " + code, Category: "hazardous_chemicals",
		SubCategory: "储存仓库", RegionCode: "530481001001", Address: "凤麓街道工业园区 8 号",
		AccidentTypes:     []string{"fire", "poisoning_asphyxia"},
		MajorHazardSource: &riskmap.MajorHazardSource{Level: 2},
		MajorRiskFactors:  "液氨泄漏",
		Assessment:        riskmap.Assessment{Method: riskmap.MethodLS, Likelihood: 4, Severity: 5},
		RiskValue:         20, Grade: riskmap.GradeRed,
		Explanation: riskmap.Explanation{Method: "LS", Inputs: map[string]float64{"likelihood": 4, "severity": 5},
			Value: 20, Rule: "R ≥ 20 → red", Text: "风险矩阵 R = 4 × 5 = 20 ≥ 20,判定为重大风险"},
		Controls: riskmap.Controls{
			Engineering: []string{"储罐区设置可燃气体检测报警"}, Management: []string{"制定安全操作规程"},
			Training: []string{"每季度应急演练"}, PPE: []string{"配备正压式空气呼吸器"}, Emergency: []string{"编制专项应急预案"},
		},
		ResponsibleDepartment: "应急局", ResponsibleUnit: "澄江某化工有限公司",
		ContactPerson: "张三", ContactPhone: "0877-0000000", InfluenceRadiusM: 500,
		Status: riskmap.StatusApproved, AssessedBy: "评估专家甲", AssessedAt: &assessed, NextReviewDue: &due,
		Geometry: g,
	}
}

func ctx() context.Context { return context.Background() }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := riskmap.ErrorCode(err); got != code {
		t.Fatalf("want error code %q, got %q (%v)", code, got, err)
	}
}

var (
	point = orb.Point{102.91, 24.67}
	line  = orb.LineString{{102.90, 24.66}, {102.91, 24.665}, {102.92, 24.67}}
	poly  = orb.Polygon{{{102.90, 24.60}, {102.95, 24.60}, {102.95, 24.65}, {102.90, 24.65}, {102.90, 24.60}},
		{{102.91, 24.61}, {102.91, 24.62}, {102.92, 24.62}, {102.92, 24.61}, {102.91, 24.61}}}
)

// equalUnit compares what a store must round-trip.
func equalUnit(t *testing.T, want, got *riskmap.Unit) {
	t.Helper()
	w, g := *want, *got
	if !orb.Equal(w.Geometry, g.Geometry) {
		t.Errorf("geometry: want %v, got %v", w.Geometry, g.Geometry)
	}
	w.Geometry, g.Geometry = nil, nil
	if w.InherentGrade == "" {
		w.InherentGrade = w.Grade // stored as NULL, read as the grade
	}
	if w.AssessedAt != nil && g.AssessedAt != nil && w.AssessedAt.Equal(*g.AssessedAt) {
		w.AssessedAt, g.AssessedAt = nil, nil
	}
	if w.IdentifiedAt != nil && g.IdentifiedAt != nil && w.IdentifiedAt.Equal(*g.IdentifiedAt) {
		w.IdentifiedAt, g.IdentifiedAt = nil, nil
	}
	if w.NextReviewDue != nil && g.NextReviewDue != nil && w.NextReviewDue.Equal(*g.NextReviewDue) {
		w.NextReviewDue, g.NextReviewDue = nil, nil
	}
	if !w.CreatedAt.Equal(g.CreatedAt) || !w.UpdatedAt.Equal(g.UpdatedAt) {
		t.Errorf("timestamps: want %v/%v, got %v/%v", w.CreatedAt, w.UpdatedAt, g.CreatedAt, g.UpdatedAt)
	}
	w.CreatedAt, g.CreatedAt, w.UpdatedAt, g.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(w, g) {
		wj, _ := json.Marshal(w)
		gj, _ := json.Marshal(g)
		t.Errorf("unit differs after a round trip:\nwant %s\n got %s", wj, gj)
	}
}

// mustGetUnit reads unit id back from s.
func mustGetUnit(t *testing.T, s riskmap.Store, id int64) *riskmap.Unit {
	t.Helper()
	u, err := s.GetUnit(ctx(), id)
	must(t, err)
	return u
}

// wantStored checks that s reads u back as it is, field for field.
func wantStored(t *testing.T, s riskmap.Store, u *riskmap.Unit) {
	t.Helper()
	equalUnit(t, u, mustGetUnit(t, s, u.ID))
}

func testUnits(t *testing.T, open Opener) {
	t.Run("OK", func(t *testing.T) {
		s := open(t)
		for _, g := range []orb.Geometry{point, line, poly,
			orb.MultiPoint{{102.9, 24.6}, {102.91, 24.61}},
			orb.MultiPolygon{poly, {{{103.0, 24.7}, {103.01, 24.7}, {103.01, 24.71}, {103.0, 24.7}}}}} {
			u := NewUnit("T-"+g.GeoJSONType(), g)
			must(t, s.CreateUnit(ctx(), u))
			if u.ID == 0 || u.Version != 1 || u.CreatedAt.IsZero() || !u.UpdatedAt.Equal(u.CreatedAt) {
				t.Fatalf("CreateUnit must set id, version 1 and timestamps, got id=%d v=%d %v %v", u.ID, u.Version, u.CreatedAt, u.UpdatedAt)
			}
			wantStored(t, s, u)
		}
	})
	t.Run("OKEmptyOptionals", func(t *testing.T) {
		s := open(t)
		u := NewUnit("T-MIN", point)
		u.MajorHazardSource, u.AssessedAt, u.NextReviewDue = nil, nil, nil
		u.AccidentTypes, u.Controls = nil, riskmap.Controls{}
		u.Assessment = riskmap.Assessment{Method: riskmap.MethodLEC, L: 0.5, E: 6, C: 7}
		must(t, s.CreateUnit(ctx(), u))
		got := mustGetUnit(t, s, u.ID)
		if got.MajorHazardSource != nil || got.AssessedAt != nil || got.NextReviewDue != nil {
			t.Errorf("nil optionals must stay nil: %+v", got)
		}
		if len(got.AccidentTypes) != 0 || len(got.Controls.Engineering) != 0 {
			t.Errorf("empty lists must stay empty: %+v", got)
		}
		if got.Assessment != u.Assessment {
			t.Errorf("assessment: want %+v, got %+v", u.Assessment, got.Assessment)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		_, err := s.GetUnit(ctx(), 987654)
		wantCode(t, err, riskmap.ENOTFOUND)
		u := NewUnit("T-NF", point)
		u.ID, u.Version = 987654, 1
		wantCode(t, s.UpdateUnit(ctx(), u), riskmap.ENOTFOUND)
		_, err = s.RetireUnit(ctx(), 987654, 1)
		wantCode(t, err, riskmap.ENOTFOUND)
	})
	t.Run("ErrDuplicateCode", func(t *testing.T) {
		s := open(t)
		must(t, s.CreateUnit(ctx(), NewUnit("T-DUP", point)))
		wantCode(t, s.CreateUnit(ctx(), NewUnit("T-DUP", line)), riskmap.ECONFLICT)
		if n, _ := s.CountUnits(ctx()); n != 1 {
			t.Fatalf("a rejected unit must change nothing, count=%d", n)
		}
	})
	t.Run("UpdateOK", func(t *testing.T) {
		s := open(t)
		u := NewUnit("T-UP", point)
		must(t, s.CreateUnit(ctx(), u))
		created := u.CreatedAt
		u.Name, u.Geometry, u.Grade, u.RiskValue = "改名后的单元", line, riskmap.GradeBlue, 2
		must(t, s.UpdateUnit(ctx(), u))
		if u.Version != 2 || !u.CreatedAt.Equal(created) || u.UpdatedAt.Before(created) {
			t.Fatalf("update must bump the version to 2 and keep created_at, got v=%d", u.Version)
		}
		wantStored(t, s, u)
	})
	t.Run("ErrStaleVersion", func(t *testing.T) {
		s := open(t)
		u := NewUnit("T-STALE", point)
		must(t, s.CreateUnit(ctx(), u))
		first := *u
		u.Name = "第一次修改"
		must(t, s.UpdateUnit(ctx(), u))
		first.Name = "过时的修改"
		wantCode(t, s.UpdateUnit(ctx(), &first), riskmap.EPRECONDITION)
		_, err := s.RetireUnit(ctx(), u.ID, 1)
		wantCode(t, err, riskmap.EPRECONDITION)
		got := mustGetUnit(t, s, u.ID)
		if got.Name != "第一次修改" || got.Version != 2 || got.Status != riskmap.StatusApproved {
			t.Fatalf("a stale write must change nothing, got %q v%d %s", got.Name, got.Version, got.Status)
		}
	})
	t.Run("RetireOK", func(t *testing.T) {
		s := open(t)
		u := NewUnit("T-RET", point)
		must(t, s.CreateUnit(ctx(), u))
		r, err := s.RetireUnit(ctx(), u.ID, u.Version)
		must(t, err)
		if r.Status != riskmap.StatusRetired || r.Version != 2 {
			t.Fatalf("retire: want status retired, version 2, got %s v%d", r.Status, r.Version)
		}
		got := mustGetUnit(t, s, u.ID)
		if got.Status != riskmap.StatusRetired || got.Name != u.Name {
			t.Fatalf("a retired unit is kept, not erased: %+v", got)
		}
		if n, _ := s.CountUnits(ctx()); n != 0 {
			t.Fatalf("CountUnits counts active units only, got %d", n)
		}
		for v, err := range s.Units(ctx()) {
			must(t, err)
			t.Fatalf("Units must skip retired units, got %d", v.ID)
		}
		// The code of a retired unit may be used again.
		must(t, s.CreateUnit(ctx(), NewUnit("T-RET", point)))
	})
	t.Run("OKInjectionTextIsData", func(t *testing.T) {
		s := open(t)
		u := NewUnit("T-INJ", point)
		u.Name = `'; DROP TABLE risk_units;-- <img src=x onerror=alert(1)> ’‘“”`
		must(t, s.CreateUnit(ctx(), u))
		got := mustGetUnit(t, s, u.ID)
		if got.Name != u.Name {
			t.Fatalf("name must round-trip literally, got %q", got.Name)
		}
	})
}

func ids(us []*riskmap.Unit) []int64 {
	out := make([]int64, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

func testFind(t *testing.T, open Opener) {
	s := open(t)
	depts := map[string]string{"A-001": "应急管理局", "B-002": "教育局", "C-003": "水务局", "D-004": "住建局", "E-005": "应急管理局"}
	day := func(y int, m time.Month, d int) *time.Time {
		t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		return &t
	}
	// 下次复核: A and E are overdue on 2026-12-06, B is due that day, C has no date.
	dues := map[string]*time.Time{"A-001": day(2026, 1, 15), "B-002": day(2026, 12, 6), "C-003": nil,
		"D-004": day(2027, 3, 1), "E-005": day(2025, 6, 30)}
	// Open hidden dangers: A has two, D and the retired E one each.
	openHazards := map[string]int{"A-001": 2, "D-004": 1, "E-005": 1}
	mk := func(code, name, cat, region string, g riskmap.Grade, st riskmap.Status, geom orb.Geometry) *riskmap.Unit {
		u := NewUnit(code, geom)
		u.Name, u.Category, u.RegionCode, u.Grade, u.Status = name, cat, region, g, st
		u.ResponsibleDepartment = depts[code]
		u.NextReviewDue = dues[code]
		u.OpenHazards = openHazards[code]
		must(t, s.CreateUnit(ctx(), u))
		return u
	}
	a := mk("A-001", "凤麓加油站", "hazardous_chemicals", "530481001001", riskmap.GradeRed, riskmap.StatusApproved, orb.Point{102.91, 24.67})
	b := mk("B-002", "龙街小学", "crowded_places", "530481002003", riskmap.GradeYellow, riskmap.StatusApproved, orb.Point{102.95, 24.72})
	c := mk("C-003", "抚仙湖内涝点 100%_x", "waterlogging", "530481101002", riskmap.GradeBlue, riskmap.StatusDraft,
		orb.Polygon{{{102.85, 24.60}, {102.87, 24.60}, {102.87, 24.62}, {102.85, 24.62}, {102.85, 24.60}}})
	d := mk("D-004", "燃气干管 O'Brien", "lifeline_gas", "530481001002", riskmap.GradeOrange, riskmap.StatusSubmitted,
		orb.LineString{{102.80, 24.50}, {103.00, 24.50}})
	e := mk("E-005", "已注销单元", "roads", "530481001001", riskmap.GradeRed, riskmap.StatusApproved, orb.Point{102.91, 24.67})
	e, err := s.RetireUnit(ctx(), e.ID, e.Version)
	must(t, err)

	dec7late := time.Date(2026, 12, 7, 23, 59, 0, 0, time.UTC)
	all := []*riskmap.Unit{a, b, c, d, e}
	bb := func(minx, miny, maxx, maxy float64) *orb.Bound {
		return &orb.Bound{Min: orb.Point{minx, miny}, Max: orb.Point{maxx, maxy}}
	}
	cases := []struct {
		name string
		f    riskmap.UnitFilter
		want []*riskmap.Unit
	}{
		{"All", riskmap.UnitFilter{}, []*riskmap.Unit{a, b, c, d}},
		{"BBoxPoint", riskmap.UnitFilter{BBox: bb(102.90, 24.66, 102.92, 24.68)}, []*riskmap.Unit{a}},
		{"BBoxPolygonPartlyInside", riskmap.UnitFilter{BBox: bb(102.86, 24.61, 102.90, 24.65)}, []*riskmap.Unit{c}},
		{"BBoxCrossesLineBetweenVertices", riskmap.UnitFilter{BBox: bb(102.89, 24.49, 102.90, 24.51)}, []*riskmap.Unit{d}},
		{"BBoxEmptyArea", riskmap.UnitFilter{BBox: bb(100, 20, 100.1, 20.1)}, nil},
		{"Category", riskmap.UnitFilter{Categories: []string{"crowded_places", "lifeline_gas"}}, []*riskmap.Unit{b, d}},
		{"Grade", riskmap.UnitFilter{Grades: []riskmap.Grade{riskmap.GradeRed, riskmap.GradeBlue}}, []*riskmap.Unit{a, c}},
		{"RegionPrefixStreet", riskmap.UnitFilter{RegionPrefix: "530481001"}, []*riskmap.Unit{a, d}},
		{"RegionPrefixCity", riskmap.UnitFilter{RegionPrefix: "530481"}, []*riskmap.Unit{a, b, c, d}},
		{"RegionPrefixWildcardIsLiteral", riskmap.UnitFilter{RegionPrefix: "5304%"}, nil},
		{"QName", riskmap.UnitFilter{Q: "小学"}, []*riskmap.Unit{b}},
		{"QCode", riskmap.UnitFilter{Q: "D-00"}, []*riskmap.Unit{d}},
		{"QPercentIsLiteral", riskmap.UnitFilter{Q: "100%_x"}, []*riskmap.Unit{c}},
		{"QPercentMatchesOnlyLiteralPercent", riskmap.UnitFilter{Q: "%"}, []*riskmap.Unit{c}},
		{"QUnderscoreIsLiteral", riskmap.UnitFilter{Q: "A_001"}, nil},
		{"QQuote", riskmap.UnitFilter{Q: "O'Brien"}, []*riskmap.Unit{d}},
		{"QInjection", riskmap.UnitFilter{Q: "' OR 1=1--"}, nil},
		{"QInjectionSleep", riskmap.UnitFilter{Q: "%' AND pg_sleep(5)--"}, nil},
		{"QUnicodeQuotes", riskmap.UnitFilter{Q: "’ OR ‘1’=‘1"}, nil},
		{"Status", riskmap.UnitFilter{Statuses: []riskmap.Status{riskmap.StatusDraft, riskmap.StatusSubmitted}}, []*riskmap.Unit{c, d}},
		{"StatusRetired", riskmap.UnitFilter{Statuses: []riskmap.Status{riskmap.StatusRetired}}, []*riskmap.Unit{e}},
		{"IncludeRetired", riskmap.UnitFilter{IncludeRetired: true}, []*riskmap.Unit{a, b, c, d, e}},
		{"Combined", riskmap.UnitFilter{RegionPrefix: "530481", Grades: []riskmap.Grade{riskmap.GradeRed, riskmap.GradeOrange}, Categories: []string{"lifeline_gas"}}, []*riskmap.Unit{d}},
		{"CategoryNamedNone", riskmap.UnitFilter{Categories: []string{}}, nil},
		{"GradeNamedNone", riskmap.UnitFilter{Grades: []riskmap.Grade{}}, nil},
		{"Department", riskmap.UnitFilter{Departments: []string{"应急管理局", "住建局"}}, []*riskmap.Unit{a, d}},
		{"DepartmentIsExact", riskmap.UnitFilter{Departments: []string{"应急"}}, nil},
		{"DepartmentNamedNone", riskmap.UnitFilter{Departments: []string{}}, nil},
		{"DepartmentRetired", riskmap.UnitFilter{Departments: []string{"应急管理局"}, IncludeRetired: true}, []*riskmap.Unit{a, e}},
		{"KindPoint", riskmap.UnitFilter{Kind: riskmap.KindPoint}, []*riskmap.Unit{a, b}},
		{"KindLine", riskmap.UnitFilter{Kind: riskmap.KindLine}, []*riskmap.Unit{d}},
		{"KindPolygon", riskmap.UnitFilter{Kind: riskmap.KindPolygon, IncludeRetired: true}, []*riskmap.Unit{c}},
		{"KindUnknown", riskmap.UnitFilter{Kind: "circle"}, nil},
		{"Scope", riskmap.UnitFilter{Scope: &riskmap.User{Role: riskmap.RoleDepartment, Categories: []string{"hazardous_chemicals", "lifeline_gas", "waterlogging"},
			Regions: []string{"530481001", "530481102"}}}, []*riskmap.Unit{a, d}},
		{"ScopeRegionWildcardIsLiteral", riskmap.UnitFilter{Scope: &riskmap.User{Role: riskmap.RoleDepartment, Categories: []string{"hazardous_chemicals"},
			Regions: []string{"5304%"}}}, nil},
		{"ScopeWithoutRegions", riskmap.UnitFilter{Scope: &riskmap.User{Role: riskmap.RoleDepartment, Categories: []string{"hazardous_chemicals"}}}, nil},
		{"ScopeOfAdminIsEverything", riskmap.UnitFilter{Scope: &riskmap.User{Role: riskmap.RoleAdmin}}, []*riskmap.Unit{a, b, c, d}},
		{"ReviewDueBefore", riskmap.UnitFilter{ReviewDueBefore: day(2026, 12, 6)}, []*riskmap.Unit{a}},
		{"ReviewDueBeforeIsDateOnly", riskmap.UnitFilter{ReviewDueBefore: &dec7late}, []*riskmap.Unit{a, b}},
		{"ReviewDueBeforeRetired", riskmap.UnitFilter{ReviewDueBefore: day(2027, 12, 31), IncludeRetired: true}, []*riskmap.Unit{a, b, d, e}},
		{"OpenHazards", riskmap.UnitFilter{HasOpenHazards: true}, []*riskmap.Unit{a, d}},
		{"OpenHazardsRetired", riskmap.UnitFilter{HasOpenHazards: true, IncludeRetired: true}, []*riskmap.Unit{a, d, e}},
		{"OpenHazardsAndGrade", riskmap.UnitFilter{HasOpenHazards: true, Grades: []riskmap.Grade{riskmap.GradeRed}}, []*riskmap.Unit{a}},
		{"ScopeAndFilters", riskmap.UnitFilter{Scope: &riskmap.User{Role: riskmap.RoleDepartment, Categories: []string{"hazardous_chemicals", "lifeline_gas"},
			Regions: []string{"530481"}}, Kind: riskmap.KindLine, Departments: []string{"住建局"}}, []*riskmap.Unit{d}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, n, err := s.FindUnits(ctx(), tc.f)
			must(t, err)
			if !slices.Equal(ids(got), ids(tc.want)) || n != len(tc.want) {
				t.Fatalf("want ids %v (matched %d), got %v (matched %d)", ids(tc.want), len(tc.want), ids(got), n)
			}
			// The spatial index answers the same filter with its matcher: it must agree.
			m := tc.f.Matcher()
			var matched []*riskmap.Unit
			for _, u := range all {
				if facts := riskmap.FactsOf(u); m.Match(&facts) {
					matched = append(matched, u)
				}
			}
			if !slices.Equal(ids(matched), ids(tc.want)) {
				t.Fatalf("the index's matcher selects %v, the store %v", ids(matched), ids(tc.want))
			}
		})
	}
	t.Run("Paging", func(t *testing.T) {
		var seen []int64
		f := riskmap.UnitFilter{Limit: 3}
		for page := 0; page < 5; page++ {
			got, n, err := s.FindUnits(ctx(), f)
			must(t, err)
			if n != 4 {
				t.Fatalf("numberMatched must ignore paging: want 4, got %d", n)
			}
			if len(got) == 0 {
				break
			}
			seen = append(seen, ids(got)...)
			f.AfterID = got[len(got)-1].ID
		}
		if !slices.Equal(seen, ids([]*riskmap.Unit{a, b, c, d})) {
			t.Fatalf("pages must list every unit once in id order, got %v", seen)
		}
	})
	t.Run("FieldsRoundTrip", func(t *testing.T) {
		got, _, err := s.FindUnits(ctx(), riskmap.UnitFilter{Q: "A-001"})
		must(t, err)
		if len(got) != 1 {
			t.Fatalf("want 1 unit, got %d", len(got))
		}
		equalUnit(t, a, got[0])
	})
}

func testBulk(t *testing.T, open Opener) {
	s := open(t)
	const n = 2500
	units := func(yield func(*riskmap.Unit) bool) {
		for i := 0; i < n; i++ {
			var g orb.Geometry = orb.Point{102.8 + float64(i%50)*0.004, 24.5 + float64(i/50)*0.004}
			if i%10 == 0 {
				g = line
			}
			u := NewUnit(fmt.Sprintf("BULK-%05d", i), g)
			u.Grade = riskmap.Grades[i%4]
			if !yield(u) {
				return
			}
		}
	}
	calls := 0
	got, err := s.BulkInsertUnits(ctx(), units, func(int) { calls++ })
	must(t, err)
	if got != n {
		t.Fatalf("want %d inserted, got %d", n, got)
	}
	if calls == 0 {
		t.Errorf("progress must be reported at least once")
	}
	if c, err := s.CountUnits(ctx()); err != nil || c != n {
		t.Fatalf("want count %d, got %d (%v)", n, c, err)
	}
	i := 0
	var last int64
	for u, err := range s.Units(ctx()) {
		must(t, err)
		if u.ID <= last || u.Version != 1 || u.Code != fmt.Sprintf("BULK-%05d", i) || u.Grade != riskmap.Grades[i%4] {
			t.Fatalf("unit %d read back wrong or out of order: %+v", i, u)
		}
		last = u.ID
		i++
	}
	if i != n {
		t.Fatalf("Units streamed %d, want %d", i, n)
	}
	t.Run("ErrDuplicateRollsBack", func(t *testing.T) {
		dup := func(yield func(*riskmap.Unit) bool) {
			if yield(NewUnit("NEW-1", point)) {
				yield(NewUnit("BULK-00001", point))
			}
		}
		_, err := s.BulkInsertUnits(ctx(), dup, nil)
		if err == nil {
			t.Fatal("a bulk insert with a taken code must fail")
		}
		if c, _ := s.CountUnits(ctx()); c != n {
			t.Fatalf("a failed bulk insert must change nothing: count %d, want %d", c, n)
		}
	})
	t.Run("CancelMidwayRollsBack", func(t *testing.T) {
		c, cancel := context.WithCancel(ctx())
		defer cancel()
		stopping := func(yield func(*riskmap.Unit) bool) {
			for i := 0; i < 10; i++ {
				if !yield(NewUnit(fmt.Sprintf("MID-%d", i), point)) {
					return
				}
			}
			cancel() // the caller found a bad unit and stops the load
		}
		if _, err := s.BulkInsertUnits(c, stopping, nil); err == nil {
			t.Fatal("a bulk insert whose context is cancelled before the end must fail")
		}
		if got, _ := s.CountUnits(ctx()); got != n {
			t.Fatalf("a cancelled bulk insert must change nothing: count %d, want %d", got, n)
		}
	})
	t.Run("Cancel", func(t *testing.T) {
		c, cancel := context.WithCancel(ctx())
		cancel()
		_, err := s.BulkInsertUnits(c, units, nil)
		if err == nil {
			t.Fatal("a cancelled bulk insert must fail")
		}
		if c, _ := s.CountUnits(ctx()); c != n {
			t.Fatalf("a cancelled bulk insert must change nothing: count %d, want %d", c, n)
		}
	})
}

func square(x, y, d float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}, {x, y}}}}
}

func testRegions(t *testing.T, open Opener) {
	s := open(t)
	rs := []*riskmap.Region{
		{Code: "530481", Name: "澄江市", Level: riskmap.LevelDistrict, Population: 170000, Geometry: square(102.7, 24.4, 0.4)},
		{Code: "530481001", Name: "凤麓街道", Level: riskmap.LevelStreet, ParentCode: "530481", Population: 60000, Geometry: square(102.8, 24.6, 0.1)},
		{Code: "530481002", Name: "龙街街道", Level: riskmap.LevelStreet, ParentCode: "530481", Population: 40000, Geometry: square(102.9, 24.6, 0.1)},
	}
	must(t, s.PutRegions(ctx(), rs))
	got, err := s.Regions(ctx(), riskmap.LevelStreet)
	must(t, err)
	if len(got) != 2 || got[0].Code != "530481001" || got[1].Name != "龙街街道" || got[0].ParentCode != "530481" || got[0].Population != 60000 {
		t.Fatalf("streets: %+v", got)
	}
	if !orb.Equal(got[0].Geometry, rs[1].Geometry) {
		t.Fatalf("region geometry: want %v, got %v", rs[1].Geometry, got[0].Geometry)
	}
	all, err := s.Regions(ctx(), "")
	must(t, err)
	if len(all) != 3 || all[0].Code != "530481" {
		t.Fatalf("all regions ordered by code: %+v", all)
	}
	// Put replaces by code.
	must(t, s.PutRegions(ctx(), []*riskmap.Region{{Code: "530481002", Name: "龙街街道(新)", Level: riskmap.LevelStreet, ParentCode: "530481", Geometry: square(102.9, 24.6, 0.2)}}))
	r, err := s.GetRegion(ctx(), "530481002")
	must(t, err)
	if r.Name != "龙街街道(新)" {
		t.Fatalf("PutRegions must replace by code, got %q", r.Name)
	}
	_, err = s.GetRegion(ctx(), "999999")
	wantCode(t, err, riskmap.ENOTFOUND)
}

func testSites(t *testing.T, open Opener) {
	s := open(t)
	must(t, s.AddProtectiveTargets(ctx(), []*riskmap.ProtectiveTarget{
		{Name: "凤麓小学", Kind: riskmap.TargetSchool, RegionCode: "530481001001", Address: "凤麓路 1 号", People: 1200, Geometry: orb.Point{102.91, 24.68}},
	}))
	ts, err := s.ProtectiveTargets(ctx())
	must(t, err)
	if len(ts) != 1 || ts[0].ID == 0 || ts[0].Name != "凤麓小学" || ts[0].People != 1200 || !orb.Equal(ts[0].Geometry, orb.Point{102.91, 24.68}) {
		t.Fatalf("targets: %+v", ts)
	}
	must(t, s.AddShelters(ctx(), []*riskmap.Shelter{
		{Name: "澄江市体育场避难场所", Kind: riskmap.ShelterFixed, RegionCode: "530481001", Capacity: 8000, EffectiveAreaM2: 12000, ServiceRadiusM: 1000, Geometry: orb.Point{102.90, 24.67}},
	}))
	ss, err := s.Shelters(ctx())
	must(t, err)
	if len(ss) != 1 || ss[0].Capacity != 8000 || ss[0].EffectiveAreaM2 != 12000 || ss[0].Kind != riskmap.ShelterFixed {
		t.Fatalf("shelters: %+v", ss)
	}
}

// testDocuments holds both stores to one reading of every field: a unit with every field
// set, and one with its lists empty (nil and empty alike) and its pointers nil, read back
// by every read path after every write path, are the unit written, field for field,
// whichever store keeps it. An empty group of controls reads as [] (not nil: what
// encoding/json reads from the [] both stores write); empty accident types read as nil
// (PostGIS keeps them as text[], the GeoPackage as [], which it does not decode).
func testDocuments(t *testing.T, open Opener) {
	s := open(t)
	full := NewUnit("DOC-FULL", orb.Polygon{{{102.90, 24.60}, {102.95, 24.60}, {102.95, 24.65}, {102.90, 24.65}, {102.90, 24.60}}})
	full.Name = `名称 "引号" \ <&> ` + "\t\u2028"
	full.AccidentTypes = []string{"fire", "<&>", `"q"`, "中毒和窒息"}
	full.Assessment = riskmap.Assessment{Method: riskmap.MethodLEC, L: 0.5, E: 6, C: 7}
	full.DirectMajorReason = "构成一级重大危险源"
	full.Explanation = riskmap.Explanation{Method: "LEC", Inputs: map[string]float64{"l": 0.5, "e": 6, "c": 7, "tiny": 1e-9},
		Value: 21, Rule: "20 < D ≤ 70 → blue", Text: `D = 0.5 × 6 × 7 = 21 "低" <风险> & \`}
	full.Controls = riskmap.Controls{Engineering: []string{"a", "b"}, Management: []string{""}, Training: []string{"<training>"},
		PPE: []string{"配备正压式空气呼吸器"}, Emergency: []string{"编制专项应急预案", "\t"}}
	bare := NewUnit("DOC-BARE", orb.MultiPoint{{102.91, 24.61}, {102.92, 24.62}})
	bare.MajorHazardSource, bare.AssessedAt, bare.NextReviewDue = nil, nil, nil
	bare.AccidentTypes = nil
	bare.Controls = riskmap.Controls{Engineering: nil, Management: []string{}, Training: nil, PPE: []string{}, Emergency: nil}
	bare.Explanation.Inputs = nil
	bare.DirectMajorReason, bare.MajorRiskFactors, bare.AssessedBy, bare.InfluenceRadiusM = "", "", "", 0
	// The dynamic fields: full is raised from orange by open conditions (the text of a
	// reference may be anything) and was identified on a day of its own; bare has no
	// inherent grade (a row from before them: its grade is its inherent grade), no
	// conditions and no identification date.
	full.InherentGrade = riskmap.GradeOrange
	full.Conditions = []riskmap.Condition{
		{Source: riskmap.ConditionHazard, Ref: "YH-2026-000123", Level: "major", Since: time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC), Raises: true},
		{Source: riskmap.ConditionHazard, Ref: `YH "引号" <&> \`, Level: "general", Since: time.Date(2026, 6, 2, 0, 0, 0, 0, time.UTC)},
	}
	full.OpenHazards = 3
	identified := time.Date(2021, 11, 30, 0, 0, 0, 0, time.UTC)
	full.IdentifiedAt = &identified
	emptied := NewUnit("DOC-EMPTIED", orb.LineString{{102.9, 24.6}, {102.91, 24.61}})
	emptied.InherentGrade, emptied.Conditions, emptied.OpenHazards = riskmap.GradeYellow, full.Conditions, 1
	emptied.IdentifiedAt = &identified

	// want is u as every store reads it back.
	want := func(u *riskmap.Unit) *riskmap.Unit {
		w := *u
		if len(w.AccidentTypes) == 0 {
			w.AccidentTypes = nil
		}
		for _, g := range w.Controls.Groups() {
			if *g.Items == nil {
				*g.Items = []string{}
			}
		}
		if w.InherentGrade == "" {
			w.InherentGrade = w.Grade
		}
		return &w
	}
	check := func(t *testing.T, how string, u *riskmap.Unit, got *riskmap.Unit) {
		t.Helper()
		w, g := *want(u), *got
		w.ID, w.Version, w.CreatedAt, w.UpdatedAt = g.ID, g.Version, g.CreatedAt, g.UpdatedAt
		if !orb.Equal(w.Geometry, g.Geometry) {
			t.Errorf("%s %s: geometry: want %v, got %v", how, u.Code, w.Geometry, g.Geometry)
		}
		w.Geometry, g.Geometry = nil, nil
		for _, p := range [][2]**time.Time{{&w.AssessedAt, &g.AssessedAt}, {&w.NextReviewDue, &g.NextReviewDue}, {&w.IdentifiedAt, &g.IdentifiedAt}} {
			if *p[0] != nil && *p[1] != nil && (*p[0]).Equal(**p[1]) {
				*p[0], *p[1] = nil, nil
			}
		}
		if !reflect.DeepEqual(w, g) {
			wj, _ := json.Marshal(w)
			gj, _ := json.Marshal(g)
			t.Errorf("%s %s reads back otherwise:\nwant %s\n got %s\nwant %#v\n got %#v", how, u.Code, wj, gj,
				[]any{w.AccidentTypes, w.Controls, w.Explanation.Inputs}, []any{g.AccidentTypes, g.Controls, g.Explanation.Inputs})
		}
	}

	// Written singly, in bulk, and by an update that empties every list.
	var written []*riskmap.Unit
	for _, u := range []*riskmap.Unit{full, bare} {
		c := *u
		c.Code += "-SINGLE"
		must(t, s.CreateUnit(ctx(), &c))
		written = append(written, &c)
	}
	must(t, s.CreateUnit(ctx(), emptied))
	up := *bare
	up.Code, up.ID, up.Version = emptied.Code, emptied.ID, emptied.Version
	up.Geometry = emptied.Geometry
	must(t, s.UpdateUnit(ctx(), &up))
	written = append(written, &up)
	var bulk []*riskmap.Unit
	for _, u := range []*riskmap.Unit{full, bare} {
		c := *u
		c.Code += "-BULK"
		bulk = append(bulk, &c)
	}
	if _, err := s.BulkInsertUnits(ctx(), slices.Values(bulk), nil); err != nil {
		t.Fatal(err)
	}
	written = append(written, bulk...)

	byCode := map[string]*riskmap.Unit{}
	for _, u := range written {
		byCode[u.Code] = u
	}
	seen := func(how string, got *riskmap.Unit) {
		u, ok := byCode[got.Code]
		if !ok {
			t.Fatalf("%s: a unit nobody wrote: %q", how, got.Code)
		}
		check(t, how, u, got)
	}
	found, n, err := s.FindUnits(ctx(), riskmap.UnitFilter{Q: "DOC-"})
	must(t, err)
	if n != len(written) {
		t.Fatalf("want %d units, found %d", len(written), n)
	}
	t.Run("FindUnits", func(t *testing.T) {
		for _, u := range found {
			seen("FindUnits", u)
		}
	})
	t.Run("GetUnit", func(t *testing.T) {
		for _, f := range found {
			got := mustGetUnit(t, s, f.ID)
			seen("GetUnit", got)
		}
	})
	t.Run("Units", func(t *testing.T) {
		n := 0
		for u, err := range s.Units(ctx()) {
			must(t, err)
			seen("Units", u)
			n++
		}
		if n != len(written) {
			t.Fatalf("Units read %d units, want %d", n, len(written))
		}
	})
}
