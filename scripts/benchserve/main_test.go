package main

import (
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
)

// mvtIDs finds the ids mvt.Unmarshal would find in the units layer.
func TestMVTIDs(t *testing.T) {
	layer := func(name string, n int) *mvt.Layer {
		fc := geojson.NewFeatureCollection()
		for i := range n {
			f := geojson.NewFeature(orb.Point{float64(i), float64(i)})
			f.ID = uint64(100 - 10*i) // written in descending order
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
		var want []uint64
		for _, l := range ls {
			if l.Name == "units" {
				for _, f := range l.Features {
					want = append(want, uint64(f.ID.(float64))) // mvt.Unmarshal gives ids as float64
				}
			}
		}
		slices.Sort(want)
		got := mvtIDs(nil, b)
		if len(got) != tc.want || !slices.Equal(got, want) || !slices.IsSorted(got) {
			t.Errorf("ids %v, want %d of them (mvt.Unmarshal: %v)", got, tc.want, want)
		}
	}
	if len(mvtIDs(nil, nil)) != 0 {
		t.Error("an empty tile has no features")
	}
}
