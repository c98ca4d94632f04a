// Package hazards owns hidden dangers (隐患) and their closed loop (登记→上报→整改→验收→销号),
// public hazard reports (随手拍 / 安全隐患举报) and the supervision (督办) view. A hidden
// danger is attached to a risk unit; its open conditions raise the unit's current grade
// through the one dynamic-grade rule (riskmap.Dynamics, grading.Grader.Dynamics).
package hazards

import (
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// Level is a hidden danger's level.
type Level string

// Levels.
const (
	LevelGeneral Level = "general" // 一般隐患
	LevelMajor   Level = "major"   // 重大隐患
)

// Label is the level in Chinese.
func (l Level) Label() string {
	switch l {
	case LevelGeneral:
		return "一般隐患"
	case LevelMajor:
		return "重大隐患"
	}
	return string(l)
}

// Valid reports whether l is a known level.
func (l Level) Valid() bool { return l == LevelGeneral || l == LevelMajor }

// Status is where a hidden danger stands in its closed loop.
type Status string

// Statuses, in the order of the loop.
const (
	StatusRegistered Status = "registered" // 登记
	StatusReported   Status = "reported"   // 上报
	StatusRectifying Status = "rectifying" // 整改中
	StatusAccepted   Status = "accepted"   // 验收
	StatusClosed     Status = "closed"     // 销号
)

// Statuses lists the statuses in the order of the loop.
var Statuses = []Status{StatusRegistered, StatusReported, StatusRectifying, StatusAccepted, StatusClosed}

// Label is the status in Chinese.
func (s Status) Label() string {
	switch s {
	case StatusRegistered:
		return "登记"
	case StatusReported:
		return "上报"
	case StatusRectifying:
		return "整改中"
	case StatusAccepted:
		return "验收"
	case StatusClosed:
		return "销号"
	}
	return string(s)
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if v == s {
			return true
		}
	}
	return false
}

// Open reports whether a hidden danger in status s is open: not closed (销号). An open
// major hidden danger raises its unit's grade.
func (s Status) Open() bool { return s != StatusClosed }

// Source is how a hidden danger was found.
type Source string

// Sources.
const (
	SourceInspection     Source = "inspection"      // 检查
	SourceSelfInspection Source = "self_inspection" // 自查
	SourcePublicReport   Source = "public_report"   // 举报
	SourceMonitoring     Source = "monitoring"      // 监测
)

// Label is the source in Chinese.
func (s Source) Label() string {
	switch s {
	case SourceInspection:
		return "检查"
	case SourceSelfInspection:
		return "自查"
	case SourcePublicReport:
		return "举报"
	case SourceMonitoring:
		return "监测"
	}
	return string(s)
}

// Valid reports whether s is a known source.
func (s Source) Valid() bool {
	switch s {
	case SourceInspection, SourceSelfInspection, SourcePublicReport, SourceMonitoring:
		return true
	}
	return false
}

// FiveImplementations are a major hidden danger's 五落实 (治理方案, 安监总局令第16号):
// 责任、措施、资金、时限、预案.
type FiveImplementations struct {
	Responsibility string `json:"responsibility"` // 责任
	Measures       string `json:"measures"`       // 措施
	Funds          string `json:"funds"`          // 资金
	TimeLimit      string `json:"time_limit"`     // 时限
	Plan           string `json:"plan"`           // 预案
}

// Supervision levels (挂牌督办).
const (
	SupervisionCity     = "city"     // 市级挂牌督办
	SupervisionDistrict = "district" // 区级挂牌督办
)

// Supervision is a major hidden danger put under supervision (挂牌督办).
type Supervision struct {
	By   string    `json:"by"` // SupervisionCity or SupervisionDistrict
	At   time.Time `json:"at"`
	User string    `json:"user"` // who put it under supervision
	Note string    `json:"note,omitempty"`
}

// Extension is a deadline extension request (延期申请). Only an approved one moves the
// deadline; every request and decision stays in the history.
type Extension struct {
	Deadline    time.Time  `json:"deadline"` // the deadline asked for
	Reason      string     `json:"reason"`
	RequestedBy string     `json:"requested_by"`
	RequestedAt time.Time  `json:"requested_at"`
	Decision    string     `json:"decision,omitempty"` // "", "approved" or "rejected"
	DecidedBy   string     `json:"decided_by,omitempty"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	Note        string     `json:"note,omitempty"`
}

// Hazard is one hidden danger (隐患).
type Hazard struct {
	ID   int64
	Code string // YH-<year>-<6 digits>, given by the store on create
	// UnitID is the risk unit it belongs to; UnitCode, UnitName, Category, RegionCode and
	// Department are the unit's, copied on every write, so that lists, scopes and
	// statistics need no join.
	UnitID     int64
	UnitCode   string
	UnitName   string
	Category   string
	RegionCode string
	Department string

	Level       Level
	Description string
	Location    string    // where it was found (发现部位)
	Point       orb.Point // where on the map; the zero point: the unit's own place
	FoundAt     time.Time
	FoundBy     string
	Source      Source
	// ReportID is the public report it came from (0: none).
	ReportID int64
	// AlarmID is the monitoring alarm it came from (0: none). An alarm becomes at most one
	// hidden danger: the stores refuse a second with ECONFLICT.
	AlarmID int64

	ResponsibleUnit   string
	ResponsiblePerson string
	Measures          string
	Deadline          time.Time // 整改期限 (a date)

	Five        *FiveImplementations // major ones: 五落实
	Supervision *Supervision         // major ones: 挂牌督办
	// Extension is the pending extension request, if any.
	Extension *Extension

	Status Status
	// AcceptedBy is who accepted the rectification (验收); ClosedBy who closed it (销号)
	// after the re-inspection (复查) they recorded.
	AcceptedBy string
	AcceptedAt *time.Time
	ClosedBy   string
	ClosedAt   *time.Time

	Version   int64
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Overdue reports whether the hidden danger is past its deadline and not yet accepted on
// the day today (computed, never stored).
func (h *Hazard) Overdue(today time.Time) bool {
	if h.Status == StatusAccepted || h.Status == StatusClosed {
		return false
	}
	return riskmap.DayNumber(h.Deadline) < riskmap.DayNumber(today)
}

// Event kinds of a hidden danger's history.
const (
	EventCreated     = "created"      // 登记
	EventTransition  = "transition"   // a change of status
	EventEdited      = "edited"       // fields changed (PATCH)
	EventExtension   = "extension"    // 延期申请
	EventExtDecision = "ext_decision" // 延期审批
	EventSupervision = "supervision"  // 挂牌督办
	EventPhoto       = "photo"        // a photo added
)

// Event is one entry of a hidden danger's history: who, when, what and a note.
type Event struct {
	ID       int64          `json:"id"`
	HazardID int64          `json:"hazard_id"`
	Kind     string         `json:"kind"`
	From     Status         `json:"from,omitempty"`
	To       Status         `json:"to,omitempty"`
	By       string         `json:"by"`
	At       time.Time      `json:"at"`
	Note     string         `json:"note,omitempty"`
	Data     map[string]any `json:"data,omitempty"`
}

// Photo stages.
const (
	PhotoBefore = "before" // 整改前
	PhotoAfter  = "after"  // 整改后
	PhotoReport = "report" // a citizen's report
)

// Photo is an image re-encoded on upload (no metadata kept).
type Photo struct {
	ID          int64
	Owner       string // "hazard" or "report"
	OwnerID     int64
	Stage       string
	ContentType string // image/jpeg or image/png
	Width       int
	Height      int
	Bytes       []byte // nil when listed without content
	By          string
	At          time.Time
}
