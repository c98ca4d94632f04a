package riskmap

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// quadraticCrossing is the boundary check as it was before issue 11, kept as the oracle
// the sweep must agree with: it compares every pair of edges whose x ranges overlap, in
// floating point. On coordinates where floating point is exact (the small grids below)
// its answer is the definition of a valid boundary.
func quadraticCrossing(poly orb.Polygon) (orb.Point, bool) {
	type segment struct {
		a, b       orb.Point
		ring, idx  int
		ringLen    int
		minX, maxX float64
	}
	var segs []segment
	for ri, r := range poly {
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
					if oldOverlapsCollinear(s.a, s.b, t.a, t.b) {
						return s.a, true
					}
					continue
				}
			}
			if p, ok := oldSegmentsMeet(s.a, s.b, t.a, t.b); ok {
				if s.ring != t.ring && (p == s.a || p == s.b) && (p == t.a || p == t.b) && !oldOverlapsCollinear(s.a, s.b, t.a, t.b) {
					continue
				}
				return p, true
			}
		}
	}
	return orb.Point{}, false
}

func oldOrient(a, b, c orb.Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

func oldOnSegment(a, b, p orb.Point) bool {
	return math.Min(a[0], b[0]) <= p[0] && p[0] <= math.Max(a[0], b[0]) &&
		math.Min(a[1], b[1]) <= p[1] && p[1] <= math.Max(a[1], b[1])
}

func oldSegmentsMeet(a, b, c, d orb.Point) (orb.Point, bool) {
	o1, o2 := sgn(oldOrient(a, b, c)), sgn(oldOrient(a, b, d))
	o3, o4 := sgn(oldOrient(c, d, a)), sgn(oldOrient(c, d, b))
	if o1 != o2 && o3 != o4 && o1 != 0 && o2 != 0 && o3 != 0 && o4 != 0 {
		return orb.Point{}, true
	}
	switch {
	case o1 == 0 && oldOnSegment(a, b, c):
		return c, true
	case o2 == 0 && oldOnSegment(a, b, d):
		return d, true
	case o3 == 0 && oldOnSegment(c, d, a):
		return a, true
	case o4 == 0 && oldOnSegment(c, d, b):
		return b, true
	}
	return orb.Point{}, false
}

func oldOverlapsCollinear(a, b, c, d orb.Point) bool {
	if sgn(oldOrient(a, b, c)) != 0 || sgn(oldOrient(a, b, d)) != 0 {
		return false
	}
	ax := 0
	if math.Abs(b[0]-a[0]) < math.Abs(b[1]-a[1]) {
		ax = 1
	}
	lo1, hi1 := math.Min(a[ax], b[ax]), math.Max(a[ax], b[ax])
	lo2, hi2 := math.Min(c[ax], d[ax]), math.Max(c[ax], d[ax])
	return math.Min(hi1, hi2) > math.Max(lo1, lo2)
}

// quadraticHoles is the oracle of issue 11's second part, for a polygon whose rings meet
// at shared corners at most (quadraticCrossing found nothing): it says whether a hole lies
// outside the outer ring (holeOutside) or inside another hole (holeInHole), and which. It
// tests the midpoint of every edge of every hole against every other ring by counting
// crossings of a ray, in floating point, which is exact on the grids below. A midpoint is
// on no other ring, as edges meet only at corners, and lies inside a ring exactly when its
// whole edge does; a hole lies inside a ring exactly when each of its edges does.
func quadraticHoles(poly orb.Polygon) (kind, ring int) {
	inside := func(q orb.Point, r orb.Ring) bool {
		in := false
		for i := 0; i+1 < len(r); i++ {
			a, b := r[i], r[i+1]
			if (a[1] > q[1]) != (b[1] > q[1]) && (oldOrient(a, b, q) > 0) == (b[1] > a[1]) {
				in = !in
			}
		}
		return in
	}
	for h := 1; h < len(poly); h++ {
		r := poly[h]
		for i := 0; i+1 < len(r); i++ {
			if r[i] == r[i+1] {
				continue
			}
			m := orb.Point{(r[i][0] + r[i+1][0]) / 2, (r[i][1] + r[i+1][1]) / 2}
			if !inside(m, poly[0]) {
				return holeOutside, h
			}
			for o := 1; o < len(poly); o++ {
				if o != h && inside(m, poly[o]) {
					return holeInHole, h
				}
			}
		}
	}
	return ringsOK, 0
}

// quadraticInvalid is the whole oracle: rings that cross or touch, or holes out of place.
func quadraticInvalid(poly orb.Polygon) bool {
	if _, crossing := quadraticCrossing(poly); crossing {
		return true
	}
	kind, _ := quadraticHoles(poly)
	return kind != ringsOK
}

// sweepCrossing is the new check on one polygon, with its work counted: whether the rings
// cross or touch, or a hole is out of place.
func sweepCrossing(t testing.TB, poly orb.Polygon) (bool, sweepStats) {
	t.Helper()
	var st sweepStats
	pr, err := checkRings(context.Background(), poly, &st)
	if err != nil {
		t.Fatal(err)
	}
	return pr.kind != ringsOK, st
}

func ring(pts ...float64) orb.Ring {
	r := orb.Ring{}
	for i := 0; i+1 < len(pts); i += 2 {
		r = append(r, orb.Point{pts[i], pts[i+1]})
	}
	return append(r, r[0])
}

func TestValidateBoundaries(t *testing.T) {
	square := ring(0, 0, 4, 0, 4, 4, 0, 4)
	hole := ring(1, 1, 2, 1, 2, 2)
	cases := []struct {
		name string
		g    orb.Geometry
		ok   bool
		msg  string // what the message says, when not that the boundary crosses or touches
	}{
		{"OKSquare", orb.Polygon{square}, true, ""},
		{"OKRepeatedPosition", orb.Polygon{ring(0, 0, 4, 0, 4, 0, 4, 4, 0, 4)}, true, ""},
		{"OKStraightCorner", orb.Polygon{ring(0, 0, 2, 0, 4, 0, 4, 4, 0, 4)}, true, ""},
		{"OKHole", orb.Polygon{square, ring(1, 1, 2, 1, 2, 2)}, true, ""},
		{"OKHoleTouchesShellCorner", orb.Polygon{square, ring(0, 0, 2, 1, 1, 2)}, true, ""},
		{"OKHolesShareCorner", orb.Polygon{square, ring(1, 1, 2, 1, 2, 2), ring(2, 2, 3, 2, 3, 3)}, true, ""},
		{"OKVerticalEdges", orb.Polygon{ring(0, 0, 1, 0, 1, 1, 2, 1, 2, 0, 3, 0, 3, 3, 0, 3)}, true, ""},
		{"OKMultiPolygonPartsOverlap", orb.MultiPolygon{{square}, {ring(1, 1, 5, 1, 5, 5)}}, true, ""},
		{"ErrBowtie", orb.Polygon{ring(0, 0, 2, 2, 2, 0, 0, 1)}, false, ""},
		{"ErrRingPinched", orb.Polygon{ring(0, 0, 2, 0, 1, 1, 2, 2, 0, 2, 1, 1)}, false, ""},
		{"ErrSpike", orb.Polygon{ring(0, 0, 4, 0, 4, 4, 4, 2)}, false, ""},
		{"ErrFoldBack", orb.Polygon{ring(0, 0, 4, 0, 2, 0, 2, 3)}, false, ""},
		{"ErrCornerOnEdge", orb.Polygon{ring(0, 0, 4, 0, 4, 4, 2, 0, 0, 4)}, false, ""},
		{"ErrHoleCornerOnShellEdge", orb.Polygon{square, ring(2, 0, 3, 1, 1, 1)}, false, ""},
		{"ErrHoleSharesShellEdge", orb.Polygon{square, ring(0, 0, 4, 0, 2, 2)}, false, ""},
		{"ErrHoleCrossesShell", orb.Polygon{square, ring(3, 1, 5, 1, 5, 2)}, false, ""},
		{"ErrHolesCross", orb.Polygon{square, ring(1, 1, 3, 1, 3, 2), ring(2, 0.5, 2.5, 0.5, 2.5, 3)}, false, ""},
		{"ErrVerticalOverlap", orb.Polygon{square, ring(0, 1, 1, 2, 0, 3)}, false, ""},
		{"ErrSecondPartCrosses", orb.MultiPolygon{{square}, {ring(10, 10, 12, 12, 12, 10, 10, 11)}}, false, ""},
		// Issue 11's second part: holes out of place.
		{"OKHoleClockwise", orb.Polygon{square, ring(1, 1, 1, 2, 2, 2)}, true, ""},
		{"OKShellClockwise", orb.Polygon{ring(0, 0, 0, 4, 4, 4, 4, 0), hole}, true, ""},
		{"OKHolesSideBySide", orb.Polygon{square, ring(1, 1, 3, 1, 3, 1.5), ring(1, 2, 3, 2, 3, 3)}, true, ""},
		{"OKHoleInConcaveShell", orb.Polygon{ring(0, 0, 4, 0, 4, 4, 3, 4, 3, 1, 1, 1, 1, 4, 0, 4), ring(3.25, 2, 3.75, 2, 3.5, 3)}, true, ""},
		{"OKHolesFanAtShellCorner", orb.Polygon{square, ring(0, 0, 2, 0.5, 2, 1), ring(0, 0, 2, 1.5, 1.5, 2), ring(0, 0, 1, 2, 0.5, 2)}, true, ""},
		{"OKHoleTouchesHoleFromOutside", orb.Polygon{square, ring(1, 1, 2, 1, 2, 2, 1, 2), ring(2, 2, 3, 2, 3, 3, 2, 3)}, true, ""},
		{"OKMultiPolygonHoleInOwnShell", orb.MultiPolygon{{square, hole}, {ring(10, 10, 14, 10, 14, 14, 10, 14), ring(11, 11, 12, 11, 12, 12)}}, true, ""},
		{"ErrHoleOutsideShell", orb.Polygon{square, ring(5, 5, 6, 5, 6, 6)}, false, "第 2 个环：内环（洞）位于外环之外"},
		{"ErrHoleAroundShell", orb.Polygon{square, ring(-1, -1, 5, -1, 5, 5, -1, 5)}, false, "第 2 个环：内环（洞）位于外环之外"},
		{"ErrHoleInShellNotch", orb.Polygon{ring(0, 0, 4, 0, 4, 4, 3, 4, 3, 1, 1, 1, 1, 4, 0, 4), ring(1.5, 2, 2.5, 2, 2, 3)}, false, "第 2 个环：内环（洞）位于外环之外"},
		{"ErrHoleOutsideTouchesShellCorner", orb.Polygon{square, ring(4, 4, 5, 4, 5, 5)}, false, "第 2 个环：内环（洞）位于外环之外"},
		{"ErrSecondHoleOutside", orb.Polygon{square, hole, ring(5, 5, 6, 5, 6, 6)}, false, "第 3 个环：内环（洞）位于外环之外"},
		{"ErrHoleInHole", orb.Polygon{square, ring(0.5, 0.5, 3.5, 0.5, 3.5, 3.5, 0.5, 3.5), hole}, false, "第 3 个环：内环（洞）嵌套在另一个内环之中"},
		{"ErrHoleAroundHole", orb.Polygon{square, hole, ring(0.5, 0.5, 3.5, 0.5, 3.5, 3.5, 0.5, 3.5)}, false, "第 2 个环：内环（洞）嵌套在另一个内环之中"},
		{"ErrHoleInHoleInHole", orb.Polygon{square, ring(0.25, 0.25, 3.75, 0.25, 3.75, 3.75, 0.25, 3.75), ring(0.5, 0.5, 3.5, 0.5, 3.5, 3.5, 0.5, 3.5), hole}, false, "内环（洞）嵌套在另一个内环之中"},
		{"ErrHoleInHoleSharingCorner", orb.Polygon{square, ring(1, 1, 3, 1, 3, 3, 1, 3), ring(1, 1, 2, 1.5, 1.5, 2)}, false, "第 3 个环：内环（洞）嵌套在另一个内环之中"},
		{"ErrHoleCrossesShellAtCorner", orb.Polygon{square, ring(0, 0, 2, 2, 4, 4, 3, 6, -1, 6, -1, -1)}, false, "边界在 0.000000, 0.000000 附近"},
		{"ErrHolesCrossAtCorner", orb.Polygon{square, ring(2, 2, 3, 1, 3, 3), ring(2, 2, 2.5, 2, 3, 3, 1, 3)}, false, "边界在 2.000000, 2.000000 附近"},
		{"ErrHoleOutsideOtherPart", orb.MultiPolygon{{square}, {ring(10, 10, 14, 10, 14, 14, 10, 14), hole}}, false, "第 2 个面：第 2 个环：内环（洞）位于外环之外"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := ValidateGeometryShape(tc.g); err != nil {
				t.Fatalf("the shape must be right for this test: %v", err)
			}
			err := ValidateBoundaries(context.Background(), tc.g)
			if (err == nil) != tc.ok {
				t.Fatalf("want ok=%v, got %v", tc.ok, err)
			}
			msg := tc.msg
			if msg == "" {
				msg = "自相交或自接触"
			}
			if err != nil && !strings.Contains(err.Error(), msg) {
				t.Fatalf("the message must say %q: %v", msg, err)
			}
			old := false
			for _, p := range polygons(tc.g) {
				old = old || quadraticInvalid(p)
			}
			if old == tc.ok {
				t.Fatalf("the quadratic check disagrees: invalid=%v", old)
			}
		})
	}
}

