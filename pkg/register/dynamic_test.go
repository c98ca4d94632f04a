package register_test

import (
	"context"
	"testing"
	"time"

	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func wantDay(t *testing.T, what string, got *time.Time, want string) {
	t.Helper()
	if want == "" {
		if got != nil {
			t.Fatalf("%s: want none, got %s", what, got.Format(time.DateOnly))
		}
		return
	}
	if got == nil || got.UTC().Format(time.DateOnly) != want {
		t.Fatalf("%s: want %s, got %v", what, want, got)
	}
}

// A unit's grade follows its open conditions, which only hidden dangers' writes change;
// its review date follows its current grade from its last review, whatever a client sends.
func TestDynamicGradeAndReviewDates(t *testing.T) {
	svc, store := newService(t)
	ctx := context.Background()
	expert := &riskmap.User{Name: "alice", Role: riskmap.RoleExpert}
	reviewer := &riskmap.User{Name: "rev", Role: riskmap.RoleExpert}

	// LS 2 × 3 = 6: 一般 (yellow), reviewed every 12 months from 2026-03-01.
	u := polygonUnit(square)
	typed := day("2030-01-01")
	u.NextReviewDue = &typed // typed in by the client: ignored
	u.Conditions = []riskmap.Condition{{Source: riskmap.ConditionHazard, Ref: "YH-FAKE", Level: "major"}}
	u.OpenHazards = 9
	if err := svc.CreateBy(ctx, expert, u, nil); err != nil {
		t.Fatal(err)
	}
	got, err := store.GetUnit(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Grade != riskmap.GradeYellow || got.InherentGrade != riskmap.GradeYellow || got.Conditions != nil || got.OpenHazards != 0 {
		t.Fatalf("a client cannot set conditions or open hidden dangers: %s/%s %v %d", got.Grade, got.InherentGrade, got.Conditions, got.OpenHazards)
	}
	wantDay(t, "next review", got.NextReviewDue, "2027-03-01")
	wantDay(t, "identified (defaults to the assessment)", got.IdentifiedAt, "2026-03-01")

	// A major hidden danger opens: the hazard store writes the unit's dynamics.
	d := svc.Grader.Dynamics(got, "", []riskmap.Condition{{Source: riskmap.ConditionHazard, Ref: "YH-2026-000001",
		Level: "major", Since: day("2026-11-01")}}, 2)
	got.Grade, got.Conditions, got.OpenHazards, got.NextReviewDue = d.Grade, d.Conditions, d.OpenHazards, d.NextReviewDue
	if err := store.UpdateUnit(ctx, got); err != nil {
		t.Fatal(err)
	}
	if text := got.DynamicText(); text != "存在未销号重大隐患 YH-2026-000001，等级由一般上调为重大" {
		t.Fatalf("explanation of the raise: %q", text)
	}

	// An expert edits the name; the client sends no conditions and the grade it last saw.
	edit := *got
	edit.Name, edit.Conditions, edit.OpenHazards, edit.Grade = "储罐区（改）", nil, 0, riskmap.GradeYellow
	edit.IdentifiedAt, edit.NextReviewDue = nil, nil
	if _, err := svc.UpdateBy(ctx, expert, &edit, nil); err != nil {
		t.Fatal(err)
	}
	got, err = store.GetUnit(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "储罐区（改）" || got.Grade != riskmap.GradeRed || got.InherentGrade != riskmap.GradeYellow ||
		len(got.Conditions) != 1 || got.OpenHazards != 2 {
		t.Fatalf("an edit keeps the raise: %s %s/%s %v %d", got.Name, got.Grade, got.InherentGrade, got.Conditions, got.OpenHazards)
	}
	// Red is reviewed every 3 months, from the same last review: the edit does not move it.
	wantDay(t, "next review while red", got.NextReviewDue, "2026-06-01")
	wantDay(t, "identified (kept)", got.IdentifiedAt, "2026-03-01")

	// Regrading with the same thresholds changes nothing and keeps the raise.
	res, err := svc.Regrade(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Changed != 0 {
		t.Fatalf("regrade changed %d units", res.Changed)
	}

	// Submitting and approving keep the raise.
	ch, err := svc.Submit(ctx, expert, got.ID, got.Version, register.Note{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch, err = svc.Approve(ctx, reviewer, ch.After.ID, ch.After.Version, register.Note{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err = store.GetUnit(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != riskmap.StatusApproved || got.Grade != riskmap.GradeRed || got.InherentGrade != riskmap.GradeYellow || got.OpenHazards != 2 {
		t.Fatalf("review transitions keep the raise: %s %s/%s %d", got.Status, got.Grade, got.InherentGrade, got.OpenHazards)
	}
	for a, err := range store.ApprovedUnits(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if a.UnitID == u.ID && a.Grade != riskmap.GradeRed {
			t.Fatalf("the approved register carries the current grade, got %s", a.Grade)
		}
	}

	// A new review date (评估/复核时间) moves the next one.
	edit = *got
	at := day("2026-11-20")
	edit.AssessedAt = &at
	edit.Status = riskmap.StatusDraft
	if _, err := svc.UpdateBy(ctx, expert, &edit, nil); err != nil {
		t.Fatal(err)
	}
	got, err = store.GetUnit(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantDay(t, "next review after a new review", got.NextReviewDue, "2027-02-20")
}

// A unit never reviewed has no next review date: its own state, not overdue.
func TestNeverReviewed(t *testing.T) {
	svc, store := newService(t)
	ctx := context.Background()
	u := polygonUnit(square)
	u.AssessedAt = nil
	if err := svc.CreateBy(ctx, nil, u, nil); err != nil {
		t.Fatal(err)
	}
	got, err := store.GetUnit(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantDay(t, "next review", got.NextReviewDue, "")
	wantDay(t, "identified", got.IdentifiedAt, "")
	if st := got.ReviewStateOn(day("2026-12-06")); st != riskmap.ReviewNever {
		t.Fatalf("review state: %s", st)
	}
}
