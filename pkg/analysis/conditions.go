package analysis

import (
	"context"
	"slices"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

// conditionOf is the condition a conflict gives its unit: source conflict, Ref the target's
// name, Level its kind, Detail the distance ("距离 120 米").
func conditionOf(c *Conflict) riskmap.Condition {
	return riskmap.ConflictCondition(c.Target.Kind, c.Target.Name, c.DistanceM)
}

// SameConditions reports whether two lists of conflict conditions say the same (target
// name, kind and detail, in any order), ignoring Since and Raises.
func SameConditions(a, b []riskmap.Condition) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(c riskmap.Condition) string { return c.Level + "\x00" + c.Ref + "\x00" + c.Detail }
	ka := make([]string, len(a))
	kb := make([]string, len(b))
	for i := range a {
		ka[i], kb[i] = key(a[i]), key(b[i])
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

// SetConditionsFunc writes a unit's conditions of source conflict (register.Service's
// SetConditions with source riskmap.ConditionConflict).
type SetConditionsFunc func(ctx context.Context, unitID int64, conds []riskmap.Condition) error

// Reconcile brings the stored conflict conditions in line with the engine, at start after
// Load: stored are the units having conflict conditions in the store (the store's
// UnitConditions of source conflict); every unit of the snapshot whose stored conditions
// differ from ConditionsOf gets set. It returns how many units it set; it stops at the
// first error.
func (e *Engine) Reconcile(ctx context.Context, units *spatialindex.Snapshot, stored map[int64][]riskmap.Condition, set SetConditionsFunc) (int, error) {
	ids := map[int64]bool{}
	for id := range stored {
		ids[id] = true
	}
	e.mu.RLock()
	for id, st := range e.units {
		if len(st.conflicts) > 0 {
			ids[id] = true
		}
	}
	e.mu.RUnlock()
	order := make([]int64, 0, len(ids))
	for id := range ids {
		order = append(order, id)
	}
	slices.Sort(order)
	n := 0
	for _, id := range order {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		if _, ok := units.Get(id); !ok {
			continue // retired or erased: its conditions no longer matter
		}
		want := e.ConditionsOf(id)
		if SameConditions(stored[id], want) {
			continue
		}
		if err := set(ctx, id, want); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