func polygons(g orb.Geometry) []orb.Polygon {
	switch g := g.(type) {
	case orb.Polygon:
		return []orb.Polygon{g}
	case orb.MultiPolygon:
		return g
	}
	return nil
}

// gridPolygon builds a polygon from bytes on a grid of quarter degrees, where every sum and
// product the checks make is exact in floating point: the first byte gives the number of
// rings, then each ring has a length byte and one byte per corner (4 bits each for x and
// y), so that corners coincide and line up often.
func gridPolygon(data []byte) orb.Polygon {
	next := func() (byte, bool) {
		if len(data) == 0 {
			return 0, false
		}
		b := data[0]
		data = data[1:]
		return b, true
	}
	nr, ok := next()
	if !ok {
		return nil
	}
	var poly orb.Polygon
	for range int(nr%4) + 1 {
		n, ok := next()
		if !ok {
			break
		}
		r := orb.Ring{}
		for range int(n%12) + 3 {
			b, ok := next()
			if !ok {
				break
			}
			r = append(r, orb.Point{100 + float64(b&15)/4, 20 + float64(b>>4)/4})
		}
		if len(r) > 0 {
			poly = append(poly, append(r, r[0]))
		}
	}
	return poly
}

// agree checks that the sweep and the quadratic check agree on a polygon of right shape.
func agree(t *testing.T, poly orb.Polygon) {
	t.Helper()
	if poly == nil || ValidateGeometryShape(poly) != nil {
		return
	}
	want := quadraticInvalid(poly)
	got, _ := sweepCrossing(t, poly)
	if got != want {
		t.Fatalf("sweep says invalid=%v, quadratic check says %v, for %v", got, want, poly)
	}
}

