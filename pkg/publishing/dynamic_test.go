package publishing_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/config"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/publishing"
	"riskmap/pkg/regiongrade"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

// An approved unit raised by an open major hidden danger is published at its current
// grade, and its region is graded with it.
func TestPublishRaisedUnitAtItsCurrentGrade(t *testing.T) {
	ctx := context.Background()
	store, err := gpkg.Open(ctx, filepath.Join(t.TempDir(), "pub.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	svcUnits := register.New(store, cfg.Grader, cfg.Catalog)
	u := &riskmap.Unit{Code: "P-RAISED", Name: "储罐区", Category: "hazardous_chemicals", RegionCode: "530481001001",
		Status: riskmap.StatusApproved, Assessment: riskmap.Assessment{Method: riskmap.MethodLS, Likelihood: 2, Severity: 3},
		Geometry: orb.Point{102.905, 24.605}}
	if err := svcUnits.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	if u.Grade != riskmap.GradeYellow {
		t.Fatalf("the assessment gives %s, want yellow", u.Grade)
	}
	// A major hidden danger opens: the unit's dynamics, as a hidden danger's write stores
	// them.
	d := cfg.Grader.Dynamics(u, u.InherentGrade, []riskmap.Condition{{Source: riskmap.ConditionHazard, Ref: "YH-2026-000001",
		Level: "major", Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}}, 1)
	u.Grade, u.Conditions, u.OpenHazards, u.NextReviewDue = d.Grade, d.Conditions, d.OpenHazards, d.NextReviewDue
	if err := store.UpdateUnit(ctx, u); err != nil {
		t.Fatal(err)
	}

	sq := orb.MultiPolygon{{{{102.9, 24.6}, {102.91, 24.6}, {102.91, 24.61}, {102.9, 24.61}, {102.9, 24.6}}}}
	regions := regiongrade.Prepare([]*riskmap.Region{{Code: "530481001", Name: "凤麓街道", Level: riskmap.LevelStreet, Geometry: sq}})
	svc := publishing.New(store, regions, config.RegionRule{Method: "highest"}, func() *spatialindex.Index { return spatialindex.NewPublic(nil, nil) })
	p := &riskmap.Publication{CreatedBy: "test", Note: "含动态等级"}
	ch, err := svc.Publish(ctx, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := svc.Advance(ctx, nil, p, ch)
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := ix.Snapshot().Get(u.ID); !ok || f.Grade != riskmap.GradeRed {
		t.Fatalf("the published unit: %+v", f)
	}
	var sums []regiongrade.Summary
	if err := json.Unmarshal(p.Regions, &sums); err != nil {
		t.Fatalf("the publication's regional grades: %v (%s)", err, p.Regions)
	}
	if len(sums) != 1 || sums[0].Grade != riskmap.GradeRed {
		t.Fatalf("the street is graded by the current grade: %s", p.Regions)
	}
}
