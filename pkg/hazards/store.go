package hazards

import (
	"context"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// Filter selects hidden dangers. Zero values select everything; a nil list does not
// filter, a non-nil empty one selects nothing.
type Filter struct {
	UnitID   int64
	Statuses []Status
	Levels   []Level
	// Open keeps the hidden dangers that are not closed.
	Open bool
	// Today is the day Overdue and DueWithin count from (UTC date).
	Today time.Time
	// Overdue keeps those past their deadline on Today and not yet accepted.
	Overdue bool
	// DueWithinDays > 0 keeps those not accepted whose deadline falls from Today to Today
	// plus that many days (临期).
	DueWithinDays int
	// Supervised keeps the major ones under supervision (挂牌督办).
	Supervised   bool
	RegionPrefix string
	Departments  []string
	Categories   []string
	// BBox matches the hidden danger's point.
	BBox *orb.Bound
	// Q matches code, unit code, unit name or description, literally.
	Q string
	// Scope, when it is a department user, keeps only the hidden dangers of units in its
	// scope (riskmap.User.InScope on Department and RegionCode).
	Scope   *riskmap.User
	AfterID int64
	Limit   int
}

// Count is one group of CountHazards.
type Count struct {
	Key        string `json:"key"`        // the category, region (6 digits) or department
	Total      int    `json:"total"`      // every hidden danger in the group
	Closed     int    `json:"closed"`     // 销号
	Accepted   int    `json:"accepted"`   // accepted or closed: rectified (已整改)
	Open       int    `json:"open"`       // not closed
	OpenMajor  int    `json:"open_major"` // open and major
	Overdue    int    `json:"overdue"`    // past deadline, not accepted
	DueSoon    int    `json:"due_soon"`   // due within Filter.DueWithinDays (default 7)
	Supervised int    `json:"supervised"` // open, under supervision
}

// Group keys of CountHazards.
const (
	ByCategory   = "category"
	ByRegion     = "region" // the first 6 digits of the region code (区县)
	ByDepartment = "department"
)

// ReportFilter selects public reports for staff.
type ReportFilter struct {
	Statuses     []string
	RegionPrefix string
	Departments  []string
	// Scope, when it is a department user, keeps the reports in its scope.
	Scope   *riskmap.User
	AfterID int64
	Limit   int
}

// Store keeps hidden dangers, their history and photos, and public reports. PostGIS and the
// GeoPackage implement it and pass storetest's hazard contract.
//
// Every write that can change what a unit's grade depends on (CreateHazard, UpdateHazard,
// ConvertReport) recomputes the unit's Dynamics in its own transaction: it locks the unit's
// row, reads the unit, the inherent grade of its approved revision and its open conditions
// (today: one per open hidden danger, Source riskmap.ConditionHazard, Ref its code, Level
// its level, Since its found_at; oldest first), calls dyn, and when the result differs from
// what is stored (grade, approved grade, conditions, open count or next review date) writes
// it as a new version of the unit (approved_units and unit_authors.approved_version follow
// when they were at the old version). It returns the unit as stored afterwards, or nil
// when nothing about it changed. rec (nil: nothing) is called last in the transaction.
type Store interface {
	// CreateHazard stores a new hidden danger; it sets ID, Code (YH-<found year>-<id, 6
	// digits>), Version (1), CreatedAt and UpdatedAt, and stores ev (its EventCreated) with
	// HazardID set. ENOTFOUND when the unit does not exist or is retired.
	CreateHazard(ctx context.Context, h *Hazard, ev *Event, dyn riskmap.DynamicsFunc, rec riskmap.AccessRecordFunc) (*riskmap.Unit, error)
	// UpdateHazard replaces hidden danger h.ID if its stored version is still h.Version
	// (else EPRECONDITION, nothing changed), increments Version, sets UpdatedAt and appends
	// the events evs to its history.
	UpdateHazard(ctx context.Context, h *Hazard, evs []*Event, dyn riskmap.DynamicsFunc, rec riskmap.AccessRecordFunc) (*riskmap.Unit, error)
	// GetHazard returns one hidden danger; ENOTFOUND if there is none.
	GetHazard(ctx context.Context, id int64) (*Hazard, error)
	// FindHazards returns the hidden dangers the filter selects, ordered by id, and how many
	// match in all (ignoring AfterID and Limit).
	FindHazards(ctx context.Context, f Filter) ([]*Hazard, int, error)
	// CountHazards counts the hidden dangers the filter selects by group (ByCategory,
	// ByRegion, ByDepartment), ordered by key.
	CountHazards(ctx context.Context, f Filter, by string) ([]Count, error)
	// HazardEvents returns a hidden danger's history, oldest first.
	HazardEvents(ctx context.Context, id int64) ([]*Event, error)

	// AddPhoto stores a photo (ID and At set) and, for a hidden danger, ev in its history.
	AddPhoto(ctx context.Context, p *Photo, ev *Event, rec riskmap.AccessRecordFunc) error
	// Photos lists the photos of an owner ("hazard" or "report") without their bytes,
	// oldest first.
	Photos(ctx context.Context, owner string, ownerID int64) ([]*Photo, error)
	// GetPhoto returns one photo with its bytes; ENOTFOUND if there is none.
	GetPhoto(ctx context.Context, id int64) (*Photo, error)

	// CreateReport stores a citizen's report (ID, Version 1, times set) and its photo (when
	// not nil, OwnerID set) in one transaction. ECONFLICT when the tracking number is taken.
	CreateReport(ctx context.Context, r *Report, photo *Photo, rec riskmap.AccessRecordFunc) error
	// GetReport and ReportByTracking return one report; ENOTFOUND if there is none.
	GetReport(ctx context.Context, id int64) (*Report, error)
	ReportByTracking(ctx context.Context, tracking string) (*Report, error)
	// FindReports returns the reports the filter selects, newest first, and the count.
	FindReports(ctx context.Context, f ReportFilter) ([]*Report, int, error)
	// UpdateReport replaces report r.ID if its version is still r.Version (EPRECONDITION
	// otherwise) and increments it: a dismissal.
	UpdateReport(ctx context.Context, r *Report, rec riskmap.AccessRecordFunc) error
	// ConvertReport turns a report into a hidden danger in one transaction: UpdateReport of
	// r (HazardID set from the new hidden danger) and CreateHazard of h.
	ConvertReport(ctx context.Context, r *Report, h *Hazard, ev *Event, dyn riskmap.DynamicsFunc, rec riskmap.AccessRecordFunc) (*riskmap.Unit, error)
}