// TestBoundariesAgreeWithQuadratic compares the two checks on many small random polygons,
// most of them with corners on each other's edges, shared corners and collinear edges.
func TestBoundariesAgreeWithQuadratic(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 1))
	n := 200000
	if testing.Short() {
		n = 20000
	}
	valid := 0
	for range n {
		data := make([]byte, 2+rng.IntN(40))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		// Small grids make degenerate cases common; star-shaped rings make valid ones.
		if rng.IntN(2) == 0 {
			for i := range data {
				data[i] &= 0x33
			}
		}
		poly := gridPolygon(data)
		agree(t, poly)
		if poly != nil && ValidateGeometry(poly) == nil {
			valid++
		}
	}
	for range n / 10 {
		poly := starPolygon(rng)
		agree(t, poly)
		if ValidateGeometry(poly) == nil {
			valid++
		}
	}
	kinds := map[int]int{}
	for range n / 10 {
		poly := boxPolygon(rng)
		agree(t, poly)
		if ValidateGeometryShape(poly) == nil {
			var st sweepStats
			pr, _ := checkRings(context.Background(), poly, &st)
			kinds[pr.kind]++
		}
	}
	t.Logf("box polygons by problem: %v", kinds)
	for _, k := range []int{ringsOK, ringsCross, holeOutside, holeInHole} {
		if kinds[k] < n/1000 {
			t.Fatalf("only %d of the box polygons have problem %d: the test does not exercise it", kinds[k], k)
		}
	}
	if valid < n/100 {
		t.Fatalf("only %d valid polygons: the test does not exercise the valid side", valid)
	}
}

