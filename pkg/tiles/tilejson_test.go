package tiles_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/tiles"
)

// roundTrip encodes a document as the HTTP layer will and reads it back.
func roundTrip(tb testing.TB, doc map[string]any) map[string]any {
	tb.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		tb.Fatal(err)
	}
	return out
}

func TestTileJSON(t *testing.T) {
	city := orb.Bound{Min: orb.Point{102.75, 24.5}, Max: orb.Point{103.1, 24.85}}
	t.Run("OKUnits", func(t *testing.T) {
		doc := roundTrip(t, tiles.TileJSON("https://map.example.cn/public/", "units", tiles.UnitFields(), city, 0, 22))
		if doc["tilejson"] != "3.0.0" || doc["scheme"] != "xyz" || doc["format"] != "pbf" {
			t.Fatalf("header fields: %v", doc)
		}
		urls := doc["tiles"].([]any)
		if len(urls) != 1 || urls[0] != "https://map.example.cn/public/tiles/units/{z}/{x}/{y}.pbf" {
			t.Fatalf("tiles %v", urls)
		}
		layers := doc["vector_layers"].([]any)
		l := layers[0].(map[string]any)
		if len(layers) != 1 || l["id"] != "units" || l["minzoom"] != 0.0 || l["maxzoom"] != 22.0 {
			t.Fatalf("vector_layers %v", layers)
		}
		for _, f := range []string{"id", "name", "category", "grade", "cluster", "count", "red", "blue"} {
			if _, ok := l["fields"].(map[string]any)[f]; !ok {
				t.Errorf("field %s missing from vector_layers", f)
			}
		}
		b := doc["bounds"].([]any)
		if b[0] != 102.75 || b[1] != 24.5 || b[2] != 103.1 || b[3] != 24.85 {
			t.Fatalf("bounds %v", b)
		}
		c := doc["center"].([]any)
		if lon, lat, z := c[0].(float64), c[1].(float64), c[2].(float64); lon < 102.75 || lon > 103.1 || lat < 24.5 || lat > 24.85 || z < 8 || z > 12 {
			t.Fatalf("center %v: want inside the bounds at a city-wide zoom", c)
		}
		if !strings.ContainsRune(doc["description"].(string), '险') || doc["name"] == "units" {
			t.Fatalf("want a Chinese name and description, got %q / %q", doc["name"], doc["description"])
		}
	})
	t.Run("OKRegionsAtSiteRoot", func(t *testing.T) {
		doc := roundTrip(t, tiles.TileJSON("", "regions", tiles.RegionFields(), city, 0, 16))
		if doc["tiles"].([]any)[0] != "/tiles/regions/{z}/{x}/{y}.pbf" {
			t.Fatalf("tiles %v", doc["tiles"])
		}
	})
	t.Run("OKWorldWhenNoBounds", func(t *testing.T) {
		doc := roundTrip(t, tiles.TileJSON("", "units", nil, orb.Bound{}, 0, 22))
		b := doc["bounds"].([]any)
		if b[0] != -180.0 || b[2] != 180.0 {
			t.Fatalf("bounds %v, want the world", b)
		}
	})
}

func TestMetadataJSON(t *testing.T) {
	city := orb.Bound{Min: orb.Point{102.75, 24.5}, Max: orb.Point{103.1, 24.85}}
	doc := roundTrip(t, tiles.MetadataJSON("regions", tiles.RegionFields(), city, 0, 16, "Polygon"))
	t.Run("OKMBTilesForm", func(t *testing.T) {
		if doc["format"] != "pbf" || doc["bounds"] != "102.75,24.5,103.1,24.85" || doc["minzoom"] != "0" || doc["maxzoom"] != "16" {
			t.Fatalf("metadata %v", doc)
		}
		if !regexp.MustCompile(`^[0-9.]+,[0-9.]+,[0-9]+$`).MatchString(doc["center"].(string)) {
			t.Fatalf("center %q: want lon,lat,zoom", doc["center"])
		}
	})
	t.Run("OKJSONHoldsVectorLayers", func(t *testing.T) {
		var inner struct {
			VectorLayers []struct {
				ID     string            `json:"id"`
				Fields map[string]string `json:"fields"`
			} `json:"vector_layers"`
			Tilestats struct {
				Layers []struct {
					Layer    string `json:"layer"`
					Geometry string `json:"geometry"`
				} `json:"layers"`
			} `json:"tilestats"`
		}
		if err := json.Unmarshal([]byte(doc["json"].(string)), &inner); err != nil {
			t.Fatalf("json key: %v", err)
		}
		if len(inner.VectorLayers) != 1 || inner.VectorLayers[0].ID != "regions" || inner.VectorLayers[0].Fields["grade"] != "String" {
			t.Fatalf("vector_layers %+v", inner.VectorLayers)
		}
		if inner.Tilestats.Layers[0].Geometry != "Polygon" {
			t.Fatalf("tilestats %+v", inner.Tilestats)
		}
	})
}

