package riskmap

import (
	"context"
	"errors"
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

// sweepCrossing is the new check on one polygon, with its work counted.
func sweepCrossing(t testing.TB, poly orb.Polygon) (bool, sweepStats) {
	t.Helper()
	var st sweepStats
	_, ok, err := findCrossing(context.Background(), poly, &st)
	if err != nil {
		t.Fatal(err)
	}
	return ok, st
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
	cases := []struct {
		name string
		g    orb.Geometry
		ok   bool
	}{
		{"OKSquare", orb.Polygon{square}, true},
		{"OKRepeatedPosition", orb.Polygon{ring(0, 0, 4, 0, 4, 0, 4, 4, 0, 4)}, true},
		{"OKStraightCorner", orb.Polygon{ring(0, 0, 2, 0, 4, 0, 4, 4, 0, 4)}, true},
		{"OKHole", orb.Polygon{square, ring(1, 1, 2, 1, 2, 2)}, true},
		{"OKHoleTouchesShellCorner", orb.Polygon{square, ring(0, 0, 2, 1, 1, 2)}, true},
		{"OKHolesShareCorner", orb.Polygon{square, ring(1, 1, 2, 1, 2, 2), ring(2, 2, 3, 2, 3, 3)}, true},
		{"OKVerticalEdges", orb.Polygon{ring(0, 0, 1, 0, 1, 1, 2, 1, 2, 0, 3, 0, 3, 3, 0, 3)}, true},
		{"OKMultiPolygonPartsOverlap", orb.MultiPolygon{{square}, {ring(1, 1, 5, 1, 5, 5)}}, true},
		{"ErrBowtie", orb.Polygon{ring(0, 0, 2, 2, 2, 0, 0, 1)}, false},
		{"ErrRingPinched", orb.Polygon{ring(0, 0, 2, 0, 1, 1, 2, 2, 0, 2, 1, 1)}, false},
		{"ErrSpike", orb.Polygon{ring(0, 0, 4, 0, 4, 4, 4, 2)}, false},
		{"ErrFoldBack", orb.Polygon{ring(0, 0, 4, 0, 2, 0, 2, 3)}, false},
		{"ErrCornerOnEdge", orb.Polygon{ring(0, 0, 4, 0, 4, 4, 2, 0, 0, 4)}, false},
		{"ErrHoleCornerOnShellEdge", orb.Polygon{square, ring(2, 0, 3, 1, 1, 1)}, false},
		{"ErrHoleSharesShellEdge", orb.Polygon{square, ring(0, 0, 4, 0, 2, 2)}, false},
		{"ErrHoleCrossesShell", orb.Polygon{square, ring(3, 1, 5, 1, 5, 2)}, false},
		{"ErrHolesCross", orb.Polygon{square, ring(1, 1, 3, 1, 3, 2), ring(2, 0.5, 2.5, 0.5, 2.5, 3)}, false},
		{"ErrVerticalOverlap", orb.Polygon{square, ring(0, 1, 1, 2, 0, 3)}, false},
		{"ErrSecondPartCrosses", orb.MultiPolygon{{square}, {ring(10, 10, 12, 12, 12, 10, 10, 11)}}, false},
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
			if err != nil && !strings.Contains(err.Error(), "crosses or touches") {
				t.Fatalf("the message must say what is wrong: %v", err)
			}
			old := false
			for _, p := range polygons(tc.g) {
				_, crossing := quadraticCrossing(p)
				old = old || crossing
			}
			if old == tc.ok {
				t.Fatalf("the quadratic check disagrees: crossing=%v", old)
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
	_, want := quadraticCrossing(poly)
	got, _ := sweepCrossing(t, poly)
	if got != want {
		t.Fatalf("sweep says crossing=%v, quadratic check says %v, for %v", got, want, poly)
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

func FuzzValidateBoundaries(f *testing.F) {
	for _, s := range [][]byte{
		{0, 1, 0x00, 0x04, 0x44, 0x40},                                           // a square
		{0, 1, 0x00, 0x22, 0x02, 0x10},                                           // a bowtie
		{1, 1, 0x00, 0x08, 0x88, 0x80, 0, 0x00, 0x22, 0x20},                      // a hole at a corner
		{1, 1, 0x00, 0x08, 0x88, 0x80, 0, 0x04, 0x22, 0x20},                      // a hole on an edge
		{0, 3, 0x00, 0x04, 0x02, 0x24, 0x20, 0x02},                               // a ring through a point twice
		{2, 1, 0x00, 0x0c, 0xcc, 0xc0, 0, 0x11, 0x13, 0x31, 0, 0x33, 0x35, 0x53}, // holes sharing a corner
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
// The sweep compares a few pairs per vertex.
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
	if err := ValidateBoundaries(ctx, bad); err == nil || !strings.Contains(err.Error(), "crosses") {
		t.Fatalf("want a crossing, got %v", err)
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
