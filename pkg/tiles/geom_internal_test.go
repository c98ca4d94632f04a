package tiles

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/maptile"
)

// TestReduceKeepsClipResult: dropping the vertices that lie beyond one side of the tile
// with both neighbours (to project fewer points) draws exactly what projecting and clipping
// every vertex draws, for random lines and rings around a tile.
func TestReduceKeepsClipResult(t *testing.T) {
	tile := maptile.At(orb.Point{102.9, 24.6}, 15)
	opt := Options{}.withDefaults()
	p := newProjector(tile, opt)
	n := math.Exp2(float64(tile.Z))
	ll := func(fx, fy float64) orb.Point {
		x, y := (float64(tile.X)+fx)/n, (float64(tile.Y)+fy)/n
		return orb.Point{x*360 - 180, math.Atan(math.Sinh(math.Pi*(1-2*y))) * 180 / math.Pi}
	}
	// reference projects every vertex, then clips in tile units.
	referenceLine := func(l orb.LineString) orb.MultiLineString {
		pts := make(orb.LineString, len(l))
		for i, q := range l {
			pts[i] = p.project(q)
		}
		var out orb.MultiLineString
		for _, part := range clip.LineString(p.box, pts) {
			part = orb.LineString(roundDedupe(p.simplify(part)))
			if len(part) >= 2 {
				out = append(out, part)
			}
		}
		return out
	}
	referenceRing := func(r orb.Ring) float64 {
		pts := make(orb.Ring, len(r))
		for i, q := range r {
			pts[i] = p.project(q)
		}
		pts = clip.Ring(p.box, pts)
		if pts == nil {
			return 0
		}
		return math.Abs(ringArea(orb.Ring(roundDedupe(p.simplify(pts)))))
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		// A random walk from somewhere around the tile, with long strides.
		k := 3 + rnd.IntN(40)
		fx, fy := rnd.Float64()*5-2, rnd.Float64()*5-2
		line := make(orb.LineString, k)
		for j := range line {
			line[j] = ll(fx, fy)
			fx += rnd.NormFloat64() * 0.8
			fy += rnd.NormFloat64() * 0.8
		}
		got := p.line(nil, line)
		want := referenceLine(line)
		if !equalLines(got, want) {
			t.Fatalf("line %d: reduced %v, reference %v", i, got, want)
		}
		ring := append(orb.Ring(nil), line...)
		ring = append(ring, ring[0])
		gotRing := p.ring(ring)
		if a, b := math.Abs(ringArea(gotRing)), referenceRing(ring); math.Abs(a-b) > 1e-6*math.Max(1, b) && !(gotRing == nil && b == 0) {
			t.Fatalf("ring %d: reduced area %v, reference %v", i, a, b)
		}
	}
}

func equalLines(a, b orb.MultiLineString) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

// TestClipMatchesOrb: the projector's clipping, which writes into reused buffers, gives
// exactly what orb's clip package gives, point for point, for random lines and rings
// (closed and not) around the buffered tile, several to a feature as a multi-part
// geometry has them.
func TestClipMatchesOrb(t *testing.T) {
	p := newProjector(maptile.New(0, 0, 15), Options{}.withDefaults())
	rnd := rand.New(rand.NewPCG(3, 4))
	walk := func() []orb.Point {
		k := 1 + rnd.IntN(30)
		x, y := rnd.Float64()*8000-2000, rnd.Float64()*8000-2000
		pts := make([]orb.Point, k)
		for j := range pts {
			pts[j] = orb.Point{x, y}
			x += rnd.NormFloat64() * 2000
			y += rnd.NormFloat64() * 2000
			if rnd.IntN(8) == 0 {
				x = math.Round(x) // on the box's sides now and then
			}
		}
		return pts
	}
	var before, beforeWant []orb.MultiLineString // the parts drawn so far for this feature
	grown := 0                                   // rings that outgrew the room taken for them
	for i := 0; i < 5000; i++ {
		if i%4 == 0 {
			p.arena = p.arena[:0] // a new feature
			before, beforeWant = before[:0], beforeWant[:0]
		}
		line := walk()
		want := clip.LineString(p.box, append(orb.LineString(nil), line...))
		got := p.clipLine(nil, append(p.take(len(line)), line...))
		if !equalLines(got, want) {
			t.Fatalf("line %d %v: got %v, want %v", i, line, got, want)
		}
		ring := walk()
		if i%5 == 0 {
			// A ring that zigzags across the west side: clipping adds a point at each
			// crossing, more than the room taken for it.
			ring = ring[:0]
			k := 10 + rnd.IntN(40)
			for j := range k {
				d := 50 + rnd.Float64()*200
				if j%2 == 1 {
					d = -d
				}
				ring = append(ring, orb.Point{p.box.Min[0] + d, p.box.Min[1] + float64(j)*(p.box.Max[1]-p.box.Min[1])/float64(k)})
			}
		}
		if rnd.IntN(2) == 0 {
			ring = append(ring, ring[0])
		}
		wantRing := clip.Ring(p.box, append(orb.Ring(nil), ring...))
		gotRing := p.clipRing(append(p.take(len(ring)+1), ring...))
		if len(gotRing) > len(ring)+8 {
			grown++
		}
		if !equalLines(orb.MultiLineString{orb.LineString(gotRing)}, orb.MultiLineString{orb.LineString(wantRing)}) {
			t.Fatalf("ring %d %v: got %v, want %v", i, ring, gotRing, wantRing)
		}
		before = append(before, got, orb.MultiLineString{orb.LineString(gotRing)})
		beforeWant = append(beforeWant, want, orb.MultiLineString{orb.LineString(wantRing)})
		for k := range before {
			if !equalLines(before[k], beforeWant[k]) {
				t.Fatalf("step %d: an earlier part of the feature was overwritten: %v, want %v", i, before[k], beforeWant[k])
			}
		}
	}
	if grown == 0 {
		t.Fatal("no ring outgrew the room taken for it: the test no longer covers that path")
	}
}
