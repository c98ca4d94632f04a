package register_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/config"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/hazards"
	"riskmap/pkg/pgtest"
	"riskmap/pkg/postgis"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

// The protective target of these tests: a school at schoolAt.
var (
	schoolAt = orb.Point{102.915, 24.675}
	nearby   = orb.Point{102.916, 24.675} // about 100 m east of the school
	faraway  = orb.Point{102.95, 24.70}   // about 4.5 km away
)

// metres is a plain local distance, good enough for a test's target.
func metres(a, b orb.Point) float64 {
	dx := (a[0] - b[0]) * 111320 * math.Cos(a[1]*math.Pi/180)
	dy := (a[1] - b[1]) * 110540
	return math.Hypot(dx, dy)
}

// schoolConflicts is a register.Service.Conflicts: the school is a conflict of a
// hazardous-chemicals unit whose point lies within its influence radius of it.
func schoolConflicts(u *riskmap.Unit) []riskmap.Condition {
	p, ok := u.Geometry.(orb.Point)
	if !ok || u.Category != "hazardous_chemicals" {
		return nil
	}
	if d := metres(p, schoolAt); d <= u.InfluenceRadiusM {
		return []riskmap.Condition{riskmap.ConflictCondition(riskmap.TargetSchool, "澄江一中", d)}
	}
	return nil
}

