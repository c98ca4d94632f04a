package gpkg_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/gpkg"
	"riskmap/pkg/monitoring"
	"riskmap/pkg/storetest"
)

// TestValidateMonitoringGPKG asks GDAL whether a file with monitoring points, readings and
// an alarm is still a valid GeoPackage, and reads the points as a point layer.
func TestValidateMonitoringGPKG(t *testing.T) {
	python, validator, ogrinfo := gdalTools(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "监测.gpkg")
	s, err := gpkg.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	u := storetest.NewUnit("MON-V", orb.Point{102.91, 24.67})
	if err := s.CreateUnit(ctx, u); err != nil {
		t.Fatal(err)
	}
	red := 50.0
	p := &monitoring.Point{Code: "QT-储罐-01", UnitID: u.ID, Kind: "gas", UnitOfMeasure: "%LEL", Location: orb.Point{102.912, 24.671},
		IntervalS: 60, Thresholds: monitoring.Thresholds{Upper: &monitoring.Bounds{Red: &red}}}
	if err := s.CreatePointRecorded(ctx, p, nil); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	if _, _, err := s.AppendReadings(ctx, []monitoring.Reading{{PointID: p.ID, Time: at, Value: 60}}); err != nil {
		t.Fatal(err)
	}
	a := &monitoring.Alarm{Code: "BJ-1", PointID: p.ID, UnitID: u.ID, Rule: monitoring.RuleThreshold, Side: monitoring.SideUpper,
		Level: monitoring.LevelRed, Status: monitoring.StatusActive, OpenedAt: at, Peak: 60, PeakAt: at, LastValue: 60}
	if err := s.OpenAlarmRecorded(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, validator, "-k", "--extra", "--warning-as-error", path).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Fatalf("validate_gpkg.py: %v\n%s", err, out)
	}
	out, err = exec.Command(ogrinfo, "-q", path, "monitoring_points", "-spat", "102.911", "24.670", "102.913", "24.672").CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, out)
	}
	for _, want := range []string{"QT-储罐-01", "POINT (102.912 24.671)"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("ogrinfo must list %q:\n%s", want, out)
		}
	}
}
