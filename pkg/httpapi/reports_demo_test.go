package httpapi_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"riskmap/geodata"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/hazards"
	"riskmap/pkg/register"
)

// TestDemoReport writes the demo city's report (its units and hidden dangers, in a
// GeoPackage) and its map images, checks what they say, and logs how long each took (make
// bench reports them; the target is ≤ 5 s for the report). RISKMAP_REPORT_OUT=DIR keeps the
// files there.
func TestDemoReport(t *testing.T) {
	needFont(t)
	if testing.Short() {
		t.Skip("loads the demo city")
	}
	ctx := context.Background()
	s, err := gpkg.Open(ctx, filepath.Join(t.TempDir(), "demo.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	loaded, err := demo.Load(ctx, geodata.FS, s, register.New(s, cfg.Grader, cfg.Catalog))
	if err != nil {
		t.Fatal(err)
	}
	day := time.Now().UTC().Truncate(24 * time.Hour)
	svc := &hazards.Service{Store: s, Dynamics: cfg.Grader.Dynamics, Units: s, Catalog: cfg.Catalog}
	if _, err := demo.LoadHazards(ctx, s, svc, day, demo.HazardsOptions{}); err != nil {
		t.Fatal(err)
	}
	e := reportEnv(t, s, nil)
	units := e.ix.Snapshot().Len()
	out := os.Getenv("RISKMAP_REPORT_OUT")
	for _, p := range []string{"/api/v1/report.pdf", "/api/v1/report.docx", "/api/v1/map.png", "/api/v1/map.png?layer=regions"} {
		t0 := time.Now()
		r := e.do("GET", p, "")
		took := time.Since(t0)
		if r.code != 200 {
			t.Fatalf("%s: %d %.300s", p, r.code, r.body)
		}
		t.Logf("demo report: %s (%d units) in %.2f s, %d KB", p, units, took.Seconds(), len(r.body)/1024)
		if out != "" {
			name := strings.NewReplacer("/api/v1/", "demo-", "?layer=", "-").Replace(p)
			if err := os.WriteFile(filepath.Join(out, name), r.body, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if p == "/api/v1/report.pdf" {
			text := pdfText(t, r.body)
			for _, want := range []string{"澄江市城市安全风险评估报告", fmt.Sprintf("共有风险单元 %d 个", units), "凤麓街道", "未销号的重大隐患"} {
				if !strings.Contains(text, want) {
					t.Errorf("the demo report lacks %q", want)
				}
			}
		}
	}
	_ = loaded
}
