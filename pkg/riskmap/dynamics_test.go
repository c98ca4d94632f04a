package riskmap_test

import (
	"testing"
	"time"

	"riskmap/pkg/riskmap"
)

func day(s string) *time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// A review is overdue from the day after it was due; never reviewed is its own state. A
// full identification is due five years after the last.
func TestReviewAndReidentifyStates(t *testing.T) {
	u := &riskmap.Unit{NextReviewDue: day("2026-12-06"), IdentifiedAt: day("2021-12-06")}
	cases := []struct {
		today      string
		review     riskmap.ReviewState
		reidentify bool
	}{
		{"2026-12-05", riskmap.ReviewCurrent, false},
		{"2026-12-06", riskmap.ReviewCurrent, false},
		{"2026-12-07", riskmap.ReviewOverdue, true},
	}
	for _, tc := range cases {
		if got := u.ReviewStateOn(*day(tc.today)); got != tc.review {
			t.Errorf("%s: review %s, want %s", tc.today, got, tc.review)
		}
		if got := u.ReidentifyOverdueOn(*day(tc.today)); got != tc.reidentify {
			t.Errorf("%s: re-identification overdue %v, want %v", tc.today, got, tc.reidentify)
		}
	}
	if d := u.ReidentifyDue(); d == nil || d.Format(time.DateOnly) != "2026-12-06" {
		t.Errorf("re-identification due %v", d)
	}
	never := &riskmap.Unit{}
	if never.ReviewStateOn(*day("2030-01-01")) != riskmap.ReviewNever || never.ReidentifyOverdueOn(*day("2030-01-01")) || never.ReidentifyDue() != nil {
		t.Error("a unit without dates is never reviewed and not flagged")
	}
	// The day counts in China: 2026-12-06 20:00 UTC is already 2026-12-07 there.
	if got := riskmap.ChinaDay(time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)); got.Format(time.DateOnly) != "2026-12-07" {
		t.Errorf("ChinaDay: %s", got)
	}
}

// A unit with open hidden dangers passes the open_hazards filter; one without does not.
func TestMatchOpenHazards(t *testing.T) {
	m := (&riskmap.UnitFilter{HasOpenHazards: true}).Matcher()
	with := riskmap.UnitFacts{OpenHazards: 1, Status: riskmap.StatusApproved}
	without := riskmap.UnitFacts{Status: riskmap.StatusApproved}
	if !m.Match(&with) || m.Match(&without) || m.All() {
		t.Fatal("open_hazards filter")
	}
}

