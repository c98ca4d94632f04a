package analysis

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// Geodesy on WGS 84. Inside a city, distances are measured in a local plane whose scales are
// the ellipsoid's radii of curvature at the latitude in the middle (meridional M and prime
// vertical N): under 50 km that is within 0.05 % of the geodesic, which is what PostGIS's
// ST_Distance(geography) computes. Farther apart, the great circle on the sphere of the
// Gaussian mean radius there (within 0.5 %).

const (
	wgsA  = 6378137.0
	wgsF  = 1 / 298.257223563
	wgsE2 = wgsF * (2 - wgsF)
	rad   = math.Pi / 180
)

// radii are the meridional and prime-vertical radii of curvature at latitude lat (degrees).
func radii(lat float64) (m, n float64) {
	s := math.Sin(lat * rad)
	w := 1 - wgsE2*s*s
	n = wgsA / math.Sqrt(w)
	m = wgsA * (1 - wgsE2) / (w * math.Sqrt(w))
	return m, n
}

// plane is a local metric projection around an origin: metres east (x) and north (y).
type plane struct {
	lon0, lat0 float64
	kx, ky     float64 // metres per degree of longitude and latitude
}

func newPlane(lon0, lat0 float64) plane {
	m, n := radii(lat0)
	return plane{lon0: lon0, lat0: lat0, kx: n * math.Cos(lat0*rad) * rad, ky: m * rad}
}

func (p plane) fwd(q orb.Point) orb.Point {
	return orb.Point{(q[0] - p.lon0) * p.kx, (q[1] - p.lat0) * p.ky}
}

func (p plane) inv(q orb.Point) orb.Point {
	return orb.Point{p.lon0 + q[0]/p.kx, p.lat0 + q[1]/p.ky}
}

// planeFor is the plane of a bound's centre.
func planeFor(b orb.Bound) plane {
	c := b.Center()
	return newPlane(c[0], c[1])
}

// DistanceM is the geodesic distance in metres between two WGS 84 points.
func DistanceM(a, b orb.Point) float64 {
	latm := (a[1] + b[1]) / 2
	dlon := b[0] - a[0]
	if dlon > 180 {
		dlon -= 360
	} else if dlon < -180 {
		dlon += 360
	}
	if math.Abs(dlon) < 1 && math.Abs(b[1]-a[1]) < 1 {
		m, n := radii(latm)
		dx := dlon * rad * n * math.Cos(latm*rad)
		dy := (b[1] - a[1]) * rad * m
		return math.Hypot(dx, dy)
	}
	m, n := radii(latm)
	r := math.Sqrt(m * n)
	p1, p2 := a[1]*rad, b[1]*rad
	h := math.Pow(math.Sin((p2-p1)/2), 2) + math.Cos(p1)*math.Cos(p2)*math.Pow(math.Sin(dlon*rad/2), 2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(h)))
}

// BearingDeg is the direction from a to b in degrees clockwise from north, in [0, 360).
func BearingDeg(a, b orb.Point) float64 {
	p := newPlane(a[0], (a[1]+b[1])/2)
	q := p.fwd(b)
	d := math.Atan2(q[0], q[1]-(a[1]-p.lat0)*p.ky) / rad
	if d < 0 {
		d += 360
	}
	return d
}

var directions = [8]string{"北", "东北", "东", "东南", "南", "西南", "西", "西北"}

// Direction names a bearing by the eight points of the compass: 北, 东北, 东 …
func Direction(deg float64) string {
	i := int(math.Floor(math.Mod(deg+22.5+720, 360) / 45))
	return directions[i%8]
}

// GrowM is b grown by at least m metres on every side: a search box for what lies within m
// metres of something inside b.
func GrowM(b orb.Bound, m float64) orb.Bound {
	lat := math.Max(math.Abs(b.Min[1]), math.Abs(b.Max[1]))
	mr, _ := radii(0) // the meridional radius is smallest at the equator
	_, nr := radii(lat)
	dlat := m / (mr * rad) * 1.001
	cos := math.Cos(math.Min(lat+dlat, 89.9) * rad)
	dlon := m / (nr * cos * rad) * 1.001
	return orb.Bound{Min: orb.Point{b.Min[0] - dlon, b.Min[1] - dlat}, Max: orb.Point{b.Max[0] + dlon, b.Max[1] + dlat}}
}

// CircleM is a closed ring of n points at r metres around c: a geodesic circle, for drawing.
func CircleM(c orb.Point, r float64, n int) orb.Ring {
	if n < 4 {
		n = 4
	}
	p := newPlane(c[0], c[1])
	ring := make(orb.Ring, 0, n+1)
	for i := range n {
		t := 2 * math.Pi * float64(i) / float64(n)
		ring = append(ring, p.inv(orb.Point{r * math.Sin(t), r * math.Cos(t)}))
	}
	return append(ring, ring[0])
}

