package tiles

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// maxLat is the latitude where Web Mercator stops.
const maxLat = 85.0511287798066

// projector turns longitude/latitude into the whole-number coordinates of one tile (x right,
// y down, 0..Extent inside the tile), clips to the buffered tile and drops what no longer
// draws anything.
type projector struct {
	scale  float64   // tile units per world side: 2^z × extent
	ox, oy float64   // the tile's top-left corner in world tile units
	box    orb.Bound // the buffered tile in tile units
	geo    orb.Bound // the buffered tile in longitude/latitude
	tol    float64   // Douglas–Peucker tolerance in tile units (≤ 0: none)
	// whole is set while a geometry drawn by geometryIn lies wholly inside geo: its parts
	// need neither bounds nor clipping.
	whole bool
	// first, when set, is the bounding box of the next part source reads: a line's or a
	// polygon's outer ring, whose box is the feature's.
	first    orb.Bound
	hasFirst bool
	// arena holds the projected points of the feature being drawn (its parts are encoded
	// before the next feature starts), and codes reduce's outcodes: reused, not allocated
	// per part.
	arena []orb.Point
	codes []int
	// starts (clipLine's part boundaries) and keep and spans (simplify's marks and
	// stack) are reused from part to part.
	starts []int
	keep   []bool
	spans  []span
}

func newProjector(t maptile.Tile, o Options) *projector {
	e := float64(o.Extent)
	b := float64(o.Buffer)
	return &projector{
		scale: math.Ldexp(e, int(t.Z)),
		ox:    float64(t.X) * e,
		oy:    float64(t.Y) * e,
		box:   orb.Bound{Min: orb.Point{-b, -b}, Max: orb.Point{e + b, e + b}},
		geo:   t.Bound(o.bufferFraction()),
		tol:   o.Simplify,
	}
}

// project maps a longitude/latitude to (unrounded) tile units.
func (p *projector) project(ll orb.Point) orb.Point {
	x := (ll[0] + 180) / 360 * p.scale
	lat := math.Max(-maxLat, math.Min(maxLat, ll[1]))
	s := math.Sin(lat * math.Pi / 180)
	y := (0.5 - math.Log((1+s)/(1-s))/(4*math.Pi)) * p.scale
	return orb.Point{x - p.ox, y - p.oy}
}

// geometry returns g in tile units, clipped, simplified and rounded, or nil when nothing of
// it is left to draw.
func (p *projector) geometry(g orb.Geometry) orb.Geometry {
	switch g := g.(type) {
	case orb.Point:
		if !p.geo.Contains(g) {
			return nil
		}
		return roundPoint(p.project(g))
	case orb.MultiPoint:
		var out orb.MultiPoint
		for _, pt := range g {
			if p.geo.Contains(pt) {
				out = append(out, roundPoint(p.project(pt)))
			}
		}
		return simplest(out)
	case orb.LineString:
		return simplest(p.line(nil, g))
	case orb.MultiLineString:
		var out orb.MultiLineString
		for _, l := range g {
			out = p.line(out, l)
		}
		return simplest(out)
	case orb.Polygon:
		if q := p.polygon(g); q != nil {
			return q
		}
		return nil
	case orb.MultiPolygon:
		return p.multiPolygon(g)
	case orb.Ring:
		return p.geometry(orb.Polygon{g})
	case orb.Bound:
		return p.geometry(g.ToPolygon())
	}
	return nil
}

// next starts the next feature: its points go where the last feature's were, which has
// been encoded.
func (p *projector) next() { p.arena = p.arena[:0] }

// geometryIn is geometry for a feature whose bounding box is b (the index keeps it): a
// feature wholly inside the buffered tile, most of a tile's, is drawn without computing
// the bounds of its parts or clipping them.
func (p *projector) geometryIn(g orb.Geometry, b orb.Bound) orb.Geometry {
	p.whole = p.inside(b)
	p.next()
	switch g.(type) {
	case orb.LineString, orb.Polygon:
		p.first, p.hasFirst = b, true
	}
	out := p.geometry(g)
	p.whole, p.hasFirst = false, false
	return out
}

// simplest returns nil for a multi-geometry of no parts, the part alone for one, and m
// itself for more.
func simplest[M interface {
	~[]T
	orb.Geometry
}, T orb.Geometry](m M) orb.Geometry {
	switch len(m) {
	case 0:
		return nil
	case 1:
		return m[0]
	}
	return m
}

