package riskmap

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

// ratCross is (q−p)×(s−r) in exact rational arithmetic.
func ratCross(p, q, r, s orb.Point) int {
	f := func(v float64) *big.Rat { return new(big.Rat).SetFloat64(v) }
	d := func(a, b float64) *big.Rat { return new(big.Rat).Sub(f(a), f(b)) }
	l := new(big.Rat).Mul(d(q[0], p[0]), d(s[1], r[1]))
	rr := new(big.Rat).Mul(d(q[1], p[1]), d(s[0], r[0]))
	return l.Cmp(rr)
}

// TestOrientExact checks orient against exact arithmetic on points on, or a few units in
// the last place off, lines through city coordinates, and on coordinates so small that
// their products leave the normal range.
func TestOrientExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 2))
	nudge := func(v float64) float64 {
		for range rng.IntN(3) {
			if rng.IntN(2) == 0 {
				v = math.Nextafter(v, math.Inf(1))
			} else {
				v = math.Nextafter(v, math.Inf(-1))
			}
		}
		return v
	}
	for i := range 50000 {
		scale, base := 0.01, orb.Point{102.9, 24.6}
		if i%10 == 0 {
			scale, base = 1e-160, orb.Point{0, 0}
		}
		a := orb.Point{base[0] + scale*rng.Float64(), base[1] + scale*rng.Float64()}
		b := orb.Point{base[0] + scale*rng.Float64(), base[1] + scale*rng.Float64()}
		u := rng.Float64()*3 - 1
		c := orb.Point{nudge(a[0] + u*(b[0]-a[0])), nudge(a[1] + u*(b[1]-a[1]))}
		if got, want := orient(a, b, c), ratCross(a, b, a, c); got != want {
			t.Fatalf("orient(%v, %v, %v) = %d, want %d", a, b, c, got, want)
		}
		d := orb.Point{nudge(c[0] + (b[0] - a[0])), nudge(c[1] + (b[1] - a[1]))}
		if got, want := crossSign(a, b, c, d), ratCross(a, b, c, d); got != want {
			t.Fatalf("crossSign(%v, %v, %v, %v) = %d, want %d", a, b, c, d, got, want)
		}
	}
}
