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

// PublishedChange publishes the approved register and returns the ids of the units the
// publication added and removed, each in id order.
func PublishedChange(t *testing.T, s riskmap.Store) (added, removed []int64) {
	t.Helper()
	ch, err := s.Publish(ctx(), &riskmap.Publication{}, nil)
	must(t, err)
	for _, u := range ch.Added {
		added = append(added, u.UnitID)
	}
	for _, u := range ch.Removed {
		removed = append(removed, u.UnitID)
	}
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed
}

// ChangeLog is what PublishTakesLoggedChanges needs to change a store's approved register
// behind its back and to look at its change log (approved_changes).
type ChangeLog struct {
	// Exec runs SQL in the store's database; the statements use $1 for their one argument
	// (PostgreSQL's form, which SQLite reads too).
	Exec func(query string, args ...any) error
	// Logged counts the rows of approved_changes.
	Logged func() (int, error)
}

// PublishTakesLoggedChanges checks that a publication compares the units whose approved
// version or grade changed since the one before, as the change log names them, and empties
// the log: recording an approver is no change; a new version, a grade raised in place and a
// retirement are; a bulk load logs one "everything" row (a store may log a hand-made change
// after it too) and the next publication compares the whole register.
func PublishTakesLoggedChanges(t *testing.T, s riskmap.Store, log ChangeLog) {
	t.Helper()
	ids := map[string]int64{}
	for i := range 5 {
		u := NewUnit(fmt.Sprintf("LC-%d", i), orb.Point{102.9, 24.6 + float64(i)*0.001})
		must(t, s.CreateUnit(ctx(), u))
		ids[u.Code] = u.ID
	}
	exec := func(query string, args ...any) {
		t.Helper()
		must(t, log.Exec(query, args...))
	}
	logged := func() int {
		t.Helper()
		n, err := log.Logged()
		must(t, err)
		return n
	}
	want := func(what string, got []int64, codes ...string) {
		t.Helper()
		var w []int64
		for _, c := range codes {
			w = append(w, ids[c])
		}
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Fatalf("%s: got %v, want %v (%v)", what, got, w, codes)
		}
	}
	if added, _ := PublishedChange(t, s); len(added) != 5 || logged() != 0 {
		t.Fatalf("the first publication holds %d units and leaves %d changes logged", len(added), logged())
	}
	exec("UPDATE approved_units SET approved_by = 'reviewer'")
	if n := logged(); n != 0 {
		t.Fatalf("recording the approver logged %d changes", n)
	}
	exec("UPDATE approved_units SET version = version + 1 WHERE unit_id = $1", ids["LC-1"])
	exec("UPDATE approved_units SET grade = CASE grade WHEN 'red' THEN 'blue' ELSE 'red' END WHERE unit_id = $1", ids["LC-4"])
	added, removed := PublishedChange(t, s)
	want("added", added, "LC-1", "LC-4")
	want("removed", removed, "LC-1", "LC-4")
	if n := logged(); n != 0 {
		t.Fatalf("a publication left %d changes logged", n)
	}
	added, removed = PublishedChange(t, s)
	want("added with nothing changed", added)
	want("removed with nothing changed", removed)
	exec("DELETE FROM approved_units WHERE unit_id = $1", ids["LC-3"])
	added, removed = PublishedChange(t, s)
	want("added after a retirement", added)
	want("removed after a retirement", removed, "LC-3")

	// A bulk load logs one 0 for "everything", not an id per unit, and the next publication
	// compares the whole register.
	var bulk []*riskmap.Unit
	for i := range 30 {
		bulk = append(bulk, NewUnit(fmt.Sprintf("BULK-%d", i), orb.Point{102.91, 24.6 + float64(i)*0.001}))
	}
	if _, err := s.BulkInsertUnits(ctx(), slices.Values(bulk), nil); err != nil {
		t.Fatal(err)
	}
	exec("UPDATE approved_units SET version = version + 1 WHERE unit_id = $1", ids["LC-0"])
	if n := logged(); n < 1 || n > 2 {
		t.Fatalf("a bulk load of 30 units and a change after it logged %d rows, want the one 0 and at most the change", n)
	}
	added, _ = PublishedChange(t, s)
	if len(added) != 31 || logged() != 0 {
		t.Fatalf("after a bulk load of 30 units and a change: %d added, %d still logged", len(added), logged())
	}
}
