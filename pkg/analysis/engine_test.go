package analysis_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/analysis"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

// origin is a place in the demo city.
var origin = orb.Point{102.91, 24.67}

// at is the point east and north metres from origin (a local approximation; the tests
// compare with analysis.DistanceM, not with these figures).
func at(east, north float64) orb.Point {
	return orb.Point{origin[0] + east/(111320*math.Cos(origin[1]*math.Pi/180)), origin[1] + north/110574}
}

func testConfig() analysis.Config {
	return analysis.Config{
		HazardousCategories: []string{"hazardous_chemicals", "lifeline_gas"},
		DefaultRadiusM:      map[string]float64{"hazardous_chemicals": 500},
		ShelterPerCapitaM2:  1.5,
		ShelterRadiusM:      map[string]float64{riskmap.ShelterEmergency: 500, riskmap.ShelterFixed: 2000},
		NearbyShelterM:      1000,
		MaxAreaRatio:        1.2,
	}
}

func testUnit(id, version int64, category string, g riskmap.Grade, radius float64, geom orb.Geometry) *riskmap.Unit {
	return &riskmap.Unit{ID: id, Version: version, Code: fmt.Sprint("U", id), Name: fmt.Sprint("单元", id), Category: category,
		RegionCode: "530481001001", Grade: g, Status: riskmap.StatusApproved, Geometry: geom, InfluenceRadiusM: radius,
		ResponsibleDepartment: "应急管理局"}
}

func target(id int64, kind string, people int, p orb.Geometry) *riskmap.ProtectiveTarget {
	return &riskmap.ProtectiveTarget{ID: id, Name: fmt.Sprint("目标", id), Kind: kind, People: people, RegionCode: "530481001", Geometry: p}
}

func seq(us ...*riskmap.Unit) func(func(*riskmap.Unit, error) bool) {
	return func(yield func(*riskmap.Unit, error) bool) {
		for _, u := range us {
			if !yield(u, nil) {
				return
			}
		}
	}
}

// world is an engine watching an index, loaded with units and targets.
func world(t *testing.T, units []*riskmap.Unit, targets []*riskmap.ProtectiveTarget, shelters []*riskmap.Shelter) (*analysis.Engine, *spatialindex.Index) {
	t.Helper()
	ix := spatialindex.New(nil, nil)
	e := analysis.New(testConfig(), nil)
	e.Watch(ix)
	if _, err := ix.Load(context.Background(), seq(units...)); err != nil {
		t.Fatal(err)
	}
	e.Load(ix.Snapshot(), targets, shelters)
	return e, ix
}

func pairs(cs []analysis.Conflict) string {
	s := ""
	for _, c := range cs {
		s += fmt.Sprintf("%d-%d ", c.Unit.ID, c.Target.ID)
	}
	return s
}

