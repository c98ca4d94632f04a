package postgis

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/storetest"
)

// A unit loaded in bulk reads back exactly like one created singly.
func TestBulkRoundTrip(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	poly := orb.Polygon{{{102.90, 24.60}, {102.95, 24.60}, {102.95, 24.65}, {102.90, 24.65}, {102.90, 24.60}}}
	full := storetest.NewUnit("RT-FULL", poly)
	full.Name = `名称 "引号" \ <&> ` + "\t"
	full.Controls.PPE = []string{}
	full.Explanation.Inputs = map[string]float64{"l": 0.5, "e": 6, "c": 7, "tiny": 1e-9}
	local := time.FixedZone("CST", 8*3600)
	assessed := time.Date(2026, 3, 1, 23, 30, 0, 123456789, local)
	due := time.Date(2026, 9, 1, 0, 0, 0, 0, local)
	full.AssessedAt, full.NextReviewDue = &assessed, &due
	bare := storetest.NewUnit("RT-BARE", orb.MultiPoint{{1, 2}, {3, 4}})
	bare.MajorHazardSource, bare.AssessedAt, bare.NextReviewDue, bare.AccidentTypes = nil, nil, nil, nil
	bare.Controls, bare.Status = riskmap.Controls{}, ""
	bare.Assessment = riskmap.Assessment{Method: riskmap.MethodLEC, L: 0.5, E: 6, C: 7}

	want := []*riskmap.Unit{full, bare}
	created := make([]*riskmap.Unit, len(want))
	for i, u := range want {
		c := *u
		c.Code += "-SINGLE"
		if err := s.CreateUnit(ctx, &c); err != nil {
			t.Fatal(err)
		}
		created[i] = &c
	}
	if _, err := s.BulkInsertUnits(ctx, slices.Values(want), nil); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.FindUnits(ctx, riskmap.UnitFilter{Q: "RT-"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("want 4 units, got %d", len(got))
	}
	for i := range want {
		single, bulk := *got[i], *got[i+2]
		single.Code = bulk.Code
		single.ID, single.CreatedAt, single.UpdatedAt = 0, time.Time{}, time.Time{}
		bulk.ID, bulk.CreatedAt, bulk.UpdatedAt = 0, time.Time{}, time.Time{}
		if !reflect.DeepEqual(single, bulk) {
			sj, _ := json.Marshal(single)
			bj, _ := json.Marshal(bulk)
			t.Errorf("%s: bulk and single insert differ:\nsingle %s\n  bulk %s", want[i].Code, sj, bj)
		}
	}
	b := got[2]
	if !b.AssessedAt.Equal(assessed.Truncate(time.Microsecond)) || b.NextReviewDue.Format(time.DateOnly) != "2026-09-01" {
		t.Errorf("times: assessed %v, due %v", b.AssessedAt, b.NextReviewDue)
	}
	if got[3].Status != riskmap.StatusDraft || got[3].Version != 1 {
		t.Errorf("a unit without status is a draft at version 1, got %s v%d", got[3].Status, got[3].Version)
	}
}
