// Package spatialindex keeps every active unit in memory, in an R-tree, so that tiles,
// bounding-box queries, lists and statistics are served without the database. Readers take
// an immutable Snapshot and never wait for writers: a writer changes a private copy-on-write
// master (tidwall/rtree and tidwall/btree copy only the nodes they touch) and publishes a new
// snapshot atomically.
package spatialindex

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"
	"github.com/tidwall/btree"
	"github.com/tidwall/rtree"

	"riskmap/pkg/riskmap"
)

// Feature is what the index keeps of a unit: enough to draw it, filter it and list it.
// Features are immutable once indexed.
type Feature struct {
	ID int64
	// UnitFacts are what a riskmap.UnitFilter tests: code, name, category, region code,
	// department, grade, status, geometry and its bounding box. What a tile draws comes
	// first, with the id (riskmap.UnitFacts).
	riskmap.UnitFacts
	Version int64
	// CountCode is the region code the unit is counted under: its grid's code when its
	// representative point lies in a grid of its own region, else its region code.
	CountCode string
	// ReidentifyDue is the day (riskmap.DayNumber) the unit's next full identification
	// is due, 0 for none: with ReviewDue, what Redate needs to bring JSON to another day.
	ReidentifyDue int32
	// doc is the unit's GeoJSON Feature, encoded once when it is indexed (and again by
	// Redate when what it says depends on the day and the day changes), kept as src says
	// (doc.go): compressed, or not at all in a public index, whose documents are written
	// from the facts. AppendJSON and JSON read it. A string, not a slice: a feature
	// then takes 256 bytes, a size class below 288.
	doc string
	src *docSource
}

// Encoder appends a unit's JSON, as its Feature keeps it, to dst.
type Encoder func(dst []byte, u *riskmap.Unit) ([]byte, error)

// Writer appends a unit's JSON to dst written from the facts an index keeps of it (its id
// and riskmap.UnitFacts), for an index that keeps no documents (NewPublic).
type Writer func(dst []byte, id int64, f *riskmap.UnitFacts) []byte

// CellZoom is the Web Mercator zoom whose tiles are the cells of the aggregate grid: about
// 300 m at the latitude of the demo city.
const CellZoom = 17

// Cell is the per-grade count of the units whose representative point falls in one cell of
// the aggregate grid, and the sum of those points, so that a cluster sits at their centroid.
type Cell struct {
	Counts     [4]int32 // red, orange, yellow, blue
	SumX, SumY float64
}

// Total is the number of units in the cell.
func (c Cell) Total() int {
	return int(c.Counts[0] + c.Counts[1] + c.Counts[2] + c.Counts[3])
}

// Highest is the highest grade present.
func (c Cell) Highest() riskmap.Grade {
	for i, n := range c.Counts {
		if n > 0 {
			return riskmap.Grades[i]
		}
	}
	return ""
}

// CountKey groups counts by exact region code (a unit's CountCode) and category.
type CountKey struct {
	RegionCode string
	Category   string
}

// count is the per-grade count of one CountKey, as the counts tree keeps it.
type count struct {
	key CountKey
	n   [4]int
}

// compareCounts orders counts by region code, then category: the counts tree's order.
func compareCounts(a, b count) int {
	return cmp.Or(strings.Compare(a.key.RegionCode, b.key.RegionCode), strings.Compare(a.key.Category, b.key.Category))
}

// newCounts returns an empty counts tree: a copy-on-write B-tree, so that a snapshot shares
// it with the master until a write changes a count, and the write then copies the path to
// that count (a few kilobytes), not every count (about 900 region × category keys in the
// synthetic city, 90 KB as a map).
func newCounts() *btree.BTreeG[count] {
	return btree.NewBTreeGOptions(func(a, b count) bool { return compareCounts(a, b) < 0 }, btree.Options{NoLocks: true})
}

