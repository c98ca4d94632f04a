package basemap_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"riskmap/pkg/basemap"
	"riskmap/pkg/riskmap"
)

// The demo city's centre, where the test rasters lie.
const lon, lat = 102.92, 24.67

// gdal finds a GDAL command: a missing one skips the test locally but fails it in CI or
// with RISKMAP_REQUIRE_PG=1 (scripts/install-deps.sh installs gdal-bin).
func gdal(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("RISKMAP_REQUIRE_PG") == "1" {
			t.Fatalf("%s is missing; CI needs it (apt-get install gdal-bin, as scripts/install-deps.sh does)", name)
		}
		t.Skipf("%s is missing; apt-get install gdal-bin to run this test", name)
	}
	return p
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(gdal(t, name), args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// RasterMBTiles writes a GeoTIFF of one colour (200, 120, 40) over the demo city and turns
// it into a raster MBTiles with GDAL, with an overview level: zooms 11 and 12.
func rasterMBTiles(t *testing.T) string {
	dir := t.TempDir()
	tif, mb := filepath.Join(dir, "城市.tif"), filepath.Join(dir, "城市 底图.mbtiles")
	run(t, "gdal_create", "-of", "GTiff", "-outsize", "512", "512", "-bands", "3", "-burn", "200", "-burn", "120", "-burn", "40",
		"-a_srs", "EPSG:4326", "-a_ullr", "102.85", "24.72", "102.99", "24.62", tif)
	run(t, "gdal_translate", "-q", "-of", "MBTiles", "-co", "NAME=澄江测试底图", tif, mb)
	run(t, "gdaladdo", "-q", mb, "2")
	return mb
}

func vectorMBTiles(t *testing.T) string {
	dir := t.TempDir()
	src, mb := filepath.Join(dir, "roads.geojson"), filepath.Join(dir, "roads.mbtiles")
	fc := fmt.Sprintf(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"抚仙路"},"geometry":{"type":"LineString","coordinates":[[%g,%g],[%g,%g]]}}]}`,
		lon-0.02, lat-0.02, lon+0.02, lat+0.02)
	if err := os.WriteFile(src, []byte(fc), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "ogr2ogr", "-f", "MBTILES", mb, src, "-dsco", "MINZOOM=8", "-dsco", "MAXZOOM=12")
	return mb
}

// xyz is the XYZ tile holding lon, lat at zoom z.
func xyz(z int, lon, lat float64) (x, y int) {
	fx, fy := tileFloat(z, lon, lat)
	return int(fx), int(fy)
}

// tileFloat is where lon, lat lies in tile units at zoom z.
func tileFloat(z int, lon, lat float64) (x, y float64) {
	n := math.Exp2(float64(z))
	r := lat * math.Pi / 180
	return (lon + 180) / 360 * n, (1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n
}

func TestRasterMBTilesFromGDAL(t *testing.T) {
	ctx := context.Background()
	m, err := basemap.Open(ctx, rasterMBTiles(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Format != "png" || m.ContentType != "image/png" || m.Name != "澄江测试底图" || m.MinZoom != 11 || m.MaxZoom != 12 {
		t.Fatalf("metadata: %+v", m)
	}
	if b := m.Bounds; math.Abs(b[0]-102.85) > 1e-6 || math.Abs(b[3]-24.72) > 1e-6 {
		t.Fatalf("bounds %v", b)
	}
	for _, z := range []int{11, 12} {
		x, y := xyz(z, lon, lat)
		// The XYZ row of the city's centre is a tile (the file's TMS row is flipped), in the
		// raster's colour.
		tile, err := m.Get(ctx, fmt.Sprint(z), fmt.Sprint(x), fmt.Sprintf("%d.png", y))
		if err != nil {
			t.Fatalf("z%d %d/%d: %v", z, x, y, err)
		}
		img, err := png.Decode(bytes.NewReader(tile.Data))
		if err != nil {
			t.Fatal(err)
		}
		fx, fy := tileFloat(z, lon, lat)
		px, py := int((fx-float64(x))*float64(img.Bounds().Dx())), int((fy-float64(y))*float64(img.Bounds().Dy()))
		r, g, bl, a := img.At(px, py).RGBA()
		if r>>8 != 200 || g>>8 != 120 || bl>>8 != 40 || a>>8 != 255 {
			t.Fatalf("z%d: the city's centre is %d,%d,%d,%d, not the raster's colour", z, r>>8, g>>8, bl>>8, a>>8)
		}
		if tile.ETag == "" || tile.Encoding != "" {
			t.Fatalf("tile %+v", tile)
		}
	}
	// Not there: far away, at a zoom the file lacks, and a tile of the other TMS row.
	x, y := xyz(12, lon, lat)
	for _, zxy := range [][3]string{
		{"12", "0", "0.png"},
		{"10", fmt.Sprint(x / 4), fmt.Sprintf("%d.png", y/4)},
		{"12", fmt.Sprint(x), fmt.Sprintf("%d.png", (1<<12)-1-y)},
	} {
		if _, err := m.Get(ctx, zxy[0], zxy[1], zxy[2]); riskmap.ErrorCode(err) != riskmap.ENOTFOUND {
			t.Errorf("%v: %v, want ENOTFOUND", zxy, err)
		}
	}
	// A bad address is refused in Chinese.
	for _, zxy := range [][3]string{{"a", "0", "0.png"}, {"12", "4096", "0.png"}, {"12", "0", "0.pbf"}, {"25", "0", "0.png"}, {"12", "-1", "0.png"}} {
		_, err := m.Get(ctx, zxy[0], zxy[1], zxy[2])
		if riskmap.ErrorCode(err) != riskmap.EINVALID || !strings.Contains(riskmap.ErrorMessage(err), "瓦片") {
			t.Errorf("%v: %v, want EINVALID in Chinese", zxy, err)
		}
	}
	tj := m.TileJSON("/basemap/{z}/{x}/{y}.png")
	if tj["format"] != "png" || tj["minzoom"] != 11 || tj["tiles"].([]string)[0] != "/basemap/{z}/{x}/{y}.png" {
		t.Fatalf("TileJSON %v", tj)
	}
}

func TestVectorMBTilesFromGDAL(t *testing.T) {
	ctx := context.Background()
	m, err := basemap.Open(ctx, vectorMBTiles(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Format != "pbf" || m.Ext != "pbf" || m.MinZoom != 8 || m.MaxZoom != 12 {
		t.Fatalf("metadata: %+v", m)
	}
	var layers []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(m.VectorLayers, &layers); err != nil || len(layers) != 1 || layers[0].ID != "roads" {
		t.Fatalf("vector_layers %s: %v", m.VectorLayers, err)
	}
	x, y := xyz(10, lon, lat)
	tile, err := m.Get(ctx, "10", fmt.Sprint(x), fmt.Sprintf("%d.pbf", y))
	if err != nil {
		t.Fatal(err)
	}
	if tile.Encoding != "gzip" || tile.ContentType != "application/vnd.mapbox-vector-tile" || !bytes.HasPrefix(tile.Data, []byte{0x1f, 0x8b}) {
		t.Fatalf("vector tile %s %s % x", tile.ContentType, tile.Encoding, tile.Data[:4])
	}
}

func TestOpenRefusesWhatIsNotMBTiles(t *testing.T) {
	dir := t.TempDir()
	notDB := filepath.Join(dir, "x.mbtiles")
	os.WriteFile(notDB, []byte("这不是 SQLite 文件"), 0o644)
	for _, p := range []string{filepath.Join(dir, "missing.mbtiles"), dir, notDB} {
		m, err := basemap.Open(context.Background(), p)
		if err == nil {
			m.Close()
			t.Fatalf("%s opened", p)
		}
		if !strings.Contains(err.Error(), "底图") {
			t.Errorf("%s: %v (want a Chinese message naming the basemap)", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.mbtiles")); err == nil {
		t.Fatal("opening a missing basemap must not create it")
	}
}

func FuzzParseZXY(f *testing.F) {
	for _, s := range [][3]string{{"0", "0", "0.png"}, {"12", "3218", "1700.pbf"}, {"24", "16777215", "16777215.png"}, {"", "", ""}, {"1", "2", "1.png"}, {"01", "1", "1.png.png"}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, z, x, y string) {
		zv, xv, yv, err := basemap.ParseZXY(z, x, y, "png")
		if err != nil {
			if riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Fatalf("%q/%q/%q: %v is not EINVALID", z, x, y, err)
			}
			return
		}
		n := 1 << zv
		if zv < 0 || zv > basemap.MaxZoom || xv < 0 || xv >= n || yv < 0 || yv >= n || !strings.HasSuffix(y, ".png") {
			t.Fatalf("%q/%q/%q accepted as %d/%d/%d", z, x, y, zv, xv, yv)
		}
	})
}
