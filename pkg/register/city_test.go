package register_test

import (
	"context"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/config"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
)

// TestUnitOutsideTheCity: with the city's bound set, a unit created, moved or imported
// outside it is refused naming its geometry, and nothing is stored; inside it is written.
func TestUnitOutsideTheCity(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(kind.name, func(t *testing.T) {
			store := kind.open(t)
			cfg := config.Default()
			svc := register.New(store, cfg.Grader, cfg.Catalog)
			svc.City = orb.Bound{Min: orb.Point{102.6, 24.4}, Max: orb.Point{103.3, 25.0}}
			ctx := context.Background()
			expert := &riskmap.User{Name: "alice", Role: riskmap.RoleExpert}
			outside := func(err error) {
				t.Helper()
				fs := riskmap.ErrorFields(err)
				if riskmap.ErrorCode(err) != riskmap.EINVALID || len(fs) != 1 || fs[0].Field != "geometry" || fs[0].Message != "位置不在本市范围内" {
					t.Fatalf("want geometry 位置不在本市范围内, got %v %+v", err, fs)
				}
			}
			// In Chile, and a line from the city to far away.
			outside(svc.CreateBy(ctx, expert, pointUnit("OUT-1", orb.Point{-70, -30}), nil))
			line := pointUnit("OUT-2", nearby)
			line.Geometry = orb.LineString{{102.9, 24.6}, {105.9, 24.6}}
			outside(svc.CreateBy(ctx, expert, line, nil))
			// Inside: stored; moved out: refused, the stored unit unchanged.
			u := pointUnit("IN-1", nearby)
			if err := svc.CreateBy(ctx, expert, u, nil); err != nil {
				t.Fatal(err)
			}
			moved := *u
			moved.Geometry = orb.Point{116.4, 39.9}
			_, err := svc.UpdateBy(ctx, expert, &moved, nil)
			outside(err)
			got, err := store.GetUnit(ctx, u.ID)
			if err != nil || got.Version != u.Version || !orb.Equal(got.Geometry, nearby) {
				t.Fatalf("the refused move changed the unit: %+v %v", got, err)
			}
			// An import row outside is refused by line.
			im := svc.ImportBy(nil, nil)
			probs, err := im.Check(ctx, []register.ImportRow{{Line: 2, Unit: pointUnit("OUT-3", orb.Point{2.35, 48.85})}})
			if err != nil {
				t.Fatal(err)
			}
			outside(probs[0])
			found, err := store.(riskmap.UnitImportStore).UnitsByCode(ctx, []string{"OUT-1", "OUT-2", "OUT-3"})
			if err != nil || len(found) != 0 {
				t.Fatalf("nothing outside is stored: %+v %v", found, err)
			}
		})
	}
}
