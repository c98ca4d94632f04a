package gpkg

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/storetest"
)

// unitsOf reads the whole stream.
func unitsOf(t *testing.T, s *Store) []*riskmap.Unit {
	t.Helper()
	var got []*riskmap.Unit
	for u, err := range s.Units(context.Background()) {
		mustT(t, err)
		got = append(got, u)
	}
	return got
}

// Units gives what GetUnit gives for every active unit, in id order, whatever the ranges
// and however the rows were written: the packed read and the ordinary one agree.
func TestUnitsMatchGetUnit(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	const n = 2*readbackPage + 7
	_, err := s.BulkInsertUnits(ctx, func(yield func(*riskmap.Unit) bool) {
		for i := range n {
			var g orb.Geometry = orb.Point{102.9 + float64(i)/1e5, 24.6}
			if i%3 == 1 {
				g = orb.LineString{{102.9, 24.6}, {102.91, 24.61 + float64(i)/1e5}}
			}
			u := storetest.NewUnit(fmt.Sprintf("M-%d", i), g)
			if i%2 == 0 {
				u.MajorHazardSource, u.AssessedAt, u.AccidentTypes = nil, nil, nil
			}
			if i%5 == 0 {
				u.NextReviewDue, u.Controls.PPE, u.Explanation.Inputs = nil, []string{}, nil
			}
			if i%4 == 0 { // raised by open hidden dangers, identified on a day of its own
				identified := time.Date(2021, 4, 1+i%20, 0, 0, 0, 0, time.UTC)
				u.InherentGrade, u.OpenHazards, u.IdentifiedAt = riskmap.GradeYellow, 1+i%3, &identified
				u.Conditions = []riskmap.Condition{{Source: riskmap.ConditionHazard, Ref: fmt.Sprintf("YH-2026-%06d", i),
					Level: "major", Since: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), Raises: true}}
			}
			if !yield(u) {
				return
			}
		}
	}, nil)
	mustT(t, err)
	// What other programs may write: the rows are read the ordinary way, or the fast way
	// with the same result.
	for _, q := range []string{
		"UPDATE risk_units SET name = 'NUL' || char(0) || 'inside' WHERE id = 3",
		"UPDATE risk_units SET address = CAST(X'E4B8AD41' AS BLOB) WHERE id = 4",
		"UPDATE risk_units SET created_at = '2026-03-01T16:30:00+08:00' WHERE id = 5",
		"UPDATE risk_units SET updated_at = '2026-03-01T08:30:00Z' WHERE id = 6",
		"UPDATE risk_units SET assessed_at = '2026-02-29T08:30:00.000Z' WHERE id = 7", // no such day
		`UPDATE risk_units SET grade_explanation = '{"method":"LS","value":4,"rule":"4 \u2264 R \u003c 10","text":"\"x\"\\n"}' WHERE id = 8`,
		`UPDATE risk_units SET controls = ' { "ppe" : [ "a" , "b" ] } ', accident_types = 'null' WHERE id = 9`,
		"UPDATE risk_units SET controls = CAST(X'7B22707065223A5B22FF225D7D' AS TEXT) WHERE id = 10", // invalid UTF-8
		"UPDATE risk_units SET risk_value = 12, major_hazard_level = 3 WHERE id = 11",
		"UPDATE risk_units SET grade = 'orange', status = 'submitted' WHERE id = 12",
		"UPDATE risk_units SET status = 'retired' WHERE id IN (1, 1024, 1025, 2048)",
		"UPDATE risk_units SET next_review_due = '2026-13-01' WHERE id = 13",
		"UPDATE risk_units SET inherent_grade = NULL, conditions = '[]', identified_at = '2020-02-29' WHERE id = 14",
		"UPDATE risk_units SET conditions = ' [ ] ', open_hazards = 0 WHERE id = 15",
	} {
		_, err := s.w.ExecContext(ctx, q)
		mustT(t, err)
	}
	// Unit 7's assessed_at is a day that does not exist: GetUnit refuses it, and Units
	// stops there with an error, after the units before it.
	if _, err := s.GetUnit(ctx, 7); err == nil {
		t.Fatal("GetUnit(7): want an error for the impossible date")
	}
	var got []*riskmap.Unit
	var last error
	for u, err := range s.Units(ctx) {
		if err != nil {
			last = err
			break
		}
		got = append(got, u)
	}
	if last == nil || len(got) != 5 { // units 2 … 6
		t.Fatalf("want the 5 units before the bad date and an error, got %d, %v", len(got), last)
	}
	for i, u := range got {
		w, err := s.GetUnit(ctx, u.ID)
		mustT(t, err)
		if u.ID != int64(i+2) || !reflect.DeepEqual(u, w) {
			t.Fatalf("unit %d:\n Units  %+v\nGetUnit %+v", u.ID, u, w)
		}
	}
	if got[1].Name != "NUL\x00inside" {
		t.Fatalf("unit 3's name: %q", got[1].Name)
	}

	// Without the bad dates, the whole stream.
	for _, q := range []string{
		"UPDATE risk_units SET assessed_at = '2026-02-28T08:30:00.000Z' WHERE id = 7",
		"UPDATE risk_units SET next_review_due = '2026-12-01' WHERE id = 13",
	} {
		_, err := s.w.ExecContext(ctx, q)
		mustT(t, err)
	}
	got = unitsOf(t, s)
	if len(got) != n-4 {
		t.Fatalf("Units gave %d units, want %d", len(got), n-4)
	}
	for i, u := range got {
		w, err := s.GetUnit(ctx, u.ID)
		mustT(t, err)
		if !reflect.DeepEqual(u, w) {
			t.Fatalf("unit %d:\n Units  %+v\nGetUnit %+v", u.ID, u, w)
		}
		if i > 0 && u.ID <= got[i-1].ID {
			t.Fatalf("unit %d after %d", u.ID, got[i-1].ID)
		}
	}
}

