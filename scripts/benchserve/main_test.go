package main

import (
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
)

// mvtFeatures counts what mvt.Unmarshal would find in the units layer.
func TestMVTFeatures(t *testing.T) {
	layer := func(name string, n int) *mvt.Layer {
		fc := geojson.NewFeatureCollection()
		for i := range n {
			f := geojson.NewFeature(orb.Point{float64(i), float64(i)})
			f.Properties["code"] = "CJ-1"
			fc.Append(f)
		}
		l := mvt.NewLayer(name, fc)
		l.Version = 2
		return l
	}
	for _, tc := range []struct {
		layers mvt.Layers
		want   int
	}{
		{mvt.Layers{layer("units", 3)}, 3},
		{mvt.Layers{layer("clusters", 5), layer("units", 7), layer("regions", 2)}, 7},
		{mvt.Layers{layer("clusters", 5)}, 0},
		{mvt.Layers{layer("units", 0)}, 0},
	} {
		b, err := mvt.Marshal(tc.layers)
		if err != nil {
			t.Fatal(err)
		}
		ls, err := mvt.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		for _, l := range ls {
			if l.Name == "units" {
				want = len(l.Features)
			}
		}
		if got := mvtFeatures(b); got != tc.want || got != want {
			t.Errorf("%d features counted, want %d (mvt.Unmarshal: %d)", got, tc.want, want)
		}
	}
	if mvtFeatures(nil) != 0 {
		t.Error("an empty tile has no features")
	}
}
