package postgis

import (
	"context"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/storetest"
)

// raiseSchool is a DynamicsFunc: a school inside the range of an orange unit makes it red.
func raiseSchool(u *riskmap.Unit, approvedInherent riskmap.Grade, open []riskmap.Condition, n int) riskmap.Dynamics {
	g := u.InherentOrGrade()
	for _, c := range open {
		if c.Source == riskmap.ConditionConflict && c.Level == riskmap.TargetSchool && g == riskmap.GradeOrange {
			g = riskmap.GradeRed
		}
	}
	return riskmap.Dynamics{Grade: g, Conditions: open, OpenHazards: n, NextReviewDue: u.NextReviewDue}
}

// TestSetConditionsAnnouncesUnit checks that SetConditions's write of a unit is heard by
// other replicas as a unit write and found by a catch-up; one that changes nothing is not
// announced.
func TestSetConditionsAnnouncesUnit(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	u := storetest.NewUnit("COND-NOTIFY", orb.Point{102.91, 24.67})
	u.Grade = riskmap.GradeOrange
	if err := s.CreateUnit(ctx, u); err != nil {
		t.Fatal(err)
	}
	mark, err := s.ChangeMark(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := listen(t, s)
	conds := []riskmap.Condition{riskmap.ConflictCondition(riskmap.TargetSchool, "澄江一中", 120)}
	got, err := s.SetConditions(ctx, u.ID, riskmap.ConditionConflict, conds, raiseSchool)
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
	if len(changed) != 1 || changed[0].ID != u.ID || changed[0].Grade != riskmap.GradeRed || len(changed[0].Conditions) != 1 {
		t.Fatalf("a catch-up must find the raised unit: %+v", changed)
	}
	// The same conditions again: nothing written, nothing announced; the next write is heard next.
	if got, err := s.SetConditions(ctx, u.ID, riskmap.ConditionConflict, conds, raiseSchool); err != nil || got != nil {
		t.Fatalf("want no unit write, got %+v %v", got, err)
	}
	if _, err := s.SetConditions(ctx, u.ID, riskmap.ConditionConflict, nil, raiseSchool); err != nil {
		t.Fatal(err)
	}
	if e := h.next(t); e != (Event{ID: u.ID, Version: 3}) {
		t.Fatalf("got %+v, want unit %d version 3", e, u.ID)
	}
}
