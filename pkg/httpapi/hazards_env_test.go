package httpapi_test

import (
	"riskmap/pkg/grading"
	"riskmap/pkg/riskmap"
)

// dynamicsOf is the grader's dynamic-grade rule.
func dynamicsOf(g *grading.Grader) riskmap.DynamicsFunc {
	if d, ok := any(g).(interface {
		Dynamics(u *riskmap.Unit, approvedInherent riskmap.Grade, open []riskmap.Condition, openHazards int) riskmap.Dynamics
	}); ok {
		return d.Dynamics
	}
	return nil
}
