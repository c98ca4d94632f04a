package hazards

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// Filter selects hidden dangers. Zero values select everything; a nil list does not
// filter, a non-nil empty one selects nothing.
type Filter struct {
	UnitID int64
	// AlarmID keeps the hidden danger made from that monitoring alarm.
	AlarmID  int64
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
	// scope (riskmap.User.InScope on Category and RegionCode, as FindUnits does).
	Scope   *riskmap.User
	AfterID int64
	Limit   int
}

// Count is one group of CountHazards.
type Count struct {
	Key        string `json:"key"`        // the category, region (9 digits: 乡镇/街道) or department
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
	ByRegion     = "region" // the first 9 digits of the region code (乡镇/街道)
	ByDepartment = "department"
)

// ReportFilter selects public reports for staff.
type ReportFilter struct {
	Statuses     []string
	RegionPrefix string
	Departments  []string
	// Scope, when it is a department user, keeps the reports in its scope
	// (riskmap.User.InScope on Category and RegionCode).
	Scope *riskmap.User
	// AfterID continues a listing (newest first): the reports with a smaller id.
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
	// digits>, HazardCode), Version (1), CreatedAt and UpdatedAt, copies UnitCode,
	// UnitName, Category, RegionCode and Department from the unit (Department: its
	// responsible department), sets a zero Point to the centre of the unit's bounds, and
	// stores ev (its EventCreated; nil: none) with ID and HazardID set (At, when zero, the
	// write's time). ENOTFOUND when the unit does not exist or is retired.
	CreateHazard(ctx context.Context, h *Hazard, ev *Event, dyn riskmap.DynamicsFunc, rec riskmap.AccessRecordFunc) (*riskmap.Unit, error)
	// UpdateHazard replaces hidden danger h.ID if its stored version is still h.Version
	// (else EPRECONDITION, nothing changed; ENOTFOUND when there is none), increments
	// Version, sets UpdatedAt and appends the events evs to its history (as CreateHazard
	// does ev). Its unit never changes: UnitID is set to the stored one, and the unit's
	// fields are copied again. A retired unit's dynamics are left alone.
	UpdateHazard(ctx context.Context, h *Hazard, evs []*Event, dyn riskmap.DynamicsFunc, rec riskmap.AccessRecordFunc) (*riskmap.Unit, error)
	// GetHazard returns one hidden danger; ENOTFOUND if there is none.
	GetHazard(ctx context.Context, id int64) (*Hazard, error)
	// FindHazards returns the hidden dangers the filter selects, ordered by id, and how many
	// match in all (ignoring AfterID and Limit).
	FindHazards(ctx context.Context, f Filter) ([]*Hazard, int, error)
	// CountHazards counts the hidden dangers the filter selects by group (ByCategory,
	// ByRegion, ByDepartment), ordered by key; another group is EINVALID. There
	// DueWithinDays does not select: it is the window of Count.DueSoon (default 7), and
	// AfterID and Limit are ignored.
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

// HazardCode is the code of hidden danger id found in year: YH-<year>-<id, 6 digits>.
func HazardCode(year int, id int64) string { return fmt.Sprintf("YH-%d-%06d", year, id) }

// HazardNotFound, StaleHazard, ReportNotFound, StaleReport, PhotoNotFound and
// TrackingTaken are the stores' errors: the same message from every store.
func HazardNotFound(id int64) error {
	return riskmap.Errorf(riskmap.ENOTFOUND, "没有编号为 %d 的隐患", id)
}

// StaleHazard: the hidden danger was written by someone else since it was read.
func StaleHazard(id, version, current int64) error {
	return riskmap.Errorf(riskmap.EPRECONDITION, "隐患 %d 已是第 %d 版而非第 %d 版：已被他人修改；请重新加载后再修改", id, current, version)
}

// ReportNotFound: no report has the id or tracking number.
func ReportNotFound() error { return riskmap.Errorf(riskmap.ENOTFOUND, "没有这条举报") }

// StaleReport: the report was handled by someone else since it was read.
func StaleReport(id, version, current int64) error {
	return riskmap.Errorf(riskmap.EPRECONDITION, "举报 %d 已是第 %d 版而非第 %d 版：已被他人处理；请重新加载后再处理", id, current, version)
}

// PhotoNotFound: no photo has the id.
func PhotoNotFound(id int64) error {
	return riskmap.Errorf(riskmap.ENOTFOUND, "没有编号为 %d 的照片", id)
}

// TrackingTaken: a report already has the tracking number.
func TrackingTaken() error {
	return riskmap.Errorf(riskmap.ECONFLICT, "举报跟踪号已被占用，请重新提交")
}

// CheckHazard rejects what a store's schema would reject with an opaque constraint error.
func CheckHazard(h *Hazard) error {
	switch {
	case !h.Level.Valid():
		return riskmap.Errorf(riskmap.EINVALID, "隐患等级 %q 无效", h.Level)
	case !h.Status.Valid():
		return riskmap.Errorf(riskmap.EINVALID, "隐患状态 %q 无效", h.Status)
	case !h.Source.Valid():
		return riskmap.Errorf(riskmap.EINVALID, "隐患来源 %q 无效", h.Source)
	case h.FoundAt.IsZero() || h.Deadline.IsZero():
		return riskmap.Errorf(riskmap.EINVALID, "隐患缺少发现时间或整改期限")
	}
	return nil
}

// OpenCondition is the condition an open hidden danger puts on its unit.
func OpenCondition(code string, level Level, foundAt time.Time) riskmap.Condition {
	return riskmap.Condition{Source: riskmap.ConditionHazard, Ref: code, Level: string(level), Since: foundAt.UTC()}
}

// DynamicsChanged reports whether d differs from what is stored for unit u.
//
// Deprecated: the stores use riskmap.DynamicsChanged, which also compares a condition's
// detail; this is it.
func DynamicsChanged(u *riskmap.Unit, approvedGrade riskmap.Grade, d riskmap.Dynamics) bool {
	return riskmap.DynamicsChanged(u, approvedGrade, d)
}

// UTCDay is t's date in UTC at midnight: how a store keeps a date (a deadline).
func UTCDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// CheckBBox rejects a box no query can use.
func CheckBBox(b orb.Bound) error {
	for _, v := range []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return riskmap.Errorf(riskmap.EINVALID, "bbox：坐标应为有限的数值")
		}
	}
	if b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1] {
		return riskmap.Errorf(riskmap.EINVALID, "bbox：最小值不能大于最大值")
	}
	return nil
}
