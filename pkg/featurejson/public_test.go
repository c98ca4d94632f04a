package featurejson_test

import (
	"testing"

	"github.com/paulmach/orb"

	"riskmap/geodata"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/featurejson"
	"riskmap/pkg/riskmap"
)

// The public index keeps no document: what the public reads of a unit is written from its
// facts, and must be the public Feature byte for byte.
func TestPublicWriter(t *testing.T) {
	if len(riskmap.PublicTextFields) != 1 {
		t.Fatalf("a public text was added (%d now): PublicWriter writes only the public label, and the public index's facts keep only that", len(riskmap.PublicTextFields))
	}
	cfg := config.Default()
	regions, err := demo.LoadRegions(geodata.FS)
	if err != nil {
		t.Fatal(err)
	}
	enc := featurejson.PublicEncoder(cfg.Catalog, regions)
	write := featurejson.PublicWriter(cfg.Catalog, regions)
	geoms := []orb.Geometry{
		orb.MultiPoint{{102.9, 24.6}, {102.91, 24.61}},
		orb.LineString{{102.9, 24.6}, {102.91, 24.61}},
		orb.MultiLineString{{{102.9, 24.6}, {102.91, 24.61}}},
		orb.Polygon{{{102.9, 24.6}, {102.91, 24.6}, {102.91, 24.61}, {102.9, 24.6}}},
		orb.MultiPolygon{{{{102.9, 24.6}, {102.91, 24.6}, {102.91, 24.61}, {102.9, 24.6}}}},
		orb.Point{1e-7, -0.000001},
	}
	i := 0
	for u := range synthUnits(t, 17, 2000) {
		i++
		switch i % 5 {
		case 1:
			u.PublicLabel = `<b>"加油站"&</b>` + "\u2028\x01\\"
		case 2:
			u.PublicLabel = ""
			u.Category, u.RegionCode = "not_in_catalog", "999999" // no label, no region name
		case 3:
			u.Geometry = geoms[(i/5)%len(geoms)]
		}
		want, _ := enc([]byte("x"), u)
		f := riskmap.FactsOf(u)
		f.Name, f.Department = u.PublicLabel, "" // what a public index keeps
		if got := write([]byte("x"), u.ID, &f); string(got) != string(want) {
			t.Fatalf("unit %d:\nwritten %s\nencoded %s", u.ID, got, want)
		}
	}
}
