package unitcodec

import "math"

// A store reads the whole register back (Units, at every start) on several connections at
// once: the id space is cut into ranges, each connection reads its share of them, and the
// caller takes the ranges in order, so units still arrive ordered by id.

// MaxRanges bounds the number of ranges of a plan: ids spread over a huge space are read
// in wider ranges, each in pages, rather than in very many mostly empty ones.
const MaxRanges = 4096

// IDRange is a range of ids [Lo, Hi).
type IDRange struct{ Lo, Hi int64 }

// ReadbackPlan cuts the ids from lo to hi (both included, hi ≥ lo) into ranges of at least
// width ids and at most MaxRanges ranges. The last range is open at the top, so that units
// added meanwhile may be seen, as with any reading in pages.
func ReadbackPlan(lo, hi int64, width int) []IDRange {
	span := uint64(hi-lo) + 1 // at most 2⁶⁴ - 1 as ids are positive
	w := uint64(width)
	if n := (span + w - 1) / w; n > MaxRanges {
		w = (span + MaxRanges - 1) / MaxRanges
	}
	var plan []IDRange
	for start := uint64(0); ; start += w {
		if span-start <= w {
			return append(plan, IDRange{Lo: lo + int64(start), Hi: math.MaxInt64})
		}
		plan = append(plan, IDRange{Lo: lo + int64(start), Hi: lo + int64(start+w)})
	}
}
