package analysis

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/paulmach/orb"
	"github.com/tidwall/btree"
	"github.com/tidwall/rtree"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

// Conflict is one protective target inside the influence range of a hazardous unit (安全距离
// 不足). It is immutable: a change to the unit or the target replaces it.
type Conflict struct {
	// Unit is the unit as the spatial index holds it (its facts: code, name, category,
	// grade, region, department, geometry).
	Unit   *spatialindex.Feature
	Target *riskmap.ProtectiveTarget
	// DistanceM is the geodesic distance, edge to edge, from the unit to the target: 0
	// when they touch or overlap.
	DistanceM float64
	// RadiusM is the unit's influence radius, RadiusSource where it comes from: "unit"
	// (its own) or "default" (its category's, from config).
	RadiusM      float64
	RadiusSource string
	// UnitPoint and TargetPoint are the closest points of the unit and the target: the
	// conflict line runs from one to the other (equal when DistanceM is 0).
	UnitPoint, TargetPoint orb.Point
}

// Line is the conflict line, from the unit's closest point to the target's.
func (c *Conflict) Line() orb.LineString { return orb.LineString{c.UnitPoint, c.TargetPoint} }

// UnitResult is what the engine knows of one unit's influence range.
type UnitResult struct {
	UnitID int64
	// Hazardous tells that the unit's category threatens protective targets.
	Hazardous bool
	// RadiusM is its influence radius (0 for none), RadiusSource "unit", "default" or
	// "none".
	RadiusM      float64
	RadiusSource string
	// Conflicts are the targets inside its range, nearest first.
	Conflicts []Conflict
}

// Engine keeps every conflict, the shelters and the coverage of the city in memory, current
// as units (through the spatial index's listener), targets and shelters (through the site
// service's listeners) change. Its methods are safe for concurrent use.
type Engine struct {
	cfg     Config
	regions []*riskmap.Region
	// hazardous is cfg.HazardousCategories as a set.
	hazardous map[string]bool

	mu sync.RWMutex
	// units are the indexed hazardous units, by id.
	units map[int64]*unitState
	// reach holds the hazardous units with a radius by their bound grown by the radius:
	// the units a target at some place may be in range of.
	reach *rtree.RTreeG[*unitState]
	// targets by id, and by bound in ttree.
	targets map[int64]*targetState
	ttree   *rtree.RTreeG[*targetState]
	// table is every conflict in the order of the city-wide table.
	table *btree.BTreeG[*Conflict]

	shelters shelterSet

	// loaded is set once the first Load ends; until a load ends, changes heard are kept in
	// pending and applied by it.
	loaded  atomic.Bool
	loading bool
	pending pendingChanges
	// ix, when set (Watch), is where a reload of the index reloads the units from.
	ix *spatialindex.Index
}

type unitState struct {
	f         *spatialindex.Feature
	radius    float64
	source    string
	reach     orb.Bound
	conflicts []*Conflict // nearest first
}

type targetState struct {
	t         *riskmap.ProtectiveTarget
	bound     orb.Bound
	conflicts []*Conflict
}

// pendingChanges are what the engine heard while it was not loaded.
type pendingChanges struct {
	units    map[int64]pendingUnit
	targets  [][2]*riskmap.ProtectiveTarget
	shelters [][2]*riskmap.Shelter
}

type pendingUnit struct {
	seq uint64
	f   *spatialindex.Feature // nil: removed
}

// New returns an empty engine for the regions of the city (coverage is computed over the
// districts and streets among them). Load fills it.
func New(cfg Config, regions []*riskmap.Region) *Engine {
	e := &Engine{cfg: cfg, regions: regions, hazardous: map[string]bool{}}
	for _, c := range cfg.HazardousCategories {
		e.hazardous[c] = true
	}
	if e.cfg.NearbyShelterM <= 0 {
		e.cfg.NearbyShelterM = 1000
	}
	if e.cfg.ShelterPerCapitaM2 <= 0 {
		e.cfg.ShelterPerCapitaM2 = 1.5
	}
	e.units = map[int64]*unitState{}
	e.reach = &rtree.RTreeG[*unitState]{}
	e.targets = map[int64]*targetState{}
	e.ttree = &rtree.RTreeG[*targetState]{}
	e.table = newTable()
	e.shelters.init(regions)
	e.pending.units = map[int64]pendingUnit{}
	return e
}