// Snapshot is one immutable state of the index.
type Snapshot struct {
	seq    uint64
	tree   *rtree.RTreeG[*Feature]
	byID   *btree.Map[int64, *Feature]
	cells  *btree.Map[uint64, Cell]
	counts *btree.BTreeG[count]
	due    [dueKinds]*btree.BTreeG[dueKey] // see due.go; nil in a public index
	names  []string                        // the due keys' categories and regions, by number
}

// Seq increases with every change; tiles and caches key on it.
func (s *Snapshot) Seq() uint64 { return s.seq }

// Len is the number of indexed units.
func (s *Snapshot) Len() int { return s.byID.Len() }

// Bounds is the bounding box of every indexed unit.
func (s *Snapshot) Bounds() (min, max [2]float64) { return s.tree.Bounds() }

// Get returns the feature of a unit.
func (s *Snapshot) Get(id int64) (*Feature, bool) { return s.byID.Get(id) }

// Search calls fn for each feature whose geometry intersects b, in no particular order,
// until fn returns false.
func (s *Snapshot) Search(b orb.Bound, fn func(*Feature) bool) {
	s.tree.Search(b.Min, b.Max, func(min, max [2]float64, f *Feature) bool {
		// The tree's copy of the feature's box, next to its neighbours' in the node: a
		// feature inside b is taken without reading the feature first.
		inside := b.Contains(min) && b.Contains(max)
		if !inside && !riskmap.IntersectsBound(f.Geometry, b) {
			return true
		}
		return fn(f)
	})
}

// SearchBounds calls fn for each feature whose bounding box overlaps b: the candidates of a
// tile, which clipping decides.
func (s *Snapshot) SearchBounds(b orb.Bound, fn func(*Feature) bool) {
	s.tree.Search(b.Min, b.Max, func(_, _ [2]float64, f *Feature) bool { return fn(f) })
}

// Ascend calls fn for each feature with an id greater than after, in id order, until fn
// returns false.
func (s *Snapshot) Ascend(after int64, fn func(*Feature) bool) {
	if after == math.MaxInt64 {
		return // nothing comes after the largest id (after+1 would wrap to the smallest)
	}
	s.byID.Ascend(after+1, func(_ int64, f *Feature) bool { return fn(f) })
}

// Cells calls fn for each non-empty cell of the aggregate grid inside the cell range
// [x0,x1]×[y0,y1] (at CellZoom).
func (s *Snapshot) Cells(x0, y0, x1, y1 uint32, fn func(x, y uint32, c Cell) bool) {
	for x := x0; x <= x1; x++ {
		s.cells.Ascend(cellKey(x, y0), func(k uint64, c Cell) bool {
			cx, cy := uint32(k>>32), uint32(k)
			if cx != x || cy > y1 {
				return false
			}
			return fn(cx, cy, c)
		})
	}
}

// Counts returns the per-grade counts of units by region code and category, in a map of
// the caller's.
func (s *Snapshot) Counts() map[CountKey][4]int {
	out := make(map[CountKey][4]int, s.counts.Len())
	s.EachCount(func(regionCode, category string, n [4]int) { out[CountKey{regionCode, category}] = n })
	return out
}

// EachCount calls fn with the per-grade counts of each region code (a unit's CountCode) and
// category, in no particular order.
func (s *Snapshot) EachCount(fn func(regionCode, category string, n [4]int)) {
	s.counts.Scan(func(c count) bool {
		fn(c.key.RegionCode, c.key.Category, c.n)
		return true
	})
}

// RegionTotals is RegionCounts over every category.
func (s *Snapshot) RegionTotals() map[string][4]int { return s.RegionCounts(nil) }

// RegionCounts sums the per-grade counts by exact region code (a unit's CountCode), over
// the keys keep accepts (nil: all).
func (s *Snapshot) RegionCounts(keep func(CountKey) bool) map[string][4]int {
	out := map[string][4]int{}
	s.counts.Scan(func(v count) bool {
		if keep != nil && !keep(v.key) {
			return true
		}
		c := out[v.key.RegionCode]
		for i := range c {
			c[i] += v.n[i]
		}
		out[v.key.RegionCode] = c
		return true
	})
	return out
}

