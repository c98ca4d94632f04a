package spatialindex_test

import (
	"context"
	"runtime"
	"testing"

	"riskmap/geodata"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
	"riskmap/pkg/synth"
)

// TestWriteGarbage: what writes leave for the collector in an index of 100,000 synthetic
// units (placed by population, as the city's are: clustered, the R-tree's nodes' boxes
// overlapping) counted under the synthetic city's region × category keys. The garbage of
// writes is what spreads a long-running server's heap over more pages (README, "RSS after
// publications"); before session 18 a write left 170–200 KB:
//   - the counts are a copy-on-write tree the snapshots share, so a write copies the path to
//     its count, not all of them (a map of about 900 keys copied into each snapshot);
//   - the R-tree's Delete copies the path to the unit, not every node it looks into
//     (pkg/thirdparty/rtree);
//   - a batch (ApplyAll, a catch-up) copies a node it changes once, not once a unit.
func TestWriteGarbage(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 100,000 units twice")
	}
	regions, err := demo.LoadRegions(geodata.FS)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	g, err := synth.New(regions, cfg.Catalog, cfg.Grader)
	if err != nil {
		t.Fatal(err)
	}
	var base []*riskmap.Unit
	for u := range g.Units(1, 100_000) {
		u.ID, u.Version = int64(len(base)+1), 1
		if err := cfg.Grader.Grade(u); err != nil {
			t.Fatal(err)
		}
		base = append(base, u)
	}
	// 1,000 units spread over the city get a new version with another grade.
	var changed []*riskmap.Unit
	for i := 0; i < len(base); i += len(base) / 1000 {
		v := *base[i]
		v.Version, v.Grade = 2, riskmap.GradeRed
		if base[i].Grade == riskmap.GradeRed {
			v.Grade = riskmap.GradeBlue
		}
		changed = append(changed, &v)
	}
	allocated := func(apply func(ix *spatialindex.Index)) uint64 {
		ix := spatialindex.New(nil, nil)
		if _, err := ix.Load(context.Background(), func(yield func(*riskmap.Unit, error) bool) {
			for _, u := range base {
				if !yield(u, nil) {
					return
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		apply(ix)
		runtime.ReadMemStats(&after)
		if ix.Version(changed[0].ID) != 2 || ix.Snapshot().Len() != len(base) {
			t.Fatal("the changes did not go in")
		}
		return (after.TotalAlloc - before.TotalAlloc) / uint64(len(changed))
	}
	single := allocated(func(ix *spatialindex.Index) {
		for _, u := range changed {
			if _, err := ix.Apply(u); err != nil {
				t.Fatal(err)
			}
		}
	})
	batch := allocated(func(ix *spatialindex.Index) {
		if n, err := ix.ApplyAll(changed); n != len(changed) || err != nil {
			t.Fatal(n, err)
		}
	})
	t.Logf("%d changes to %d synthetic units: %.1f KB a change one by one, %.1f KB in one batch",
		len(changed), len(base), float64(single)/1024, float64(batch)/1024)
	if single > 50<<10 { // 41 KB here; 58 KB with v1.10.0's Delete, 170 KB and more with a counts map
		t.Errorf("a write left %.1f KB for the collector: want the path to its unit and its count copied, not more", float64(single)/1024)
	}
	if batch >= single {
		t.Errorf("a batch left %.1f KB a change, one by one %.1f KB", float64(batch)/1024, float64(single)/1024)
	}
}
