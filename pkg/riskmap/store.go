package riskmap

import (
	"context"
	"iter"
	"time"

	"github.com/paulmach/orb"
)

// UnitFilter selects units: every filter the API offers, which the stores answer in SQL and
// the spatial index with Matcher. Zero values select everything active. A nil list does not
// filter; a non-nil empty one selects nothing (a query that named no value).
type UnitFilter struct {
	BBox         *orb.Bound
	Categories   []string
	Grades       []Grade
	RegionPrefix string
	// Departments are responsible departments, matched exactly.
	Departments []string
	// Q matches units whose name or code contains it, literally.
	Q string
	// Kind keeps the units of one kind of geometry; an unknown kind selects nothing.
	Kind     GeometryKind
	Statuses []Status
	// IncludeRetired also returns retired units when Statuses is empty.
	IncludeRetired bool
	// ReviewDueBefore, when set, keeps the units whose next review (NextReviewDue, 下次复核)
	// falls before that day: overdue on it. Units without a review date never match. Only
	// the date of ReviewDueBefore (in UTC, as dates are stored) counts.
	ReviewDueBefore *time.Time
	// HasOpenHazards keeps the units with hidden dangers not yet closed (OpenHazards > 0).
	HasOpenHazards bool
	// Scope, when it is a department user, keeps only the units in that user's scope
	// (User.InScope); any other user sees everything.
	Scope *User
	// AfterID pages by id: only units with a larger id are returned.
	AfterID int64
	// Limit is the most units returned; 0 means no limit.
	Limit int
}

// UnitStore keeps the register. Every store passes the same contract tests.
type UnitStore interface {
	// CreateUnit stores a new, validated and graded unit; it sets ID, Version (1),
	// CreatedAt and UpdatedAt.
	CreateUnit(ctx context.Context, u *Unit) error
	// GetUnit returns a unit by id, retired ones included. ENOTFOUND if there is none.
	GetUnit(ctx context.Context, id int64) (*Unit, error)
	// UpdateUnit replaces the unit u.ID if its stored version is still u.Version; it then
	// increments Version and sets UpdatedAt. A stale version is EPRECONDITION and changes
	// nothing.
	UpdateUnit(ctx context.Context, u *Unit) error
	// RetireUnit marks a unit retired if its version is still version. Nothing is erased.
	RetireUnit(ctx context.Context, id, version int64) (*Unit, error)
	// FindUnits returns the units the filter selects, ordered by id, and how many match in
	// all (ignoring AfterID and Limit).
	FindUnits(ctx context.Context, f UnitFilter) ([]*Unit, int, error)
	// Units streams every unit that is not retired, ordered by id.
	Units(ctx context.Context) iter.Seq2[*Unit, error]
	// BulkInsertUnits stores many validated and graded units in one transaction, the
	// fastest way the store has. It calls progress now and then with the count so far.
	BulkInsertUnits(ctx context.Context, units iter.Seq[*Unit], progress func(n int)) (int, error)
	// CountUnits counts the units that are not retired.
	CountUnits(ctx context.Context) (int, error)

	// CreateUnitRecorded, UpdateUnitRecorded and RetireUnitRecorded are CreateUnit,
	// UpdateUnit and RetireUnit that also keep what rec returns (the author record, the
	// audit row, the answer for an Idempotency-Key) in the write's own transaction: all of
	// it commits or none of it. A nil rec records nothing.
	CreateUnitRecorded(ctx context.Context, u *Unit, rec RecordFunc) error
	UpdateUnitRecorded(ctx context.Context, u *Unit, rec RecordFunc) error
	RetireUnitRecorded(ctx context.Context, id, version int64, rec RecordFunc) (*Unit, error)
}

// RegionStore keeps the regions of the regional map.
type RegionStore interface {
	// PutRegions inserts or replaces regions by code.
	PutRegions(ctx context.Context, rs []*Region) error
	// Regions returns the regions of a level ("" for all), ordered by code.
	Regions(ctx context.Context, level string) ([]*Region, error)
	// GetRegion returns one region; ENOTFOUND if there is none.
	GetRegion(ctx context.Context, code string) (*Region, error)
}

// SiteStore keeps protective targets and emergency shelters.
// The bulk writes (AddProtectiveTargets, AddShelters) seed the demo city; the others are
// the managed layers' one-by-one writes, each with its audit row in its transaction.
type SiteStore interface {
	// AddProtectiveTargets stores new targets in one transaction and sets their IDs,
	// Version (1) and UpdatedAt.
	AddProtectiveTargets(ctx context.Context, ts []*ProtectiveTarget) error
	// ProtectiveTargets returns every protective target, ordered by id.
	ProtectiveTargets(ctx context.Context) ([]*ProtectiveTarget, error)
	AddShelters(ctx context.Context, ss []*Shelter) error
	Shelters(ctx context.Context) ([]*Shelter, error)

	// ProtectiveTarget returns one target; ENOTFOUND if there is none.
	ProtectiveTarget(ctx context.Context, id int64) (*ProtectiveTarget, error)
	// CreateProtectiveTargetRecorded stores a new, validated target, sets its ID, Version
	// (1) and UpdatedAt, and keeps what rec returns for (nil, t) in the same transaction.
	CreateProtectiveTargetRecorded(ctx context.Context, t *ProtectiveTarget, rec SiteRecordFunc[*ProtectiveTarget]) error
	// UpdateProtectiveTargetRecorded replaces target t.ID if its stored version is still
	// t.Version, then increments t.Version and sets t.UpdatedAt; rec gets the stored target
	// before and t after. A stale version is EPRECONDITION, a missing target ENOTFOUND;
	// either changes nothing.
	UpdateProtectiveTargetRecorded(ctx context.Context, t *ProtectiveTarget, rec SiteRecordFunc[*ProtectiveTarget]) error
	// DeleteProtectiveTargetRecorded removes target id if its version is still version and
	// returns it as it was; rec gets (it, nil).
	DeleteProtectiveTargetRecorded(ctx context.Context, id, version int64, rec SiteRecordFunc[*ProtectiveTarget]) (*ProtectiveTarget, error)

	// Shelter, CreateShelterRecorded, UpdateShelterRecorded and DeleteShelterRecorded are
	// the same for shelters.
	Shelter(ctx context.Context, id int64) (*Shelter, error)
	CreateShelterRecorded(ctx context.Context, sh *Shelter, rec SiteRecordFunc[*Shelter]) error
	UpdateShelterRecorded(ctx context.Context, sh *Shelter, rec SiteRecordFunc[*Shelter]) error
	DeleteShelterRecorded(ctx context.Context, id, version int64, rec SiteRecordFunc[*Shelter]) (*Shelter, error)
	// SitesMark is a short text that stays the same while no target or shelter is written
	// and changes with the sites: two equal marks mean the same sites (ids and versions),
	// whoever wrote them. A replica rereads the sites when it moves (sites.Service.Sync).
	SitesMark(ctx context.Context) (string, error)
}

// Store is everything a backing store provides. PostGIS and the GeoPackage file implement
// it.
type Store interface {
	UnitStore
	RegionStore
	SiteStore
	UserStore
	AccessStore
	AuditStore
	ReviewStore
	PublicationStore
	IdempotencyStore
	// Migrate applies the schema migrations that have not been applied yet.
	Migrate(ctx context.Context) error
	// Ping reports whether the store answers.
	Ping(ctx context.Context) error
	Close() error
}