// Index is the live index. Its methods are safe for concurrent use.
type Index struct {
	encode Encoder
	locate Locator
	public bool
	bulk   bool // a load: insert leaves the due trees and the counts tree to endBulk

	mu     sync.Mutex // serialises writers
	tree   *rtree.RTreeG[*Feature]
	byID   *btree.Map[int64, *Feature]
	cells  *btree.Map[uint64, Cell]
	counts *btree.BTreeG[count]
	// bulkCounts are the counts while a load inserts (bulk): a map is quicker there, and
	// endBulk makes the tree of them.
	bulkCounts map[CountKey][4]int
	// packing are the features a load inserts (bulk), which endBulk packs into the R-tree
	// at once.
	packing []*Feature
	due     [dueKinds]*btree.BTreeG[dueKey]
	// names and nameIDs number the categories and region codes of the due keys.
	names   []string
	nameIDs map[string]uint32
	seq     uint64
	// retired remembers the last version of units taken out, so that an old event about
	// them cannot bring them back.
	retired map[int64]int64
	// during is non-nil while Load reads the store: what Apply did meanwhile, by id (a nil
	// feature for a retirement), so that the load does not undo newer writes.
	during map[int64]pendingChange

	// redate, when set, brings the JSON of features to a new day (see SetRedater).
	redate    Redater
	now       func() time.Time
	day       atomic.Int32 // the day (riskmap.DayNumber of riskmap.ChinaDay) the JSON says
	redating  atomic.Bool
	redateHit func() // tests: called when a background Redate ends
	loads     int    // loads that replaced the master, under mu: Redate's check
	// src is how new features keep their documents (doc.go): for a register, the
	// dictionary that compresses them, made by each Load from the first documents it
	// reads and inherited by a Fork (nil before the first load); for a public index, the
	// Writer that writes them from the facts.
	src atomic.Pointer[docSource]
	// head, when set, is the beginning of a document the facts say, which the kept
	// documents then leave out (SetHead).
	head *Head
	// share, when set, is the register's index whose features' geometry and codes a
	// public index's equal features use instead of copies of their own (ShareWith).
	share *Index

	cur    atomic.Pointer[Snapshot]
	loaded atomic.Bool
	// listeners hear about every change, after the new snapshot is published.
	listeners []func(Change)
}

type pendingChange struct {
	version int64
	f       *Feature
}

// Change describes one write: the feature before (nil if new) and after (nil if removed).
// Seq is the snapshot that first holds it: the changes of one batch (ApplyAll) share it, and
// a reload (neither feature) changes everything up to it.
type Change struct {
	Seq    uint64
	Before *Feature
	After  *Feature
}

// NewPublic returns an index for the public: its features keep no name or department (which
// name enterprises and people), so neither tiles nor searches can reveal them; their Name is
// the unit's public label (公开名称). They keep no document either: everything the public
// Feature says is among those facts, and write (nil: none) writes it from them when it is
// read, so a publication's index costs no encoding, no compression and no memory for
// documents.
func NewPublic(write Writer, locate Locator) *Index {
	ix := New(nil, locate)
	ix.public = true
	if write != nil {
		ix.src.Store(&docSource{write: write})
	}
	return ix
}

// SetHead makes the documents of the features loaded from now on leave out their beginning
// when it is the head the facts the index keeps say (the id, the geometry, the code and the
// name of a register document: featurejson.AppendFeatureHead and FeatureHeadLen), which is
// written back from the facts when a document is read. Call it before the first Load (a
// Load reads it without the lock; the features of writes before it keep whole documents).
func (ix *Index) SetHead(h Head) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.head = &h
}

// ShareWith makes a public index use, for each unit whose feature in the register's index reg
// has the same version, geometry and codes, that feature's geometry, code, category, region
// code and counting code instead of copies of its own: a published unit unchanged since is
// kept once in memory for both audiences (features are immutable once indexed). Call it
// before the first Load; a Fork keeps it.
func (ix *Index) ShareWith(reg *Index) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.share = reg
}

