package sites_test

import (
	"context"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// TestUnchangedWritesNothing: a site sent back as it is stored (region and default radius
// left for the service to fill) keeps its version and reaches no listener; a real change
// is written as before, and a stale version is still refused.
func TestUnchangedWritesNothing(t *testing.T) {
	stores(t, func(t *testing.T, s riskmap.Store) {
		ctx := context.Background()
		var h heard
		svc := newService(t, s, &h)
		a := school("一中", orb.Point{102.90, 24.60})
		if err := svc.CreateTarget(ctx, admin, a, nil); err != nil {
			t.Fatal(err)
		}
		recorded := 0
		rec := func(before, after *riskmap.ProtectiveTarget) (*riskmap.WriteRecords, error) {
			recorded++
			return nil, nil
		}
		same := school("一中", orb.Point{102.90, 24.60})
		same.ID, same.Version = a.ID, a.Version
		if err := svc.UpdateTarget(ctx, admin, same, rec); err != nil {
			t.Fatal(err)
		}
		if same.Version != 1 || same.RegionCode != "530481001001" || recorded != 0 || len(h.targets) != 1 {
			t.Fatalf("an unchanged target must not be written: v%d %q recorded %d heard %v", same.Version, same.RegionCode, recorded, h.targets)
		}
		changed := school("一中", orb.Point{102.90, 24.60})
		changed.ID, changed.Version, changed.People = a.ID, 1, 900
		if err := svc.UpdateTarget(ctx, admin, changed, rec); err != nil || changed.Version != 2 || recorded != 1 {
			t.Fatalf("a change is written: %v v%d recorded %d", err, changed.Version, recorded)
		}
		stale := school("一中", orb.Point{102.90, 24.60})
		stale.ID, stale.Version, stale.People = a.ID, 1, 900 // what v2 holds, but from v1
		if err := svc.UpdateTarget(ctx, admin, stale, rec); riskmap.ErrorCode(err) != riskmap.EPRECONDITION && riskmap.ErrorCode(err) != riskmap.ECONFLICT {
			t.Fatalf("a stale version is refused even when it holds the stored fields: %v", err)
		}

		sh := &riskmap.Shelter{Name: "广场", Kind: riskmap.ShelterEmergency, Capacity: 100, EffectiveAreaM2: 500, Geometry: orb.Point{102.91, 24.61}}
		if err := svc.CreateShelter(ctx, admin, sh, nil); err != nil {
			t.Fatal(err)
		}
		back := &riskmap.Shelter{ID: sh.ID, Version: sh.Version, Name: "广场", Kind: riskmap.ShelterEmergency, Capacity: 100, EffectiveAreaM2: 500,
			Geometry: orb.Point{102.91, 24.61}} // service_radius_m 0: the kind's default, as stored
		if err := svc.UpdateShelter(ctx, admin, back, nil); err != nil || back.Version != 1 || len(h.shelters) != 1 {
			t.Fatalf("an unchanged shelter must not be written: %v v%d heard %v", err, back.Version, h.shelters)
		}
		back.Capacity = 200
		if err := svc.UpdateShelter(ctx, admin, back, nil); err != nil || back.Version != 2 || len(h.shelters) != 2 {
			t.Fatalf("a change is written: %v v%d heard %v", err, back.Version, h.shelters)
		}
	})
}
