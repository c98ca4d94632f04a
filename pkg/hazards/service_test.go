package hazards_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/config"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/hazards"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
)

// The service on a real store (the GeoPackage; the HTTP tests run both stores): the rules
// of the loop that a store cannot see.

type fixture struct {
	svc  *hazards.Service
	unit *riskmap.Unit
}

var (
	expert1 = &riskmap.User{Name: "e1", Role: riskmap.RoleExpert}
	expert2 = &riskmap.User{Name: "e2", Role: riskmap.RoleExpert}
	outside = &riskmap.User{Name: "d", Role: riskmap.RoleDepartment, Categories: []string{"construction"}, Regions: []string{"5304"}}
)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	s, err := gpkg.Open(ctx, filepath.Join(t.TempDir(), "hz.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	assessed := time.Now().UTC().AddDate(0, -1, 0)
	u := &riskmap.Unit{Code: "SVC-1", Name: "服务测试单元", Category: "hazardous_chemicals", RegionCode: "530481001001",
		Assessment: riskmap.Assessment{Method: "LS", Likelihood: 2, Severity: 2}, AccidentTypes: []string{"fire"},
		ResponsibleUnit: "某公司", AssessedAt: &assessed, Geometry: orb.Point{102.912, 24.671}}
	if err := register.New(s, cfg.Grader, cfg.Catalog).CreateBy(ctx, expert1, u, nil); err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: &hazards.Service{Store: s, Dynamics: cfg.Grader.Dynamics, Units: s, Catalog: cfg.Catalog}, unit: u}
}

func (f *fixture) major(t *testing.T) *hazards.Hazard {
	t.Helper()
	day := time.Now().UTC().Truncate(24 * time.Hour)
	h := &hazards.Hazard{UnitID: f.unit.ID, Level: hazards.LevelMajor, Description: "储罐泄漏报警失效", Source: hazards.SourceInspection,
		FoundAt: day.AddDate(0, 0, -3), ResponsibleUnit: "某公司", ResponsiblePerson: "王五", Measures: "更换",
		Deadline: day.AddDate(0, 1, 0), Five: &hazards.FiveImplementations{Responsibility: "王五", Measures: "更换", Funds: "1 万元", TimeLimit: "30 日", Plan: "预案"}}
	if err := f.svc.Create(context.Background(), expert1, h, nil); err != nil {
		t.Fatal(err)
	}
	return h
}

func (f *fixture) grade(t *testing.T) riskmap.Grade {
	t.Helper()
	u, err := f.svc.Units.GetUnit(context.Background(), f.unit.ID)
	if err != nil {
		t.Fatal(err)
	}
	return u.Grade
}

func TestService(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if g := f.grade(t); g != riskmap.GradeYellow {
		t.Fatalf("the unit starts yellow, is %s", g)
	}

	t.Run("an open major hidden danger raises the unit and closing gives its grade back", func(t *testing.T) {
		h := f.major(t)
		if g := f.grade(t); g != riskmap.GradeRed {
			t.Fatalf("open: %s", g)
		}
		var err error
		for _, to := range []hazards.Status{hazards.StatusReported, hazards.StatusRectifying, hazards.StatusAccepted} {
			if h, err = f.svc.Transition(ctx, expert1, h.ID, 0, to, "", nil); err != nil {
				t.Fatalf("%s: %v", to, err)
			}
		}
		if _, err := f.svc.Transition(ctx, expert1, h.ID, 0, hazards.StatusClosed, "复查合格", nil); riskmap.ErrorCode(err) != riskmap.ECONFLICT {
			t.Fatalf("the rectifier closes: %v", err)
		}
		if _, err := f.svc.Transition(ctx, expert2, h.ID, 0, hazards.StatusClosed, "复查合格", nil); err != nil {
			t.Fatal(err)
		}
		if g := f.grade(t); g != riskmap.GradeYellow {
			t.Fatalf("closed: %s", g)
		}
	})

	t.Run("a unit outside the scope refuses a hidden danger and stores nothing", func(t *testing.T) {
		h := &hazards.Hazard{UnitID: f.unit.ID, Level: hazards.LevelGeneral, Description: "x", Source: hazards.SourceInspection,
			FoundAt: time.Now().UTC().AddDate(0, 0, -1), ResponsibleUnit: "a", ResponsiblePerson: "b", Measures: "c", Deadline: time.Now().UTC().AddDate(0, 0, 5)}
		before, _, _ := f.svc.List(ctx, expert1, hazards.Filter{UnitID: f.unit.ID})
		if err := f.svc.Create(ctx, outside, h, nil); riskmap.ErrorCode(err) != riskmap.EFORBIDDEN {
			t.Fatalf("got %v", err)
		}
		after, _, _ := f.svc.List(ctx, expert1, hazards.Filter{UnitID: f.unit.ID})
		if len(after) != len(before) {
			t.Fatal("a refused hidden danger was stored")
		}
		if list, _, _ := f.svc.List(ctx, outside, hazards.Filter{}); len(list) != 0 {
			t.Fatalf("a department lists another's: %d", len(list))
		}
	})

	t.Run("an approved extension moves the deadline; a rejection needs its note", func(t *testing.T) {
		h := f.major(t)
		old := h.Deadline
		later := old.AddDate(0, 1, 0)
		if _, err := f.svc.RequestExtension(ctx, expert1, h.ID, later, "材料未到", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RequestExtension(ctx, expert1, h.ID, later, "再申请", nil); riskmap.ErrorCode(err) != riskmap.ECONFLICT {
			t.Fatalf("a second pending request: %v", err)
		}
		if _, err := f.svc.DecideExtension(ctx, expert2, h.ID, false, "", nil); riskmap.ErrorCode(err) != riskmap.EINVALID {
			t.Fatalf("a rejection without its note: %v", err)
		}
		got, err := f.svc.DecideExtension(ctx, expert2, h.ID, true, "同意", nil)
		if err != nil || !got.Deadline.Equal(later) || got.Extension != nil {
			t.Fatalf("approved: %v %v", got, err)
		}
		evs, _ := f.svc.History(ctx, expert1, h.ID)
		var kinds []string
		for _, e := range evs {
			kinds = append(kinds, e.Kind)
		}
		if k := strings.Join(kinds, ","); k != "created,extension,ext_decision" {
			t.Fatalf("history: %s", k)
		}
	})

	t.Run("a stale version is refused and changes nothing", func(t *testing.T) {
		h := f.major(t)
		d := "新的描述"
		if _, err := f.svc.Update(ctx, expert1, h.ID, h.Version+1, hazards.Patch{Description: &d}, nil); riskmap.ErrorCode(err) != riskmap.EPRECONDITION {
			t.Fatalf("got %v", err)
		}
		got, _ := f.svc.Get(ctx, expert1, h.ID)
		if got.Description == d || got.Version != h.Version {
			t.Fatal("a stale update was written")
		}
	})
}
