package riskmap

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A unit's grade is dynamic (分级分类动态监管): its inherent grade comes from the
// assessment (InherentGrade), and what happens at the unit raises it while it lasts. Every
// such happening is a Condition: an open hidden danger (隐患) today, a monitoring alarm
// (报警) later. One rule (grading.Grader.Raise, configured in "dynamic_grades") turns the
// inherent grade and the open conditions into the current grade, Unit.Grade, which the map,
// tiles, filters, statistics, regional grades and publications use.

// Condition sources.
const (
	ConditionHazard = "hazard" // an open hidden danger (隐患), Ref its code (YH-…)
	ConditionAlarm  = "alarm"  // an active monitoring alarm (issue 17)
	// ConditionConflict is a protective target inside the unit's influence range (安全距离
	// 不足, issue 16): Ref the target's name, Level its kind (school, hospital …).
	ConditionConflict = "conflict"
)

// Condition is one open happening at a unit that may raise its grade.
type Condition struct {
	Source string `json:"source"` // ConditionHazard, ConditionAlarm, ConditionConflict
	// Ref names it for people: a hidden danger's code, a protective target's name.
	Ref string `json:"ref"`
	// Level is the source's own level: "general" or "major" for a hidden danger, the
	// target's kind (school …) for a conflict.
	Level string    `json:"level"`
	Since time.Time `json:"since"`
	// Detail says more of it for people, after Ref in an explanation: "距离 120 米" for a
	// conflict; "" for none.
	Detail string `json:"detail,omitempty"`
	// Raises is set (by grading.Grader.Dynamics) on a condition that raises the unit's
	// grade by the rules in force when it was written.
	Raises bool `json:"raises,omitempty"`
}

// Dynamics is the part of a unit that follows its open conditions rather than its
// assessment: what a hidden danger's (or an alarm's) write changes on the unit, in the
// write's own transaction. A store writes it without touching the rest of the unit, as a
// new version of the unit (so that the index, other replicas and ETags follow).
type Dynamics struct {
	// Grade is the current grade of the unit's working revision.
	Grade Grade
	// ApprovedGrade is the current grade of its approved revision (the one the public
	// register carries); "" when it has none.
	ApprovedGrade Grade
	// Conditions are the open conditions, oldest first.
	Conditions []Condition
	// OpenHazards counts the unit's hidden dangers that are not closed (销号), of any level.
	OpenHazards int
	// NextReviewDue moves with the grade (LastReview plus the grade's cadence).
	NextReviewDue *time.Time
}

// DynamicsFunc computes a unit's Dynamics from the unit as stored (its InherentGrade and
// AssessedAt), the inherent grade of its approved revision ("" when it has none) and its
// open conditions and open hidden dangers, as the store reads them inside the write's
// transaction. grading.Grader.Dynamics is the one implementation.
type DynamicsFunc func(u *Unit, approvedInherent Grade, open []Condition, openHazards int) Dynamics

// ReviewState is where a unit stands with its periodic review (复核).
type ReviewState string

// Review states.
const (
	ReviewNever   ReviewState = "never"   // never reviewed: no assessment date (从未复核)
	ReviewCurrent ReviewState = "current" // next review in the future
	ReviewOverdue ReviewState = "overdue" // next review date passed (逾期未复核)
)

// ReidentifyYears is how often every unit is identified and assessed anew in full
// (002: 每5年…全面辨识评估).
const ReidentifyYears = 5

// InherentOrGrade is the unit's inherent grade, or its grade for a unit stored before
// inherent grades were kept (no InherentGrade).
func (u *Unit) InherentOrGrade() Grade {
	if u.InherentGrade != "" {
		return u.InherentGrade
	}
	return u.Grade
}

// DynamicText explains why the unit's current grade is above its inherent grade ("" when it
// is not), from the conditions marked Raises.
func (u *Unit) DynamicText() string {
	var raising []Condition
	for _, c := range u.Conditions {
		if c.Raises {
			raising = append(raising, c)
		}
	}
	return RaiseText(u.InherentOrGrade(), u.Grade, raising)
}

