package main

import (
	"context"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/config"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

// serve's public indexes (publisher(regions, ix)) keep a unit unchanged since its publication
// once with the register's index; the CLI's (nil) keep their own.
func TestPublicIndexSharesWithTheRegister(t *testing.T) {
	m := &Main{cfg: config.Default()}
	u := func() *riskmap.Unit {
		return &riskmap.Unit{ID: 1, Version: 3, Code: "GX-1", Name: "某燃气公司管线", PublicTexts: riskmap.PublicTexts{PublicLabel: "燃气管线"}, Category: "gas_pipeline",
			RegionCode: "530481001001", Grade: riskmap.GradeRed, Status: riskmap.StatusApproved,
			Geometry: orb.LineString{{102.9, 24.6}, {102.91, 24.61}}}
	}
	one := func(yield func(*riskmap.Unit, error) bool) { yield(u(), nil) }
	reg := registerIndex(nil)
	if _, err := reg.Load(context.Background(), one); err != nil {
		t.Fatal(err)
	}
	r, _ := reg.Snapshot().Get(1)
	for _, tc := range []struct {
		share *spatialindex.Index
		same  bool
	}{{reg, true}, {nil, false}} {
		pub := m.publicIndex(nil, tc.share)()
		if _, err := pub.Load(context.Background(), one); err != nil {
			t.Fatal(err)
		}
		p, _ := pub.Snapshot().Get(1)
		if same := &p.Geometry.(orb.LineString)[0] == &r.Geometry.(orb.LineString)[0]; same != tc.same {
			t.Errorf("sharing with %v: geometry shared %v", tc.share != nil, same)
		}
		if p.Name != "燃气管线" || p.Department != "" {
			t.Errorf("the public's unit: name %q, department %q", p.Name, p.Department)
		}
	}
}
