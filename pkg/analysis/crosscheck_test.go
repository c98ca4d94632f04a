package analysis_test

// Cross-checks against PostGIS's own answer: the conflicts of the demo city on both stores
// and of 100k synthetic units equal what ST_DWithin(geography) and ST_Distance(geography)
// find (the same pairs, distances within 0.5 %), and the geodesy agrees with
// ST_Distance(geography) and ST_Area(geography). PostGIS is required with CI or
// RISKMAP_REQUIRE_PG=1 (pkg/pgtest).

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"riskmap/geodata"
	"riskmap/pkg/analysis"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/pgtest"
	"riskmap/pkg/postgis"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
	"riskmap/pkg/synth"
)

// tolerance is how far the engine's distances may be from PostGIS's (0.5 %).
const tolerance = 0.005

// pairKey names a conflict: the unit's code and the target's id.
type pairKey struct {
	unit   string
	target int64
}

type pairVal struct {
	d, r float64
}

// conflictSQL is PostGIS's own answer: every hazardous unit (its own radius or its
// category's default) and every target within it, by ST_DWithin(geography), with
// ST_Distance(geography).
const conflictSQL = `SELECT u.code, t.id, ST_Distance(u.geom::geography, t.geom::geography),
    CASE WHEN u.influence_radius_m > 0 THEN u.influence_radius_m ELSE dr.r END
  FROM %s u
  JOIN unnest($1::text[], $2::float8[]) AS dr(category, r) ON dr.category = u.category
  JOIN %s t ON ST_DWithin(u.geom::geography, t.geom::geography, CASE WHEN u.influence_radius_m > 0 THEN u.influence_radius_m ELSE dr.r END)
  WHERE u.status <> 'retired'`