// starPolygon is a ring of grid corners sorted by angle round a centre, often with holes
// of the same kind: valid more often than not, with collinear and touching edges.
func starPolygon(rng *rand.Rand) orb.Polygon {
	star := func(cx, cy float64, rad int) orb.Ring {
		type pa struct {
			p orb.Point
			a float64
		}
		var ps []pa
		for range 3 + rng.IntN(10) {
			p := orb.Point{cx + float64(rng.IntN(2*rad+1)-rad)/4, cy + float64(rng.IntN(2*rad+1)-rad)/4}
			ps = append(ps, pa{p, math.Atan2(p[1]-cy, p[0]-cx)})
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i].a < ps[j].a })
		r := orb.Ring{}
		for _, q := range ps {
			r = append(r, q.p)
		}
		return append(r, r[0])
	}
	poly := orb.Polygon{star(100, 20, 8)}
	for range rng.IntN(4) {
		poly = append(poly, star(100+float64(rng.IntN(9)-4)/4, 20+float64(rng.IntN(9)-4)/4, 1+rng.IntN(3)))
	}
	return poly
}

// boxPolygon is a star or a box with boxes and triangles for holes, on a grid: holes inside
// and outside the outer ring and inside each other, touching at corners, are common.
func boxPolygon(rng *rand.Rand) orb.Polygon {
	c := func() float64 { return float64(rng.IntN(17)-8) / 4 }
	box := func() orb.Ring {
		x0, y0, x1, y1 := c(), c(), c(), c()
		if rng.IntN(3) == 0 {
			return ring(100+x0, 20+y0, 100+x1, 20+y0, 100+x1, 20+y1)
		}
		return ring(100+x0, 20+y0, 100+x1, 20+y0, 100+x1, 20+y1, 100+x0, 20+y1)
	}
	poly := orb.Polygon{box()}
	if rng.IntN(2) == 0 {
		poly = orb.Polygon{ring(97.5, 17.5, 102.5, 17.5, 102.5, 22.5, 97.5, 22.5)}
		if rng.IntN(2) == 0 {
			poly = starPolygon(rng)[:1]
		}
	}
	for range 1 + rng.IntN(3) {
		last := poly[len(poly)-1]
		if len(poly) > 1 && rng.IntN(3) == 0 && len(last) == 5 {
			// A box inside the last one, or around it, often touching it at a corner.
			d := 0.25 * float64(1-2*rng.IntN(2))
			x0, y0, x1, y1 := last[0][0], last[0][1], last[2][0], last[2][1]
			if x0 > x1 {
				x0, x1 = x1, x0
			}
			if y0 > y1 {
				y0, y1 = y1, y0
			}
			if rng.IntN(3) == 0 {
				poly = append(poly, ring(x0, y0, x1-d, y0+d, x0+d, y1-d))
			} else {
				poly = append(poly, ring(x0+d, y0+d, x1-d, y0+d, x1-d, y1-d, x0+d, y1-d))
			}
			continue
		}
		poly = append(poly, box())
	}
	return poly
}

