package spatialindex

import (
	"time"

	"github.com/tidwall/btree"

	"riskmap/pkg/riskmap"
)

// A unit's Feature says where the unit stands with its review and its full identification
// on the day it was encoded (review_state, review_overdue, reidentify_overdue). The index
// encodes a unit once, when it is indexed; so when the day changes, the features whose
// standing changed that day are encoded again, from the JSON they have and their due dates
// (ReviewDue, ReidentifyDue), without the units: that is the Redater.

// Redater returns a feature's JSON as it reads on the day of today, and whether that
// differs; reviewDue and reidentifyDue are the unit's due days (riskmap.DayNumber), 0 for
// none. featurejson.Redate is the one for the internal Features.
type Redater func(json []byte, reviewDue, reidentifyDue int32, today time.Time) ([]byte, bool)

// SetRedater makes the index keep its features' JSON true to the day (in China) of now:
// the first Snapshot taken on a new day runs Redate in the background. Call it before
// loading.
func (ix *Index) SetRedater(r Redater, now func() time.Time) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.redate, ix.now = r, now
	ix.day.Store(ix.today())
}

// today is the DayNumber of the day in China of the index's clock (0 without one).
func (ix *Index) today() int32 {
	if ix.now == nil {
		return 0
	}
	return riskmap.DayNumber(riskmap.ChinaDay(ix.now()))
}

// maybeRedate starts a background Redate when the day changed and none is running.
func (ix *Index) maybeRedate() {
	if ix.today() == ix.day.Load() || !ix.redating.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer ix.redating.Store(false)
		ix.Redate()
		if ix.redateHit != nil {
			ix.redateHit()
		}
	}()
}

// Redate brings the JSON of every feature to the day of the index's clock and publishes
// the features that changed, each as a change of its own (its tiles do not change: tiles
// carry nothing that depends on the day). It returns how many changed.
func (ix *Index) Redate() int {
	ix.mu.Lock()
	if ix.redate == nil {
		ix.mu.Unlock()
		return 0
	}
	day, snap, loads := ix.today(), ix.cur.Load(), ix.loads
	ix.mu.Unlock()
	// Every document is read back (decompressed) to be redated: about a second for a
	// million units, done on the snapshot, without holding up writers. Under the lock only
	// the features no write has replaced meanwhile change (a write encodes its unit on its
	// own day); after a reload meanwhile, the whole of it again under the lock.
	changed := ix.redated(snap.byID, day)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.loads != loads {
		changed = ix.redated(ix.byID, day)
	}
	kept := changed[:0]
	for _, ch := range changed {
		if cur, ok := ix.byID.Get(ch.Before.ID); ok && cur == ch.Before {
			kept = append(kept, ch)
		}
	}
	changed = kept
	for _, ch := range changed {
		ix.tree.Delete(ch.Before.Bound.Min, ch.Before.Bound.Max, ch.Before)
		ix.tree.Insert(ch.After.Bound.Min, ch.After.Bound.Max, ch.After)
		ix.byID.Set(ch.After.ID, ch.After)
		if ix.during != nil {
			if pc, ok := ix.during[ch.After.ID]; ok && pc.f == ch.Before {
				ix.during[ch.After.ID] = pendingChange{version: pc.version, f: ch.After}
			}
		}
	}
	ix.day.Store(day)
	if len(changed) == 0 {
		return 0
	}
	ix.seq++
	s := ix.publish()
	for _, fn := range ix.listeners {
		for _, ch := range changed {
			ch.Seq = s.seq
			fn(ch)
		}
	}
	return len(changed)
}

// redated returns the features of byID whose JSON reads otherwise on day, redated.
func (ix *Index) redated(byID *btree.Map[int64, *Feature], day int32) []Change {
	today := time.Unix(int64(day-1)*86400, 0).UTC()
	var changed []Change
	var scratch []byte
	byID.Scan(func(_ int64, f *Feature) bool {
		if f.doc == "" { // an index without documents, or a public one: nothing to redate
			return true
		}
		scratch = f.AppendJSON(scratch[:0])
		b, ok := ix.redate(scratch, f.ReviewDue, f.ReidentifyDue, today)
		if !ok {
			return true
		}
		nf := *f
		setDoc(&nf, b, f.src)
		changed = append(changed, Change{Before: f, After: &nf})
		return true
	})
	return changed
}