// shareFacts points f's geometry and codes at those of the register's feature of the same
// unit when they are equal.
func (ix *Index) shareFacts(f *Feature) {
	g, ok := ix.share.cur.Load().byID.Get(f.ID)
	if !ok || g.Version != f.Version || g.Code != f.Code || g.Category != f.Category || g.RegionCode != f.RegionCode ||
		g.Bound != f.Bound || !orb.Equal(g.Geometry, f.Geometry) {
		return
	}
	f.Geometry, f.Code, f.Category, f.RegionCode = g.Geometry, g.Code, g.Category, g.RegionCode
	if g.CountCode == f.CountCode {
		f.CountCode = g.CountCode
	}
}

// Locator returns the code of the finest region (a grid) holding a point, or "".
type Locator func(orb.Point) string

// New returns an empty index whose features carry JSON made by encode and whose counts go
// to the grid locate finds (locate may be nil).
func New(encode Encoder, locate Locator) *Index {
	ix := &Index{encode: encode, locate: locate}
	ix.reset()
	ix.publish()
	return ix
}

func (ix *Index) reset() {
	ix.tree = &rtree.RTreeG[*Feature]{}
	ix.byID = &btree.Map[int64, *Feature]{}
	ix.cells = &btree.Map[uint64, Cell]{}
	ix.counts = newCounts()
	ix.bulkCounts = nil
	ix.retired = map[int64]int64{}
	ix.due = [dueKinds]*btree.BTreeG[dueKey]{}
	ix.names, ix.nameIDs = nil, map[string]uint32{}
	if !ix.public {
		for k := range ix.due {
			ix.due[k] = newDueTree()
		}
	}
}

// OnChange registers fn to hear of every change. Register before loading.
func (ix *Index) OnChange(fn func(Change)) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.listeners = append(ix.listeners, fn)
}

// Snapshot returns the current state for reading. With a Redater set, the first snapshot
// taken on a new day starts bringing the features' JSON to that day, in the background.
func (ix *Index) Snapshot() *Snapshot {
	if ix.redate != nil {
		ix.maybeRedate()
	}
	return ix.cur.Load()
}

// Loaded reports whether a full load has completed.
func (ix *Index) Loaded() bool { return ix.loaded.Load() }

// Loads is how many full loads have replaced the index's contents, the first included: a
// server that follows other replicas reloads only for a change too big to apply unit by
// unit (a bulk load, or more than its catch-up limit missed while it could not listen),
// never for steady writes (issue 18; /metrics
// riskmap_index_loads_total).
func (ix *Index) Loads() int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.loads
}

// publish makes the master visible to readers as a new snapshot. Copy is O(1): the master
// and the snapshot share nodes until the master next changes them.
func (ix *Index) publish() *Snapshot {
	s := &Snapshot{seq: ix.seq, tree: ix.tree.Copy(), byID: ix.byID.Copy(), cells: ix.cells.Copy(), counts: ix.counts.Copy()}
	s.names = ix.names
	for k, tr := range ix.due {
		if tr != nil {
			s.due[k] = tr.Copy()
		}
	}
	ix.cur.Store(s)
	return s
}

