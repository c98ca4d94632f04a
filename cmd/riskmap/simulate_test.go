package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/gpkg"
	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
)

// simDB is a GeoPackage with the demo city and, whether or not the demo has its own, a gas
// point at a gas station (加油加气站) and three displacement points at another unit.
func simDB(t *testing.T) string {
	t.Helper()
	db := demoGPKG(t, "sim.gpkg")
	ctx := context.Background()
	st, err := gpkg.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var station, other *riskmap.Unit
	for u, err := range st.Units(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if u.SubCategory == "加油加气站" && station == nil {
			station = u
		} else if other == nil && u.Status != riskmap.StatusRetired {
			other = u
		}
	}
	if station == nil || other == nil {
		t.Fatal("the demo city has no gas station")
	}
	f := func(v float64) *float64 { return &v }
	add := func(u *riskmap.Unit, code, kind, uom string, b monitoring.Bounds) {
		p := &monitoring.Point{Code: code, UnitID: u.ID, Kind: kind, UnitOfMeasure: uom, Location: orb.Point{102.91, 24.67},
			IntervalS: 60, Thresholds: monitoring.Thresholds{Upper: &b}}
		if err := st.CreatePointRecorded(ctx, p, nil); err != nil {
			t.Fatal(err)
		}
	}
	add(station, "SIM-GAS-1", "gas", "%LEL", monitoring.Bounds{Yellow: f(25), Red: f(50)})
	for i := 1; i <= 3; i++ {
		add(other, fmt.Sprintf("SIM-WY-%d", i), "displacement", "mm", monitoring.Bounds{Blue: f(10), Yellow: f(20), Orange: f(40), Red: f(60)})
	}
	return db
}

// simulated checks what a short gas-leak simulation left in the store: readings of every
// point and an open red alarm.
func simulated(t *testing.T, db, out string) {
	t.Helper()
	t.Logf("simulate:\n%s", out)
	if !strings.Contains(out, "情景 燃气泄漏") || !strings.Contains(out, "达到红色预警阈值") || !strings.Contains(out, "模拟结束") {
		t.Errorf("simulate output:\n%s", out)
	}
	ctx := context.Background()
	st, err := gpkg.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	points, err := st.Points(ctx, 0)
	if err != nil || len(points) == 0 {
		t.Fatalf("the demo has no monitoring points: %v", err)
	}
	var red []*monitoring.Alarm
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if red, err = st.FindAlarms(ctx, monitoring.AlarmFilter{Open: true, Level: monitoring.LevelRed}); err != nil {
			t.Fatal(err)
		}
		if len(red) > 0 {
			break
		}
	}
	if len(red) == 0 {
		t.Error("no red alarm opened")
	}
	latest, err := st.LatestReadings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) < len(points) {
		t.Errorf("readings of %d points of %d", len(latest), len(points))
	}
}

// TestSimulateHTTP runs "riskmap simulate --scenario gas-leak" briefly against a server
// over HTTP: it makes itself a device token, the readings arrive and a red alarm opens.
func TestSimulateHTTP(t *testing.T) {
	db := simDB(t)
	base, _ := serve(t, "--db", db)
	out, errs, err := run(t, "", "simulate", "--db", db, "--url", base, "--scenario", "gas-leak", "--every", "30ms", "--duration", "3s")
	if err != nil {
		t.Fatalf("simulate: %v\n%s\n%s", err, out, errs)
	}
	if !strings.Contains(out, "已为管理员 admin 创建设备令牌") {
		t.Errorf("simulate must say it made a device token:\n%s", out)
	}
	if strings.Contains(out, "发送失败") || strings.Contains(out, "拒收") && !strings.Contains(out, "拒收 0") {
		t.Errorf("readings were refused:\n%s", out)
	}
	simulated(t, db, out)
}

// TestSimulateMQTT runs the simulation through the machine's mosquitto to a server
// subscribed with --mqtt.
func TestSimulateMQTT(t *testing.T) {
	c, err := net.DialTimeout("tcp", "127.0.0.1:1883", 2*time.Second)
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("RISKMAP_REQUIRE_MQTT") != "" {
			t.Fatalf("no MQTT broker at 127.0.0.1:1883: %v", err)
		}
		t.Skipf("no MQTT broker at 127.0.0.1:1883 (mosquitto): %v", err)
	}
	c.Close()
	db := simDB(t)
	prefix := fmt.Sprintf("riskmaptest-%d/", time.Now().UnixNano())
	_, sout := serve(t, "--db", db, "--mqtt", "tcp://127.0.0.1:1883", "--mqtt-prefix", prefix)
	if !strings.Contains(sout.String(), "正在从 MQTT") {
		t.Fatalf("serve --mqtt must say it subscribes:\n%s", sout)
	}
	out, errs, err := run(t, "", "simulate", "--db", db, "--mqtt", "tcp://127.0.0.1:1883", "--mqtt-prefix", prefix,
		"--scenario", "all", "--every", "30ms", "--duration", "3s")
	if err != nil {
		t.Fatalf("simulate: %v\n%s\n%s", err, out, errs)
	}
	if !strings.Contains(out, "情景 尾矿库位移") || !strings.Contains(out, "位移") {
		t.Errorf("the tailings scenario:\n%s", out)
	}
	simulated(t, db, out)
}

func TestSimulateFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "f.gpkg")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"simulate", "--db", db}, "两者之一"},
		{[]string{"simulate", "--db", db, "--url", "http://x", "--mqtt", "tcp://y:1883"}, "两者之一"},
		{[]string{"simulate", "--db", db, "--url", "http://x", "--scenario", "fire"}, "--scenario"},
		{[]string{"simulate", "--db", db, "--url", "http://127.0.0.1:1", "--token", "x"}, "没有监测点"},
	} {
		if _, _, err := run(t, "", tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
}