// Config is the configuration the engine runs with.
func (e *Engine) Config() Config { return e.cfg }

// Regions are the regions the engine was made with.
func (e *Engine) Regions() []*riskmap.Region { return e.regions }

// Loaded reports whether the first Load has ended.
func (e *Engine) Loaded() bool { return e.loaded.Load() }

func newTable() *btree.BTreeG[*Conflict] {
	return btree.NewBTreeGOptions(tableLess, btree.Options{NoLocks: true})
}

// gradeOrder sorts grades red first, units without a grade last.
func gradeOrder(g riskmap.Grade) int {
	if r := g.Rank(); r > 0 {
		return r
	}
	return 9
}

// tableCompare is the order of the city-wide table: grade (red first), people at the target
// (most first), distance (nearest first), unit id, target id.
func tableCompare(a, b *Conflict) int {
	if c := cmp.Compare(gradeOrder(a.Unit.Grade), gradeOrder(b.Unit.Grade)); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Target.People, a.Target.People); c != 0 {
		return c
	}
	if c := cmp.Compare(a.DistanceM, b.DistanceM); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Unit.ID, b.Unit.ID); c != 0 {
		return c
	}
	return cmp.Compare(a.Target.ID, b.Target.ID)
}

func tableLess(a, b *Conflict) bool { return tableCompare(a, b) < 0 }

// byDistance orders a unit's or a target's conflicts: nearest first, then by target and
// unit id.
func byDistance(a, b *Conflict) int {
	if c := cmp.Compare(a.DistanceM, b.DistanceM); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Target.ID, b.Target.ID); c != 0 {
		return c
	}
	return cmp.Compare(a.Unit.ID, b.Unit.ID)
}

// Watch makes the engine follow ix: it hears every change (register before ix loads) and
// reloads its units when ix is reloaded whole.
func (e *Engine) Watch(ix *spatialindex.Index) {
	e.mu.Lock()
	e.ix = ix
	e.mu.Unlock()
	ix.OnChange(e.UnitChanged)
}

// Load computes every conflict from the units of the snapshot and the targets, and takes
// the shelters, in parallel over the units. Changes heard before it ends are applied after
// (those the snapshot already holds are skipped).
func (e *Engine) Load(units *spatialindex.Snapshot, targets []*riskmap.ProtectiveTarget, shelters []*riskmap.Shelter) {
	e.mu.Lock()
	e.loading = true
	e.mu.Unlock()
	tmap := make(map[int64]*targetState, len(targets))
	ttree := &rtree.RTreeG[*targetState]{}
	for _, t := range targets {
		if t == nil || t.Geometry == nil {
			continue
		}
		ts := &targetState{t: t, bound: t.Geometry.Bound()}
		if old, ok := tmap[t.ID]; ok {
			ttree.Delete(old.bound.Min, old.bound.Max, old)
		}
		tmap[t.ID] = ts
		ttree.Insert(ts.bound.Min, ts.bound.Max, ts)
	}
	var states []*unitState
	if units != nil {
		units.Ascend(0, func(f *spatialindex.Feature) bool {
			if st := e.stateOf(f); st != nil {
				states = append(states, st)
			}
			return true
		})
	}
	// Each worker takes every n-th unit, so that dense and sparse parts share out.
	workers := max(1, runtime.GOMAXPROCS(0))
	found := make([][]*Conflict, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(states); i += workers {
				st := states[i]
				st.conflicts = findConflicts(st, ttree)
				found[w] = append(found[w], st.conflicts...)
			}
			slices.SortFunc(found[w], tableCompare)
		}()
	}
	wg.Wait()
	// The table, the units' reach tree and the targets' lists are built side by side.
	table := newTable()
	reach := &rtree.RTreeG[*unitState]{}
	umap := make(map[int64]*unitState, len(states))
	var build sync.WaitGroup
	build.Add(3)
	go func() {
		defer build.Done()
		for _, c := range mergeSorted(found) {
			table.Load(c)
		}
	}()
	go func() {
		defer build.Done()
		for _, st := range states {
			umap[st.f.ID] = st
			if st.radius > 0 {
				reach.Insert(st.reach.Min, st.reach.Max, st)
			}
		}
	}()
	go func() {
		defer build.Done()
		for _, cs := range found {
			for _, c := range cs {
				ts := tmap[c.Target.ID]
				ts.conflicts = append(ts.conflicts, c)
			}
		}
	}()
	build.Wait()
	e.mu.Lock()
	defer e.mu.Unlock()
	e.units, e.reach, e.targets, e.ttree, e.table = umap, reach, tmap, ttree, table
	e.shelters.load(shelters, e.cfg)
	var seq uint64
	if units != nil {
		seq = units.Seq()
	}
	for id, p := range e.pending.units {
		if p.seq > seq {
			e.applyUnit(id, p.f)
		}
	}
	for _, tc := range e.pending.targets {
		e.applyTarget(tc[0], tc[1])
	}
	for _, sc := range e.pending.shelters {
		e.shelters.apply(sc[0], sc[1], e.cfg)
	}
	e.pending = pendingChanges{units: map[int64]pendingUnit{}}
	e.loading = false
	e.loaded.Store(true)
}