// Load replaces the whole index with the units of the sequence (every active unit of the
// store) and publishes it once at the end. Readers see the old index until then.
func (ix *Index) Load(ctx context.Context, units iter.Seq2[*riskmap.Unit, error]) (int, error) {
	ix.mu.Lock()
	ix.during = map[int64]pendingChange{}
	ix.mu.Unlock()
	defer func() {
		ix.mu.Lock()
		ix.during = nil
		ix.mu.Unlock()
	}()
	loadDay := ix.today()
	fresh := &Index{encode: ix.encode, locate: ix.locate, public: ix.public}
	fresh.reset()
	// The due trees are built once, sorted, when every unit is in (one by one they would
	// cost more than the rest of the load).
	fresh.bulk, fresh.bulkCounts = true, map[CountKey][4]int{}
	n, err := ix.build(ctx, units, fresh.insert)
	if err != nil {
		return n, err
	}
	fresh.endBulk()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	// A write applied while the load read the store wins if it is newer than what the load
	// read.
	for id, pc := range ix.during {
		g, ok := fresh.byID.Get(id)
		if ok && g.Version >= pc.version {
			continue
		}
		if ok {
			fresh.remove(g)
		}
		if pc.f != nil {
			fresh.insert(pc.f)
		} else {
			fresh.retired[id] = pc.version
		}
	}
	ix.tree, ix.byID, ix.cells, ix.counts, ix.retired, ix.due = fresh.tree, fresh.byID, fresh.cells, fresh.counts, fresh.retired, fresh.due
	ix.loads++
	ix.names, ix.nameIDs = fresh.names, fresh.nameIDs
	ix.seq++
	s := ix.publish()
	ix.day.Store(loadDay)
	ix.loaded.Store(true)
	for _, fn := range ix.listeners {
		fn(Change{Seq: s.seq}) // a reload changes everything
	}
	return n, nil
}