func TestConflicts(t *testing.T) {
	units := []*riskmap.Unit{
		testUnit(1, 1, "hazardous_chemicals", riskmap.GradeOrange, 400, origin),
		testUnit(2, 1, "hazardous_chemicals", riskmap.GradeRed, 0, at(2000, 0)), // default 500 m
		testUnit(3, 1, "roads", riskmap.GradeRed, 5000, at(0, 100)),             // not hazardous
		testUnit(4, 1, "lifeline_gas", riskmap.GradeBlue, 0, at(0, 50)),         // no radius
	}
	targets := []*riskmap.ProtectiveTarget{
		target(10, riskmap.TargetSchool, 1200, at(300, 0)),         // in 1's range
		target(11, riskmap.TargetHospital, 300, at(0, 700)),        // outside 1's range
		target(12, riskmap.TargetKindergarten, 200, at(2000, 450)), // in 2's range
		target(13, riskmap.TargetCareHome, 80, at(1700, 0)),        // in 2's range (300 m)
	}
	e, ix := world(t, units, targets, nil)
	if n := e.Count(); n != 3 {
		t.Fatalf("want 3 conflicts, got %d", n)
	}
	r := e.UnitConflicts(1)
	if !r.Hazardous || r.RadiusM != 400 || r.RadiusSource != "unit" || pairs(r.Conflicts) != "1-10 " {
		t.Fatalf("unit 1: %+v", r)
	}
	if d := analysis.DistanceM(origin, at(300, 0)); math.Abs(r.Conflicts[0].DistanceM-d) > 0.01 {
		t.Errorf("distance %v, want %v", r.Conflicts[0].DistanceM, d)
	}
	r = e.UnitConflicts(2)
	if r.RadiusM != 500 || r.RadiusSource != "default" || pairs(r.Conflicts) != "2-13 2-12 " {
		t.Fatalf("unit 2: %+v", r)
	}
	if r = e.UnitConflicts(3); r.Hazardous || r.RadiusSource != "none" || len(r.Conflicts) != 0 {
		t.Fatalf("unit 3: %+v", r)
	}
	if r = e.UnitConflicts(4); !r.Hazardous || r.RadiusSource != "none" || len(r.Conflicts) != 0 {
		t.Fatalf("unit 4: %+v", r)
	}
	// The table: red first, then people, then distance.
	total, page := e.Conflicts(analysis.ConflictFilter{})
	if total != 3 || pairs(page) != "2-12 2-13 1-10 " {
		t.Fatalf("table: %d %s", total, pairs(page))
	}
	total, page = e.Conflicts(analysis.ConflictFilter{Offset: 1, Limit: 1})
	if total != 3 || pairs(page) != "2-13 " {
		t.Fatalf("page: %d %s", total, pairs(page))
	}
	total, page = e.Conflicts(analysis.ConflictFilter{Grades: []riskmap.Grade{riskmap.GradeOrange}})
	if total != 1 || pairs(page) != "1-10 " {
		t.Fatalf("orange: %d %s", total, pairs(page))
	}
	total, _ = e.Conflicts(analysis.ConflictFilter{Kinds: []string{riskmap.TargetCareHome, riskmap.TargetSchool}, Limit: 1})
	if total != 2 {
		t.Fatalf("kinds: %d", total)
	}
	bb := orb.Bound{Min: at(-100, -100), Max: at(100, 100)}
	if total, _ = e.Conflicts(analysis.ConflictFilter{BBox: &bb}); total != 1 {
		t.Fatalf("bbox: %d", total)
	}
	dept := &riskmap.User{Name: "d", Role: riskmap.RoleDepartment, Categories: []string{"lifeline_gas"}, Regions: []string{"5304"}}
	if total, _ = e.Conflicts(analysis.ConflictFilter{Scope: dept}); total != 0 {
		t.Fatalf("scope: %d", total)
	}
	if total, _ = e.Conflicts(analysis.ConflictFilter{RegionPrefix: "530482"}); total != 0 {
		t.Fatalf("region: %d", total)
	}
	if tc := e.TargetConflicts(12); pairs(tc) != "2-12 " {
		t.Fatalf("target 12: %s", pairs(tc))
	}

	// Moving unit 1 away clears its conflict; moving it back brings it back.
	if _, err := ix.Apply(testUnit(1, 2, "hazardous_chemicals", riskmap.GradeOrange, 400, at(-1000, 0))); err != nil {
		t.Fatal(err)
	}
	if r := e.UnitConflicts(1); len(r.Conflicts) != 0 || len(e.TargetConflicts(10)) != 0 || e.Count() != 2 {
		t.Fatalf("after the move: %+v", r)
	}
	// A larger radius reaches the school again (1.3 km away).
	if _, err := ix.Apply(testUnit(1, 3, "hazardous_chemicals", riskmap.GradeRed, 1400, at(-1000, 0))); err != nil {
		t.Fatal(err)
	}
	if tc := e.TargetConflicts(10); pairs(tc) != "1-10 " {
		t.Fatalf("after the radius grew: %s", pairs(tc))
	}
	// Retiring takes its conflicts out.
	ret := testUnit(1, 4, "hazardous_chemicals", riskmap.GradeRed, 1400, at(-1000, 0))
	ret.Status = riskmap.StatusRetired
	if _, err := ix.Apply(ret); err != nil {
		t.Fatal(err)
	}
	if e.Count() != 2 || len(e.TargetConflicts(10)) != 0 {
		t.Fatalf("after retiring: %d", e.Count())
	}

	// A new target in range of unit 2, then moved away, then deleted.
	nt := target(14, riskmap.TargetSchool, 50, at(2100, 0))
	if got := e.ApplyTarget(nil, nt); fmt.Sprint(got) != "[2]" {
		t.Fatalf("touched: %v", got)
	}
	if r := e.UnitConflicts(2); pairs(r.Conflicts) != "2-14 2-13 2-12 " {
		t.Fatalf("after the new target: %s", pairs(r.Conflicts))
	}
	moved := target(14, riskmap.TargetSchool, 50, at(5000, 0))
	if got := e.ApplyTarget(nt, moved); fmt.Sprint(got) != "[2]" {
		t.Fatalf("touched: %v", got)
	}
	if got := e.ApplyTarget(moved, nil); len(got) != 0 {
		t.Fatalf("touched: %v", got)
	}
	if r := e.UnitConflicts(2); pairs(r.Conflicts) != "2-13 2-12 " || e.Count() != 2 {
		t.Fatalf("after the target left: %s", pairs(r.Conflicts))
	}
	// A renamed target changes the conditions of the unit in whose range it lies.
	renamed := *targets[3]
	renamed.Name = "新名字"
	if got := e.ApplyTarget(targets[3], &renamed); fmt.Sprint(got) != "[2]" {
		t.Fatalf("touched: %v", got)
	}
	conds := e.ConditionsOf(2)
	if len(conds) != 2 || conds[0].Ref != "新名字" || conds[0].Level != riskmap.TargetCareHome || conds[0].Source != riskmap.ConditionConflict {
		t.Fatalf("conditions: %+v", conds)
	}
}

