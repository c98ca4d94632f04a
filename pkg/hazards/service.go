package hazards

import (
	"context"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
)

// UnitReader reads the unit a hidden danger belongs to (a riskmap.Store).
type UnitReader interface {
	GetUnit(ctx context.Context, id int64) (*riskmap.Unit, error)
}

// Applier brings a unit a hazard write changed into the index (register.Service's
// ApplyStored), before the write's answer, so that its tiles change first.
type Applier interface {
	ApplyStored(u *riskmap.Unit) (bool, error)
}

// Service holds the use cases of hidden dangers and public reports: it validates, applies
// the closed loop's rules and the department scope, and writes through the Store with a
// Recorder, so that every change commits with its audit row.
type Service struct {
	Store Store
	// Dynamics computes a unit's current grade from its open conditions
	// (grading.Grader.Dynamics).
	Dynamics riskmap.DynamicsFunc
	// Index receives the units a write changed; nil: none.
	Index Applier
	Units UnitReader
	// Catalog names categories and gives a category's department (reports).
	Catalog *riskmap.Catalog
	// Locate gives the code of the finest region holding a point (regiongrade.Containing);
	// "" when the point lies outside every region.
	Locate func(orb.Point) string
	// Limiter throttles public reports per client; nil: DefaultLimiter's limits, made once.
	Limiter *Limiter
	// ClientKey keys the hash of a client's address kept with a report.
	ClientKey []byte
	Now       func() time.Time
}

// Change is what a write changed, for its Recorder.
type Change struct {
	Before, After *Hazard
	Events        []*Event
	Report        *Report
	Photo         *Photo
}