func FuzzValidateBoundaries(f *testing.F) {
	for _, s := range [][]byte{
		{0, 1, 0x00, 0x04, 0x44, 0x40},                                                 // a square
		{0, 1, 0x00, 0x22, 0x02, 0x10},                                                 // a bowtie
		{1, 1, 0x00, 0x08, 0x88, 0x80, 0, 0x00, 0x22, 0x20},                            // a hole at a corner
		{1, 1, 0x00, 0x08, 0x88, 0x80, 0, 0x04, 0x22, 0x20},                            // a hole on an edge
		{0, 3, 0x00, 0x04, 0x02, 0x24, 0x20, 0x02},                                     // a ring through a point twice
		{2, 1, 0x00, 0x0c, 0xcc, 0xc0, 0, 0x11, 0x13, 0x31, 0, 0x33, 0x35, 0x53},       // holes sharing a corner
		{1, 1, 0x00, 0x04, 0x44, 0x40, 0, 0x55, 0x57, 0x75},                            // a hole outside
		{2, 1, 0x00, 0x0c, 0xcc, 0xc0, 1, 0x11, 0x19, 0x99, 0x91, 0, 0x33, 0x35, 0x53}, // a hole in a hole
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		poly := gridPolygon(data)
		agree(t, poly)
		if poly != nil {
			// The whole validator must agree with itself: the shape check and then the
			// boundaries.
			err := ValidateGeometry(poly)
			if err != nil && ValidateGeometryShape(poly) == nil && ValidateBoundaries(context.Background(), poly) == nil {
				t.Fatalf("ValidateGeometry refuses what its parts accept: %v", err)
			}
		}
	})
}