// build turns units into features on every core (encoding GeoJSON and finding grids is most
// of a load's work) and hands them to insert, one at a time, in no particular order.
func (ix *Index) build(parent context.Context, units iter.Seq2[*riskmap.Unit, error], insert func(*Feature)) (int, error) {
	const batch = 256
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	workers := max(1, runtime.GOMAXPROCS(0))
	todo := make(chan []*riskmap.Unit, workers*2)
	done := make(chan []*Feature, workers*2)
	var workErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for us := range todo {
				fs := make([]*Feature, 0, len(us))
				for _, u := range us {
					f, err := ix.feature(u)
					if err != nil {
						errOnce.Do(func() { workErr = err })
						cancel()
						break
					}
					fs = append(fs, f)
				}
				done <- fs
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	// The store is read on its own goroutine, features are built on the workers, and the
	// trees are filled here.
	readErr := make(chan error, 1)
	go func() {
		defer close(todo)
		send := func(us []*riskmap.Unit) bool {
			select {
			case todo <- us:
				return true
			case <-ctx.Done():
				return false
			}
		}
		// The first units wait until their documents have made the dictionary the
		// workers compress with (doc.go).
		var first []*riskmap.Unit
		dictDone := ix.encode == nil
		makeDictOf := func() bool {
			dictDone = true
			docs := make([][]byte, 0, len(first))
			for _, u := range first {
				b, err := ix.encode(nil, u)
				if err != nil {
					errOnce.Do(func() { workErr = err })
					cancel()
					return false
				}
				if ix.head != nil { // the dictionary is of what is kept
					b = ix.head.strip(b, u.ID, new(riskmap.FactsOf(u)))
				}
				docs = append(docs, b)
			}
			ix.src.Store(&docSource{dict: makeDict(docs), head: ix.head})
			for len(first) > 0 {
				k := min(batch, len(first))
				if !send(first[:k:k]) {
					return false
				}
				first = first[k:]
			}
			return true
		}
		cur := make([]*riskmap.Unit, 0, batch)
		for u, err := range units {
			if err != nil {
				readErr <- err
				return
			}
			if !dictDone {
				if first = append(first, u); len(first) < dictDocs {
					continue
				}
				if !makeDictOf() {
					readErr <- nil
					return
				}
				continue
			}
			cur = append(cur, u)
			if len(cur) == batch {
				if !send(cur) {
					readErr <- nil
					return
				}
				cur = make([]*riskmap.Unit, 0, batch)
			}
		}
		if !dictDone && !makeDictOf() {
			readErr <- nil
			return
		}
		if len(cur) > 0 {
			send(cur)
		}
		readErr <- nil
	}()
	n := 0
	for fs := range done {
		for _, f := range fs {
			insert(f)
		}
		n += len(fs)
	}
	rerr := <-readErr
	switch {
	case workErr != nil:
		return n, workErr
	case rerr != nil:
		return n, rerr
	}
	return n, parent.Err()
}

func (ix *Index) feature(u *riskmap.Unit) (*Feature, error) {
	f := &Feature{ID: u.ID, Version: u.Version, UnitFacts: riskmap.FactsOf(u), ReidentifyDue: riskmap.ReviewDayOf(u.ReidentifyDue())}
	if ix.public {
		// The public's name of a unit is its public label (公开名称), or none.
		f.Name, f.Department = u.PublicLabel, ""
	}
	f.CountCode = countCode(f.RegionCode, Representative(f), ix.locate)
	if ix.share != nil {
		ix.shareFacts(f)
	}
	if ix.encode == nil {
		f.src = ix.src.Load() // a public index's Writer, or nothing
	} else {
		bp := docBuffers.Get().(*[]byte)
		b, err := ix.encode((*bp)[:0], u)
		if err == nil {
			setDoc(f, b, ix.src.Load())
			*bp = b[:0]
		}
		docBuffers.Put(bp)
		if err != nil {
			return nil, err
		}
	}
	return f, nil
}

// Apply brings one unit into the index: inserted or replaced when its version is newer than
// the indexed one, removed when it is retired. It reports whether anything changed; an
// event older than what is indexed changes nothing.
func (ix *Index) Apply(u *riskmap.Unit) (bool, error) {
	f, err := ix.featureOrNone(u)
	if err != nil {
		return false, err
	}
	return ix.applyAll([]*riskmap.Unit{u}, []*Feature{f}) > 0, nil
}

// featureOrNone is the feature of a unit to index, nil for a retired one (taken out).
func (ix *Index) featureOrNone(u *riskmap.Unit) (*Feature, error) {
	if u.Status == riskmap.StatusRetired {
		return nil, nil
	}
	return ix.feature(u)
}

// ApplyAll brings units into the index as Apply does, one after the other, and publishes one
// snapshot for them all: a catch-up's batch of units another replica wrote. One snapshot
// instead of one a unit copies each tree node the batch changes once, not once a unit:
// 1,000 changes spread over 100,000 synthetic units leave 21.5 KB a change for the
// collector against 41 KB one by one (TestWriteGarbage), and with the garbage the pages the
// heap spreads over (README, "Less garbage a write"). Writers wait for the whole batch (the
// catch-up's are of 1,000 units, well under a second). It returns how many units changed
// the index. A unit whose document cannot be made is left out and its *UnitError returned,
// joined with the others' (errors.Join), after the rest are applied.
func (ix *Index) ApplyAll(us []*riskmap.Unit) (int, error) {
	keep, fs := make([]*riskmap.Unit, 0, len(us)), make([]*Feature, 0, len(us))
	var errs []error
	for _, u := range us {
		f, err := ix.featureOrNone(u)
		if err != nil {
			errs = append(errs, &UnitError{ID: u.ID, Err: err})
			continue
		}
		keep, fs = append(keep, u), append(fs, f)
	}
	return ix.applyAll(keep, fs), errors.Join(errs...)
}

// UnitError is a unit ApplyAll left out: its document could not be made.
type UnitError struct {
	ID  int64
	Err error
}

func (e *UnitError) Error() string { return fmt.Sprintf("unit %d: %v", e.ID, e.Err) }
func (e *UnitError) Unwrap() error { return e.Err }

// applyAll applies each unit of us with its feature (nil for a retired unit), publishes one
// snapshot if anything changed and tells the listeners of each change. It returns how many
// units changed the index.
func (ix *Index) applyAll(us []*riskmap.Unit, fs []*Feature) int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var changes []Change
	for i, u := range us {
		f := fs[i]
		old, had := ix.byID.Get(u.ID)
		if had && old.Version >= u.Version {
			continue
		}
		if v, gone := ix.retired[u.ID]; gone && v >= u.Version {
			continue
		}
		if ix.during != nil {
			ix.during[u.ID] = pendingChange{version: u.Version, f: f}
		}
		if f == nil {
			ix.retired[u.ID] = u.Version
			if !had {
				continue
			}
		} else {
			delete(ix.retired, u.ID)
		}
		if had {
			ix.remove(old)
		}
		if f != nil {
			ix.insert(f)
		}
		changes = append(changes, Change{Before: old, After: f})
	}
	if len(changes) == 0 {
		return 0
	}
	ix.seq++
	s := ix.publish()
	for _, c := range changes {
		c.Seq = s.seq
		for _, fn := range ix.listeners {
			fn(c)
		}
	}
	return len(changes)
}

