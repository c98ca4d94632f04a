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
