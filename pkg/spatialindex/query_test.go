package spatialindex

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// findSnapshot holds 200 000 points of four categories, seven streets and three departments.
func findSnapshot() *Snapshot {
	ix := New(nil, nil)
	r := rand.New(rand.NewPCG(3, 4))
	cats := []string{"roads", "crowded_places", "lifeline_gas", "hazchem"}
	depts := []string{"应急管理局", "住建局", "交通局"}
	ix.Load(context.Background(), func(yield func(*riskmap.Unit, error) bool) {
		for i := int64(1); i <= 200000; i++ {
			u := &riskmap.Unit{ID: i, Version: 1, Code: fmt.Sprint("U-", i), Name: fmt.Sprint("澄江单元", i%1000),
				Category: cats[i%4], RegionCode: fmt.Sprintf("530481%03d%03d", i%7, i%5), ResponsibleDepartment: depts[i%3],
				Grade: riskmap.Grades[i%4], Status: riskmap.StatusApproved, Geometry: orb.Point{102.8 + r.Float64()*0.3, 24.5 + r.Float64()*0.4}}
			if !yield(u, nil) {
				return
			}
		}
	})
	return ix.Snapshot()
}

// BenchmarkFind is the list path of the API (GET /api/v1/units, the CSV export and OGC
// items) over a large register.
func BenchmarkFind(b *testing.B) {
	s := findSnapshot()
	box := &orb.Bound{Min: orb.Point{102.9, 24.6}, Max: orb.Point{102.95, 24.65}}
	dept := &riskmap.User{Role: riskmap.RoleDepartment, Categories: []string{"roads", "hazchem"}, Regions: []string{"530481001", "530481003"}}
	cases := []struct {
		name string
		f    riskmap.UnitFilter
	}{
		{"All", riskmap.UnitFilter{Limit: 100}},
		{"CategoryGrade", riskmap.UnitFilter{Limit: 100, Categories: []string{"roads"}, Grades: []riskmap.Grade{riskmap.GradeRed, riskmap.GradeOrange}}},
		{"Q", riskmap.UnitFilter{Limit: 100, Q: "单元99"}},
		{"DeptKindRegion", riskmap.UnitFilter{Limit: 100, Departments: []string{"住建局"}, Kind: riskmap.KindPoint, RegionPrefix: "530481002"}},
		{"ScopeBBox", riskmap.UnitFilter{Limit: 100, Scope: dept, BBox: box}},
		{"BBoxGrade", riskmap.UnitFilter{Limit: 100, BBox: box, Grades: []riskmap.Grade{riskmap.GradeRed}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if pg := s.Find(&c.f); pg.Matched == 0 {
					b.Fatal("nothing matched")
				}
			}
		})
	}
}

// TestFind: every page Find gives is the next run of what the filter selects, in id order,
// with or without a bbox, for pages small and large (a box's matches are gathered in
// batches and cut back to the page: findIn), over points, lines and polygons, some across
// the box's edge.
func TestFind(t *testing.T) {
	ix := New(nil, nil)
	r := rand.New(rand.NewPCG(5, 6))
	var us []*riskmap.Unit
	for i := int64(1); i <= 3000; i++ {
		p := orb.Point{102.8 + r.Float64()*0.3, 24.5 + r.Float64()*0.4}
		var g orb.Geometry = p
		switch i % 3 {
		case 1: // a line of 0.05°: many cross the box's edge, some only its box
			g = orb.LineString{p, {p[0] + 0.05, p[1] + 0.05*(r.Float64()-0.5)}, {p[0] + 0.05, p[1] + 0.05}}
		case 2:
			g = orb.Polygon{{p, {p[0] + 0.02, p[1]}, {p[0] + 0.02, p[1] + 0.02}, p}}
		}
		u := unit(i, 1, riskmap.Grades[i%4], g)
		u.Category = []string{"roads", "hazchem"}[i%2]
		us = append(us, u)
	}
	if _, err := ix.Load(context.Background(), seq(us...)); err != nil {
		t.Fatal(err)
	}
	s := ix.Snapshot()
	box := &orb.Bound{Min: orb.Point{102.85, 24.55}, Max: orb.Point{103.0, 24.8}}
	for _, tc := range []struct {
		name string
		f    riskmap.UnitFilter
	}{
		{"All", riskmap.UnitFilter{}},
		{"Grade", riskmap.UnitFilter{Grades: []riskmap.Grade{riskmap.GradeRed}}},
		{"BBox", riskmap.UnitFilter{BBox: box}},
		{"BBoxCategory", riskmap.UnitFilter{BBox: box, Categories: []string{"hazchem"}}},
		{"NamedNone", riskmap.UnitFilter{Categories: []string{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []int64
			m := tc.f.Matcher()
			s.Ascend(0, func(f *Feature) bool {
				if m.Match(&f.UnitFacts) {
					want = append(want, f.ID)
				}
				return true
			})
			for _, limit := range []int{7, 300, 0, math.MaxInt} {
				f := tc.f
				f.Limit = limit
				var got []int64
				for {
					pg := s.Find(&f)
					if pg.Matched != len(want) {
						t.Fatalf("matched %d, want %d", pg.Matched, len(want))
					}
					for _, ft := range pg.Features {
						got = append(got, ft.ID)
					}
					if !pg.More {
						break
					}
					f.AfterID = pg.Features[len(pg.Features)-1].ID
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("limit %d: pages gave %v, want %v", limit, got, want)
				}
			}
		})
	}
}

// BenchmarkFindCold is a bbox list over 1M points, a box at another place each time, so
// that its units are rarely in the processor's caches: what the API's bbox queries meet.
func BenchmarkFindCold(b *testing.B) {
	ix := New(nil, nil)
	r := rand.New(rand.NewPCG(7, 8))
	cats := []string{"roads", "crowded_places", "lifeline_gas", "hazchem"}
	ix.Load(context.Background(), func(yield func(*riskmap.Unit, error) bool) {
		for i := int64(1); i <= 1_000_000; i++ {
			u := &riskmap.Unit{ID: i, Version: 1, Code: fmt.Sprint("U-", i), Name: fmt.Sprint("澄江单元", i),
				Category: cats[i%4], RegionCode: "530481001001", Grade: riskmap.Grades[i%4], Status: riskmap.StatusApproved,
				Geometry: orb.Point{102.8 + r.Float64()*0.3, 24.5 + r.Float64()*0.4}}
			if !yield(u, nil) {
				return
			}
		}
	})
	s := ix.Snapshot()
	for _, side := range []float64{0.005, 0.02, 0.05} {
		boxes := make([]orb.Bound, 4096)
		for i := range boxes {
			x, y := 102.8+r.Float64()*(0.3-side), 24.5+r.Float64()*(0.4-side)
			boxes[i] = orb.Bound{Min: orb.Point{x, y}, Max: orb.Point{x + side, y + side}}
		}
		b.Run(fmt.Sprintf("1M/%.3f", side), func(b *testing.B) {
			b.ReportAllocs()
			i, matched := 0, 0
			for b.Loop() {
				f := riskmap.UnitFilter{Limit: 1000, BBox: &boxes[i%len(boxes)]}
				matched += s.Find(&f).Matched
				i++
			}
			b.ReportMetric(float64(matched)/float64(i), "matched")
		})
	}
}
