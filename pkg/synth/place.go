package synth

import (
	"math"
	"math/rand/v2"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"riskmap/pkg/riskmap"
)

// metresPerDegree is the length of one degree of latitude; a degree of longitude is this
// times cos(latitude). Good to a fraction of a percent at city scale, which is all placement
// needs.
const metresPerDegree = 111320.0

// place is a region units are put in (a community of the demo city), with what its names
// contribute to unit names and addresses.
type place struct {
	code               string
	town, townFull     string // 凤麓, 凤麓街道
	comm, commFull     string // 东龙, 东龙社区
	gov                string // 凤麓街道办事处
	commGov            string // 东龙社区居民委员会, 禄充村村民委员会
	village            bool   // a 村: addresses by group, not by street number
	poly               orb.MultiPolygon
	polyBounds         []orb.Bound
	bound              orb.Bound
	convex             bool
	edges              [][2]orb.Point // boundary segments, to test crossings when not convex
	anchor             orb.Point      // an inside point well away from the boundary
	mPerLon, mPerLat   float64
	population, areaM2 float64
}

// shortName drops the administrative suffix: 凤麓街道 → 凤麓, 下村村 → 下村, 澄江市 → 澄江.
func shortName(s string) string {
	for _, suf := range []string{"街道", "社区", "镇", "乡", "村", "市", "县", "区"} {
		if t, ok := strings.CutSuffix(s, suf); ok && t != "" {
			return t
		}
	}
	return s
}

func newPlace(r *riskmap.Region, parent *riskmap.Region) place {
	p := place{code: r.Code, commFull: r.Name, comm: shortName(r.Name), poly: r.Geometry,
		bound: r.Geometry.Bound(), population: float64(r.Population)}
	p.village = strings.HasSuffix(r.Name, "村")
	if parent != nil {
		p.townFull = parent.Name
	} else {
		p.townFull = r.Name
	}
	p.town = shortName(p.townFull)
	if strings.HasSuffix(p.townFull, "街道") {
		p.gov = p.townFull + "办事处"
	} else {
		p.gov = p.townFull + "人民政府"
	}
	if p.village {
		p.commGov = p.commFull + "村民委员会"
	} else {
		p.commGov = p.commFull + "居民委员会"
	}
	lat := p.bound.Center()[1]
	p.mPerLat = metresPerDegree
	p.mPerLon = metresPerDegree * math.Cos(lat*math.Pi/180)
	p.areaM2 = math.Abs(planar.Area(p.poly)) * p.mPerLat * p.mPerLon
	for _, poly := range p.poly {
		p.polyBounds = append(p.polyBounds, poly.Bound())
	}
	p.convex = len(p.poly) == 1 && len(p.poly[0]) == 1 && convexRing(p.poly[0][0])
	for _, poly := range p.poly {
		for _, ring := range poly {
			for i := 0; i+1 < len(ring); i++ {
				p.edges = append(p.edges, [2]orb.Point{ring[i], ring[i+1]})
			}
		}
	}
	p.anchor = p.findAnchor()
	return p
}

// convexRing reports whether a ring turns the same way at every corner.
func convexRing(ring orb.Ring) bool {
	n := len(ring) - 1 // closed ring
	if n < 3 {
		return false
	}
	sign := 0
	for i := 0; i < n; i++ {
		a, b, c := ring[i], ring[(i+1)%n], ring[(i+2)%n]
		o := (b[0]-a[0])*(c[1]-b[1]) - (b[1]-a[1])*(c[0]-b[0])
		s := 0
		if o > 0 {
			s = 1
		} else if o < 0 {
			s = -1
		}
		if s == 0 {
			continue
		}
		if sign == 0 {
			sign = s
		} else if s != sign {
			return false
		}
	}
	return sign != 0
}

// findAnchor picks, from a fixed grid of candidates, the inside point farthest from the
// boundary: the fallback when random placement keeps missing a thin region.
func (p *place) findAnchor() orb.Point {
	best, bestD := orb.Point{}, -1.0
	const steps = 24
	for i := 1; i < steps; i++ {
		for j := 1; j < steps; j++ {
			q := orb.Point{
				p.bound.Min[0] + (p.bound.Max[0]-p.bound.Min[0])*float64(i)/steps,
				p.bound.Min[1] + (p.bound.Max[1]-p.bound.Min[1])*float64(j)/steps,
			}
			if !planar.MultiPolygonContains(p.poly, q) {
				continue
			}
			d := math.Inf(1)
			for _, e := range p.edges {
				d = math.Min(d, segDist(q, e[0], e[1], p.mPerLon, p.mPerLat))
			}
			if d > bestD {
				best, bestD = q, d
			}
		}
	}
	if bestD < 0 {
		// Degenerate shape: fall back to a boundary vertex, which PIP counts as inside.
		return p.poly[0][0][0]
	}
	return roundPoint(best)
}

// segDist is the distance in metres from q to segment ab.
func segDist(q, a, b orb.Point, mx, my float64) float64 {
	ax, ay := (a[0]-q[0])*mx, (a[1]-q[1])*my
	bx, by := (b[0]-q[0])*mx, (b[1]-q[1])*my
	dx, dy := bx-ax, by-ay
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, -(ax*dx+ay*dy)/l))
	}
	x, y := ax+t*dx, ay+t*dy
	return math.Hypot(x, y)
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

func roundPoint(p orb.Point) orb.Point { return orb.Point{round6(p[0]), round6(p[1])} }

func (p *place) contains(q orb.Point) bool {
	if !p.bound.Contains(q) {
		return false
	}
	for i, poly := range p.poly {
		if !p.polyBounds[i].Contains(q) || !ringContains(poly[0], q) {
			continue
		}
		inHole := false
		for _, h := range poly[1:] {
			if ringContains(h, q) {
				inHole = true
				break
			}
		}
		if !inHole {
			return true
		}
	}
	return false
}

