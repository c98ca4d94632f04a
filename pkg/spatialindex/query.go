package spatialindex

import (
	"container/heap"
	"math"

	"riskmap/pkg/riskmap"
)

// Page is the answer to a unit filter: one page of features, in id order.
type Page struct {
	Features []*Feature
	// Matched is how many features the filter selects in all, ignoring paging.
	Matched int
	// More tells that features beyond the page remain.
	More bool
}

// Find answers a unit filter over the snapshot, which holds no retired unit. With a bbox
// the R-tree finds the candidates and a bounded heap keeps the lowest ids after the cursor;
// without one the id-ordered tree is walked from the cursor.
func (s *Snapshot) Find(f *riskmap.UnitFilter) Page {
	limit := f.Limit
	if limit <= 0 {
		limit = math.MaxInt - 1
	}
	var pg Page
	if f.BBox != nil {
		rest := *f
		rest.BBox = nil // the search tests it
		m := rest.Matcher()
		h := &idHeap{}
		s.Search(*f.BBox, func(ft *Feature) bool {
			if !m.Match(&ft.UnitFacts) {
				return true
			}
			pg.Matched++
			if ft.ID <= f.AfterID {
				return true
			}
			if h.Len() <= limit {
				heap.Push(h, ft)
			} else if ft.ID < (*h)[0].ID {
				(*h)[0] = ft
				heap.Fix(h, 0)
			}
			return true
		})
		pg.More = h.Len() > limit
		if pg.More {
			heap.Pop(h) // the largest is the (limit+1)th: it only tells that more remain
		}
		pg.Features = make([]*Feature, h.Len())
		for i := len(pg.Features) - 1; i >= 0; i-- {
			pg.Features[i] = heap.Pop(h).(*Feature)
		}
		return pg
	}
	m := f.Matcher()
	if m.All() {
		pg.Matched = s.Len()
		s.Ascend(f.AfterID, func(ft *Feature) bool {
			if len(pg.Features) == limit {
				pg.More = true
				return false
			}
			pg.Features = append(pg.Features, ft)
			return true
		})
		return pg
	}
	s.Ascend(0, func(ft *Feature) bool {
		if !m.Match(&ft.UnitFacts) {
			return true
		}
		pg.Matched++
		if ft.ID > f.AfterID {
			if len(pg.Features) < limit {
				pg.Features = append(pg.Features, ft)
			} else {
				pg.More = true
			}
		}
		return true
	})
	return pg
}

// idHeap is a max-heap by id.
type idHeap []*Feature

func (h idHeap) Len() int           { return len(h) }
func (h idHeap) Less(i, j int) bool { return h[i].ID > h[j].ID }
func (h idHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *idHeap) Push(x any)        { *h = append(*h, x.(*Feature)) }
func (h *idHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
