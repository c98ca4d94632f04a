package tiles_test

import (
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/config"
	"riskmap/pkg/regiongrade"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
	"riskmap/pkg/tiles"
)

// TestRegionGrades: the regions layer draws the live regional grades of an index, and
// its version moves with every write.
func TestRegionGrades(t *testing.T) {
	sq := orb.MultiPolygon{{{{102.9, 24.6}, {102.91, 24.6}, {102.91, 24.61}, {102.9, 24.61}, {102.9, 24.6}}}}
	regions := regiongrade.Prepare([]*riskmap.Region{{Code: "530481001", Name: "凤麓街道", Level: riskmap.LevelStreet, Geometry: sq}})
	ix := spatialindex.New(nil, nil)
	live := regiongrade.NewLive(regions, config.RegionRule{Method: "highest"}, func() (regiongrade.Counted, error) {
		if !ix.Loaded() {
			return nil, riskmap.Errorf(riskmap.EUNAVAILABLE, "loading")
		}
		return ix.Snapshot(), nil
	})
	src := tiles.NewRegionGrades(live)
	if seq, fs := src.RegionFeatures(); seq != 0 || fs != nil {
		t.Fatalf("nothing before the index loads, got %d %v", seq, fs)
	}
	if _, err := ix.Load(t.Context(), func(func(*riskmap.Unit, error) bool) {}); err != nil {
		t.Fatal(err)
	}
	seq0, fs := src.RegionFeatures()
	if seq0 == 0 || len(fs) != 1 || fs[0].Grade != riskmap.GradeBlue || fs[0].Code != "530481001" {
		t.Fatalf("an empty street is blue: %d %+v", seq0, fs)
	}
	u := &riskmap.Unit{ID: 1, Version: 1, Code: "U-1", Category: "hazardous_chemicals", RegionCode: "530481001001",
		Grade: riskmap.GradeRed, Status: riskmap.StatusApproved, Geometry: orb.Point{102.905, 24.605}}
	if _, err := ix.Apply(u); err != nil {
		t.Fatal(err)
	}
	seq1, fs := src.RegionFeatures()
	if seq1 <= seq0 || fs[0].Grade != riskmap.GradeRed || fs[0].Counts != [4]int{1, 0, 0, 0} {
		t.Fatalf("a red unit makes the street red at a newer version: %d→%d %+v", seq0, seq1, fs[0])
	}
}
