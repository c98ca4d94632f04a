package storetest

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/hazards"
	"riskmap/pkg/riskmap"
)

// The contract of hazards.Store: hidden dangers, their history and photos, public reports,
// and the unit's dynamic grade that every hidden danger's write recomputes.

// hazardStore returns the store's hazards.Store; every store implements it.
func hazardStore(t *testing.T, s riskmap.Store) hazards.Store {
	t.Helper()
	hs, ok := s.(hazards.Store)
	if !ok {
		t.Fatalf("%T does not implement hazards.Store", s)
	}
	return hs
}

// testDynamics is a DynamicsFunc as the grader's default rule: an open major hidden
// danger raises the grade to red; the next review is 6 months after the assessment for
// red, 12 otherwise.
func testDynamics(u *riskmap.Unit, approvedInherent riskmap.Grade, open []riskmap.Condition, n int) riskmap.Dynamics {
	raise := func(g riskmap.Grade) riskmap.Grade {
		for _, c := range open {
			if c.Level == string(hazards.LevelMajor) {
				return riskmap.GradeRed
			}
		}
		return g
	}
	inherent := u.InherentGrade
	if inherent == "" {
		inherent = u.Grade
	}
	d := riskmap.Dynamics{Grade: raise(inherent), Conditions: open, OpenHazards: n}
	if approvedInherent != "" {
		d.ApprovedGrade = raise(approvedInherent)
	}
	if u.AssessedAt != nil {
		months := 12
		if d.Grade == riskmap.GradeRed {
			months = 6
		}
		y, m, day := u.AssessedAt.UTC().Date()
		due := time.Date(y, m, day, 0, 0, 0, 0, time.UTC).AddDate(0, months, 0)
		d.NextReviewDue = &due
	}
	return d
}

var (
	hzToday = time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	hzFound = time.Date(2026, 6, 1, 9, 30, 0, 0, time.UTC)
)

// newHazard returns a valid hidden danger of unit u with every field set.
func newHazard(u *riskmap.Unit, level hazards.Level, deadline time.Time) *hazards.Hazard {
	h := &hazards.Hazard{
		UnitID: u.ID, Level: level, Description: "储罐区可燃气体报警器失效", Location: "液氨储罐区东侧",
		Point: orb.Point{102.912, 24.671}, FoundAt: hzFound, FoundBy: "检查员甲", Source: hazards.SourceInspection,
		ResponsibleUnit: "澄江某化工有限公司", ResponsiblePerson: "李四", Measures: "更换报警器并联网",
		Deadline: deadline, Status: hazards.StatusRegistered, CreatedBy: "检查员甲",
	}
	if level == hazards.LevelMajor {
		h.Five = &hazards.FiveImplementations{Responsibility: "厂长负责", Measures: "停用储罐", Funds: "20 万元", TimeLimit: "30 日", Plan: "专项应急预案"}
	}
	return h
}

func created(by string) *hazards.Event {
	return &hazards.Event{Kind: hazards.EventCreated, To: hazards.StatusRegistered, By: by, Note: "登记"}
}

// hazardUnit stores an approved yellow unit for hidden dangers.
func hazardUnit(t *testing.T, s riskmap.Store, code, region, category string) *riskmap.Unit {
	t.Helper()
	u := NewUnit(code, point)
	u.Grade, u.RiskValue, u.RegionCode, u.Category = riskmap.GradeYellow, 9, region, category
	u.ResponsibleDepartment = category + "-局"
	must(t, s.CreateUnit(ctx(), u))
	return u
}

func mustCreateHazard(t *testing.T, hs hazards.Store, h *hazards.Hazard) *riskmap.Unit {
	t.Helper()
	u, err := hs.CreateHazard(ctx(), h, created(h.CreatedBy), testDynamics, nil)
	must(t, err)
	return u
}

func hazardIDs(hs []*hazards.Hazard) []int64 {
	out := []int64{}
	for _, h := range hs {
		out = append(out, h.ID)
	}
	return out
}

func sameHazard(t *testing.T, want, got *hazards.Hazard) {
	t.Helper()
	w, g := *want, *got
	for _, p := range []struct{ w, g *time.Time }{{&w.FoundAt, &g.FoundAt}, {&w.CreatedAt, &g.CreatedAt}, {&w.UpdatedAt, &g.UpdatedAt}, {&w.Deadline, &g.Deadline}} {
		if !p.w.Equal(*p.g) {
			t.Errorf("time differs: want %v, got %v", *p.w, *p.g)
		}
		*p.w, *p.g = time.Time{}, time.Time{}
	}
	for _, p := range []struct{ w, g **time.Time }{{&w.AcceptedAt, &g.AcceptedAt}, {&w.ClosedAt, &g.ClosedAt}} {
		if (*p.w == nil) != (*p.g == nil) || (*p.w != nil && !(*p.w).Equal(**p.g)) {
			t.Errorf("time differs: want %v, got %v", *p.w, *p.g)
		}
		*p.w, *p.g = nil, nil
	}
	if w.Supervision != nil && g.Supervision != nil && w.Supervision.At.Equal(g.Supervision.At) {
		ws, gs := *w.Supervision, *g.Supervision
		ws.At, gs.At = time.Time{}, time.Time{}
		w.Supervision, g.Supervision = &ws, &gs
	}
	if !reflect.DeepEqual(w, g) {
		t.Errorf("hidden danger differs:\nwant %+v\n got %+v", w, g)
	}
}

