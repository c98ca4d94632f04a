// Package sites keeps the protective targets (防护目标) and emergency shelters (应急避难场所)
// of issue 16 as managed layers: it checks and completes each write (the region from the
// site's position, a shelter's service radius from its kind), holds it to the writer's
// scope, stores it with its audit row, and keeps both layers in memory (immutable
// snapshots with an R-tree) for the API, the tiles and the analyses, whose listeners hear
// each committed write before it is answered.
package sites

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"riskmap/pkg/analysis"
	"riskmap/pkg/riskmap"
)

// Service writes and reads the sites. Set its fields, then Load.
type Service struct {
	Store riskmap.SiteStore
	// Config gives the shelters' default service radii by kind and MaxAreaRatio.
	Config analysis.Config
	// Bound is the city (the regions' bound grown by 20 km); zero: the world only.
	Bound orb.Bound
	// Locate gives the code of the finest region holding a point ("" none); nil leaves
	// region codes as written.
	Locate func(orb.Point) string
	// RegionName names a region by its code ("" unknown); nil names none.
	RegionName func(code string) string
	Now        func() time.Time
	// Listeners, called after a committed write, before it is answered, one write at a time
	// (the analysis engine): before nil = created, after nil = deleted. They must not write
	// sites.
	OnTarget  func(before, after *riskmap.ProtectiveTarget)
	OnShelter func(before, after *riskmap.Shelter)

	targets  atomic.Pointer[Layer[*riskmap.ProtectiveTarget]]
	shelters atomic.Pointer[Layer[*riskmap.Shelter]]
	// writing serialises the writes: each commits, reaches its layer and its listener
	// before the next starts, so that layers and listeners see the writes in order.
	writing sync.Mutex
	// mark is the store's SitesMark when the layers were last read from it (under writing).
	mark string
}

// TargetRecorder and ShelterRecorder build the records of a write (its audit row).
type (
	TargetRecorder  = riskmap.SiteRecordFunc[*riskmap.ProtectiveTarget]
	ShelterRecorder = riskmap.SiteRecordFunc[*riskmap.Shelter]
)

// Load reads every target and shelter into memory.
func (s *Service) Load(ctx context.Context) error {
	s.writing.Lock()
	defer s.writing.Unlock()
	// The mark first: a write between it and the reads makes the next Sync read again.
	mark, err := s.Store.SitesMark(ctx)
	if err != nil {
		return err
	}
	ts, err := s.Store.ProtectiveTargets(ctx)
	if err != nil {
		return err
	}
	ss, err := s.Store.Shelters(ctx)
	if err != nil {
		return err
	}
	s.targets.Store(newLayer(ts))
	s.shelters.Store(newLayer(ss))
	s.mark = mark
	return nil
}

// Sync brings in the writes other replicas made (on a shared PostGIS): when the store's
// mark has moved since the layers were read, it rereads every site and applies what
// differs (by id and version) to the layers and the listeners, as its own writes. It
// returns how many sites changed.
func (s *Service) Sync(ctx context.Context) (int, error) {
	s.writing.Lock()
	defer s.writing.Unlock()
	mark, err := s.Store.SitesMark(ctx)
	if err != nil || mark == s.mark {
		return 0, err
	}
	ts, err := s.Store.ProtectiveTargets(ctx)
	if err != nil {
		return 0, err
	}
	ss, err := s.Store.Shelters(ctx)
	if err != nil {
		return 0, err
	}
	n := syncLayer(s.Targets(), ts, func(t *riskmap.ProtectiveTarget) int64 { return t.Version }, s.targetWritten)
	n += syncLayer(s.Shelters(), ss, func(sh *riskmap.Shelter) int64 { return sh.Version }, s.shelterWritten)
	s.mark = mark
	return n, nil
}