func TestConditionsFor(t *testing.T) {
	targets := []*riskmap.ProtectiveTarget{
		target(10, riskmap.TargetSchool, 1200, at(300, 0)),
		target(11, riskmap.TargetHospital, 300, at(0, 200)),
	}
	e, _ := world(t, nil, targets, nil)
	u := testUnit(0, 0, "hazardous_chemicals", riskmap.GradeOrange, 400, origin)
	got := e.ConditionsFor(u)
	if len(got) != 2 || got[0].Ref != "目标11" || got[1].Ref != "目标10" {
		t.Fatalf("conditions: %+v", got)
	}
	u.InfluenceRadiusM = 250
	if got := e.ConditionsFor(u); len(got) != 1 || got[0].Level != riskmap.TargetHospital {
		t.Fatalf("conditions: %+v", got)
	}
	u.Category = "roads"
	if got := e.ConditionsFor(u); got != nil {
		t.Fatalf("not hazardous: %+v", got)
	}
	// A polygon unit measures from its edge: a target 100 m outside a 400 m square is
	// within 150 m.
	sq := orb.Polygon{{at(-200, -200), at(200, -200), at(200, 200), at(-200, 200), at(-200, -200)}}
	poly := testUnit(0, 0, "hazardous_chemicals", riskmap.GradeOrange, 150, sq)
	if got := e.ConditionsFor(poly); len(got) != 2 {
		t.Fatalf("polygon: %+v", got)
	}
}

// TestPending checks that changes heard while the engine loads are not lost.
func TestPending(t *testing.T) {
	ix := spatialindex.New(nil, nil)
	e := analysis.New(testConfig(), nil)
	e.Watch(ix)
	if _, err := ix.Load(context.Background(), seq(testUnit(1, 1, "hazardous_chemicals", riskmap.GradeRed, 400, origin))); err != nil {
		t.Fatal(err)
	}
	snap := ix.Snapshot()
	// After the snapshot, before Load: unit 2 arrives, a target moves in.
	if _, err := ix.Apply(testUnit(2, 1, "hazardous_chemicals", riskmap.GradeRed, 400, at(3000, 0))); err != nil {
		t.Fatal(err)
	}
	tg := target(10, riskmap.TargetSchool, 10, at(3100, 0))
	e.TargetChanged(nil, tg)
	e.Load(snap, nil, nil)
	if total, page := e.Conflicts(analysis.ConflictFilter{}); total != 1 || pairs(page) != "2-10 " {
		t.Fatalf("after load: %d %s", total, pairs(page))
	}
	if !e.Loaded() {
		t.Fatal("not loaded")
	}
}

func TestWantedConditions(t *testing.T) {
	units := []*riskmap.Unit{
		testUnit(1, 1, "hazardous_chemicals", riskmap.GradeOrange, 400, origin),
		testUnit(2, 1, "hazardous_chemicals", riskmap.GradeOrange, 400, at(5000, 0)),
		testUnit(3, 1, "roads", riskmap.GradeOrange, 400, at(-5000, 0)),
	}
	targets := []*riskmap.ProtectiveTarget{target(10, riskmap.TargetSchool, 1200, at(300, 0)), target(11, riskmap.TargetSchool, 1200, at(-5100, 0))}
	e, _ := world(t, units, targets, nil)
	want := e.WantedConditions()
	if len(want) != 1 || len(want[1]) != 1 || want[1][0] != riskmap.ConflictCondition(riskmap.TargetSchool, "目标10", 300) {
		t.Fatalf("wanted: %+v", want)
	}
}

