package demo_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"riskmap/geodata"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/hazards"
	"riskmap/pkg/pgtest"
	"riskmap/pkg/postgis"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
)

// demoDay is the day the demo city is loaded on, in the tests.
var demoDay = time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)

// demoStore is what loading the demo city needs of a store.
type demoStore interface {
	riskmap.Store
	hazards.Store
}

// loadDemoHazards loads the demo city and its hidden dangers into a new GeoPackage.
func loadDemoHazards(t *testing.T) (*gpkg.Store, *hazards.Service, int) {
	t.Helper()
	s, err := gpkg.Open(context.Background(), filepath.Join(t.TempDir(), "demo.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	svc, n := loadDemoInto(t, s)
	return s, svc, n
}

// loadDemoInto migrates s and loads the demo city and its hidden dangers into it.
func loadDemoInto(t *testing.T, s demoStore) (*hazards.Service, int) {
	t.Helper()
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	if _, err := demo.Load(ctx, geodata.FS, s, register.New(s, cfg.Grader, cfg.Catalog)); err != nil {
		t.Fatal(err)
	}
	svc := &hazards.Service{Store: s, Dynamics: cfg.Grader.Dynamics, Units: s, Catalog: cfg.Catalog,
		Now: func() time.Time { return demoDay.Add(10 * time.Hour) }}
	n, err := demo.LoadHazards(ctx, s, svc, demoDay, demo.HazardsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return svc, n
}

// TestLoadHazards checks that the demo city's hidden dangers are what a supervision view
// should show: some overdue, some due this week, major ones under supervision whose units
// are red, and closed ones with their history, re-inspection and photos.
func TestLoadHazards(t *testing.T) {
	s, svc, n := loadDemoHazards(t)
	ctx := context.Background()
	admin := &riskmap.User{Name: "admin", Role: riskmap.RoleAdmin}
	if n != demo.DefaultHazards {
		t.Fatalf("want %d hidden dangers, got %d", demo.DefaultHazards, n)
	}
	all, total, err := s.FindHazards(ctx, hazards.Filter{})
	if err != nil || total != n {
		t.Fatalf("stored: %d, %v", total, err)
	}
	byStatus := map[hazards.Status]int{}
	categories := map[string]bool{}
	for _, h := range all {
		byStatus[h.Status]++
		categories[h.Category] = true
		if h.FoundAt.After(demoDay) {
			t.Errorf("%s found in the future: %v", h.Code, h.FoundAt)
		}
	}
	t.Logf("statuses %v, %d categories", byStatus, len(categories))
	if byStatus[hazards.StatusClosed] < n/3 || byStatus[hazards.StatusRegistered] == 0 || byStatus[hazards.StatusReported] == 0 ||
		byStatus[hazards.StatusRectifying] == 0 || byStatus[hazards.StatusAccepted] == 0 {
		t.Errorf("every stage of the loop must be present, most closed: %v", byStatus)
	}
	if len(categories) < 10 {
		t.Errorf("hidden dangers across the categories, got %d", len(categories))
	}
	count := func(f hazards.Filter) int {
		t.Helper()
		_, n, err := s.FindHazards(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	overdue := count(hazards.Filter{Today: demoDay, Overdue: true})
	soon := count(hazards.Filter{Today: demoDay, DueWithinDays: 7})
	supervised := count(hazards.Filter{Supervised: true, Open: true})
	openMajor := count(hazards.Filter{Open: true, Levels: []hazards.Level{hazards.LevelMajor}})
	t.Logf("overdue %d, due within 7 days %d, open major %d, supervised %d", overdue, soon, openMajor, supervised)
	if overdue < 5 || overdue > n/5 || soon < 3 || supervised < 3 || openMajor < supervised {
		t.Errorf("a realistic supervision view: overdue %d, due soon %d, open major %d, supervised %d", overdue, soon, openMajor, supervised)
	}
	for _, by := range []string{hazards.SupervisionCity, hazards.SupervisionDistrict} {
		list, _, _ := s.FindHazards(ctx, hazards.Filter{Supervised: true})
		found := false
		for _, h := range list {
			found = found || h.Supervision.By == by
		}
		if !found {
			t.Errorf("no hidden danger under %s supervision", by)
		}
	}

	// An open major hidden danger makes its unit red; its inherent grade stays.
	majors, _, err := s.FindHazards(ctx, hazards.Filter{Open: true, Levels: []hazards.Level{hazards.LevelMajor}})
	if err != nil {
		t.Fatal(err)
	}
	raised := 0
	for _, h := range majors {
		u, err := s.GetUnit(ctx, h.UnitID)
		if err != nil {
			t.Fatal(err)
		}
		if u.Grade != riskmap.GradeRed || u.OpenHazards == 0 {
			t.Errorf("unit %s with open major %s: grade %s, %d open", u.Code, h.Code, u.Grade, u.OpenHazards)
		}
		if u.InherentGrade != riskmap.GradeRed {
			raised++
		}
	}
	if raised == 0 {
		t.Errorf("some units must be raised from a lower inherent grade")
	}

	// A closed one tells its whole story: closed by someone other than its rectifier, with
	// the re-inspection's opinion; some have photos before and after.
	closed, _, err := s.FindHazards(ctx, hazards.Filter{Statuses: []hazards.Status{hazards.StatusClosed}})
	if err != nil {
		t.Fatal(err)
	}
	withPhotos := 0
	for _, h := range closed {
		if h.ClosedBy == "" || h.ClosedBy == h.AcceptedBy || h.ClosedAt == nil || h.ClosedAt.After(demoDay) {
			t.Fatalf("%s: closed by %q, accepted by %q at %v", h.Code, h.ClosedBy, h.AcceptedBy, h.ClosedAt)
		}
		evs, err := svc.History(ctx, admin, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		last := evs[len(evs)-1]
		if evs[0].Kind != hazards.EventCreated || last.To != hazards.StatusClosed || last.Note == "" {
			t.Fatalf("%s: history %+v", h.Code, evs)
		}
		for i := 1; i < len(evs); i++ {
			if evs[i].At.Before(evs[i-1].At) || evs[i].At.After(demoDay) {
				t.Fatalf("%s: history out of order or in the future: %v after %v", h.Code, evs[i].At, evs[i-1].At)
			}
		}
		ps, err := s.Photos(ctx, "hazard", h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 2 && ps[0].Stage == hazards.PhotoBefore && ps[1].Stage == hazards.PhotoAfter {
			withPhotos++
		}
	}
	if withPhotos == 0 {
		t.Errorf("some closed hidden dangers must have photos before and after")
	}
}

// TestLoadHazardsDeterministic checks that two loads on the same day give the same hidden
// dangers, in the GeoPackage and in PostGIS (when it is there).
func TestLoadHazardsDeterministic(t *testing.T) {
	key := func(s hazards.Store) []string {
		list, _, err := s.FindHazards(context.Background(), hazards.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range list {
			sup := ""
			if h.Supervision != nil {
				sup = h.Supervision.By
			}
			out = append(out, h.Code+" "+h.UnitCode+" "+string(h.Level)+" "+string(h.Status)+" "+
				h.Deadline.Format(time.DateOnly)+" "+h.FoundAt.Format(time.RFC3339)+" "+sup+" "+h.Description)
		}
		return out
	}
	same := func(t *testing.T, ka, kb []string) {
		t.Helper()
		if len(ka) != len(kb) {
			t.Fatalf("%d and %d hidden dangers", len(ka), len(kb))
		}
		for i := range ka {
			if ka[i] != kb[i] {
				t.Fatalf("hidden danger %d differs:\n%s\n%s", i, ka[i], kb[i])
			}
		}
	}
	a, _, _ := loadDemoHazards(t)
	ka := key(a)
	t.Run("GeoPackage", func(t *testing.T) {
		b, _, _ := loadDemoHazards(t)
		same(t, ka, key(b))
	})
	t.Run("PostGIS", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t) // skips when there is no PostgreSQL
		s, err := postgis.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		loadDemoInto(t, s)
		same(t, ka, key(s))
	})
}