func testHazards(t *testing.T, open Opener) {
	t.Run("CreateGetOK", func(t *testing.T) {
		s := open(t)
		hs := hazardStore(t, s)
		u := hazardUnit(t, s, "HZ-1", "530481001001", "hazardous_chemicals")
		h := newHazard(u, hazards.LevelGeneral, time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))
		ev := created("检查员甲")
		if _, err := hs.CreateHazard(ctx(), h, ev, testDynamics, nil); err != nil {
			t.Fatal(err)
		}
		if h.ID == 0 || h.Version != 1 || h.CreatedAt.IsZero() || !h.UpdatedAt.Equal(h.CreatedAt) {
			t.Fatalf("CreateHazard must set id, version 1 and times: %+v", h)
		}
		if want := hazards.HazardCode(2026, h.ID); h.Code != want || len(want) != len("YH-2026-000001") {
			t.Errorf("code: want %s, got %s", want, h.Code)
		}
		if h.UnitCode != u.Code || h.UnitName != u.Name || h.Category != u.Category || h.RegionCode != u.RegionCode || h.Department != u.ResponsibleDepartment {
			t.Errorf("the unit's fields must be copied: %+v", h)
		}
		if ev.ID == 0 || ev.HazardID != h.ID {
			t.Errorf("the created event must be stored: %+v", ev)
		}
		got, err := hs.GetHazard(ctx(), h.ID)
		must(t, err)
		sameHazard(t, h, got)

		major := newHazard(u, hazards.LevelMajor, time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC))
		major.Supervision = &hazards.Supervision{By: hazards.SupervisionCity, At: hzFound, User: "专家", Note: "市级挂牌"}
		major.Extension = &hazards.Extension{Deadline: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), Reason: "设备到货延迟", RequestedBy: "李四", RequestedAt: hzFound}
		major.Point = orb.Point{}
		mustCreateHazard(t, hs, major)
		got, err = hs.GetHazard(ctx(), major.ID)
		must(t, err)
		if got.Five == nil || *got.Five != *major.Five || got.Extension == nil || got.Extension.Reason != "设备到货延迟" || got.Supervision == nil || got.Supervision.By != hazards.SupervisionCity {
			t.Errorf("五落实, supervision and extension must round-trip: %+v", got)
		}
		if got.Point == (orb.Point{}) || !u.Geometry.Bound().Contains(got.Point) {
			t.Errorf("a zero point must be the unit's place, got %v", got.Point)
		}
	})
	t.Run("OneHazardPerAlarmConflict", func(t *testing.T) {
		s := open(t)
		hs := hazardStore(t, s)
		u := hazardUnit(t, s, "HZ-ALARM", "530481001001", "hazardous_chemicals")
		first := newHazard(u, hazards.LevelMajor, time.Now().AddDate(0, 0, 7))
		first.Source, first.AlarmID = hazards.SourceMonitoring, 42
		mustCreateHazard(t, hs, first)
		got, err := hs.GetHazard(ctx(), first.ID)
		must(t, err)
		if got.AlarmID != 42 {
			t.Fatalf("alarm of the hidden danger: %d", got.AlarmID)
		}
		found, _, err := hs.FindHazards(ctx(), hazards.Filter{AlarmID: 42})
		must(t, err)
		if len(found) != 1 || found[0].ID != first.ID {
			t.Fatalf("find by alarm: %v", hazardIDs(found))
		}
		second := newHazard(u, hazards.LevelGeneral, time.Now().AddDate(0, 0, 7))
		second.Source, second.AlarmID = hazards.SourceMonitoring, 42
		_, err = hs.CreateHazard(ctx(), second, created(second.CreatedBy), testDynamics, nil)
		wantCode(t, err, riskmap.ECONFLICT)
		// Another alarm, and hidden dangers of no alarm, are not limited.
		for _, id := range []int64{43, 0, 0} {
			h := newHazard(u, hazards.LevelGeneral, time.Now().AddDate(0, 0, 7))
			h.AlarmID = id
			mustCreateHazard(t, hs, h)
		}
	})
	t.Run("GetMissingNotFound", func(t *testing.T) {
		hs := hazardStore(t, open(t))
		_, err := hs.GetHazard(ctx(), 999)
		wantCode(t, err, riskmap.ENOTFOUND)
		_, err = hs.HazardEvents(ctx(), 999)
		wantCode(t, err, riskmap.ENOTFOUND)
	})
	t.Run("CreateOnMissingOrRetiredUnitNotFound", func(t *testing.T) {
		s := open(t)
		hs := hazardStore(t, s)
		u := hazardUnit(t, s, "HZ-R", "530481001001", "hazardous_chemicals")
		_, err := hs.CreateHazard(ctx(), newHazard(&riskmap.Unit{ID: 999}, hazards.LevelGeneral, hzToday), created("甲"), testDynamics, nil)
		wantCode(t, err, riskmap.ENOTFOUND)
		_, err = s.RetireUnit(ctx(), u.ID, u.Version)
		must(t, err)
		h := newHazard(u, hazards.LevelGeneral, hzToday)
		_, err = hs.CreateHazard(ctx(), h, created("甲"), testDynamics, nil)
		wantCode(t, err, riskmap.ENOTFOUND)
		if h.ID != 0 {
			t.Errorf("a refused create names no row: id %d", h.ID)
		}
		list, n, err := hs.FindHazards(ctx(), hazards.Filter{})
		must(t, err)
		if n != 0 || len(list) != 0 {
			t.Errorf("nothing may be stored, got %d", n)
		}
	})
	t.Run("BadValuesInvalid", func(t *testing.T) {
		s := open(t)
		hs := hazardStore(t, s)
		u := hazardUnit(t, s, "HZ-B", "530481001001", "hazardous_chemicals")
		h := newHazard(u, "catastrophic", hzToday)
		_, err := hs.CreateHazard(ctx(), h, created("甲"), testDynamics, nil)
		wantCode(t, err, riskmap.EINVALID)
		h = newHazard(u, hazards.LevelGeneral, hzToday)
		h.Status = "lost"
		_, err = hs.CreateHazard(ctx(), h, created("甲"), testDynamics, nil)
		wantCode(t, err, riskmap.EINVALID)
	})
	t.Run("Find", func(t *testing.T) { testFindHazards(t, open) })
	t.Run("UpdateAndHistoryOK", func(t *testing.T) {
		s := open(t)
		hs := hazardStore(t, s)
		u := hazardUnit(t, s, "HZ-U", "530481001001", "hazardous_chemicals")
		h := newHazard(u, hazards.LevelGeneral, hzToday)
		mustCreateHazard(t, hs, h)
		steps := []hazards.Status{hazards.StatusReported, hazards.StatusRectifying, hazards.StatusAccepted, hazards.StatusClosed}
		from := h.Status
		for i, to := range steps {
			h.Status = to
			if to == hazards.StatusAccepted {
				at := hzFound.Add(48 * time.Hour)
				h.AcceptedBy, h.AcceptedAt = "整改人", &at
			}
			if to == hazards.StatusClosed {
				at := hzFound.Add(72 * time.Hour)
				h.ClosedBy, h.ClosedAt = "复查人", &at
			}
			ev := &hazards.Event{Kind: hazards.EventTransition, From: from, To: to, By: "用户", Note: "第" + string(rune('1'+i)) + "步",
				Data: map[string]any{"step": float64(i + 1)}}
			_, err := hs.UpdateHazard(ctx(), h, []*hazards.Event{ev}, testDynamics, nil)
			must(t, err)
			if h.Version != int64(i+2) {
				t.Fatalf("version: want %d, got %d", i+2, h.Version)
			}
			if ev.ID == 0 || ev.HazardID != h.ID {
				t.Errorf("event not stored: %+v", ev)
			}
			from = to
		}
		got, err := hs.GetHazard(ctx(), h.ID)
		must(t, err)
		sameHazard(t, h, got)
		evs, err := hs.HazardEvents(ctx(), h.ID)
		must(t, err)
		if len(evs) != 5 || evs[0].Kind != hazards.EventCreated {
			t.Fatalf("history: want created and 4 transitions, got %d", len(evs))
		}
		for i, ev := range evs[1:] {
			if ev.To != steps[i] || ev.Kind != hazards.EventTransition || ev.By != "用户" || ev.At.IsZero() || ev.Data["step"] != float64(i+1) {
				t.Errorf("history %d: %+v", i+1, ev)
			}
			if ev.ID <= evs[i].ID {
				t.Errorf("history must be oldest first")
			}
		}
	})
	t.Run("UpdateStalePrecondition", func(t *testing.T) {
		s := open(t)
		hs := hazardStore(t, s)
		u := hazardUnit(t, s, "HZ-S", "530481001001", "hazardous_chemicals")
		h := newHazard(u, hazards.LevelGeneral, hzToday)
		mustCreateHazard(t, hs, h)
		unitVersion := mustGetUnit(t, s, u.ID).Version
		first := *h
		h.Description = "第一次修改"
		_, err := hs.UpdateHazard(ctx(), h, []*hazards.Event{{Kind: hazards.EventEdited, By: "甲"}}, testDynamics, nil)
		must(t, err)
		first.Description, first.Level = "过时的修改", hazards.LevelMajor
		_, err = hs.UpdateHazard(ctx(), &first, []*hazards.Event{{Kind: hazards.EventEdited, By: "乙"}}, testDynamics, nil)
		wantCode(t, err, riskmap.EPRECONDITION)
		if first.Version != 1 {
			t.Errorf("a refused update keeps the version, got %d", first.Version)
		}
		got, err := hs.GetHazard(ctx(), h.ID)
		must(t, err)
		if got.Description != "第一次修改" || got.Version != 2 || got.Level != hazards.LevelGeneral {
			t.Errorf("a stale update must change nothing: %+v", got)
		}
		evs, err := hs.HazardEvents(ctx(), h.ID)
		must(t, err)
		if len(evs) != 2 {
			t.Errorf("a stale update adds no history, got %d events", len(evs))
		}
		if g := mustGetUnit(t, s, u.ID); g.Grade != riskmap.GradeYellow || g.Version != unitVersion {
			t.Errorf("a stale update must not touch the unit: %s v%d", g.Grade, g.Version)
		}
		missing := *h
		missing.ID = 999
		_, err = hs.UpdateHazard(ctx(), &missing, nil, testDynamics, nil)
		wantCode(t, err, riskmap.ENOTFOUND)
	})
	t.Run("Dynamics", func(t *testing.T) { testHazardDynamics(t, open) })
	t.Run("Photos", func(t *testing.T) {
		s := open(t)
		hs := hazardStore(t, s)
		u := hazardUnit(t, s, "HZ-P", "530481001001", "hazardous_chemicals")
		h := newHazard(u, hazards.LevelGeneral, hzToday)
		mustCreateHazard(t, hs, h)
		img := []byte("\x89PNG\r\n\x1a\n…not really a png, the store keeps bytes")
		p := &hazards.Photo{Owner: "hazard", OwnerID: h.ID, Stage: hazards.PhotoBefore, ContentType: "image/png", Width: 640, Height: 480, Bytes: img, By: "检查员甲"}
		ev := &hazards.Event{Kind: hazards.EventPhoto, By: "检查员甲", Note: "整改前照片"}
		must(t, hs.AddPhoto(ctx(), p, ev, nil))
		if p.ID == 0 || p.At.IsZero() || ev.HazardID != h.ID {
			t.Fatalf("AddPhoto must set id and time and store the event: %+v %+v", p, ev)
		}
		p2 := &hazards.Photo{Owner: "hazard", OwnerID: h.ID, Stage: hazards.PhotoAfter, ContentType: "image/jpeg", Width: 1, Height: 1, Bytes: []byte{0xff, 0xd8, 0xff}, By: "整改人"}
		must(t, hs.AddPhoto(ctx(), p2, &hazards.Event{Kind: hazards.EventPhoto, By: "整改人"}, nil))
		list, err := hs.Photos(ctx(), "hazard", h.ID)
		must(t, err)
		if len(list) != 2 || list[0].ID != p.ID || list[1].Stage != hazards.PhotoAfter || list[0].Bytes != nil || list[0].Width != 640 {
			t.Fatalf("Photos: want both, oldest first, without bytes: %+v", list)
		}
		got, err := hs.GetPhoto(ctx(), p.ID)
		must(t, err)
		if !bytes.Equal(got.Bytes, img) || got.ContentType != "image/png" || got.By != "检查员甲" || !got.At.Equal(p.At) {
			t.Errorf("photo round trip: %+v", got)
		}
		_, err = hs.GetPhoto(ctx(), 999)
		wantCode(t, err, riskmap.ENOTFOUND)
		err = hs.AddPhoto(ctx(), &hazards.Photo{Owner: "hazard", OwnerID: 999, Stage: hazards.PhotoBefore, ContentType: "image/png", Bytes: img}, nil, nil)
		wantCode(t, err, riskmap.ENOTFOUND)
		err = hs.AddPhoto(ctx(), &hazards.Photo{Owner: "hazard", OwnerID: h.ID, Stage: hazards.PhotoBefore, ContentType: "text/html", Bytes: img}, nil, nil)
		wantCode(t, err, riskmap.EINVALID)
		evs, err := hs.HazardEvents(ctx(), h.ID)
		must(t, err)
		if len(evs) != 3 {
			t.Errorf("history: created and 2 photos, got %d", len(evs))
		}
	})
	t.Run("Reports", func(t *testing.T) { testReports(t, open) })
	t.Run("Counts", func(t *testing.T) { testCountHazards(t, open) })
}

