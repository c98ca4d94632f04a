package monitoring

import (
	"context"
	"time"

	"riskmap/pkg/riskmap"
)

// Step is the resolution of a readings query: every reading, or buckets of 1, 5, 15 or 30
// minutes or an hour. The minute and hour buckets are the stored rollups; 5, 15 and 30
// minutes are the minute rollups merged by the database as it reads them, so that a chart
// of a month (1,440 buckets of 30 minutes) reads the minute rollups but sends a chart's
// worth of samples.
type Step string

// Steps of a readings query.
const (
	StepRaw       Step = "raw"
	StepMinute    Step = "1m"
	Step5Minutes  Step = "5m"
	Step15Minutes Step = "15m"
	Step30Minutes Step = "30m"
	StepHour      Step = "1h"
)

// Valid reports whether s is a known step.
func (s Step) Valid() bool { return s == StepRaw || s.Duration() > 0 }

// Duration is the length of a bucket of s (zero for raw or an unknown step).
func (s Step) Duration() time.Duration {
	switch s {
	case StepMinute:
		return time.Minute
	case Step5Minutes:
		return 5 * time.Minute
	case Step15Minutes:
		return 15 * time.Minute
	case Step30Minutes:
		return 30 * time.Minute
	case StepHour:
		return time.Hour
	}
	return 0
}

// Merged reports whether s is read by merging minute rollups (5, 15 and 30 minutes).
func (s Step) Merged() bool { return s == Step5Minutes || s == Step15Minutes || s == Step30Minutes }

// Sample is one row of a readings query: a reading (Count 1, Min = Max = Avg = the value)
// or the rollup of a bucket starting at Time.
type Sample struct {
	Time  time.Time `json:"time"`
	Min   float64   `json:"min"`
	Max   float64   `json:"max"`
	Avg   float64   `json:"avg"`
	Count int64     `json:"count"`
}

// AlarmFilter selects alarms; zero fields select everything.
type AlarmFilter struct {
	Status  Status // one status
	Open    bool   // only alarms that are not closed
	Level   Level
	UnitID  int64
	PointID int64
	// Before selects the alarms with an id below it (0: any): the next page after the
	// lowest id of the one before.
	Before int64
	Limit  int // at most this many (default and cap MaxAlarms)
}

// MaxAlarms is the most alarms FindAlarms returns at once.
const MaxAlarms = 1000

// Store keeps monitoring points, their readings with their minute and hour rollups, and
// alarms. Both stores (PostGIS, GeoPackage) implement it and pass storetest's Monitoring
// contract.
//
// The …Recorded writes keep what rec returns (the audit row, the answer of an
// Idempotency-Key) in the write's own transaction: an error of rec rolls the write back and
// leaves the argument as it was. A nil rec records nothing.
type Store interface {
	// CreatePointRecorded stores a new point (validated by the caller) and sets ID, Version
	// (1) and UpdatedAt. ECONFLICT when its code is taken; ENOTFOUND when its unit does not
	// exist.
	CreatePointRecorded(ctx context.Context, p *Point, rec riskmap.AccessRecordFunc) error
	// UpdatePointRecorded replaces point p.ID if its stored version is still p.Version,
	// then increments Version and sets UpdatedAt. EPRECONDITION when stale (nothing
	// changed), ENOTFOUND when there is no such point or unit, ECONFLICT when the code is
	// taken.
	UpdatePointRecorded(ctx context.Context, p *Point, rec riskmap.AccessRecordFunc) error
	// DeletePointRecorded deletes point id at version, with its readings and rollups.
	// EPRECONDITION when stale, ENOTFOUND when there is none, ECONFLICT when the point has
	// alarms (their history stays).
	DeletePointRecorded(ctx context.Context, id, version int64, rec riskmap.AccessRecordFunc) error
	// GetPoint returns one point; ENOTFOUND when there is none.
	GetPoint(ctx context.Context, id int64) (*Point, error)
	// Points returns the points of a unit (0: every point), ordered by id.
	Points(ctx context.Context, unitID int64) ([]*Point, error)

	// AppendReadings stores readings (validated by the caller) in one transaction and
	// updates the rollups of their minutes and hours in it. A reading of a (point, time)
	// stored already, or repeating an earlier one of rs, is ignored, not an error: dups are
	// the indexes in rs of those readings, in increasing order; added is how many were new
	// (len(rs) - len(dups)). Readings may come in any order. ENOTFOUND when a point does
	// not exist (nothing stored). The PostGIS store creates missing monthly partitions first.
	AppendReadings(ctx context.Context, rs []Reading) (added int, dups []int, err error)
	// Readings returns the readings of a point at from ≤ time < to, oldest first: every
	// reading (StepRaw) or the rollups of the minutes or hours that start in the range, or
	// the minute rollups merged into buckets of 5, 15 or 30 minutes (aligned on the Unix
	// epoch: a bucket starts at a multiple of its length).
	// EINVALID on an unknown step.
	Readings(ctx context.Context, point int64, from, to time.Time, step Step) ([]Sample, error)
	// LatestReadings returns the newest reading of every point that has one, by point id:
	// what an evaluator loads at start.
	LatestReadings(ctx context.Context) ([]Reading, error)
	// EnsurePartitions makes sure readings of every month from from to to (inclusive) can be
	// stored (PostGIS: creates the monthly partitions; GeoPackage: nothing to do).
	EnsurePartitions(ctx context.Context, from, to time.Time) error
	// DropReadingsBefore deletes the readings older than t, and the rollup buckets that end
	// at or before t; it returns how many readings went. PostGIS drops whole monthly
	// partitions that end at or before t and deletes the rest row by row.
	DropReadingsBefore(ctx context.Context, t time.Time) (int64, error)

	// OpenAlarmRecorded stores a new alarm (validated by the caller, status not closed) and
	// sets ID and Version (1). ECONFLICT when the point has an open alarm of the rule
	// already — the database enforces one, also between concurrent writers — or the code is
	// taken; ENOTFOUND when the point does not exist.
	OpenAlarmRecorded(ctx context.Context, a *Alarm, rec riskmap.AccessRecordFunc) error
	// UpdateAlarmRecorded replaces alarm a.ID's level, status, times, action, peak and last
	// value if its stored version is still a.Version, and increments Version. EPRECONDITION
	// when stale, ENOTFOUND when there is none, ECONFLICT when reopening it would make a
	// second open alarm of its point and rule. Its point, unit, rule and code never change.
	UpdateAlarmRecorded(ctx context.Context, a *Alarm, rec riskmap.AccessRecordFunc) error
	// GetAlarm returns one alarm; ENOTFOUND when there is none.
	GetAlarm(ctx context.Context, id int64) (*Alarm, error)
	// FindAlarms returns the alarms the filter selects, newest (highest id) first.
	FindAlarms(ctx context.Context, f AlarmFilter) ([]*Alarm, error)
}

