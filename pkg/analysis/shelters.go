package analysis

import (
	"cmp"
	"math"
	"slices"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/tidwall/rtree"

	"riskmap/pkg/riskmap"
)

// MaxNearby is how many shelters Nearest lists nearby at most.
const MaxNearby = 20

// Near is a shelter as seen from a point.
type Near struct {
	Shelter *riskmap.Shelter
	// DistanceM is the geodesic distance from the point to the shelter's edge (0 inside).
	DistanceM float64
	// BearingDeg (0 north, clockwise) and Direction (北, 东北 …) point from the point to the
	// shelter's closest point; Direction is "" when the point lies in the shelter.
	BearingDeg float64
	Direction  string
	// Point is the shelter's closest point.
	Point orb.Point
}

type shelterState struct {
	s      *riskmap.Shelter
	bound  orb.Bound
	radius float64 // service radius: its own, or its kind's default
}

// shelterSet is the engine's shelters: by id, and by bound for the nearest. Coverage is
// computed from them on demand and cached until they change.
type shelterSet struct {
	byID    map[int64]*shelterState
	tree    *rtree.RTreeG[*shelterState]
	version uint64

	// city is the bound of every region, for Nearest's "near the city" test.
	city    orb.Bound
	hasCity bool

	covMu sync.Mutex
	cov   map[string]coverageCache
}

type coverageCache struct {
	version uint64
	items   []Coverage
}

func (s *shelterSet) init(regions []*riskmap.Region) {
	s.byID = map[int64]*shelterState{}
	s.tree = &rtree.RTreeG[*shelterState]{}
	s.cov = map[string]coverageCache{}
	for _, r := range regions {
		if len(r.Geometry) == 0 {
			continue
		}
		if !s.hasCity {
			s.city, s.hasCity = r.Geometry.Bound(), true
		} else {
			s.city = s.city.Union(r.Geometry.Bound())
		}
	}
}

func (s *shelterSet) load(list []*riskmap.Shelter, cfg Config) {
	s.byID = map[int64]*shelterState{}
	s.tree = &rtree.RTreeG[*shelterState]{}
	for _, sh := range list {
		s.apply(nil, sh, cfg)
	}
	s.version++
}

// apply replaces the shelter of before's (or after's) id by after (nil: deleted).
func (s *shelterSet) apply(before, after *riskmap.Shelter, cfg Config) {
	var id int64
	switch {
	case after != nil:
		id = after.ID
	case before != nil:
		id = before.ID
	default:
		return
	}
	if old, ok := s.byID[id]; ok {
		s.tree.Delete(old.bound.Min, old.bound.Max, old)
		delete(s.byID, id)
	}
	if after != nil && after.Geometry != nil {
		st := &shelterState{s: after, bound: after.Geometry.Bound(), radius: serviceRadius(after, cfg)}
		s.byID[id] = st
		s.tree.Insert(st.bound.Min, st.bound.Max, st)
	}
	s.version++
}

func (s *shelterSet) list() []*riskmap.Shelter {
	out := make([]*riskmap.Shelter, 0, len(s.byID))
	for _, st := range s.byID {
		out = append(out, st.s)
	}
	slices.SortFunc(out, func(a, b *riskmap.Shelter) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// serviceRadius is a shelter's own service radius, or its kind's default.
func serviceRadius(sh *riskmap.Shelter, cfg Config) float64 {
	if sh.ServiceRadiusM > 0 {
		return sh.ServiceRadiusM
	}
	return cfg.ShelterRadiusM[sh.Kind]
}

// ShelterChanged brings a shelter's write into the engine (sites.Service.OnShelter): the
// nearest shelter follows at once, coverage when next asked for.
func (e *Engine) ShelterChanged(before, after *riskmap.Shelter) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.loading || !e.loaded.Load() {
		e.pending.shelters = append(e.pending.shelters, [2]*riskmap.Shelter{before, after})
		return
	}
	e.shelters.apply(before, after, e.cfg)
}

// Shelters are the shelters the engine holds, by id.
func (e *Engine) Shelters() []*riskmap.Shelter {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.shelters.list()
}

// NearCity reports whether p lies within MaxRadiusM (50 km) of the city's regions (always,
// for an engine without regions).
func (e *Engine) NearCity(p orb.Point) bool {
	s := &e.shelters
	if !s.hasCity {
		return true
	}
	return DistanceM(p, clampTo(p, s.city)) <= MaxRadiusM
}

func clampTo(p orb.Point, b orb.Bound) orb.Point {
	return orb.Point{math.Max(b.Min[0], math.Min(b.Max[0], p[0])), math.Max(b.Min[1], math.Min(b.Max[1], p[1]))}
}

// Nearest finds the shelter nearest to p (distance to its edge, 0 inside) and the shelters
// within the given distance of p (at most MaxNearby, nearest first; within ≤ 0 takes the
// config's NearbyShelterM). nearest is nil when there are no shelters.
func (e *Engine) Nearest(p orb.Point, within float64) (nearest *Near, nearby []Near) {
	if within <= 0 {
		within = e.cfg.NearbyShelterM
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	e.shelters.tree.Nearby(
		func(min, max [2]float64, st *shelterState, item bool) float64 {
			if item {
				d, _, _ := GeomDistanceM(p, st.s.Geometry)
				return d
			}
			// A lower bound for anything in the box: the distance to its nearest point
			// (a hair less, for the local plane's approximation).
			return DistanceM(p, clampTo(p, orb.Bound{Min: min, Max: max})) * 0.999
		},
		func(_, _ [2]float64, st *shelterState, d float64) bool {
			_, _, pb := GeomDistanceM(p, st.s.Geometry)
			n := Near{Shelter: st.s, DistanceM: d, Point: pb}
			if d > 0 {
				n.BearingDeg = BearingDeg(p, pb)
				n.Direction = Direction(n.BearingDeg)
			}
			if nearest == nil {
				nn := n
				nearest = &nn
			}
			if d > within || len(nearby) == MaxNearby {
				return false
			}
			nearby = append(nearby, n)
			return true
		})
	return nearest, nearby
}

// representative is the point that places a shelter in a region: the point itself, or the
// centroid of its polygons (a vertex when the centroid falls outside).
func representative(g orb.Geometry) orb.Point {
	switch g := g.(type) {
	case orb.Point:
		return g
	case orb.Polygon, orb.MultiPolygon:
		c, _ := planar.CentroidArea(g)
		if contains(g, c) {
			return c
		}
	}
	return g.Bound().Center()
}

func contains(g orb.Geometry, p orb.Point) bool {
	switch g := g.(type) {
	case orb.Polygon:
		return planar.PolygonContains(g, p)
	case orb.MultiPolygon:
		return planar.MultiPolygonContains(g, p)
	}
	return false
}
