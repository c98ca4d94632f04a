// Package register is the application service of the risk register: it fills defaults,
// validates and grades units before a store keeps them, so that every way in (the API, the
// seed command, imports) applies the same rules.
package register

import (
	"context"
	"iter"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/grading"
	"riskmap/pkg/riskmap"
)

// Service validates, grades and stores units.
type Service struct {
	Store riskmap.UnitStore
	// Reviews keeps who wrote and reviewed each revision; nil (a store without it) records
	// nothing.
	Reviews riskmap.ReviewStore
	Grader  *grading.Grader
	// Locate gives the code of the finest region holding a point (regiongrade.Containing);
	// when set, a department user may only place units inside its regions on the map, not
	// only by their declared region code.
	Locate func(orb.Point) string
	// City, when not empty, is where a unit may lie (the regions' bound grown by 20 km, as
	// sites.Service.Bound): a unit reaching outside it is refused, "位置不在本市范围内".
	City    orb.Bound
	Catalog *riskmap.Catalog
	// Index, when set, is where every unit write goes once it is stored, before the write's
	// method returns (see Indexer).
	Index Indexer
	// Now returns the current time; tests may fix it.
	Now func() time.Time
	// Conflicts, when set, gives the safe-distance conflict conditions (source
	// riskmap.ConditionConflict: the protective targets inside its influence range) of a
	// unit as written (its geometry, category and influence radius), with Since left zero
	// (analysis.Engine.ConditionsFor). Every create, update and import recomputes them
	// from it; nil gives none. It must not call the service or the index's writes.
	Conflicts func(u *riskmap.Unit) []riskmap.Condition
}

// New returns a service over a store.
func New(store riskmap.UnitStore, g *grading.Grader, cat *riskmap.Catalog) *Service {
	s := &Service{Store: store, Grader: g, Catalog: cat, Now: time.Now}
	s.Reviews, _ = store.(riskmap.ReviewStore)
	return s
}

// Prepare fills the defaults a user expects, validates the unit and computes its grade. It
// changes nothing in the store. It stops with an error wrapping ctx's when ctx ends while
// it checks the geometry.
func (s *Service) Prepare(ctx context.Context, u *riskmap.Unit) error {
	return s.prepare(ctx, u, nil, nil)
}

// prepareUpdate is Prepare for a new revision of the stored unit before.
func (s *Service) prepareUpdate(ctx context.Context, u, before *riskmap.Unit) error {
	return s.prepare(ctx, u, before, nil)
}

// prepare is Prepare with a check of the writer's scope, allowed (when not nil), made after
// the checks that take time linear in the unit's size and before the one that takes more,
// whether polygon boundaries cross (O(n log n) in the vertices): a unit the writer may not
// write is refused without that work. A unit with other problems has its boundaries
// checked all the same, so that the answer lists every problem.
//
// before is the stored revision u replaces (nil for a new unit): u keeps its open
// conditions and count of open hidden dangers, which only their own sources' writes change,
// whatever the client sent, and its identification date when u has none; but its conflict
// conditions are computed anew from u (Conflicts), a condition that stays keeping its
// Since. The assessment gives the inherent grade; the open conditions raise it to the
// current grade (Grade), and the next review date follows the current grade from the last
// review (AssessedAt).
func (s *Service) prepare(ctx context.Context, u, before *riskmap.Unit, allowed func() error) error {
	if before != nil {
		u.Conditions, u.OpenHazards = before.Conditions, before.OpenHazards
		if u.IdentifiedAt == nil {
			u.IdentifiedAt = before.IdentifiedAt
		}
	} else {
		u.Conditions, u.OpenHazards = nil, 0
		if u.IdentifiedAt == nil && u.AssessedAt != nil {
			at := riskmap.ChinaDay(*u.AssessedAt) // the date of the assessment, in China
			u.IdentifiedAt = &at
		}
	}
	if u.Status == "" {
		u.Status = riskmap.StatusDraft
	}
	if u.ResponsibleDepartment == "" {
		if c, ok := s.Catalog.Category(u.Category); ok {
			u.ResponsibleDepartment = c.Department
		}
	}
	p := u.CheckFields(s.Catalog)
	s.checkCity(u, &p)
	if len(p) == 0 && allowed != nil {
		if err := allowed(); err != nil {
			return err
		}
	}
	if err := u.CheckBoundaries(ctx, &p); err != nil {
		return err
	}
	if err := p.Err(); err != nil {
		return err
	}
	if err := s.Grader.Grade(u); err != nil {
		return err
	}
	s.conflicts(u)
	s.raise(u)
	return nil
}

// checkCity adds a problem when u's geometry, valid so far, reaches outside the city.
func (s *Service) checkCity(u *riskmap.Unit, p *riskmap.Problems) {
	if s.City == (orb.Bound{}) || u.Geometry == nil {
		return
	}
	for _, fe := range *p {
		if fe.Field == "geometry" {
			return // its own problem says more
		}
	}
	b := u.Geometry.Bound()
	if !s.City.Contains(b.Min) || !s.City.Contains(b.Max) {
		p.Add("geometry", "位置不在本市范围内")
	}
}

