package main

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/pgtest"
	"riskmap/pkg/postgis"
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

// openStandby opens database dsn (on the primary) on the standby, once the standby has
// replayed its creation; without a standby the test skips, or fails in CI.
func openStandby(t *testing.T, dsn string) (string, *postgis.Store) {
	t.Helper()
	sdsn := dsnWith(t, dsn, standbyAddr(), "riskmap-test")
	// No standby at all: say so at once rather than wait for a database to appear on it.
	if s, err := postgis.Open(context.Background(), dsnWith(t, pgtest.AdminDSN(), standbyAddr(), "riskmap-test")); err != nil {
		if pgtest.Required() {
			t.Fatalf("no hot standby at %s (scripts/start-standby.sh makes it): %v", standbyAddr(), err)
		}
		t.Skipf("no hot standby at %s (scripts/start-standby.sh makes it): %v", standbyAddr(), err)
	} else {
		s.Close()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := postgis.Open(context.Background(), sdsn)
		if err == nil {
			t.Cleanup(func() { s.Close() })
			return sdsn, s
		}
		if time.Now().After(deadline) {
			t.Fatalf("the standby at %s did not replay the test database's creation in 30 s: %v", standbyAddr(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
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
	sdsn, standby := openStandby(t, dsn)
	waitFor(t, "the standby to replay the seed", func() bool {
		n, err := standby.CountUnits(context.Background())
		return err == nil && n == 50
	})
	store, err := postgis.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	addToken(t, store, "sync-expert", riskmap.RoleExpert)
	addToken(t, store, "sync-admin", riskmap.RoleAdmin)
	a, _ := serve(t, "--db", dsnWith(t, dsn, "", "riskmap-ra"), "--read-db", dsnWith(t, sdsn, "", "riskmap-ra-read"))
	b, _ := serve(t, "--db", dsnWith(t, dsn, "", "riskmap-rb"), "--read-db", dsnWith(t, sdsn, "", "riskmap-rb-read"))
	if n := count(t, b); n != 50 {
		t.Fatalf("B lists %d units, want the 50 seeded", n)
	}
	// The index was loaded from the standby: its connections are there.
	var onStandby int
	if err := standby.Pool().QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE application_name IN ('riskmap-ra-read', 'riskmap-rb-read')`).Scan(&onStandby); err != nil || onStandby == 0 {
		t.Fatalf("no connection of the replicas on the standby (%v): the index did not load from it", err)
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
	admin, err := postgis.Open(context.Background(), dsnWith(t, sdsn, "", "riskmap-test-admin"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if _, err := admin.Pool().Exec(context.Background(), "SELECT pg_wal_replay_pause()"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Pool().Exec(context.Background(), "SELECT pg_wal_replay_resume()") })
	write(t, "PUT", a+"/api/v1/units/"+strconv.FormatInt(id, 10), `"1"`, unitFeature("RR-1", "热备暂停时修改", p, "submitted"))
	d = waitFor(t, "B's tiles to show the update made while the standby was paused", func() bool {
		f := tileFeature(t, b+"/tiles", p, id)
		return f != nil && f.Properties["name"] == "热备暂停时修改"
	})
	if u, err := standby.GetUnit(context.Background(), id); err != nil || u.Name != "热备读取 一" {
		t.Fatalf("the paused standby holds %v (%v): the test no longer tests a lagging standby", u, err)
	}
	t.Logf("with the standby's replay paused, an update through A showed in B's tiles after %v, read from the primary", d)
	if _, err := admin.Pool().Exec(context.Background(), "SELECT pg_wal_replay_resume()"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the standby to replay the update", func() bool {
		u, err := standby.GetUnit(context.Background(), id)
		return err == nil && u.Name == "热备暂停时修改"
	})
}
