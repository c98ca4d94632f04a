package postgis

import (
	"context"
	"reflect"
	"testing"
)

// Units gives what GetUnit gives for every active unit, in id order, with ids far apart
// (wide ranges read in pages) and retired units at the ranges' edges.
func TestUnitsRangesMatchGetUnit(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	const n = 2*unitsPage + 7
	if _, err := s.BulkInsertUnits(ctx, synthUnits(n, 5), nil); err != nil {
		t.Fatal(err)
	}
	var lo int64
	if err := s.pool.QueryRow(ctx, "SELECT min(id) FROM risk_units").Scan(&lo); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"UPDATE risk_units SET status = 'retired' WHERE id IN ($1::bigint, $1::bigint + 1999, $1::bigint + 2000, $1::bigint + 4006)",
		"UPDATE risk_units SET id = 1000000000000 WHERE id = $1::bigint + 17",
		"UPDATE risk_units SET id = 4000000000000000000 WHERE id = $1::bigint + 18",
		// What other programs may write into the json columns: spaces, escapes.
		`UPDATE risk_units SET grade_explanation = '{"method": "LS", "value": 4, "rule": "4 \u2264 R \u003c 10", "text": "\"x\"\n"}' WHERE id = $1::bigint + 3`,
	} {
		if _, err := s.pool.Exec(ctx, q, lo); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var got []int64
	for u, err := range s.Units(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		w, err := s.GetUnit(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(u, w) {
			t.Fatalf("unit %d:\n  Units %+v\nGetUnit %+v", u.ID, u, w)
		}
		if len(got) > 0 && u.ID <= got[len(got)-1] {
			t.Fatalf("unit %d after %d", u.ID, got[len(got)-1])
		}
		got = append(got, u.ID)
	}
	if len(got) != n-4 || got[len(got)-2] != 1e12 || got[len(got)-1] != 4e18 {
		t.Fatalf("got %d units ending %v, want %d ending with the far ids", len(got), got[max(len(got)-3, 0):], n-4)
	}
}