// TestCombWorkIsBounded reproduces issue 11: on a comb, whose long teeth all span the same
// x range, the old check compared every pair of teeth (about n²/32 pairs for n vertices).
// The sweep compares a few pairs per vertex, and locates each hole in O(log n) steps (on
// CombWithManyHoles, a check walking the outer ring for each hole would take about n²/18).
func TestCombWorkIsBounded(t *testing.T) {
	for _, s := range adversarial {
		p, ok := s.make(MaxVertices).(orb.Polygon)
		if !ok {
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			crossing, st := sweepCrossing(t, p)
			if crossing {
				t.Fatal("the shape is valid")
			}
			if n := countVertices(p); st.pairs > 4*n {
				t.Fatalf("%d vertices took %d comparisons of two segments, want at most %d", n, st.pairs, 4*n)
			}
			// Locating the holes walks from one edge of each up the tree to its root: with the
			// tree's expected depth under 2 ln n, under 64 steps a hole on average.
			if h := len(p) - 1; st.steps > 64*h {
				t.Fatalf("%d holes took %d steps to locate, want at most %d", h, st.steps, 64*h)
			}
		})
	}
}

// TestCombUnderDeadline validates the 50,000-vertex comb of issue 11 under a deadline
// that the sweep meets by two orders of magnitude even under the race detector; the old
// check took half a minute. The deadline is a limit on the work, not a timing.
func TestCombUnderDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	g := comb(MaxVertices)
	if err := ValidateGeometryShape(g); err != nil {
		t.Fatal(err)
	}
	if err := ValidateBoundaries(ctx, g); err != nil {
		t.Fatalf("want the comb valid, got %v", err)
	}
	// One crossing tooth at the top is found too.
	bad := comb(MaxVertices)
	r := bad[0]
	r[len(r)-4][0] = 102.89 // the last tooth's left end runs out over the spine
	if err := ValidateBoundaries(ctx, bad); err == nil || !strings.Contains(err.Error(), "自相交") {
		t.Fatalf("want a crossing, got %v", err)
	}
}

// TestCombWithHolesOutOfPlace finds one hole out of place among the 8,332 of
// CombWithManyHoles: moved into the gap between two teeth, or with a hole inside it.
func TestCombWithHolesOutOfPlace(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const d = 1e-6
	out := combWithManyHoles(MaxVertices)
	k := len(out) / 2
	for i := range out[k] {
		out[k][i][1] += d // a tooth's hole into the gap above the tooth
	}
	if err := ValidateGeometryShape(out); err != nil {
		t.Fatal(err)
	}
	if err := ValidateBoundaries(ctx, out); err == nil || err.Error() != fmt.Sprintf("第 %d 个环：内环（洞）位于外环之外", k+1) {
		t.Fatalf("want ring %d outside the outer ring, got %v", k+1, err)
	}
	nested := combWithManyHoles(MaxVertices - 4)
	h := nested[k] // a triangle with its right angle at its second corner
	x, y := h[1][0], h[1][1]
	nested = append(nested, orb.Ring{{x - 3e-5, y + d/16}, {x - 1e-5, y + d/16}, {x - 1e-5, y + d/8}, {x - 3e-5, y + d/16}})
	if err := ValidateGeometryShape(nested); err != nil {
		t.Fatal(err)
	}
	if err := ValidateBoundaries(ctx, nested); err == nil || err.Error() != fmt.Sprintf("第 %d 个环：内环（洞）嵌套在另一个内环之中", len(nested)) {
		t.Fatalf("want ring %d nested, got %v", len(nested), err)
	}
}

func TestValidateBoundariesStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := ValidateBoundaries(ctx, comb(MaxVertices))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want the context's error, got %v", err)
	}
}

func TestTooManyVertices(t *testing.T) {
	line := make(orb.LineString, MaxVertices+1)
	for i := range line {
		line[i] = orb.Point{102.9 + float64(i)*1e-6, 24.6}
	}
	for _, g := range []orb.Geometry{line, comb(MaxVertices + 100), orb.MultiPolygon{comb(MaxVertices/2 + 10), comb(MaxVertices/2 + 10)}} {
		err := ValidateGeometry(g)
		if err == nil || !strings.Contains(err.Error(), "顶点过多") || !strings.Contains(err.Error(), "上限 50000 个") {
			t.Fatalf("want 顶点过多, got %v", err)
		}
	}
	if err := ValidateGeometry(line[:MaxVertices]); err != nil {
		t.Fatalf("%d vertices are allowed: %v", MaxVertices, err)
	}
}

func TestUnitValidateListsEveryProblem(t *testing.T) {
	u := &Unit{Geometry: orb.Polygon{ring(0, 0, 2, 2, 2, 0, 0, 1)}}
	err := u.Validate(&Catalog{})
	fields := map[string]bool{}
	for _, f := range ErrorFields(err) {
		fields[f.Field] = true
	}
	if !fields["name"] || !fields["geometry"] {
		t.Fatalf("want problems with name and geometry, got %v", err)
	}
}
