package riskmap

import (
	"math"
	"math/big"

	"github.com/paulmach/orb"
)

// The boundary check decides from the signs of cross products alone, and the sweep in
// sweep.go is only right when those signs are: a sign rounded the wrong way can put a
// segment on the wrong side of another and hide a crossing. So the signs here are exact.
// Most are decided in floating point with Shewchuk's error bound ("Adaptive Precision
// Floating-Point Arithmetic and Fast Robust Geometric Predicates", 1997); only points on
// or within rounding of a line are recomputed exactly.

// orient returns the sign of (b−a)×(c−a): 1 when c lies left of the line from a to b, −1
// when right, 0 when on it.
func orient(a, b, c orb.Point) int {
	if c == a || c == b || a == b {
		return 0 // the commonest case (edges sharing a corner), which the filter cannot decide
	}
	return crossSign(a, b, a, c)
}

// errBoundA bounds the rounding error of the floating-point cross product relative to
// the sum of the magnitudes of its two products (Shewchuk's ccwerrboundA).
const errBoundA = (3 + 16*0x1p-53) * 0x1p-53

// crossSign returns the exact sign of (q−p)×(s−r).
func crossSign(p, q, r, s orb.Point) int {
	dx1, dy1 := q[0]-p[0], q[1]-p[1]
	dx2, dy2 := s[0]-r[0], s[1]-r[1]
	// A difference of two floats has the sign of the exact difference, so each product's
	// sign is exact and products of different signs cannot cancel.
	sl, sr := sgn(dx1)*sgn(dy2), sgn(dy1)*sgn(dx2)
	if sl != sr {
		if sl > sr {
			return 1
		}
		return -1
	}
	if sl == 0 {
		return 0
	}
	left, right := dx1*dy2, dy1*dx2
	det := left - right
	// The constant term covers products that fall below the normal range.
	bound := errBoundA*(math.Abs(left)+math.Abs(right)) + 0x1p-1000
	switch {
	case det > bound:
		return 1
	case det < -bound:
		return -1
	}
	return crossSignExact(p, q, r, s)
}

func sgn(v float64) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// crossSignExact computes (q−p)×(s−r) as a sum of 16 floating-point terms without
// rounding (each difference as two terms, each product of two floats as two terms) and
// returns the sign of that sum.
func crossSignExact(p, q, r, s orb.Point) int {
	x1, x1t := twoDiff(q[0], p[0])
	y1, y1t := twoDiff(q[1], p[1])
	x2, x2t := twoDiff(s[0], r[0])
	y2, y2t := twoDiff(s[1], r[1])
	var terms [16]float64
	n := 0
	ok := true
	prod := func(a, b float64, neg bool) {
		h := a * b
		if a != 0 && b != 0 && math.Abs(h) < 0x1p-900 {
			ok = false // the product's rounding error may not be representable
			return
		}
		l := math.FMA(a, b, -h)
		if neg {
			h, l = -h, -l
		}
		terms[n], terms[n+1] = h, l
		n += 2
	}
	for _, a := range [2]float64{x1, x1t} {
		for _, b := range [2]float64{y2, y2t} {
			prod(a, b, false)
		}
	}
	for _, a := range [2]float64{y1, y1t} {
		for _, b := range [2]float64{x2, x2t} {
			prod(a, b, true)
		}
	}
	if !ok {
		return crossSignBig(p, q, r, s)
	}
	return sumSign(terms[:n])
}

// twoDiff returns a−b as the rounded difference and the exact remainder.
func twoDiff(a, b float64) (x, y float64) {
	x = a - b
	bv := a - x
	av := x + bv
	br := bv - b
	ar := a - av
	return x, ar + br
}

// twoSum returns a+b as the rounded sum and the exact remainder.
func twoSum(a, b float64) (x, y float64) {
	x = a + b
	bv := x - a
	av := x - bv
	br := b - bv
	ar := a - av
	return x, ar + br
}

// sumSign returns the sign of the exact sum of terms. It adds them one by one into an
// expansion of non-overlapping components of increasing magnitude (Shewchuk's
// Grow-Expansion, dropping zeros), whose sign is that of its largest component.
func sumSign(terms []float64) int {
	var e [17]float64
	m := 0
	for _, q := range terms {
		k := 0
		for i := 0; i < m; i++ {
			var h float64
			q, h = twoSum(q, e[i])
			if h != 0 {
				e[k] = h
				k++
			}
		}
		if q != 0 {
			e[k] = q
			k++
		}
		m = k
	}
	if m == 0 {
		return 0
	}
	return sgn(e[m-1])
}

// crossSignBig is crossSign in arbitrary precision, for coordinates so close to zero that
// products of their differences leave the normal floating-point range. Every exact value
// on the way is a multiple of 2⁻²¹⁴⁸ below 2¹⁸, so 2200 bits hold it without rounding.
func crossSignBig(p, q, r, s orb.Point) int {
	f := func(v float64) *big.Float { return new(big.Float).SetPrec(2200).SetFloat64(v) }
	sub := func(a, b float64) *big.Float { return f(a).Sub(f(a), f(b)) }
	dx1, dy1 := sub(q[0], p[0]), sub(q[1], p[1])
	dx2, dy2 := sub(s[0], r[0]), sub(s[1], r[1])
	l := f(0).Mul(dx1, dy2)
	rr := f(0).Mul(dy1, dx2)
	return l.Cmp(rr)
}
