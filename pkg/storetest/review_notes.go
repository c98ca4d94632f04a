package storetest

import (
	"testing"
	"time"

	"riskmap/pkg/riskmap"
)

// testReviewNotes: the review desk's notes (riskmap.ReviewNotes) round trip through the
// author record, whether set on their own or with a unit write, and text is data.
func testReviewNotes(t *testing.T, open Opener) {
	s := open(t)
	u := NewUnit("NOTES-1", point)
	must(t, s.CreateUnit(ctx(), u))
	asked := base.Add(2 * time.Hour)
	notes := riskmap.ReviewNotes{
		Comment: "同意。'); DROP TABLE unit_authors; --", DowngradeReason: "已完成整改，风险降低",
		ApprovedGrade: riskmap.GradeRed, Approved: `{"type":"Feature","properties":{"name":"液氨储罐区"}}`,
		RetireReason: "企业已搬迁", RetireRequestedBy: "专家乙", RetireRequestedAt: &asked,
	}
	check := func(t *testing.T, want riskmap.ReviewNotes) {
		t.Helper()
		got, err := s.UnitAuthor(ctx(), u.ID)
		must(t, err)
		wantOptTime(t, "retire_requested_at", want.RetireRequestedAt, got.RetireRequestedAt)
		g := got.ReviewNotes
		g.RetireRequestedAt, want.RetireRequestedAt = nil, nil
		if g != want {
			t.Fatalf("review notes: want %+v, got %+v", want, g)
		}
	}
	t.Run("RoundTripOK", func(t *testing.T) {
		must(t, s.SetUnitAuthor(ctx(), &riskmap.UnitAuthor{UnitID: u.ID, ApprovedVersion: u.Version, ReviewNotes: notes}))
		check(t, notes)
	})
	t.Run("ClearedOK", func(t *testing.T) {
		must(t, s.SetUnitAuthor(ctx(), &riskmap.UnitAuthor{UnitID: u.ID, ApprovedVersion: u.Version}))
		check(t, riskmap.ReviewNotes{})
	})
	t.Run("WithTheWriteOK", func(t *testing.T) {
		u.Status = riskmap.StatusSubmitted
		must(t, s.UpdateUnitRecorded(ctx(), u, func(w *riskmap.Unit) (*riskmap.WriteRecords, error) {
			return &riskmap.WriteRecords{Author: &riskmap.UnitAuthor{ApprovedVersion: w.Version - 1, ReviewNotes: notes}}, nil
		}))
		check(t, notes)
		// A retirement approved: the notes are kept with the retired unit.
		_, err := s.RetireUnitRecorded(ctx(), u.ID, u.Version, func(w *riskmap.Unit) (*riskmap.WriteRecords, error) {
			n := notes
			n.Comment = "同意注销"
			return &riskmap.WriteRecords{Author: &riskmap.UnitAuthor{ReviewedBy: "专家丙", ReviewNotes: n}}, nil
		})
		must(t, err)
		n := notes
		n.Comment = "同意注销"
		check(t, n)
	})
}