// Ids far apart are read in wide ranges, in pages, without a query per empty stretch.
func TestUnitsSparseIDs(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	for _, code := range []string{"SP-10", "SP-11"} {
		mustT(t, s.CreateUnit(ctx, testUnit(code, orb.Point{1, 1})))
	}
	_, err := s.BulkInsertUnits(ctx, func(yield func(*riskmap.Unit) bool) {
		for i := range 3*readbackPage + 5 {
			if !yield(testUnit(fmt.Sprintf("B-%d", i), orb.Point{1, 1})) {
				return
			}
		}
	}, nil)
	mustT(t, err)
	for _, q := range []string{
		"UPDATE risk_units SET id = 1000000000000 WHERE code = 'SP-10'",
		"UPDATE risk_units SET id = 4000000000000000000 WHERE code = 'B-7'",
	} {
		_, err := s.w.ExecContext(ctx, q)
		mustT(t, err)
	}
	got := unitsOf(t, s)
	if len(got) != 3*readbackPage+7 {
		t.Fatalf("got %d units", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].ID <= got[i-1].ID {
			t.Fatalf("unit %d after %d", got[i].ID, got[i-1].ID)
		}
	}
	if last := got[len(got)-1]; last.Code != "B-7" || got[len(got)-2].Code != "SP-10" {
		t.Fatalf("the far ids come last: %s, %s", got[len(got)-2].Code, last.Code)
	}
}

// Both connections read one snapshot: when a write commits between the start of one and
// the other, Units starts again, and after snapshotTries reads on one connection only.
func TestUnitsOneSnapshot(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	_, err := s.BulkInsertUnits(ctx, func(yield func(*riskmap.Unit) bool) {
		for i := range 3 * readbackPage {
			if !yield(testUnit(fmt.Sprintf("O-%d", i), orb.Point{1, 1})) {
				return
			}
		}
	}, nil)
	mustT(t, err)
	run := func(writes int) (seen, hooks, inUse int) {
		t.Helper()
		snapshotHook = func() {
			if hooks++; hooks <= writes {
				mustT(t, s.CreateUnit(ctx, testUnit(fmt.Sprintf("H-%d-%d", writes, hooks), orb.Point{2, 2})))
			}
		}
		defer func() { snapshotHook = nil }()
		for _, err := range s.Units(ctx) {
			mustT(t, err)
			if seen++; seen == 1 {
				inUse = s.r.Stats().InUse
			}
		}
		return seen, hooks, inUse
	}
	n := 3 * readbackPage
	if seen, hooks, inUse := run(0); seen != n || hooks != 1 || inUse != 2 {
		t.Fatalf("no write: saw %d units (want %d), %d tries, %d connections", seen, n, hooks, inUse)
	}
	if seen, hooks, inUse := run(1); seen != n+1 || hooks != 2 || inUse != 2 {
		t.Fatalf("one write: saw %d units (want %d), %d tries, %d connections", seen, n+1, hooks, inUse)
	}
	n++
	if seen, hooks, inUse := run(snapshotTries); seen != n+snapshotTries || hooks != snapshotTries || inUse != 1 {
		t.Fatalf("writes all along: saw %d units (want %d), %d tries, %d connections", seen, n+snapshotTries, hooks, inUse)
	}
}