// storeKinds opens a fresh, migrated store of each kind: the GeoPackage, and PostGIS when
// it is there (required with RISKMAP_REQUIRE_PG=1).
var storeKinds = []struct {
	name string
	open func(t *testing.T) riskmap.Store
}{
	{"GeoPackage", func(t *testing.T) riskmap.Store {
		s, err := gpkg.Open(context.Background(), filepath.Join(t.TempDir(), "register.gpkg"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}},
	{"PostGIS", func(t *testing.T) riskmap.Store {
		s, err := postgis.Open(context.Background(), pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}},
}

// pointUnit is a hazardous-chemicals unit at p with a 300 m influence range: LS 3 × 4 =
// 12, 较大 (orange).
func pointUnit(code string, p orb.Point) *riskmap.Unit {
	return complete(&riskmap.Unit{Code: code, Name: "加油站 " + code, Category: "hazardous_chemicals", RegionCode: "530481001001",
		Assessment: riskmap.Assessment{Method: riskmap.MethodLS, Likelihood: 3, Severity: 4}, InfluenceRadiusM: 300, Geometry: p})
}

// TestConflictRaisesGrade: an orange unit with a school inside its influence range is red
// while it is there, with the school named; moved away it is orange again; a yellow unit
// is not raised by the default rules. Hidden dangers' conditions stay through it all.
func TestConflictRaisesGrade(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			store := kind.open(t)
			cfg := config.Default()
			svc := register.New(store, cfg.Grader, cfg.Catalog)
			svc.Conflicts = schoolConflicts
			ix := spatialindex.New(nil, nil)
			svc.Index = ix
			ctx := context.Background()
			expert := &riskmap.User{Name: "alice", Role: riskmap.RoleExpert}
			get := func(id int64) *riskmap.Unit {
				t.Helper()
				u, err := store.GetUnit(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if f, ok := ix.Snapshot().Get(id); !ok || f.Version != u.Version || f.Grade != u.Grade {
					t.Fatalf("the index must hold v%d %s, has %+v", u.Version, u.Grade, f)
				}
				return u
			}

			// Created next to the school: red, the school named.
			u := pointUnit("JYZ-1", nearby)
			u.Conditions = []riskmap.Condition{{Source: riskmap.ConditionConflict, Ref: "伪造", Level: riskmap.TargetHospital}} // ignored
			if err := svc.CreateBy(ctx, expert, u, nil); err != nil {
				t.Fatal(err)
			}
			got := get(u.ID)
			if got.Grade != riskmap.GradeRed || got.InherentGrade != riskmap.GradeOrange || len(got.Conditions) != 1 || !got.Conditions[0].Raises {
				t.Fatalf("next to a school the orange unit is red: %s/%s %+v", got.Grade, got.InherentGrade, got.Conditions)
			}
			if text := got.DynamicText(); text != "影响范围内有学校「澄江一中」（距离 101 米），等级由较大上调为重大" {
				t.Errorf("explanation: %s", text)
			}
			since := got.Conditions[0].Since

			// A hidden danger opens (a general one: counted, raises nothing).
			hs := store.(hazards.Store)
			hz := &hazards.Hazard{UnitID: u.ID, Level: hazards.LevelGeneral, Description: "静电接地线松动", FoundAt: day("2026-11-01"),
				Source: hazards.SourceInspection, Deadline: day("2026-12-31"), Status: hazards.StatusRegistered}
			after, err := hs.CreateHazard(ctx, hz, &hazards.Event{Kind: hazards.EventCreated, By: "甲"}, svc.Grader.Dynamics, nil)
			if err != nil {
				t.Fatal(err)
			}
			if after == nil || after.Grade != riskmap.GradeRed || len(after.Conditions) != 2 {
				t.Fatalf("the hidden danger's write keeps the conflict: %+v", after)
			}
			if _, err := svc.ApplyStored(after); err != nil {
				t.Fatal(err)
			}

			// An edit that does not move it keeps the condition and its Since.
			edit := *get(u.ID)
			edit.Name, edit.Conditions = "加油站（改）", nil
			if _, err := svc.UpdateBy(ctx, expert, &edit, nil); err != nil {
				t.Fatal(err)
			}
			got = get(u.ID)
			if got.Grade != riskmap.GradeRed || len(got.Conditions) != 2 || got.OpenHazards != 1 {
				t.Fatalf("an edit keeps both conditions: %s %+v", got.Grade, got.Conditions)
			}
			for _, c := range got.Conditions {
				if c.Source == riskmap.ConditionConflict && !c.Since.Equal(since) {
					t.Errorf("the conflict keeps its Since: %v, was %v", c.Since, since)
				}
			}

			// Moved away: orange again; the hidden danger stays.
			edit = *got
			edit.Geometry = faraway
			if _, err := svc.UpdateBy(ctx, expert, &edit, nil); err != nil {
				t.Fatal(err)
			}
			got = get(u.ID)
			if got.Grade != riskmap.GradeOrange || len(got.Conditions) != 1 || got.Conditions[0].Source != riskmap.ConditionHazard || got.DynamicText() != "" {
				t.Fatalf("moved away the unit is orange again: %s %+v %q", got.Grade, got.Conditions, got.DynamicText())
			}

			// The school comes to it (a target's write): SetConditions raises it again, in
			// the store and the index; the same again writes nothing.
			conds := []riskmap.Condition{riskmap.ConflictCondition(riskmap.TargetSchool, "澄江二中", 250)}
			set, err := svc.SetConditions(ctx, u.ID, riskmap.ConditionConflict, conds)
			if err != nil {
				t.Fatal(err)
			}
			got = get(u.ID)
			if set == nil || set.Version != got.Version || got.Grade != riskmap.GradeRed || len(got.Conditions) != 2 ||
				got.DynamicText() != "影响范围内有学校「澄江二中」（距离 250 米），等级由较大上调为重大" {
				t.Fatalf("SetConditions raises the unit: %s %+v %q", got.Grade, got.Conditions, got.DynamicText())
			}
			if again, err := svc.SetConditions(ctx, u.ID, riskmap.ConditionConflict, conds); err != nil || again != nil {
				t.Fatalf("the same conditions write nothing: %+v %v", again, err)
			}
			stored, err := svc.UnitConditions(ctx, riskmap.ConditionConflict)
			if err != nil || len(stored) != 1 || len(stored[u.ID]) != 1 || stored[u.ID][0].Ref != "澄江二中" {
				t.Fatalf("UnitConditions: %+v %v", stored, err)
			}
			if _, err := svc.SetConditions(ctx, 987654, riskmap.ConditionConflict, conds); riskmap.ErrorCode(err) != riskmap.ENOTFOUND {
				t.Fatalf("a missing unit: %v", err)
			}

			// A yellow unit next to the school is not raised by the default rules; its
			// condition is kept all the same.
			y := pointUnit("JYZ-2", nearby)
			y.Assessment.Likelihood, y.Assessment.Severity = 2, 3
			if err := svc.CreateBy(ctx, expert, y, nil); err != nil {
				t.Fatal(err)
			}
			got = get(y.ID)
			if got.Grade != riskmap.GradeYellow || len(got.Conditions) != 1 || got.Conditions[0].Raises || got.DynamicText() != "" {
				t.Fatalf("a yellow unit stays yellow: %s %+v", got.Grade, got.Conditions)
			}
		})
	}
}

// TestImportComputesConflicts: an imported row goes through the same conflicts; a row
// with an absurd influence radius is refused with the field named.
func TestImportComputesConflicts(t *testing.T) {
	store := storeKinds[0].open(t)
	cfg := config.Default()
	svc := register.New(store, cfg.Grader, cfg.Catalog)
	svc.Conflicts = schoolConflicts
	ctx := context.Background()
	im := svc.ImportBy(nil, nil)
	bad := pointUnit("JYZ-BAD", nearby)
	bad.InfluenceRadiusM = 60000
	probs, err := im.Check(ctx, []register.ImportRow{{Line: 2, Unit: pointUnit("JYZ-IM", nearby)}, {Line: 3, Unit: bad}})
	if err != nil {
		t.Fatal(err)
	}
	if probs[0] != nil {
		t.Fatalf("row 2: %v", probs[0])
	}
	fs := riskmap.ErrorFields(probs[1])
	if len(fs) != 1 || fs[0].Field != "influence_radius_m" || fs[0].Message != "影响半径应在 0 到 50000 米之间" {
		t.Fatalf("row 3: %+v", fs)
	}
	if _, err := im.Commit(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	found, err := store.(riskmap.UnitImportStore).UnitsByCode(ctx, []string{"JYZ-IM", "JYZ-BAD"})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Grade != riskmap.GradeRed || len(found[0].Conditions) != 1 {
		t.Fatalf("the imported unit is raised by the school, the bad row not stored: %+v", found)
	}
}

// TestReconcileConditions: at start the stored conflicts are brought to the engine's; a
// unit already right is not written.
func TestReconcileConditions(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			store := kind.open(t)
			cfg := config.Default()
			svc := register.New(store, cfg.Grader, cfg.Catalog)
			svc.Conflicts = schoolConflicts
			ctx := context.Background()
			near, far, stale := pointUnit("R-1", nearby), pointUnit("R-2", faraway), pointUnit("R-3", nearby)
			for _, u := range []*riskmap.Unit{near, far, stale} {
				if err := svc.CreateBy(ctx, nil, u, nil); err != nil {
					t.Fatal(err)
				}
			}
			// The engine now says: R-1 as stored, R-2 has a hospital (a target created while
			// the server was down), R-3 none (its school was deleted); 999 is no unit.
			want := map[int64][]riskmap.Condition{
				near.ID: {riskmap.ConflictCondition(riskmap.TargetSchool, "澄江一中", metres(nearby, schoolAt))},
				far.ID:  {riskmap.ConflictCondition(riskmap.TargetHospital, "澄江市人民医院", 200)},
				999:     {riskmap.ConflictCondition(riskmap.TargetHospital, "澄江市人民医院", 200)},
			}
			res, err := svc.ReconcileConditions(ctx, riskmap.ConditionConflict, want)
			if err != nil {
				t.Fatal(err)
			}
			if res.Checked != 4 || res.Changed != 2 {
				t.Fatalf("want 4 checked, 2 changed: %+v", res)
			}
			for _, tc := range []struct {
				u       *riskmap.Unit
				version int64
				grade   riskmap.Grade
				conds   int
			}{{near, 1, riskmap.GradeRed, 1}, {far, 2, riskmap.GradeRed, 1}, {stale, 2, riskmap.GradeOrange, 0}} {
				got, err := store.GetUnit(ctx, tc.u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Version != tc.version || got.Grade != tc.grade || len(got.Conditions) != tc.conds {
					t.Errorf("%s: want v%d %s with %d conditions, got v%d %s %+v", tc.u.Code, tc.version, tc.grade, tc.conds, got.Version, got.Grade, got.Conditions)
				}
			}
			if res, err := svc.ReconcileConditions(ctx, riskmap.ConditionConflict, want); err != nil || res.Changed != 0 {
				t.Fatalf("a second reconcile changes nothing: %+v %v", res, err)
			}
		})
	}
}
