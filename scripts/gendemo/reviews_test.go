package main

import (
	"bytes"
	"testing"

	"riskmap/pkg/config"
	"riskmap/pkg/featurejson"
	"riskmap/pkg/riskmap"
)

// TestReviewDatesAreRealistic: on the day the demo is dated to, most units are within their
// review cadence, a few are overdue, about one in a hundred was never reviewed, a handful
// were identified in full more than five years ago; and so are the 重大 units, which the
// grade's short cadence (3 months) makes the first to fall behind.
func TestReviewDatesAreRealistic(t *testing.T) {
	files, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	var n, never, overdue, late, red, redOverdue int
	for u, err := range featurejson.DecodeUnits(bytes.NewReader(files["units.geojson"])) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if err := cfg.Grader.Grade(u); err != nil {
			t.Fatal(err)
		}
		u.NextReviewDue = cfg.Grader.NextReview(u.Grade, u.AssessedAt) // as the register does
		if u.IdentifiedAt != nil && u.AssessedAt != nil && u.IdentifiedAt.After(*u.AssessedAt) {
			t.Errorf("%s: identified %s after its review %s", u.Code, u.IdentifiedAt, u.AssessedAt)
		}
		switch u.ReviewStateOn(demoToday) {
		case riskmap.ReviewNever:
			never++
			if u.Status != riskmap.StatusDraft {
				t.Errorf("%s: never reviewed but %s", u.Code, u.Status)
			}
		case riskmap.ReviewOverdue:
			overdue++
		}
		if u.ReidentifyOverdueOn(demoToday) {
			late++
		}
		if u.Grade == riskmap.GradeRed {
			red++
			if u.ReviewStateOn(demoToday) == riskmap.ReviewOverdue {
				redOverdue++
			}
		}
	}
	share := func(k int) float64 { return float64(k) / float64(n) }
	if s := share(overdue); s < 0.02 || s > 0.05 {
		t.Errorf("%d of %d units overdue (%.1f%%), want 2–5%%", overdue, n, 100*s)
	}
	if s := share(never); s < 0.003 || s > 0.02 {
		t.Errorf("%d of %d units never reviewed (%.1f%%), want about 1%%", never, n, 100*s)
	}
	if s := share(late); s < 0.003 || s > 0.02 {
		t.Errorf("%d of %d units identified more than 5 years ago (%.1f%%), want a handful", late, n, 100*s)
	}
	if red == 0 || float64(redOverdue)/float64(red) > 0.1 {
		t.Errorf("%d of %d 重大 units overdue", redOverdue, red)
	}
	t.Logf("%d units: %d overdue (%d of %d 重大), %d never reviewed, %d identified more than 5 years ago", n, overdue, redOverdue, red, never, late)
}
