// Command benchmonitoring measures monitoring and early warning (监测预警, issue 17) at the
// scale of a city's sensor network, on a fresh PostGIS database of its own and on a
// GeoPackage file side by side:
//
//   - 10,000 gas monitoring points on synthetic units (five a unit);
//
//   - sustained ingest: 20,000 readings/s for 60 s through monitoring.Service.IngestReadings,
//     in batches of 200 from several goroutines (as HTTP batches and MQTT messages come),
//     paced: the achieved rate and whether it kept up, then every reading counted back
//     from the store (none lost);
//
//   - alarm latency under that load: every second a few points cross the red threshold;
//     the time from the IngestReadings call to the open event on Subscribe, p50/p99;
//
//   - the service's ceiling: the same batches unpaced for a while;
//
//   - a 30-day chart of one point: 43,200 readings (one a minute) stored first, then
//     Store.Readings over 30 days from the 1-minute rollups and from the raw rows, median
//     of 20;
//
//   - the physical limit: a plain COPY (pgx CopyFrom) of the same rows into an unindexed,
//     unpartitioned table of the same columns, and the ratio service/COPY.
//
//     go run ./scripts/benchmonitoring --pg postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
//
// The database named by --db is dropped and created again on the server of --pg.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"riskmap/geodata"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/monitoring"
	"riskmap/pkg/postgis"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/synth"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchmonitoring:", err)
		os.Exit(1)
	}
}

// opts are the command's flags.
type opts struct {
	points       int
	perUnit      int
	rate         int
	batch        int
	workers      int
	duration     time.Duration
	burst        time.Duration
	alarmsPerSec int
	gpkgDuration time.Duration
	chartDays    int
	cpuprofile   string
}

// world is one store with its units, points and service.
type world struct {
	name   string
	store  monitoring.Store
	units  map[int64]monitoring.UnitRef
	normal []int64 // the points of the paced stream
	spare  []int64 // points kept for alarms: each crosses the threshold once
	chart  int64   // the chart's point, its minutes written in order
	spread int64   // a chart point whose minutes are written spread over the batches
	dsn    string  // PostGIS: the database (to measure its backends' CPU time)
	svc    *monitoring.Service
	close  func()
}

// result is a measured row of the table.
type result struct{ label, measured, target string }

var results []result

func add(label, measured, target string) {
	results = append(results, result{label, measured, target})
	fmt.Printf("  %s: %s\n", label, measured)
}

func main() {
	pgDSN := flag.String("pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server (any database): the bench database is made on it")
	dbName := flag.String("db", "riskmap_bench_monitoring", "the bench database (dropped and created again)")
	keep := flag.Bool("keep", false, "keep the bench database at the end (to look into it)")
	var o opts
	flag.IntVar(&o.points, "points", 10000, "monitoring points")
	flag.IntVar(&o.perUnit, "per-unit", 5, "points per synthetic unit")
	flag.IntVar(&o.rate, "rate", 20000, "readings per second of the paced run")
	flag.IntVar(&o.batch, "batch", 200, "readings per IngestReadings call")
	flag.IntVar(&o.workers, "workers", 16, "goroutines calling IngestReadings")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "paced run on PostGIS")
	flag.DurationVar(&o.burst, "burst", 10*time.Second, "unpaced run (the service's ceiling); 0 skips it")
	flag.IntVar(&o.alarmsPerSec, "alarms", 5, "points crossing the red threshold each second of the paced run")
	flag.DurationVar(&o.gpkgDuration, "gpkg-duration", 10*time.Second, "paced run on the GeoPackage; 0 skips the GeoPackage")
	flag.IntVar(&o.chartDays, "chart-days", 30, "days of one-a-minute readings of the chart's point")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the PostGIS paced run to this file")
	flag.Parse()
	ctx := context.Background()
	cfg := config.Default()

	fmt.Printf("benchmonitoring: %d points, %d readings/s in batches of %d from %d goroutines, GOMAXPROCS %d, load average %s\n",
		o.points, o.rate, o.batch, o.workers, runtime.GOMAXPROCS(0), loadAvg())

	// PostGIS: a database of its own.
	dsn := freshDatabase(ctx, *pgDSN, *dbName)
	pg, err := postgis.Open(ctx, dsn)
	must(err)
	must(pg.Migrate(ctx))
	w := setup(ctx, "PostGIS", pg, pg, cfg, o)
	w.dsn = dsn
	w.close = func() { pg.Close() }
	fmt.Println("== PostGIS")
	run := measure(ctx, w, cfg, o, o.duration, o.cpuprofile)
	copyRate, copyCPU := copyBaseline(ctx, dsn, w, o)
	add("COPY 同样的行到无索引、不分区的表 / plain COPY of the same rows (unindexed, unpartitioned table)",
		fmt.Sprintf("%s, CPU %.1f µs a row", rate(copyRate), float64(copyCPU.Nanoseconds())/1000), "")
	add("CPU 每条读数 service / COPY (independent of the machine's load)",
		fmt.Sprintf("%.1f× (%.1f µs against %.1f µs)", float64(run.cpuPerReading)/float64(max(1, copyCPU)),
			float64(run.cpuPerReading.Nanoseconds())/1000, float64(copyCPU.Nanoseconds())/1000), "")
	if run.burst > 0 {
		add("服务上限 / COPY  (service ceiling / COPY)", fmt.Sprintf("%.2f (%.0f%%)", run.burst/copyRate, 100*run.burst/copyRate), "")
	}
	add("持续写入 / COPY  (sustained / COPY)", fmt.Sprintf("%.2f", run.achieved/copyRate), "")
	w.close()
	pgResults := results
	results = nil

	if o.gpkgDuration > 0 {
		dir, err := os.MkdirTemp("", "benchmonitoring")
		must(err)
		defer os.RemoveAll(dir)
		gp, err := gpkg.Open(ctx, filepath.Join(dir, "bench.gpkg"))
		must(err)
		must(gp.Migrate(ctx))
		fmt.Println("== GeoPackage")
		gw := setup(ctx, "GeoPackage", gp, gp, cfg, o)
		measure(ctx, gw, cfg, o, o.gpkgDuration, "")
		gp.Close()
	}
	gpResults := results

	fmt.Printf("\n### Monitoring (%d points, %d readings/s, batches of %d, %d goroutines, %d cores, load average %s)\n\n",
		o.points, o.rate, o.batch, o.workers, runtime.GOMAXPROCS(0), loadAvg())
	fmt.Println("| 项目 / step | PostGIS | GeoPackage | 目标 / target |")
	fmt.Println("|---|---|---|---|")
	gp := map[string]string{}
	for _, r := range gpResults {
		gp[r.label] = r.measured
	}
	for _, r := range pgResults {
		g := gp[r.label]
		if g == "" {
			g = "—"
		}
		fmt.Printf("| %s | %s | %s | %s |\n", r.label, r.measured, g, r.target)
	}
	if !*keep {
		must(exec(ctx, *pgDSN, "DROP DATABASE IF EXISTS "+pgx.Identifier{*dbName}.Sanitize()+" WITH (FORCE)"))
	}
}

