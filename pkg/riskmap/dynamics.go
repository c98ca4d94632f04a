package riskmap

import "time"

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
)

// Condition is one open happening at a unit that may raise its grade.
type Condition struct {
	Source string `json:"source"` // ConditionHazard, ConditionAlarm
	// Ref names it for people: a hidden danger's code.
	Ref string `json:"ref"`
	// Level is the source's own level: "general" or "major" for a hidden danger.
	Level string    `json:"level"`
	Since time.Time `json:"since"`
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
