package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
)

// needTool skips a test whose external tool is missing, except in CI where it must exist.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required in CI (scripts/install-deps.sh installs it)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

// TestGDALReadsTheOGCAPI is what an analyst does: point GDAL (and so QGIS) at /ogc. Without
// logging in, it reads the latest publication, as the public API serves it.
func TestGDALReadsTheOGCAPI(t *testing.T) {
	ogrinfo := needTool(t, "ogrinfo")
	base, _ := serve(t, "--db", demoGPKG(t, "ogc.gpkg"))
	_, body := get(t, base+"/public/api/v1/units?limit=1")
	var api struct {
		NumberMatched int `json:"numberMatched"`
		Features      []struct {
			Properties struct {
				Code string `json:"code"`
			} `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal([]byte(body), &api); err != nil || api.NumberMatched == 0 || len(api.Features) == 0 {
		t.Fatalf("API count: %v %s", err, body)
	}
	for _, tc := range []struct{ layer, want string }{{"units", strconv.Itoa(api.NumberMatched)}, {"regions", "161"}, {"shelters", "30"}} {
		out, err := exec.Command(ogrinfo, "-ro", "-so", "OAPIF:"+base+"/ogc", tc.layer).CombinedOutput()
		if err != nil {
			t.Fatalf("ogrinfo OAPIF %s: %v\n%s", tc.layer, err, out)
		}
		m := regexp.MustCompile(`Feature Count: (\d+)`).FindSubmatch(out)
		if m == nil || string(m[1]) != tc.want {
			t.Fatalf("GDAL must count %s %s like the API:\n%s", tc.want, tc.layer, out)
		}
	}
	// GDAL pages through the items and reads Chinese attributes.
	out, err := exec.Command(ogrinfo, "-ro", "-al", "-where", "code = '"+api.Features[0].Properties.Code+"'", "OAPIF:"+base+"/ogc", "units").CombinedOutput()
	if err != nil || !regexp.MustCompile(`grade_label \(String\) = 重大风险|grade_label.*=.*风险`).Match(out) {
		t.Fatalf("ogrinfo must read a unit's Chinese attributes: %v\n%.2000s", err, out)
	}
}

// TestGDALValidatesTheStore checks the file make run creates with GDAL's own validator.
func TestGDALValidatesTheStore(t *testing.T) {
	ogrinfo := needTool(t, "ogrinfo")
	db := demoGPKG(t, "v.gpkg")
	out, err := exec.Command(ogrinfo, "-ro", "-so", db, "risk_units").CombinedOutput()
	if err != nil || !regexp.MustCompile(`Feature Count: 3000`).Match(out) {
		t.Fatalf("ogrinfo risk_units: %v\n%s", err, out)
	}
	out, err = exec.Command(ogrinfo, "-ro", "-q", db, "risk_units", "-fid", "2").CombinedOutput()
	if err != nil || !regexp.MustCompile(`name \(String\) = \S*[\p{Han}]`).Match(out) {
		t.Fatalf("ogrinfo must list units with their Chinese attributes: %v\n%s", err, out)
	}
	validGpkg(t, db, "on the demo store")
}
