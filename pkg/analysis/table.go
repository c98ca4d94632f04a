package analysis

import (
	"slices"
	"strings"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// ConflictFilter selects conflicts of the city-wide table.
type ConflictFilter struct {
	// Scope, when set, keeps the conflicts of the units the user may read (a department
	// user's categories and regions); nil keeps every conflict.
	Scope *riskmap.User
	// RegionPrefix keeps the units whose region code starts with it.
	RegionPrefix string
	// Departments keeps the units of these responsible departments (nil: any).
	Departments []string
	// Grades keeps the units of these current grades (nil: any).
	Grades []riskmap.Grade
	// Kinds keeps the targets of these kinds (nil: any).
	Kinds []string
	// BBox keeps the conflicts whose unit or target bounding box meets it.
	BBox *orb.Bound
	// Offset skips that many conflicts; Limit returns at most that many (0: all).
	Offset, Limit int
}

// Match reports whether the filter keeps c; paging is the caller's.
func (f *ConflictFilter) Match(c *Conflict) bool {
	u := c.Unit
	if f.Scope != nil && !riskmap.CanReadInternal(f.Scope, u.Category, u.RegionCode) {
		return false
	}
	if f.RegionPrefix != "" && !strings.HasPrefix(u.RegionCode, f.RegionPrefix) {
		return false
	}
	if f.Departments != nil && !slices.Contains(f.Departments, u.Department) {
		return false
	}
	if f.Grades != nil && !slices.Contains(f.Grades, u.Grade) {
		return false
	}
	if f.Kinds != nil && !slices.Contains(f.Kinds, c.Target.Kind) {
		return false
	}
	if b := f.BBox; b != nil && !b.Intersects(u.Bound) && !b.Intersects(c.Target.Geometry.Bound()) {
		return false
	}
	return true
}

// Conflicts answers the city-wide table: the conflicts the filter keeps, sorted by the
// unit's grade (red first), the people at the target (most first), the distance (nearest
// first), the unit id and the target id; total counts them all, page is the part that
// Offset and Limit select.
func (e *Engine) Conflicts(f ConflictFilter) (total int, page []Conflict) {
	all := f.Scope == nil && f.RegionPrefix == "" && f.Departments == nil && f.Grades == nil &&
		f.Kinds == nil && f.BBox == nil
	e.mu.RLock()
	defer e.mu.RUnlock()
	if all {
		// Nothing to test: the table's own order and size answer.
		total = e.table.Len()
		if f.Offset >= total {
			return total, nil
		}
		n := total - f.Offset
		if f.Limit > 0 {
			n = min(n, f.Limit)
		}
		page = make([]Conflict, 0, n)
		i := 0
		e.table.Scan(func(c *Conflict) bool {
			if i >= f.Offset {
				page = append(page, *c)
			}
			i++
			return len(page) < n
		})
		return total, page
	}
	e.table.Scan(func(c *Conflict) bool {
		if !f.Match(c) {
			return true
		}
		if total >= f.Offset && (f.Limit <= 0 || len(page) < f.Limit) {
			page = append(page, *c)
		}
		total++
		return true
	})
	return total, page
}