func postgisConflicts(t *testing.T, conn *pgx.Conn, units, targets string, cfg analysis.Config) map[pairKey]pairVal {
	t.Helper()
	var cats []string
	var radii []float64
	for _, c := range cfg.HazardousCategories {
		cats = append(cats, c)
		radii = append(radii, cfg.DefaultRadiusM[c])
	}
	rows, err := conn.Query(context.Background(), fmt.Sprintf(conflictSQL, units, targets), cats, radii)
	if err != nil {
		t.Fatal(err)
	}
	out := map[pairKey]pairVal{}
	for rows.Next() {
		var k pairKey
		var v pairVal
		if err := rows.Scan(&k.unit, &k.target, &v.d, &v.r); err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func engineConflicts(e *analysis.Engine) map[pairKey]pairVal {
	out := map[pairKey]pairVal{}
	_, all := e.Conflicts(analysis.ConflictFilter{})
	for _, c := range all {
		out[pairKey{c.Unit.Code, c.Target.ID}] = pairVal{c.DistanceM, c.RadiusM}
	}
	return out
}

// compare checks that the engine found the pairs PostGIS found, with distances within the
// tolerance. A pair on one side only is accepted when its distance lies within the
// tolerance of the radius (the two measures may fall either side of it).
func compare(t *testing.T, what string, got, want map[pairKey]pairVal) {
	t.Helper()
	bad := 0
	report := func(format string, args ...any) {
		if bad++; bad <= 10 {
			t.Errorf(what+": "+format, args...)
		}
	}
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok && math.Abs(w.d-w.r) > tolerance*w.r:
			report("PostGIS finds %s–%d at %.2f m (radius %.0f), the engine does not", k.unit, k.target, w.d, w.r)
		case ok && math.Abs(g.d-w.d) > tolerance*math.Max(w.d, 1):
			report("%s–%d: engine %.3f m, PostGIS %.3f m", k.unit, k.target, g.d, w.d)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && math.Abs(g.d-g.r) > tolerance*g.r {
			report("the engine finds %s–%d at %.2f m (radius %.0f), PostGIS does not", k.unit, k.target, g.d, g.r)
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d differences (of %d pairs from PostGIS, %d from the engine)", what, bad, len(want), len(got))
	}
}

// demoStore is what loading the demo city needs.
type demoStore interface {
	riskmap.Store
}

// loadDemo loads the demo city into s and an engine over it.
func loadDemo(t *testing.T, s demoStore) *analysis.Engine {
	t.Helper()
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	if _, err := demo.Load(ctx, geodata.FS, s, register.New(s, cfg.Grader, cfg.Catalog)); err != nil {
		t.Fatal(err)
	}
	regions, err := s.Regions(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	targets, err := s.ProtectiveTargets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	shelters, err := s.Shelters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ix := spatialindex.New(nil, nil)
	e := analysis.New(cfg.Analysis, regions)
	e.Watch(ix)
	if _, err := ix.Load(ctx, s.Units(ctx)); err != nil {
		t.Fatal(err)
	}
	e.Load(ix.Snapshot(), targets, shelters)
	return e
}

// TestDemoCity checks the engine on the demo city loaded into each store: the conflicts equal
// PostGIS's own answer, and both stores give the same conflicts, nearest shelters and
// coverage.
func TestDemoCity(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	ps, err := postgis.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	gs, err := gpkg.Open(ctx, filepath.Join(t.TempDir(), "demo.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gs.Close() })
	engines := map[string]*analysis.Engine{"postgis": loadDemo(t, ps), "gpkg": loadDemo(t, gs)}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	cfg := config.Default().Analysis
	want := postgisConflicts(t, conn, "risk_units", "protective_targets", cfg)
	if len(want) == 0 {
		t.Fatal("the demo city has no conflicts")
	}
	for name, e := range engines {
		t.Run(name, func(t *testing.T) {
			compare(t, name, engineConflicts(e), want)
		})
	}
	a, b := engines["postgis"], engines["gpkg"]
	t.Run("StoresAgree", func(t *testing.T) {
		ga, gb := engineConflicts(a), engineConflicts(b)
		if len(ga) != len(gb) {
			t.Fatalf("conflicts: postgis %d, gpkg %d", len(ga), len(gb))
		}
		for k, v := range ga {
			if w, ok := gb[k]; !ok || math.Abs(w.d-v.d) > 1e-6 {
				t.Fatalf("%v: postgis %v, gpkg %v", k, v, w)
			}
		}
		for _, level := range []string{riskmap.LevelDistrict, riskmap.LevelStreet} {
			ca, cb := a.Coverage(level), b.Coverage(level)
			if len(ca) == 0 || len(ca) != len(cb) {
				t.Fatalf("%s coverage: %d vs %d regions", level, len(ca), len(cb))
			}
			for i := range ca {
				if ca[i].Explanation != cb[i].Explanation || ca[i].Shelters != cb[i].Shelters {
					t.Errorf("%s %s: %q vs %q", level, ca[i].Code, ca[i].Explanation, cb[i].Explanation)
				}
			}
		}
		r := synth.NewRand(9)
		for range 50 {
			p := orb.Point{102.80 + 0.3*r.Float64(), 24.55 + 0.3*r.Float64()}
			na, _ := a.Nearest(p, 0)
			nb, _ := b.Nearest(p, 0)
			if na == nil || nb == nil || na.Shelter.Name != nb.Shelter.Name || math.Abs(na.DistanceM-nb.DistanceM) > 1e-6 {
				t.Fatalf("nearest to %v: %+v vs %+v", p, na, nb)
			}
		}
	})
	t.Run("NearestMatchesPostGIS", func(t *testing.T) {
		r := synth.NewRand(10)
		for range 30 {
			p := orb.Point{102.80 + 0.3*r.Float64(), 24.55 + 0.3*r.Float64()}
			n, _ := a.Nearest(p, 0)
			var name string
			var d float64
			err := conn.QueryRow(ctx, `SELECT name, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography) AS d
				FROM shelters ORDER BY d, id LIMIT 1`, p[0], p[1]).Scan(&name, &d)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(n.DistanceM-d) > tolerance*math.Max(d, 1) {
				t.Fatalf("nearest to %v: engine %s at %.2f m, PostGIS %s at %.2f m", p, n.Shelter.Name, n.DistanceM, name, d)
			}
		}
	})
}

// syntheticTargets makes n targets placed as the synthetic units are: nine in ten points, one
// in ten small polygons.
func syntheticTargets(t *testing.T, gen *synth.Generator, seed int64, n int) []*riskmap.ProtectiveTarget {
	r := synth.NewRand(seed)
	out := make([]*riskmap.ProtectiveTarget, 0, n)
	for i := 1; i <= n; i++ {
		code := gen.PickPlace(r)
		var g orb.Geometry
		var err error
		if r.IntN(10) == 0 {
			g, err = gen.AreaIn(r, code, 60+140*r.Float64())
		} else {
			g, err = gen.PointIn(r, code)
		}
		if err != nil {
			t.Fatal(err)
		}
		k := riskmap.TargetKinds[r.IntN(len(riskmap.TargetKinds))]
		out = append(out, &riskmap.ProtectiveTarget{ID: int64(i), Name: fmt.Sprint(k.Label, i), Kind: k.Code, RegionCode: code, People: 1 + r.IntN(3000), Geometry: g})
	}
	return out
}

// TestSyntheticConflicts checks the engine's conflicts of 100k synthetic units (points, lines
// and polygons) and 1000 synthetic targets against PostGIS's.
func TestSyntheticConflicts(t *testing.T) {
	n := 100000
	if testing.Short() {
		n = 10000
	}
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	cfg := config.Default()
	regions, err := demo.LoadRegions(geodata.FS)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := synth.New(regions, cfg.Catalog, cfg.Grader)
	if err != nil {
		t.Fatal(err)
	}
	targets := syntheticTargets(t, gen, 16, 1000)
	var units []*riskmap.Unit
	for u := range gen.Units(1, n) {
		u.ID, u.Version, u.Status = int64(len(units)+1), 1, riskmap.StatusApproved
		units = append(units, u)
	}
	ix := spatialindex.New(nil, nil)
	if _, err := ix.Load(ctx, seq(units...)); err != nil {
		t.Fatal(err)
	}
	e := analysis.New(cfg.Analysis, regions)
	e.Load(ix.Snapshot(), targets, nil)

	for _, q := range []string{
		"CREATE TABLE xu (code text, category text, status text, influence_radius_m float8, g bytea, geom geometry)",
		"CREATE TABLE xt (id bigint, g bytea, geom geometry)",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	rows := make([][]any, 0, len(units))
	for _, u := range units {
		rows = append(rows, []any{u.Code, u.Category, string(u.Status), u.InfluenceRadiusM, mustWKB(t, u.Geometry)})
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"xu"}, []string{"code", "category", "status", "influence_radius_m", "g"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	rows = rows[:0]
	for _, tg := range targets {
		rows = append(rows, []any{tg.ID, mustWKB(t, tg.Geometry)})
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"xt"}, []string{"id", "g"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"UPDATE xu SET geom = ST_SetSRID(ST_GeomFromWKB(g), 4326)",
		"UPDATE xt SET geom = ST_SetSRID(ST_GeomFromWKB(g), 4326)",
		"CREATE INDEX ON xt USING gist ((geom::geography))",
		"ANALYZE xu", "ANALYZE xt",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	want := postgisConflicts(t, conn, "xu", "xt", cfg.Analysis)
	got := engineConflicts(e)
	t.Logf("%d units, %d targets: %d conflicts (PostGIS %d)", n, len(targets), len(got), len(want))
	if len(want) < 1000 {
		t.Fatalf("too few conflicts to check: %d", len(want))
	}
	compare(t, "synthetic", got, want)
}

func mustWKB(t *testing.T, g orb.Geometry) []byte {
	b, err := wkb.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGeodesyMatchesPostGIS checks DistanceM, GeomDistanceM and AreaM2 against
// ST_Distance(geography) and ST_Area(geography) over the demo city and up to 50 km around it
// (geometries up to 90 km apart, with edges up to 90 km long).
func TestGeodesyMatchesPostGIS(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	r := rand.New(rand.NewPCG(1, 2))
	pt := func(spread float64) orb.Point {
		return orb.Point{102.93 + spread*(r.Float64()-0.5), 24.67 + spread*(r.Float64()-0.5)}
	}
	poly := func(c orb.Point, size float64) orb.Polygon {
		ring := orb.Ring{}
		for i := range 7 {
			a := float64(i) / 7 * 2 * math.Pi
			k := size * (0.5 + r.Float64())
			ring = append(ring, orb.Point{c[0] + k*math.Cos(a), c[1] + k*math.Sin(a)})
		}
		return orb.Polygon{append(ring, ring[0])}
	}
	var geoms [][2]orb.Geometry
	for i := range 300 {
		spread := []float64{0.01, 0.1, 0.45, 0.9}[i%4] // ~1 km to ~90 km
		a, b := pt(spread), pt(spread)
		switch i % 5 {
		case 0, 1:
			geoms = append(geoms, [2]orb.Geometry{a, b})
		case 2:
			geoms = append(geoms, [2]orb.Geometry{orb.LineString{a, pt(spread), pt(spread)}, b})
		case 3:
			geoms = append(geoms, [2]orb.Geometry{poly(a, spread/10), b})
		case 4:
			geoms = append(geoms, [2]orb.Geometry{poly(a, spread/10), orb.LineString{b, pt(spread)}})
		}
	}
	for i, g := range geoms {
		var d, area float64
		err := conn.QueryRow(ctx, `SELECT ST_Distance(ST_SetSRID(ST_GeomFromWKB($1), 4326)::geography, ST_SetSRID(ST_GeomFromWKB($2), 4326)::geography),
			ST_Area(ST_SetSRID(ST_GeomFromWKB($1), 4326)::geography)`, mustWKB(t, g[0]), mustWKB(t, g[1])).Scan(&d, &area)
		if err != nil {
			t.Fatal(err)
		}
		got, pa, pb := analysis.GeomDistanceM(g[0], g[1])
		if math.Abs(got-d) > tolerance*math.Max(d, 1) {
			t.Errorf("%d: GeomDistanceM %.3f m, PostGIS %.3f m (%v – %v)", i, got, d, g[0], g[1])
		}
		if got > 0 && math.Abs(analysis.DistanceM(pa, pb)-got) > 1e-6*got {
			t.Errorf("%d: the closest points are %.3f m apart, the distance is %.3f m", i, analysis.DistanceM(pa, pb), got)
		}
		if a := analysis.AreaM2(g[0]); math.Abs(a-area) > tolerance*area {
			t.Errorf("%d: AreaM2 %.1f m², PostGIS %.1f m²", i, a, area)
		}
	}
}