// AreaM2 is the area in square metres of a Polygon or MultiPolygon (holes subtracted); 0 for
// any other geometry.
func AreaM2(g orb.Geometry) float64 {
	if g == nil {
		return 0
	}
	p := planeFor(g.Bound())
	area := func(poly orb.Polygon) float64 {
		var a float64
		for i, r := range poly {
			s := math.Abs(planar.Area(project(p, r)))
			if i == 0 {
				a += s
			} else {
				a -= s
			}
		}
		return math.Max(a, 0)
	}
	switch g := g.(type) {
	case orb.Polygon:
		return area(g)
	case orb.MultiPolygon:
		var a float64
		for _, poly := range g {
			a += area(poly)
		}
		return a
	}
	return 0
}

func project(p plane, r orb.Ring) orb.Ring {
	out := make(orb.Ring, len(r))
	for i, q := range r {
		out[i] = p.fwd(q)
	}
	return out
}

// parts is a geometry in the plane: its points, its segments and its polygons (for
// containment).
type parts struct {
	pts   []orb.Point
	segs  [][2]orb.Point
	polys []orb.Polygon
}

func partsOf(p plane, g orb.Geometry, out *parts) {
	line := func(ls []orb.Point) {
		for i := 1; i < len(ls); i++ {
			a, b := ls[i-1], ls[i]
			// An edge in geography is a great circle; in the plane a straight segment. Over
			// a long edge the two part (0.6 m over 8 km, 13 m over 40 km at 25°N): follow
			// the great circle in pieces of at most densifyM.
			if d := DistanceM(a, b); d > densifyM {
				n := int(math.Ceil(d / densifyM))
				prev := a
				for k := 1; k <= n; k++ {
					q := b
					if k < n {
						q = greatCircle(a, b, float64(k)/float64(n))
					}
					out.segs = append(out.segs, [2]orb.Point{p.fwd(prev), p.fwd(q)})
					prev = q
				}
				continue
			}
			out.segs = append(out.segs, [2]orb.Point{p.fwd(a), p.fwd(b)})
		}
		if len(ls) == 1 {
			out.pts = append(out.pts, p.fwd(ls[0]))
		}
	}
	poly := func(pg orb.Polygon) {
		pp := make(orb.Polygon, len(pg))
		for i, r := range pg {
			line(r)
			pp[i] = project(p, r)
		}
		out.polys = append(out.polys, pp)
	}
	switch g := g.(type) {
	case orb.Point:
		out.pts = append(out.pts, p.fwd(g))
	case orb.MultiPoint:
		for _, q := range g {
			out.pts = append(out.pts, p.fwd(q))
		}
	case orb.LineString:
		line(g)
	case orb.MultiLineString:
		for _, l := range g {
			line(l)
		}
	case orb.Ring:
		poly(orb.Polygon{g})
	case orb.Polygon:
		poly(g)
	case orb.MultiPolygon:
		for _, pg := range g {
			poly(pg)
		}
	case orb.Collection:
		for _, c := range g {
			partsOf(p, c, out)
		}
	case orb.Bound:
		poly(g.ToPolygon())
	}
}

// densifyM is the longest piece of an edge measured as a straight segment in the plane.
const densifyM = 2000

// greatCircle is the point a fraction f of the way from a to b along the great circle (on
// the sphere, which the geodesic follows within centimetres over a city's edges).
func greatCircle(a, b orb.Point, f float64) orb.Point {
	vec := func(p orb.Point) [3]float64 {
		lon, lat := p[0]*rad, p[1]*rad
		return [3]float64{math.Cos(lat) * math.Cos(lon), math.Cos(lat) * math.Sin(lon), math.Sin(lat)}
	}
	va, vb := vec(a), vec(b)
	dot := va[0]*vb[0] + va[1]*vb[1] + va[2]*vb[2]
	omega := math.Acos(math.Max(-1, math.Min(1, dot)))
	if omega < 1e-12 {
		return a
	}
	sa, sb := math.Sin((1-f)*omega)/math.Sin(omega), math.Sin(f*omega)/math.Sin(omega)
	v := [3]float64{sa*va[0] + sb*vb[0], sa*va[1] + sb*vb[1], sa*va[2] + sb*vb[2]}
	return orb.Point{math.Atan2(v[1], v[0]) / rad, math.Atan2(v[2], math.Hypot(v[0], v[1])) / rad}
}

