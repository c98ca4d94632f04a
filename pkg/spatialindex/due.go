package spatialindex

import (
	"cmp"
	"math"
	"slices"

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
// along (not ordered by) so that a department's scope is decided without the feature. The
// category and region are numbers of the index's names (Index.nameID), so that the keys hold
// no pointers: a million of them cost the garbage collector nothing to scan.
type dueKey struct {
	day      int32
	category uint32
	region   uint32
	id       int64
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

// nameID is the number of a category or region code in the index's names, given on first
// use. Names are only ever appended, so a snapshot's copy of the list stays true.
func (ix *Index) nameID(name string) uint32 {
	if id, ok := ix.nameIDs[name]; ok {
		return id
	}
	id := uint32(len(ix.names))
	ix.names = append(ix.names, name)
	ix.nameIDs[name] = id
	return id
}

// dueKeys calls fn with each due tree's key of f (none for a due date it has not).
func (ix *Index) dueKeys(f *Feature, fn func(kind DueKind, k dueKey)) {
	for kind := range dueKinds {
		if d := f.dueDay(kind); d > 0 {
			fn(kind, dueKey{category: ix.nameID(f.Category), day: d, id: f.ID, region: ix.nameID(f.RegionCode)})
		}
	}
}

// buildDue fills the (empty) due trees of a freshly loaded index with every unit at once:
// the keys sorted, then appended in order, which costs no search (endBulk).
func (ix *Index) buildDue() {
	if ix.public {
		return
	}
	// Per kind and category, the keys in id order (the order of the scan); a counting sort
	// by day then keeps that order among the keys of one day.
	var buckets [dueKinds][][]dueKey
	ix.byID.Scan(func(_ int64, f *Feature) bool {
		ix.dueKeys(f, func(kind DueKind, k dueKey) {
			for int(k.category) >= len(buckets[kind]) {
				buckets[kind] = append(buckets[kind], nil)
			}
			buckets[kind][k.category] = append(buckets[kind][k.category], k)
		})
		return true
	})
	for kind, byCat := range buckets {
		tr := newDueTree()
		for _, ks := range byCat { // in category number order, as the tree orders them
			for _, k := range sortByDay(ks) {
				tr.Load(k)
			}
		}
		ix.due[kind] = tr
	}
}

// sortByDay orders keys in id order by day, keeping id order within a day: a counting sort
// when the days span less than a few thousand years, as due dates do.
func sortByDay(ks []dueKey) []dueKey {
	if len(ks) < 2 {
		return ks
	}
	lo, hi := ks[0].day, ks[0].day
	for _, k := range ks {
		lo, hi = min(lo, k.day), max(hi, k.day)
	}
	if int64(hi)-int64(lo) >= 1<<20 {
		slices.SortStableFunc(ks, func(a, b dueKey) int { return cmp.Compare(a.day, b.day) })
		return ks
	}
	at := make([]int, int(hi-lo)+2)
	for _, k := range ks {
		at[k.day-lo+1]++
	}
	for i := 1; i < len(at); i++ {
		at[i] += at[i-1]
	}
	out := make([]dueKey, len(ks))
	for _, k := range ks {
		out[at[k.day-lo]] = k
		at[k.day-lo]++
	}
	return out
}

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
func categories(tr *btree.BTreeG[dueKey]) []uint32 {
	var out []uint32
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
	var ids []uint32
	if cats == nil {
		ids = categories(tr)
	} else {
		for _, c := range slices.Compact(slices.Sorted(slices.Values(cats))) {
			if i := slices.Index(s.names, c); i >= 0 {
				ids = append(ids, uint32(i))
			}
		}
	}
	var keys []dueKey
	n := 0
	for _, cat := range ids {
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
			if keep(s.names[k.category], s.names[k.region]) {
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