// RaiseText is the sentence that explains a raise from inherent to current by the
// conditions raising, e.g. "存在未销号重大隐患 YH-2026-000123，等级由一般上调为重大" or
// "影响范围内有学校「澄江一中」（距离 120 米），等级由较大上调为重大"; "" when current is not
// above inherent.
func RaiseText(inherent, current Grade, raising []Condition) string {
	if !current.Higher(inherent) || !inherent.Valid() {
		return ""
	}
	var (
		order []string
		refs  = map[string][]string{}
	)
	for _, c := range raising {
		what := c.What()
		if _, ok := refs[what]; !ok {
			order = append(order, what)
		}
		refs[what] = append(refs[what], c.label())
	}
	var b strings.Builder
	for i, what := range order {
		if i > 0 {
			b.WriteString("；")
		}
		b.WriteString(what)
		if !strings.HasPrefix(refs[what][0], "「") { // a code follows after a space, a 「name」 at once
			b.WriteString(" ")
		}
		b.WriteString(strings.Join(refs[what], "、"))
	}
	if b.Len() > 0 {
		b.WriteString("，")
	}
	b.WriteString("等级由" + inherent.ShortLabel() + "上调为" + current.ShortLabel())
	return b.String()
}

// label is how an explanation names c after What: its Ref (a conflict's target in
// 「」), then its Detail in （）.
func (c Condition) label() string {
	l := c.Ref
	if c.Source == ConditionConflict {
		l = "「" + c.Ref + "」"
	}
	if c.Detail != "" {
		l += "（" + c.Detail + "）"
	}
	return l
}

// ConflictCondition is the condition of a protective target of kind kind named name at
// distanceM metres (edge to edge) inside a unit's influence range: Detail "距离 120 米"
// (whole metres). Since is left zero: the register and the stores keep the Since of the
// same target's condition stored before, or set the time of the write.
func ConflictCondition(kind, name string, distanceM float64) Condition {
	c := Condition{Source: ConditionConflict, Ref: name, Level: kind}
	if !math.IsNaN(distanceM) && !math.IsInf(distanceM, 0) && distanceM >= 0 {
		c.Detail = "距离 " + strconv.FormatFloat(math.Round(distanceM), 'f', 0, 64) + " 米"
	}
	return c
}

// ReplaceConditions is the open conditions of a unit whose stored conditions are stored
// when those of source become fresh: the other sources' kept, fresh's in their place, all
// oldest first (a stable sort by Since, so conditions of one time keep their order). A
// fresh condition with a zero Since takes the Since of the stored condition of the same
// source, Ref and Level, or now when there is none: a condition that stays does not look
// new. Raises is cleared (the grader sets it). The result is nil when there are none.
func ReplaceConditions(stored []Condition, source string, fresh []Condition, now time.Time) []Condition {
	var out []Condition
	for _, c := range stored {
		if c.Source != source {
			c.Raises = false
			out = append(out, c)
		}
	}
	for _, c := range fresh {
		c.Source, c.Raises = source, false
		if c.Since.IsZero() {
			c.Since = now
			for _, o := range stored {
				if o.Source == source && o.Ref == c.Ref && o.Level == c.Level && !o.Since.IsZero() {
					c.Since = o.Since
					break
				}
			}
		}
		c.Since = c.Since.UTC()
		out = append(out, c)
	}
	slices.SortStableFunc(out, func(a, b Condition) int { return a.Since.Compare(b.Since) })
	return out
}

// ConditionsOf is the conditions of source among cs, in their order (nil when none).
func ConditionsOf(cs []Condition, source string) []Condition {
	var out []Condition
	for _, c := range cs {
		if c.Source == source {
			out = append(out, c)
		}
	}
	return out
}

// SameConditions reports whether two lists of conditions say the same: the same
// conditions (source, ref, level, since, detail) in the same order. Raises is not compared:
// it follows from the conditions and the rules.
func SameConditions(a, b []Condition) bool {
	return slices.EqualFunc(a, b, func(x, y Condition) bool {
		return x.Source == y.Source && x.Ref == y.Ref && x.Level == y.Level && x.Since.Equal(y.Since) && x.Detail == y.Detail
	})
}