// findFixture stores hidden dangers spread over every filter.
type findFixture struct {
	chem, gas, other       *riskmap.Unit
	overdue, soon, later   *hazards.Hazard
	supervised, closed, ok *hazards.Hazard
}

func newFindFixture(t *testing.T, s riskmap.Store) *findFixture {
	hs := hazardStore(t, s)
	f := &findFixture{
		chem:  hazardUnit(t, s, "F-CHEM", "530481001001", "hazardous_chemicals"),
		gas:   hazardUnit(t, s, "F-GAS", "530481002001", "gas"),
		other: hazardUnit(t, s, "F-OTHER", "530402001001", "hazardous_chemicals"),
	}
	day := func(d int) time.Time { return hzToday.AddDate(0, 0, d) }
	f.overdue = newHazard(f.chem, hazards.LevelGeneral, day(-3)) // past deadline
	f.soon = newHazard(f.chem, hazards.LevelMajor, day(5))
	f.soon.Status = hazards.StatusRectifying
	f.soon.Description = "消防通道被占用 100%_"
	f.later = newHazard(f.gas, hazards.LevelGeneral, day(30))
	f.later.Point = orb.Point{103.5, 25.5}
	f.supervised = newHazard(f.gas, hazards.LevelMajor, day(-10))
	f.supervised.Supervision = &hazards.Supervision{By: hazards.SupervisionDistrict, At: hzFound, User: "区应急局"}
	f.supervised.Status = hazards.StatusReported
	f.closed = newHazard(f.other, hazards.LevelMajor, day(-20)) // closed: never overdue
	f.closed.Status = hazards.StatusClosed
	f.ok = newHazard(f.other, hazards.LevelGeneral, day(-1)) // accepted: not overdue
	f.ok.Status = hazards.StatusAccepted
	for _, h := range []*hazards.Hazard{f.overdue, f.soon, f.later, f.supervised, f.closed, f.ok} {
		mustCreateHazard(t, hs, h)
	}
	return f
}

