package regiongrade

import (
	"context"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/config"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

// A unit raised by an open major hidden danger counts at its current grade: its street is
// red by the highest grade of its units, not yellow as the unit's assessment alone says.
func TestRaisedUnitCountsAtItsCurrentGrade(t *testing.T) {
	sq := orb.MultiPolygon{{{{102.9, 24.6}, {102.91, 24.6}, {102.91, 24.61}, {102.9, 24.61}, {102.9, 24.6}}}}
	regions := Prepare([]*riskmap.Region{{Code: "530481001", Name: "凤麓街道", Level: riskmap.LevelStreet, Geometry: sq}})
	raised := &riskmap.Unit{ID: 1, Version: 2, Code: "R-1", Category: "hazardous_chemicals", RegionCode: "530481001001",
		Grade: riskmap.GradeRed, InherentGrade: riskmap.GradeYellow, OpenHazards: 1, Status: riskmap.StatusApproved,
		Geometry: orb.Point{102.905, 24.605}}
	ix := spatialindex.New(nil, nil)
	if _, err := ix.Load(context.Background(), func(yield func(*riskmap.Unit, error) bool) { yield(raised, nil) }); err != nil {
		t.Fatal(err)
	}
	sums := Compute(regions, ix.Snapshot().RegionTotals(), config.RegionRule{Method: "highest"})
	if len(sums) != 1 || sums[0].Grade != riskmap.GradeRed || sums[0].Counts.Red != 1 || sums[0].Counts.Yellow != 0 {
		t.Fatalf("the street's grade: %+v", sums)
	}
	stats := Statistics(ix.Snapshot(), regions, &riskmap.UnitFilter{})
	if stats.Total.Red != 1 || stats.Total.Yellow != 0 {
		t.Fatalf("statistics count the current grade: %+v", stats.Total)
	}
}
