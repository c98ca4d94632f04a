package monitoring

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"riskmap/pkg/riskmap"
)

// Rule is what raised an alarm. There is at most one open alarm per (point, rule).
type Rule string

// Alarm rules.
const (
	RuleThreshold Rule = "threshold" // a value beyond a warning threshold (or a unit's escalation)
	RuleOffline   Rule = "offline"   // the point fell silent
)

// Valid reports whether r is a known rule.
func (r Rule) Valid() bool { return r == RuleThreshold || r == RuleOffline }

// Status is where an alarm is in its life.
type Status string

// Alarm statuses: 报警中 → 已确认 → 已处置 (with the action taken) → closed once the
// values are back to normal.
const (
	StatusActive       Status = "active"       // 报警中
	StatusAcknowledged Status = "acknowledged" // 已确认
	StatusDisposed     Status = "disposed"     // 已处置
	StatusClosed       Status = "closed"       // 已关闭
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusActive, StatusAcknowledged, StatusDisposed, StatusClosed:
		return true
	}
	return false
}

// Label is the status's Chinese name.
func (s Status) Label() string {
	switch s {
	case StatusActive:
		return "报警中"
	case StatusAcknowledged:
		return "已确认"
	case StatusDisposed:
		return "已处置"
	case StatusClosed:
		return "已关闭"
	}
	return string(s)
}

// text is the status's name as an argument of a message, in the message's language.
func (s Status) text() riskmap.Text {
	switch s {
	case StatusActive:
		return riskmap.Textf("报警中")
	case StatusAcknowledged:
		return riskmap.Textf("已确认")
	case StatusDisposed:
		return riskmap.Textf("已处置")
	}
	return riskmap.Textf("已关闭")
}

// Side says which thresholds an alarm's values crossed.
type Side string

// Sides of the thresholds.
const (
	SideUpper Side = "upper"
	SideLower Side = "lower"
)

// MaxActionLen is the longest disposal action (处置措施), in characters.
const MaxActionLen = 2000

// Alarm is an alarm (报警) of a point by a rule.
type Alarm struct {
	ID      int64  `json:"id"`
	Code    string `json:"code"`
	PointID int64  `json:"point_id"`
	UnitID  int64  `json:"unit_id"`
	Rule    Rule   `json:"rule"`
	Level   Level  `json:"level"`
	Status  Status `json:"status"`
	// Side is the side of the thresholds crossed (threshold alarms).
	Side Side `json:"side,omitempty"`
	// Normal is set once the values are back to normal: a disposed alarm that is normal
	// closes.
	Normal         bool       `json:"normal"`
	OpenedAt       time.Time  `json:"opened_at"`
	EscalatedAt    *time.Time `json:"escalated_at,omitempty"`
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	AcknowledgedBy string     `json:"acknowledged_by,omitempty"`
	DisposedAt     *time.Time `json:"disposed_at,omitempty"`
	DisposedBy     string     `json:"disposed_by,omitempty"`
	Action         string     `json:"action,omitempty"`
	NormalAt       *time.Time `json:"normal_at,omitempty"`
	ClosedAt       *time.Time `json:"closed_at,omitempty"`
	// Peak is the most severe value while open (highest above upper thresholds, lowest
	// below lower ones), PeakAt its time; LastValue the latest value evaluated.
	Peak      float64   `json:"peak"`
	PeakAt    time.Time `json:"peak_at"`
	LastValue float64   `json:"last_value"`
	// Version is set by the store: each update increments it.
	Version int64 `json:"version,omitempty"`
}

// Open reports whether the alarm is not closed.
func (a *Alarm) Open() bool { return a.Status != StatusClosed }

// Validate checks an alarm before it is stored: every problem named by its JSON field.
func (a *Alarm) Validate() error {
	var p riskmap.Problems
	if a.Code != "" {
		checkCode(&p, "code", a.Code)
	}
	if a.PointID < 1 {
		p.Add("point_id", "必须指明监测点")
	}
	if a.UnitID < 1 {
		p.Add("unit_id", "必须填写所属风险单元")
	}
	if !a.Rule.Valid() {
		p.Add("rule", "报警规则须为 threshold（超阈值）或 offline（离线）")
	}
	if !a.Level.Valid() {
		p.Add("level", "预警级别须为 blue、yellow、orange 或 red")
	}
	if !a.Status.Valid() {
		p.Add("status", "状态须为 active（报警中）、acknowledged（已确认）、disposed（已处置）或 closed（已关闭）")
	}
	if a.Rule == RuleThreshold && a.Side != SideUpper && a.Side != SideLower {
		p.Add("side", "超阈值报警须注明 upper（上限）或 lower（下限）")
	}
	if a.OpenedAt.IsZero() {
		p.Add("opened_at", "必须填写报警时间")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"peak", a.Peak}, {"last_value", a.LastValue}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			p.Add(f.name, "应为有限数值")
		}
	}
	notBefore := func(field string, t *time.Time) {
		if t != nil && t.Before(a.OpenedAt) {
			p.Add(field, "不能早于报警时间")
		}
	}
	notBefore("escalated_at", a.EscalatedAt)
	notBefore("acknowledged_at", a.AcknowledgedAt)
	notBefore("disposed_at", a.DisposedAt)
	notBefore("normal_at", a.NormalAt)
	notBefore("closed_at", a.ClosedAt)
	switch a.Status {
	case StatusAcknowledged:
		if a.AcknowledgedAt == nil {
			p.Add("acknowledged_at", "已确认的报警须有确认时间")
		}
	case StatusDisposed, StatusClosed:
		if a.Status == StatusDisposed || a.DisposedAt != nil {
			if a.DisposedAt == nil {
				p.Add("disposed_at", "已处置的报警须有处置时间")
			}
			checkAction(&p, "action", a.Action)
		}
		if a.Status == StatusClosed && a.ClosedAt == nil {
			p.Add("closed_at", "已关闭的报警须有关闭时间")
		}
	}
	if a.Normal != (a.NormalAt != nil) {
		p.Add("normal_at", "恢复正常的报警须有恢复时间，未恢复的不能有")
	}
	return p.Err()
}

