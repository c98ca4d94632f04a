package unitcodec

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"

	"riskmap/pkg/riskmap"
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

// ReadInOrder gives the units of the ranges in the plan's order, whichever worker reads
// them, and ends with the first error, after the units read before it.
func TestReadInOrder(t *testing.T) {
	plan := ReadbackPlan(1, 70, 10) // 7 ranges
	fail := func(err error) error { return fmt.Errorf("read units: %w", err) }
	reader := func(workers int, bad int64) func(int, <-chan struct{}, chan<- Page) {
		return func(w int, stop <-chan struct{}, out chan<- Page) {
			for k := w; k < len(plan); k += workers {
				r := plan[k]
				for lo := r.Lo; lo < min(r.Hi, 71); lo += 4 { // pages of up to 4 units
					var p Page
					for id := lo; id < min(lo+4, r.Hi, 71); id++ {
						if id == bad {
							p.Err = errors.New("bad row")
							break
						}
						p.Units = append(p.Units, &riskmap.Unit{ID: id})
					}
					p.Last = lo+4 >= min(r.Hi, 71)
					select {
					case out <- p:
					case <-stop:
						return
					}
					if p.Err != nil {
						return
					}
				}
			}
		}
	}
	for _, tc := range []struct {
		name    string
		workers int
		bad     int64
		want    int64 // the units read, 1 to want
	}{
		{"OK", 3, 0, 70},
		{"OKOneWorker", 1, 0, 70},
		{"ErrRow", 2, 33, 32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []int64
			var last error
			ReadInOrder(context.Background(), plan, tc.workers, 2, reader(tc.workers, tc.bad), func(u *riskmap.Unit, err error) bool {
				if err != nil {
					last = err
					return false
				}
				got = append(got, u.ID)
				return true
			}, fail)
			if int64(len(got)) != tc.want || (tc.bad != 0) != (last != nil) {
				t.Fatalf("read %d units, error %v; want %d", len(got), last, tc.want)
			}
			for i, id := range got {
				if id != int64(i)+1 {
					t.Fatalf("unit %d is %d", i, id)
				}
			}
		})
	}
	t.Run("ErrCanceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var last error
		n := 0
		ReadInOrder(ctx, plan, 2, 2, reader(2, 0), func(u *riskmap.Unit, err error) bool {
			if err != nil {
				last = err
				return false
			}
			if n++; n == 5 {
				cancel()
			}
			return true
		}, fail)
		if !errors.Is(last, context.Canceled) || n != 5 {
			t.Fatalf("after cancelling at unit 5: read %d, error %v", n, last)
		}
	})
}
