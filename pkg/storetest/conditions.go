package storetest

import (
	"testing"
	"time"

	"riskmap/pkg/hazards"
	"riskmap/pkg/riskmap"
)

// The contract of riskmap.ConditionStore: a unit's open conditions of sources other than
// hidden dangers (safe-distance conflicts, alarms), kept by SetConditions and by every
// hidden danger's write alike, and the dynamic grade they give.

// conditionStore returns the store's riskmap.ConditionStore; every store implements it.
func conditionStore(t *testing.T, s riskmap.Store) riskmap.ConditionStore {
	t.Helper()
	cs, ok := s.(riskmap.ConditionStore)
	if !ok {
		t.Fatalf("%T does not implement riskmap.ConditionStore", s)
	}
	return cs
}

// condDynamics is a DynamicsFunc as the default rules: an open major hidden danger raises
// the grade to red, and so does a school (or kindergarten, hospital) inside the influence
// range of an orange unit; the next review date stays.
func condDynamics(u *riskmap.Unit, approvedInherent riskmap.Grade, open []riskmap.Condition, n int) riskmap.Dynamics {
	raise := func(g riskmap.Grade) riskmap.Grade {
		for _, c := range open {
			switch {
			case c.Source == riskmap.ConditionHazard && c.Level == string(hazards.LevelMajor):
				return riskmap.GradeRed
			case c.Source == riskmap.ConditionConflict && g == riskmap.GradeOrange &&
				(c.Level == riskmap.TargetSchool || c.Level == riskmap.TargetKindergarten || c.Level == riskmap.TargetHospital):
				return riskmap.GradeRed
			}
		}
		return g
	}
	d := riskmap.Dynamics{Grade: raise(u.InherentOrGrade()), Conditions: open, OpenHazards: n, NextReviewDue: u.NextReviewDue}
	if approvedInherent != "" {
		d.ApprovedGrade = raise(approvedInherent)
	}
	return d
}

// conditionUnit stores an approved orange unit.
func conditionUnit(t *testing.T, s riskmap.Store, code string) *riskmap.Unit {
	t.Helper()
	u := NewUnit(code, point)
	u.Grade, u.RiskValue = riskmap.GradeOrange, 12
	must(t, s.CreateUnit(ctx(), u))
	return u
}

var condSince = time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)

func school(name string, m float64) riskmap.Condition {
	return riskmap.ConflictCondition(riskmap.TargetSchool, name, m)
}

// sources lists the sources of cs, in order.
func sources(cs []riskmap.Condition) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Source+":"+c.Ref)
	}
	return out
}

func testConditions(t *testing.T, open Opener) {
	t.Run("HazardWritesKeepOtherSources", func(t *testing.T) { testHazardKeepsConditions(t, open) })
	t.Run("SetConditions", func(t *testing.T) { testSetConditions(t, open) })
	t.Run("RetiredUntouched", func(t *testing.T) {
		s := open(t)
		cs := conditionStore(t, s)
		u := conditionUnit(t, s, "COND-RET")
		r, err := s.RetireUnit(ctx(), u.ID, u.Version)
		must(t, err)
		got, err := cs.SetConditions(ctx(), u.ID, riskmap.ConditionConflict, []riskmap.Condition{school("澄江一中", 120)}, condDynamics)
		must(t, err)
		if got != nil {
			t.Fatalf("a retired unit is not written: %+v", got)
		}
		stored := mustGetUnit(t, s, u.ID)
		if stored.Version != r.Version || stored.Status != riskmap.StatusRetired || len(stored.Conditions) != 0 {
			t.Errorf("the retired unit is untouched: v%d %s %+v", stored.Version, stored.Status, stored.Conditions)
		}
	})
	t.Run("MissingNotFound", func(t *testing.T) {
		s := open(t)
		_, err := conditionStore(t, s).SetConditions(ctx(), 987654, riskmap.ConditionConflict, []riskmap.Condition{school("澄江一中", 120)}, condDynamics)
		wantCode(t, err, riskmap.ENOTFOUND)
	})
	t.Run("HazardSourceRefused", func(t *testing.T) {
		s := open(t)
		u := conditionUnit(t, s, "COND-HZ")
		if _, err := conditionStore(t, s).SetConditions(ctx(), u.ID, riskmap.ConditionHazard, nil, condDynamics); err == nil {
			t.Fatal("SetConditions must refuse the hidden dangers' own source")
		}
		if got := mustGetUnit(t, s, u.ID); got.Version != u.Version {
			t.Errorf("nothing written: v%d", got.Version)
		}
	})
	t.Run("UnitConditions", func(t *testing.T) {
		s := open(t)
		cs := conditionStore(t, s)
		a := conditionUnit(t, s, "COND-A")
		b := conditionUnit(t, s, "COND-B")
		c := conditionUnit(t, s, "COND-C")
		conditionUnit(t, s, "COND-D") // none
		_, err := cs.SetConditions(ctx(), a.ID, riskmap.ConditionConflict, []riskmap.Condition{school("一中", 10), school("二中", 20)}, condDynamics)
		must(t, err)
		_, err = cs.SetConditions(ctx(), b.ID, riskmap.ConditionAlarm, []riskmap.Condition{{Ref: "BJ-1", Level: "high", Since: condSince}}, condDynamics)
		must(t, err)
		_, err = cs.SetConditions(ctx(), c.ID, riskmap.ConditionConflict, []riskmap.Condition{school("三中", 30)}, condDynamics)
		must(t, err)
		cur := mustGetUnit(t, s, c.ID)
		_, err = s.RetireUnit(ctx(), c.ID, cur.Version)
		must(t, err)

		got, err := cs.UnitConditions(ctx(), riskmap.ConditionConflict)
		must(t, err)
		if len(got) != 1 || len(got[a.ID]) != 2 || got[a.ID][0].Ref != "一中" || got[a.ID][1].Ref != "二中" || got[a.ID][1].Detail != "距离 20 米" {
			t.Errorf("the conflict conditions of the units not retired: %+v", got)
		}
		alarms, err := cs.UnitConditions(ctx(), riskmap.ConditionAlarm)
		must(t, err)
		if len(alarms) != 1 || len(alarms[b.ID]) != 1 || alarms[b.ID][0].Source != riskmap.ConditionAlarm || !alarms[b.ID][0].Since.Equal(condSince) {
			t.Errorf("alarms: %+v", alarms)
		}
		none, err := cs.UnitConditions(ctx(), "nothing")
		must(t, err)
		if len(none) != 0 {
			t.Errorf("no unit has a condition of an unknown source: %+v", none)
		}
	})
}

