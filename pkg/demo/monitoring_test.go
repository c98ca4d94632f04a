package demo_test

import (
	"context"
	"testing"

	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
)

// TestLoadMonitoring: the demo city's points are where the simulator and the map expect
// them: gas at every gas station, the tailings dam's five points under its escalation
// rule, and every kind of the taxonomy but water level somewhere; loading them twice is
// refused (codes are unique), not duplicated.
func TestLoadMonitoring(t *testing.T) {
	s, _, _ := loadDemoHazards(t)
	ctx := context.Background()
	cfg := config.Default().Monitoring
	n, err := demo.LoadMonitoring(ctx, s, s, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := s.Points(ctx, 0)
	if err != nil || len(ps) != n || n < 40 || n > 120 {
		t.Fatalf("%d points stored, %d said: %v", len(ps), n, err)
	}
	units, _, err := s.FindUnits(ctx, riskmap.UnitFilter{Statuses: []riskmap.Status{riskmap.StatusApproved}})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]*riskmap.Unit{}
	stations := 0
	for _, u := range units {
		byID[u.ID] = u
		if u.SubCategory == "加油加气站" {
			stations++
		}
	}
	kinds := map[string]int{}
	gasAtStations, tailings := 0, map[int64]int{}
	for _, p := range ps {
		kinds[p.Kind]++
		u := byID[p.UnitID]
		if u == nil {
			t.Fatalf("point %s on a unit not approved", p.Code)
		}
		if p.Kind == "gas" && u.SubCategory == "加油加气站" {
			gasAtStations++
		}
		if u.SubCategory == "尾矿库" {
			tailings[u.ID]++
		}
		if err := cfg.CheckPoint(p); err != nil {
			t.Errorf("%s: %v", p.Code, err)
		}
	}
	if gasAtStations != stations || stations == 0 {
		t.Errorf("gas points at %d of %d gas stations", gasAtStations, stations)
	}
	if len(tailings) != 1 {
		t.Errorf("tailings dams monitored: %v", tailings)
	}
	for _, k := range cfg.Kinds {
		if k.Code != "water_level" && kinds[k.Code] == 0 {
			t.Errorf("no demo point of kind %s", k.Code)
		}
	}
	if kinds["displacement"] != 3 {
		t.Errorf("%d displacement points, want the escalation rule's 3", kinds["displacement"])
	}
	// Every point can be watched by an evaluator.
	ev := monitoring.NewEvaluator(&cfg)
	for _, p := range ps {
		if _, err := ev.SetPoint(p, demoDay); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := demo.LoadMonitoring(ctx, s, s, &cfg); err == nil {
		t.Error("loading the points twice must be refused")
	}
}
