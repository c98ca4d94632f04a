package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// testImports is the contract of riskmap.UnitImportStore: an import writes every unit, its
// author records and its audit row in one transaction, or nothing at all.
func testImports(t *testing.T, open Opener) {
	st := open(t)
	s, ok := st.(riskmap.UnitImportStore)
	if !ok {
		t.Fatalf("%T does not implement riskmap.UnitImportStore", st)
	}
	// An approved unit the imports revise, and a retired one whose code may be taken again.
	kept := NewUnit("IMP-KEPT", orb.Point{102.91, 24.67})
	must(t, st.CreateUnit(ctx(), kept))
	gone := NewUnit("IMP-GONE", orb.Point{102.92, 24.67})
	must(t, st.CreateUnit(ctx(), gone))
	_, err := st.RetireUnit(ctx(), gone.ID, gone.Version)
	must(t, err)

	count := func(t *testing.T) int {
		t.Helper()
		n, err := st.CountUnits(ctx())
		must(t, err)
		return n
	}
	audits := func(t *testing.T) int {
		t.Helper()
		es, err := st.AuditEntries(ctx(), riskmap.AuditFilter{Action: "import.commit", Limit: 1000})
		must(t, err)
		return len(es)
	}
	batch := func(prefix string, n int) []riskmap.ImportWrite {
		var ws []riskmap.ImportWrite
		for i := range n {
			u := NewUnit(fmt.Sprintf("%s-%04d", prefix, i), orb.Point{102.9 + float64(i)/1e4, 24.7})
			u.Status, u.Author = riskmap.StatusDraft, "部门甲"
			ws = append(ws, riskmap.ImportWrite{Unit: u})
		}
		return ws
	}
	revision := func(t *testing.T) riskmap.ImportWrite {
		t.Helper()
		u, err := st.GetUnit(ctx(), kept.ID)
		must(t, err)
		u.Name, u.Status, u.Author = u.Name+"（导入修订）", riskmap.StatusDraft, "部门甲"
		a := &riskmap.UnitAuthor{UpdatedBy: "部门甲", ApprovedVersion: u.Version}
		a.ApprovedGrade = u.Grade
		return riskmap.ImportWrite{Unit: u, Author: a}
	}
	record := func() (*riskmap.WriteRecords, error) {
		return &riskmap.WriteRecords{Audit: &riskmap.AuditEntry{Actor: "部门甲", Role: riskmap.RoleDepartment, Action: "import.commit",
			Outcome: riskmap.OutcomeOK, Status: 200, Method: "POST", Path: "/api/v1/imports/x/commit", TargetType: "import", TargetID: "x"}}, nil
	}
	unchanged := func(t *testing.T, units, rows int) {
		t.Helper()
		if got := count(t); got != units {
			t.Errorf("units: %d, want %d: nothing may be written", got, units)
		}
		if got := audits(t); got != rows {
			t.Errorf("audit rows: %d, want %d", got, rows)
		}
		u, err := st.GetUnit(ctx(), kept.ID)
		must(t, err)
		if u.Version != kept.Version || u.Name != kept.Name {
			t.Errorf("the revised unit is at version %d (%q), want %d untouched", u.Version, u.Name, kept.Version)
		}
	}

	t.Run("UnitsByCode", func(t *testing.T) {
		us, err := s.UnitsByCode(ctx(), []string{"IMP-KEPT", "IMP-GONE", "IMP-NONE", "'; DROP TABLE risk_units; --"})
		must(t, err)
		if len(us) != 1 || us[0].ID != kept.ID || us[0].Name != kept.Name {
			t.Fatalf("UnitsByCode = %v, want the active IMP-KEPT only", us)
		}
	})

	t.Run("ErrFailingRowRollsBack", func(t *testing.T) {
		before, rows := count(t), audits(t)
		ws := append(batch("IMP-BAD", 300), revision(t))
		ws = append(ws, riskmap.ImportWrite{Unit: NewUnit("IMP-KEPT", orb.Point{102.9, 24.7})}) // the code is taken
		err := s.ImportUnits(ctx(), &riskmap.UnitImport{Writes: ws, Record: record})
		if riskmap.ErrorCode(err) != riskmap.ECONFLICT {
			t.Fatalf("a taken code: %v, want ECONFLICT", err)
		}
		unchanged(t, before, rows)
		if ws[0].Unit.ID != 0 {
			t.Errorf("a unit not written keeps no id, got %d", ws[0].Unit.ID)
		}
	})

	t.Run("ErrStaleVersionRollsBack", func(t *testing.T) {
		before, rows := count(t), audits(t)
		rev := revision(t)
		rev.Unit.Version--
		ws := append(batch("IMP-STALE", 20), rev)
		err := s.ImportUnits(ctx(), &riskmap.UnitImport{Writes: ws, Record: record})
		if riskmap.ErrorCode(err) != riskmap.EPRECONDITION {
			t.Fatalf("a unit changed since the check: %v, want EPRECONDITION", err)
		}
		unchanged(t, before, rows)
	})

	t.Run("CancelRollsBack", func(t *testing.T) {
		before, rows := count(t), audits(t)
		c, cancel := context.WithCancel(ctx())
		defer cancel()
		var seen []int
		err := s.ImportUnits(c, &riskmap.UnitImport{Writes: batch("IMP-CANCEL", 600), Record: record, Progress: func(n int) {
			seen = append(seen, n)
			if n >= 256 {
				cancel()
			}
		}})
		if err == nil || c.Err() == nil {
			t.Fatalf("a cancelled import: %v, want the context's error", err)
		}
		unchanged(t, before, rows)
	})

	t.Run("ErrRecordRollsBack", func(t *testing.T) {
		before, rows := count(t), audits(t)
		err := s.ImportUnits(ctx(), &riskmap.UnitImport{Writes: batch("IMP-REC", 3), Record: func() (*riskmap.WriteRecords, error) {
			return nil, riskmap.Errorf(riskmap.EINVALID, "记录失败")
		}})
		if riskmap.ErrorCode(err) != riskmap.EINVALID {
			t.Fatalf("a failing record: %v, want its error", err)
		}
		unchanged(t, before, rows)
	})

	t.Run("OK", func(t *testing.T) {
		before, rows := count(t), audits(t)
		ws := batch("IMP-OK", 300)
		ws = append(ws, riskmap.ImportWrite{Unit: NewUnit("IMP-GONE", orb.Point{102.93, 24.7})}) // a retired unit's code
		ws[len(ws)-1].Unit.Status = riskmap.StatusDraft
		ws = append(ws, revision(t))
		var seen []int
		err := s.ImportUnits(ctx(), &riskmap.UnitImport{Writes: ws, Record: record, Progress: func(n int) { seen = append(seen, n) }})
		must(t, err)
		if got := count(t); got != before+301 {
			t.Errorf("units: %d, want %d", got, before+301)
		}
		if audits(t) != rows+1 {
			t.Error("the import's audit row is missing")
		}
		if len(seen) < 2 || seen[len(seen)-1] != len(ws) {
			t.Errorf("progress %v, want counts ending with %d", seen, len(ws))
		}
		for i := 1; i < len(seen); i++ {
			if seen[i] < seen[i-1] {
				t.Errorf("progress went back: %v", seen)
			}
		}
		for _, w := range ws[:301] {
			got, err := st.GetUnit(ctx(), w.Unit.ID)
			must(t, err)
			if got.Code != w.Unit.Code || got.Version != 1 || got.Status != riskmap.StatusDraft {
				t.Fatalf("created %s: %+v", w.Unit.Code, got)
			}
		}
		a, err := st.UnitAuthor(ctx(), ws[0].Unit.ID)
		must(t, err)
		if a.CreatedBy != "部门甲" || a.UpdatedBy != "部门甲" {
			t.Errorf("a created unit's author record: %+v, want 部门甲", a)
		}
		// The revision of the approved unit is a draft; the approved one stays in the
		// approved register.
		rev := ws[len(ws)-1].Unit
		got, err := st.GetUnit(ctx(), kept.ID)
		must(t, err)
		if got.Version != kept.Version+1 || got.Status != riskmap.StatusDraft || got.Name != rev.Name || rev.Version != got.Version {
			t.Errorf("the revision: version %d status %s name %q", got.Version, got.Status, got.Name)
		}
		a, err = st.UnitAuthor(ctx(), kept.ID)
		must(t, err)
		if a.UpdatedBy != "部门甲" || a.ApprovedVersion != kept.Version {
			t.Errorf("the revision's author record: %+v", a)
		}
		found := false
		for au, err := range st.ApprovedUnits(ctx()) {
			must(t, err)
			if au.UnitID == kept.ID {
				found = au.Version == kept.Version && au.Name == kept.Name
			}
		}
		if !found {
			t.Error("the approved revision must stay in the approved register until the draft is approved")
		}
	})
}