// CheckMeasures is EINVALID naming field when measures are not what a disposal needs (the
// measures taken, at most MaxActionLen characters): the API asks for them as "note".
func CheckMeasures(field, measures string) error {
	var p riskmap.Problems
	checkAction(&p, field, measures)
	return p.Err()
}

func checkAction(p *riskmap.Problems, field, action string) {
	if strings.TrimSpace(action) == "" {
		p.Add(field, "处置时必须填写采取的措施")
	} else if utf8.RuneCountInString(action) > MaxActionLen || !utf8.ValidString(action) {
		p.Add(field, "处置措施不能超过 %d 个字符", MaxActionLen)
	}
}

// Condition is the alarm as a condition of its unit (riskmap.ConditionAlarm, Ref the
// alarm's code, Level its colour) while it is open at orange or red; ok is false
// otherwise. The dynamic-grade rules (config dynamic_grades, source "alarm") decide what it
// does to the unit's grade.
func (a *Alarm) Condition() (c riskmap.Condition, ok bool) {
	if !a.Open() || a.Level.Rank() < LevelOrange.Rank() {
		return c, false
	}
	return riskmap.Condition{Source: riskmap.ConditionAlarm, Ref: a.Code, Level: string(a.Level), Since: a.OpenedAt, Detail: a.Level.Label()}, true
}

// Conditions are the conditions of a unit's alarms (Condition), oldest first as given.
func Conditions(alarms []*Alarm) []riskmap.Condition {
	var out []riskmap.Condition
	for _, a := range alarms {
		if c, ok := a.Condition(); ok {
			out = append(out, c)
		}
	}
	return out
}

// Acknowledge is a person's confirmation (确认) of an active alarm at time at.
func (a *Alarm) Acknowledge(by string, at time.Time) error {
	if a.Status != StatusActive {
		return riskmap.Errorf(riskmap.ECONFLICT, "报警 %s 当前为%s，只有报警中的报警可以确认", a.Code, a.Status.text())
	}
	if at.Before(a.OpenedAt) {
		at = a.OpenedAt
	}
	a.Status, a.AcknowledgedAt, a.AcknowledgedBy = StatusAcknowledged, &at, by
	return nil
}

// Dispose records the disposal (处置) of an active or acknowledged alarm with the action
// taken; the alarm closes at once when its values are already back to normal. closed says
// whether it did.
func (a *Alarm) Dispose(action, by string, at time.Time) (closed bool, err error) {
	if a.Status != StatusActive && a.Status != StatusAcknowledged {
		return false, riskmap.Errorf(riskmap.ECONFLICT, "报警 %s 当前为%s，只有报警中或已确认的报警可以处置", a.Code, a.Status.text())
	}
	if err := CheckMeasures("action", action); err != nil {
		return false, err
	}
	if at.Before(a.OpenedAt) {
		at = a.OpenedAt
	}
	if a.AcknowledgedAt == nil {
		a.AcknowledgedAt, a.AcknowledgedBy = &at, by
	}
	a.Status, a.DisposedAt, a.DisposedBy, a.Action = StatusDisposed, &at, by, strings.TrimSpace(action)
	if a.Normal {
		a.close(at)
		return true, nil
	}
	return false, nil
}

// close closes a at at, and never before it opened or was disposed of: a reading back to
// normal may carry a time (the sensor's) before the disposal that closes the alarm with it.
func (a *Alarm) close(at time.Time) {
	if at.Before(a.OpenedAt) {
		at = a.OpenedAt
	}
	if a.DisposedAt != nil && at.Before(*a.DisposedAt) {
		at = *a.DisposedAt
	}
	a.Status, a.ClosedAt = StatusClosed, &at
}

// clone is a deep copy of a.
func (a *Alarm) clone() *Alarm {
	c := *a
	for _, pp := range []**time.Time{&c.EscalatedAt, &c.AcknowledgedAt, &c.DisposedAt, &c.NormalAt, &c.ClosedAt} {
		if *pp != nil {
			t := **pp
			*pp = &t
		}
	}
	return &c
}

// text is the rule's name as an argument of a message, in the message's language.
func (r Rule) text() riskmap.Text {
	if r == RuleOffline {
		return riskmap.Textf("离线")
	}
	return riskmap.Textf("超阈值")
}
