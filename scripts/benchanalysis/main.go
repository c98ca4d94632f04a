// Command benchanalysis measures the spatial analyses (issue 16) at the scale of make bench:
// 1M synthetic units and 100k synthetic protective targets. It times computing every
// conflict at start, keeping them current on unit writes, the city-wide conflict table
// against PostGIS answering the same question with ST_DWithin(geography) and a GiST index
// (in the same run, on the same units and targets, copied into tables of their own), and the
// nearest shelter.
//
// The world is --tiles × --tiles copies of the demo county side by side (10 × 10: 76,000 km²,
// a large prefecture-level city): 1M units packed into the one 760 km² county would put
// every point inside the influence ranges of hundreds of hazardous units (about 120M
// conflicts with 100k targets), which no register has.
//
//	go run ./scripts/benchanalysis --db postgres://…
//
// Without --db, PostGIS is not asked.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"riskmap/geodata"
	"riskmap/pkg/analysis"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
	"riskmap/pkg/synth"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchanalysis:", err)
		os.Exit(1)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d.Nanoseconds())/1e6) }

func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*q))]
}

// Targets makes n protective targets in the regions, placed as the synthetic units are
// (weighted by population): nine in ten points, one in ten small polygons.
func Targets(gen *synth.Generator, seed int64, n int) ([]*riskmap.ProtectiveTarget, error) {
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
			return nil, err
		}
		k := riskmap.TargetKinds[r.IntN(len(riskmap.TargetKinds))]
		out = append(out, &riskmap.ProtectiveTarget{ID: int64(i), Name: fmt.Sprintf("%s%d", k.Label, i), Kind: k.Code,
			RegionCode: code, People: 50 + r.IntN(3000), Geometry: g})
	}
	return out, nil
}

// Shelters makes n shelters in the regions (points).
func Shelters(gen *synth.Generator, seed int64, n int) ([]*riskmap.Shelter, error) {
	r := synth.NewRand(seed)
	out := make([]*riskmap.Shelter, 0, n)
	for i := 1; i <= n; i++ {
		code := gen.PickPlace(r)
		p, err := gen.PointIn(r, code)
		if err != nil {
			return nil, err
		}
		out = append(out, &riskmap.Shelter{ID: int64(i), Name: fmt.Sprintf("避难场所%d", i), Kind: riskmap.ShelterEmergency,
			RegionCode: code, Capacity: 1000, EffectiveAreaM2: 2000, Geometry: p})
	}
	return out, nil
}

