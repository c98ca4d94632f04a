package tiles_test

import (
	"context"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
	"riskmap/pkg/tiles"
)

func TestRenderUnitsWhere(t *testing.T) {
	ix := spatialindex.New(nil, nil)
	var us []*riskmap.Unit
	for i := int64(1); i <= 8000; i++ {
		g := riskmap.Grades[i%4]
		us = append(us, &riskmap.Unit{ID: i, Version: 1, Code: "W", Name: "过滤", Category: []string{"roads", "fireworks"}[i%2],
			RegionCode: "530481001001", Grade: g, Status: riskmap.StatusApproved,
			Geometry: orb.Point{102.90 + float64(i%100)*0.0004, 24.66 + float64(i/100)*0.0002}})
	}
	ix.Load(context.Background(), func(yield func(*riskmap.Unit, error) bool) {
		for _, u := range us {
			if !yield(u, nil) {
				return
			}
		}
	})
	snap := ix.Snapshot()
	red := func(f *spatialindex.Feature) bool { return f.Grade == riskmap.GradeRed }
	for _, tc := range []struct {
		name    string
		z       maptile.Zoom
		cluster bool
	}{{"DetailWhenFewRemain", 13, false}, {"ClustersWhenMany", 10, true}} {
		t.Run(tc.name, func(t *testing.T) {
			tl := maptile.At(orb.Point{102.92, 24.67}, tc.z)
			keep := red
			if tc.cluster {
				keep = func(f *spatialindex.Feature) bool { return f.Category == "roads" } // 4000 units
			}
			raw, _, err := tiles.RenderUnitsWhere(snap, tl, tiles.Options{}, keep)
			if err != nil {
				t.Fatal(err)
			}
			layers, err := mvt.Unmarshal(raw)
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, f := range layers[0].Features {
				if tc.cluster {
					if f.Properties["cluster"] != true {
						t.Fatalf("want clusters, got %v", f.Properties)
					}
					total += int(f.Properties["count"].(float64))
					if f.Properties["orange"].(float64) != 0 || f.Properties["blue"].(float64) != 0 {
						t.Fatalf("the kept units (even ids) are red or yellow only: %v", f.Properties)
					}
				} else {
					if f.Properties["grade"] != "red" {
						t.Fatalf("the filter must drop other grades: %v", f.Properties)
					}
					total++
				}
			}
			if total == 0 {
				t.Fatal("the filtered tile is empty")
			}
		})
	}
}