// ringContains is the crossing-number test. Unlike planar.RingContains it does not compute
// the ring's bound on every call, which made up a fifth of the generator's time.
func ringContains(r orb.Ring, q orb.Point) bool {
	in := false
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		a, b := r[i], r[j]
		if (a[1] > q[1]) != (b[1] > q[1]) && q[0] < (b[0]-a[0])*(q[1]-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}

// holds reports whether every vertex of pts is inside the place and, for a place that is not
// convex, no segment crosses its boundary. (A closed ring repeats its first point, so its
// closing segment is tested too.)
func (p *place) holds(pts []orb.Point) bool {
	for _, q := range pts {
		if !p.contains(q) {
			return false
		}
	}
	if p.convex {
		return true
	}
	n := len(pts) - 1
	for i := 0; i < n; i++ {
		for _, e := range p.edges {
			if crosses(pts[i], pts[i+1], e[0], e[1]) {
				return false
			}
		}
	}
	return true
}

func orient(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

// crosses reports whether segments ab and cd cross at a point inside both.
func crosses(a, b, c, d orb.Point) bool {
	o1, o2 := orient(a, b, c), orient(a, b, d)
	o3, o4 := orient(c, d, a), orient(c, d, b)
	return ((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0))
}

// point draws a point uniformly inside the place.
func (p *place) point(r *rand.Rand) orb.Point {
	w, h := p.bound.Max[0]-p.bound.Min[0], p.bound.Max[1]-p.bound.Min[1]
	for range 200 {
		q := roundPoint(orb.Point{p.bound.Min[0] + w*r.Float64(), p.bound.Min[1] + h*r.Float64()})
		if p.contains(q) {
			return q
		}
	}
	return p.anchor
}

// line draws a polyline of 3–30 vertices and about length metres inside the place. Every step
// heads within ±35° of one bearing, so the line never doubles back on itself.
func (p *place) line(r *rand.Rand, length float64, buf []orb.Point) orb.LineString {
	const maxDev = 35 * math.Pi / 180
	// A line much longer than the place is wide would only be retried and shortened.
	length = math.Min(length, 0.7*math.Sqrt(p.areaM2))
	for attempt := 0; attempt < 12; attempt++ {
		n := 3 + r.IntN(28)
		if length < 40 {
			length = 40
		}
		if maxN := int(length/20) + 1; n > maxN {
			n = max(maxN, 3)
		}
		step := length / float64(n-1)
		theta := r.Float64() * 2 * math.Pi
		q := p.point(r)
		buf = append(buf[:0], q)
		x, y := q[0], q[1]
		for i := 1; i < n; i++ {
			a := theta + (2*r.Float64()-1)*maxDev
			x += step * math.Cos(a) / p.mPerLon
			y += step * math.Sin(a) / p.mPerLat
			buf = append(buf, roundPoint(orb.Point{x, y}))
		}
		if p.holds(buf) && distinctConsecutive(buf) {
			return append(orb.LineString(nil), buf...)
		}
		length *= 0.7
	}
	// A short stub at the anchor: every region has room for ten metres somewhere.
	a := p.anchor
	for _, d := range [][2]float64{{1, 0}, {0, 1}, {-1, 0}, {0, -1}} {
		b := roundPoint(orb.Point{a[0] + 10*d[0]/p.mPerLon, a[1] + 10*d[1]/p.mPerLat})
		if p.contains(b) {
			return orb.LineString{a, b}
		}
	}
	return orb.LineString{a, roundPoint(orb.Point{a[0] + 1e-5, a[1]})}
}

func distinctConsecutive(pts []orb.Point) bool {
	for i := 1; i < len(pts); i++ {
		if pts[i] == pts[i-1] {
			return false
		}
	}
	return true
}

// area draws a star-shaped polygon of 6–12 corners and rough radius metres inside the place.
// Its corners go round the centre at increasing angles, so the ring is simple and
// counter-clockwise (RFC 7946).
func (p *place) area(r *rand.Rand, radius float64, buf []orb.Point) orb.Polygon {
	radius = math.Min(radius, 0.3*math.Sqrt(p.areaM2))
	for attempt := 0; attempt < 12; attempt++ {
		c := p.point(r)
		if ring, ok := p.star(r, c, radius, 6+r.IntN(7), buf); ok {
			return orb.Polygon{ring}
		}
		radius *= 0.7
	}
	for _, rad := range []float64{20, 8} {
		if ring, ok := p.star(r, p.anchor, rad, 6, buf); ok {
			return orb.Polygon{ring}
		}
	}
	a := p.anchor
	d := 1e-5
	return orb.Polygon{orb.Ring{a, {a[0] + d, a[1]}, {a[0] + d, a[1] + d}, {a[0], a[1] + d}, a}}
}

func (p *place) star(r *rand.Rand, c orb.Point, radius float64, n int, buf []orb.Point) (orb.Ring, bool) {
	base := r.Float64() * 2 * math.Pi
	step := 2 * math.Pi / float64(n)
	buf = buf[:0]
	for k := 0; k < n; k++ {
		a := base + (float64(k)+(r.Float64()-0.5)*0.6)*step
		rad := radius * (0.6 + 0.4*r.Float64())
		buf = append(buf, roundPoint(orb.Point{c[0] + rad*math.Cos(a)/p.mPerLon, c[1] + rad*math.Sin(a)/p.mPerLat}))
	}
	buf = append(buf, buf[0])
	if !p.holds(buf) || !distinctConsecutive(buf) {
		return nil, false
	}
	return append(orb.Ring(nil), buf...), true
}