// conflicts replaces u's conflict conditions by those Conflicts gives for u as it is now.
func (s *Service) conflicts(u *riskmap.Unit) {
	var fresh []riskmap.Condition
	if s.Conflicts != nil {
		fresh = s.Conflicts(u)
	}
	if fresh == nil && len(riskmap.ConditionsOf(u.Conditions, riskmap.ConditionConflict)) == 0 {
		return // nothing to replace: the other sources' conditions stay exactly as stored
	}
	u.Conditions = riskmap.ReplaceConditions(u.Conditions, riskmap.ConditionConflict, fresh, s.now())
}

// raise sets the unit's inherent grade to the grade its assessment gave (u.Grade, as the
// grader set it), its current grade to that raised by its open conditions, and its next
// review date from its last review and its current grade.
func (s *Service) raise(u *riskmap.Unit) {
	u.InherentGrade = u.Grade
	d := s.Grader.Dynamics(u, "", u.Conditions, u.OpenHazards)
	u.Grade, u.Conditions, u.NextReviewDue = d.Grade, d.Conditions, d.NextReviewDue
}

// Create prepares and stores a new unit.
func (s *Service) Create(ctx context.Context, u *riskmap.Unit) error {
	if err := s.Prepare(ctx, u); err != nil {
		return err
	}
	if err := s.Store.CreateUnit(ctx, u); err != nil {
		return err
	}
	return s.index(u)
}

// Update prepares and stores a new version of unit u.ID; u.Version must be the version the
// client last saw.
func (s *Service) Update(ctx context.Context, u *riskmap.Unit) error {
	if u.Status == riskmap.StatusRetired {
		return riskmap.Errorf(riskmap.EINVALID, "status：注销单元请用 DELETE，不要直接设置状态")
	}
	before, err := s.Store.GetUnit(ctx, u.ID)
	if err != nil {
		return err
	}
	if err := s.prepareUpdate(ctx, u, before); err != nil {
		return err
	}
	if err := s.Store.UpdateUnit(ctx, u); err != nil {
		return err
	}
	return s.index(u)
}

// BulkCreate prepares and stores many units in one transaction. The first invalid unit stops
// the load and nothing is stored; the error names the unit by its position and code. The
// units do not go to the index one by one: load it from the store afterwards.
func (s *Service) BulkCreate(ctx context.Context, units iter.Seq[*riskmap.Unit], progress func(int)) (int, error) {
	// An invalid unit cancels the context, which makes the store roll the transaction back
	// rather than commit the units before it.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var bad error
	i := 0
	prepared := func(yield func(*riskmap.Unit) bool) {
		for u := range units {
			i++
			if err := s.Prepare(ctx, u); err != nil {
				e := riskmap.Errorf(riskmap.EINVALID, "第 %d 个风险单元（%s）：%s", i, u.Code, riskmap.MessageOf(err)).WithFields(riskmap.ErrorFields(err))
				bad = e
				cancel()
				return
			}
			if !yield(u) {
				return
			}
		}
	}
	n, err := s.Store.BulkInsertUnits(ctx, prepared, progress)
	if bad != nil {
		return 0, bad
	}
	return n, err
}

// RegradeResult counts what Regrade did.
type RegradeResult struct {
	Checked int `json:"checked"`
	Changed int `json:"changed"`
}

// Regrade recomputes the grade of every active unit with the thresholds in force and stores
// the units whose grade, value or explanation changed, as a new version each.
func (s *Service) Regrade(ctx context.Context, progress func(RegradeResult)) (RegradeResult, error) {
	var res RegradeResult
	var changed []*riskmap.Unit
	for u, err := range s.Store.Units(ctx) {
		if err != nil {
			return res, err
		}
		res.Checked++
		r, err := s.Grader.Evaluate(u.Assessment, u.DirectMajorReason)
		if err != nil {
			return res, riskmap.Errorf(riskmap.EINVALID, "风险单元 %d（%s）存储的评估输入无效：%s", u.ID, u.Code, riskmap.MessageOf(err))
		}
		was := *u
		u.RiskValue, u.Grade, u.Explanation = r.RiskValue, r.Grade, r.Explanation
		s.raise(u)
		if u.Grade != was.Grade || u.InherentGrade != was.InherentGrade || u.RiskValue != was.RiskValue ||
			u.Explanation.Rule != was.Explanation.Rule || u.Explanation.Text != was.Explanation.Text ||
			!sameDay(u.NextReviewDue, was.NextReviewDue) {
			changed = append(changed, u)
		}
	}
	for i, u := range changed {
		if err := s.Store.UpdateUnit(ctx, u); err != nil {
			return res, err
		}
		res.Changed++
		if err := s.index(u); err != nil {
			return res, err
		}
		if progress != nil && (i+1)%1000 == 0 {
			progress(res)
		}
	}
	if progress != nil {
		progress(res)
	}
	return res, nil
}

// sameDay reports whether two optional dates are the same day.
func sameDay(a, b *time.Time) bool {
	return riskmap.ReviewDayOf(a) == riskmap.ReviewDayOf(b)
}
