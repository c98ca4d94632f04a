package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gdalCommand finds a GDAL command: missing, it skips the test locally and fails it in CI
// or with RISKMAP_REQUIRE_PG=1 (scripts/install-deps.sh installs gdal-bin).
func gdalCommand(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("RISKMAP_REQUIRE_PG") == "1" {
			t.Fatalf("%s is required (scripts/install-deps.sh installs gdal-bin)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

func gdalRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(gdalCommand(t, name), args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

// demoTile is the XYZ tile of the demo city's centre at zoom z.
func demoTile(z int) (x, y int) {
	n := math.Exp2(float64(z))
	r := 24.67 * math.Pi / 180
	return int((102.92 + 180) / 360 * n), int((1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n)
}

type answer struct {
	code int
	h    http.Header
	body []byte
}

// fetch GETs url with headers, with no transparent decompression.
func fetch(t *testing.T, url string, headers ...string) answer {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, b}
}

// TestServeRasterBasemap: an MBTiles that GDAL makes from a GeoTIFF is served at /basemap/
// to anyone, named in both pages' ui-config.
func TestServeRasterBasemap(t *testing.T) {
	dir := t.TempDir()
	tif, mb := filepath.Join(dir, "city.tif"), filepath.Join(dir, "city.mbtiles")
	gdalRun(t, "gdal_create", "-of", "GTiff", "-outsize", "512", "512", "-bands", "3", "-burn", "90", "-burn", "160", "-burn", "90",
		"-a_srs", "EPSG:4326", "-a_ullr", "102.85", "24.72", "102.99", "24.62", tif)
	gdalRun(t, "gdal_translate", "-q", "-of", "MBTiles", "-co", "NAME=澄江街道图", tif, mb)
	gdalRun(t, "gdaladdo", "-q", mb, "2", "4")
	base, _ := serve(t, "--db", filepath.Join(dir, "t.gpkg"), "--basemap", mb)

	a := fetch(t, base+"/basemap/tilejson.json")
	var tj struct {
		Name    string    `json:"name"`
		Format  string    `json:"format"`
		Tiles   []string  `json:"tiles"`
		MinZoom int       `json:"minzoom"`
		MaxZoom int       `json:"maxzoom"`
		Bounds  []float64 `json:"bounds"`
	}
	if err := json.Unmarshal(a.body, &tj); a.code != 200 || err != nil {
		t.Fatalf("tilejson: %d %s", a.code, a.body)
	}
	if tj.Name != "澄江街道图" || tj.Format != "png" || len(tj.Tiles) != 1 || tj.Tiles[0] != base+"/basemap/{z}/{x}/{y}.png" || tj.MaxZoom != 12 || tj.MinZoom > 11 || len(tj.Bounds) != 4 {
		t.Fatalf("tilejson %+v", tj)
	}
	// Both pages are told, the public one included.
	for _, p := range []string{"/api/v1/ui-config", "/public/api/v1/ui-config"} {
		var cfg struct {
			Basemap *struct {
				Tiles []string `json:"tiles"`
			} `json:"basemap"`
		}
		if code, body := get(t, base+p); code != 200 || json.Unmarshal([]byte(body), &cfg) != nil || cfg.Basemap == nil || cfg.Basemap.Tiles[0] != "/basemap/{z}/{x}/{y}.png" {
			t.Fatalf("%s: %d %s", p, code, body)
		}
	}

	x, y := demoTile(12)
	tile := fmt.Sprintf("%s/basemap/12/%d/%d.png", base, x, y)
	a = fetch(t, tile)
	if a.code != 200 || a.h.Get("Content-Type") != "image/png" || !strings.HasPrefix(string(a.body), "\x89PNG") {
		t.Fatalf("tile: %d %s", a.code, a.h)
	}
	etag := a.h.Get("ETag")
	if etag == "" || !strings.Contains(a.h.Get("Cache-Control"), "max-age") {
		t.Fatalf("tile caching headers: %v", a.h)
	}
	if b := fetch(t, tile, "If-None-Match", etag); b.code != http.StatusNotModified || len(b.body) != 0 {
		t.Fatalf("revalidation: %d", b.code)
	}
	// A tile the file does not hold is 404; a bad address a Chinese 400.
	for path, want := range map[string]int{
		"/basemap/12/0/0.png":                      404,
		"/basemap/3/1/1.png":                       404,
		fmt.Sprintf("/basemap/12/%d/%d.jpg", x, y): 400,
		"/basemap/12/99999/1.png":                  400,
		"/basemap/x/1/1.png":                       400,
		"/basemap/30/1/1.png":                      400,
	} {
		b := fetch(t, base+path)
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		json.Unmarshal(b.body, &e)
		if b.code != want || !strings.Contains(e.Error.Message, "瓦片") {
			t.Errorf("%s: %d %s, want %d with a Chinese message", path, b.code, b.body, want)
		}
	}
}

// TestServeVectorBasemap: the gzipped vector tiles of an MBTiles from ogr2ogr go out as they
// are stored, with Content-Encoding: gzip, and unzipped to a client that does not take gzip.
func TestServeVectorBasemap(t *testing.T) {
	dir := t.TempDir()
	src, mb := filepath.Join(dir, "roads.geojson"), filepath.Join(dir, "roads.mbtiles")
	os.WriteFile(src, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"抚仙路"},"geometry":{"type":"LineString","coordinates":[[102.90,24.65],[102.94,24.69]]}}]}`), 0o644)
	gdalRun(t, "ogr2ogr", "-f", "MBTILES", mb, src, "-dsco", "MINZOOM=8", "-dsco", "MAXZOOM=12")
	// The config file names the basemap, relative to its own directory.
	cfg := filepath.Join(dir, "riskmap.json")
	os.WriteFile(cfg, []byte(`{"basemap": {"mbtiles": "roads.mbtiles"}}`), 0o644)
	base, _ := serve(t, "--db", filepath.Join(dir, "t.gpkg"), "--config", cfg)

	x, y := demoTile(10)
	tile := fmt.Sprintf("%s/basemap/10/%d/%d.pbf", base, x, y)
	a := fetch(t, tile, "Accept-Encoding", "gzip, deflate, br")
	if a.code != 200 || a.h.Get("Content-Type") != "application/vnd.mapbox-vector-tile" || a.h.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(string(a.body), "\x1f\x8b") {
		t.Fatalf("vector tile: %d %v", a.code, a.h)
	}
	plain := fetch(t, tile)
	if plain.code != 200 || plain.h.Get("Content-Encoding") != "" || strings.HasPrefix(string(plain.body), "\x1f\x8b") || !strings.Contains(string(plain.body), "roads") {
		t.Fatalf("vector tile without gzip: %d %v", plain.code, plain.h)
	}
	if plain.h.Get("ETag") == a.h.Get("ETag") {
		t.Fatal("the gzipped and plain tiles need different ETags")
	}
	var tj struct {
		Format       string `json:"format"`
		VectorLayers []struct {
			ID string `json:"id"`
		} `json:"vector_layers"`
	}
	if code, body := get(t, base+"/basemap/tilejson.json"); code != 200 || json.Unmarshal([]byte(body), &tj) != nil || tj.Format != "pbf" || len(tj.VectorLayers) != 1 || tj.VectorLayers[0].ID != "roads" {
		t.Fatalf("tilejson: %d %s", code, body)
	}
}

func TestServeWithoutBasemap(t *testing.T) {
	base, _ := serve(t, "--db", filepath.Join(t.TempDir(), "t.gpkg"))
	if code, body := get(t, base+"/basemap/tilejson.json"); code != 404 || !strings.Contains(body, "没有配置离线底图") {
		t.Fatalf("without --basemap: %d %s", code, body)
	}
	m := NewMain()
	m.Stdout, m.Stderr, m.Getenv = io.Discard, io.Discard, func(string) string { return "" }
	if err := m.ParseFlags([]string{"serve", "--db", filepath.Join(t.TempDir(), "t.gpkg"), "--listen", "127.0.0.1:0", "--basemap", "/nonexistent/x.mbtiles"}); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Run(t.Context()); err == nil || !strings.Contains(err.Error(), "底图文件") {
		t.Fatalf("a missing basemap must stop serve with a Chinese message: %v", err)
	}
}
