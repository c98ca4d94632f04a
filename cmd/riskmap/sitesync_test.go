package main

import (
	"strconv"
	"strings"
	"testing"

	"riskmap/pkg/pgtest"
	"riskmap/pkg/riskmap"
)

// TestReplicasShareSites: a shelter created and changed through replica A shows on B's
// public shelter list (B reads the sites again when the store's mark moves).
func TestReplicasShareSites(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	mustRun(t, "seed", "--db", dsn, "--synthetic", "5", "--seed", "5")
	store := openPG(t, dsn)
	addToken(t, store, "sync-expert", riskmap.RoleExpert)
	a, _ := serve(t, "--db", dsnWith(t, dsn, "", "riskmap-a"))
	b, _ := serve(t, "--db", dsnWith(t, dsn, "", "riskmap-b"))
	shelter := func(name string) string {
		return `{"type":"Feature","geometry":{"type":"Point","coordinates":[102.93,24.68]},"properties":{"name":"` + name +
			`","kind":"emergency","capacity":100,"effective_area_m2":200}}`
	}
	id, _ := write(t, "POST", a+"/api/v1/shelters", "", shelter("同步避难点"))
	d := waitFor(t, "B to list the shelter created through A", func() bool {
		_, body := get(t, b+"/public/api/v1/shelters")
		return strings.Contains(body, "同步避难点")
	})
	t.Logf("a shelter created through A showed on B after %v", d)
	write(t, "PUT", a+"/api/v1/shelters/"+strconv.FormatInt(id, 10), `"1"`, shelter("同步避难点（改）"))
	waitFor(t, "B to show the change", func() bool {
		_, body := get(t, b+"/public/api/v1/shelters")
		return strings.Contains(body, "同步避难点（改）")
	})
}
