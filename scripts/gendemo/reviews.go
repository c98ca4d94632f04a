package main

import (
	"math/rand/v2"
	"time"

	"riskmap/pkg/config"
	"riskmap/pkg/riskmap"
)

// demoToday is the day the demo city's register is dated to: its reviews and
// identifications are realistic on that day. (The data are fixed, so as the real days go by
// more reviews fall due, as they would in a register nobody keeps.)
var demoToday = time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)

// The shares of units, on demoToday, that were never reviewed (复核) and whose review is
// overdue; and of those whose last full identification (全面辨识) is older than five years.
const (
	shareNeverReviewed  = 0.01
	shareReviewOverdue  = 0.035
	shareReidentifyLate = 0.008
	// shareDrafts is about the share of drafts among the units (buildUnits).
	shareDrafts = 0.04
)

// cst is China Standard Time, in which assessments are dated.
var cst = time.FixedZone("CST", 8*3600)

// dateReviews dates each unit's last review (评估/复核时间, AssessedAt), its next one (from
// the grade the assessment gives and the cadence of config review_months, as the server
// computes it) and its last full identification (IdentifiedAt), so that on demoToday most
// units are within their cadence, a few are overdue, about one in a hundred was never
// reviewed (a draft just registered) and a handful were identified more than five years
// ago. Identifications spread over the last six years; a review is never before the
// identification.
func dateReviews(units []*riskmap.Unit, cfg *config.Config, r *rand.Rand) error {
	for _, u := range units {
		g := *u
		if err := cfg.Grader.Grade(&g); err != nil {
			return err
		}
		months := cfg.Grader.Config().ReviewMonths[g.Grade]
		// The earliest day of the current cycle: a review on it is due on demoToday.
		cycle := demoToday.AddDate(0, -months, 0)
		never, overdue := r.Float64(), r.Float64()
		if u.Status == riskmap.StatusDraft && never < shareNeverReviewed/shareDrafts {
			// Some drafts (of about 4% of the units): registered, not yet assessed.
			u.AssessedAt, u.NextReviewDue, u.IdentifiedAt = nil, nil, nil
			continue
		}
		reviewed := cycle.AddDate(0, 0, 1+r.IntN(int(demoToday.Sub(cycle).Hours()/24)-1))
		if overdue < shareReviewOverdue {
			reviewed = cycle.AddDate(0, 0, -1-r.IntN(90)) // overdue by a day to three months
		}
		at := time.Date(reviewed.Year(), reviewed.Month(), reviewed.Day(), 9, 0, 0, 0, cst).
			Add(time.Duration(r.IntN(8*3600)) * time.Second).UTC()
		due := cfg.Grader.ReviewDue(g.Grade, at)
		// Identified in full within the last five years, up to the review; a handful
		// between five and six years ago.
		var identified time.Time
		if r.Float64() < shareReidentifyLate {
			identified = demoToday.AddDate(-6, 0, 1+r.IntN(364))
		} else {
			lo := demoToday.AddDate(-5, 0, 30)
			span := int(reviewed.Sub(lo).Hours() / 24)
			identified = lo.AddDate(0, 0, r.IntN(max(span, 1)))
			if identified.After(reviewed) {
				identified = reviewed
			}
		}
		u.AssessedAt, u.NextReviewDue, u.IdentifiedAt = &at, &due, &identified
	}
	return nil
}