// TestGDALReadsTiles writes tiles as GDAL's MVT driver expects a tile directory
// ({root}/metadata.json, {root}/{z}/{x}/{y}.pbf) and reads them with ogrinfo.
func TestGDALReadsTiles(t *testing.T) {
	ogrinfo, err := exec.LookPath("ogrinfo")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ogrinfo is not installed, and CI needs this test (apt-get install gdal-bin)")
		}
		t.Skip("ogrinfo is not installed")
	}
	run := func(t *testing.T, args ...string) string {
		out, err := exec.Command(ogrinfo, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("ogrinfo %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	write := func(t *testing.T, layer string, raw []byte, fields map[string]string, geometry string) (dir, file string) {
		dir = t.TempDir()
		file = filepath.Join(dir, fmt.Sprint(demoTile.Z), fmt.Sprint(demoTile.X), fmt.Sprintf("%d.pbf", demoTile.Y))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		md, err := json.Marshal(tiles.MetadataJSON(layer, fields, demoTile.Bound(), 0, 22, geometry))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "metadata.json"), md, 0o644); err != nil {
			t.Fatal(err)
		}
		return dir, file
	}
	t.Run("OKUnitsDirectory", func(t *testing.T) {
		ix := mustIndex(t, fixtureUnits()...)
		raw, n := mustRender(t, ix.Snapshot(), demoTile, tiles.Options{})
		dir, file := write(t, "units", raw, tiles.UnitFields(), "")
		summary := run(t, "-ro", "-al", "-so", filepath.Join(dir, fmt.Sprint(demoTile.Z)))
		for _, want := range []string{"Layer name: units", fmt.Sprintf("Feature Count: %d", n), "grade: String", "cluster: Integer(Boolean)"} {
			if !strings.Contains(summary, want) {
				t.Errorf("summary lacks %q:\n%s", want, summary)
			}
		}
		features := run(t, "-ro", "-al", "MVT:"+file)
		for _, want := range []string{"grade (String) = red", "name (String) = 测试单元1", "mvt_id (Integer64) = 5", "POLYGON (("} {
			if !strings.Contains(features, want) {
				t.Errorf("features lack %q:\n%s", want, features)
			}
		}
	})
	t.Run("OKRegionsDirectory", func(t *testing.T) {
		raw, _, err := tiles.RenderRegions(fixtureRegions(), demoTile, tiles.Options{})
		if err != nil {
			t.Fatal(err)
		}
		dir, _ := write(t, "regions", raw, tiles.RegionFields(), "Polygon")
		summary := run(t, "-ro", "-al", "-so", filepath.Join(dir, fmt.Sprint(demoTile.Z)))
		for _, want := range []string{"Layer name: regions", "Feature Count: 3", "Geometry: Multi Polygon"} {
			if !strings.Contains(summary, want) {
				t.Errorf("summary lacks %q:\n%s", want, summary)
			}
		}
		features := run(t, "-ro", "-al", filepath.Join(dir, fmt.Sprint(demoTile.Z)))
		if !strings.Contains(features, "grade (String) = orange") || !strings.Contains(features, "name (String) = 凤麓街道") {
			t.Errorf("features lack the district's grade or the street's name:\n%s", features)
		}
	})
}
