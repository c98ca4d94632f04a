package sites_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/config"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/pgtest"
	"riskmap/pkg/postgis"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/sites"
)

var (
	admin = &riskmap.User{Name: "admin", Role: riskmap.RoleAdmin}
	// dept's scope is the street 530481001; other's is another district.
	dept  = &riskmap.User{Name: "d", Role: riskmap.RoleDepartment, Categories: []string{"gas"}, Regions: []string{"530481001"}}
	other = &riskmap.User{Name: "o", Role: riskmap.RoleDepartment, Categories: []string{"gas"}, Regions: []string{"530482"}}
	// city is the test city's bound; west of 102.95 is street 530481001, east 530481002.
	city = orb.Bound{Min: orb.Point{102.8, 24.5}, Max: orb.Point{103.1, 24.8}}
)

func locate(p orb.Point) string {
	switch {
	case !city.Contains(p):
		return ""
	case p[0] < 102.95:
		return "530481001001"
	default:
		return "530481002001"
	}
}

// stores opens each real store the test runs on: the GeoPackage always, PostGIS when it is
// there (required with RISKMAP_REQUIRE_PG=1).
func stores(t *testing.T, run func(t *testing.T, s riskmap.Store)) {
	t.Run("gpkg", func(t *testing.T) {
		s, err := gpkg.Open(context.Background(), filepath.Join(t.TempDir(), "sites.gpkg"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		run(t, s)
	})
	t.Run("postgis", func(t *testing.T) {
		s, err := postgis.Open(context.Background(), pgtest.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		run(t, s)
	})
}

type heard struct{ targets, shelters []string }

func newService(t *testing.T, s riskmap.Store, h *heard) *sites.Service {
	t.Helper()
	svc := &sites.Service{Store: s, Config: config.Default().Analysis, Bound: city, Locate: locate,
		RegionName: func(code string) string { return "区域" + code },
		OnTarget: func(before, after *riskmap.ProtectiveTarget) {
			h.targets = append(h.targets, change(before, after, func(t *riskmap.ProtectiveTarget) string { return t.Name }))
		},
		OnShelter: func(before, after *riskmap.Shelter) {
			h.shelters = append(h.shelters, change(before, after, func(s *riskmap.Shelter) string { return s.Name }))
		}}
	if err := svc.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return svc
}

func change[T any](before, after *T, name func(*T) string) string {
	switch {
	case before == nil:
		return "+" + name(after)
	case after == nil:
		return "-" + name(before)
	}
	return name(before) + "→" + name(after)
}

func school(name string, p orb.Point) *riskmap.ProtectiveTarget {
	return &riskmap.ProtectiveTarget{Name: name, Kind: riskmap.TargetSchool, People: 800, Geometry: p}
}

func TestTargets(t *testing.T) {
	stores(t, func(t *testing.T, s riskmap.Store) {
		ctx := context.Background()
		var h heard
		svc := newService(t, s, &h)
		a := school("一中", orb.Point{102.90, 24.60})
		a.RegionCode = "999" // the position decides
		if err := svc.CreateTarget(ctx, dept, a, nil); err != nil {
			t.Fatal(err)
		}
		if a.RegionCode != "530481001001" || a.Version != 1 {
			t.Fatalf("created %+v", a)
		}
		got, ok := svc.Targets().Get(a.ID)
		if !ok || got.Name != "一中" || got == a {
			t.Fatalf("the layer must hold a copy of the target written: %v %v", got, ok)
		}
		// Outside the department's scope: refused before anything is stored.
		b := school("二中", orb.Point{103.0, 24.6})
		if err := svc.CreateTarget(ctx, dept, b, nil); riskmap.ErrorCode(err) != riskmap.EFORBIDDEN {
			t.Fatalf("create outside the scope: %v", err)
		}
		if err := svc.CreateTarget(ctx, admin, b, nil); err != nil {
			t.Fatal(err)
		}
		// A department may not move its target out of its scope, nor touch one outside it
		// (which it may not even see: not found).
		moved := *a
		moved.Geometry = orb.Point{103.0, 24.65}
		if err := svc.UpdateTarget(ctx, dept, &moved, nil); riskmap.ErrorCode(err) != riskmap.EFORBIDDEN {
			t.Fatalf("move out of the scope: %v", err)
		}
		bb := *b
		bb.Name = "改名"
		if err := svc.UpdateTarget(ctx, dept, &bb, nil); riskmap.ErrorCode(err) != riskmap.ENOTFOUND {
			t.Fatalf("update outside the scope: %v", err)
		}
		if _, err := svc.DeleteTarget(ctx, other, a.ID, a.Version, nil); riskmap.ErrorCode(err) != riskmap.ENOTFOUND {
			t.Fatalf("delete outside the scope: %v", err)
		}
		// A department without regions edits everywhere.
		free := &riskmap.User{Name: "f", Role: riskmap.RoleDepartment}
		up := *a
		up.Name, up.People = "一中（新校区）", 1600
		if err := svc.UpdateTarget(ctx, free, &up, nil); err != nil {
			t.Fatal(err)
		}
		stale := up
		stale.Version = 1
		if err := svc.UpdateTarget(ctx, admin, &stale, nil); riskmap.ErrorCode(err) != riskmap.EPRECONDITION {
			t.Fatalf("stale update: %v", err)
		}
		if got, _ := svc.Targets().Get(a.ID); got.Version != 2 || got.People != 1600 {
			t.Fatalf("layer after update: %+v", got)
		}
		// Search finds by bound; All is by id.
		var found []string
		svc.Targets().Search(orb.Bound{Min: orb.Point{102.85, 24.55}, Max: orb.Point{102.95, 24.65}}, func(t *riskmap.ProtectiveTarget) bool {
			found = append(found, t.Name)
			return true
		})
		if len(found) != 1 || found[0] != "一中（新校区）" {
			t.Fatalf("search: %v", found)
		}
		if all := svc.Targets().All(); len(all) != 2 || all[0].ID != a.ID || all[1].ID != b.ID {
			t.Fatalf("all: %v", all)
		}
		if _, err := svc.DeleteTarget(ctx, admin, b.ID, 1, nil); err != nil {
			t.Fatal(err)
		}
		if _, ok := svc.Targets().Get(b.ID); ok || svc.Targets().Len() != 1 {
			t.Fatal("a deleted target stays in the layer")
		}
		want := []string{"+一中", "+二中", "一中→一中（新校区）", "-二中"}
		if strings.Join(h.targets, " ") != strings.Join(want, " ") {
			t.Fatalf("listener heard %v, want %v", h.targets, want)
		}
		// A fresh service loads what is stored.
		again := newService(t, s, &heard{})
		if again.Targets().Len() != 1 {
			t.Fatalf("loaded %d targets", again.Targets().Len())
		}
	})
}

func TestShelters(t *testing.T) {
	stores(t, func(t *testing.T, s riskmap.Store) {
		ctx := context.Background()
		var h heard
		svc := newService(t, s, &h)
		// A point shelter without a radius gets its kind's default.
		sh := &riskmap.Shelter{Name: "广场", Kind: riskmap.ShelterEmergency, Capacity: 300, EffectiveAreaM2: 600, Geometry: orb.Point{102.9, 24.6}}
		if err := svc.CreateShelter(ctx, dept, sh, nil); err != nil {
			t.Fatal(err)
		}
		if sh.ServiceRadiusM != config.Default().Analysis.ShelterRadiusM[riskmap.ShelterEmergency] || sh.ServiceRadiusM == 0 || sh.RegionCode != "530481001001" {
			t.Fatalf("defaults: %+v", sh)
		}
		// A polygon of about 101 m × 111 m (≈ 11 200 m²) may hold up to 1.2 times that.
		square := orb.Polygon{{{102.90, 24.60}, {102.901, 24.60}, {102.901, 24.601}, {102.90, 24.601}, {102.90, 24.60}}}
		big := &riskmap.Shelter{Name: "公园", Kind: riskmap.ShelterFixed, Capacity: 5000, EffectiveAreaM2: 13000, Geometry: square}
		if err := svc.CreateShelter(ctx, admin, big, nil); err != nil {
			t.Fatal(err)
		}
		f := svc.ShelterFeature(big, false)
		if f.Properties.FootprintAreaM2 == nil || *f.Properties.FootprintAreaM2 < 11000 || *f.Properties.FootprintAreaM2 > 12500 ||
			f.Properties.KindLabel != "固定避难场所" || f.Properties.RegionName != "区域530481001001" || f.Properties.Version == nil {
			t.Fatalf("feature: %+v", f.Properties)
		}
		if pf := svc.ShelterFeature(sh, true); pf.Properties.FootprintAreaM2 != nil || pf.Properties.Version != nil || pf.Properties.UpdatedAt != nil {
			t.Fatalf("public feature of a point: %+v", pf.Properties)
		}
		upd := *big
		upd.EffectiveAreaM2 = 20000
		err := svc.UpdateShelter(ctx, admin, &upd, nil)
		if riskmap.ErrorCode(err) != riskmap.EINVALID || !strings.Contains(err.Error(), "超过占地面积") {
			t.Fatalf("effective area over the footprint: %v", err)
		}
		if got, _ := s.Shelter(ctx, big.ID); got.EffectiveAreaM2 != 13000 || got.Version != 1 {
			t.Fatalf("a refused update changed the shelter: %+v", got)
		}
		if _, err := svc.DeleteShelter(ctx, dept, sh.ID, 2, nil); riskmap.ErrorCode(err) != riskmap.EPRECONDITION {
			t.Fatalf("stale delete: %v", err)
		}
		if _, err := svc.DeleteShelter(ctx, dept, sh.ID, 1, nil); err != nil {
			t.Fatal(err)
		}
		if want := "+广场 +公园 -广场"; strings.Join(h.shelters, " ") != want {
			t.Fatalf("listener heard %v", h.shelters)
		}
	})
}

// TestBadInput: each bad site is refused with its field named, and nothing is stored.
func TestBadInput(t *testing.T) {
	stores(t, func(t *testing.T, s riskmap.Store) {
		ctx := context.Background()
		svc := newService(t, s, &heard{})
		nan := func() float64 { var z float64; return z / z }()
		targets := []struct {
			name  string
			t     riskmap.ProtectiveTarget
			field string
		}{
			{"no people", riskmap.ProtectiveTarget{Name: "a", Kind: riskmap.TargetSchool, Geometry: orb.Point{102.9, 24.6}}, "people"},
			{"negative people", riskmap.ProtectiveTarget{Name: "a", Kind: riskmap.TargetSchool, People: -3, Geometry: orb.Point{102.9, 24.6}}, "people"},
			{"absurd people", riskmap.ProtectiveTarget{Name: "a", Kind: riskmap.TargetSchool, People: 2_000_000, Geometry: orb.Point{102.9, 24.6}}, "people"},
			{"bad kind", riskmap.ProtectiveTarget{Name: "a", Kind: "zoo", People: 3, Geometry: orb.Point{102.9, 24.6}}, "kind"},
			{"no name", riskmap.ProtectiveTarget{Kind: riskmap.TargetSchool, People: 3, Geometry: orb.Point{102.9, 24.6}}, "name"},
			{"outside the city", riskmap.ProtectiveTarget{Name: "a", Kind: riskmap.TargetSchool, People: 3, Geometry: orb.Point{116.4, 39.9}}, "geometry"},
			{"outside the world", riskmap.ProtectiveTarget{Name: "a", Kind: riskmap.TargetSchool, People: 3, Geometry: orb.Point{200, 24.6}}, "geometry"},
			{"a line", riskmap.ProtectiveTarget{Name: "a", Kind: riskmap.TargetSchool, People: 3, Geometry: orb.LineString{{102.9, 24.6}, {102.91, 24.6}}}, "geometry"},
			{"no geometry", riskmap.ProtectiveTarget{Name: "a", Kind: riskmap.TargetSchool, People: 3}, "geometry"},
		}
		for _, c := range targets {
			x := c.t
			err := svc.CreateTarget(ctx, admin, &x, nil)
			if riskmap.ErrorCode(err) != riskmap.EINVALID || !hasField(err, c.field) {
				t.Errorf("%s: %v, want a problem with %s", c.name, err, c.field)
			}
		}
		p := orb.Point{102.9, 24.6}
		shelters := []struct {
			name  string
			s     riskmap.Shelter
			field string
		}{
			{"negative radius", riskmap.Shelter{Name: "a", Kind: riskmap.ShelterFixed, ServiceRadiusM: -1, Geometry: p}, "service_radius_m"},
			{"NaN radius", riskmap.Shelter{Name: "a", Kind: riskmap.ShelterFixed, ServiceRadiusM: nan, Geometry: p}, "service_radius_m"},
			{"absurd radius", riskmap.Shelter{Name: "a", Kind: riskmap.ShelterFixed, ServiceRadiusM: 60000, Geometry: p}, "service_radius_m"},
			{"NaN area", riskmap.Shelter{Name: "a", Kind: riskmap.ShelterFixed, EffectiveAreaM2: nan, Geometry: p}, "effective_area_m2"},
			{"negative area", riskmap.Shelter{Name: "a", Kind: riskmap.ShelterFixed, EffectiveAreaM2: -5, Geometry: p}, "effective_area_m2"},
			{"negative capacity", riskmap.Shelter{Name: "a", Kind: riskmap.ShelterFixed, Capacity: -5, Geometry: p}, "capacity"},
			{"bad kind", riskmap.Shelter{Name: "a", Kind: "tent", Geometry: p}, "kind"},
			{"area far over the footprint", riskmap.Shelter{Name: "a", Kind: riskmap.ShelterFixed, EffectiveAreaM2: 50000,
				Geometry: orb.Polygon{{{102.90, 24.60}, {102.901, 24.60}, {102.901, 24.601}, {102.90, 24.601}, {102.90, 24.60}}}}, "effective_area_m2"},
			{"outside the city", riskmap.Shelter{Name: "a", Kind: riskmap.ShelterFixed, Geometry: orb.Point{0, 0}}, "geometry"},
		}
		for _, c := range shelters {
			x := c.s
			err := svc.CreateShelter(ctx, admin, &x, nil)
			if riskmap.ErrorCode(err) != riskmap.EINVALID || !hasField(err, c.field) {
				t.Errorf("%s: %v, want a problem with %s", c.name, err, c.field)
			}
		}
		ts, _ := s.ProtectiveTargets(ctx)
		ss, _ := s.Shelters(ctx)
		if len(ts) != 0 || len(ss) != 0 || svc.Targets().Len() != 0 || svc.Shelters().Len() != 0 {
			t.Fatalf("bad input stored: %d targets, %d shelters", len(ts), len(ss))
		}
	})
}

func hasField(err error, field string) bool {
	var e *riskmap.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// TestSync: a replica sharing the store hears the writes of another when it syncs, through
// its layers and listeners, and nothing when there was none.
func TestSync(t *testing.T) {
	stores(t, func(t *testing.T, s riskmap.Store) {
		ctx := context.Background()
		var h1, h2 heard
		one, two := newService(t, s, &h1), newService(t, s, &h2)
		a := school("同步小学", orb.Point{102.90, 24.60})
		if err := one.CreateTarget(ctx, admin, a, nil); err != nil {
			t.Fatal(err)
		}
		sh := &riskmap.Shelter{Name: "同步广场", Kind: riskmap.ShelterEmergency, Geometry: orb.Point{102.9, 24.6}}
		if err := one.CreateShelter(ctx, admin, sh, nil); err != nil {
			t.Fatal(err)
		}
		if n, err := two.Sync(ctx); err != nil || n != 2 {
			t.Fatalf("sync after two creates: %d %v", n, err)
		}
		if got, ok := two.Targets().Get(a.ID); !ok || got.Name != "同步小学" || two.Shelters().Len() != 1 {
			t.Fatal("the other replica's writes are not in the layers")
		}
		if n, err := two.Sync(ctx); err != nil || n != 0 {
			t.Fatalf("sync without writes: %d %v", n, err)
		}
		up := *a
		up.Name = "同步中学"
		if err := one.UpdateTarget(ctx, admin, &up, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := one.DeleteShelter(ctx, admin, sh.ID, 1, nil); err != nil {
			t.Fatal(err)
		}
		if n, err := two.Sync(ctx); err != nil || n != 2 {
			t.Fatalf("sync after an update and a delete: %d %v", n, err)
		}
		if got, _ := two.Targets().Get(a.ID); got.Name != "同步中学" || two.Shelters().Len() != 0 {
			t.Fatalf("after sync: %+v, %d shelters", got, two.Shelters().Len())
		}
		if strings.Join(h2.targets, " ") != "+同步小学 同步小学→同步中学" || strings.Join(h2.shelters, " ") != "+同步广场 -同步广场" {
			t.Fatalf("the other replica's listeners heard %v %v", h2.targets, h2.shelters)
		}
		// Its own writes do not come back to it.
		if n, err := one.Sync(ctx); err != nil || n != 0 {
			t.Fatalf("a replica syncing its own writes: %d %v", n, err)
		}
	})
}