// Recorder builds the records (the audit row) a write commits with; nil records nothing.
type Recorder func(Change) (*riskmap.WriteRecords, error)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Today is the day overdue and due-soon count from: today's date in China, as midnight UTC.
func (s *Service) Today() time.Time {
	y, m, d := s.now().In(riskmap.ChinaTime).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func record(rec Recorder, ch Change) riskmap.AccessRecordFunc {
	if rec == nil {
		return nil
	}
	return func() (*riskmap.WriteRecords, error) { return rec(ch) }
}

// applied brings the unit a write returned into the index.
func (s *Service) applied(u *riskmap.Unit, err error) error {
	if err != nil {
		return err
	}
	if u != nil && s.Index != nil {
		if _, err := s.Index.ApplyStored(u); err != nil {
			return &register.IndexError{Err: err}
		}
	}
	return nil
}

func hazardNotFound(id int64) error {
	return riskmap.Errorf(riskmap.ENOTFOUND, "没有编号为 %d 的隐患", id)
}

// Hidden is the not-found answer about an object that exists outside the user's scope:
// the same answer as for one that does not exist, which the HTTP layer counts as a refusal
// (the audit log's hiding 404).
type Hidden struct{ Err error }

func (h *Hidden) Error() string { return h.Err.Error() }
func (h *Hidden) Unwrap() error { return h.Err }

// Get returns a hidden danger the user may read; one outside its scope is not found, as
// one that does not exist (*Hidden).
func (s *Service) Get(ctx context.Context, by *riskmap.User, id int64) (*Hazard, error) {
	h, err := s.Store.GetHazard(ctx, id)
	if riskmap.ErrorCode(err) == riskmap.ENOTFOUND {
		return nil, hazardNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	if !riskmap.CanReadInternal(by, h.Category, h.RegionCode) {
		return nil, &Hidden{hazardNotFound(id)}
	}
	return h, nil
}

// writable returns a hidden danger the user may change.
func (s *Service) writable(ctx context.Context, by *riskmap.User, id int64) (*Hazard, error) {
	h, err := s.Get(ctx, by, id)
	if err != nil {
		return nil, err
	}
	if !riskmap.CanEdit(by, h.Category, h.RegionCode) {
		return nil, riskmap.Errorf(riskmap.EFORBIDDEN, "隐患 %s 不在您的管辖范围内", h.Code)
	}
	return h, nil
}

// List returns the hidden dangers of the filter within the user's scope, and how many match.
func (s *Service) List(ctx context.Context, by *riskmap.User, f Filter) ([]*Hazard, int, error) {
	f.Scope = scopeOf(by)
	if f.Today.IsZero() {
		f.Today = s.Today()
	}
	return s.Store.FindHazards(ctx, f)
}

func scopeOf(u *riskmap.User) *riskmap.User {
	if u != nil && u.Role == riskmap.RoleDepartment {
		return u
	}
	return nil
}

// History returns a hidden danger's history, oldest first.
func (s *Service) History(ctx context.Context, by *riskmap.User, id int64) ([]*Event, error) {
	if _, err := s.Get(ctx, by, id); err != nil {
		return nil, err
	}
	return s.Store.HazardEvents(ctx, id)
}

// unitOf loads the unit a hidden danger is to belong to and copies what the hazard keeps
// of it; a unit outside the user's scope is refused (EFORBIDDEN), one that does not exist
// or is retired is not found.
func (s *Service) unitOf(ctx context.Context, by *riskmap.User, h *Hazard) (*riskmap.Unit, error) {
	u, err := s.Units.GetUnit(ctx, h.UnitID)
	if err == nil && u.Status == riskmap.StatusRetired {
		err = riskmap.Errorf(riskmap.ENOTFOUND, "风险单元 %d 已注销", h.UnitID)
	}
	if riskmap.ErrorCode(err) == riskmap.ENOTFOUND {
		return nil, riskmap.Errorf(riskmap.ENOTFOUND, "没有编号为 %d 的风险单元", h.UnitID).
			WithFields([]riskmap.FieldError{riskmap.FieldErrorf("unit_id", "没有这个风险单元")})
	}
	if err != nil {
		return nil, err
	}
	if !riskmap.CanEdit(by, u.Category, u.RegionCode) {
		return nil, riskmap.Errorf(riskmap.EFORBIDDEN, "风险单元 %d 不在您的管辖范围内", u.ID)
	}
	h.UnitCode, h.UnitName, h.Category, h.RegionCode = u.Code, u.Name, u.Category, u.RegionCode
	h.Department = u.ResponsibleDepartment
	if h.Department == "" && s.Catalog != nil {
		if c, ok := s.Catalog.Category(u.Category); ok {
			h.Department = c.Department
		}
	}
	if h.Point == (orb.Point{}) && u.Geometry != nil {
		h.Point = representative(u.Geometry)
	}
	return u, nil
}

// representative is a point of the unit's place: a point itself, else its centroid.
func representative(g orb.Geometry) orb.Point {
	if p, ok := g.(orb.Point); ok {
		return p
	}
	c, _ := planar.CentroidArea(g)
	if c == (orb.Point{}) {
		c = g.Bound().Center()
	}
	return c
}

func userName(by *riskmap.User) string {
	if by == nil {
		return ""
	}
	return by.Name
}

// Create registers a new hidden danger (登记) on a unit in the user's scope.
func (s *Service) Create(ctx context.Context, by *riskmap.User, h *Hazard, rec Recorder) error {
	now := s.now()
	h.ID, h.Code, h.Version = 0, "", 0
	h.Status = StatusRegistered
	h.Supervision, h.Extension = nil, nil
	h.AcceptedBy, h.AcceptedAt, h.ClosedBy, h.ClosedAt = "", nil, "", nil
	h.CreatedBy = userName(by)
	if strings.TrimSpace(h.FoundBy) == "" {
		h.FoundBy = userName(by)
	}
	if h.Source == "" {
		h.Source = SourceInspection
	}
	if h.Level == LevelGeneral {
		h.Five = nil
	}
	if err := checkNotFuture(h.FoundAt, now); err != nil {
		return err
	}
	if err := h.Validate(); err != nil {
		return err
	}
	if _, err := s.unitOf(ctx, by, h); err != nil {
		return err
	}
	ev := &Event{Kind: EventCreated, To: StatusRegistered, By: userName(by), At: now}
	u, err := s.Store.CreateHazard(ctx, h, ev, s.Dynamics, record(rec, Change{After: h, Events: []*Event{ev}}))
	return s.applied(u, err)
}

func checkNotFuture(found, now time.Time) error {
	if !found.IsZero() && found.After(now.Add(24*time.Hour)) {
		return riskmap.Problems{riskmap.FieldErrorf("found_at", "发现时间不能晚于今天")}.Err()
	}
	return nil
}

// Patch is a change of a hidden danger's fields (PATCH): nil leaves a field as it is. The
// deadline (only an approved extension moves it), the status (transitions) and the unit
// cannot be patched.
type Patch struct {
	Level             *Level               `json:"level"`
	Description       *string              `json:"description"`
	Location          *string              `json:"location"`
	Point             *[2]float64          `json:"point"`
	FoundAt           *Time                `json:"found_at"`
	FoundBy           *string              `json:"found_by"`
	Source            *Source              `json:"source"`
	ResponsibleUnit   *string              `json:"responsible_unit"`
	ResponsiblePerson *string              `json:"responsible_person"`
	Measures          *string              `json:"measures"`
	Five              *FiveImplementations `json:"five"`
}

// apply changes h and names the fields that changed.
func (p *Patch) apply(h *Hazard) []string {
	var changed []string
	set := func(name string, dst *string, v *string) {
		if v != nil && *v != *dst {
			*dst = *v
			changed = append(changed, name)
		}
	}
	if p.Level != nil && *p.Level != h.Level {
		h.Level = *p.Level
		changed = append(changed, "level")
	}
	set("description", &h.Description, p.Description)
	set("location", &h.Location, p.Location)
	if p.Point != nil && orb.Point(*p.Point) != h.Point {
		h.Point = orb.Point(*p.Point)
		changed = append(changed, "point")
	}
	if p.FoundAt != nil && !p.FoundAt.Time.Equal(h.FoundAt) {
		h.FoundAt = p.FoundAt.Time
		changed = append(changed, "found_at")
	}
	set("found_by", &h.FoundBy, p.FoundBy)
	if p.Source != nil && *p.Source != h.Source {
		h.Source = *p.Source
		changed = append(changed, "source")
	}
	set("responsible_unit", &h.ResponsibleUnit, p.ResponsibleUnit)
	set("responsible_person", &h.ResponsiblePerson, p.ResponsiblePerson)
	set("measures", &h.Measures, p.Measures)
	if p.Five != nil && (h.Five == nil || *h.Five != *p.Five) {
		f := *p.Five
		h.Five = &f
		changed = append(changed, "five")
	}
	return changed
}

// Update changes a hidden danger's fields, if it is still at version. A closed one is not
// changed any more.
func (s *Service) Update(ctx context.Context, by *riskmap.User, id, version int64, p Patch, rec Recorder) (*Hazard, error) {
	h, err := s.writable(ctx, by, id)
	if err != nil {
		return nil, err
	}
	if h.Version != version {
		return nil, s.stale(h, version)
	}
	if h.Status == StatusClosed {
		return nil, riskmap.Errorf(riskmap.ECONFLICT, "隐患 %s 已销号，不能再修改", h.Code)
	}
	before := *h
	after := *h
	changed := p.apply(&after)
	if after.Level == LevelGeneral {
		after.Five = nil
	}
	if err := checkNotFuture(after.FoundAt, s.now()); err != nil {
		return nil, err
	}
	if err := after.Validate(); err != nil {
		return nil, err
	}
	if len(changed) == 0 {
		return h, nil
	}
	data := map[string]any{"fields": changed}
	ev := &Event{HazardID: id, Kind: EventEdited, By: userName(by), At: s.now(), Data: data}
	u, err := s.Store.UpdateHazard(ctx, &after, []*Event{ev}, s.Dynamics, record(rec, Change{Before: &before, After: &after, Events: []*Event{ev}}))
	if riskmap.ErrorCode(err) == riskmap.EPRECONDITION {
		return nil, s.stale(h, version)
	}
	return &after, s.applied(u, err)
}

func (s *Service) stale(h *Hazard, version int64) error {
	return riskmap.Errorf(riskmap.EPRECONDITION, "隐患 %s 在第 %d 版之后已被他人修改；请重新加载后再操作", h.Code, version)
}

// write stores a change of h (already changed from before) with its events.
func (s *Service) write(ctx context.Context, before, h *Hazard, evs []*Event, rec Recorder) error {
	u, err := s.Store.UpdateHazard(ctx, h, evs, s.Dynamics, record(rec, Change{Before: before, After: h, Events: evs}))
	if riskmap.ErrorCode(err) == riskmap.EPRECONDITION {
		return s.stale(before, before.Version)
	}
	return s.applied(u, err)
}

// Reindex brings the unit of hidden danger id, as stored, into the index: after a write
// whose answer was lost (an Idempotency-Key's replay).
func (s *Service) Reindex(ctx context.Context, id int64) error {
	h, err := s.Store.GetHazard(ctx, id)
	if err != nil {
		return nil // nothing to bring
	}
	u, err := s.Units.GetUnit(ctx, h.UnitID)
	if err != nil {
		return nil
	}
	return s.applied(u, nil)
}