func testFindHazards(t *testing.T, open Opener) {
	s := open(t)
	hs := hazardStore(t, s)
	f := newFindFixture(t, s)
	all := []int64{f.overdue.ID, f.soon.ID, f.later.ID, f.supervised.ID, f.closed.ID, f.ok.ID}
	dept := &riskmap.User{Name: "dept", Role: riskmap.RoleDepartment, Categories: []string{"hazardous_chemicals"}, Regions: []string{"530481"}}
	for _, c := range []struct {
		name string
		f    hazards.Filter
		want []int64
	}{
		{"All", hazards.Filter{}, all},
		{"Unit", hazards.Filter{UnitID: f.gas.ID}, []int64{f.later.ID, f.supervised.ID}},
		{"Statuses", hazards.Filter{Statuses: []hazards.Status{hazards.StatusRectifying, hazards.StatusClosed}}, []int64{f.soon.ID, f.closed.ID}},
		{"EmptyStatuses", hazards.Filter{Statuses: []hazards.Status{}}, []int64{}},
		{"Level", hazards.Filter{Levels: []hazards.Level{hazards.LevelMajor}}, []int64{f.soon.ID, f.supervised.ID, f.closed.ID}},
		{"Open", hazards.Filter{Open: true}, []int64{f.overdue.ID, f.soon.ID, f.later.ID, f.supervised.ID, f.ok.ID}},
		{"Overdue", hazards.Filter{Overdue: true, Today: hzToday}, []int64{f.overdue.ID, f.supervised.ID}},
		{"OverdueLater", hazards.Filter{Overdue: true, Today: hzToday.AddDate(0, 0, 6)}, []int64{f.overdue.ID, f.soon.ID, f.supervised.ID}},
		{"DueWithin", hazards.Filter{DueWithinDays: 7, Today: hzToday}, []int64{f.soon.ID}},
		{"Supervised", hazards.Filter{Supervised: true}, []int64{f.supervised.ID}},
		{"Region", hazards.Filter{RegionPrefix: "530481"}, []int64{f.overdue.ID, f.soon.ID, f.later.ID, f.supervised.ID}},
		{"RegionStreet", hazards.Filter{RegionPrefix: "530481002"}, []int64{f.later.ID, f.supervised.ID}},
		{"Department", hazards.Filter{Departments: []string{"gas-局"}}, []int64{f.later.ID, f.supervised.ID}},
		{"Category", hazards.Filter{Categories: []string{"hazardous_chemicals"}}, []int64{f.overdue.ID, f.soon.ID, f.closed.ID, f.ok.ID}},
		{"BBox", hazards.Filter{BBox: &orb.Bound{Min: orb.Point{103.4, 25.4}, Max: orb.Point{103.6, 25.6}}}, []int64{f.later.ID}},
		{"QCode", hazards.Filter{Q: f.later.Code}, []int64{f.later.ID}},
		{"QUnitCode", hazards.Filter{Q: "f-gas"}, []int64{f.later.ID, f.supervised.ID}},
		{"QLiteral", hazards.Filter{Q: "100%_"}, []int64{f.soon.ID}},
		{"QWildcardIsLiteral", hazards.Filter{Q: "%"}, []int64{f.soon.ID}},
		{"Scope", hazards.Filter{Scope: dept}, []int64{f.overdue.ID, f.soon.ID}},
		{"ScopeAdmin", hazards.Filter{Scope: &riskmap.User{Role: riskmap.RoleAdmin}}, all},
		{"Combined", hazards.Filter{Open: true, Levels: []hazards.Level{hazards.LevelMajor}, RegionPrefix: "530481"}, []int64{f.soon.ID, f.supervised.ID}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, n, err := hs.FindHazards(ctx(), c.f)
			must(t, err)
			if !reflect.DeepEqual(hazardIDs(got), c.want) || n != len(c.want) {
				t.Errorf("want %v (%d), got %v (%d)", c.want, len(c.want), hazardIDs(got), n)
			}
		})
	}
	t.Run("Paging", func(t *testing.T) {
		page, n, err := hs.FindHazards(ctx(), hazards.Filter{Open: true, Limit: 2})
		must(t, err)
		if !reflect.DeepEqual(hazardIDs(page), []int64{f.overdue.ID, f.soon.ID}) || n != 5 {
			t.Fatalf("first page: %v of %d", hazardIDs(page), n)
		}
		page, n, err = hs.FindHazards(ctx(), hazards.Filter{Open: true, Limit: 2, AfterID: f.soon.ID})
		must(t, err)
		if !reflect.DeepEqual(hazardIDs(page), []int64{f.later.ID, f.supervised.ID}) || n != 5 {
			t.Fatalf("second page: %v of %d", hazardIDs(page), n)
		}
	})
	t.Run("BadBBoxInvalid", func(t *testing.T) {
		_, _, err := hs.FindHazards(ctx(), hazards.Filter{BBox: &orb.Bound{Min: orb.Point{104, 25}, Max: orb.Point{103, 24}}})
		wantCode(t, err, riskmap.EINVALID)
	})
}

