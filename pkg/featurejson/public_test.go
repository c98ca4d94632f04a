package featurejson_test

import (
	"bytes"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/geodata"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/featurejson"
	"riskmap/pkg/riskmap"
)

// oddGeometries are a geometry of each type but the synthetic units' own, and a point
// whose coordinates are written in an exponent's range.
var oddGeometries = []orb.Geometry{
	orb.MultiPoint{{102.9, 24.6}, {102.91, 24.61}},
	orb.LineString{{102.9, 24.6}, {102.91, 24.61}},
	orb.MultiLineString{{{102.9, 24.6}, {102.91, 24.61}}},
	orb.Polygon{{{102.9, 24.6}, {102.91, 24.6}, {102.91, 24.61}, {102.9, 24.6}}},
	orb.MultiPolygon{{{{102.9, 24.6}, {102.91, 24.6}, {102.91, 24.61}, {102.9, 24.6}}}},
	orb.Point{1e-7, -0.000001},
}

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
			u.Geometry = oddGeometries[(i/5)%len(oddGeometries)]
		}
		want, _ := enc([]byte("x"), u)
		f := riskmap.FactsOf(u)
		f.Name, f.Department = u.PublicLabel, "" // what a public index keeps
		if got := write([]byte("x"), u.ID, &f); string(got) != string(want) {
			t.Fatalf("unit %d:\nwritten %s\nencoded %s", u.ID, got, want)
		}
	}
}

// The register's index keeps each document without its head, which is written back from the
// facts when the document is read: the head must be exactly how the document begins.
func TestAppendFeatureHead(t *testing.T) {
	i := 0
	for u := range synthUnits(t, 19, 2000) {
		i++
		switch i % 4 {
		case 1:
			u.Name, u.Code = `<b>"甲"&乙</b>`+"\u2028\x01\\", `A"1`
		case 2:
			u.Geometry = oddGeometries[(i/4)%len(oddGeometries)]
		}
		doc := featurejson.AppendFeature(nil, u)
		f := riskmap.FactsOf(u)
		head := featurejson.AppendFeatureHead([]byte("x"), u.ID, &f)
		if !bytes.HasPrefix(doc, head[1:]) || doc[len(head)-1] != ',' {
			t.Fatalf("unit %d:\nhead     %s\ndocument %s", u.ID, head[1:], doc)
		}
		if n := featurejson.FeatureHeadLen(doc, u.ID, &f); n != len(head)-1 {
			t.Fatalf("unit %d: the head found is %d bytes, written %d", u.ID, n, len(head)-1)
		}
		// Not this unit's head: not found, and the document is kept whole.
		other := f
		other.Name += "乙"
		renamed := f
		renamed.Code = "X" + f.Code
		for what, n := range map[string]int{
			"another id":   featurejson.FeatureHeadLen(doc, u.ID+1, &f),
			"another name": featurejson.FeatureHeadLen(doc, u.ID, &other),
			"another code": featurejson.FeatureHeadLen(doc, u.ID, &renamed),
			"no document":  featurejson.FeatureHeadLen(nil, u.ID, &f),
		} {
			if n != 0 {
				t.Fatalf("unit %d, %s: found a head of %d bytes", u.ID, what, n)
			}
		}
	}
}
