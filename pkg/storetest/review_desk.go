package storetest

import (
	"slices"
	"testing"

	"riskmap/pkg/config"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
)

// testReviewDesk: the review desk's rules (pkg/register) over the store: a retirement is a
// request that keeps the approved register until another reviewer approves it, a lowered
// grade needs a reason, an unchanged save writes nothing, and submission needs a complete
// unit.
func testReviewDesk(t *testing.T, open Opener) {
	s := open(t)
	cfg := config.Default()
	svc := register.New(s, cfg.Grader, cfg.Catalog)
	alice := &riskmap.User{Name: "alice", Role: riskmap.RoleExpert}
	bob := &riskmap.User{Name: "bob", Role: riskmap.RoleExpert}
	approved := func(t *testing.T, code string) *riskmap.Unit {
		t.Helper()
		u := NewUnit(code, point) // red, complete, approved by the system (a seed)
		must(t, svc.CreateBy(ctx(), nil, u, nil))
		return u
	}
	inRegister := func(t *testing.T, id int64) *riskmap.ApprovedUnit {
		t.Helper()
		for a, err := range s.ApprovedUnits(ctx()) {
			must(t, err)
			if a.UnitID == id {
				return a
			}
		}
		return nil
	}
	fields := func(err error) []string {
		var out []string
		for _, f := range riskmap.ErrorFields(err) {
			out = append(out, f.Field)
		}
		return out
	}

	t.Run("RetireRequestOK", func(t *testing.T) {
		u := approved(t, "DESK-1")
		_, err := svc.Retire(ctx(), alice, u.ID, u.Version, register.Note{}, nil)
		if wantCode(t, err, riskmap.EINVALID); !slices.Contains(fields(err), "reason") {
			t.Fatalf("a request without a reason names reason: %v", err)
		}
		ch, err := svc.Retire(ctx(), alice, u.ID, u.Version, register.Note{Reason: "企业已搬迁"}, nil)
		must(t, err)
		if ch.After.Status != riskmap.StatusSubmitted || inRegister(t, u.ID) == nil {
			t.Fatalf("a request leaves the unit in the approved register: %s, %v", ch.After.Status, inRegister(t, u.ID))
		}
		a, err := s.UnitAuthor(ctx(), u.ID)
		must(t, err)
		if a.RetireReason != "企业已搬迁" || a.RetireRequestedBy != "alice" || a.UpdatedBy != "alice" {
			t.Fatalf("the request is recorded: %+v", a)
		}
		_, err = svc.Approve(ctx(), alice, u.ID, ch.After.Version, register.Note{}, nil)
		wantCode(t, err, riskmap.EFORBIDDEN)
		done, err := svc.Approve(ctx(), bob, u.ID, ch.After.Version, register.Note{Comment: "同意注销"}, nil)
		must(t, err)
		if done.After.Status != riskmap.StatusRetired || inRegister(t, u.ID) != nil {
			t.Fatalf("approving the request retires the unit: %s, %v", done.After.Status, inRegister(t, u.ID))
		}
		if a, _ := s.UnitAuthor(ctx(), u.ID); a.Comment != "同意注销" || a.ReviewedBy != "bob" {
			t.Fatalf("the reviewer's comment is kept: %+v", a)
		}
	})
	t.Run("RetireRequestRejectedOK", func(t *testing.T) {
		u := approved(t, "DESK-2")
		ch, err := svc.Retire(ctx(), alice, u.ID, u.Version, register.Note{Reason: "重复登记"}, nil)
		must(t, err)
		back, err := svc.Reject(ctx(), bob, u.ID, ch.After.Version, register.Note{Comment: "并非重复"}, nil)
		must(t, err)
		held := inRegister(t, u.ID)
		if back.After.Status != riskmap.StatusApproved || held == nil || held.Version != back.After.Version {
			t.Fatalf("a rejected request keeps the unit approved: %s, %v", back.After.Status, held)
		}
	})
	t.Run("LoweredGradeNeedsReasonOK", func(t *testing.T) {
		u := approved(t, "DESK-3")
		v, err := s.GetUnit(ctx(), u.ID)
		must(t, err)
		v.Status, v.Assessment = riskmap.StatusDraft, riskmap.Assessment{Method: riskmap.MethodLS, Likelihood: 1, Severity: 1}
		_, err = svc.UpdateBy(ctx(), alice, v, nil)
		if wantCode(t, err, riskmap.EINVALID); !slices.Contains(fields(err), "downgrade_reason") {
			t.Fatalf("a lowered grade without a reason names downgrade_reason: %v", err)
		}
		v.DowngradeReason = "已拆除储罐"
		_, err = svc.UpdateBy(ctx(), alice, v, nil)
		must(t, err)
		a, err := s.UnitAuthor(ctx(), u.ID)
		must(t, err)
		if a.DowngradeReason != "已拆除储罐" || a.ApprovedGrade != riskmap.GradeRed || a.Approved == "" {
			t.Fatalf("the reason, the approved grade and revision are kept: %+v", a.ReviewNotes)
		}
		if held := inRegister(t, u.ID); held == nil || held.Grade != riskmap.GradeRed {
			t.Fatalf("the approved register keeps the red revision: %v", held)
		}
	})
	t.Run("UnchangedSaveWritesNothingOK", func(t *testing.T) {
		u := approved(t, "DESK-4")
		v, err := s.GetUnit(ctx(), u.ID)
		must(t, err)
		ch, err := svc.UpdateBy(ctx(), alice, v, nil) // sent back as read: status approved
		must(t, err)
		v.Name += "（修订）"
		_, err = svc.UpdateBy(ctx(), alice, v, nil)
		wantCode(t, err, riskmap.EFORBIDDEN) // a changed revision is never approved by writing it
		got, err := s.GetUnit(ctx(), u.ID)
		must(t, err)
		if ch.After.Version != u.Version || got.Version != u.Version || got.Status != riskmap.StatusApproved {
			t.Fatalf("an unchanged save keeps version %d and status approved: returned v%d, stored v%d %s", u.Version, ch.After.Version, got.Version, got.Status)
		}
	})
	t.Run("IncompleteSubmitErr", func(t *testing.T) {
		u := NewUnit("DESK-5", point)
		u.Status, u.ContactPhone, u.Controls.Emergency = riskmap.StatusDraft, "", nil
		must(t, svc.CreateBy(ctx(), alice, u, nil))
		_, err := svc.Submit(ctx(), alice, u.ID, u.Version, register.Note{}, nil)
		wantCode(t, err, riskmap.EINVALID)
		if f := fields(err); !slices.Equal(f, []string{"controls.emergency", "contact_phone"}) {
			t.Fatalf("one problem per missing item: %v", f)
		}
		if got, _ := s.GetUnit(ctx(), u.ID); got.Status != riskmap.StatusDraft || got.Version != u.Version {
			t.Fatalf("a refused submission changes nothing: v%d %s", got.Version, got.Status)
		}
	})
}