// A conflict names its target and the distance; hidden dangers keep their codes.
func TestRaiseTextNamesTarget(t *testing.T) {
	school := riskmap.ConflictCondition(riskmap.TargetSchool, "澄江一中", 119.6)
	if school.Detail != "距离 120 米" || school.Source != riskmap.ConditionConflict || school.Level != riskmap.TargetSchool || !school.Since.IsZero() {
		t.Fatalf("ConflictCondition: %+v", school)
	}
	cases := []struct {
		name              string
		inherent, current riskmap.Grade
		raising           []riskmap.Condition
		want              string
	}{
		{"OneSchool", riskmap.GradeOrange, riskmap.GradeRed, []riskmap.Condition{school},
			"影响范围内有学校「澄江一中」（距离 120 米），等级由较大上调为重大"},
		{"TwoSchools", riskmap.GradeOrange, riskmap.GradeRed, []riskmap.Condition{school, riskmap.ConflictCondition(riskmap.TargetSchool, "凤麓小学", 0)},
			"影响范围内有学校「澄江一中」（距离 120 米）、「凤麓小学」（距离 0 米），等级由较大上调为重大"},
		{"HazardAndHospital", riskmap.GradeOrange, riskmap.GradeRed, []riskmap.Condition{
			{Source: riskmap.ConditionHazard, Ref: "YH-2026-000123", Level: "major"},
			riskmap.ConflictCondition(riskmap.TargetHospital, "澄江市人民医院", 450)},
			"存在未销号重大隐患 YH-2026-000123；影响范围内有医院「澄江市人民医院」（距离 450 米），等级由较大上调为重大"},
		{"NoDistance", riskmap.GradeOrange, riskmap.GradeRed, []riskmap.Condition{riskmap.ConflictCondition(riskmap.TargetKindergarten, "阳光幼儿园", -1)},
			"影响范围内有幼儿园「阳光幼儿园」，等级由较大上调为重大"},
		{"NotRaised", riskmap.GradeYellow, riskmap.GradeYellow, []riskmap.Condition{school}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := riskmap.RaiseText(tc.inherent, tc.current, tc.raising); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	u := &riskmap.Unit{Grade: riskmap.GradeRed, InherentGrade: riskmap.GradeOrange, Conditions: []riskmap.Condition{
		{Source: riskmap.ConditionHazard, Ref: "YH-1", Level: "general"}, func() riskmap.Condition { c := school; c.Raises = true; return c }()}}
	if got := u.DynamicText(); got != "影响范围内有学校「澄江一中」（距离 120 米），等级由较大上调为重大" {
		t.Errorf("DynamicText names only the raising conditions: %s", got)
	}
}

// Replacing one source's conditions keeps the others', keeps the Since of a condition that
// stays, gives a new one the time of the write, and orders them oldest first.
func TestReplaceConditions(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	hz := riskmap.Condition{Source: riskmap.ConditionHazard, Ref: "YH-1", Level: "major", Since: t0.AddDate(0, 2, 0), Raises: true}
	old := riskmap.ConflictCondition(riskmap.TargetSchool, "一中", 100)
	old.Since = t0
	gone := riskmap.ConflictCondition(riskmap.TargetHospital, "医院", 10)
	gone.Since = t0
	stored := []riskmap.Condition{old, gone, hz}

	moved := riskmap.ConflictCondition(riskmap.TargetSchool, "一中", 80)
	added := riskmap.ConflictCondition(riskmap.TargetCareHome, "敬老院", 5)
	got := riskmap.ReplaceConditions(stored, riskmap.ConditionConflict, []riskmap.Condition{added, moved}, now)
	if len(got) != 3 {
		t.Fatalf("got %+v", got)
	}
	if got[0].Ref != "一中" || !got[0].Since.Equal(t0) || got[0].Detail != "距离 80 米" {
		t.Errorf("the school stays with its Since and its new distance: %+v", got[0])
	}
	if got[1].Ref != "YH-1" || got[1].Raises || !got[1].Since.Equal(hz.Since) {
		t.Errorf("the hidden danger is kept (Raises cleared for the grader): %+v", got[1])
	}
	if got[2].Ref != "敬老院" || !got[2].Since.Equal(now) {
		t.Errorf("the care home is new: %+v", got[2])
	}
	// The same kind of target with another name is another condition.
	other := riskmap.ConflictCondition(riskmap.TargetSchool, "二中", 100)
	if got := riskmap.ReplaceConditions(stored, riskmap.ConditionConflict, []riskmap.Condition{other}, now); !got[1].Since.Equal(now) || got[1].Ref != "二中" {
		t.Errorf("another school: %+v", got)
	}
	// None left: the others stay; nothing at all is nil.
	if got := riskmap.ReplaceConditions(stored, riskmap.ConditionConflict, nil, now); len(got) != 1 || got[0].Ref != "YH-1" {
		t.Errorf("no conflicts: %+v", got)
	}
	if got := riskmap.ReplaceConditions(nil, riskmap.ConditionConflict, nil, now); got != nil {
		t.Errorf("nothing: %+v", got)
	}
	if of := riskmap.ConditionsOf(stored, riskmap.ConditionConflict); len(of) != 2 || of[1].Ref != "医院" {
		t.Errorf("ConditionsOf: %+v", of)
	}
	// A changed distance is a change of the dynamics; Raises alone is not.
	u := &riskmap.Unit{Grade: riskmap.GradeRed, Conditions: []riskmap.Condition{old}}
	same := old
	same.Raises = true
	if riskmap.DynamicsChanged(u, "", riskmap.Dynamics{Grade: riskmap.GradeRed, Conditions: []riskmap.Condition{same}}) {
		t.Error("Raises alone is no change")
	}
	far := old
	far.Detail = "距离 300 米"
	if !riskmap.DynamicsChanged(u, "", riskmap.Dynamics{Grade: riskmap.GradeRed, Conditions: []riskmap.Condition{far}}) {
		t.Error("a new distance is a change")
	}
}
