package postgis

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/storetest"
)

// Publishing compares only the units whose approved row changed since the publication before
// (approved_changes, sql/postgis/017): a change committed while a publication runs is left
// for the next one, never lost, and recording an approver is no change.
func TestPublishTakesLoggedChanges(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	ids := map[string]int64{}
	for i := range 5 {
		u := storetest.NewUnit(fmt.Sprintf("LC-%d", i), orb.Point{102.9, 24.6 + float64(i)*0.001})
		if err := s.CreateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
		ids[u.Code] = u.ID
	}
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := s.pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	logged := func() (n int) {
		t.Helper()
		if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM approved_changes").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	publish := func() (added, removed []int64) {
		t.Helper()
		ch, err := s.Publish(ctx, &riskmap.Publication{}, func(ch *riskmap.PublicationChange) (*riskmap.PublicationSummary, error) {
			return &riskmap.PublicationSummary{Regions: json.RawMessage(`[]`)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
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

	if added, _ := publish(); len(added) != 5 || logged() != 0 {
		t.Fatalf("the first publication holds %d units and leaves %d changes logged", len(added), logged())
	}
	exec("UPDATE approved_units SET approved_by = 'reviewer'")
	if n := logged(); n != 0 {
		t.Fatalf("recording the approver logged %d changes", n)
	}
	exec("UPDATE approved_units SET version = version + 1 WHERE unit_id = $1", ids["LC-1"])
	exec("UPDATE approved_units SET grade = CASE grade WHEN 'red' THEN 'blue' ELSE 'red' END WHERE unit_id = $1", ids["LC-4"])
	// A new version of LC-2 written by a transaction still open when the publication runs.
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "UPDATE approved_units SET version = version + 1 WHERE unit_id = $1", ids["LC-2"]); err != nil {
		t.Fatal(err)
	}
	added, removed := publish()
	want("added while LC-2's writer is open", added, "LC-1", "LC-4")
	want("removed while LC-2's writer is open", removed, "LC-1", "LC-4")
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	added, removed = publish()
	want("added after LC-2's writer committed", added, "LC-2")
	want("removed after LC-2's writer committed", removed, "LC-2")
	added, removed = publish()
	want("added with nothing changed", added)
	want("removed with nothing changed", removed)
	exec("DELETE FROM approved_units WHERE unit_id = $1", ids["LC-3"])
	added, removed = publish()
	want("added after a retirement", added)
	want("removed after a retirement", removed, "LC-3")

	// A bulk load logs one 0 for "everything", not an id per unit, and the next publication
	// compares the whole register.
	var bulk []*riskmap.Unit
	for i := range 30 {
		bulk = append(bulk, storetest.NewUnit(fmt.Sprintf("BULK-%d", i), orb.Point{102.91, 24.6 + float64(i)*0.001}))
	}
	if _, err := s.BulkInsertUnits(ctx, slices.Values(bulk), nil); err != nil {
		t.Fatal(err)
	}
	exec("UPDATE approved_units SET version = version + 1 WHERE unit_id = $1", ids["LC-0"])
	if n := logged(); n != 1 {
		t.Fatalf("a bulk load of 30 units and a change after it logged %d rows, want the one 0", n)
	}
	added, _ = publish()
	if len(added) != 31 || logged() != 0 {
		t.Fatalf("after a bulk load of 30 units and a change: %d added, %d still logged", len(added), logged())
	}

	// The units each publication holds are the approved register as it was.
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM approved_units a FULL JOIN
		(SELECT * FROM publication_units WHERE publication = (SELECT max(number) FROM publications)) p ON p.unit_id = a.unit_id
		WHERE a.version IS DISTINCT FROM p.version OR a.grade IS DISTINCT FROM p.grade`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the latest publication differs from the approved register in %d units (%v)", n, err)
	}
}