// testHazardKeepsConditions checks that a hidden danger's write recomputes only the hidden
// dangers' conditions of its unit: the unit's conditions of other sources stay, and still
// raise it.
func testHazardKeepsConditions(t *testing.T, open Opener) {
	s := open(t)
	hs := hazardStore(t, s)
	u := NewUnit("COND-KEEP", point)
	u.Grade, u.InherentGrade, u.RiskValue = riskmap.GradeRed, riskmap.GradeOrange, 12
	conflict := school("澄江一中", 120)
	conflict.Since = condSince
	u.Conditions = []riskmap.Condition{conflict}
	must(t, s.CreateUnit(ctx(), u))

	g := newHazard(u, hazards.LevelGeneral, hzToday)
	got, err := hs.CreateHazard(ctx(), g, created("甲"), condDynamics, nil)
	must(t, err)
	if got == nil || got.Grade != riskmap.GradeRed || got.OpenHazards != 1 || len(got.Conditions) != 2 {
		t.Fatalf("a general hidden danger is added to the conflict, the unit stays red: %+v", got)
	}
	stored := mustGetUnit(t, s, u.ID)
	if len(stored.Conditions) != 2 || stored.Conditions[0] != conflict || stored.Conditions[1].Ref != g.Code {
		t.Errorf("stored conditions, oldest first: %+v", stored.Conditions)
	}
	equalUnit(t, got, stored)

	g.Status = hazards.StatusClosed
	got, err = hs.UpdateHazard(ctx(), g, nil, condDynamics, nil)
	must(t, err)
	if got == nil || got.Grade != riskmap.GradeRed || got.OpenHazards != 0 || len(got.Conditions) != 1 || got.Conditions[0] != conflict {
		t.Fatalf("closing the hidden danger keeps the conflict and its raise: %+v", got)
	}
	if stored := mustGetUnit(t, s, u.ID); stored.Grade != riskmap.GradeRed || len(stored.Conditions) != 1 || stored.Conditions[0] != conflict {
		t.Errorf("stored: %s %+v", stored.Grade, stored.Conditions)
	}
}

