package sites

import (
	"context"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// A PUT that sends a site back as it is stored (the same version, and the same fields once
// the service has completed them: region, default service radius) writes nothing, as a
// unit's does: no new version, no audit row, nothing for the listeners. The stored site is
// read from the store, not the layer, so that a replica's newer write is never hidden.

// unchangedTarget returns the stored target when t, prepared, holds what it holds.
func (s *Service) unchangedTarget(ctx context.Context, t *riskmap.ProtectiveTarget) (*riskmap.ProtectiveTarget, bool) {
	cur, err := s.Store.ProtectiveTarget(ctx, t.ID)
	if err != nil || cur == nil || cur.Version != t.Version {
		return nil, false
	}
	same := cur.Name == t.Name && cur.Kind == t.Kind && cur.RegionCode == t.RegionCode && cur.Address == t.Address &&
		cur.People == t.People && sameGeometry(cur.Geometry, t.Geometry)
	return cur, same
}

// unchangedShelter returns the stored shelter when sh, prepared, holds what it holds.
func (s *Service) unchangedShelter(ctx context.Context, sh *riskmap.Shelter) (*riskmap.Shelter, bool) {
	cur, err := s.Store.Shelter(ctx, sh.ID)
	if err != nil || cur == nil || cur.Version != sh.Version {
		return nil, false
	}
	same := cur.Name == sh.Name && cur.Kind == sh.Kind && cur.RegionCode == sh.RegionCode && cur.Address == sh.Address &&
		cur.Capacity == sh.Capacity && cur.EffectiveAreaM2 == sh.EffectiveAreaM2 && cur.ServiceRadiusM == sh.ServiceRadiusM &&
		sameGeometry(cur.Geometry, sh.Geometry)
	return cur, same
}

func sameGeometry(a, b orb.Geometry) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return orb.Equal(a, b)
}