// vertices are every point of the parts: lone points and segment ends.
func (ps *parts) vertices(fn func(orb.Point) bool) {
	for _, q := range ps.pts {
		if !fn(q) {
			return
		}
	}
	for _, s := range ps.segs {
		if !fn(s[0]) {
			return
		}
	}
}

// GeomDistanceM is the distance in metres between two geometries, edge to edge (0 when they
// touch, cross or one holds the other), and the closest points: pa on a, pb on b (equal when
// the distance is 0).
func GeomDistanceM(a, b orb.Geometry) (d float64, pa, pb orb.Point) {
	if a == nil || b == nil {
		return math.Inf(1), orb.Point{}, orb.Point{}
	}
	bb := a.Bound().Union(b.Bound())
	p := planeFor(bb)
	var A, B parts
	partsOf(p, a, &A)
	partsOf(p, b, &B)
	d, qa, qb := planeDistance(&A, &B)
	if math.IsInf(d, 1) {
		return d, orb.Point{}, orb.Point{}
	}
	pa, pb = p.inv(qa), p.inv(qb)
	if d == 0 {
		pb = pa
		return 0, pa, pb
	}
	// The plane's scale is exact at its centre; measure the closest pair on the ellipsoid.
	return DistanceM(pa, pb), pa, pb
}

func planeDistance(A, B *parts) (float64, orb.Point, orb.Point) {
	// Containment: a vertex of one inside a polygon of the other.
	var hit orb.Point
	var inside bool
	contains := func(polys []orb.Polygon, other *parts) {
		if inside || len(polys) == 0 {
			return
		}
		other.vertices(func(q orb.Point) bool {
			for _, pg := range polys {
				if planar.PolygonContains(pg, q) {
					hit, inside = q, true
					return false
				}
			}
			return true
		})
	}
	contains(A.polys, B)
	contains(B.polys, A)
	if inside {
		return 0, hit, hit
	}
	best := math.Inf(1)
	var ba, bb orb.Point
	try := func(d float64, x, y orb.Point) {
		if d < best {
			best, ba, bb = d, x, y
		}
	}
	for _, x := range A.pts {
		for _, y := range B.pts {
			try(math.Hypot(x[0]-y[0], x[1]-y[1]), x, y)
		}
		for _, s := range B.segs {
			c := closestOnSeg(x, s)
			try(math.Hypot(x[0]-c[0], x[1]-c[1]), x, c)
		}
	}
	for _, s := range A.segs {
		for _, y := range B.pts {
			c := closestOnSeg(y, s)
			try(math.Hypot(y[0]-c[0], y[1]-c[1]), c, y)
		}
		for _, t := range B.segs {
			if x, ok := segCross(s, t); ok {
				return 0, x, x
			}
			for _, e := range [2]orb.Point{s[0], s[1]} {
				c := closestOnSeg(e, t)
				try(math.Hypot(e[0]-c[0], e[1]-c[1]), e, c)
			}
			for _, e := range [2]orb.Point{t[0], t[1]} {
				c := closestOnSeg(e, s)
				try(math.Hypot(e[0]-c[0], e[1]-c[1]), c, e)
			}
		}
	}
	return best, ba, bb
}

// closestOnSeg is the point of segment s closest to q.
func closestOnSeg(q orb.Point, s [2]orb.Point) orb.Point {
	dx, dy := s[1][0]-s[0][0], s[1][1]-s[0][1]
	l2 := dx*dx + dy*dy
	if l2 == 0 {
		return s[0]
	}
	t := ((q[0]-s[0][0])*dx + (q[1]-s[0][1])*dy) / l2
	t = math.Max(0, math.Min(1, t))
	return orb.Point{s[0][0] + t*dx, s[0][1] + t*dy}
}

// segCross reports whether segments s and t cross or touch, and where.
func segCross(s, t [2]orb.Point) (orb.Point, bool) {
	rx, ry := s[1][0]-s[0][0], s[1][1]-s[0][1]
	qx, qy := t[1][0]-t[0][0], t[1][1]-t[0][1]
	den := rx*qy - ry*qx
	wx, wy := t[0][0]-s[0][0], t[0][1]-s[0][1]
	if den == 0 {
		return orb.Point{}, false // parallel: the endpoint distances decide (0 when collinear and overlapping)
	}
	u := (wx*qy - wy*qx) / den
	v := (wx*ry - wy*rx) / den
	if u < 0 || u > 1 || v < 0 || v > 1 {
		return orb.Point{}, false
	}
	return orb.Point{s[0][0] + u*rx, s[0][1] + u*ry}, true
}