func main() {
	db := flag.String("db", "", "postgres:// DSN of a seeded database (empty: units made in memory, PostGIS not asked)")
	nUnits := flag.Int("units", 1000000, "synthetic units")
	tiles := flag.Int("tiles", 10, "the world is tiles × tiles copies of the demo county")
	nTargets := flag.Int("targets", 100000, "protective targets to add")
	nShelters := flag.Int("shelters", 5000, "shelters to add")
	writes := flag.Int("writes", 2000, "unit writes to time")
	queries := flag.Int("queries", 10000, "nearest queries to time")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the start computation to this file")
	flag.Parse()
	ctx := context.Background()
	cfg := config.Default()
	demoRegions, err := demo.LoadRegions(geodata.FS)
	must(err)
	regions := tile(demoRegions, *tiles)
	gen, err := synth.New(regions, cfg.Catalog, cfg.Grader)
	must(err)
	targets, err := Targets(gen, 16, *nTargets)
	must(err)
	shelters, err := Shelters(gen, 17, *nShelters)
	must(err)

	ix := spatialindex.New(nil, nil)
	eng := analysis.New(cfg.Analysis, regions)
	// The engine's part of each write, timed inside the index's listener.
	var engineTimes []time.Duration
	timing := false
	ix.OnChange(func(c spatialindex.Change) {
		t0 := time.Now()
		eng.UnitChanged(c)
		if timing {
			engineTimes = append(engineTimes, time.Since(t0))
		}
	})
	units := func(yield func(*riskmap.Unit, error) bool) {
		i := int64(0)
		for u := range gen.Units(1, *nUnits) {
			i++
			u.ID, u.Version = i, 1
			if err := cfg.Grader.Grade(u); err != nil {
				yield(nil, err)
				return
			}
			if !yield(u, nil) {
				return
			}
		}
	}
	t0 := time.Now()
	_, err = ix.Load(ctx, units)
	must(err)
	snap := ix.Snapshot()
	fmt.Printf("index: %d units loaded in %.1f s; %d protective targets, %d shelters (GOMAXPROCS %d)\n",
		snap.Len(), time.Since(t0).Seconds(), len(targets), len(shelters), runtime.GOMAXPROCS(0))

	// 1. Every conflict at start.
	runtime.GC()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		must(err)
		must(pprof.StartCPUProfile(f))
	}
	t0 = time.Now()
	cpu0 := cpuTime()
	eng.Load(snap, targets, shelters)
	start := time.Since(t0)
	startCPU := cpuTime() - cpu0
	if *cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	hazardous := 0
	snap.Ascend(0, func(f *spatialindex.Feature) bool {
		if cfg.Analysis.Hazardous(f.Category) {
			hazardous++
		}
		return true
	})
	fmt.Printf("start: all %d conflicts of %d hazardous units computed in %.2f s (target ≤ 10 s); CPU %.2f s on %d cores (load average %s)\n",
		eng.Count(), hazardous, start.Seconds(), startCPU.Seconds(), runtime.GOMAXPROCS(0), loadAvg())

	// 2. The city-wide table: the first page of 100 and the total, all conflicts and the
	// red ones.
	table := func(f analysis.ConflictFilter) (time.Duration, int) {
		var ds []time.Duration
		total := 0
		for range 20 {
			t := time.Now()
			total, _ = eng.Conflicts(f)
			ds = append(ds, time.Since(t))
		}
		return quantile(ds, 0.5), total
	}
	allT, allN := table(analysis.ConflictFilter{Limit: 100})
	redT, redN := table(analysis.ConflictFilter{Limit: 100, Grades: []riskmap.Grade{riskmap.GradeRed}})
	fmt.Printf("table: first page of all %d conflicts %s; of the %d of red units %s\n", allN, ms(allT), redN, ms(redT))
	if *db != "" {
		fmt.Println("copying the units and targets into PostGIS …")
		pgLoad(ctx, *db, units, targets)
		pgAll, pgAllN := pgTable(ctx, *db, cfg.Analysis, "")
		pgRed, pgRedN := pgTable(ctx, *db, cfg.Analysis, "red")
		fmt.Printf("table in PostGIS (ST_DWithin(geography) + GiST, no parallel workers): all %d conflicts %s (%.0f× slower); red %d %s (%.0f× slower)\n",
			pgAllN, ms(pgAll), float64(pgAll)/float64(max(allT, 1)), pgRedN, ms(pgRed), float64(pgRed)/float64(max(redT, 1)))
	}

	// 3. Unit writes: hazardous units moved by up to 200 m (new versions through the index,
	// whose listener updates the engine before Apply returns).
	var ids []*spatialindex.Feature
	snap.Ascend(0, func(f *spatialindex.Feature) bool {
		if cfg.Analysis.Hazardous(f.Category) {
			ids = append(ids, f)
		}
		return true
	})
	r := rand.New(rand.NewPCG(3, 4))
	var applyTimes []time.Duration
	timing = true
	for i := 0; i < *writes && len(ids) > 0; i++ {
		f := ids[r.IntN(len(ids))]
		cur, _ := ix.Snapshot().Get(f.ID)
		dx, dy := (r.Float64()-0.5)*0.004, (r.Float64()-0.5)*0.004
		u := &riskmap.Unit{ID: cur.ID, Version: cur.Version + 1, Code: cur.Code, Name: cur.Name, Category: cur.Category,
			RegionCode: cur.RegionCode, ResponsibleDepartment: cur.Department, Grade: cur.Grade, InherentGrade: cur.InherentGrade,
			Status: cur.Status, InfluenceRadiusM: cur.InfluenceRadiusM, Geometry: move(cur.Geometry, dx, dy)}
		t := time.Now()
		if _, err := ix.Apply(u); err != nil {
			must(err)
		}
		applyTimes = append(applyTimes, time.Since(t))
	}
	timing = false
	if len(applyTimes) > 0 {
		fmt.Printf("writes: %d unit moves: engine update median %s (p95 %s); whole index write median %s (target ≤ 5 ms)\n",
			len(applyTimes), ms(quantile(engineTimes, 0.5)), ms(quantile(engineTimes, 0.95)), ms(quantile(applyTimes, 0.5)))
	}

	// 4. Nearest shelter from random points of the city.
	var near []time.Duration
	rr := synth.NewRand(5)
	for range *queries {
		p, err := gen.PointIn(rr, gen.PickPlace(rr))
		must(err)
		t := time.Now()
		eng.Nearest(p, 0)
		near = append(near, time.Since(t))
	}
	fmt.Printf("nearest: %d queries among %d shelters: median %s, p95 %s (target ≤ 2 ms)\n",
		len(near), len(shelters), ms(quantile(near, 0.5)), ms(quantile(near, 0.95)))
}

