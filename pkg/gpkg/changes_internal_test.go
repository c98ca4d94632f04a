package gpkg

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
// (approved_changes, sql/gpkg/016), and recording an approver is no change.
func TestPublishTakesLoggedChanges(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	ids := map[string]int64{}
	for i := range 5 {
		u := storetest.NewUnit(fmt.Sprintf("LC-%d", i), orb.Point{102.9, 24.6 + float64(i)*0.001})
		mustT(t, s.CreateUnit(ctx, u))
		ids[u.Code] = u.ID
	}
	exec := func(q string, args ...any) {
		t.Helper()
		_, err := s.w.ExecContext(ctx, q, args...)
		mustT(t, err)
	}
	logged := func() (n int) {
		t.Helper()
		mustT(t, s.r.QueryRowContext(ctx, "SELECT count(*) FROM approved_changes").Scan(&n))
		return n
	}
	publish := func() (added, removed []int64) {
		t.Helper()
		ch, err := s.Publish(ctx, &riskmap.Publication{}, func(ch *riskmap.PublicationChange) (*riskmap.PublicationSummary, error) {
			return &riskmap.PublicationSummary{Regions: json.RawMessage(`[]`)}, nil
		})
		mustT(t, err)
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
	exec("UPDATE approved_units SET version = version + 1 WHERE unit_id = ?", ids["LC-1"])
	exec("UPDATE approved_units SET grade = CASE grade WHEN 'red' THEN 'blue' ELSE 'red' END WHERE unit_id = ?", ids["LC-4"])
	added, removed := publish()
	want("added", added, "LC-1", "LC-4")
	want("removed", removed, "LC-1", "LC-4")
	if n := logged(); n != 0 {
		t.Fatalf("a publication left %d changes logged", n)
	}
	added, removed = publish()
	want("added with nothing changed", added)
	want("removed with nothing changed", removed)
	exec("DELETE FROM approved_units WHERE unit_id = ?", ids["LC-3"])
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
	exec("UPDATE approved_units SET version = version + 1 WHERE unit_id = ?", ids["LC-0"])
	if n := logged(); n != 1 {
		t.Fatalf("a bulk load of 30 units and a change after it logged %d rows, want the one 0", n)
	}
	added, _ = publish()
	if len(added) != 31 || logged() != 0 {
		t.Fatalf("after a bulk load of 30 units and a change: %d added, %d still logged", len(added), logged())
	}
}