// syncLayer applies to a layer (through written, as a write of this replica) each site of
// stored that is new or of another version, and the removal of each site it holds that
// stored lacks.
func syncLayer[T Item](l *Layer[T], stored []T, version func(T) int64, written func(before, after T)) int {
	n := 0
	var none T
	seen := make(map[int64]bool, len(stored))
	for _, x := range stored {
		seen[x.SiteID()] = true
		old, ok := l.Get(x.SiteID())
		if ok && version(old) == version(x) {
			continue
		}
		if !ok {
			old = none
		}
		written(old, x)
		n++
	}
	for _, x := range l.All() {
		if !seen[x.SiteID()] {
			written(x, none)
			n++
		}
	}
	return n
}

// Loaded reports whether Load has run.
func (s *Service) Loaded() bool { return s.targets.Load() != nil }

// Targets is the current snapshot of the protective targets (empty before Load).
func (s *Service) Targets() *Layer[*riskmap.ProtectiveTarget] {
	if l := s.targets.Load(); l != nil {
		return l
	}
	return newLayer[*riskmap.ProtectiveTarget](nil)
}

// Shelters is the current snapshot of the shelters (empty before Load).
func (s *Service) Shelters() *Layer[*riskmap.Shelter] {
	if l := s.shelters.Load(); l != nil {
		return l
	}
	return newLayer[*riskmap.Shelter](nil)
}

// Limits are what a site is checked against.
func (s *Service) Limits() riskmap.SiteLimits {
	return riskmap.SiteLimits{City: s.Bound, AreaM2: analysis.AreaM2, MaxAreaRatio: s.Config.MaxAreaRatio}
}

// Name is the name of a region ("" unknown).
func (s *Service) Name(code string) string {
	if s.RegionName == nil || code == "" {
		return ""
	}
	return s.RegionName(code)
}

// FootprintM2 is the area of a polygon site in m²; false for a point.
func FootprintM2(g orb.Geometry) (float64, bool) {
	switch g.(type) {
	case orb.Polygon, orb.MultiPolygon:
		return analysis.AreaM2(g), true
	}
	return 0, false
}

// RepresentativePoint is a point of g that lies in it: the point itself, or a polygon's
// centroid when inside it, else the first corner of its outer ring.
func RepresentativePoint(g orb.Geometry) (orb.Point, bool) {
	switch g := g.(type) {
	case orb.Point:
		return g, true
	case orb.Polygon:
		return polygonPoint(g)
	case orb.MultiPolygon:
		// The largest part.
		best, area := -1, -1.0
		for i, p := range g {
			if a := planar.Area(p); a > area {
				best, area = i, a
			}
		}
		if best >= 0 {
			return polygonPoint(g[best])
		}
	}
	return orb.Point{}, false
}

func polygonPoint(p orb.Polygon) (orb.Point, bool) {
	if len(p) == 0 || len(p[0]) == 0 {
		return orb.Point{}, false
	}
	if c, _ := planar.CentroidArea(p); planar.PolygonContains(p, c) {
		return c, true
	}
	return p[0][0], true
}

// locate sets the region code of a site at g from its position, when the service can.
func (s *Service) locate(code *string, g orb.Geometry) {
	if s.Locate == nil {
		return
	}
	if p, ok := RepresentativePoint(g); ok {
		*code = s.Locate(p)
	}
}

// forbidden refuses a write of a site in region outside the writer's scope.
func forbidden(region string) error {
	if region == "" {
		return riskmap.Errorf(riskmap.EFORBIDDEN, "该位置不在任何区域内，只有管理员和专家可以编辑")
	}
	return riskmap.Errorf(riskmap.EFORBIDDEN, "区域 %s 不在您的管辖范围内", region)
}

// checkBefore holds a write of the stored site before (its region) to the writer's scope:
// a target the writer may not read is not found (notFound, when not nil, words that); a
// shelter, which everyone reads, is forbidden.
func checkBefore(by *riskmap.User, region string, notFound error) error {
	if notFound != nil && !riskmap.CanReadSite(by, region) {
		return notFound
	}
	if !riskmap.CanEditSite(by, region) {
		return forbidden(region)
	}
	return nil
}