func testCountHazards(t *testing.T, open Opener) {
	s := open(t)
	hs := hazardStore(t, s)
	f := newFindFixture(t, s)
	c := func(key string, total, closed, accepted, open, openMajor, overdue, soon, supervised int) hazards.Count {
		return hazards.Count{Key: key, Total: total, Closed: closed, Accepted: accepted, Open: open, OpenMajor: openMajor,
			Overdue: overdue, DueSoon: soon, Supervised: supervised}
	}
	for _, tc := range []struct {
		by   string
		f    hazards.Filter
		want []hazards.Count
	}{
		{hazards.ByCategory, hazards.Filter{Today: hzToday}, []hazards.Count{
			c("gas", 2, 0, 0, 2, 1, 1, 0, 1),
			c("hazardous_chemicals", 4, 1, 2, 3, 1, 1, 1, 0),
		}},
		// By 乡镇/街道: the first 9 digits of the region code.
		{hazards.ByRegion, hazards.Filter{Today: hzToday}, []hazards.Count{
			c("530402001", 2, 1, 2, 1, 0, 0, 0, 0),
			c("530481001", 2, 0, 0, 2, 1, 1, 1, 0),
			c("530481002", 2, 0, 0, 2, 1, 1, 0, 1),
		}},
		{hazards.ByDepartment, hazards.Filter{Today: hzToday, DueWithinDays: 40}, []hazards.Count{
			c("gas-局", 2, 0, 0, 2, 1, 1, 1, 1),
			c("hazardous_chemicals-局", 4, 1, 2, 3, 1, 1, 1, 0),
		}},
		{hazards.ByRegion, hazards.Filter{Today: hzToday, Scope: &riskmap.User{Role: riskmap.RoleDepartment, Categories: []string{"hazardous_chemicals"}, Regions: []string{"530402"}}}, []hazards.Count{
			c("530402001", 2, 1, 2, 1, 0, 0, 0, 0),
		}},
		{hazards.ByCategory, hazards.Filter{Statuses: []hazards.Status{}}, []hazards.Count{}},
	} {
		got, err := hs.CountHazards(ctx(), tc.f, tc.by)
		must(t, err)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("CountHazards by %s: want %+v, got %+v", tc.by, tc.want, got)
		}
	}
	_, err := hs.CountHazards(ctx(), hazards.Filter{}, "colour")
	wantCode(t, err, riskmap.EINVALID)

	// Filters a store may answer another way (one unit, overdue, a text, a box) agree.
	for _, tc := range []struct {
		f    hazards.Filter
		want []hazards.Count
	}{
		{hazards.Filter{Today: hzToday, UnitID: f.gas.ID}, []hazards.Count{c("gas", 2, 0, 0, 2, 1, 1, 0, 1)}},
		{hazards.Filter{Today: hzToday, Overdue: true}, []hazards.Count{c("gas", 1, 0, 0, 1, 1, 1, 0, 1), c("hazardous_chemicals", 1, 0, 0, 1, 0, 1, 0, 0)}},
		{hazards.Filter{Today: hzToday, Q: "F-CHEM"}, []hazards.Count{c("hazardous_chemicals", 2, 0, 0, 2, 1, 1, 1, 0)}},
	} {
		got, err := hs.CountHazards(ctx(), tc.f, hazards.ByCategory)
		must(t, err)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("CountHazards %+v: want %+v, got %+v", tc.f, tc.want, got)
		}
	}

	// Counts follow every write: the overdue one is closed, the supervised one moves on.
	f.overdue.Status = hazards.StatusClosed
	_, err = hs.UpdateHazard(ctx(), f.overdue, nil, testDynamics, nil)
	must(t, err)
	f.supervised.Status, f.supervised.Supervision = hazards.StatusAccepted, nil
	_, err = hs.UpdateHazard(ctx(), f.supervised, nil, testDynamics, nil)
	must(t, err)
	got, err := hs.CountHazards(ctx(), hazards.Filter{Today: hzToday}, hazards.ByCategory)
	must(t, err)
	if want := []hazards.Count{c("gas", 2, 0, 1, 2, 1, 0, 0, 0), c("hazardous_chemicals", 4, 2, 3, 2, 1, 0, 1, 0)}; !reflect.DeepEqual(got, want) {
		t.Errorf("CountHazards after writes: want %+v, got %+v", want, got)
	}
}

