package riskmap

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// GeometryKind is the kind of geometry a UnitFilter can ask for. Each kind takes in its
// Multi- form too: QGIS types a layer by its first features, so the OGC API serves points,
// lines and polygons as collections of their own.
type GeometryKind string

// The kinds of geometry.
const (
	KindPoint   GeometryKind = "point"
	KindLine    GeometryKind = "line"
	KindPolygon GeometryKind = "polygon"
)

// KindOf returns the kind of g, or "" for a collection or nothing.
func KindOf(g orb.Geometry) GeometryKind {
	switch g.(type) {
	case orb.Point, orb.MultiPoint:
		return KindPoint
	case orb.LineString, orb.MultiLineString:
		return KindLine
	case orb.Polygon, orb.MultiPolygon:
		return KindPolygon
	}
	return ""
}

// UnitFacts are what a UnitFilter tests of a unit. The spatial index keeps them of every
// unit it holds.
type UnitFacts struct {
	// The first fields are what a tile draws of a unit, and in this order: in the spatial
	// index's Feature, after its id, a point's come within 128 bytes, the two lines of
	// memory a processor fetches together (issue 18: an uncached tile waits on memory).
	Geometry   orb.Geometry
	Code       string
	Name       string
	Category   string
	RegionCode string
	Grade      Grade
	// Bound is the bounding box of Geometry, exactly: for a point, the point itself, from
	// which tiles draw it (pkg/tiles, drawDetail).
	Bound      orb.Bound
	Department string
	// InherentGrade is the grade the assessment gives, before open conditions raise it.
	InherentGrade Grade
	Status        Status
	// ReviewDue is the day of the next review (DayNumber of NextReviewDue); 0 for none.
	ReviewDue int32
	// OpenHazards counts the unit's hidden dangers not yet closed (32 bits, beside
	// ReviewDue: the index keeps a million of these).
	OpenHazards int32
	// InfluenceRadiusM is the unit's own influence radius in metres, 0 for none (the
	// analysis engine falls back to its category's default).
	InfluenceRadiusM float64
}

// FactsOf is what a UnitFilter tests of u.
func FactsOf(u *Unit) UnitFacts {
	return UnitFacts{Code: u.Code, Name: u.Name, Category: u.Category, RegionCode: u.RegionCode,
		Department: u.ResponsibleDepartment, Grade: u.Grade, InherentGrade: u.InherentOrGrade(), Status: u.Status,
		ReviewDue: ReviewDayOf(u.NextReviewDue), OpenHazards: int32(min(u.OpenHazards, math.MaxInt32)), InfluenceRadiusM: u.InfluenceRadiusM, Geometry: u.Geometry, Bound: u.Geometry.Bound()}
}

// UnitMatcher is a UnitFilter made ready to test many units: its lists made sets and its q
// lower-cased once. It is safe for concurrent use.
type UnitMatcher struct {
	bbox       *orb.Bound
	scope      *User // a department user; nil for none or anyone else, who sees everything
	categories map[string]bool
	anyGrade   bool
	grades     [5]bool // by rank
	region     string
	depts      map[string]bool
	q          string // lower-cased
	kind       GeometryKind
	statuses   []Status
	retired    bool  // whether retired units pass when statuses is empty
	dueBefore  int32 // a DayNumber; 0 for no test
	hazards    bool  // only units with open hidden dangers
}

// DayNumber numbers the date of t (in UTC, as dates are stored) from 1 for 1970-01-01, so
// that 0 can stand for no date; earlier dates are below 1 too.
func DayNumber(t time.Time) int32 {
	y, m, d := t.UTC().Date()
	return int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix()/86400) + 1
}

// ReviewDayOf is the DayNumber of a unit's next review, 0 for none.
func ReviewDayOf(t *time.Time) int32 {
	if t == nil {
		return 0
	}
	return max(DayNumber(*t), 1)
}

