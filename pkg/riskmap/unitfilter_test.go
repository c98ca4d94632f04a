package riskmap

import (
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

func TestUnitMatcher(t *testing.T) {
	line := orb.LineString{{102.80, 24.50}, {103.00, 24.50}}
	u := &UnitFacts{Code: "D-004", Name: "燃气干管 O'Brien", Category: "lifeline_gas", RegionCode: "530481001002",
		Department: "住建局", Grade: GradeOrange, Status: StatusApproved, Geometry: line, Bound: line.Bound()}
	dept := &User{Role: RoleDepartment, Categories: []string{"lifeline_gas"}, Regions: []string{"530481001"}}
	cases := []struct {
		name string
		f    UnitFilter
		want bool
	}{
		{"All", UnitFilter{}, true},
		{"Category", UnitFilter{Categories: []string{"roads", "lifeline_gas"}}, true},
		{"ErrCategory", UnitFilter{Categories: []string{"roads"}}, false},
		{"ErrCategoryNamedNone", UnitFilter{Categories: []string{}}, false},
		{"Grade", UnitFilter{Grades: []Grade{GradeOrange}}, true},
		{"ErrGrade", UnitFilter{Grades: []Grade{GradeRed, "purple"}}, false},
		{"ErrGradeNamedNone", UnitFilter{Grades: []Grade{}}, false},
		{"Region", UnitFilter{RegionPrefix: "530481001"}, true},
		{"ErrRegion", UnitFilter{RegionPrefix: "530481002"}, false},
		{"Department", UnitFilter{Departments: []string{"住建局"}}, true},
		{"ErrDepartment", UnitFilter{Departments: []string{"住建"}}, false},
		{"QIgnoresCase", UnitFilter{Q: "o'brien"}, true},
		{"QCode", UnitFilter{Q: "d-00"}, true},
		{"ErrQIsLiteral", UnitFilter{Q: "D_004"}, false},
		{"Kind", UnitFilter{Kind: KindLine}, true},
		{"ErrKind", UnitFilter{Kind: KindPoint}, false},
		{"ErrKindUnknown", UnitFilter{Kind: "circle"}, false},
		{"Status", UnitFilter{Statuses: []Status{StatusApproved}}, true},
		{"ErrStatus", UnitFilter{Statuses: []Status{StatusDraft}}, false},
		{"Scope", UnitFilter{Scope: dept}, true},
		{"ErrScopeRegion", UnitFilter{Scope: &User{Role: RoleDepartment, Categories: []string{"lifeline_gas"}, Regions: []string{"530481002"}}}, false},
		{"ErrScopeCategory", UnitFilter{Scope: &User{Role: RoleDepartment, Categories: []string{"roads"}, Regions: []string{"530481"}}}, false},
		{"ScopeOfAdminIsEverything", UnitFilter{Scope: &User{Role: RoleAdmin}}, true},
		{"BBoxCrossesLineBetweenVertices", UnitFilter{BBox: &orb.Bound{Min: orb.Point{102.89, 24.49}, Max: orb.Point{102.90, 24.51}}}, true},
		{"ErrBBoxBesideLine", UnitFilter{BBox: &orb.Bound{Min: orb.Point{102.89, 24.52}, Max: orb.Point{102.90, 24.53}}}, false},
		{"ErrBBoxFar", UnitFilter{BBox: &orb.Bound{Min: orb.Point{100, 20}, Max: orb.Point{100.1, 20.1}}}, false},
		{"Combined", UnitFilter{Scope: dept, Categories: []string{"lifeline_gas"}, Grades: []Grade{GradeOrange}, Kind: KindLine, Q: "燃气"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.f.Matcher().Match(u); got != tc.want {
				t.Fatalf("Match = %v, want %v", got, tc.want)
			}
		})
	}
	retired := *u
	retired.Status = StatusRetired
	if (&UnitFilter{}).Matcher().Match(&retired) || !(&UnitFilter{IncludeRetired: true}).Matcher().Match(&retired) {
		t.Fatal("a retired unit passes only with IncludeRetired")
	}
	if !(&UnitFilter{Limit: 5, AfterID: 9, Scope: &User{Role: RoleExpert}}).Matcher().All() || (&UnitFilter{Categories: []string{}}).Matcher().All() {
		t.Fatal("All must tell a filter of paging alone from one that tests units")
	}
}

func TestUnitMatcherCounted(t *testing.T) {
	dept := &User{Role: RoleDepartment, Categories: []string{"roads"}, Regions: []string{"530481001"}}
	m := (&UnitFilter{Scope: dept, Categories: []string{"roads", "hazchem"}, RegionPrefix: "5304810"}).Matcher()
	if !m.MatchCounted("roads", "530481001002") || m.MatchCounted("hazchem", "530481001002") || m.MatchCounted("roads", "530481002001") {
		t.Fatal("counts pass only inside the scope, the categories and the region")
	}
}

// FuzzContainsLower: the filter's q test is strings.Contains over lower-cased text.
func FuzzContainsLower(f *testing.F) {
	for _, s := range [][2]string{{"WL-001", "wl-0"}, {"燃气干管 O'Brien", "o'b"}, {"ABC", "İ"}, {"Kelvin K", "k"}, {"", "a"}, {"a\xffB", "b"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, s, q string) {
		if q == "" {
			return
		}
		lq := strings.ToLower(q)
		if got, want := containsLower(s, lq), strings.Contains(strings.ToLower(s), lq); got != want {
			t.Fatalf("containsLower(%q, %q) = %v, want %v", s, lq, got, want)
		}
	})
}
