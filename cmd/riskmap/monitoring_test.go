package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/config"
	"riskmap/pkg/featurejson"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
	"riskmap/pkg/storetest"
)

// TestMonitoringRaisesTheGrade is serve's wiring of the monitoring service: a red alarm
// raises its unit to red in the index (the alarm condition, written through the register),
// and the unit's grade comes back once the alarm is disposed of and the values are normal.
func TestMonitoringRaisesTheGrade(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := gpkg.Open(ctx, filepath.Join(t.TempDir(), "m.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	m := &Main{cfg: config.Default(), store: s, logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	svc := m.service()
	ix := spatialindex.New(featurejson.Encoder(), nil)
	svc.Index = ix
	u := storetest.NewUnit("U-MON", orb.Point{102.91, 24.67})
	u.Assessment = riskmap.Assessment{Method: riskmap.MethodLS, Likelihood: 2, Severity: 3}
	if err := svc.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Load(ctx, s.Units(ctx)); err != nil {
		t.Fatal(err)
	}
	grade := func() riskmap.Grade {
		f, ok := ix.Snapshot().Get(u.ID)
		if !ok {
			t.Fatal("the unit is not in the index")
		}
		return f.Grade
	}
	before := grade()
	if before == riskmap.GradeRed {
		t.Fatalf("the unit must start below red, is %s", before)
	}
	ms := m.newMonitoring(ix, svc)
	done, err := m.startMonitoring(ctx, ms, svc)
	if err != nil {
		t.Fatal(err)
	}
	p := &monitoring.Point{Code: "JC-M1", UnitID: u.ID, Kind: "gas", Location: orb.Point{102.91, 24.67}}
	if err := ms.CreatePoint(ctx, nil, p, nil); err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	if _, err := ms.IngestReadings(ctx, []monitoring.Reading{{PointID: p.ID, Time: at, Value: 66}}); err != nil {
		t.Fatal(err)
	}
	if g := grade(); g != riskmap.GradeRed {
		t.Fatalf("after a red alarm the unit is %s", g)
	}
	alarms, err := ms.Alarms(ctx, nil, monitoring.AlarmQuery{Open: true})
	if err != nil || len(alarms) != 1 {
		t.Fatalf("%v %v", alarms, err)
	}
	if _, err := ms.IngestReadings(ctx, []monitoring.Reading{{PointID: p.ID, Time: at.Add(time.Second), Value: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ms.Transition(ctx, nil, alarms[0].ID, 0, "dispose", "关阀排查，已恢复", nil); err != nil {
		t.Fatal(err)
	}
	if g := grade(); g != before {
		t.Fatalf("after the alarm closed the unit is %s, was %s", g, before)
	}
	// A restart finds nothing to reconcile and the grade stays.
	cancel()
	<-done
	ctx2, cancel2 := context.WithCancel(context.Background())
	ms2 := m.newMonitoring(ix, svc)
	done2, err := m.startMonitoring(ctx2, ms2, svc)
	if err != nil {
		t.Fatal(err)
	}
	cancel2()
	<-done2
	if g := grade(); g != before {
		t.Fatalf("after a restart the unit is %s", g)
	}
}