// freshDatabase drops and creates database name on the server of dsn, with PostGIS, and
// returns its DSN.
func freshDatabase(ctx context.Context, dsn, name string) string {
	id := pgx.Identifier{name}.Sanitize()
	must(exec(ctx, dsn, "DROP DATABASE IF EXISTS "+id+" WITH (FORCE)"))
	must(exec(ctx, dsn, "CREATE DATABASE "+id))
	u, err := url.Parse(dsn)
	must(err)
	u.Path = "/" + name
	must(exec(ctx, u.String(), "CREATE EXTENSION IF NOT EXISTS postgis"))
	return u.String()
}

// exec runs one statement on a connection of its own.
func exec(ctx context.Context, dsn, q string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, q)
	return err
}

// setup stores the synthetic units and the points (o.points for the runs, one more for
// the chart) and starts the service.
func setup(ctx context.Context, name string, st monitoring.Store, us riskmap.UnitStore, cfg *config.Config, o opts) *world {
	t0 := time.Now()
	regions, err := demo.LoadRegions(geodata.FS)
	must(err)
	gen, err := synth.New(regions, cfg.Catalog, cfg.Grader)
	must(err)
	reg := register.New(us, cfg.Grader, cfg.Catalog)
	nUnits := (o.points + o.perUnit - 1) / o.perUnit
	_, err = reg.BulkCreate(ctx, gen.Units(1, nUnits), nil)
	must(err)
	w := &world{name: name, store: st, units: map[int64]monitoring.UnitRef{}}
	var order []int64
	places := map[int64]orb.Point{}
	var seq iter.Seq2[*riskmap.Unit, error]
	switch s := us.(type) {
	case *postgis.Store:
		seq = s.Units(ctx)
	case *gpkg.Store:
		seq = s.Units(ctx)
	}
	for u, err := range seq {
		must(err)
		w.units[u.ID] = monitoring.UnitRef{ID: u.ID, Code: u.Code, Name: u.Name, Category: u.Category, RegionCode: u.RegionCode,
			Department: u.ResponsibleDepartment, Grade: u.Grade}
		order = append(order, u.ID)
		places[u.ID] = u.Geometry.Bound().Center()
	}
	slices.Sort(order)
	mc := &cfg.Monitoring
	// The points, from eight goroutines (one write each).
	ids := make([]int64, o.points+2)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(ids); i += 8 {
				unit := order[i/o.perUnit%len(order)]
				p := &monitoring.Point{Code: fmt.Sprintf("JC-%05d", i+1), UnitID: unit, Kind: "gas", Location: places[unit]}
				mc.Prepare(p)
				must(mc.CheckPoint(p))
				must(st.CreatePointRecorded(ctx, p, nil))
				ids[i] = p.ID
			}
		}()
	}
	wg.Wait()
	w.chart, w.spread = ids[o.points], ids[o.points+1]
	ids = ids[:o.points]
	// The points that cross the threshold are kept out of the stream: each crosses once.
	nSpare := min(len(ids)/4, o.alarmsPerSec*int(max(o.duration, o.gpkgDuration).Seconds()+5))
	w.normal, w.spare = ids[:len(ids)-nSpare], ids[len(ids)-nSpare:]
	w.svc = newService(ctx, st, mc, w.units, reg)
	fmt.Printf("%s: %d units, %d points stored and the service loaded in %.1f s\n", name, len(w.units), len(ids)+2, time.Since(t0).Seconds())
	return w
}

// discard is a logger that writes nothing.
var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// rate writes readings per second.
func rate(r float64) string { return fmt.Sprintf("%s readings/s", thousands(int64(r+0.5))) }

// thousands writes n with separators: 20,000.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*q))]
}

// cpuTime is the CPU time the process has used (user and system).
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
