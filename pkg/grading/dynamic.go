package grading

import (
	"fmt"
	"slices"
	"time"

	"riskmap/pkg/riskmap"
)

// DynamicRule raises the grade of a unit while it has an open condition of Source (and of
// Level, when set): to RaiseTo, or by RaiseBy steps (capped at red). Grades, when set, are
// the inherent grades it applies to (a conflict rule: an orange hazardous unit with a
// school inside its range becomes red). A rule never lowers a grade.
type DynamicRule struct {
	Source  string          `json:"source"`
	Level   string          `json:"level,omitempty"`
	Grades  []riskmap.Grade `json:"grades,omitempty"`
	RaiseTo riskmap.Grade   `json:"raise_to,omitempty"`
	RaiseBy int             `json:"raise_by,omitempty"`
}

// DynamicConfig is the config section "dynamic_grades": the rules that turn a unit's
// inherent grade and its open conditions into its current grade.
type DynamicConfig struct {
	Rules []DynamicRule `json:"rules"`
}

// DefaultDynamic is the rule in force when a configuration gives none: an open major hidden
// danger (重大隐患) makes the unit red.
func DefaultDynamic() DynamicConfig {
	return DynamicConfig{Rules: []DynamicRule{{Source: riskmap.ConditionHazard, Level: "major", RaiseTo: riskmap.GradeRed}}}
}

func checkDynamic(c DynamicConfig) error {
	for i, r := range c.Rules {
		switch r.Source {
		case riskmap.ConditionHazard:
			if r.Level != "" && r.Level != "major" && r.Level != "general" {
				return fmt.Errorf("dynamic_grades.rules[%d].level：来源 hazard（隐患）的级别应为 major（重大）或 general（一般）", i)
			}
		case riskmap.ConditionAlarm:
			// A warning colour has the code of the grade of that colour.
			if r.Level != "" && !riskmap.Grade(r.Level).Valid() {
				return fmt.Errorf("dynamic_grades.rules[%d].level：来源 alarm（报警）的级别应为预警颜色 blue、yellow、orange 或 red", i)
			}
		case riskmap.ConditionConflict:
			if r.Level != "" && riskmap.TargetKindLabel(r.Level) == "" {
				return fmt.Errorf("dynamic_grades.rules[%d].level：来源 conflict（安全距离冲突）的级别应为防护目标类型 school、kindergarten、hospital、care_home 或 crowded_place", i)
			}
		default:
			return fmt.Errorf("dynamic_grades.rules[%d].source 应为 hazard（隐患）、alarm（报警）或 conflict（安全距离冲突）", i)
		}
		for _, g := range r.Grades {
			if !g.Valid() {
				return fmt.Errorf("dynamic_grades.rules[%d].grades 只能列出 red、orange、yellow、blue", i)
			}
		}
		switch {
		case r.RaiseTo != "" && r.RaiseBy != 0:
			return fmt.Errorf("dynamic_grades.rules[%d]：raise_to 与 raise_by 只能填写一个", i)
		case r.RaiseTo != "" && !r.RaiseTo.Valid():
			return fmt.Errorf("dynamic_grades.rules[%d].raise_to 应为 red、orange、yellow 或 blue", i)
		case r.RaiseTo == "" && (r.RaiseBy < 1 || r.RaiseBy > 3):
			return fmt.Errorf("dynamic_grades.rules[%d]：须填写 raise_to（调整到的等级）或 raise_by（上调 1 到 3 级）", i)
		}
	}
	return nil
}

// matches reports whether the rule applies to condition c at a unit of inherent grade g.
func (r DynamicRule) matches(c riskmap.Condition, g riskmap.Grade) bool {
	return r.Source == c.Source && (r.Level == "" || r.Level == c.Level) && (len(r.Grades) == 0 || slices.Contains(r.Grades, g))
}

// apply is the grade the rule gives a unit of grade g.
func (r DynamicRule) apply(g riskmap.Grade) riskmap.Grade {
	to := r.RaiseTo
	if to == "" {
		rank := max(g.Rank()-r.RaiseBy, 1)
		to = riskmap.Grades[rank-1]
	}
	if to.Higher(g) {
		return to
	}
	return g
}

// Raise is the current grade of a unit of inherent grade inherent with the open conditions
// open, and the sentence that explains a raise ("" when there is none), e.g.
// "存在未销号重大隐患 YH-2026-000123，等级由一般上调为重大".
func (g *Grader) Raise(inherent riskmap.Grade, open []riskmap.Condition) (riskmap.Grade, string) {
	grade, raising := g.raise(inherent, open)
	return grade, riskmap.RaiseText(inherent, grade, raising)
}

// raise is Raise's grade and the conditions that raise it (those some rule matches, marked
// Raises), in their order.
func (g *Grader) raise(inherent riskmap.Grade, open []riskmap.Condition) (riskmap.Grade, []riskmap.Condition) {
	if !inherent.Valid() {
		return inherent, nil
	}
	grade := inherent
	var raising []riskmap.Condition
	for _, c := range open {
		up := inherent
		for _, r := range g.cfg.Dynamic.Rules {
			if r.matches(c, inherent) {
				if to := r.apply(inherent); to.Higher(up) {
					up = to
				}
			}
		}
		if up.Higher(inherent) {
			c.Raises = true
			raising = append(raising, c)
			if up.Higher(grade) {
				grade = up
			}
		}
	}
	return grade, raising
}

// Dynamics is the riskmap.DynamicsFunc of this configuration: the current grades of a
// unit's working and approved revisions from their inherent grades and the open conditions,
// the conditions (those that raise the grade marked Raises), the count of open hidden
// dangers, and the next review date of the current grade (nil when never reviewed).
func (g *Grader) Dynamics(u *riskmap.Unit, approvedInherent riskmap.Grade, open []riskmap.Condition, openHazards int) riskmap.Dynamics {
	inherent := u.InherentOrGrade()
	d := riskmap.Dynamics{OpenHazards: openHazards}
	d.Grade, _ = g.raise(inherent, open)
	if approvedInherent != "" {
		d.ApprovedGrade, _ = g.raise(approvedInherent, open)
	}
	if len(open) > 0 {
		d.Conditions = slices.Clone(open)
		for i := range d.Conditions {
			d.Conditions[i].Raises = g.raises(inherent, d.Conditions[i])
		}
	}
	d.NextReviewDue = g.NextReview(d.Grade, u.AssessedAt)
	return d
}

// raises reports whether condition c alone raises a unit of grade inherent.
func (g *Grader) raises(inherent riskmap.Grade, c riskmap.Condition) bool {
	c.Raises = false
	_, r := g.raise(inherent, []riskmap.Condition{c})
	return len(r) > 0
}

// NextReview is when the next review of a unit of current grade grade last reviewed at
// assessed is due; nil when it was never reviewed.
func (g *Grader) NextReview(grade riskmap.Grade, assessed *time.Time) *time.Time {
	if assessed == nil || !grade.Valid() {
		return nil
	}
	t := g.ReviewDue(grade, *assessed)
	return &t
}
