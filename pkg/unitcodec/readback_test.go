package unitcodec

import (
	"math"
	"testing"
)

func TestReadbackPlan(t *testing.T) {
	for _, width := range []int{1024, 2000} { // the GeoPackage's and PostGIS's pages
		w := int64(width)
		for _, tc := range []struct {
			lo, hi int64
			ranges int
		}{
			{1, 1, 1},
			{1, w, 1},
			{1, w + 1, 2},
			{5, 3*w + 4, 3},
			{1, 1_000_000, int((1_000_000 + w - 1) / w)},
			{1, 1e12, MaxRanges},
			{1, math.MaxInt64, MaxRanges},
			{math.MaxInt64 - 3, math.MaxInt64, 1},
		} {
			t.Run("OK", func(t *testing.T) {
				plan := ReadbackPlan(tc.lo, tc.hi, width)
				if len(plan) != tc.ranges {
					t.Fatalf("plan(%d, %d, %d): %d ranges, want %d", tc.lo, tc.hi, width, len(plan), tc.ranges)
				}
				if plan[0].Lo != tc.lo || plan[len(plan)-1].Hi != math.MaxInt64 {
					t.Fatalf("plan(%d, %d, %d) = %v…%v does not cover the ids", tc.lo, tc.hi, width, plan[0], plan[len(plan)-1])
				}
				for i, r := range plan {
					if r.Hi <= r.Lo || (i > 0 && r.Lo != plan[i-1].Hi) {
						t.Fatalf("plan(%d, %d, %d): range %d is %v after %v", tc.lo, tc.hi, width, i, r, plan[max(i-1, 0)])
					}
					if i < len(plan)-1 && r.Hi-r.Lo < w {
						t.Fatalf("plan(%d, %d, %d): range %d is %v, narrower than a page", tc.lo, tc.hi, width, i, r)
					}
				}
			})
		}
	}
}
