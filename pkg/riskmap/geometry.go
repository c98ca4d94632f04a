package riskmap

import (
	"fmt"
	"math"
	"sort"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// MaxVertices is the most vertices a unit's geometry may have.
const MaxVertices = 50000

// ValidateGeometry checks that g is a non-empty point, line or polygon (or a multi- of
// them) in longitude/latitude with finite, in-range coordinates; that polygon rings are
// closed, have at least three distinct corners and neither cross themselves nor each other.
// The error message says what is wrong in words a user can act on.
func ValidateGeometry(g orb.Geometry) error {
	if g == nil {
		return fmt.Errorf("is required (a GeoJSON Point, LineString or Polygon, or a Multi- of them)")
	}
	n := 0
	var walk func(g orb.Geometry) error
	walk = func(g orb.Geometry) error {
		switch g := g.(type) {
		case orb.Point:
			n++
			return checkPoint(g, "")
		case orb.MultiPoint:
			if len(g) == 0 {
				return fmt.Errorf("is an empty MultiPoint")
			}
			for i, p := range g {
				n++
				if err := checkPoint(p, fmt.Sprintf("point %d: ", i+1)); err != nil {
					return err
				}
			}
		case orb.LineString:
			n += len(g)
			return checkLine(g, "")
		case orb.MultiLineString:
			if len(g) == 0 {
				return fmt.Errorf("is an empty MultiLineString")
			}
			for i, l := range g {
				n += len(l)
				if err := checkLine(l, fmt.Sprintf("line %d: ", i+1)); err != nil {
					return err
				}
			}
		case orb.Polygon:
			for _, r := range g {
				n += len(r)
			}
			if n > MaxVertices {
				return fmt.Errorf("has more than %d vertices", MaxVertices)
			}
			return checkPolygon(g, "")
		case orb.MultiPolygon:
			if len(g) == 0 {
				return fmt.Errorf("is an empty MultiPolygon")
			}
			for _, p := range g {
				for _, r := range p {
					n += len(r)
				}
			}
			if n > MaxVertices {
				return fmt.Errorf("has more than %d vertices", MaxVertices)
			}
			for i, p := range g {
				if err := checkPolygon(p, fmt.Sprintf("polygon %d: ", i+1)); err != nil {
					return err
				}
			}
		default:
			return fmt.Errorf("type %s is not supported; use Point, LineString or Polygon, or a Multi- of them", g.GeoJSONType())
		}
		return nil
	}
	if err := walk(g); err != nil {
		return err
	}
	if n > MaxVertices {
		return fmt.Errorf("has more than %d vertices", MaxVertices)
	}
	return nil
}

func checkPoint(p orb.Point, where string) error {
	lon, lat := p[0], p[1]
	if math.IsNaN(lon) || math.IsNaN(lat) || math.IsInf(lon, 0) || math.IsInf(lat, 0) {
		return fmt.Errorf("%scoordinates must be finite numbers", where)
	}
	if lon < -180 || lon > 180 {
		return fmt.Errorf("%slongitude %g is outside -180..180 (coordinates are longitude, latitude in WGS 84)", where, lon)
	}
	if lat < -90 || lat > 90 {
		return fmt.Errorf("%slatitude %g is outside -90..90 (coordinates are longitude, latitude in WGS 84)", where, lat)
	}
	return nil
}

func checkLine(l orb.LineString, where string) error {
	if len(l) == 0 {
		return fmt.Errorf("%sis an empty LineString", where)
	}
	for i, p := range l {
		if err := checkPoint(p, fmt.Sprintf("%svertex %d: ", where, i+1)); err != nil {
			return err
		}
	}
	for _, p := range l[1:] {
		if p != l[0] {
			return nil
		}
	}
	return fmt.Errorf("%sa line needs at least two distinct points", where)
}

func checkPolygon(poly orb.Polygon, where string) error {
	if len(poly) == 0 {
		return fmt.Errorf("%sis an empty Polygon", where)
	}
	for ri, r := range poly {
		rw := fmt.Sprintf("%sring %d: ", where, ri+1)
		if ri == 0 {
			rw = where + "outer ring: "
		}
		for i, p := range r {
			if err := checkPoint(p, fmt.Sprintf("%svertex %d: ", rw, i+1)); err != nil {
				return err
			}
		}
		if len(r) < 4 {
			return fmt.Errorf("%sa ring needs at least 4 positions (3 corners and the first repeated), got %d", rw, len(r))
		}
		if r[0] != r[len(r)-1] {
			return fmt.Errorf("%sthe ring is not closed: the last position must repeat the first", rw)
		}
		if distinct(r) < 3 {
			return fmt.Errorf("%sa ring needs at least 3 distinct corners", rw)
		}
		if planar.Area(r) == 0 {
			return fmt.Errorf("%sthe ring has no area (all corners lie on one line)", rw)
		}
	}
	if p, ok := findCrossing(poly); ok {
		return fmt.Errorf("%sthe boundary crosses or touches itself near %.6f, %.6f", where, p[0], p[1])
	}
	return nil
}

func distinct(r orb.Ring) int {
	seen := map[orb.Point]bool{}
	for _, p := range r {
		seen[p] = true
	}
	return len(seen)
}

type segment struct {
	a, b       orb.Point
	ring, idx  int
	ringLen    int
	minX, maxX float64
}

// findCrossing reports a point where two non-adjacent edges of the polygon meet: a ring
// crossing or touching itself, or two rings crossing. Rings of different polygons of a
// MultiPolygon are not compared. A sweep over x keeps it near O(n log n) for real shapes.
func findCrossing(poly orb.Polygon) (orb.Point, bool) {
	var segs []segment
	for ri, r := range poly {
		// Drop repeated consecutive positions so that they do not look like touching edges.
		pts := make([]orb.Point, 0, len(r))
		for _, p := range r {
			if len(pts) == 0 || pts[len(pts)-1] != p {
				pts = append(pts, p)
			}
		}
		m := len(pts) - 1
		for i := 0; i < m; i++ {
			a, b := pts[i], pts[i+1]
			segs = append(segs, segment{a: a, b: b, ring: ri, idx: i, ringLen: m,
				minX: math.Min(a[0], b[0]), maxX: math.Max(a[0], b[0])})
		}
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].minX < segs[j].minX })
	for i := range segs {
		s := &segs[i]
		for j := i + 1; j < len(segs) && segs[j].minX <= s.maxX; j++ {
			t := &segs[j]
			if s.ring == t.ring {
				d := s.idx - t.idx
				if d < 0 {
					d = -d
				}
				if d == 1 || d == s.ringLen-1 {
					// Adjacent edges share one endpoint; they are wrong only if they fold back
					// onto each other.
					if overlapsCollinear(s.a, s.b, t.a, t.b) {
						return sharedOrA(s, t), true
					}
					continue
				}
			}
			if p, ok := segmentsMeet(s.a, s.b, t.a, t.b); ok {
				if s.ring != t.ring && isEndpointTouch(s, t, p) {
					continue // rings of a polygon may touch at a single point
				}
				return p, true
			}
		}
	}
	return orb.Point{}, false
}