// DynamicsChanged reports whether d differs from what is stored for unit u (its Grade,
// Conditions, OpenHazards and NextReviewDue) and its approved revision's grade (""
// when it has none): whether a store must write d as a new version of the unit.
func DynamicsChanged(u *Unit, approvedGrade Grade, d Dynamics) bool {
	if d.Grade != u.Grade || d.OpenHazards != u.OpenHazards {
		return true
	}
	if approvedGrade != "" && d.ApprovedGrade != "" && d.ApprovedGrade != approvedGrade {
		return true
	}
	if (d.NextReviewDue == nil) != (u.NextReviewDue == nil) ||
		(d.NextReviewDue != nil && DayNumber(*d.NextReviewDue) != DayNumber(*u.NextReviewDue)) {
		return true
	}
	return !SameConditions(d.Conditions, u.Conditions)
}

// ConditionStore keeps the open conditions a unit's own writes do not change (those of
// sources other than hidden dangers, which a hidden danger's write recomputes: monitoring
// alarms, safe-distance conflicts). Both stores implement it.
type ConditionStore interface {
	// SetConditions replaces, under unit unitID's row lock, its stored conditions of
	// source with conds (see ReplaceConditions: Since kept for a condition that stays),
	// keeps those of other sources, and recomputes its dynamics with dyn, as a hidden
	// danger's write does: when anything changed, it writes them as a new version of the
	// unit (announced as every unit write is; the approved revision's grade follows) and
	// returns the unit as stored; nil when nothing changed or the unit is retired. A
	// missing unit is ENOTFOUND. source must not be ConditionHazard (hidden dangers' own
	// writes keep those).
	SetConditions(ctx context.Context, unitID int64, source string, conds []Condition, dyn DynamicsFunc) (*Unit, error)
	// UnitConditions returns, for each unit not retired having any condition of source,
	// those conditions.
	UnitConditions(ctx context.Context, source string) (map[int64][]Condition, error)
}

// What says in Chinese what kind of open condition c is: 存在未销号重大隐患, 存在未销号一般隐患,
// 存在未解除报警.
func (c Condition) What() string {
	switch c.Source {
	case ConditionHazard:
		switch c.Level {
		case "major":
			return "存在未销号重大隐患"
		case "general":
			return "存在未销号一般隐患"
		}
		return "存在未销号隐患"
	case ConditionAlarm:
		return "存在未解除报警"
	case ConditionConflict:
		if l := TargetKindLabel(c.Level); l != "" {
			return "影响范围内有" + l
		}
		return "影响范围内有防护目标"
	}
	return "存在未解除情况"
}

// ReviewStateOn is where the unit stands with its review on the day of today (UTC date):
// never reviewed (no next review date), overdue (the date passed) or current.
func (u *Unit) ReviewStateOn(today time.Time) ReviewState {
	return ReviewStateOf(u.NextReviewDue, today)
}

// ReviewStateOf is ReviewStateOn for a next review date.
func ReviewStateOf(due *time.Time, today time.Time) ReviewState {
	switch {
	case due == nil:
		return ReviewNever
	case DayNumber(*due) < DayNumber(today):
		return ReviewOverdue
	}
	return ReviewCurrent
}

// ReidentifyDue is when the unit's next full identification (全面辨识) is due:
// ReidentifyYears after IdentifiedAt; nil when it has no identification date.
func (u *Unit) ReidentifyDue() *time.Time {
	if u.IdentifiedAt == nil {
		return nil
	}
	y, m, d := u.IdentifiedAt.UTC().Date()
	t := time.Date(y+ReidentifyYears, m, d, 0, 0, 0, 0, time.UTC)
	return &t
}

// ReidentifyOverdueOn reports whether the unit's full identification is older than
// ReidentifyYears on the day of today.
func (u *Unit) ReidentifyOverdueOn(today time.Time) bool {
	due := u.ReidentifyDue()
	return due != nil && DayNumber(*due) < DayNumber(today)
}

// ChinaTime is China Standard Time (UTC+8, no daylight saving): the time users read.
var ChinaTime = time.FixedZone("CST", 8*3600)

// ChinaDay is the date in China (UTC+8) at t, as midnight UTC: the day a review or an
// identification falls due, or is overdue, is a day in China.
func ChinaDay(t time.Time) time.Time {
	y, m, d := t.In(ChinaTime).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