// mergeSorted merges lists each sorted in the table's order into one.
func mergeSorted(lists [][]*Conflict) []*Conflict {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	out := make([]*Conflict, 0, n)
	pos := make([]int, len(lists))
	for len(out) < n {
		best := -1
		for i, l := range lists {
			if pos[i] < len(l) && (best < 0 || tableCompare(l[pos[i]], lists[best][pos[best]]) < 0) {
				best = i
			}
		}
		out = append(out, lists[best][pos[best]])
		pos[best]++
	}
	return out
}

// stateOf is the state of a unit the engine keeps, nil for a unit whose category is not
// hazardous.
func (e *Engine) stateOf(f *spatialindex.Feature) *unitState {
	if f == nil || !e.hazardous[f.Category] || f.Geometry == nil {
		return nil
	}
	r, src := e.cfg.Radius(f.Category, f.InfluenceRadiusM)
	st := &unitState{f: f, radius: r, source: src}
	if r > 0 {
		st.reach = GrowM(f.Bound, r)
	}
	return st
}

// findConflicts finds the targets of tree inside the range of st, nearest first. The
// conflicts of one unit share one allocation.
func findConflicts(st *unitState, tree *rtree.RTreeG[*targetState]) []*Conflict {
	if st.radius <= 0 {
		return nil
	}
	var found []Conflict
	tree.Search(st.reach.Min, st.reach.Max, func(_, _ [2]float64, ts *targetState) bool {
		if c, ok := conflictOf(st, ts); ok {
			found = append(found, c)
		}
		return true
	})
	if len(found) == 0 {
		return nil
	}
	out := make([]*Conflict, len(found))
	for i := range found {
		out[i] = &found[i]
	}
	slices.SortFunc(out, byDistance)
	return out
}

// conflictOf is the conflict between a unit and a target, and false when the target lies
// outside the unit's range.
func conflictOf(st *unitState, ts *targetState) (Conflict, bool) {
	if st.radius <= 0 || !st.reach.Intersects(ts.bound) || boxGapM(st.f.Bound, ts.bound) > st.radius {
		return Conflict{}, false
	}
	var d float64
	var pa, pb orb.Point
	up, ok1 := st.f.Geometry.(orb.Point)
	tp, ok2 := ts.t.Geometry.(orb.Point)
	if ok1 && ok2 {
		d, pa, pb = DistanceM(up, tp), up, tp
	} else {
		d, pa, pb = GeomDistanceM(st.f.Geometry, ts.t.Geometry)
	}
	if !(d <= st.radius) {
		return Conflict{}, false
	}
	return Conflict{Unit: st.f, Target: ts.t, DistanceM: d, RadiusM: st.radius, RadiusSource: st.source,
		UnitPoint: pa, TargetPoint: pb}, true
}

// boxGapM is a lower bound of the distance in metres between anything in box a and
// anything in box b: the distance between their closest points (a hair less, for the
// local plane's approximation); 0 when they overlap.
func boxGapM(a, b orb.Bound) float64 {
	gap := func(amin, amax, bmin, bmax float64) (float64, float64) {
		switch {
		case amax < bmin:
			return amax, bmin
		case bmax < amin:
			return amin, bmax
		}
		m := (math.Max(amin, bmin) + math.Min(amax, bmax)) / 2
		return m, m
	}
	x1, x2 := gap(a.Min[0], a.Max[0], b.Min[0], b.Max[0])
	y1, y2 := gap(a.Min[1], a.Max[1], b.Min[1], b.Max[1])
	if x1 == x2 && y1 == y2 {
		return 0
	}
	return DistanceM(orb.Point{x1, y1}, orb.Point{x2, y2}) * 0.999
}

