package httpapi_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// TestIndexEqualsStore makes a random sequence of creates, updates, stale updates and
// retirements through the API and checks that the index then holds exactly the store's
// active units, at the same versions, grades and places.
func TestIndexEqualsStore(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			r := rand.New(rand.NewPCG(9, 9))
			type live struct {
				loc     string
				version int
			}
			var units []live
			for step := 0; step < 120; step++ {
				lon, lat := 102.85+r.Float64()*0.1, 24.6+r.Float64()*0.1
				switch op := r.IntN(10); {
				case op < 4 || len(units) == 0:
					res := e.do("POST", "/api/v1/units", feature(fmt.Sprintf("INV-%d", step), "不变量", lon, lat, 1+r.IntN(5), 1+r.IntN(5)))
					if res.code != 201 {
						t.Fatalf("create: %s", res.body)
					}
					units = append(units, live{res.header.Get("Location"), 1})
				case op < 7:
					i := r.IntN(len(units))
					u := units[i]
					res := e.do("PUT", u.loc, feature(fmt.Sprintf("INV-U%d", step), "已修改", lon, lat, 1+r.IntN(5), 1+r.IntN(5)), "If-Match", fmt.Sprintf(`"%d"`, u.version))
					if res.code != 200 {
						t.Fatalf("update: %s", res.body)
					}
					units[i].version++
				case op < 8:
					u := units[r.IntN(len(units))]
					if u.version > 1 {
						if res := e.do("PUT", u.loc, feature("INV-STALE", "过时", lon, lat, 5, 5), "If-Match", `"1"`); res.code != 412 {
							t.Fatalf("stale update: %d", res.code)
						}
					}
				default:
					i := r.IntN(len(units))
					if res := e.do("DELETE", units[i].loc, "", "If-Match", fmt.Sprintf(`"%d"`, units[i].version)); res.code != 200 {
						t.Fatalf("retire: %d %s", res.code, res.body)
					}
					units = append(units[:i], units[i+1:]...)
				}
			}
			snap := e.ix.Snapshot()
			n := 0
			for u, err := range e.store.Units(context.Background()) {
				if err != nil {
					t.Fatal(err)
				}
				n++
				f, ok := snap.Get(u.ID)
				if !ok || f.Version != u.Version || f.Grade != u.Grade || !orb.Equal(f.Geometry, u.Geometry) || f.Name != u.Name {
					t.Fatalf("unit %d: store v%d %s %q, index %+v", u.ID, u.Version, u.Grade, u.Name, f)
				}
				if !strings.Contains(string(f.JSON()), fmt.Sprintf(`"version":%d`, u.Version)) {
					t.Fatalf("unit %d: the indexed GeoJSON is stale", u.ID)
				}
			}
			if n != snap.Len() || n != len(units) {
				t.Fatalf("store has %d active units, index %d", n, snap.Len())
			}
		})
	}
}
