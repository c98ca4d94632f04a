package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"riskmap/pkg/httpapi"
	"riskmap/pkg/tiles"
)

// cmd/riskmap hands the server a *spatialindex.Index; the server makes *tiles.Service.
var _ httpapi.TileService = (*tiles.Service)(nil)

func (e *env) tile(t *testing.T, path string, headers ...string) (resp, mvt.Layers) {
	t.Helper()
	r := e.do("GET", path, "", append([]string{"Accept-Encoding", "gzip"}, headers...)...)
	if r.code != 200 {
		return r, nil
	}
	if r.header.Get("Content-Encoding") != "gzip" || r.header.Get("Content-Type") != "application/vnd.mapbox-vector-tile" {
		t.Fatalf("tiles are gzipped MVT: %v", r.header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(zr)
	layers, err := mvt.Unmarshal(raw)
	if err != nil {
		t.Fatalf("not an MVT: %v", err)
	}
	return r, layers
}

func tilePath(layer string, p orb.Point, z maptile.Zoom) string {
	tl := maptile.At(p, z)
	return fmt.Sprintf("/tiles/%s/%d/%d/%d.pbf", layer, tl.Z, tl.X, tl.Y)
}

func (e *env) testTiles(t *testing.T) {
	e.t = t
	p := orb.Point{102.9312, 24.6888}
	path := tilePath("units", p, 15)
	before, layers := e.tile(t, path)
	if before.code != 204 && before.code != 200 {
		t.Fatalf("tile: %d %s", before.code, before.body)
	}
	count := func(ls mvt.Layers, name string) int {
		for _, l := range ls {
			if l.Name == name {
				if l.Version != 2 || l.Extent != 4096 {
					t.Fatalf("layer %s: version %d extent %d, want 2 and 4096", name, l.Version, l.Extent)
				}
				return len(l.Features)
			}
		}
		return 0
	}
	n0 := count(layers, "units")
	// A write shows in the very next tile request.
	r := e.do("POST", "/api/v1/units", feature("TILE-1", "瓦片测试单元", p[0], p[1], 4, 5))
	if r.code != 201 {
		t.Fatalf("create: %s", r.body)
	}
	after, layers := e.tile(t, path)
	if after.code != 200 || count(layers, "units") != n0+1 {
		t.Fatalf("a saved unit must be in its tile at once: %d features before, %d after (%d)", n0, count(layers, "units"), after.code)
	}
	found := false
	for _, l := range layers {
		for _, f := range l.Features {
			if f.Properties["name"] == "瓦片测试单元" {
				found = f.Properties["grade"] == "red" && f.Properties["category"] == "hazardous_chemicals"
			}
		}
	}
	if !found {
		t.Fatal("the tile feature must carry name, category and grade")
	}
	if nm := e.do("GET", path, "", "If-None-Match", after.header.Get("ETag")); nm.code != 304 {
		t.Fatalf("a cached tile revalidates with 304, got %d", nm.code)
	}
	if plain := e.do("GET", path, ""); plain.code != 200 || plain.header.Get("Content-Encoding") == "gzip" {
		t.Fatalf("a client without gzip gets the tile inflated: %d %v", plain.code, plain.header)
	}
	// The map's filters apply to tiles.
	if _, ls := e.tile(t, path+"?grade=blue"); count(ls, "units") >= count(layers, "units") {
		t.Fatal("a grade filter must drop the red unit from the tile")
	}
	if _, ls := e.tile(t, path+"?grade=red&category=hazardous_chemicals&region=530481001"); count(ls, "units") < 1 {
		t.Fatal("the red hazardous-chemicals unit matches the filter")
	}
	if r := e.do("GET", path+"?grade=purple", ""); r.code != 400 {
		t.Fatalf("a bad filter on a tile is 400, got %d", r.code)
	}
	if r := e.do("GET", path+"?_=1732600000000", ""); r.code != 200 {
		t.Fatalf("a cache-busting parameter is ignored, got %d", r.code)
	}
	if r := e.do("GET", path+"?limit=5", ""); r.code != 400 {
		t.Fatalf("an unknown tile parameter is 400, got %d", r.code)
	}
	if r := e.do("GET", "/tiles/units/3/0/0.pbf", ""); r.code != 204 {
		t.Fatalf("an empty tile is 204, got %d", r.code)
	}
	if _, ls := e.tile(t, tilePath("regions", p, 10)); count(ls, "regions") == 0 {
		t.Fatal("the regions layer covers the demo city")
	}
	for _, bad := range []string{"/tiles/units/31/0/0.pbf", "/tiles/units/-1/0/0.pbf", "/tiles/units/4/16/0.pbf",
		"/tiles/units/4/0/99999999999999999999.pbf", "/tiles/units/a/b/c.pbf", "/tiles/units/4/0/-3.pbf", "/tiles/regions/99/1/1.pbf"} {
		if r := e.do("GET", bad, ""); r.code != 400 || !strings.Contains(string(r.body), `"message"`) {
			t.Fatalf("%s: want 400 with a message, got %d %s", bad, r.code, r.body)
		}
	}
	for _, doc := range []string{"/tiles/units.json", "/tiles/regions.json", "/tiles/units/metadata.json", "/public/tiles/units.json"} {
		if r := e.do("GET", doc, ""); r.code != 200 {
			t.Fatalf("%s: %d", doc, r.code)
		}
	}
	tj := e.do("GET", "/tiles/units.json", "").json(t)
	if tj["tilejson"] != "3.0.0" || !strings.HasSuffix(tj["tiles"].([]any)[0].(string), "/tiles/units/{z}/{x}/{y}.pbf") {
		t.Fatalf("TileJSON: %v", tj)
	}
	// Draft units are not on the public map's tiles, and public tiles carry no names.
	_, ls := e.tile(t, "/public"+path)
	if count(ls, "units") > n0 {
		t.Fatal("the public tile must not show a draft unit")
	}
	for _, l := range ls {
		for _, f := range l.Features {
			if _, ok := f.Properties["name"]; ok {
				t.Fatalf("a public tile carries a unit name: %v", f.Properties)
			}
		}
	}
}

// TestTileJSONFieldsAreTheTiles decodes real tiles of both audiences, detail and clusters,
// and compares the keys their features carry with the fields their TileJSON announces.
func TestTileJSONFieldsAreTheTiles(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnvWith(t, open(t), func(c *httpapi.Config) { c.TileOptions = tiles.Options{MaxDetailFeatures: 1} })
			for _, k := range []string{"point", "line", "polygon"} {
				e.createShape(t, "TJ-"+k, shapes[k], true)
			}
			if r := e.do("POST", "/api/v1/publications", ""); r.code != 201 {
				t.Fatalf("publish: %d %s", r.code, r.body)
			}
			p := orb.Point{102.913, 24.672}
			for _, prefix := range []string{"", "/public"} {
				for _, layer := range []string{"units", "regions"} {
					var tj struct {
						VectorLayers []struct {
							ID     string            `json:"id"`
							Fields map[string]string `json:"fields"`
						} `json:"vector_layers"`
					}
					if err := json.Unmarshal(e.do("GET", prefix+"/tiles/"+layer+".json", "").body, &tj); err != nil || len(tj.VectorLayers) != 1 {
						t.Fatalf("%s/tiles/%s.json: %v", prefix, layer, err)
					}
					keys := map[string]bool{}
					// z17 draws units one by one; z10, with one detail unit allowed, clusters.
					for _, z := range []maptile.Zoom{17, 10} {
						_, ls := e.tile(t, prefix+tilePath(layer, p, z))
						for _, l := range ls {
							if l.Name != layer {
								t.Fatalf("layer %s in a %s tile", l.Name, layer)
							}
							for _, f := range l.Features {
								for k := range f.Properties {
									keys[k] = true
								}
							}
						}
					}
					got, want := sortedSet(keys), sortedSet(tj.VectorLayers[0].Fields)
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("%s/tiles/%s: the tiles carry %v, the TileJSON lists %v", prefix, layer, got, want)
					}
				}
			}
		})
	}
}

func sortedSet[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