// The stores' errors: the same message from every store.

// PointNotFound is the error of a point that does not exist.
func PointNotFound(id int64) error {
	return riskmap.Errorf(riskmap.ENOTFOUND, "没有编号为 %d 的监测点", id)
}

// StalePoint: the point was written by someone else since it was read.
func StalePoint(id int64) error {
	return riskmap.Errorf(riskmap.EPRECONDITION, "监测点 %d 已被他人修改，请刷新后重试", id)
}

// PointCodeTaken: another point has the code.
func PointCodeTaken(code string) error {
	return riskmap.Errorf(riskmap.ECONFLICT, "监测点编号 %q 已被使用", code)
}

// PointHasAlarms: a point with alarms is not deleted.
func PointHasAlarms(id int64) error {
	return riskmap.Errorf(riskmap.ECONFLICT, "监测点 %d 有报警记录，不能删除", id)
}

// AlarmNotFound is the error of an alarm that does not exist.
func AlarmNotFound(id int64) error {
	return riskmap.Errorf(riskmap.ENOTFOUND, "没有编号为 %d 的报警", id)
}

// StaleAlarm: the alarm was written by someone else since it was read.
func StaleAlarm(id int64) error {
	return riskmap.Errorf(riskmap.EPRECONDITION, "报警 %d 已被他人修改，请刷新后重试", id)
}

// AlarmAlreadyOpen: the point has an open alarm of the rule (or the code is taken).
func AlarmAlreadyOpen(point int64, rule Rule) error {
	return riskmap.Errorf(riskmap.ECONFLICT, "监测点 %d 已有未关闭的%s报警", point, rule.text())
}

// BadStep is the error of an unknown readings step.
func BadStep(s Step) error {
	return riskmap.Errorf(riskmap.EINVALID, "step 须为 raw、1m、5m、15m、30m 或 1h，不能是 %q", string(s))
}

// MonthStart is the first instant of t's month, UTC.
func MonthStart(t time.Time) time.Time {
	y, m, _ := t.UTC().Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}

// AlarmCodeTaken: another alarm has the code.
func AlarmCodeTaken(code string) error {
	return riskmap.Errorf(riskmap.ECONFLICT, "报警编号 %q 已被使用", code)
}

// CheckNewAlarm is what a store checks of an alarm it is asked to open: a code, and a
// status that is not closed.
func CheckNewAlarm(a *Alarm) error {
	var p riskmap.Problems
	if a.Code == "" {
		p.Add("code", "必须填写报警编号")
	}
	if !a.Open() {
		p.Add("status", "新报警不能是已关闭状态")
	}
	return p.Err()
}