// testHazardDynamics checks that a hidden danger's writes keep its unit's dynamic grade.
func testHazardDynamics(t *testing.T, open Opener) {
	s := open(t)
	hs := hazardStore(t, s)
	u := hazardUnit(t, s, "DYN-1", "530481001001", "hazardous_chemicals") // approved, yellow, v1
	must(t, s.SetUnitAuthor(ctx(), &riskmap.UnitAuthor{UnitID: u.ID, CreatedBy: "甲", UpdatedBy: "甲", ReviewedBy: "乙", ApprovedVersion: u.Version}))
	approvedGrade := func() *riskmap.ApprovedUnit {
		t.Helper()
		a := approvedOf(approved(t, s), u.ID)
		if a == nil {
			t.Fatal("the unit left the approved register")
		}
		return a
	}

	// A general hidden danger raises nothing but is counted.
	g := newHazard(u, hazards.LevelGeneral, hzToday)
	got := mustCreateHazard(t, hs, g)
	if got == nil || got.Grade != riskmap.GradeYellow || got.OpenHazards != 1 || len(got.Conditions) != 1 || got.Version != 2 {
		t.Fatalf("a general hidden danger: the unit counts it at version 2, got %+v", got)
	}
	if c := got.Conditions[0]; c.Source != riskmap.ConditionHazard || c.Ref != g.Code || c.Level != "general" || !c.Since.Equal(g.FoundAt) {
		t.Errorf("condition: %+v", c)
	}
	stored := mustGetUnit(t, s, u.ID)
	if stored.Version != 2 || stored.Grade != riskmap.GradeYellow {
		t.Errorf("stored unit: %s v%d", stored.Grade, stored.Version)
	}

	// A major one raises the grade to red, for the working and the approved revision.
	m := newHazard(u, hazards.LevelMajor, hzToday)
	m.FoundAt = hzFound.Add(time.Hour)
	got = mustCreateHazard(t, hs, m)
	if got == nil || got.Grade != riskmap.GradeRed || got.OpenHazards != 2 || len(got.Conditions) != 2 || got.Conditions[1].Ref != m.Code || got.Version != 3 {
		t.Fatalf("an open major hidden danger raises the unit to red at version 3, got %+v", got)
	}
	stored = mustGetUnit(t, s, u.ID)
	if stored.Grade != riskmap.GradeRed || stored.Version != 3 || stored.NextReviewDue == nil ||
		!stored.NextReviewDue.Equal(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("stored unit: %s v%d review %v", stored.Grade, stored.Version, stored.NextReviewDue)
	}
	if stored.InherentGrade != riskmap.GradeYellow || stored.OpenHazards != 2 || len(stored.Conditions) != 2 ||
		stored.Conditions[0].Ref != g.Code || stored.Conditions[1].Ref != m.Code || stored.Conditions[1].Level != "major" {
		t.Errorf("the stored unit keeps its inherent grade and its open conditions, oldest first: %s %d %+v",
			stored.InherentGrade, stored.OpenHazards, stored.Conditions)
	}
	equalUnit(t, got, stored)
	if a := approvedGrade(); a.Grade != riskmap.GradeRed || a.Version != 3 {
		t.Errorf("approved register: want red at v3, got %s v%d", a.Grade, a.Version)
	}
	if au, err := s.UnitAuthor(ctx(), u.ID); err != nil || au.ApprovedVersion != 3 {
		t.Errorf("the author record's approved version follows: %+v %v", au, err)
	}

	// An edit that changes nothing the unit depends on leaves it alone.
	m.Description = "补充说明"
	got, err := hs.UpdateHazard(ctx(), m, []*hazards.Event{{Kind: hazards.EventEdited, By: "甲"}}, testDynamics, nil)
	must(t, err)
	if got != nil || mustGetUnit(t, s, u.ID).Version != 3 {
		t.Errorf("an edit that changes nothing of the unit must not write it, got %+v", got)
	}

	// A failing record rolls everything back: the hidden danger, its history, the unit.
	boom := errors.New("boom")
	failing := func() (*riskmap.WriteRecords, error) { return nil, boom }
	m2 := newHazard(u, hazards.LevelMajor, hzToday)
	before := *m
	m.Status = hazards.StatusClosed
	if _, err := hs.UpdateHazard(ctx(), m, []*hazards.Event{{Kind: hazards.EventTransition, To: hazards.StatusClosed, By: "乙"}}, testDynamics, failing); !errors.Is(err, boom) {
		t.Fatalf("want the record's error, got %v", err)
	}
	if m.Version != before.Version || !m.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("a failed update leaves the caller's hidden danger as it was: v%d", m.Version)
	}
	if _, err := hs.CreateHazard(ctx(), m2, created("甲"), testDynamics, failing); !errors.Is(err, boom) {
		t.Fatalf("want the record's error, got %v", err)
	}
	if m2.ID != 0 {
		t.Errorf("a failed create names no row")
	}
	list, n, err := hs.FindHazards(ctx(), hazards.Filter{UnitID: u.ID})
	must(t, err)
	if n != 2 || list[1].Status != hazards.StatusRegistered || list[1].Version != 2 {
		t.Errorf("rolled back writes leave the hidden dangers: %d, %+v", n, list)
	}
	if evs, err := hs.HazardEvents(ctx(), m.ID); err != nil || len(evs) != 2 {
		t.Errorf("rolled back writes leave the history: %d %v", len(evs), err)
	}
	if stored := mustGetUnit(t, s, u.ID); stored.Grade != riskmap.GradeRed || stored.Version != 3 {
		t.Errorf("rolled back writes leave the unit: %s v%d", stored.Grade, stored.Version)
	}

	// Closing the major one restores the grade; the general one stays counted.
	m.Status = hazards.StatusClosed
	got, err = hs.UpdateHazard(ctx(), m, []*hazards.Event{{Kind: hazards.EventTransition, To: hazards.StatusClosed, By: "乙"}}, testDynamics, nil)
	must(t, err)
	if got == nil || got.Grade != riskmap.GradeYellow || got.OpenHazards != 1 || len(got.Conditions) != 1 || got.Version != 4 {
		t.Fatalf("closing the major hidden danger restores yellow at version 4, got %+v", got)
	}
	stored = mustGetUnit(t, s, u.ID)
	if stored.Grade != riskmap.GradeYellow || stored.Version != 4 || stored.NextReviewDue == nil ||
		!stored.NextReviewDue.Equal(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("stored unit: %s v%d review %v", stored.Grade, stored.Version, stored.NextReviewDue)
	}
	if stored.InherentGrade != riskmap.GradeYellow || stored.OpenHazards != 1 || len(stored.Conditions) != 1 || stored.Conditions[0].Ref != g.Code {
		t.Errorf("closing leaves the general hidden danger's condition: %d %+v", stored.OpenHazards, stored.Conditions)
	}
	equalUnit(t, got, stored)
	if a := approvedGrade(); a.Grade != riskmap.GradeYellow || a.Version != 4 {
		t.Errorf("approved register: want yellow at v4, got %s v%d", a.Grade, a.Version)
	}

	// A draft revision of the unit: the approved revision keeps its version and takes the
	// raise of its own inherent grade.
	stored.Status = riskmap.StatusDraft
	stored.Name = "草稿中的名称"
	must(t, s.UpdateUnit(ctx(), stored)) // v5, draft
	m3 := newHazard(u, hazards.LevelMajor, hzToday)
	got = mustCreateHazard(t, hs, m3)
	if got == nil || got.Grade != riskmap.GradeRed || got.Version != 6 {
		t.Fatalf("the draft is raised to red at v6, got %+v", got)
	}
	if a := approvedGrade(); a.Grade != riskmap.GradeRed || a.Version != 4 {
		t.Errorf("approved register: want red, still v4, got %s v%d", a.Grade, a.Version)
	}
	m3.Status = hazards.StatusClosed
	got, err = hs.UpdateHazard(ctx(), m3, nil, testDynamics, nil)
	must(t, err)
	if got == nil || got.Grade != riskmap.GradeYellow || got.Version != 7 || got.Status != riskmap.StatusDraft {
		t.Fatalf("closing restores the draft's own grade at v7, got %+v", got)
	}
	if a := approvedGrade(); a.Grade != riskmap.GradeYellow || a.Version != 4 {
		t.Errorf("approved register: want yellow v4, got %s v%d", a.Grade, a.Version)
	}
}