// UnitChanged brings one change of the spatial index into the engine. It runs under the
// index's lock (register it with Index.OnChange, or Watch): it only works in memory.
func (e *Engine) UnitChanged(c spatialindex.Change) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c.Before == nil && c.After == nil {
		// The index was loaded whole: reload the units from it (after this listener
		// returns, so as not to read the index under its own lock).
		if e.loaded.Load() && !e.loading && e.ix != nil {
			e.loading = true
			targets := e.targetList()
			shelters := e.shelters.list()
			go e.Load(e.ix.Snapshot(), targets, shelters)
		}
		return
	}
	var uid int64
	if c.After != nil {
		uid = c.After.ID
	} else {
		uid = c.Before.ID
	}
	if e.loading || !e.loaded.Load() {
		e.pending.units[uid] = pendingUnit{seq: c.Seq, f: c.After}
		return
	}
	e.applyUnit(uid, c.After)
}

// applyUnit replaces what the engine knows of unit id by f (nil: removed). Under e.mu.
func (e *Engine) applyUnit(id int64, f *spatialindex.Feature) {
	if old, ok := e.units[id]; ok && f != nil && f.Version == old.f.Version {
		// The same version of the unit, its JSON brought to a new day (Index.Redate): its
		// facts, and so its conflicts, are unchanged.
		return
	}
	if old, ok := e.units[id]; ok {
		for _, c := range old.conflicts {
			e.table.Delete(c)
			if ts := e.targets[c.Target.ID]; ts != nil {
				ts.conflicts = removeConflict(ts.conflicts, c)
			}
		}
		if old.radius > 0 {
			e.reach.Delete(old.reach.Min, old.reach.Max, old)
		}
		delete(e.units, id)
	}
	st := e.stateOf(f)
	if st == nil {
		return
	}
	st.conflicts = findConflicts(st, e.ttree)
	e.units[id] = st
	if st.radius > 0 {
		e.reach.Insert(st.reach.Min, st.reach.Max, st)
	}
	for _, c := range st.conflicts {
		e.table.Set(c)
		ts := e.targets[c.Target.ID]
		ts.conflicts = append(ts.conflicts, c)
	}
}

func removeConflict(list []*Conflict, c *Conflict) []*Conflict {
	for i, x := range list {
		if x == c {
			list[i] = list[len(list)-1]
			list[len(list)-1] = nil
			return list[:len(list)-1]
		}
	}
	return list
}

func (e *Engine) targetList() []*riskmap.ProtectiveTarget {
	out := make([]*riskmap.ProtectiveTarget, 0, len(e.targets))
	for _, ts := range e.targets {
		out = append(out, ts.t)
	}
	return out
}

// TargetChanged brings a target's write into the engine (sites.Service.OnTarget): before
// nil for a new target, after nil for a deleted one.
func (e *Engine) TargetChanged(before, after *riskmap.ProtectiveTarget) {
	e.ApplyTarget(before, after)
}

// ApplyTarget is TargetChanged, and returns the units whose conflicts changed (those in
// range of the target before or after), whose conflict conditions need writing (see
// ConditionsOf). Before the first load it returns none: Reconcile sees to them.
func (e *Engine) ApplyTarget(before, after *riskmap.ProtectiveTarget) []int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.loading || !e.loaded.Load() {
		e.pending.targets = append(e.pending.targets, [2]*riskmap.ProtectiveTarget{before, after})
		return nil
	}
	return e.applyTarget(before, after)
}