func sharedOrA(s, t *segment) orb.Point {
	if s.a == t.a || s.a == t.b {
		return s.a
	}
	return s.b
}

func isEndpointTouch(s, t *segment, p orb.Point) bool {
	return (p == s.a || p == s.b) && (p == t.a || p == t.b) && !overlapsCollinear(s.a, s.b, t.a, t.b)
}

func orient(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

func sign(v float64) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func onSegment(a, b, p orb.Point) bool {
	return math.Min(a[0], b[0]) <= p[0] && p[0] <= math.Max(a[0], b[0]) &&
		math.Min(a[1], b[1]) <= p[1] && p[1] <= math.Max(a[1], b[1])
}

// segmentsMeet reports whether segments ab and cd share any point, and one such point.
func segmentsMeet(a, b, c, d orb.Point) (orb.Point, bool) {
	o1, o2 := sign(orient(a, b, c)), sign(orient(a, b, d))
	o3, o4 := sign(orient(c, d, a)), sign(orient(c, d, b))
	if o1 != o2 && o3 != o4 && o1 != 0 && o2 != 0 && o3 != 0 && o4 != 0 {
		den := (a[0]-b[0])*(c[1]-d[1]) - (a[1]-b[1])*(c[0]-d[0])
		t := ((a[0]-c[0])*(c[1]-d[1]) - (a[1]-c[1])*(c[0]-d[0])) / den
		return orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}, true
	}
	switch {
	case o1 == 0 && onSegment(a, b, c):
		return c, true
	case o2 == 0 && onSegment(a, b, d):
		return d, true
	case o3 == 0 && onSegment(c, d, a):
		return a, true
	case o4 == 0 && onSegment(c, d, b):
		return b, true
	}
	return orb.Point{}, false
}

// overlapsCollinear reports whether two collinear segments share more than one point.
func overlapsCollinear(a, b, c, d orb.Point) bool {
	if sign(orient(a, b, c)) != 0 || sign(orient(a, b, d)) != 0 {
		return false
	}
	// Project on the dominant axis.
	ax := 0
	if math.Abs(b[0]-a[0]) < math.Abs(b[1]-a[1]) {
		ax = 1
	}
	lo1, hi1 := math.Min(a[ax], b[ax]), math.Max(a[ax], b[ax])
	lo2, hi2 := math.Min(c[ax], d[ax]), math.Max(c[ax], d[ax])
	return math.Min(hi1, hi2) > math.Max(lo1, lo2)
}