// scoped wraps rec so that the write is rolled back when the site stored before it (read
// in the write's transaction) lies outside the writer's scope.
func scoped[T any](by *riskmap.User, region func(T) string, isNil func(T) bool, notFound func(T) error, rec riskmap.SiteRecordFunc[T]) riskmap.SiteRecordFunc[T] {
	return func(before, after T) (*riskmap.WriteRecords, error) {
		if !isNil(before) {
			if err := checkBefore(by, region(before), notFound(before)); err != nil {
				return nil, err
			}
		}
		if rec == nil {
			return nil, nil
		}
		return rec(before, after)
	}
}

// CreateTarget checks a new target (its region from its position), stores it with what
// rec records, and brings it into the layer and to OnTarget before it returns.
func (s *Service) CreateTarget(ctx context.Context, by *riskmap.User, t *riskmap.ProtectiveTarget, rec TargetRecorder) error {
	t.ID, t.Version = 0, 0
	if err := s.prepareTarget(by, t); err != nil {
		return err
	}
	s.writing.Lock()
	defer s.writing.Unlock()
	if err := s.Store.CreateProtectiveTargetRecorded(ctx, t, s.scopeTarget(by, rec)); err != nil {
		return err
	}
	s.targetWritten(nil, t)
	return nil
}

// UpdateTarget replaces target t.ID if its version is still t.Version.
func (s *Service) UpdateTarget(ctx context.Context, by *riskmap.User, t *riskmap.ProtectiveTarget, rec TargetRecorder) error {
	if old, ok := s.Targets().Get(t.ID); ok {
		if err := checkBefore(by, old.RegionCode, riskmap.TargetNotFound(t.ID)); err != nil {
			return err
		}
	}
	if err := s.prepareTarget(by, t); err != nil {
		return err
	}
	s.writing.Lock()
	defer s.writing.Unlock()
	if cur, ok := s.unchangedTarget(ctx, t); ok {
		*t = *cur
		return nil
	}
	var before *riskmap.ProtectiveTarget
	err := s.Store.UpdateProtectiveTargetRecorded(ctx, t, s.scopeTarget(by, func(b, a *riskmap.ProtectiveTarget) (*riskmap.WriteRecords, error) {
		before = b
		if rec == nil {
			return nil, nil
		}
		return rec(b, a)
	}))
	if err != nil {
		return err
	}
	s.targetWritten(before, t)
	return nil
}

// DeleteTarget removes target id if its version is still version, and returns it.
func (s *Service) DeleteTarget(ctx context.Context, by *riskmap.User, id, version int64, rec TargetRecorder) (*riskmap.ProtectiveTarget, error) {
	if old, ok := s.Targets().Get(id); ok {
		if err := checkBefore(by, old.RegionCode, riskmap.TargetNotFound(id)); err != nil {
			return nil, err
		}
	}
	s.writing.Lock()
	defer s.writing.Unlock()
	before, err := s.Store.DeleteProtectiveTargetRecorded(ctx, id, version, s.scopeTarget(by, rec))
	if err != nil {
		return nil, err
	}
	s.targetWritten(before, nil)
	return before, nil
}

func (s *Service) scopeTarget(by *riskmap.User, rec TargetRecorder) TargetRecorder {
	return scoped(by, func(t *riskmap.ProtectiveTarget) string { return t.RegionCode },
		func(t *riskmap.ProtectiveTarget) bool { return t == nil },
		func(t *riskmap.ProtectiveTarget) error { return riskmap.TargetNotFound(t.ID) }, rec)
}

// prepareTarget completes and checks a target to be written by by.
func (s *Service) prepareTarget(by *riskmap.User, t *riskmap.ProtectiveTarget) error {
	s.locate(&t.RegionCode, t.Geometry)
	if err := t.ValidateIn(s.Limits()); err != nil {
		return err
	}
	if !riskmap.CanEditSite(by, t.RegionCode) {
		return forbidden(t.RegionCode)
	}
	return nil
}

// targetWritten brings a committed write into the layer and to OnTarget.
func (s *Service) targetWritten(before, after *riskmap.ProtectiveTarget) {
	l := s.Targets()
	var kept *riskmap.ProtectiveTarget
	if after != nil {
		c := *after
		kept = &c
		s.targets.Store(l.with(after.ID, kept, true))
	} else {
		s.targets.Store(l.with(before.ID, nil, false))
	}
	if s.OnTarget != nil {
		s.OnTarget(before, kept)
	}
}

