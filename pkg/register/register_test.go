package register_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/config"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
)

func newService(t *testing.T) (*register.Service, riskmap.Store) {
	t.Helper()
	ctx := context.Background()
	store, err := gpkg.Open(ctx, filepath.Join(t.TempDir(), "register.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	return register.New(store, cfg.Grader, cfg.Catalog), store
}

// polygonUnit is a valid hazardous-chemicals unit in 凤麓街道 with the polygon ring.
func polygonUnit(r orb.Ring) *riskmap.Unit {
	return complete(&riskmap.Unit{Code: "G-1", Name: "储罐区", Category: "hazardous_chemicals", RegionCode: "530481001001",
		Assessment: riskmap.Assessment{Method: riskmap.MethodLS, Likelihood: 2, Severity: 3},
		Geometry:   orb.Polygon{r}})
}

// complete fills what a unit needs before it is submitted for review: a measure in each
// control group, the responsible unit, the contact and the assessment date.
func complete(u *riskmap.Unit) *riskmap.Unit {
	for _, g := range u.Controls.Groups() {
		*g.Items = []string{"措施（" + g.Name + "）"}
	}
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	u.ResponsibleUnit, u.ContactPerson, u.ContactPhone, u.AssessedAt = "某化工有限公司", "张三", "0877-1234567", &at
	return u
}

var (
	bowtie = orb.Ring{{102.91, 24.67}, {102.92, 24.68}, {102.92, 24.67}, {102.91, 24.675}, {102.91, 24.67}}
	square = orb.Ring{{102.91, 24.67}, {102.92, 24.67}, {102.92, 24.68}, {102.91, 24.68}, {102.91, 24.67}}
	yjj    = &riskmap.User{Name: "yjj", Role: riskmap.RoleDepartment, Department: "应急局",
		Categories: []string{"hazardous_chemicals"}, Regions: []string{"530481001"}}
)

func fields(err error) map[string]bool {
	m := map[string]bool{}
	for _, f := range riskmap.ErrorFields(err) {
		m[f.Field] = true
	}
	return m
}

// TestCheapChecksFirst: a writer outside its scope is refused before the geometry's
// boundaries are checked, and a unit with other problems still has every problem listed.
func TestCheapChecksFirst(t *testing.T) {
	svc, store := newService(t)
	ctx := context.Background()

	t.Run("ErrForbiddenBeforeBoundaries", func(t *testing.T) {
		u := polygonUnit(bowtie)
		u.Category = "construction"
		err := svc.CreateBy(ctx, yjj, u, nil)
		if riskmap.ErrorCode(err) != riskmap.EFORBIDDEN {
			t.Fatalf("want EFORBIDDEN for a unit outside the writer's scope, whatever its geometry, got %v", err)
		}
	})
	t.Run("ErrEveryProblemListed", func(t *testing.T) {
		u := polygonUnit(bowtie)
		u.Name = ""
		err := svc.CreateBy(ctx, yjj, u, nil)
		if f := fields(err); riskmap.ErrorCode(err) != riskmap.EINVALID || !f["name"] || !f["geometry"] {
			t.Fatalf("want EINVALID naming name and geometry, got %v", err)
		}
	})
	t.Run("ErrBoundariesInScope", func(t *testing.T) {
		err := svc.CreateBy(ctx, yjj, polygonUnit(bowtie), nil)
		if f := fields(err); riskmap.ErrorCode(err) != riskmap.EINVALID || !f["geometry"] {
			t.Fatalf("want EINVALID naming geometry, got %v", err)
		}
	})
	t.Run("ErrForbiddenUpdate", func(t *testing.T) {
		u := polygonUnit(square)
		if err := svc.CreateBy(ctx, yjj, u, nil); err != nil {
			t.Fatal(err)
		}
		v := polygonUnit(bowtie)
		v.ID, v.Version, v.Category = u.ID, u.Version, "construction"
		if _, err := svc.UpdateBy(ctx, yjj, v, nil); riskmap.ErrorCode(err) != riskmap.EFORBIDDEN {
			t.Fatalf("want EFORBIDDEN, got %v", err)
		}
	})
	t.Run("ErrContextEnded", func(t *testing.T) {
		// A comb of 10,000 vertices: valid, and long enough to check that the context is
		// looked at while its boundaries are.
		r := orb.Ring{}
		for i := range 2500 {
			lo, hi := 24.67+float64(2*i)*1e-6, 24.67+float64(2*i+1)*1e-6
			r = append(r, orb.Point{102.911, lo}, orb.Point{102.92, lo}, orb.Point{102.92, hi}, orb.Point{102.911, hi})
		}
		r = append(r, orb.Point{102.91, r[len(r)-1][1]}, orb.Point{102.91, 24.67}, r[0])
		comb := polygonUnit(r)
		comb.Code = "G-3"
		if err := svc.Create(ctx, comb); err != nil {
			t.Fatalf("the comb is valid: %v", err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		u := polygonUnit(r)
		u.Code = "G-2"
		err := svc.CreateBy(cctx, nil, u, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("want the context's error, got %v", err)
		}
		n := 0
		for u, err := range store.Units(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			if u.Code == "G-2" {
				t.Fatal("a unit whose check was stopped must not be stored")
			}
			n++
		}
		if n != 2 {
			t.Fatalf("want the 2 units created, got %d", n)
		}
	})
}
