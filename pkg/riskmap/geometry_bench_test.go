package riskmap

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

// The adversarial shapes of issue 11: every one has about n vertices and is valid, so a
// validator must look at all of it. Coordinates are near 澄江市 and not on a binary grid,
// as a client's would be.

// comb is a polygon of long horizontal teeth over the same x range, joined by a spine: a
// sweep over x that compares every edge with the edges whose x ranges overlap it compares
// every pair of teeth.
func comb(n int) orb.Polygon {
	const x0, spine, x1, y0, d = 102.9, 102.90001, 102.95, 24.6, 1e-6
	teeth := (n - 4) / 4
	r := make(orb.Ring, 0, 4*teeth+4)
	for i := 0; i < teeth; i++ {
		lo, hi := y0+float64(2*i)*d, y0+float64(2*i+1)*d
		r = append(r, orb.Point{spine, lo}, orb.Point{x1, lo}, orb.Point{x1, hi}, orb.Point{spine, hi})
	}
	top := y0 + float64(2*teeth-1)*d
	r = append(r, orb.Point{x0, top}, orb.Point{x0, y0}, r[0])
	return orb.Polygon{r}
}

// zigzagPolygon is a polygon whose long edges run back and forth over the same x range,
// each from one side to the other, closed along a side.
func zigzagPolygon(n int) orb.Polygon {
	const x0, x1, y0, d = 102.9, 102.95, 24.6, 1e-6
	m := n - 3
	r := make(orb.Ring, 0, n)
	for i := 0; i < m; i++ {
		x := x0
		if i%2 == 1 {
			x = x1
		}
		r = append(r, orb.Point{x, y0 + float64(i)*d})
	}
	top := y0 + float64(m-1)*d
	r = append(r, orb.Point{x0 - 0.01, top}, orb.Point{x0 - 0.01, y0}, r[0])
	return orb.Polygon{r}
}

// zigzagLine is a line of n vertices back and forth over the same x range.
func zigzagLine(n int) orb.LineString {
	l := zigzagPolygon(n + 3)[0]
	return orb.LineString(l[:n])
}

// spiral is a band wound round a centre: the arm going out and the arm coming back lie
// close together on every turn.
func spiral(n int) orb.Polygon {
	const cx, cy, scale = 102.9, 24.6, 1e-3
	half := (n - 1) / 2
	turns := 50.0
	arm := func(i int, off float64) orb.Point {
		th := 2 * math.Pi * turns * float64(i) / float64(half-1)
		r := 1 + th/(2*math.Pi) + off
		return orb.Point{cx + scale*r*math.Cos(th), cy + scale*r*math.Sin(th)}
	}
	r := make(orb.Ring, 0, 2*half+1)
	for i := 0; i < half; i++ {
		r = append(r, arm(i, 0))
	}
	for i := half - 1; i >= 0; i-- {
		r = append(r, arm(i, 0.5))
	}
	return orb.Polygon{append(r, r[0])}
}

// manyHoles is a square with thin holes stacked inside it, each as wide as the square.
func manyHoles(n int) orb.Polygon {
	const x0, x1, y0, d = 102.9, 102.95, 24.6, 1e-6
	holes := (n - 5) / 5
	top := y0 + float64(2*holes+2)*d
	p := orb.Polygon{{{x0, y0}, {x1, y0}, {x1, top}, {x0, top}, {x0, y0}}}
	for i := 0; i < holes; i++ {
		lo, hi := y0+float64(2*i+1)*d, y0+float64(2*i+2)*d
		p = append(p, orb.Ring{{x0 + 1e-4, lo}, {x0 + 1e-4, hi}, {x1 - 1e-4, hi}, {x1 - 1e-4, lo}, {x0 + 1e-4, lo}})
	}
	return p
}

// fanOfHoles is a square with thin triangular holes that all touch its corner, fanned out
// between its sides: every edge of every hole starts at that one point.
func fanOfHoles(n int) orb.Polygon {
	const x0, y0, side, radius = 102.9, 24.6, 0.1, 0.05
	p := orb.Polygon{{{x0, y0}, {x0 + side, y0}, {x0 + side, y0 + side}, {x0, y0 + side}, {x0, y0}}}
	holes := (n - 5) / 4
	at := func(k int) orb.Point {
		th := math.Pi / 2 * float64(k+1) / float64(2*holes+1)
		return orb.Point{x0 + radius*math.Cos(th), y0 + radius*math.Sin(th)}
	}
	for i := 0; i < holes; i++ {
		p = append(p, orb.Ring{{x0, y0}, at(2 * i), at(2*i + 1), {x0, y0}})
	}
	return p
}

// combWithManyHoles is a comb whose every tooth holds two thin triangular holes side by
// side, each half as long as the tooth: a check that located each hole by walking the
// shell's boundary would walk about n/3 edges for each of about n/6 holes. (n positions
// hold at most n/4 holes, as a hole needs 3 corners and its first one repeated.)
func combWithManyHoles(n int) orb.Polygon {
	const x0, spine, x1, y0, d = 102.9, 102.90001, 102.95, 24.6, 1e-6
	teeth := (n - 3) / 12
	r := make(orb.Ring, 0, 4*teeth+3)
	p := orb.Polygon{nil}
	mid := (spine + x1) / 2
	for i := 0; i < teeth; i++ {
		lo, hi := y0+float64(2*i)*d, y0+float64(2*i+1)*d
		r = append(r, orb.Point{spine, lo}, orb.Point{x1, lo}, orb.Point{x1, hi}, orb.Point{spine, hi})
		a, b := lo+d/4, hi-d/4
		p = append(p,
			orb.Ring{{spine + 1e-5, a}, {mid - 1e-5, a}, {mid - 1e-5, b}, {spine + 1e-5, a}},
			orb.Ring{{mid + 1e-5, a}, {x1 - 1e-5, a}, {x1 - 1e-5, b}, {mid + 1e-5, a}})
	}
	top := y0 + float64(2*teeth-1)*d
	r = append(r, orb.Point{x0, top}, orb.Point{x0, y0}, r[0])
	p[0] = r
	return p
}

// adversarial are the shapes the validator must check in milliseconds at the vertex limit.
var adversarial = []struct {
	name string
	make func(n int) orb.Geometry
}{
	{"Comb", func(n int) orb.Geometry { return comb(n) }},
	{"ZigzagPolygon", func(n int) orb.Geometry { return zigzagPolygon(n) }},
	{"ZigzagLine", func(n int) orb.Geometry { return zigzagLine(n) }},
	{"Spiral", func(n int) orb.Geometry { return spiral(n) }},
	{"ManyHoles", func(n int) orb.Geometry { return manyHoles(n) }},
	{"FanOfHoles", func(n int) orb.Geometry { return fanOfHoles(n) }},
	{"CombWithManyHoles", func(n int) orb.Geometry { return combWithManyHoles(n) }},
}

// BenchmarkValidateGeometry validates each adversarial shape at the vertex limit; issue 11
// asks for each under 50 ms.
func BenchmarkValidateGeometry(b *testing.B) {
	for _, s := range adversarial {
		g := s.make(MaxVertices)
		if n := countVertices(g); n > MaxVertices || n < MaxVertices-10 {
			b.Fatalf("%s: %d vertices, want about %d", s.name, n, MaxVertices)
		}
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := ValidateGeometry(g); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
