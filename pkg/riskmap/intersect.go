package riskmap

import (
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// IntersectsBound reports whether g and the rectangle b share at least one point, edges
// included. Lines are tested segment by segment, so a line that crosses the rectangle
// between two vertices outside it matches; a polygon also matches when the rectangle lies
// inside it (and not inside one of its holes).
func IntersectsBound(g orb.Geometry, b orb.Bound) bool {
	switch g := g.(type) {
	case orb.Point:
		return b.Contains(g)
	case orb.MultiPoint:
		return slices.ContainsFunc(g, b.Contains)
	case orb.LineString:
		return lineIntersectsBound(g, b)
	case orb.MultiLineString:
		return slices.ContainsFunc(g, func(l orb.LineString) bool { return lineIntersectsBound(l, b) })
	case orb.Ring:
		return polygonIntersectsBound(orb.Polygon{g}, b)
	case orb.Polygon:
		return polygonIntersectsBound(g, b)
	case orb.MultiPolygon:
		return slices.ContainsFunc(g, func(p orb.Polygon) bool { return polygonIntersectsBound(p, b) })
	case orb.Collection:
		return slices.ContainsFunc(g, func(c orb.Geometry) bool { return IntersectsBound(c, b) })
	case orb.Bound:
		return g.Intersects(b)
	}
	return false
}

func lineIntersectsBound(l []orb.Point, b orb.Bound) bool {
	if len(l) == 1 {
		return b.Contains(l[0])
	}
	for i := 1; i < len(l); i++ {
		if segmentIntersectsBound(l[i-1], l[i], b) {
			return true
		}
	}
	return false
}

func polygonIntersectsBound(p orb.Polygon, b orb.Bound) bool {
	if len(p) == 0 || len(p[0]) == 0 {
		return false
	}
	// A rectangle that touches no ring either holds the whole polygon (then the first
	// vertex is inside it and the test above has matched), lies inside the polygon, or is
	// disjoint from it; the centre tells the last two apart, holes included.
	for _, r := range p {
		if lineIntersectsBound(r, b) {
			return true
		}
	}
	return planar.PolygonContains(p, b.Center())
}

// segmentIntersectsBound clips the segment pq to b (Liang–Barsky) and reports whether any
// part of it remains.
func segmentIntersectsBound(p, q orb.Point, b orb.Bound) bool {
	t0, t1 := 0.0, 1.0
	clip := func(den, num float64) bool {
		if den == 0 {
			return num >= 0 // parallel to this edge: inside its half-plane or not at all
		}
		r := num / den
		if den < 0 {
			if r > t1 {
				return false
			}
			if r > t0 {
				t0 = r
			}
		} else {
			if r < t0 {
				return false
			}
			if r < t1 {
				t1 = r
			}
		}
		return true
	}
	dx, dy := q[0]-p[0], q[1]-p[1]
	return clip(-dx, p[0]-b.Min[0]) && clip(dx, b.Max[0]-p[0]) &&
		clip(-dy, p[1]-b.Min[1]) && clip(dy, b.Max[1]-p[1])
}