// CreateShelter checks a new shelter (its region from its position, its service radius
// from its kind when it gives none), stores it with what rec records, and brings it into
// the layer and to OnShelter before it returns.
func (s *Service) CreateShelter(ctx context.Context, by *riskmap.User, sh *riskmap.Shelter, rec ShelterRecorder) error {
	sh.ID, sh.Version = 0, 0
	if err := s.prepareShelter(by, sh); err != nil {
		return err
	}
	s.writing.Lock()
	defer s.writing.Unlock()
	if err := s.Store.CreateShelterRecorded(ctx, sh, s.scopeShelter(by, rec)); err != nil {
		return err
	}
	s.shelterWritten(nil, sh)
	return nil
}

// UpdateShelter replaces shelter sh.ID if its version is still sh.Version.
func (s *Service) UpdateShelter(ctx context.Context, by *riskmap.User, sh *riskmap.Shelter, rec ShelterRecorder) error {
	if old, ok := s.Shelters().Get(sh.ID); ok {
		if err := checkBefore(by, old.RegionCode, nil); err != nil {
			return err
		}
	}
	if err := s.prepareShelter(by, sh); err != nil {
		return err
	}
	s.writing.Lock()
	defer s.writing.Unlock()
	if cur, ok := s.unchangedShelter(ctx, sh); ok {
		*sh = *cur
		return nil
	}
	var before *riskmap.Shelter
	err := s.Store.UpdateShelterRecorded(ctx, sh, s.scopeShelter(by, func(b, a *riskmap.Shelter) (*riskmap.WriteRecords, error) {
		before = b
		if rec == nil {
			return nil, nil
		}
		return rec(b, a)
	}))
	if err != nil {
		return err
	}
	s.shelterWritten(before, sh)
	return nil
}

// DeleteShelter removes shelter id if its version is still version, and returns it.
func (s *Service) DeleteShelter(ctx context.Context, by *riskmap.User, id, version int64, rec ShelterRecorder) (*riskmap.Shelter, error) {
	if old, ok := s.Shelters().Get(id); ok {
		if err := checkBefore(by, old.RegionCode, nil); err != nil {
			return nil, err
		}
	}
	s.writing.Lock()
	defer s.writing.Unlock()
	before, err := s.Store.DeleteShelterRecorded(ctx, id, version, s.scopeShelter(by, rec))
	if err != nil {
		return nil, err
	}
	s.shelterWritten(before, nil)
	return before, nil
}

func (s *Service) scopeShelter(by *riskmap.User, rec ShelterRecorder) ShelterRecorder {
	return scoped(by, func(sh *riskmap.Shelter) string { return sh.RegionCode },
		func(sh *riskmap.Shelter) bool { return sh == nil },
		func(*riskmap.Shelter) error { return nil }, rec)
}

// prepareShelter completes and checks a shelter to be written by by.
func (s *Service) prepareShelter(by *riskmap.User, sh *riskmap.Shelter) error {
	s.locate(&sh.RegionCode, sh.Geometry)
	if sh.ServiceRadiusM == 0 {
		sh.ServiceRadiusM = s.Config.ShelterRadiusM[sh.Kind]
	}
	if err := sh.ValidateIn(s.Limits()); err != nil {
		return err
	}
	if !riskmap.CanEditSite(by, sh.RegionCode) {
		return forbidden(sh.RegionCode)
	}
	return nil
}

// shelterWritten brings a committed write into the layer and to OnShelter.
func (s *Service) shelterWritten(before, after *riskmap.Shelter) {
	l := s.Shelters()
	var kept *riskmap.Shelter
	if after != nil {
		c := *after
		kept = &c
		s.shelters.Store(l.with(after.ID, kept, true))
	} else {
		s.shelters.Store(l.with(before.ID, nil, false))
	}
	if s.OnShelter != nil {
		s.OnShelter(before, kept)
	}
}