// cpuTime is the CPU time the process has used (user and system): unlike the wall clock,
// it does not grow when other jobs share the machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAvg is the machine's one-minute load average, "?" when unknown.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func move(g orb.Geometry, dx, dy float64) orb.Geometry {
	shift := func(p orb.Point) orb.Point { return orb.Point{p[0] + dx, p[1] + dy} }
	switch g := g.(type) {
	case orb.Point:
		return shift(g)
	case orb.LineString:
		out := make(orb.LineString, len(g))
		for i, p := range g {
			out[i] = shift(p)
		}
		return out
	case orb.Polygon:
		out := make(orb.Polygon, len(g))
		for i, ring := range g {
			out[i] = make(orb.Ring, len(ring))
			for j, p := range ring {
				out[i][j] = shift(p)
			}
		}
		return out
	}
	return g
}

// tableSQL is the city-wide conflict table in PostGIS: the hazardous units (with their own
// radius or their category's default) joined to the targets in range by
// ST_DWithin(geography), the first 100 in the table's order with the total.
const tableSQL = `WITH c AS (
  SELECT u.id AS uid, t.id AS tid, u.grade, t.people, ST_Distance(u.geom::geography, t.geom::geography) AS d
  FROM bench_units u
  JOIN unnest($1::text[], $2::float8[]) AS dr(category, r) ON dr.category = u.category
  JOIN bench_targets t
    ON ST_DWithin(u.geom::geography, t.geom::geography, CASE WHEN u.influence_radius_m > 0 THEN u.influence_radius_m ELSE dr.r END)
  WHERE ($3 = '' OR u.grade = $3))
SELECT uid, tid, d, count(*) OVER () FROM c
ORDER BY array_position(ARRAY['red','orange','yellow','blue'], grade), people DESC, d, uid, tid
LIMIT 100`