// Remove takes a unit out whatever its version (it was erased from the store).
func (ix *Index) Remove(id int64) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	old, had := ix.byID.Get(id)
	if !had {
		return false
	}
	ix.remove(old)
	ix.seq++
	s := ix.publish()
	for _, fn := range ix.listeners {
		fn(Change{Seq: s.seq, Before: old})
	}
	return true
}

// Version returns the indexed version of a unit (0 if absent).
func (ix *Index) Version(id int64) int64 {
	if f, ok := ix.Snapshot().Get(id); ok {
		return f.Version
	}
	return 0
}

func (ix *Index) insert(f *Feature) {
	if ix.bulk {
		ix.packing = append(ix.packing, f)
	} else {
		ix.tree.Insert(f.Bound.Min, f.Bound.Max, f)
	}
	ix.byID.Set(f.ID, f)
	ix.count(f, 1)
	if !ix.public && !ix.bulk {
		ix.dueKeys(f, func(kind DueKind, k dueKey) { ix.due[kind].Set(k) })
	}
}

func (ix *Index) remove(f *Feature) {
	ix.tree.Delete(f.Bound.Min, f.Bound.Max, f)
	ix.byID.Delete(f.ID)
	ix.count(f, -1)
	if !ix.public {
		ix.dueKeys(f, func(kind DueKind, k dueKey) { ix.due[kind].Delete(k) })
	}
}

func (ix *Index) count(f *Feature, d int) {
	gi := f.Grade.Rank() - 1
	if gi < 0 {
		return
	}
	p := Representative(f)
	x, y := CellOf(p, CellZoom)
	k := cellKey(x, y)
	c, _ := ix.cells.Get(k)
	c.Counts[gi] += int32(d)
	c.SumX += float64(d) * p[0]
	c.SumY += float64(d) * p[1]
	if c.Total() == 0 {
		ix.cells.Delete(k)
	} else {
		ix.cells.Set(k, c)
	}
	ck := CountKey{f.CountCode, f.Category}
	if ix.bulk {
		v := ix.bulkCounts[ck]
		v[gi] += d
		ix.bulkCounts[ck] = v
		return
	}
	v, _ := ix.counts.Get(count{key: ck})
	v.key = ck
	v.n[gi] += d
	if v.n == ([4]int{}) {
		ix.counts.Delete(v)
	} else {
		ix.counts.Set(v)
	}
}

// endBulk ends a load's bulk mode: the R-tree, the due trees and the counts tree are made
// of every unit at once, and later inserts keep them one by one. The R-tree is packed
// (rtree.Pack, sort-tile-recursive, pkg/thirdparty/rtree): 1M synthetic units loaded in
// 1.10–1.29 s against 1.70–2.08 s inserting them one at a time, its nodes nearly full.
func (ix *Index) endBulk() {
	ix.bulk = false
	ix.buildDue()
	if len(ix.packing) > 0 {
		ix.tree.Pack(len(ix.packing), func(i int) (min, max [2]float64, f *Feature) {
			f = ix.packing[i]
			return f.Bound.Min, f.Bound.Max, f
		})
		ix.packing = nil
	}
	cs := make([]count, 0, len(ix.bulkCounts))
	for k, n := range ix.bulkCounts {
		if n != ([4]int{}) {
			cs = append(cs, count{key: k, n: n})
		}
	}
	slices.SortFunc(cs, compareCounts)
	ix.counts = newCounts()
	for _, c := range cs {
		ix.counts.Load(c)
	}
	ix.bulkCounts = nil
}

