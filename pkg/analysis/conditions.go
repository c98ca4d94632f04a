package analysis

import (
	"riskmap/pkg/riskmap"
)

// conditionOf is the condition a conflict gives its unit: source conflict, Ref the target's
// name, Level its kind, Detail the distance ("距离 120 米").
func conditionOf(c *Conflict) riskmap.Condition {
	return riskmap.ConflictCondition(c.Target.Kind, c.Target.Name, c.DistanceM)
}

// WantedConditions are the conflict conditions every unit with conflicts should have, by
// unit id (ConditionsOf each): what register.Service.ReconcileConditions brings the stored
// ones to at start.
func (e *Engine) WantedConditions() map[int64][]riskmap.Condition {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := map[int64][]riskmap.Condition{}
	for id, st := range e.units {
		if len(st.conflicts) > 0 {
			out[id] = conditionsOf(st.conflicts)
		}
	}
	return out
}