func testReports(t *testing.T, open Opener) {
	s := open(t)
	hs := hazardStore(t, s)
	u := hazardUnit(t, s, "REP-1", "530481001001", "hazardous_chemicals")
	newReport := func(tracking, region, category string) *hazards.Report {
		return &hazards.Report{TrackingNumber: tracking, Point: orb.Point{102.91, 24.67}, Category: category,
			Description: "<script>alert(1)</script> 路边有液化气罐堆放", Contact: "138****0000",
			RegionCode: region, Department: "应急局", ClientHash: "h1", Status: hazards.ReportReceived}
	}
	r := newReport("JB20260615ABCDEFGH", "530481001001", "hazardous_chemicals")
	photo := &hazards.Photo{ContentType: "image/jpeg", Width: 10, Height: 10, Bytes: []byte{0xff, 0xd8, 1, 2}}
	must(t, hs.CreateReport(ctx(), r, photo, nil))
	if r.ID == 0 || r.Version != 1 || r.CreatedAt.IsZero() || photo.ID == 0 || photo.Owner != "report" || photo.OwnerID != r.ID {
		t.Fatalf("CreateReport must set id, version, times and store the photo: %+v %+v", r, photo)
	}
	other := newReport("JB20260615ZZZZZZZZ", "530402001001", "gas")
	must(t, hs.CreateReport(ctx(), other, nil, nil))
	dup := newReport("JB20260615ABCDEFGH", "530481001001", "gas")
	wantCode(t, hs.CreateReport(ctx(), dup, nil, nil), riskmap.ECONFLICT)
	if dup.ID != 0 {
		t.Errorf("a refused report names no row")
	}

	got, err := hs.ReportByTracking(ctx(), r.TrackingNumber)
	must(t, err)
	if got.ID != r.ID || got.Description != r.Description || got.Contact != r.Contact || got.Point != r.Point || got.Status != hazards.ReportReceived {
		t.Errorf("report round trip: %+v", got)
	}
	_, err = hs.ReportByTracking(ctx(), "JB20260615NOTTHERE")
	wantCode(t, err, riskmap.ENOTFOUND)
	_, err = hs.GetReport(ctx(), 999)
	wantCode(t, err, riskmap.ENOTFOUND)
	ps, err := hs.Photos(ctx(), "report", r.ID)
	must(t, err)
	if len(ps) != 1 || ps[0].Stage != hazards.PhotoReport {
		t.Errorf("the report's photo: %+v", ps)
	}

	list, n, err := hs.FindReports(ctx(), hazards.ReportFilter{})
	must(t, err)
	if n != 2 || len(list) != 2 || list[0].ID != other.ID {
		t.Errorf("FindReports: newest first, got %d", n)
	}
	list, n, err = hs.FindReports(ctx(), hazards.ReportFilter{Scope: &riskmap.User{Role: riskmap.RoleDepartment, Categories: []string{"gas"}, Regions: []string{"530402"}}})
	must(t, err)
	if n != 1 || len(list) != 1 || list[0].ID != other.ID {
		t.Errorf("FindReports in scope: got %d", n)
	}
	list, _, err = hs.FindReports(ctx(), hazards.ReportFilter{Limit: 1, AfterID: other.ID})
	must(t, err)
	if len(list) != 1 || list[0].ID != r.ID {
		t.Errorf("FindReports paging")
	}

	// Dismissal.
	at := hzFound
	other.Status, other.Reason, other.HandledBy, other.HandledAt = hazards.ReportDismissed, "重复举报", "值班员", &at
	stale := *other
	must(t, hs.UpdateReport(ctx(), other, nil))
	if other.Version != 2 {
		t.Errorf("UpdateReport increments the version")
	}
	stale.Reason = "过时"
	wantCode(t, hs.UpdateReport(ctx(), &stale, nil), riskmap.EPRECONDITION)
	list, _, err = hs.FindReports(ctx(), hazards.ReportFilter{Statuses: []string{hazards.ReportDismissed}})
	must(t, err)
	if len(list) != 1 || list[0].Reason != "重复举报" || list[0].HandledAt == nil {
		t.Errorf("dismissed report: %+v", list)
	}

	// Conversion: the report and the new hidden danger in one transaction.
	h := newHazard(u, hazards.LevelMajor, hzToday)
	h.Source = hazards.SourcePublicReport
	r.Status, r.HandledBy, r.HandledAt = hazards.ReportConverted, "值班员", &at
	staleR := *r
	unit, err := hs.ConvertReport(ctx(), r, h, created("值班员"), testDynamics, nil)
	must(t, err)
	if h.ID == 0 || h.ReportID != r.ID || r.HazardID != h.ID || r.Version != 2 {
		t.Fatalf("ConvertReport links both: %+v %+v", h, r)
	}
	if unit == nil || unit.Grade != riskmap.GradeRed {
		t.Errorf("the converted major hidden danger raises its unit: %+v", unit)
	}
	h2 := newHazard(u, hazards.LevelGeneral, hzToday)
	_, err = hs.ConvertReport(ctx(), &staleR, h2, created("值班员"), testDynamics, nil)
	wantCode(t, err, riskmap.EPRECONDITION)
	if _, n, _ := hs.FindHazards(ctx(), hazards.Filter{UnitID: u.ID}); n != 1 {
		t.Errorf("a refused conversion stores no hidden danger, got %d", n)
	}
	got, err = hs.GetReport(ctx(), r.ID)
	must(t, err)
	if got.Status != hazards.ReportConverted || got.HazardID != h.ID {
		t.Errorf("converted report: %+v", got)
	}
}