// line appends to out the parts of l that fall in the buffered tile.
func (p *projector) line(out orb.MultiLineString, l orb.LineString) orb.MultiLineString {
	pts, in := p.source(l, 2, false)
	if len(pts) < 2 {
		return out
	}
	for i, ll := range pts {
		pts[i] = p.project(ll)
	}
	if in {
		if part := roundDedupe(p.simplify(pts)); len(part) >= 2 {
			out = append(out, part)
		}
		return out
	}
	n := len(out)
	out = p.clipLine(out, pts)
	kept := out[:n]
	for _, part := range out[n:] {
		if part = roundDedupe(p.simplify(part)); len(part) >= 2 {
			kept = append(kept, part)
		}
	}
	return kept
}

// source returns the points of ps, a line or a ring, that the buffered tile needs, in a
// fresh slice (clipRing works in place, and index features are shared), and in, whether
// ps lie wholly inside the tile, so that they need no clipping. It returns nil when ps have
// fewer than n points or miss the tile.
func (p *projector) source(ps []orb.Point, n int, ring bool) (pts []orb.Point, in bool) {
	known := p.hasFirst
	p.hasFirst = false
	if len(ps) < n {
		return nil, false
	}
	if p.whole {
		return p.copyOf(ps, ring), true
	}
	b := p.first
	if !known {
		b = orb.MultiPoint(ps).Bound()
	}
	if !b.Intersects(p.geo) {
		return nil, false
	}
	if !p.inside(b) {
		return p.reduce(ps, ring), false
	}
	return p.copyOf(ps, ring), true
}

// copyOf copies ps to project them in place, with room to close a ring.
func (p *projector) copyOf(ps []orb.Point, ring bool) []orb.Point {
	spare := 0
	if ring {
		spare = 1 // room to close the ring
	}
	return append(p.take(len(ps)+spare), ps...)
}

// take returns an empty slice of capacity n from the arena: appending up to n points
// writes into it, past n into a new array, never over another part.
func (p *projector) take(n int) []orb.Point {
	if cap(p.arena)-len(p.arena) < n {
		// The parts taken before keep the old array; the arena goes on in a new one.
		p.arena = make([]orb.Point, 0, max(n, 2*cap(p.arena), 256))
	}
	start := len(p.arena)
	p.arena = p.arena[:start+n]
	return p.arena[start : start : start+n]
}

// inside reports whether a longitude/latitude bound lies within the buffered tile.
func (p *projector) inside(b orb.Bound) bool {
	return p.geo.Contains(b.Min) && p.geo.Contains(b.Max)
}

// outcode says on which sides of the buffered tile a longitude/latitude lies: bit 1 west,
// 2 east, 4 south, 8 north; 0 inside.
func (p *projector) outcode(q orb.Point) int {
	c := 0
	if q[0] < p.geo.Min[0] {
		c |= 1
	} else if q[0] > p.geo.Max[0] {
		c |= 2
	}
	if q[1] < p.geo.Min[1] {
		c |= 4
	} else if q[1] > p.geo.Max[1] {
		c |= 8
	}
	return c
}

// reduce copies the vertices that can matter to the clipped result, so that a long line or
// a large ring crossing a small tile is projected for a handful of points rather than all.
// A vertex goes when it and both its neighbours lie beyond the same side of the tile: the
// path through it and the short cut past it both stay on that side, which Mercator keeps
// (it maps the tile's longitude/latitude box onto its box in tile units, side for side), so
// the part inside the tile is the same. The clipping itself is done after projection, on
// the Mercator-straight edges the renderer draws. A line also loses end segments that lie
// wholly beyond one side.
func (p *projector) reduce(pts []orb.Point, ring bool) []orb.Point {
	out := p.take(len(pts) + 1) // room to close a ring
	codes := p.codes[:0]
	for _, q := range pts {
		c := p.outcode(q)
		for n := len(out); n >= 2 && codes[n-2]&codes[n-1]&c != 0; n-- {
			out, codes = out[:n-1], codes[:n-1]
		}
		out, codes = append(out, q), append(codes, c)
	}
	p.codes = codes // kept, grown, for the next part
	if ring {
		return out
	}
	start := 0
	for start+1 < len(out) && codes[start]&codes[start+1] != 0 {
		start++
	}
	end := len(out)
	for end-2 >= start && codes[end-2]&codes[end-1] != 0 {
		end--
	}
	return out[start:end]
}

