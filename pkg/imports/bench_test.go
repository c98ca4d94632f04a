package imports_test

import (
	"bytes"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"riskmap/pkg/imports"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/synth"
	"riskmap/pkg/workbook"
)

// TestImport100k measures the target: 100,000 rows checked and written in ≤ 60 s
// with memory under 1 GB (peak RSS of the process, which also built the workbook). It runs
// with RISKMAP_BENCH=1 (make bench), on the GeoPackage and, with RISKMAP_REQUIRE_PG=1, PostGIS.
func TestImport100k(t *testing.T) {
	if testing.Short() || os.Getenv("RISKMAP_BENCH") == "" {
		t.Skip("RISKMAP_BENCH=1 runs the 100k import")
	}
	for name, open := range stores(t) {
		if name == "PostGIS" && os.Getenv("RISKMAP_REQUIRE_PG") == "" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open, false)
			var us []*riskmap.Unit
			for u := range synth.Units(11, benchN(), e.regions, e.cfg.Catalog) {
				us = append(us, u)
			}
			var buf bytes.Buffer
			if err := workbook.WriteUnits(&buf, us, workbook.Export{Title: "基准", Date: time.Now(), Catalog: e.cfg.Catalog, Regions: e.regions}); err != nil {
				t.Fatal(err)
			}
			us = nil
			data := buf.Bytes()
			t.Logf("workbook: %.1f MB", float64(len(data))/(1<<20))
			e.svc.MaxBytes = 64 << 20 // the export's best-speed deflate: 52 MB
			start := time.Now()
			v, err := e.svc.Start(nil, data)
			if err != nil {
				t.Fatal(err)
			}
			v, err = e.svc.Wait(context.Background(), nil, v.ID)
			if err != nil {
				t.Fatal(err)
			}
			checked := time.Since(start)
			if v.ProblemCount != 0 || v.Creates != benchN() {
				t.Fatalf("checked: %d problems (%v), %d creates", v.ProblemCount, v.Problems[:min(3, len(v.Problems))], v.Creates)
			}
			if _, err := e.svc.Commit(nil, v.ID, nil, nil); err != nil {
				t.Fatal(err)
			}
			v, err = e.svc.Wait(context.Background(), nil, v.ID)
			if err != nil || v.Status != imports.Done {
				t.Fatalf("commit: %v %+v", err, v.Error)
			}
			total := time.Since(start)
			n, _ := e.store.CountUnits(context.Background())
			t.Logf("%s: %d rows checked in %.1f s, written in %.1f s, %.1f s in all; %d units stored; peak RSS %s",
				name, benchN(), checked.Seconds(), (total - checked).Seconds(), total.Seconds(), n, peakRSS())
			if n != benchN() {
				t.Errorf("%d units stored", n)
			}
			if total > 60*time.Second {
				t.Errorf("%.1f s, the target is 60 s", total.Seconds())
			}
		})
	}
}

// peakRSS is the process's peak resident set (VmHWM).
func peakRSS() string {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "?"
}

// benchN is the rows of TestImport100k: 100,000, or RISKMAP_IMPORT_ROWS.
func benchN() int {
	if n, err := strconv.Atoi(os.Getenv("RISKMAP_IMPORT_ROWS")); err == nil && n > 0 {
		return n
	}
	return 100000
}
