package main

import (
	"context"
	"strings"
	"testing"

	"riskmap/pkg/gpkg"
	"riskmap/pkg/riskmap"
)

// TestSeedDemoConflicts checks that "seed --demo" gives the demo city's hazardous units their
// conflict conditions (the schools and hospitals in their ranges) before its first
// publication, as a server's start would, and that a condition that raises a unit names its
// target in the unit's explanation.
func TestSeedDemoConflicts(t *testing.T) {
	db := demoGPKG(t, "r.gpkg")
	ctx := context.Background()
	s, err := gpkg.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conds, err := s.UnitConditions(ctx, riskmap.ConditionConflict)
	if err != nil {
		t.Fatal(err)
	}
	if len(conds) == 0 {
		t.Fatal("no unit of the demo city has a conflict condition")
	}
	for id, cs := range conds {
		u, err := s.GetUnit(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.Ref == "" || riskmap.TargetKindLabel(c.Level) == "" || !strings.HasPrefix(c.Detail, "距离 ") {
				t.Fatalf("unit %s: condition %+v", u.Code, c)
			}
			if c.Raises && !strings.Contains(u.DynamicText(), c.Ref) {
				t.Fatalf("unit %s is raised by %s, its explanation says %q", u.Code, c.Ref, u.DynamicText())
			}
		}
	}
}
