package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// testManagedSites is the contract of the one-by-one writes of protective targets and
// shelters (issue 16): versions, stale and missing writes, the records that commit with a
// write and a failing recorder that rolls it back.
func testManagedSites(t *testing.T, open Opener) {
	t.Run("Targets", func(t *testing.T) {
		s := open(t)
		var calls [][2]*riskmap.ProtectiveTarget
		rec := func(action string) riskmap.SiteRecordFunc[*riskmap.ProtectiveTarget] {
			return func(before, after *riskmap.ProtectiveTarget) (*riskmap.WriteRecords, error) {
				var b, a json.RawMessage
				if before != nil {
					calls = append(calls, [2]*riskmap.ProtectiveTarget{before, nil})
					b, _ = json.Marshal(before.Name)
				}
				if after != nil {
					if after.ID == 0 || after.Version == 0 || after.UpdatedAt.IsZero() {
						t.Errorf("the recorder must see the target as written: %+v", after)
					}
					calls = append(calls, [2]*riskmap.ProtectiveTarget{nil, after})
					a, _ = json.Marshal(after.Name)
				}
				return &riskmap.WriteRecords{Audit: &riskmap.AuditEntry{Actor: "admin", Role: "admin", Action: action,
					Outcome: "ok", Status: 200, TargetType: "protective_target", Before: b, After: a}}, nil
			}
		}
		pt := &riskmap.ProtectiveTarget{Name: "凤麓小学", Kind: riskmap.TargetSchool, RegionCode: "530481001001",
			Address: "凤麓路 1 号", People: 1200, Geometry: orb.Point{102.91, 24.68}}
		must(t, s.CreateProtectiveTargetRecorded(ctx(), pt, rec("target.create")))
		if pt.ID == 0 || pt.Version != 1 || pt.UpdatedAt.IsZero() {
			t.Fatalf("create must set ID, Version 1 and UpdatedAt: %+v", pt)
		}
		got, err := s.ProtectiveTarget(ctx(), pt.ID)
		must(t, err)
		if got.Name != pt.Name || got.People != 1200 || got.Version != 1 || !got.UpdatedAt.Equal(pt.UpdatedAt) ||
			!orb.Equal(got.Geometry, pt.Geometry) || got.RegionCode != pt.RegionCode || got.Address != pt.Address {
			t.Fatalf("read back %+v, wrote %+v", got, pt)
		}
		// Update with the version read: the version moves on, the recorder sees both.
		upd := *got
		upd.Name, upd.People, upd.Geometry = "凤麓中学", 1500, orb.Polygon{{{102.91, 24.68}, {102.92, 24.68}, {102.92, 24.69}, {102.91, 24.68}}}
		calls = nil
		must(t, s.UpdateProtectiveTargetRecorded(ctx(), &upd, rec("target.update")))
		if upd.Version != 2 || len(calls) != 2 || calls[0][0].Name != "凤麓小学" || calls[1][1].Name != "凤麓中学" {
			t.Fatalf("update: version %d, recorder calls %v", upd.Version, calls)
		}
		got, err = s.ProtectiveTarget(ctx(), pt.ID)
		must(t, err)
		if got.Version != 2 || got.Name != "凤麓中学" || got.People != 1500 || !orb.Equal(got.Geometry, upd.Geometry) {
			t.Fatalf("after update: %+v", got)
		}
		// A stale version changes nothing and leaves the object as it was.
		stale := *got
		stale.Version, stale.Name = 1, "过时"
		err = s.UpdateProtectiveTargetRecorded(ctx(), &stale, rec("target.update"))
		wantCode(t, err, riskmap.EPRECONDITION)
		if stale.Version != 1 {
			t.Fatalf("a failed update must leave the target as it was, version %d", stale.Version)
		}
		_, err = s.DeleteProtectiveTargetRecorded(ctx(), pt.ID, 1, rec("target.delete"))
		wantCode(t, err, riskmap.EPRECONDITION)
		missing := *got
		missing.ID = pt.ID + 1000
		wantCode(t, s.UpdateProtectiveTargetRecorded(ctx(), &missing, nil), riskmap.ENOTFOUND)
		_, err = s.ProtectiveTarget(ctx(), pt.ID+1000)
		wantCode(t, err, riskmap.ENOTFOUND)
		// A recorder that fails rolls the write back.
		boom := errors.New("boom")
		failing := func(before, after *riskmap.ProtectiveTarget) (*riskmap.WriteRecords, error) { return nil, boom }
		again := *got
		again.Name = "不应写入"
		if err := s.UpdateProtectiveTargetRecorded(ctx(), &again, failing); !errors.Is(err, boom) {
			t.Fatalf("a failing recorder: %v", err)
		}
		if again.Version != 2 {
			t.Fatalf("a rolled-back update must leave the version: %d", again.Version)
		}
		fresh := &riskmap.ProtectiveTarget{Name: "回滚", Kind: riskmap.TargetHospital, People: 5, Geometry: orb.Point{102.9, 24.6}}
		if err := s.CreateProtectiveTargetRecorded(ctx(), fresh, failing); !errors.Is(err, boom) || fresh.ID != 0 {
			t.Fatalf("a failing recorder on create: %v, id %d", err, fresh.ID)
		}
		got, err = s.ProtectiveTarget(ctx(), pt.ID)
		must(t, err)
		if got.Name != "凤麓中学" || got.Version != 2 {
			t.Fatalf("a rolled-back write changed the target: %+v", got)
		}
		// Delete with the current version: gone, the recorder sees it before.
		calls = nil
		del, err := s.DeleteProtectiveTargetRecorded(ctx(), pt.ID, 2, rec("target.delete"))
		must(t, err)
		if del.Name != "凤麓中学" || len(calls) != 1 || calls[0][0] == nil {
			t.Fatalf("delete returned %+v, recorder calls %v", del, calls)
		}
		_, err = s.ProtectiveTarget(ctx(), pt.ID)
		wantCode(t, err, riskmap.ENOTFOUND)
		all, err := s.ProtectiveTargets(ctx())
		must(t, err)
		if len(all) != 0 {
			t.Fatalf("targets left: %+v", all)
		}
		_, err = s.DeleteProtectiveTargetRecorded(ctx(), pt.ID, 2, nil)
		wantCode(t, err, riskmap.ENOTFOUND)
		// The audit rows committed with their writes; the rolled-back ones are not there.
		es, err := s.AuditEntries(ctx(), riskmap.AuditFilter{Action: "target."})
		must(t, err)
		var actions []string
		for _, e := range es {
			actions = append(actions, e.Action)
		}
		if len(actions) != 3 || actions[0] != "target.delete" || actions[1] != "target.update" || actions[2] != "target.create" {
			t.Fatalf("audit rows: %v", actions)
		}
	})
	t.Run("Mark", func(t *testing.T) {
		s := open(t)
		// Two moments may share a mark only when the sites (ids and versions) are the same.
		marks := map[string]string{}
		mark := func(step string) {
			t.Helper()
			m, err := s.SitesMark(ctx())
			must(t, err)
			state := ""
			ts, err := s.ProtectiveTargets(ctx())
			must(t, err)
			ss, err := s.Shelters(ctx())
			must(t, err)
			for _, x := range ts {
				state += fmt.Sprintf("t%d:%d ", x.ID, x.Version)
			}
			for _, x := range ss {
				state += fmt.Sprintf("s%d:%d ", x.ID, x.Version)
			}
			if prev, ok := marks[m]; ok && prev != state {
				t.Fatalf("the mark %q stands for %q and %q (after %s)", m, prev, state, step)
			}
			marks[m] = state
			again, err := s.SitesMark(ctx())
			must(t, err)
			if again != m {
				t.Fatalf("the mark moved without a write: %q then %q", m, again)
			}
		}
		mark("nothing")
		a := &riskmap.ProtectiveTarget{Name: "甲", Kind: riskmap.TargetSchool, People: 5, Geometry: orb.Point{102.9, 24.6}}
		must(t, s.CreateProtectiveTargetRecorded(ctx(), a, nil))
		mark("create a target")
		a.People = 6
		must(t, s.UpdateProtectiveTargetRecorded(ctx(), a, nil))
		mark("update it")
		sh := &riskmap.Shelter{Name: "乙", Kind: riskmap.ShelterFixed, Geometry: orb.Point{102.9, 24.6}}
		must(t, s.CreateShelterRecorded(ctx(), sh, nil))
		mark("create a shelter")
		_, err := s.DeleteShelterRecorded(ctx(), sh.ID, 1, nil)
		must(t, err)
		mark("delete it")
		_, err = s.DeleteProtectiveTargetRecorded(ctx(), a.ID, 2, nil)
		must(t, err)
		mark("delete the target")
	})
	t.Run("Shelters", func(t *testing.T) {
		s := open(t)
		// The bulk seed sets versions too.
		seed := []*riskmap.Shelter{{Name: "体育场", Kind: riskmap.ShelterFixed, RegionCode: "530481001", Capacity: 8000,
			EffectiveAreaM2: 12000, ServiceRadiusM: 1000,
			Geometry: orb.Polygon{{{102.90, 24.67}, {102.91, 24.67}, {102.91, 24.68}, {102.90, 24.67}}}}}
		must(t, s.AddShelters(ctx(), seed))
		if seed[0].Version != 1 || seed[0].UpdatedAt.IsZero() {
			t.Fatalf("AddShelters must set Version and UpdatedAt: %+v", seed[0])
		}
		sh := &riskmap.Shelter{Name: "凤麓广场", Kind: riskmap.ShelterEmergency, RegionCode: "530481001001", Address: "凤麓路",
			Capacity: 500, EffectiveAreaM2: 800.5, ServiceRadiusM: 500, Geometry: orb.Point{102.905, 24.675}}
		var seen []string
		rec := func(before, after *riskmap.Shelter) (*riskmap.WriteRecords, error) {
			switch {
			case before == nil:
				seen = append(seen, "create "+after.Name)
			case after == nil:
				seen = append(seen, "delete "+before.Name)
			default:
				seen = append(seen, "update "+before.Name+" → "+after.Name)
			}
			return &riskmap.WriteRecords{Audit: &riskmap.AuditEntry{Action: "shelter.x", Outcome: "ok", Status: 200}}, nil
		}
		must(t, s.CreateShelterRecorded(ctx(), sh, rec))
		got, err := s.Shelter(ctx(), sh.ID)
		must(t, err)
		if got.Capacity != 500 || got.EffectiveAreaM2 != 800.5 || got.ServiceRadiusM != 500 || got.Kind != riskmap.ShelterEmergency ||
			got.Version != 1 || !got.UpdatedAt.Equal(sh.UpdatedAt) || got.Address != "凤麓路" {
			t.Fatalf("read back %+v", got)
		}
		got.Name, got.Capacity = "凤麓广场（扩建）", 900
		must(t, s.UpdateShelterRecorded(ctx(), got, rec))
		if got.Version != 2 {
			t.Fatalf("version after update %d", got.Version)
		}
		stale := *got
		stale.Version = 1
		wantCode(t, s.UpdateShelterRecorded(ctx(), &stale, rec), riskmap.EPRECONDITION)
		_, err = s.DeleteShelterRecorded(ctx(), sh.ID, 1, rec)
		wantCode(t, err, riskmap.EPRECONDITION)
		_, err = s.DeleteShelterRecorded(ctx(), sh.ID, 2, rec)
		must(t, err)
		_, err = s.Shelter(ctx(), sh.ID)
		wantCode(t, err, riskmap.ENOTFOUND)
		all, err := s.Shelters(ctx())
		must(t, err)
		if len(all) != 1 || all[0].ID != seed[0].ID || all[0].Version != 1 {
			t.Fatalf("shelters left: %+v", all)
		}
		want := []string{"create 凤麓广场", "update 凤麓广场 → 凤麓广场（扩建）", "delete 凤麓广场（扩建）"}
		if len(seen) != len(want) {
			t.Fatalf("recorder calls %v", seen)
		}
		for i := range want {
			if seen[i] != want[i] {
				t.Fatalf("recorder calls %v, want %v", seen, want)
			}
		}
		es, err := s.AuditEntries(ctx(), riskmap.AuditFilter{Action: "shelter."})
		must(t, err)
		if len(es) != 3 {
			t.Fatalf("audit rows %d, want 3", len(es))
		}
	})
}
