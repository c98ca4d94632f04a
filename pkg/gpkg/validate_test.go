package gpkg_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/gpkg"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/storetest"
)

// validatorPaths are where Debian's python3-gdal puts GDAL's GeoPackage validator.
var validatorPaths = []string{
	"/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py",
	"/usr/share/doc/python3-gdal/examples/validate_gpkg.py",
}

// gdalTools finds validate_gpkg.py, a Python that can import osgeo (the validator uses GDAL
// to parse every geometry when it can), and ogrinfo. Missing tools skip the test on a
// developer's machine and fail it in CI, where .ci/run installs gdal-bin and python3-gdal.
func gdalTools(t *testing.T) (python, validator, ogrinfo string) {
	t.Helper()
	missing := func(what string) {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing; CI must install gdal-bin and python3-gdal", what)
		}
		t.Skipf("%s is missing; apt-get install gdal-bin python3-gdal to run this test", what)
	}
	for _, p := range validatorPaths {
		if _, err := os.Stat(p); err == nil {
			validator = p
			break
		}
	}
	if validator == "" {
		missing("validate_gpkg.py (python3-gdal)")
	}
	// Debian's python3-gdal belongs to /usr/bin/python3; a python3 earlier on PATH (pyenv)
	// may lack the osgeo module.
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if err := exec.Command(p, "-c", "import osgeo.ogr").Run(); err == nil {
			python = p
			break
		}
	}
	if python == "" {
		missing("a python3 with the osgeo module (python3-gdal)")
	}
	var err error
	if ogrinfo, err = exec.LookPath("ogrinfo"); err != nil {
		missing("ogrinfo (gdal-bin)")
	}
	return python, validator, ogrinfo
}

