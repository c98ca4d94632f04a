package riskmap

import (
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
	Source string `json:"source"` // ConditionHazard, ConditionAlarm
	// Ref names it for people: a hidden danger's code.
	Ref string `json:"ref"`
	// Level is the source's own level: "general" or "major" for a hidden danger.
	Level string    `json:"level"`
	Since time.Time `json:"since"`
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
// conditions raising, e.g. "存在未销号重大隐患 YH-2026-000123，等级由一般上调为重大"; "" when
// current is not above inherent.
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
		refs[what] = append(refs[what], c.Ref)
	}
	var b strings.Builder
	for i, what := range order {
		if i > 0 {
			b.WriteString("；")
		}
		b.WriteString(what)
		b.WriteString(" ")
		b.WriteString(strings.Join(refs[what], "、"))
	}
	if b.Len() > 0 {
		b.WriteString("，")
	}
	b.WriteString("等级由" + inherent.ShortLabel() + "上调为" + current.ShortLabel())
	return b.String()
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

// chinaTime is China Standard Time (UTC+8, no daylight saving).
var chinaTime = time.FixedZone("CST", 8*3600)

// ChinaDay is the date in China (UTC+8) at t, as midnight UTC: the day a review or an
// identification falls due, or is overdue, is a day in China.
func ChinaDay(t time.Time) time.Time {
	y, m, d := t.In(chinaTime).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