func TestNearest(t *testing.T) {
	square := orb.Polygon{{at(900, -100), at(1100, -100), at(1100, 100), at(900, 100), at(900, -100)}}
	shelters := []*riskmap.Shelter{
		{ID: 1, Name: "广场", Kind: riskmap.ShelterEmergency, Geometry: at(0, 300)},
		{ID: 2, Name: "公园", Kind: riskmap.ShelterFixed, Geometry: square},
		{ID: 3, Name: "远处", Kind: riskmap.ShelterEmergency, Geometry: at(0, -5000)},
	}
	e, _ := world(t, nil, nil, shelters)
	n, nearby := e.Nearest(origin, 0)
	if n == nil || n.Shelter.ID != 1 || n.Direction != "北" || math.Abs(n.DistanceM-300) > 3 {
		t.Fatalf("nearest: %+v", n)
	}
	if len(nearby) != 2 || nearby[1].Shelter.ID != 2 || math.Abs(nearby[1].DistanceM-900) > 10 || nearby[1].Direction != "东" {
		t.Fatalf("nearby: %+v", nearby)
	}
	// Inside the park: distance 0, no direction.
	n, _ = e.Nearest(at(1000, 0), 0)
	if n.Shelter.ID != 2 || n.DistanceM != 0 || n.Direction != "" {
		t.Fatalf("inside: %+v", n)
	}
	// Far away: the nearest, none nearby.
	n, nearby = e.Nearest(at(0, -20000), 0)
	if n.Shelter.ID != 3 || len(nearby) != 0 {
		t.Fatalf("far: %+v %v", n, nearby)
	}
	// A shelter deleted is gone at once.
	e.ShelterChanged(shelters[0], nil)
	if n, _ = e.Nearest(origin, 0); n.Shelter.ID != 2 {
		t.Fatalf("after delete: %+v", n)
	}
}

func TestCoverage(t *testing.T) {
	sq := func(x0, y0, x1, y1 float64) orb.MultiPolygon {
		return orb.MultiPolygon{{{at(x0, y0), at(x1, y0), at(x1, y1), at(x0, y1), at(x0, y0)}}}
	}
	regions := []*riskmap.Region{
		{Code: "530481", Name: "区", Level: riskmap.LevelDistrict, Population: 30000, Geometry: sq(0, 0, 4000, 2000)},
		{Code: "530481001", Name: "西街道", Level: riskmap.LevelStreet, Population: 20000, Geometry: sq(0, 0, 2000, 2000)},
		{Code: "530481002", Name: "东街道", Level: riskmap.LevelStreet, Population: 10000, Geometry: sq(2000, 0, 4000, 2000)},
		// The west street's people all live in its south half.
		{Code: "530481001001", Name: "南社区", Level: riskmap.LevelCommunity, Population: 20000, Geometry: sq(0, 0, 2000, 1000)},
		{Code: "530481001002", Name: "北社区", Level: riskmap.LevelCommunity, Population: 0, Geometry: sq(0, 1000, 2000, 2000)},
	}
	shelters := []*riskmap.Shelter{
		// Covers the west street's south half (radius 1 km from the middle of its south edge … roughly).
		{ID: 1, Name: "南广场", Kind: riskmap.ShelterEmergency, EffectiveAreaM2: 40000, Capacity: 20000, ServiceRadiusM: 1500, Geometry: at(1000, 0)},
		{ID: 2, Name: "东公园", Kind: riskmap.ShelterFixed, EffectiveAreaM2: 6000, Capacity: 3000, ServiceRadiusM: 100, Geometry: at(3000, 1000)},
	}
	ix := spatialindex.New(nil, nil)
	e := analysis.New(testConfig(), regions)
	e.Load(ix.Snapshot(), nil, shelters)
	streets := e.Coverage(riskmap.LevelStreet)
	if len(streets) != 2 {
		t.Fatalf("streets: %+v", streets)
	}
	w, east := streets[0], streets[1]
	if w.Code != "530481001" || w.Shelters != 1 || w.EffectiveAreaM2 != 40000 || w.PerCapitaM2 != 2 || !w.Meets || w.Class != analysis.CoverageOK {
		t.Fatalf("west: %+v", w)
	}
	// The south half is covered (within 1.5 km of the square's south middle: most of it),
	// and all the people live there.
	if w.CoveredPopulationShare < 0.95 || w.CoveredAreaShare > 0.9 || w.CoveredAreaShare < 0.5 {
		t.Fatalf("west shares: pop %v area %v", w.CoveredPopulationShare, w.CoveredAreaShare)
	}
	if east.PerCapitaM2 != 0.6 || east.Meets || east.Class != analysis.CoverageSevere || east.ShortfallM2 != 9000 {
		t.Fatalf("east: %+v", east)
	}
	if want := "常住人口 1 万人，有效避难面积 6000 平方米，人均 0.6 平方米，低于 1.5 平方米的要求，缺口 9000 平方米；"; !strings.HasPrefix(east.Explanation, want) || !strings.HasSuffix(east.Explanation, "的面积在避难场所服务半径内。") {
		t.Fatalf("explanation: %s", east.Explanation)
	}
	d := e.Coverage(riskmap.LevelDistrict)
	if len(d) != 1 || d[0].Shelters != 2 || d[0].Capacity != 23000 {
		t.Fatalf("district: %+v", d)
	}
	// A new shelter shows in the next coverage.
	e.ShelterChanged(nil, &riskmap.Shelter{ID: 3, Name: "新", Kind: riskmap.ShelterEmergency, EffectiveAreaM2: 20000, Geometry: at(3500, 500)})
	if east := e.Coverage(riskmap.LevelStreet)[1]; east.Shelters != 2 || !east.Meets || east.CoveredAreaShare < 0.15 {
		t.Fatalf("east after: %+v", east)
	}
}

