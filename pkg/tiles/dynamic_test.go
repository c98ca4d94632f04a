package tiles_test

import (
	"testing"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
	"riskmap/pkg/tiles"
)

// The internal map's tiles carry a unit's current grade (grade), the grade its assessment
// gives (inherent_grade) and its open hidden dangers (open_hazards); the public tiles carry
// the grade only. A filter on open hidden dangers keeps the units that have some.
func TestRenderUnitsDynamic(t *testing.T) {
	raised := unit(1, riskmap.GradeRed, at(demoTile, 0.3, 0.3))
	raised.InherentGrade, raised.OpenHazards = riskmap.GradeYellow, 2
	plain := unit(2, riskmap.GradeBlue, at(demoTile, 0.6, 0.6))
	ix := mustIndex(t, raised, plain)

	raw, _ := mustRender(t, ix.Snapshot(), demoTile, tiles.Options{Status: true})
	fs := byID(decode(t, raw))
	if p := fs[1].Properties; p["grade"] != "red" || p["inherent_grade"] != "yellow" || p["open_hazards"] != 2.0 {
		t.Errorf("raised unit: %v", p)
	}
	if p := fs[2].Properties; p["grade"] != "blue" || p["inherent_grade"] != "blue" || p["open_hazards"] != 0.0 {
		t.Errorf("plain unit: %v", p)
	}
	if f := (tiles.Options{Status: true}).UnitFields(); f["inherent_grade"] != "String" || f["open_hazards"] != "Number" {
		t.Errorf("TileJSON fields: %v", f)
	}

	raw, _ = mustRender(t, ix.Snapshot(), demoTile, tiles.Options{})
	for id, f := range byID(decode(t, raw)) {
		if _, ok := f.Properties["inherent_grade"]; ok {
			t.Errorf("public tile, unit %d: inherent_grade", id)
		}
		if _, ok := f.Properties["open_hazards"]; ok {
			t.Errorf("public tile, unit %d: open_hazards", id)
		}
	}

	m := (&riskmap.UnitFilter{HasOpenHazards: true}).Matcher()
	raw, _, err := tiles.RenderUnitsWhere(ix.Snapshot(), demoTile, tiles.Options{Status: true}, func(f *spatialindex.Feature) bool { return m.Match(&f.UnitFacts) })
	if err != nil {
		t.Fatal(err)
	}
	fs = byID(decode(t, raw))
	if _, ok := fs[1]; !ok || len(fs) != 1 {
		t.Errorf("open_hazards filter: %v", fs)
	}
}