// With a pool of two readers, Units leaves one to the others.
func TestUnitsSmallPool(t *testing.T) {
	ctx := context.Background()
	s, err := OpenWith(ctx, t.TempDir()+"/small.gpkg", Options{Readers: 2})
	mustT(t, err)
	defer s.Close()
	mustT(t, s.Migrate(ctx))
	for i := range 3 {
		mustT(t, s.CreateUnit(ctx, testUnit(fmt.Sprintf("P-%d", i), orb.Point{1, 1})))
	}
	n := 0
	for _, err := range s.Units(ctx) {
		mustT(t, err)
		if _, err := s.GetUnit(ctx, 1); err != nil { // a read from the loop body
			t.Fatal(err)
		}
		n++
	}
	if n != 3 {
		t.Fatalf("got %d units", n)
	}
}

// fastTime and fastDate read what parseTime and time.Parse read, and give up on the rest.
func TestFastTimes(t *testing.T) {
	for _, s := range []string{
		"2026-03-01T08:30:00.000Z", "2024-02-29T23:59:59.999Z", "2023-02-29T00:00:00.000Z",
		"2026-13-01T00:00:00.000Z", "2026-00-10T00:00:00.000Z", "2026-01-32T00:00:00.000Z",
		"2026-01-01T24:00:00.000Z", "2026-01-01T00:60:00.000Z", "2026-01-01T00:00:60.000Z",
		"0000-01-01T00:00:00.000Z", "2000-02-29T12:00:00.000Z", "1900-02-29T12:00:00.000Z",
		"2026-03-01T08:30:00Z", "2026-03-01T16:30:00+08:00", "2026-03-01 08:30:00.000Z", "+026-03-01T08:30:00.000Z",
		"2026-0a-01T08:30:00.000Z", "",
	} {
		want, werr := parseTime(s)
		got, ok := fastTime(s)
		if ok && (werr != nil || !reflect.DeepEqual(got, want)) {
			t.Errorf("fastTime(%q) = %v, parseTime gives %v, %v", s, got, want, werr)
		}
		if !ok && werr == nil && len(s) == len(timeLayout) && s[23] == 'Z' && s[19] == '.' {
			t.Errorf("fastTime(%q) gave up on the store's own form", s)
		}
		if got, err := readTime(s); (err != nil) != (werr != nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("readTime(%q) = %v, %v; parseTime gives %v, %v", s, got, err, want, werr)
		}
		if len(s) >= 10 {
			d := s[:10]
			want, werr := time.Parse(dateLayout, d)
			got, ok := fastDate(d)
			if ok != (werr == nil) || (ok && !reflect.DeepEqual(got, want)) {
				t.Errorf("fastDate(%q) = %v, %v; time.Parse gives %v, %v", d, got, ok, want, werr)
			}
		}
	}
}

// Two streams at once, each reading the store from its loop body, do not take every
// reader: each Units that would leave none free reads on one connection.
func TestUnitsConcurrentStreams(t *testing.T) {
	// A read that waits for a connection gives up: a deadlock fails rather than hangs.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := openTestStore(t)
	for i := range 3 {
		mustT(t, s.CreateUnit(ctx, testUnit(fmt.Sprintf("C-%d", i), orb.Point{1, 1})))
	}
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		for range s.Units(ctx) {
			select {
			case <-started:
			default:
				close(started)
			}
			time.Sleep(10 * time.Millisecond)
			if _, err := s.GetUnit(ctx, 1); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	<-started
	for range s.Units(ctx) {
		if _, err := s.GetUnit(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
	mustT(t, <-done)
}

// The approved register keeps the approved revision's inherent grade (NULL for a unit
// stored without one), from single writes and bulk loads alike.
func TestApprovedInherentGrade(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t)
	raised := storetest.NewUnit("AI-RAISED", orb.Point{102.9, 24.6})
	raised.InherentGrade = riskmap.GradeYellow
	plain := storetest.NewUnit("AI-PLAIN", orb.Point{102.91, 24.61})
	mustT(t, s.CreateUnit(ctx, raised))
	mustT(t, s.CreateUnit(ctx, plain))
	bulk := storetest.NewUnit("AI-BULK", orb.Point{102.92, 24.62})
	bulk.InherentGrade = riskmap.GradeBlue
	_, err := s.BulkInsertUnits(ctx, func(yield func(*riskmap.Unit) bool) { yield(bulk) }, nil)
	mustT(t, err)
	raised.InherentGrade = riskmap.GradeOrange
	mustT(t, s.UpdateUnit(ctx, raised))
	for code, want := range map[string]string{"AI-RAISED": "orange", "AI-PLAIN": "", "AI-BULK": "blue"} {
		var got *string
		mustT(t, s.w.QueryRowContext(ctx, "SELECT inherent_grade FROM approved_units WHERE code = ?", code).Scan(&got))
		if (got == nil) != (want == "") || (got != nil && *got != want) {
			t.Errorf("%s: approved inherent grade %v, want %q", code, got, want)
		}
	}
}