// TestConcurrent has unit writes, target and shelter writes and every read run at once (for
// the race detector), and checks the engine ends where the writes left it.
func TestConcurrent(t *testing.T) {
	var units []*riskmap.Unit
	for i := range 200 {
		units = append(units, testUnit(int64(i+1), 1, "hazardous_chemicals", riskmap.GradeOrange, 300, at(float64(i%20)*100, float64(i/20)*100)))
	}
	var targets []*riskmap.ProtectiveTarget
	for i := range 50 {
		targets = append(targets, target(int64(i+1), riskmap.TargetSchool, 100+i, at(float64(i%10)*200+50, float64(i/10)*200+50)))
	}
	shelters := []*riskmap.Shelter{{ID: 1, Name: "广场", Kind: riskmap.ShelterEmergency, Geometry: at(500, 500)}}
	e, ix := world(t, units, targets, shelters)
	done := make(chan struct{})
	var readers sync.WaitGroup
	for range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				e.Conflicts(analysis.ConflictFilter{Limit: 10, Grades: []riskmap.Grade{riskmap.GradeRed}})
				e.UnitConflicts(7)
				e.TargetConflicts(3)
				e.Nearest(at(100, 100), 0)
				e.ConditionsFor(units[5])
				e.Coverage(riskmap.LevelStreet)
			}
		}()
	}
	var writers sync.WaitGroup
	for w := range 2 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := range 100 {
				u := units[(w*100+i)%len(units)]
				moved := testUnit(u.ID, int64(2+i), u.Category, riskmap.GradeRed, 300, at(5000, 5000))
				if _, err := ix.Apply(moved); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	writers.Add(1)
	go func() {
		defer writers.Done()
		for i := range 50 {
			e.TargetChanged(nil, target(int64(1000+i), riskmap.TargetHospital, 10, at(5000, 5000)))
			e.ShelterChanged(nil, &riskmap.Shelter{ID: int64(10 + i), Name: "新", Kind: riskmap.ShelterEmergency, Geometry: at(5000, 5000)})
		}
	}()
	writers.Wait()
	close(done)
	readers.Wait()
	// Every unit now sits at (5000, 5000) with the 50 hospitals there.
	if total, _ := e.Conflicts(analysis.ConflictFilter{}); total != 200*50 {
		t.Fatalf("conflicts: %d", total)
	}
	if n, _ := e.Nearest(at(5000, 5000), 0); n == nil || n.DistanceM != 0 {
		t.Fatalf("nearest: %+v", n)
	}
}
