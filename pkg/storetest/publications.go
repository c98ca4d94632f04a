package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// OldPublications is what MigratedPublications needs of a store whose schema stops before
// the incremental publications (postgis 016, gpkg 015).
type OldPublications struct {
	// Publish makes publication n the old way: a copy of the approved register.
	Publish func(n int64) error
	// Withdraw takes a unit out of the approved register, keeping its row aside; Restore
	// puts the row back as it was.
	Withdraw, Restore func(id int64) error
	// Regrade changes a unit's approved grade in place, keeping its version (as a
	// condition raising the grade of a unit under review did).
	Regrade func(id int64, g riskmap.Grade) error
	// Migrate applies the remaining migrations.
	Migrate func() error
}

// MigratedPublications checks that publications made as copies read the same once migrated
// to published_units: every publication's units, the changes between them, and publishing
// on from them. s's schema stops before the migration.
func MigratedPublications(t *testing.T, s riskmap.Store, old OldPublications) {
	a := NewUnit("MIG-A", point)
	b := NewUnit("MIG-B", poly)
	c := NewUnit("MIG-C", orb.Point{102.93, 24.63})
	for _, u := range []*riskmap.Unit{a, b, c} {
		must(t, s.CreateUnit(ctx(), u))
	}
	must(t, old.Publish(1)) // A1 B1 C1
	a.Grade = riskmap.GradeOrange
	must(t, s.UpdateUnit(ctx(), a))
	must(t, old.Withdraw(c.ID))
	must(t, old.Publish(2)) // A2 B1
	must(t, old.Restore(c.ID))
	_, err := s.RetireUnit(ctx(), b.ID, b.Version)
	must(t, err)
	must(t, old.Publish(3)) // A2 C1: C is back at the version it left with
	must(t, old.Regrade(c.ID, riskmap.GradeBlue))
	must(t, old.Publish(4)) // A2 C1, blue
	must(t, old.Migrate())

	key := func(u *riskmap.Unit, v int64, g riskmap.Grade) string { return fmt.Sprintf("%d@%d:%s", u.ID, v, g) }
	want := map[int64][]string{
		1: {key(a, 1, riskmap.GradeRed), key(b, 1, riskmap.GradeRed), key(c, 1, riskmap.GradeRed)},
		2: {key(a, 2, riskmap.GradeOrange), key(b, 1, riskmap.GradeRed)},
		3: {key(a, 2, riskmap.GradeOrange), key(c, 1, riskmap.GradeRed)},
		4: {key(a, 2, riskmap.GradeOrange), key(c, 1, riskmap.GradeBlue)},
	}
	check := func(t *testing.T) {
		t.Helper()
		for n, w := range want {
			if got := unitKeys(pubUnits(t, s, n)); !slices.Equal(got, w) {
				t.Fatalf("publication %d after the migration: want %v, got %v", n, w, got)
			}
		}
	}
	t.Run("UnitsOK", check)
	t.Run("ChangesOK", func(t *testing.T) {
		ch, err := s.PublicationChanges(ctx(), 1, 2)
		must(t, err)
		if got, w := unitKeys(ch.Removed), []string{key(a, 1, riskmap.GradeRed), key(c, 1, riskmap.GradeRed)}; !slices.Equal(got, w) {
			t.Fatalf("removed 1→2: want %v, got %v", w, got)
		}
		ch, err = s.PublicationChanges(ctx(), 2, 3)
		must(t, err)
		if got, w := unitKeys(ch.Added), []string{key(c, 1, riskmap.GradeRed)}; !slices.Equal(got, w) {
			t.Fatalf("added 2→3: want %v, got %v", w, got)
		}
		ch, err = s.PublicationChanges(ctx(), 3, 4)
		must(t, err)
		if got, w := unitKeys(ch.Added), []string{key(c, 1, riskmap.GradeBlue)}; !slices.Equal(got, w) {
			t.Fatalf("added 3→4 (the same version regraded): want %v, got %v", w, got)
		}
	})
	t.Run("PublishOnOK", func(t *testing.T) {
		a.Grade = riskmap.GradeYellow
		must(t, s.UpdateUnit(ctx(), a))
		p := &riskmap.Publication{}
		ch, err := s.Publish(ctx(), p, nil)
		must(t, err)
		if p.Number != 5 || p.UnitCount != 2 || len(ch.Added) != 1 || len(ch.Removed) != 1 {
			t.Fatalf("publication 4: %+v, added %v, removed %v", p, unitKeys(ch.Added), unitKeys(ch.Removed))
		}
		want[5] = []string{key(a, 3, riskmap.GradeYellow), key(c, 1, riskmap.GradeBlue)}
		check(t)
	})
}
