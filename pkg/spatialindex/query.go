package spatialindex

import (
	"cmp"
	"math"
	"slices"

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
// the R-tree finds the candidates and the lowest ids after the cursor are kept (findIn);
// without one the id-ordered tree is walked from the cursor.
func (s *Snapshot) Find(f *riskmap.UnitFilter) Page {
	limit := f.Limit
	if limit <= 0 {
		limit = math.MaxInt - 1
	}
	var pg Page
	if f.BBox != nil {
		return s.findIn(f, limit)
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

// findBatch is how many of a box's candidates are read together: enough for the processor
// to have many misses in flight, few enough that they are still in its caches when tested.
const findBatch = 256

// findIn answers a filter with a bbox. The R-tree's leaves hold each candidate's box, so
// the candidates are taken from it without reading them; then, a batch at a time, their
// features and the geometry of those not wholly inside the box are read in plain loops
// whose loads do not depend on one another (Warm), before they are tested one by one from
// cache (a filter of the box alone reads only the geometry of those not wholly inside). A
// small box's candidates are scattered over memory at a million units, and testing them in
// the order the tree gives waited on memory for each in turn (issue 18). The lowest ids
// after the cursor are kept: the matches are gathered and, whenever they reach twice the
// page (at least 512), sorted and cut back to it; an id above the last one kept then cannot
// be in the page and is only counted.
func (s *Snapshot) findIn(f *riskmap.UnitFilter, limit int) Page {
	var pg Page
	b := *f.BBox
	rest := *f
	rest.BBox = nil // tested here
	m := rest.Matcher()
	all := m.All()
	trimAt := math.MaxInt // no limit: every match is kept
	keep := limit         // one more than the page tells that more remain
	if limit < math.MaxInt/2 {
		keep = limit + 1
		trimAt = max(2*keep, 2*findBatch)
	}
	var kept []idFeature
	cutoff := int64(math.MaxInt64) // after a trim: an id above it cannot be in the page
	type candidate struct {
		f      *Feature
		inside bool
	}
	batch := make([]candidate, 0, findBatch)
	fs := make([]*Feature, 0, findBatch)
	flush := func() {
		fs = fs[:0]
		for _, c := range batch {
			if !c.inside {
				fs = append(fs, c.f)
			}
		}
		warmGeometry(fs)
		if !all {
			fs = fs[:0]
			for _, c := range batch {
				fs = append(fs, c.f)
			}
			warmFacts(fs)
		}
		for _, c := range batch {
			ft := c.f
			if !c.inside && !riskmap.IntersectsBound(ft.Geometry, b) {
				continue
			}
			if !all && !m.Match(&ft.UnitFacts) {
				continue
			}
			pg.Matched++
			if ft.ID <= f.AfterID || ft.ID > cutoff {
				continue
			}
			kept = append(kept, idFeature{ft.ID, ft})
			if len(kept) >= trimAt {
				sortByID(kept)
				kept = kept[:keep]
				cutoff = kept[keep-1].id
			}
		}
		batch = batch[:0]
	}
	s.tree.Search(b.Min, b.Max, func(min, max [2]float64, ft *Feature) bool {
		// The tree's copy of the feature's box: a feature inside b needs no test.
		batch = append(batch, candidate{ft, b.Contains(min) && b.Contains(max)})
		if len(batch) == findBatch {
			flush()
		}
		return true
	})
	flush()
	sortByID(kept)
	if len(kept) > limit {
		pg.More = true
		kept = kept[:limit]
	}
	pg.Features = make([]*Feature, len(kept))
	for i, k := range kept {
		pg.Features[i] = k.f
	}
	return pg
}

// idFeature is a feature with its id beside it, to sort without reading the feature.
type idFeature struct {
	id int64
	f  *Feature
}

// SortByID sorts fs by id, reading each feature once.
func SortByID(fs []*Feature) {
	keys := make([]idFeature, len(fs))
	for i, f := range fs {
		keys[i] = idFeature{f.ID, f}
	}
	sortByID(keys)
	for i, k := range keys {
		fs[i] = k.f
	}
}

func sortByID(fs []idFeature) {
	slices.SortFunc(fs, func(a, b idFeature) int { return cmp.Compare(a.id, b.id) })
}
