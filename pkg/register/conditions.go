package register

import (
	"context"
	"slices"

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

// ReconcileResult counts what ReconcileConditions did.
type ReconcileResult struct {
	Checked int `json:"checked"` // units with stored or wanted conditions of the source
	Changed int `json:"changed"` // units written
}

// ReconcileConditions brings every unit's stored conditions of source to want (the
// conditions each unit should have, for every unit that should have any: the analysis
// engine's at start), with SetConditions: a unit whose stored conditions say something
// else (another target, kind or detail; order and Since do not count), and a unit that has
// some but should have none. A unit want names that is missing or retired is skipped.
func (s *Service) ReconcileConditions(ctx context.Context, source string, want map[int64][]riskmap.Condition) (ReconcileResult, error) {
	var res ReconcileResult
	stored, err := s.UnitConditions(ctx, source)
	if err != nil {
		return res, err
	}
	ids := make([]int64, 0, len(want)+len(stored))
	for id := range want {
		ids = append(ids, id)
	}
	for id := range stored {
		if _, ok := want[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		res.Checked++
		if sameSet(stored[id], want[id]) {
			continue
		}
		u, err := s.SetConditions(ctx, id, source, want[id])
		if riskmap.ErrorCode(err) == riskmap.ENOTFOUND {
			continue
		}
		if err != nil {
			return res, err
		}
		if u != nil {
			res.Changed++
		}
	}
	return res, nil
}

// sameSet reports whether two lists hold the same conditions (ref, level and detail), in
// any order, whatever their Since.
func sameSet(a, b []riskmap.Condition) bool {
	if len(a) != len(b) {
		return false
	}
	type key struct{ ref, level, detail string }
	n := make(map[key]int, len(a))
	for _, c := range a {
		n[key{c.Ref, c.Level, c.Detail}]++
	}
	for _, c := range b {
		k := key{c.Ref, c.Level, c.Detail}
		if n[k] == 0 {
			return false
		}
		n[k]--
	}
	return true
}