// pgLoad copies the units and targets into tables of their own (bench_units, bench_targets),
// with GiST indexes on their geographies.
func pgLoad(ctx context.Context, dsn string, units func(func(*riskmap.Unit, error) bool), targets []*riskmap.ProtectiveTarget) {
	conn, err := pgx.Connect(ctx, dsn)
	must(err)
	defer conn.Close(ctx)
	for _, q := range []string{
		"CREATE EXTENSION IF NOT EXISTS postgis",
		"DROP TABLE IF EXISTS bench_units, bench_targets",
		"CREATE TABLE bench_units (id bigint PRIMARY KEY, category text, grade text, influence_radius_m float8, g bytea, geom geometry)",
		"CREATE TABLE bench_targets (id bigint PRIMARY KEY, kind text, people int, g bytea, geom geometry)",
	} {
		_, err = conn.Exec(ctx, q)
		must(err)
	}
	var rows [][]any
	for u, err := range units {
		must(err)
		b, err := wkb.Marshal(u.Geometry)
		must(err)
		rows = append(rows, []any{u.ID, u.Category, string(u.Grade), u.InfluenceRadiusM, b})
		if len(rows) == 50000 {
			_, err = conn.CopyFrom(ctx, pgx.Identifier{"bench_units"}, []string{"id", "category", "grade", "influence_radius_m", "g"}, pgx.CopyFromRows(rows))
			must(err)
			rows = rows[:0]
		}
	}
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"bench_units"}, []string{"id", "category", "grade", "influence_radius_m", "g"}, pgx.CopyFromRows(rows))
	must(err)
	rows = rows[:0]
	for _, t := range targets {
		b, err := wkb.Marshal(t.Geometry)
		must(err)
		rows = append(rows, []any{t.ID, t.Kind, int32(t.People), b})
	}
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"bench_targets"}, []string{"id", "kind", "people", "g"}, pgx.CopyFromRows(rows))
	must(err)
	for _, q := range []string{
		"UPDATE bench_units SET geom = ST_SetSRID(ST_GeomFromWKB(g), 4326), g = NULL",
		"UPDATE bench_targets SET geom = ST_SetSRID(ST_GeomFromWKB(g), 4326), g = NULL",
		"CREATE INDEX ON bench_units USING gist ((geom::geography))",
		"CREATE INDEX ON bench_targets USING gist ((geom::geography))",
		"CREATE INDEX ON bench_units (category)",
		"VACUUM ANALYZE bench_units",
		"VACUUM ANALYZE bench_targets",
	} {
		_, err = conn.Exec(ctx, q)
		must(err)
	}
}

// pgTable times tableSQL (one run, no parallel workers).
func pgTable(ctx context.Context, dsn string, cfg analysis.Config, grade string) (time.Duration, int) {
	conn, err := pgx.Connect(ctx, dsn)
	must(err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "SET max_parallel_workers_per_gather = 0")
	must(err)
	var cats []string
	var radii []float64
	for _, c := range cfg.HazardousCategories {
		cats = append(cats, c)
		radii = append(radii, cfg.DefaultRadiusM[c])
	}
	t := time.Now()
	rows, err := conn.Query(ctx, tableSQL, cats, radii, grade)
	must(err)
	total := 0
	for rows.Next() {
		var uid, tid int64
		var d float64
		must(rows.Scan(&uid, &tid, &d, &total))
	}
	must(rows.Err())
	return time.Since(t), total
}

// tile is n × n copies of the regions side by side, each with codes of its own (the copy's
// number in place of the district's six digits).
func tile(regions []*riskmap.Region, n int) []*riskmap.Region {
	if n <= 1 {
		return regions
	}
	var b orb.Bound
	for i, r := range regions {
		if i == 0 {
			b = r.Geometry.Bound()
		} else {
			b = b.Union(r.Geometry.Bound())
		}
	}
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	var out []*riskmap.Region
	for k := range n * n {
		dx, dy := float64(k%n)*w, float64(k/n)*h
		prefix := fmt.Sprintf("53%04d", k)
		recode := func(c string) string {
			if len(c) < 6 {
				return c
			}
			return prefix + c[6:]
		}
		for _, r := range regions {
			c := *r
			c.Code, c.ParentCode = recode(r.Code), recode(r.ParentCode)
			c.Geometry = make(orb.MultiPolygon, len(r.Geometry))
			for i, poly := range r.Geometry {
				c.Geometry[i] = move(poly, dx, dy).(orb.Polygon)
			}
			out = append(out, &c)
		}
	}
	return out
}
