package register

import (
	"context"

	"riskmap/pkg/riskmap"
)

// SetConditions replaces unit id's open conditions of source (riskmap.ConditionConflict,
// riskmap.ConditionAlarm) by conds, keeping the other sources' and the Since of a condition
// that stays, and recomputes its current grade with the grader's rules, in the store
// (riskmap.ConditionStore). When that changed the unit, the new version reaches the index
// before SetConditions returns; it returns it, or nil when nothing changed (or the unit is
// retired). A missing unit is ENOTFOUND.
//
// It is not a person's write: nothing is recorded in the audit log. Call it outside the
// index's listeners (it takes the index's lock).
func (s *Service) SetConditions(ctx context.Context, id int64, source string, conds []riskmap.Condition) (*riskmap.Unit, error) {
	st, ok := s.Store.(riskmap.ConditionStore)
	if !ok {
		return nil, riskmap.Errorf(riskmap.EUNAVAILABLE, "此存储不支持动态条件")
	}
	u, err := st.SetConditions(ctx, id, source, conds, s.Grader.Dynamics)
	if err != nil || u == nil {
		return nil, err
	}
	return u, s.index(u)
}

// UnitConditions returns the open conditions of source of every unit not retired that has
// any, as stored (for reconciling them with what they should be at start).
func (s *Service) UnitConditions(ctx context.Context, source string) (map[int64][]riskmap.Condition, error) {
	st, ok := s.Store.(riskmap.ConditionStore)
	if !ok {
		return nil, riskmap.Errorf(riskmap.EUNAVAILABLE, "此存储不支持动态条件")
	}
	return st.UnitConditions(ctx, source)
}
