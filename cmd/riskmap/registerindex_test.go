package main

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/featurejson"
	"riskmap/pkg/riskmap"
)

// The register's index serve keeps brings a unit's document to the next day by itself: a
// review due today reads overdue tomorrow without the unit being written (it did not until
// session 13: serve never set the redater). Enough units for the documents to be kept
// compressed and without their heads, as at any real size.
func TestRegisterIndexFollowsTheDay(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC).Unix())
	now := func() time.Time { return time.Unix(clock.Load(), 0) }
	old := featurejson.Now
	featurejson.Now = now
	t.Cleanup(func() { featurejson.Now = old })
	ix := registerIndex(nil)
	due := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	var us []*riskmap.Unit
	for id := int64(1); id <= 2000; id++ {
		us = append(us, &riskmap.Unit{ID: id, Version: 1, Code: "RI-" + string(rune('A'+id%26)), Name: "加油站", Category: "gas_station",
			RegionCode: "530481001001", Grade: riskmap.GradeRed, Status: riskmap.StatusApproved, NextReviewDue: &due,
			Geometry: orb.Point{102.9 + float64(id)*1e-5, 24.6}})
	}
	if _, err := ix.Load(context.Background(), func(yield func(*riskmap.Unit, error) bool) {
		for _, u := range us {
			if !yield(u, nil) {
				return
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	overdue := []byte(`"review_state":"overdue","review_overdue":true`)
	f, _ := ix.Snapshot().Get(1500)
	if bytes.Contains(f.JSON(), overdue) || f.KeptBytes()*3 > len(f.JSON()) {
		t.Fatalf("on the due day: %s (%d bytes kept)", f.JSON(), f.KeptBytes())
	}
	clock.Add(24 * 3600)
	ix.Snapshot() // the first look on a new day starts the redating
	deadline := time.Now().Add(10 * time.Second)
	for {
		f, _ = ix.Snapshot().Get(1500)
		if bytes.Contains(f.JSON(), overdue) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the next day, still: %s", f.JSON())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if want := featurejson.AppendFeatureOn(nil, us[1499], now()); !bytes.Equal(f.JSON(), want) {
		t.Fatalf("redated:\n%s\nencoded that day:\n%s", f.JSON(), want)
	}
}