func (p *projector) multiPolygon(mp orb.MultiPolygon) orb.Geometry {
	var out orb.MultiPolygon
	for _, poly := range mp {
		if q := p.polygon(poly); q != nil {
			out = append(out, q)
		}
	}
	return simplest(out)
}

// polygon clips, simplifies and rounds each ring, and winds the exterior ring clockwise on
// screen (positive area by the surveyor's formula in tile coordinates, y down) and holes the
// other way, as MVT 2 requires. A polygon whose exterior collapses is dropped; so is a
// collapsed hole.
func (p *projector) polygon(poly orb.Polygon) orb.Polygon {
	var out orb.Polygon
	var outer float64
	for i, r := range poly {
		q := p.ring(r)
		a := ringArea(q)
		if a == 0 {
			if i == 0 {
				return nil
			}
			continue
		}
		if (i == 0) != (a > 0) {
			q.Reverse()
			a = -a
		}
		if i == 0 {
			outer = a
		} else if -a >= outer {
			// The tile lies inside this hole: nothing of the polygon shows.
			return nil
		}
		out = append(out, q)
	}
	return out
}

// ring returns the closed ring in rounded tile units, nil if it misses the buffered tile or
// has fewer than three distinct corners.
func (p *projector) ring(r orb.Ring) orb.Ring {
	ps, in := p.source(r, 4, true)
	if len(ps) < 3 {
		return nil
	}
	pts := orb.Ring(ps)
	if pts[0] != pts[len(pts)-1] {
		pts = append(pts, pts[0])
	}
	for i, ll := range pts {
		pts[i] = p.project(ll)
	}
	if !in {
		if pts = p.clipRing(pts); pts == nil {
			return nil
		}
	}
	q := roundDedupe(p.simplify(pts))
	if len(q) > 1 && q[0] != q[len(q)-1] {
		q = append(q, q[0])
	}
	if len(q) < 4 {
		return nil
	}
	return orb.Ring(q)
}

func roundPoint(p orb.Point) orb.Point { return orb.Point{math.Round(p[0]), math.Round(p[1])} }

// roundDedupe rounds to whole tile units in place and drops repeated consecutive points.
func roundDedupe(pts []orb.Point) []orb.Point {
	out := pts[:0]
	for _, pt := range pts {
		q := roundPoint(pt)
		if len(out) > 0 && out[len(out)-1] == q {
			continue
		}
		out = append(out, q)
	}
	return out
}

// ringArea is twice the signed area by the surveyor's formula: positive for a ring that runs
// clockwise on screen (y down).
func ringArea(r orb.Ring) float64 {
	if len(r) < 4 {
		return 0
	}
	a := 0.0
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a
}

// simplify runs Douglas–Peucker over pts in place at the projector's tolerance: every
// dropped point lies within it of the line that replaces it. A closed ring keeps its first
// (= last) point and, since the "segment" between them is a point, the point farthest from
// it. Its marks and stack are the projector's, reused from part to part.
func (p *projector) simplify(pts []orb.Point) []orb.Point {
	n := len(pts)
	if p.tol <= 0 || n < 3 {
		return pts
	}
	keep := append(p.keep[:0], make([]bool, n)...)
	keep[0], keep[n-1] = true, true
	tol2 := p.tol * p.tol
	stack := append(p.spans[:0], span{0, n - 1})
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		far, farD := -1, tol2
		for i := s.a + 1; i < s.b; i++ {
			if d := segDist2(pts[i], pts[s.a], pts[s.b]); d > farD {
				far, farD = i, d
			}
		}
		if far >= 0 {
			keep[far] = true
			stack = append(stack, span{s.a, far}, span{far, s.b})
		}
	}
	p.keep, p.spans = keep, stack
	out := pts[:0]
	for i, k := range keep {
		if k {
			out = append(out, pts[i])
		}
	}
	return out
}

// span is a run of points simplify has still to look at.
type span struct{ a, b int }

// segDist2 is the squared distance from p to the segment ab.
func segDist2(p, a, b orb.Point) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	px, py := p[0]-a[0], p[1]-a[1]
	if l2 := dx*dx + dy*dy; l2 > 0 {
		t := (px*dx + py*dy) / l2
		t = math.Max(0, math.Min(1, t))
		px -= t * dx
		py -= t * dy
	}
	return px*px + py*py
}
