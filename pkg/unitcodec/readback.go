package unitcodec

import (
	"context"
	"math"
	"sync"

	"riskmap/pkg/riskmap"
)

// A store reads the whole register back (Units, at every start) on several connections at
// once, because one connection keeps one side busy while the other waits: the id space is
// cut into ranges, worker w reads ranges w, w+workers, … and decodes them, and the caller's
// goroutine takes the ranges in order, so units still arrive ordered by id.

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

// Page is units of one range of a plan, in id order. Last marks the range's last page; a
// page with an error ends the reading after its units.
type Page struct {
	Units []*riskmap.Unit
	Err   error
	Last  bool
}

// ReadInOrder reads plan on workers goroutines and passes its units to yield in the plan's
// order. read(w, stop, out) sends the pages of ranges w, w+workers, … of plan to out, in
// order, until the last range, an error page, stop or ctx's end; out holds ahead pages
// beyond the one the caller is on, and is closed when read returns.
//
// Closing stop, not a cancelled context, ends the workers when yield returns false: a
// query in flight then finishes normally and its connection stays usable. When ctx ends,
// or a worker stops before its range's last page, yield gets fail(ctx's error).
// ReadInOrder returns when every worker has: no query outlives the iteration.
func ReadInOrder(ctx context.Context, plan []IDRange, workers, ahead int,
	read func(w int, stop <-chan struct{}, out chan<- Page),
	yield func(*riskmap.Unit, error) bool, fail func(error) error) {
	stop := make(chan struct{})
	pages := make([]chan Page, workers)
	var wg sync.WaitGroup
	for w := range pages {
		pages[w] = make(chan Page, ahead)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(pages[w])
			read(w, stop, pages[w])
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	done := ctx.Done()
	for k := range plan {
		for {
			p, ok := <-pages[k%workers]
			if !ok {
				// The worker stopped before the range's last page: the caller's context ended.
				err := ctx.Err()
				if err == nil {
					err = context.Canceled
				}
				yield(nil, fail(err))
				return
			}
			// The worker may be far ahead; a cancelled caller stops here, not at the end.
			if err := ctx.Err(); err != nil {
				yield(nil, fail(err))
				return
			}
			for _, u := range p.Units {
				// A page is thousands of units: a caller that cancels stops within it.
				select {
				case <-done:
					yield(nil, fail(ctx.Err()))
					return
				default:
				}
				if !yield(u, nil) {
					return
				}
			}
			if p.Err != nil { // after the units read before it
				yield(nil, p.Err)
				return
			}
			if p.Last {
				break
			}
		}
	}
}
