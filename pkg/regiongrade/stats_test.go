package regiongrade

import (
	"fmt"
	"testing"

	"riskmap/pkg/riskmap"
)

// tally is counts by region code and category.
type tally map[[2]string][4]int

func (t tally) EachCount(fn func(regionCode, category string, n [4]int)) {
	for k, n := range t {
		fn(k[0], k[1], n)
	}
}

func TestStatistics(t *testing.T) {
	regions := []Region{
		{Region: &riskmap.Region{Code: "530481", Level: riskmap.LevelDistrict}},
		{Region: &riskmap.Region{Code: "530481001", ParentCode: "530481", Level: riskmap.LevelStreet}},
		{Region: &riskmap.Region{Code: "530481002", ParentCode: "530481", Level: riskmap.LevelStreet}},
	}
	counts := tally{
		{"530481001001", "roads"}:          {1, 0, 2, 0},
		{"530481001002001", "roads"}:       {0, 1, 0, 0}, // a grid's code
		{"530481001001", "hazchem"}:        {0, 0, 0, 4},
		{"530481002001", "roads"}:          {2, 0, 0, 0},
		{"530482001001", "crowded_places"}: {0, 0, 1, 0}, // outside the district
	}
	rows := func(st Stats) string {
		s := fmt.Sprint(st.Total.Counts.Array(), st.Total.Total)
		for _, c := range st.ByCategory {
			s += fmt.Sprint(" ", c.Category, c.Counts.Array())
		}
		for _, r := range st.ByRegion {
			s += fmt.Sprint(" ", r.Region.Code, r.Counts.Array())
		}
		return s
	}
	dept := &riskmap.User{Role: riskmap.RoleDepartment, Categories: []string{"roads"}, Regions: []string{"530481001"}}
	cases := []struct {
		name string
		f    riskmap.UnitFilter
		want string
	}{
		{"All", riskmap.UnitFilter{},
			"[3 1 3 4] 11 crowded_places[0 0 1 0] hazchem[0 0 0 4] roads[3 1 2 0] 530481[3 1 2 4]"},
		{"RegionChildren", riskmap.UnitFilter{RegionPrefix: "530481"},
			"[3 1 2 4] 10 hazchem[0 0 0 4] roads[3 1 2 0] 530481001[1 1 2 4] 530481002[2 0 0 0]"},
		{"Category", riskmap.UnitFilter{RegionPrefix: "530481", Categories: []string{"roads"}},
			"[3 1 2 0] 6 roads[3 1 2 0] 530481001[1 1 2 0] 530481002[2 0 0 0]"},
		{"ErrCategoryNamedNone", riskmap.UnitFilter{RegionPrefix: "530481", Categories: []string{}},
			"[0 0 0 0] 0 530481001[0 0 0 0] 530481002[0 0 0 0]"},
		{"Scope", riskmap.UnitFilter{RegionPrefix: "530481", Scope: dept},
			"[1 1 2 0] 4 roads[1 1 2 0] 530481001[1 1 2 0] 530481002[0 0 0 0]"},
		{"StreetHasNoChildren", riskmap.UnitFilter{RegionPrefix: "530481002"},
			"[2 0 0 0] 2 roads[2 0 0 0]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := rows(Statistics(counts, regions, &tc.f)); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