// applyTarget replaces the target of before's (or after's) id by after. Under e.mu.
func (e *Engine) applyTarget(before, after *riskmap.ProtectiveTarget) []int64 {
	var id int64
	switch {
	case after != nil:
		id = after.ID
	case before != nil:
		id = before.ID
	default:
		return nil
	}
	var touched []int64
	if old, ok := e.targets[id]; ok {
		for _, c := range old.conflicts {
			e.table.Delete(c)
			if st := e.units[c.Unit.ID]; st != nil {
				st.conflicts = slices.DeleteFunc(st.conflicts, func(x *Conflict) bool { return x == c })
			}
			touched = append(touched, c.Unit.ID)
		}
		e.ttree.Delete(old.bound.Min, old.bound.Max, old)
		delete(e.targets, id)
	}
	if after != nil && after.Geometry != nil {
		ts := &targetState{t: after, bound: after.Geometry.Bound()}
		e.targets[id] = ts
		e.ttree.Insert(ts.bound.Min, ts.bound.Max, ts)
		e.reach.Search(ts.bound.Min, ts.bound.Max, func(_, _ [2]float64, st *unitState) bool {
			if cv, ok := conflictOf(st, ts); ok {
				c := &cv
				ts.conflicts = append(ts.conflicts, c)
				i, _ := slices.BinarySearchFunc(st.conflicts, c, byDistance)
				st.conflicts = slices.Insert(st.conflicts, i, c)
				e.table.Set(c)
				touched = append(touched, st.f.ID)
			}
			return true
		})
	}
	slices.Sort(touched)
	return slices.Compact(touched)
}

// UnitConflicts is what the engine knows of a unit's influence range: a unit it does not
// keep is not hazardous (or not indexed).
func (e *Engine) UnitConflicts(id int64) UnitResult {
	e.mu.RLock()
	defer e.mu.RUnlock()
	r := UnitResult{UnitID: id, RadiusSource: "none"}
	st, ok := e.units[id]
	if !ok {
		return r
	}
	r.Hazardous, r.RadiusM, r.RadiusSource = true, st.radius, st.source
	r.Conflicts = make([]Conflict, len(st.conflicts))
	for i, c := range st.conflicts {
		r.Conflicts[i] = *c
	}
	return r
}

// UnitRange is a unit's influence range as config sets it: whether its category is
// hazardous, its radius and where the radius comes from.
func (e *Engine) UnitRange(category string, radius float64) (hazardous bool, r float64, source string) {
	if !e.hazardous[category] {
		return false, 0, "none"
	}
	r, source = e.cfg.Radius(category, radius)
	return true, r, source
}

// TargetConflicts are the conflicts of a target: the units whose range it lies in, nearest
// first.
func (e *Engine) TargetConflicts(id int64) []Conflict {
	e.mu.RLock()
	defer e.mu.RUnlock()
	ts, ok := e.targets[id]
	if !ok {
		return nil
	}
	out := make([]Conflict, len(ts.conflicts))
	for i, c := range ts.conflicts {
		out[i] = *c
	}
	slices.SortFunc(out, func(a, b Conflict) int { return byDistance(&a, &b) })
	return out
}

// Target returns a target the engine holds.
func (e *Engine) Target(id int64) (*riskmap.ProtectiveTarget, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	ts, ok := e.targets[id]
	if !ok {
		return nil, false
	}
	return ts.t, true
}

// Count is the number of conflicts in the city.
func (e *Engine) Count() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.table.Len()
}

// ConditionsFor returns the conflict conditions unit u has, as written (its geometry,
// category and radius), against the current targets: one per target in its range, nearest
// first. The grader decides which raise the grade. A retired or non-hazardous unit has
// none.
func (e *Engine) ConditionsFor(u *riskmap.Unit) []riskmap.Condition {
	if u == nil || u.Status == riskmap.StatusRetired || u.Geometry == nil {
		return nil
	}
	f := &spatialindex.Feature{ID: u.ID, UnitFacts: riskmap.UnitFacts{Category: u.Category,
		InfluenceRadiusM: u.InfluenceRadiusM, Geometry: u.Geometry, Bound: u.Geometry.Bound()}}
	st := e.stateOf(f)
	if st == nil {
		return nil
	}
	e.mu.RLock()
	cs := findConflicts(st, e.ttree)
	e.mu.RUnlock()
	return conditionsOf(cs)
}

// ConditionsOf returns the conflict conditions of an indexed unit as the engine holds them
// (ConditionsFor of the unit as indexed).
func (e *Engine) ConditionsOf(id int64) []riskmap.Condition {
	e.mu.RLock()
	defer e.mu.RUnlock()
	st, ok := e.units[id]
	if !ok {
		return nil
	}
	return conditionsOf(st.conflicts)
}

func conditionsOf(cs []*Conflict) []riskmap.Condition {
	if len(cs) == 0 {
		return nil
	}
	out := make([]riskmap.Condition, len(cs))
	for i, c := range cs {
		out[i] = conditionOf(c)
	}
	return out
}