// Representative is the point that stands for a feature in aggregates: the point itself,
// or the centre of its bounding box.
func Representative(f *Feature) orb.Point { return representative(f.Geometry, f.Bound) }

func representative(g orb.Geometry, b orb.Bound) orb.Point {
	if p, ok := g.(orb.Point); ok {
		return p
	}
	return b.Center()
}

func cellKey(x, y uint32) uint64 { return uint64(x)<<32 | uint64(y) }

// CellOf returns the Web Mercator tile (x, y) at zoom z that holds p, clamped to the world.
func CellOf(p orb.Point, z int) (uint32, uint32) {
	n := float64(uint64(1) << z)
	lat := math.Max(math.Min(p[1], 85.0511287798), -85.0511287798)
	x := (p[0] + 180) / 360 * n
	r := lat * math.Pi / 180
	y := (1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n
	clamp := func(v float64) uint32 { return uint32(math.Max(0, math.Min(n-1, math.Floor(v)))) }
	return clamp(x), clamp(y)
}

// CountCode returns the code a unit of region regionCode and geometry g is counted under
// (Feature.CountCode): the grid locate finds for its representative point when that grid
// lies in the region, else the region code. locate may be nil.
func CountCode(regionCode string, g orb.Geometry, locate Locator) string {
	if g == nil {
		return regionCode
	}
	return countCode(regionCode, representative(g, g.Bound()), locate)
}

func countCode(regionCode string, rep orb.Point, locate Locator) string {
	if locate != nil {
		if g := locate(rep); g != "" && strings.HasPrefix(g, regionCode) {
			return g
		}
	}
	return regionCode
}

// Fork returns a new index holding what ix holds now. The two share the tree's and the
// maps' nodes until either changes them (copy on write), so a publication's index can
// follow the one before it by the change between them (Replace) without copying the rest.
// The fork has no listeners.
func (ix *Index) Fork() *Index {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	f := &Index{encode: ix.encode, locate: ix.locate, public: ix.public, redate: ix.redate, now: ix.now, redateHit: ix.redateHit, head: ix.head, share: ix.share}
	f.tree, f.byID, f.cells = ix.tree.Copy(), ix.byID.Copy(), ix.cells.Copy()
	f.counts = ix.counts.Copy()
	f.retired = make(map[int64]int64, len(ix.retired))
	for k, v := range ix.retired {
		f.retired[k] = v
	}
	for k, tr := range ix.due {
		if tr != nil {
			f.due[k] = tr.Copy()
		}
	}
	f.names = append([]string(nil), ix.names...)
	f.nameIDs = make(map[string]uint32, len(ix.nameIDs))
	for k, v := range ix.nameIDs {
		f.nameIDs[k] = v
	}
	f.seq = ix.seq
	f.day.Store(ix.day.Load())
	f.src.Store(ix.src.Load())
	f.publish()
	f.loaded.Store(ix.loaded.Load())
	return f
}

// Replace takes the units with the ids of remove out and puts the units of put in (each
// replacing an indexed unit with its id), whatever their versions, and publishes the
// result once. A publication's change is applied this way: its removed units leave, its
// added units (new ones and new versions) enter.
func (ix *Index) Replace(remove []int64, put []*riskmap.Unit) error {
	fs := make([]*Feature, 0, len(put))
	for _, u := range put {
		f, err := ix.feature(u)
		if err != nil {
			return err
		}
		fs = append(fs, f)
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, id := range remove {
		if old, ok := ix.byID.Get(id); ok {
			ix.remove(old)
		}
	}
	for _, f := range fs {
		if old, ok := ix.byID.Get(f.ID); ok {
			ix.remove(old)
		}
		ix.insert(f)
	}
	ix.seq++
	s := ix.publish()
	ix.loaded.Store(true)
	for _, fn := range ix.listeners {
		fn(Change{Seq: s.seq})
	}
	return nil
}