// TestValidateGPKG writes a file with every table filled and asks GDAL whether it is a valid
// GeoPackage that it reads correctly, Chinese text included.
func TestValidateGPKG(t *testing.T) {
	python, validator, ogrinfo := gdalTools(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "城市风险.gpkg")
	if d := os.Getenv("GPKG_KEEP"); d != "" {
		path = filepath.Join(d, "城市风险.gpkg")
	}
	s, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	poly := orb.Polygon{{{102.90, 24.60}, {102.95, 24.60}, {102.95, 24.65}, {102.90, 24.65}, {102.90, 24.60}}}
	units := []*riskmap.Unit{
		storetest.NewUnit("V-POINT", orb.Point{102.91, 24.67}),
		storetest.NewUnit("V-LINE", orb.LineString{{102.90, 24.66}, {102.91, 24.665}, {102.92, 24.67}}),
		storetest.NewUnit("V-POLY", poly),
		storetest.NewUnit("V-MPOLY", orb.MultiPolygon{poly}),
	}
	units[0].Name = "凤麓街道加油站"
	units[3].MajorHazardSource, units[3].AssessedAt, units[3].NextReviewDue = nil, nil, nil
	for _, u := range units {
		if err := s.CreateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	// A bulk load larger than the index packs the R-tree (the four units above included).
	if _, err := s.BulkInsertUnits(ctx, func(yield func(*riskmap.Unit) bool) {
		for i := range 120 {
			g := orb.Point{102.81 + float64(i%12)*0.015, 24.51 + float64(i/12)*0.015}
			if !yield(storetest.NewUnit(fmt.Sprintf("V-BULK-%03d", i), g)) {
				return
			}
		}
	}, nil); err != nil {
		t.Fatal(err)
	}
	// An update and a retirement exercise the R-tree update triggers.
	units[1].Geometry = orb.LineString{{102.80, 24.50}, {103.00, 24.50}}
	if err := s.UpdateUnit(ctx, units[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RetireUnit(ctx, units[2].ID, units[2].Version); err != nil {
		t.Fatal(err)
	}
	sq := func(x, y, d float64) orb.MultiPolygon {
		return orb.MultiPolygon{{{{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}, {x, y}}}}
	}
	if err := s.PutRegions(ctx, []*riskmap.Region{
		{Code: "530481", Name: "澄江市", Level: riskmap.LevelDistrict, Population: 170000, Geometry: sq(102.7, 24.4, 0.4)},
		{Code: "530481001", Name: "凤麓街道", Level: riskmap.LevelStreet, ParentCode: "530481", Geometry: sq(102.8, 24.6, 0.1)},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRegions(ctx, []*riskmap.Region{
		{Code: "530481001", Name: "凤麓街道", Level: riskmap.LevelStreet, ParentCode: "530481", Geometry: sq(102.8, 24.6, 0.2)},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddProtectiveTargets(ctx, []*riskmap.ProtectiveTarget{
		{Name: "凤麓小学", Kind: riskmap.TargetSchool, RegionCode: "530481001001", People: 1200, Geometry: orb.Point{102.91, 24.68}},
		{Name: "县人民医院", Kind: riskmap.TargetHospital, RegionCode: "530481001002", People: 800, Geometry: poly},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddShelters(ctx, []*riskmap.Shelter{
		{Name: "澄江市体育场避难场所", Kind: riskmap.ShelterFixed, RegionCode: "530481001", Capacity: 8000,
			EffectiveAreaM2: 12000, ServiceRadiusM: 1000, Geometry: orb.Point{102.90, 24.67}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUserRecorded(ctx, &riskmap.User{Name: "admin", Role: riskmap.RoleAdmin, PasswordHash: "x"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	run := func(t *testing.T, name string, args ...string) string {
		t.Helper()
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	t.Run("ValidatorOK", func(t *testing.T) {
		// -k reports every problem instead of the first; --extra also checks the column
		// contents (DATETIME and DATE text, value ranges) and --warning-as-error fails on
		// any of them.
		out := run(t, python, validator, "-k", "--extra", "--warning-as-error", path)
		if strings.TrimSpace(out) != "" {
			t.Fatalf("validate_gpkg.py printed:\n%s", out)
		}
	})
	t.Run("OgrinfoSummaryOK", func(t *testing.T) {
		out := run(t, ogrinfo, "-al", "-so", path, "risk_units")
		for _, want := range []string{"Geometry: Unknown (any)", "Feature Count: 124", "EPSG", "4326",
			"name: String", "created_at: DateTime", "next_review_due: Date", "risk_value: Real"} {
			if !strings.Contains(out, want) {
				t.Errorf("ogrinfo summary lacks %q:\n%s", want, out)
			}
		}
		if !strings.Contains(out, "Extent: (102.800000, 24.500000) - (103.000000, 24.670000)") {
			t.Errorf("extent must cover every geometry written:\n%s", out)
		}
	})
	t.Run("OgrinfoFeatureOK", func(t *testing.T) {
		out := run(t, ogrinfo, path, "risk_units", "-fid", "1")
		for _, want := range []string{"凤麓街道加油站", "grade (String) = red", "grade_label (String) = 重大风险",
			"POINT (102.91 24.67)", "created_at (DateTime) = " + units[0].CreatedAt.Format("2006/01/02 15:04:05.000")} {
			if !strings.Contains(out, want) {
				t.Errorf("ogrinfo feature 1 lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("OgrSpatialFilterUsesIndexOK", func(t *testing.T) {
		// GDAL answers -spat from the R-tree: the line moved by the update must be found
		// at its new place only.
		out := run(t, ogrinfo, "-q", path, "risk_units", "-spat", "102.85", "24.49", "102.86", "24.51")
		if !strings.Contains(out, "V-LINE") || strings.Contains(out, "V-POINT") {
			t.Errorf("spatial filter picked the wrong units:\n%s", out)
		}
		out = run(t, ogrinfo, "-q", path, "risk_units", "-spat", "102.8095", "24.5095", "102.8105", "24.5105")
		if !strings.Contains(out, "V-BULK-000") || strings.Contains(out, "V-BULK-001") {
			t.Errorf("spatial filter over the packed index picked the wrong units:\n%s", out)
		}
		out = run(t, ogrinfo, "-q", path, "regions", "-spat", "102.95", "24.75", "102.96", "24.76")
		if !strings.Contains(out, "凤麓街道") {
			t.Errorf("the replaced region must be indexed at its new extent:\n%s", out)
		}
	})
	t.Run("OgrSQLRTreeIntegrityOK", func(t *testing.T) {
		for _, tbl := range []string{"risk_units", "regions", "protective_targets", "shelters"} {
			out := run(t, ogrinfo, "-q", path, "-sql", "SELECT rtreecheck('rtree_"+tbl+"_geom') AS r")
			if !strings.Contains(out, "r (String) = ok") {
				t.Errorf("rtreecheck of %s:\n%s", tbl, out)
			}
		}
	})
}

// TestAddsToGDALGeoPackage opens a GeoPackage that GDAL made, adds the store's tables to
// it, and checks that the result is still valid and GDAL's own layer is untouched.
func TestAddsToGDALGeoPackage(t *testing.T) {
	python, validator, ogrinfo := gdalTools(t)
	ogr2ogr, err := exec.LookPath("ogr2ogr")
	if err != nil {
		t.Skip("ogr2ogr is missing")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "wells.geojson")
	if err := os.WriteFile(src, []byte(`{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"名称":"一号井"},"geometry":{"type":"Point","coordinates":[102.9,24.6]}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "gdal.gpkg")
	if out, err := exec.Command(ogr2ogr, "-f", "GPKG", path, src).CombinedOutput(); err != nil {
		t.Fatalf("ogr2ogr: %v\n%s", err, out)
	}
	ctx := context.Background()
	s, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUnit(ctx, storetest.NewUnit("G-1", orb.Point{102.91, 24.67})); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(python, validator, "-k", path).CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "" {
		t.Fatalf("validate_gpkg.py: %v\n%s", err, out)
	}
	out, err := exec.Command(ogrinfo, "-q", path, "wells").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "一号井") {
		t.Fatalf("GDAL's layer must survive: %v\n%s", err, out)
	}
}