// testSetConditions checks SetConditions on an approved orange unit.
func testSetConditions(t *testing.T, open Opener) {
	s := open(t)
	cs := conditionStore(t, s)
	hs := hazardStore(t, s)
	u := conditionUnit(t, s, "COND-SET") // approved, orange, v1
	must(t, s.SetUnitAuthor(ctx(), &riskmap.UnitAuthor{UnitID: u.ID, CreatedBy: "甲", UpdatedBy: "甲", ReviewedBy: "乙", ApprovedVersion: u.Version}))
	approvedRow := func() *riskmap.ApprovedUnit {
		t.Helper()
		a := approvedOf(approved(t, s), u.ID)
		if a == nil {
			t.Fatal("the unit left the approved register")
		}
		return a
	}

	// A school inside the range raises it to red, for the working and approved revisions.
	got, err := cs.SetConditions(ctx(), u.ID, riskmap.ConditionConflict, []riskmap.Condition{school("澄江一中", 120.4)}, condDynamics)
	must(t, err)
	if got == nil || got.Grade != riskmap.GradeRed || got.InherentGrade != riskmap.GradeOrange || got.Version != 2 || len(got.Conditions) != 1 {
		t.Fatalf("a school raises the orange unit to red at v2: %+v", got)
	}
	c := got.Conditions[0]
	if c.Source != riskmap.ConditionConflict || c.Ref != "澄江一中" || c.Level != riskmap.TargetSchool || c.Detail != "距离 120 米" || c.Since.IsZero() {
		t.Errorf("condition: %+v", c)
	}
	since := c.Since
	stored := mustGetUnit(t, s, u.ID)
	equalUnit(t, got, stored)
	if a := approvedRow(); a.Grade != riskmap.GradeRed || a.Version != 2 {
		t.Errorf("approved register: want red at v2, got %s v%d", a.Grade, a.Version)
	}
	if au, err := s.UnitAuthor(ctx(), u.ID); err != nil || au.ApprovedVersion != 2 {
		t.Errorf("the author record's approved version follows: %+v %v", au, err)
	}

	// The same again writes nothing; the condition keeps its Since.
	got, err = cs.SetConditions(ctx(), u.ID, riskmap.ConditionConflict, []riskmap.Condition{school("澄江一中", 120)}, condDynamics)
	must(t, err)
	if got != nil || mustGetUnit(t, s, u.ID).Version != 2 {
		t.Fatalf("the same conditions must not write the unit, got %+v", got)
	}

	// A hidden danger's write keeps the conflict; SetConditions keeps the hidden danger.
	g := newHazard(u, hazards.LevelGeneral, hzToday)
	if _, err := hs.CreateHazard(ctx(), g, created("甲"), condDynamics, nil); err != nil {
		t.Fatal(err)
	}
	stored = mustGetUnit(t, s, u.ID) // v3
	if stored.Version != 3 || stored.OpenHazards != 1 || len(stored.Conditions) != 2 {
		t.Fatalf("after the hidden danger: v%d %d %v", stored.Version, stored.OpenHazards, sources(stored.Conditions))
	}

	// The school moves: a new detail is a new version; a second target is added after it.
	got, err = cs.SetConditions(ctx(), u.ID, riskmap.ConditionConflict,
		[]riskmap.Condition{school("澄江一中", 300), riskmap.ConflictCondition(riskmap.TargetCareHome, "敬老院", 50)}, condDynamics)
	must(t, err)
	if got == nil || got.Version != 4 || got.Grade != riskmap.GradeRed || got.OpenHazards != 1 || len(got.Conditions) != 3 {
		t.Fatalf("moved school and a care home: %+v", got)
	}
	var sch, care *riskmap.Condition
	for i, c := range got.Conditions {
		switch c.Ref {
		case "澄江一中":
			sch = &got.Conditions[i]
		case "敬老院":
			care = &got.Conditions[i]
		}
	}
	if sch == nil || care == nil || !sch.Since.Equal(since) || sch.Detail != "距离 300 米" || care.Since.Before(since) {
		t.Errorf("the school keeps its Since, with its new distance; the care home is new: %+v", got.Conditions)
	}
	for i := 1; i < len(got.Conditions); i++ {
		if got.Conditions[i].Since.Before(got.Conditions[i-1].Since) {
			t.Errorf("oldest first: %+v", got.Conditions)
		}
	}
	equalUnit(t, got, mustGetUnit(t, s, u.ID))

	// No school any more: orange again, the hidden danger and the care home stay.
	got, err = cs.SetConditions(ctx(), u.ID, riskmap.ConditionConflict,
		[]riskmap.Condition{riskmap.ConflictCondition(riskmap.TargetCareHome, "敬老院", 50)}, condDynamics)
	must(t, err)
	if got == nil || got.Version != 5 || got.Grade != riskmap.GradeOrange || got.OpenHazards != 1 || len(got.Conditions) != 2 {
		t.Fatalf("without the school the unit is orange again at v5: %+v", got)
	}
	if a := approvedRow(); a.Grade != riskmap.GradeOrange || a.Version != 5 {
		t.Errorf("approved register: want orange at v5, got %s v%d", a.Grade, a.Version)
	}
	got, err = cs.SetConditions(ctx(), u.ID, riskmap.ConditionConflict, nil, condDynamics)
	must(t, err)
	stored = mustGetUnit(t, s, u.ID)
	if got == nil || stored.Version != 6 || len(stored.Conditions) != 1 || stored.Conditions[0].Source != riskmap.ConditionHazard || stored.OpenHazards != 1 {
		t.Errorf("no conflicts left, the hidden danger stays: v%d %v", stored.Version, sources(stored.Conditions))
	}
	equalUnit(t, got, stored)

}
