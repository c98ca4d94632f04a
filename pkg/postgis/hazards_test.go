package postgis

import (
	"context"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/hazards"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/storetest"
)

// raiseMajor is a DynamicsFunc: an open major hidden danger makes the unit red.
func raiseMajor(u *riskmap.Unit, approvedInherent riskmap.Grade, open []riskmap.Condition, n int) riskmap.Dynamics {
	g, a := u.InherentGrade, approvedInherent
	for _, c := range open {
		if c.Level == string(hazards.LevelMajor) {
			g = riskmap.GradeRed
			if a != "" {
				a = riskmap.GradeRed
			}
		}
	}
	return riskmap.Dynamics{Grade: g, ApprovedGrade: a, Conditions: open, OpenHazards: n, NextReviewDue: u.NextReviewDue}
}

// TestHazardWriteAnnouncesUnit checks that a hidden danger's write that changes its unit is
// heard by other replicas as a unit write, and found by a catch-up; one that changes
// nothing of the unit is not announced.
func TestHazardWriteAnnouncesUnit(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	u := storetest.NewUnit("HZ-NOTIFY", orb.Point{102.91, 24.67})
	u.Grade = riskmap.GradeYellow
	if err := s.CreateUnit(ctx, u); err != nil {
		t.Fatal(err)
	}
	mark, err := s.ChangeMark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := listen(t, s)
	hz := &hazards.Hazard{UnitID: u.ID, Level: hazards.LevelMajor, Description: "液氨管道腐蚀", FoundAt: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
		Source: hazards.SourceInspection, Deadline: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), Status: hazards.StatusRegistered}
	got, err := s.CreateHazard(ctx, hz, &hazards.Event{Kind: hazards.EventCreated, By: "甲"}, raiseMajor, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || got.Version != 2 || got.Grade != riskmap.GradeRed {
		t.Fatalf("the unit must be raised to red at version 2: %+v", got)
	}
	if e := h.next(t); e != (Event{ID: u.ID, Version: 2}) {
		t.Fatalf("got %+v, want unit %d version 2", e, u.ID)
	}
	changed, _, err := s.ChangesSince(ctx, mark, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 1 || changed[0].ID != u.ID || changed[0].Grade != riskmap.GradeRed {
		t.Fatalf("a catch-up must find the raised unit: %+v", changed)
	}

	// An edit that leaves the unit alone announces nothing; the next unit write is heard next.
	hz.Description = "补充"
	if got, err := s.UpdateHazard(ctx, hz, nil, raiseMajor, nil); err != nil || got != nil {
		t.Fatalf("want no unit write, got %+v %v", got, err)
	}
	hz.Status = hazards.StatusClosed
	if _, err := s.UpdateHazard(ctx, hz, nil, raiseMajor, nil); err != nil {
		t.Fatal(err)
	}
	if e := h.next(t); e != (Event{ID: u.ID, Version: 3}) {
		t.Fatalf("got %+v, want unit %d version 3", e, u.ID)
	}
}

// TestHazardEventsAppendOnly checks that a hidden danger's history refuses UPDATE, DELETE
// and TRUNCATE through SQL.
func TestHazardEventsAppendOnly(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	u := storetest.NewUnit("HZ-LOG", orb.Point{102.91, 24.67})
	if err := s.CreateUnit(ctx, u); err != nil {
		t.Fatal(err)
	}
	hz := &hazards.Hazard{UnitID: u.ID, Level: hazards.LevelGeneral, FoundAt: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
		Source: hazards.SourceSelfInspection, Deadline: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), Status: hazards.StatusRegistered}
	if _, err := s.CreateHazard(ctx, hz, &hazards.Event{Kind: hazards.EventCreated, By: "甲"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"UPDATE hazard_events SET note = 'x'", "DELETE FROM hazard_events", "TRUNCATE hazard_events"} {
		if _, err := s.pool.Exec(ctx, q); err == nil {
			t.Errorf("%s must be refused", q)
		}
	}
	evs, err := s.HazardEvents(ctx, hz.ID)
	if err != nil || len(evs) != 1 {
		t.Fatalf("the history must be intact: %v %v", evs, err)
	}
}