// Matcher makes the filter ready to test units; make it once per query, not per unit.
func (f *UnitFilter) Matcher() *UnitMatcher {
	m := &UnitMatcher{bbox: f.BBox, region: f.RegionPrefix, kind: f.Kind,
		statuses: f.Statuses, retired: f.IncludeRetired, hazards: f.HasOpenHazards}
	if f.Scope != nil && f.Scope.Role == RoleDepartment {
		m.scope = f.Scope
	}
	if f.ReviewDueBefore != nil {
		m.dueBefore = max(DayNumber(*f.ReviewDueBefore), 1)
	}
	m.categories = setOf(f.Categories)
	m.depts = setOf(f.Departments)
	if f.Grades != nil {
		m.anyGrade = true
		for _, g := range f.Grades {
			if r := g.Rank(); r > 0 {
				m.grades[r] = true
			}
		}
	}
	if f.Q != "" {
		m.q = strings.ToLower(f.Q)
	}
	return m
}

// setOf is the set of a list, and nil (no test) for a nil list.
func setOf(list []string) map[string]bool {
	if list == nil {
		return nil
	}
	s := make(map[string]bool, len(list))
	for _, v := range list {
		s[v] = true
	}
	return s
}

// Match reports whether the filter selects a unit; paging (AfterID, Limit) is the caller's.
func (m *UnitMatcher) Match(u *UnitFacts) bool {
	if m.scope != nil && !m.scope.InScope(u.Category, u.RegionCode) {
		return false
	}
	if m.categories != nil && !m.categories[u.Category] {
		return false
	}
	if m.anyGrade && !m.grades[u.Grade.Rank()] {
		return false
	}
	if m.region != "" && !strings.HasPrefix(u.RegionCode, m.region) {
		return false
	}
	if m.depts != nil && !m.depts[u.Department] {
		return false
	}
	if m.q != "" && !containsLower(u.Name, m.q) && !containsLower(u.Code, m.q) {
		return false
	}
	if m.kind != "" && KindOf(u.Geometry) != m.kind {
		return false
	}
	if !m.status(u.Status) {
		return false
	}
	if m.dueBefore != 0 && (u.ReviewDue == 0 || u.ReviewDue >= m.dueBefore) {
		return false
	}
	if m.hazards && u.OpenHazards <= 0 {
		return false
	}
	if b := m.bbox; b != nil {
		inside := b.Contains(u.Bound.Min) && b.Contains(u.Bound.Max)
		if !inside && (!b.Intersects(u.Bound) || !IntersectsBound(u.Geometry, *b)) {
			return false
		}
	}
	return true
}

// containsLower is strings.Contains(strings.ToLower(s), lq) for a lower-cased lq, without
// making the lower-cased copy of an ASCII s (a code such as "WL-001").
func containsLower(s, lq string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return strings.Contains(strings.ToLower(s), lq)
		}
	}
	for i := 0; i+len(lq) <= len(s); i++ {
		j := 0
		for j < len(lq) && lowerASCII(s[i+j]) == lq[j] {
			j++
		}
		if j == len(lq) {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func (m *UnitMatcher) status(s Status) bool {
	if len(m.statuses) > 0 {
		for _, st := range m.statuses {
			if s == st {
				return true
			}
		}
		return false
	}
	return m.retired || s != StatusRetired
}

// MatchCounted reports whether the units of a category counted under a region code pass
// the filter's scope, category and region tests: the tests that counts kept by region
// code and category can answer.
func (m *UnitMatcher) MatchCounted(category, regionCode string) bool {
	return (m.scope == nil || m.scope.InScope(category, regionCode)) &&
		(m.categories == nil || m.categories[category]) &&
		strings.HasPrefix(regionCode, m.region)
}

// All reports whether every unit that is not retired passes Match: the filter sets nothing
// but paging.
func (m *UnitMatcher) All() bool {
	return m.bbox == nil && m.scope == nil && m.categories == nil && !m.anyGrade && m.region == "" &&
		m.depts == nil && m.q == "" && m.kind == "" && len(m.statuses) == 0 &&
		m.dueBefore == 0 && !m.hazards
}
