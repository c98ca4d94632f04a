package main

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/pgtest"
	"riskmap/pkg/postgis"
	"riskmap/pkg/publishing"
	"riskmap/pkg/riskmap"
)

// standbyAddr is the hot standby of the test server (scripts/start-standby.sh), or
// RISKMAP_TEST_STANDBY.
func standbyAddr() string {
	if a := os.Getenv("RISKMAP_TEST_STANDBY"); a != "" {
		return a
	}
	return "127.0.0.1:5433"
}

// standbyCatchUp is how long the test waits for the standby to replay what the primary
// has written. Under CI's load (every package's tests writing to the primary at once,
// databases created from a template and dropped) the standby can lag tens of seconds; the
// servers under test never wait for it (they read from the primary after 0.5 s), only the
// test's own looks at the standby do.
const standbyCatchUp = 3 * time.Minute

// replica is the test's view of the hot standby: an administrator's connection to the
// primary and one to the standby.
type replica struct {
	primary, standby *postgis.Store
}

// openReplica connects to the primary and to its hot standby; without a standby the test
// skips, or fails in CI.
func openReplica(t *testing.T) replica {
	t.Helper()
	s, err := postgis.Open(context.Background(), dsnWith(t, pgtest.AdminDSN(), standbyAddr(), "riskmap-test-standby"))
	if err != nil {
		if pgtest.Required() {
			t.Fatalf("no hot standby at %s (scripts/start-standby.sh makes it): %v", standbyAddr(), err)
		}
		t.Skipf("no hot standby at %s (scripts/start-standby.sh makes it): %v", standbyAddr(), err)
	}
	t.Cleanup(func() { s.Close() })
	// A run killed while the standby's replay was paused left it paused: resume it.
	if _, err := s.Pool().Exec(context.Background(), "SELECT pg_wal_replay_resume()"); err != nil {
		t.Fatalf("resuming the standby's replay: %v", err)
	}
	p := openPG(t, dsnWith(t, pgtest.AdminDSN(), "", "riskmap-test-primary"))
	return replica{primary: p, standby: s}
}

// pause stops the standby's replay until the returned resume is called (or the test ends).
func (r replica) pause(t *testing.T) (resume func()) {
	t.Helper()
	if _, err := r.standby.Pool().Exec(context.Background(), "SELECT pg_wal_replay_pause()"); err != nil {
		t.Fatal(err)
	}
	resume = func() {
		if _, err := r.standby.Pool().Exec(context.Background(), "SELECT pg_wal_replay_resume()"); err != nil {
			t.Errorf("resuming the standby's replay: %v", err)
		}
	}
	t.Cleanup(resume)
	return resume
}

