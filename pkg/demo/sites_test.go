package demo_test

import (
	"context"
	"path/filepath"
	"testing"

	"riskmap/geodata"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/sites"
)

// The demo's protective targets and shelters are filed under the region the sites service
// gives a site (the finest holding it), so that saving one unchanged writes nothing.
func TestSitesFiledAsTheServiceFiles(t *testing.T) {
	ctx := context.Background()
	s, err := gpkg.Open(ctx, filepath.Join(t.TempDir(), "demo.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	if _, err := demo.Load(ctx, geodata.FS, s, register.New(s, cfg.Grader, cfg.Catalog)); err != nil {
		t.Fatal(err)
	}
	regions, err := s.Regions(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	svc := sites.New(s, cfg.Analysis, regions)
	if err := svc.Load(ctx); err != nil {
		t.Fatal(err)
	}
	admin := &riskmap.User{Name: "admin", Role: riskmap.RoleAdmin}
	for _, old := range svc.Targets().All() {
		tt := *old
		if err := svc.UpdateTarget(ctx, admin, &tt, nil); err != nil {
			t.Fatalf("target %s: %v", old.Name, err)
		}
		if tt.Version != old.Version || tt.RegionCode != old.RegionCode {
			t.Errorf("target %s saved unchanged: version %d → %d, region %s → %s", old.Name, old.Version, tt.Version, old.RegionCode, tt.RegionCode)
		}
	}
	for _, old := range svc.Shelters().All() {
		sh := *old
		if err := svc.UpdateShelter(ctx, admin, &sh, nil); err != nil {
			t.Fatalf("shelter %s: %v", old.Name, err)
		}
		if sh.Version != old.Version || sh.RegionCode != old.RegionCode {
			t.Errorf("shelter %s saved unchanged: version %d → %d, region %s → %s", old.Name, old.Version, sh.Version, old.RegionCode, sh.RegionCode)
		}
	}
}
