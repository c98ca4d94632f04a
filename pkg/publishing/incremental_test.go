package publishing_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/config"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/publishing"
	"riskmap/pkg/regiongrade"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
	"riskmap/pkg/storetest"
)

// square is the closed ring of the square with corner (x, y) and side d.
func square(x, y, d float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}, {x, y}}}}
}

// TestIncrementalPublish: a publication made from the change (the latest's counts moved by
// the units added and removed) has the regional grades a count of the whole register
// gives, and the public index brought forward by the change holds what loading the
// publication gives; counts kept for other grids are not carried forward.
func TestIncrementalPublish(t *testing.T) {
	ctx := context.Background()
	store, err := gpkg.Open(ctx, filepath.Join(t.TempDir(), "inc.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	grids := []*riskmap.Region{
		{Code: "530481001", Name: "凤麓街道", Level: riskmap.LevelStreet, Geometry: square(102.9, 24.6, 0.2)},
		{Code: "530481001001", Name: "东社区", Level: riskmap.LevelCommunity, ParentCode: "530481001", Geometry: square(102.9, 24.6, 0.2)},
		{Code: "530481001001001", Name: "一网格", Level: riskmap.LevelGrid, ParentCode: "530481001001", Geometry: square(102.9, 24.6, 0.1)},
		{Code: "530481001001002", Name: "二网格", Level: riskmap.LevelGrid, ParentCode: "530481001001", Geometry: square(103.0, 24.6, 0.1)},
	}
	rule := config.Default().RegionRule
	newService := func(regions []*riskmap.Region) *publishing.Service {
		locate := regiongrade.Locator(regions)
		return publishing.New(store, regiongrade.Prepare(regions), rule, func() *spatialindex.Index { return spatialindex.NewPublic(nil, locate) })
	}
	svc := newService(grids)
	grades := []riskmap.Grade{riskmap.GradeRed, riskmap.GradeOrange, riskmap.GradeYellow, riskmap.GradeBlue}
	var units []*riskmap.Unit
	for i := range 40 {
		u := storetest.NewUnit(fmt.Sprintf("INC-%02d", i), orb.Point{102.905 + float64(i%20)*0.01, 24.61 + float64(i/20)*0.05})
		u.Grade = grades[i%4]
		if err := store.CreateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
		units = append(units, u)
	}
	p1 := &riskmap.Publication{}
	ch, err := svc.Publish(ctx, p1, nil)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := svc.Advance(ctx, nil, p1, ch)
	if err != nil {
		t.Fatal(err)
	}

	// Regrade some units, retire some, add some.
	for i, u := range units[:12] {
		switch i % 3 {
		case 0:
			u.Grade = riskmap.GradeRed
			if err := store.UpdateUnit(ctx, u); err != nil {
				t.Fatal(err)
			}
		case 1:
			if _, err := store.RetireUnit(ctx, u.ID, u.Version); err != nil {
				t.Fatal(err)
			}
		case 2:
			n := storetest.NewUnit(fmt.Sprintf("INC-NEW-%02d", i), orb.Point{103.05, 24.65 + float64(i)*0.001})
			n.Grade = riskmap.GradeBlue
			if err := store.CreateUnit(ctx, n); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, fullRegions, err := svc.Preview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p2 := &riskmap.Publication{}
	ch, err = svc.Publish(ctx, p2, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("RegionsOK", func(t *testing.T) {
		if len(ch.Added) != 8 || len(ch.Removed) != 8 {
			t.Fatalf("want 4 regraded + 4 new added, 4 old versions + 4 retired removed: %d, %d", len(ch.Added), len(ch.Removed))
		}
		if string(p2.Regions) != string(fullRegions) {
			t.Fatalf("regional grades from the change differ from a full count:\n%s\n%s", p2.Regions, fullRegions)
		}
		if p2.UnitCount != 40 {
			t.Fatalf("unit count: %d", p2.UnitCount)
		}
	})
	t.Run("IndexFollowsOK", func(t *testing.T) {
		next, err := svc.Advance(ctx, ix, p2, ch)
		if err != nil {
			t.Fatal(err)
		}
		_, loaded, err := svc.Latest(ctx, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, followed, err := svc.Latest(ctx, 1, ix)
		if err != nil {
			t.Fatal(err)
		}
		for name, got := range map[string]*spatialindex.Index{"Advance": next, "Latest": followed} {
			wantSameIndex(t, name, loaded.Snapshot(), got.Snapshot())
		}
		if ix.Snapshot().Len() != 40 || ix.Snapshot().RegionTotals()["530481001001002"] == next.Snapshot().RegionTotals()["530481001001002"] {
			t.Fatal("the index of publication 1 must be left as it was")
		}
	})
	t.Run("OtherGridsRecountOK", func(t *testing.T) {
		moved := slices.Clone(grids)
		moved[3] = &riskmap.Region{Code: "530481001001002", Name: "二网格", Level: riskmap.LevelGrid, ParentCode: "530481001001", Geometry: square(103.0, 24.6, 0.05)}
		svc := newService(moved)
		_, full, err := svc.Preview(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p3 := &riskmap.Publication{}
		if _, err := svc.Publish(ctx, p3, nil); err != nil {
			t.Fatal(err)
		}
		if string(p3.Regions) != string(full) || string(p3.Regions) == string(p2.Regions) {
			t.Fatalf("a grid changed: the counts must be made afresh:\n%s\n%s", p3.Regions, full)
		}
	})
}

func wantSameIndex(t *testing.T, name string, want, got *spatialindex.Snapshot) {
	t.Helper()
	if want.Len() != got.Len() {
		t.Fatalf("%s: %d units, want %d", name, got.Len(), want.Len())
	}
	want.Ascend(0, func(f *spatialindex.Feature) bool {
		g, ok := got.Get(f.ID)
		if !ok || g.Version != f.Version || g.Grade != f.Grade || g.CountCode != f.CountCode {
			t.Fatalf("%s: unit %d: %+v, want %+v", name, f.ID, g, f)
		}
		return true
	})
	if fmt.Sprint(want.RegionTotals()) != fmt.Sprint(got.RegionTotals()) {
		t.Fatalf("%s: counts %v, want %v", name, got.RegionTotals(), want.RegionTotals())
	}
	var a, b []spatialindex.Cell
	x0, y0 := spatialindex.CellOf(orb.Point{102.8, 24.9}, spatialindex.CellZoom)
	x1, y1 := spatialindex.CellOf(orb.Point{103.2, 24.5}, spatialindex.CellZoom)
	want.Cells(x0, y0, x1, y1, func(_, _ uint32, c spatialindex.Cell) bool { a = append(a, c); return true })
	got.Cells(x0, y0, x1, y1, func(_, _ uint32, c spatialindex.Cell) bool { b = append(b, c); return true })
	if len(a) == 0 {
		t.Fatalf("%s: no cells", name)
	}
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("%s: cells differ", name)
	}
}