// caughtUp waits until the standby has replayed everything the primary had written when it
// was called, and returns how long that took.
func (r replica) caughtUp(t *testing.T, what string) time.Duration {
	t.Helper()
	ctx := context.Background()
	want, err := r.primary.WALPosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for {
		got, err := r.standby.ReplayedPosition(ctx)
		if err == nil && got >= want {
			d := time.Since(start)
			t.Logf("the standby replayed %s after %v", what, d)
			return d
		}
		if time.Since(start) > standbyCatchUp {
			t.Fatalf("the standby at %s did not replay %s in %v (%d bytes behind, %v)", standbyAddr(), what, standbyCatchUp, want-got, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// open opens database dsn (on the primary) on the standby, once the standby has replayed
// everything written so far.
func (r replica) open(t *testing.T, dsn string) (string, *postgis.Store) {
	t.Helper()
	r.caughtUp(t, "the test database")
	sdsn := dsnWith(t, dsn, standbyAddr(), "riskmap-test")
	s, err := postgis.Open(context.Background(), sdsn)
	if err != nil {
		t.Fatalf("the standby has replayed the test database's creation but does not open it: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return sdsn, s
}

// TestReadReplica is issue 18's read replica: two servers with --db on the primary and
// --read-db on a real streaming standby load and follow the register from the standby,
// write to the primary, see each other's writes in their tiles, and serve nothing stale as
// fresh while the standby's replay is paused (they read from the primary then).
func TestReadReplica(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL with a hot standby")
	}
	dsn := pgtest.NewDatabase(t)
	mustRun(t, "seed", "--db", dsn, "--synthetic", "50", "--seed", "5")
	mustRun(t, "publish", "--db", dsn, "--note", "热备读取")
	rep := openReplica(t)
	sdsn, standby := rep.open(t, dsn)
	if n, err := standby.CountUnits(context.Background()); err != nil || n != 50 {
		t.Fatalf("the standby, caught up, holds %d units (%v), want the 50 seeded", n, err)
	}
	// How often the standby has read the published units so far (its own statistics).
	publishedScans := func() int64 {
		var n int64
		if err := standby.Pool().QueryRow(context.Background(), `SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0)
			FROM pg_stat_user_tables WHERE relname = 'published_units'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	scans := publishedScans()
	store := openPG(t, dsn)
	addToken(t, store, "sync-expert", riskmap.RoleExpert)
	addToken(t, store, "sync-admin", riskmap.RoleAdmin)
	a, _ := serve(t, "--db", dsnWith(t, dsn, "", "riskmap-ra"), "--read-db", dsnWith(t, sdsn, "", "riskmap-ra-read"))
	b, _ := serve(t, "--db", dsnWith(t, dsn, "", "riskmap-rb"), "--read-db", dsnWith(t, sdsn, "", "riskmap-rb-read"))
	if r := readyz(t, b); r["status"] != "ready" || r["standby"] != "streaming" {
		t.Fatalf("/readyz of a replica on a standby says %v", r)
	}
	if n := count(t, b); n != 50 {
		t.Fatalf("B lists %d units, want the 50 seeded", n)
	}
	// The index was loaded from the standby: its connections are there.
	var onStandby int
	if err := standby.Pool().QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE application_name IN ('riskmap-ra-read', 'riskmap-rb-read')`).Scan(&onStandby); err != nil || onStandby == 0 {
		t.Fatalf("no connection of the replicas on the standby (%v): the index did not load from it", err)
	}
	// The public index too: the publication's units were read on the standby.
	// (A backend reports its statistics when it goes idle, at most every 10 s: wait longer
	// than waitFor does.)
	for deadline := time.Now().Add(15 * time.Second); publishedScans() < scans+2; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the standby counts %d reads of the published units, %d before the replicas started: the public index did not load from it", publishedScans(), scans)
		}
	}
	p := orb.Point{102.9312, 24.6888}

	id, _ := write(t, "POST", a+"/api/v1/units", "", unitFeature("RR-1", "热备读取 一", p, "submitted"))
	d := waitFor(t, "B's tiles to show a unit written through A", func() bool {
		f := tileFeature(t, b+"/tiles", p, id)
		return f != nil && f.Properties["name"] == "热备读取 一"
	})
	t.Logf("a create through A showed in B's tiles after %v (B read it from the standby)", d)
	q := orb.Point{p[0] + 0.002, p[1]}
	id2, _ := write(t, "POST", b+"/api/v1/units", "", unitFeature("RR-2", "热备读取 二", q, "submitted"))
	waitFor(t, "A's tiles to show a unit written through B", func() bool { return tileFeature(t, a+"/tiles", q, id2) != nil })

	// The standby stops replaying: what B hears of must come from the primary.
	resume := rep.pause(t)
	write(t, "PUT", a+"/api/v1/units/"+strconv.FormatInt(id, 10), `"1"`, unitFeature("RR-1", "热备暂停时修改", p, "submitted"))
	d = waitFor(t, "B's tiles to show the update made while the standby was paused", func() bool {
		f := tileFeature(t, b+"/tiles", p, id)
		return f != nil && f.Properties["name"] == "热备暂停时修改"
	})
	// /readyz: still ready (reads go to the primary), and says how far the standby lags.
	if r := readyz(t, b); r["status"] != "ready" || r["standby"] != "streaming" || r["standby_lag_bytes"] == nil || r["standby_lag_bytes"].(float64) <= 0 {
		t.Fatalf("with the standby paused behind a write, /readyz says %v", r)
	}
	if u, err := standby.GetUnit(context.Background(), id); err != nil || u.Name != "热备读取 一" {
		t.Fatalf("the paused standby holds %v (%v): the test no longer tests a lagging standby", u, err)
	}
	t.Logf("with the standby's replay paused, an update through A showed in B's tiles after %v, read from the primary", d)
	// A publication made meanwhile through A reaches B's public map: the paused standby
	// does not hold it, so B reads its change from the primary.
	writeAs(t, "sync-admin", "POST", a+"/api/v1/units/"+strconv.FormatInt(id, 10)+"/approve", `"2"`, "")
	writeAs(t, "sync-admin", "POST", a+"/api/v1/publications", "", `{"note":"热备暂停时发布"}`)
	d = waitFor(t, "B's public tiles to show a unit published while the standby was paused", func() bool {
		return tileFeature(t, b+"/public/tiles", p, id) != nil
	})
	if _, err := standby.GetUnit(context.Background(), id); err != nil {
		t.Fatal(err)
	} else if pl, err := standby.LatestPublication(context.Background()); err != nil || pl.Number != 1 {
		t.Fatalf("the paused standby's latest publication: %v (%v), want 1: the test no longer tests a lagging standby", pl, err)
	}
	t.Logf("a publication through A while the standby was paused showed in B's public tiles after %v, read from the primary", d)
	resume()
	rep.caughtUp(t, "the update once resumed")
	if u, err := standby.GetUnit(context.Background(), id); err != nil || u.Name != "热备暂停时修改" {
		t.Fatalf("the resumed standby holds %v (%v), want the update", u, err)
	}
}

// readyz is the JSON /readyz of the server at base answers.
func readyz(t *testing.T, base string) map[string]any {
	t.Helper()
	code, body := get(t, base+"/readyz")
	var r map[string]any
	if err := json.Unmarshal([]byte(body), &r); err != nil || code != http.StatusOK {
		t.Fatalf("/readyz: %d, %v", code, err)
	}
	return r
}

// A standby that stays behind is passed over without a wait on every read: after one read
// waited for it in vain, the next reads go to the primary at once, and once the pass-over
// has run out the standby is waited for, and read from, again.
func TestLaggingStandbyIsPassedOver(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL with a hot standby")
	}
	dsn := pgtest.NewDatabase(t)
	rep := openReplica(t)
	_, standby := rep.open(t, dsn)
	primary := openPG(t, dsn)
	ctx := context.Background()
	resume := rep.pause(t)
	advanceWAL := func() {
		t.Helper()
		if _, err := primary.Pool().Exec(ctx, "CREATE TABLE IF NOT EXISTS lag_probe (n int); INSERT INTO lag_probe VALUES (1)"); err != nil {
			t.Fatal(err)
		}
	}
	sr := &standbyReads{Store: primary, standby: standby, wait: 50 * time.Millisecond}
	advanceWAL()
	if sr.reader(ctx) != primary || sr.waits.Load() != 1 {
		t.Fatalf("the first read behind a paused standby: waited %d times, want once, then the primary", sr.waits.Load())
	}
	for range 3 {
		advanceWAL()
		if sr.reader(ctx) != primary {
			t.Fatal("a read behind a paused standby did not go to the primary")
		}
	}
	if n := sr.waits.Load(); n != 1 {
		t.Fatalf("reads waited %d times for a standby known to lag, want only the first", n)
	}
	resume()
	rep.caughtUp(t, "the writes once resumed")
	// Once the pass-over has run out, a read waits for the standby again and reads from it.
	// (Within the pass-over a single look finds it caught up only if nothing else wrote
	// meanwhile: the WAL position is the whole cluster's, which other tests write to.)
	sr.behindUntil.Store(0)
	sr.wait = standbyCatchUp
	if sr.reader(ctx) != standby {
		t.Fatal("after the pass-over, a read does not go to the caught-up standby")
	}
}

// failingStandby is a standby whose reads of a publication fail after its first `after`
// units, and whose change reads fail at once (a query cancelled by recovery, say): the
// data is the real store's.
type failingStandby struct {
	publishing.Store
	after int
}

func (f failingStandby) PublicationUnits(ctx context.Context, n int64) iter.Seq2[*riskmap.ApprovedUnit, error] {
	return func(yield func(*riskmap.ApprovedUnit, error) bool) {
		i := 0
		for a, err := range f.Store.PublicationUnits(ctx, n) {
			if err == nil && i == f.after {
				err = errors.New("canceling statement due to conflict with recovery")
			}
			i++
			if !yield(a, err) || err != nil {
				return
			}
		}
	}
}

func (f failingStandby) PublicationChanges(ctx context.Context, from, to int64) (*riskmap.PublicationChange, error) {
	return nil, errors.New("canceling statement due to conflict with recovery")
}

// A standby that fails while a publication is read from it: the primary goes on from the
// unit after the last one read, and the replica gets every unit once, in order; a change
// the standby fails to read comes from the primary.
func TestStandbyPublicationsFallBack(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	mustRun(t, "seed", "--db", dsn, "--synthetic", "60", "--seed", "3")
	mustRun(t, "publish", "--db", dsn, "--note", "一")
	store := openPG(t, dsn)
	var want []int64
	for a, err := range store.PublicationUnits(ctx, 1) {
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, a.UnitID)
	}
	if len(want) < 10 {
		t.Fatalf("publication 1 holds %d units: too few to fail in the middle", len(want))
	}
	for _, after := range []int{0, 7, len(want) - 1} {
		s := standbyPublications{Store: store, standby: failingStandby{Store: store, after: after}}
		var got []int64
		for a, err := range s.PublicationUnits(ctx, 1) {
			if err != nil {
				t.Fatalf("standby failing after %d units: %v", after, err)
			}
			got = append(got, a.UnitID)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("standby failing after %d units: read %v, want %v", after, got, want)
		}
	}
	mustRun(t, "publish", "--db", dsn, "--note", "二")
	s := standbyPublications{Store: store, standby: failingStandby{Store: store}}
	if _, err := s.PublicationChanges(ctx, 1, 2); err != nil {
		t.Fatalf("a change the standby fails to read: %v", err)
	}
}
