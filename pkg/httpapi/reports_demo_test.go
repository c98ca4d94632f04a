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
	"riskmap/pkg/analysis"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/hazards"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
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
	// The env's analysis engine holds the demo's units, protective targets and shelters;
	// the stored conflict conditions are brought in line with it, as riskmap serve does at
	// start, so that the conflict rules raise the orange units with a school in range.
	e := reportEnv(t, s, nil)
	reg := register.New(s, cfg.Grader, cfg.Catalog)
	reg.Index = e.ix
	res, err := reg.ReconcileConditions(ctx, riskmap.ConditionConflict, e.eng.WantedConditions())
	if err != nil {
		t.Fatal(err)
	}
	raised := res.Changed
	conflicts, _ := e.eng.Conflicts(analysis.ConflictFilter{})
	t.Logf("demo report: %d conflicts, conditions set on %d units", conflicts, raised)
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
			for _, want := range []string{"澄江市城市安全风险评估报告", fmt.Sprintf("共有风险单元 %d 个", units), "凤麓街道", "未销号的重大隐患",
				// The demo's conflicts (geodata/README.md): 232, the nearest a kindergarten 90 m
				// from a gas station; the zoomed map of the town; 路居镇 short of shelter area.
				"六、安全距离分析", fmt.Sprintf("共 %d 处安全距离不足", conflicts), "个单元的等级因此上调", "凤麓恒达加油加气站", "新城幼儿园", "图 6-1", "图 6-2",
				"七、应急避难场所覆盖", "未达到要求的街道 1 个：路居镇（人均", "缺口 3,680 平方米", "按街道统计", "图 7-1"} {
				if !strings.Contains(text, want) {
					t.Errorf("the demo report lacks %q", want)
				}
			}
			if conflicts < 200 {
				t.Errorf("%d conflicts in the demo city, want the 232 of geodata/README.md", conflicts)
			}
		}
	}
	// A department's report lists only the conflicts of its units: 应急局's are hazardous
	// chemicals in 凤麓街道, so no gas pipeline (CJ-RQ-…) and no unit of another street.
	r := e.do("GET", "/api/v1/report.pdf", "", e.as("yjj")...)
	if r.code != 200 {
		t.Fatalf("yjj's report: %d %.300s", r.code, r.body)
	}
	text := pdfText(t, r.body)
	if i := strings.Index(text, "六、安全距离分析"); i < 0 || strings.Contains(text[i:], "CJ-RQ-") || !strings.Contains(text[i:], "CJ-WHP-") {
		t.Errorf("yjj's conflict chapter: %.2000s", text[max(i, 0):])
	}
	// A report of 路居镇: its conflicts and its shelter coverage (with the district's).
	r = e.do("GET", "/api/v1/report.pdf?region=530481102", "")
	if r.code != 200 {
		t.Fatalf("路居镇's report: %d %.300s", r.code, r.body)
	}
	text = pdfText(t, r.body)
	cov := text[strings.Index(text, "七、应急避难场所覆盖"):]
	if !strings.Contains(cov, "路居镇") || !strings.Contains(cov, "澄江市") || strings.Contains(cov, "九村镇") {
		t.Errorf("路居镇's shelter coverage: %.1000s", cov)
	}
	_ = loaded
}
