package spatialindex

import (
	"cmp"
	"math"
	"slices"
	"unique"

	"github.com/tidwall/btree"
)

// The supervision view (督办) lists the units whose review is past due and those not
// identified anew in time, most overdue first, with how many there are. Walking every unit
// for that costs tens of milliseconds at a million units; so the index keeps, for each kind
// of due date, the units ordered by category, due day and id, maintained with every change
// (copy-on-write like the other trees, so a snapshot's copy costs nothing). The units past
// due in a category are then a prefix of its range: counted by rank, listed by taking the
// first ones.

// DueKind is a kind of due date the index orders units by.
type DueKind int

const (
	// DueReview is the unit's next review (NextReviewDue, 下次复核).
	DueReview DueKind = iota
	// DueReidentify is the unit's next full identification (全面辨识, ReidentifyDue).
	DueReidentify
	dueKinds
)

// dueKey is a unit in a due tree: ordered by category, due day, id. Its region code comes
// along (not ordered by) so that a department's scope is decided without the feature.
type dueKey struct {
	category string
	day      int32
	id       int64
	region   string
}

func dueLess(a, b dueKey) bool {
	if a.category != b.category {
		return a.category < b.category
	}
	if a.day != b.day {
		return a.day < b.day
	}
	return a.id < b.id
}

func newDueTree() *btree.BTreeG[dueKey] { return btree.NewBTreeG(dueLess) }

// dueDay is the feature's due day of kind (riskmap.DayNumber), 0 for none.
func (f *Feature) dueDay(kind DueKind) int32 {
	if kind == DueReview {
		return f.ReviewDue
	}
	return f.ReidentifyDue
}

// dueKeys calls fn with each due tree's key of f (none for a due date it has not).
func dueKeys(f *Feature, fn func(kind DueKind, k dueKey)) {
	for kind := range dueKinds {
		if d := f.dueDay(kind); d > 0 {
			fn(kind, dueKey{category: intern(f.Category), day: d, id: f.ID, region: intern(f.RegionCode)})
		}
	}
}

// intern returns the one copy of s that every key shares: a department's walk compares
// categories and region codes of many keys, which then read the same few strings instead of
// one string of each unit's own (a cache miss each).
func intern(s string) string { return unique.Make(s).Value() }

// rank is how many keys of tr are less than k.
func rank(tr *btree.BTreeG[dueKey], k dueKey) int {
	lo, hi := 0, tr.Len()
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if it, _ := tr.GetAt(mid); dueLess(it, k) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// categories are the categories present in tr, in order.
func categories(tr *btree.BTreeG[dueKey]) []string {
	var out []string
	k, ok := tr.Min()
	for ok {
		out = append(out, k.category)
		ok = false
		tr.Ascend(dueKey{category: k.category, day: math.MaxInt32, id: math.MaxInt64}, func(n dueKey) bool {
			if n.category == k.category {
				return true
			}
			k, ok = n, true
			return false
		})
	}
	return out
}

// PastDue returns the units whose due date of kind lies before day (a riskmap.DayNumber),
// the longest past due first (then by id), at most limit of them, and how many there are in
// all. Only units of the categories given count (nil: every category), and of those, when
// keep is not nil, only the ones keep accepts by category and region code (a department's
// scope, riskmap.User.InScope). Without keep the count costs a few lookups per category;
// with it, a walk over the category's units past due.
func (s *Snapshot) PastDue(kind DueKind, day int32, cats []string, keep func(category, regionCode string) bool, limit int) ([]*Feature, int) {
	tr := s.due[kind]
	if tr == nil || day <= 1 {
		return nil, 0
	}
	if cats == nil {
		cats = categories(tr)
	} else {
		cats = slices.Compact(slices.Sorted(slices.Values(cats)))
	}
	var keys []dueKey
	n := 0
	for _, cat := range cats {
		lo, hi := dueKey{category: cat, day: 1, id: math.MinInt64}, dueKey{category: cat, day: day, id: math.MinInt64}
		taken := 0
		if keep == nil {
			n += rank(tr, hi) - rank(tr, lo)
			if limit <= 0 {
				continue
			}
			tr.Ascend(lo, func(k dueKey) bool {
				if !dueLess(k, hi) {
					return false
				}
				keys = append(keys, k)
				taken++
				return taken < limit
			})
			continue
		}
		tr.Ascend(lo, func(k dueKey) bool {
			if !dueLess(k, hi) {
				return false
			}
			if keep(k.category, k.region) {
				n++
				if taken < limit {
					keys = append(keys, k)
					taken++
				}
			}
			return true
		})
	}
	slices.SortFunc(keys, func(a, b dueKey) int {
		if a.day != b.day {
			return cmp.Compare(a.day, b.day)
		}
		return cmp.Compare(a.id, b.id)
	})
	if len(keys) > limit {
		keys = keys[:max(limit, 0)]
	}
	out := make([]*Feature, 0, len(keys))
	for _, k := range keys {
		if f, ok := s.byID.Get(k.id); ok {
			out = append(out, f)
		}
	}
	return out, n
}
