// Command benchmonitoring measures monitoring and early warning (监测预警, issue 17) as a
// user gets it: the real server (bin/riskmap serve, a process of its own, the handler stack
// of every deployment) on a fresh PostGIS database of its own, then on a GeoPackage file,
// and clients on loopback:
//
//   - 10,000 gas monitoring points on synthetic units (five a unit), stored before the
//     server starts, with an admin holding a device token (scope readings) and a full token;
//
//   - sustained ingest: 20,000 readings/s for 60 s sent to POST /api/v1/readings with the
//     device token, in JSON batches of 200 from 16 concurrent senders (keep-alive
//     connections), paced: the achieved rate and whether it kept up, each response's counts
//     summed, then every reading counted back from the store once the server has stopped
//     (none lost);
//
//   - alarm latency under that load: an event stream (GET /api/v1/events) opened with the
//     admin's full token before the run; every second a few silent points are sent a red
//     value, each in a request of its own; the time from sending that request to the open
//     alarm's event read off the stream, p50/p99/max;
//
//   - the server's ceiling: the same batches unpaced for a while;
//
//   - a 30-day chart of one point: 43,200 readings (one a minute) stored before the server
//     starts, then GET /api/v1/monitoring-points/{id}/readings over the 30 days, step=1m
//     (every minute rollup), without compression and as a browser asks (zstd), and without
//     a step (the server picks 30m, what the map's chart asks for), median of 20;
//
//   - the physical limit: a plain COPY (pgx CopyFrom) of the same rows into an unindexed,
//     unpartitioned table of the same columns, and the ratio HTTP/COPY.
//
// Besides the wall clock it reports CPU time: the server's, the database backends' of the
// bench database (from /proc) and its own, which other jobs on the machine do not inflate.
//
//	go build -o bin/riskmap ./cmd/riskmap
//	go run ./scripts/benchmonitoring --bin bin/riskmap --pg postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
//
// The database named by --db is dropped and created again on the server of --pg, and
// dropped at the end (unless --keep), also when the bench fails or is interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"iter"
	"math/rand/v2"
	"net/url"
	"os"
	"os/signal"
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
	"riskmap/scripts/benchkit"
)

// cleanups run, last added first, when the bench ends, fails or is interrupted: the server
// stopped, the bench database dropped.
var (
	cleanupMu sync.Mutex
	cleanups  []func()
)

func atExit(f func()) {
	cleanupMu.Lock()
	cleanups = append(cleanups, f)
	cleanupMu.Unlock()
}

func runCleanups() {
	cleanupMu.Lock()
	fs := cleanups
	cleanups = nil
	cleanupMu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchmonitoring:", err)
		runCleanups()
		os.Exit(1)
	}
}

// opts are the command's flags.
type opts struct {
	bin          string
	points       int
	perUnit      int
	rate         int
	batch        int
	senders      int
	duration     time.Duration
	burst        time.Duration
	alarmsPerSec int
	gpkgDuration time.Duration
	chartDays    int
	perf         string
}

// world is one store with its points, tokens and chart, ready to be served.
type world struct {
	name   string
	db     string // riskmap serve --db
	dsn    string // PostGIS: the database (to measure its backends' CPU time)
	normal []int64
	spare  []int64 // points kept for alarms: each crosses the threshold once
	chart  int64   // the chart's point, its minutes written in order
	spread int64   // a chart point whose minutes are written spread over the batches
	// chartFrom and chartTo are the chart's period, chartN its minutes.
	chartFrom, chartTo time.Time
	chartN             int
	chartSeeded        time.Duration
	// device and reader are Authorization headers: a device token (scope readings) and a
	// full token, both the admin's.
	device, reader string
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
	flag.StringVar(&o.bin, "bin", "bin/riskmap", "the riskmap binary to serve with (go build -o bin/riskmap ./cmd/riskmap)")
	flag.IntVar(&o.points, "points", 10000, "monitoring points")
	flag.IntVar(&o.perUnit, "per-unit", 5, "points per synthetic unit")
	flag.IntVar(&o.rate, "rate", 20000, "readings per second of the paced run")
	flag.IntVar(&o.batch, "batch", 200, "readings per POST /api/v1/readings")
	flag.IntVar(&o.senders, "senders", 16, "concurrent senders (each one keep-alive connection)")
	flag.DurationVar(&o.duration, "duration", 60*time.Second, "paced run on PostGIS")
	flag.DurationVar(&o.burst, "burst", 10*time.Second, "unpaced run (the server's ceiling); 0 skips it")
	flag.IntVar(&o.alarmsPerSec, "alarms", 5, "points crossing the red threshold each second of the paced run")
	flag.DurationVar(&o.gpkgDuration, "gpkg-duration", 10*time.Second, "paced run on the GeoPackage; 0 skips the GeoPackage")
	flag.IntVar(&o.chartDays, "chart-days", 30, "days of one-a-minute readings of the chart's point")
	flag.StringVar(&o.perf, "perf", "", "record the server's CPU (perf record -g) during the PostGIS paced run to this file")
	flag.Parse()
	ctx := context.Background()
	cfg := config.Default()
	if _, err := os.Stat(o.bin); err != nil {
		must(fmt.Errorf("--bin: %v (go build -o %s ./cmd/riskmap)", err, o.bin))
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		fmt.Fprintln(os.Stderr, "benchmonitoring:", s)
		runCleanups()
		os.Exit(1)
	}()
	load0 := loadAvg()
	fmt.Printf("benchmonitoring: %d points, %d readings/s over HTTP in batches of %d from %d senders, %d cores, load average %s\n",
		o.points, o.rate, o.batch, o.senders, runtime.NumCPU(), load0)

	// PostGIS: a database of its own.
	dsn := freshDatabase(ctx, *pgDSN, *dbName)
	if !*keep {
		atExit(func() {
			if err := exec(context.Background(), *pgDSN, "DROP DATABASE IF EXISTS "+pgx.Identifier{*dbName}.Sanitize()+" WITH (FORCE)"); err != nil {
				fmt.Fprintln(os.Stderr, "benchmonitoring: dropping the bench database:", err)
			}
		})
	}
	pg, err := postgis.Open(ctx, dsn)
	must(err)
	must(pg.Migrate(ctx))
	w := setup(ctx, "PostGIS", pg, pg, cfg, o, o.duration)
	w.db, w.dsn = dsn, dsn
	fmt.Println("== PostGIS")
	run := measure(ctx, w, o, o.duration, o.perf)
	countBack(ctx, w, pg, run)
	copyRate, copyCPU := copyBaseline(ctx, dsn, w, o)
	pg.Close()
	add("COPY 同样的行到无索引、不分区的表 / plain COPY of the same rows (unindexed, unpartitioned table)",
		fmt.Sprintf("%s, CPU %.1f µs a row", rate(copyRate), float64(copyCPU.Nanoseconds())/1000), "")
	add("CPU 每条读数 HTTP / COPY (independent of the machine's load)",
		fmt.Sprintf("%.1f× (%.1f µs against %.1f µs)", float64(run.cpuPerReading)/float64(max(1, copyCPU)),
			float64(run.cpuPerReading.Nanoseconds())/1000, float64(copyCPU.Nanoseconds())/1000), "")
	if run.burst > 0 {
		add("HTTP 上限 / COPY  (server's ceiling / COPY)", fmt.Sprintf("%.2f (%.0f%%)", run.burst/copyRate, 100*run.burst/copyRate), "")
	}
	add("持续写入 / COPY  (sustained over HTTP / COPY)", fmt.Sprintf("%.3f", run.achieved/copyRate), "")
	pgResults := results
	results = nil

	if o.gpkgDuration > 0 {
		dir, err := os.MkdirTemp("", "benchmonitoring")
		must(err)
		atExit(func() { os.RemoveAll(dir) })
		file := filepath.Join(dir, "bench.gpkg")
		gp, err := gpkg.Open(ctx, file)
		must(err)
		must(gp.Migrate(ctx))
		fmt.Println("== GeoPackage")
		gw := setup(ctx, "GeoPackage", gp, gp, cfg, o, o.gpkgDuration)
		gw.db = file
		gp.Close() // the server's file while it runs
		grun := measure(ctx, gw, o, o.gpkgDuration, "")
		gp, err = gpkg.Open(ctx, file)
		must(err)
		countBack(ctx, gw, gp, grun)
		gp.Close()
	}
	gpResults := results

	fmt.Printf("\n### Monitoring over HTTP (%d points, %d readings/s, batches of %d, %d senders, %d cores, load average %s at the start, %s at the end; %s UTC)\n\n",
		o.points, o.rate, o.batch, o.senders, runtime.NumCPU(), load0, loadAvg(), time.Now().UTC().Format("2006-01-02 15:04"))
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
	runCleanups()
	if failed {
		os.Exit(1)
	}
}

// failed is set when a target of correctness is missed (a reading lost, a request failed,
// an alarm without its event): the bench exits 1 after its report.
var failed bool

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

// store is what setup writes to: either store.
type store interface {
	monitoring.Store
	benchkit.TokenStore
}

// setup stores the synthetic units, the points (o.points for the runs, two more for the
// charts), the charts' readings and an admin with a device token and a full token.
// duration is the paced run's: each second of it takes o.alarmsPerSec spare points.
func setup(ctx context.Context, name string, st store, us riskmap.UnitStore, cfg *config.Config, o opts, duration time.Duration) *world {
	t0 := time.Now()
	regions, err := demo.LoadRegions(geodata.FS)
	must(err)
	gen, err := synth.New(regions, cfg.Catalog, cfg.Grader)
	must(err)
	reg := register.New(us, cfg.Grader, cfg.Catalog)
	nUnits := (o.points + o.perUnit - 1) / o.perUnit
	_, err = reg.BulkCreate(ctx, gen.Units(1, nUnits), nil)
	must(err)
	w := &world{name: name}
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
	nSpare := min(len(ids)/4, o.alarmsPerSec*int(duration.Seconds()+5))
	w.normal, w.spare = ids[:len(ids)-nSpare], ids[len(ids)-nSpare:]
	tokens, err := benchkit.Tokens(ctx, st, "bench-monitoring", riskmap.RoleAdmin, riskmap.TokenScopeReadings, riskmap.TokenScopeFull)
	must(err)
	w.device, w.reader = tokens[0], tokens[1]
	seedCharts(ctx, w, st, o)
	fmt.Printf("%s: %d units, %d points, %s chart readings stored in %.1f s\n", name, nUnits, len(ids)+2,
		thousands(int64(2*w.chartN)), time.Since(t0).Seconds())
	return w
}

// seedCharts stores chartDays of one-a-minute readings of the two chart points, ending at
// the minute before now. The first point's readings are written in order, 5000 a batch,
// so its minutes lie side by side in the rollup table; the second's are dealt to the
// batches at random, so that consecutive minutes lie on different pages, as the minutes of
// a point among thousands reporting at once do (each minute's buckets of every point are
// written together).
func seedCharts(ctx context.Context, w *world, st store, o opts) {
	w.chartTo = time.Now().UTC().Truncate(time.Minute)
	w.chartFrom = w.chartTo.AddDate(0, 0, -o.chartDays)
	n := int(w.chartTo.Sub(w.chartFrom) / time.Minute)
	w.chartN = n
	seed := func(point int64, spread bool) time.Duration {
		rs := make([]monitoring.Reading, n)
		for i := range rs {
			rs[i] = monitoring.Reading{PointID: point, Time: w.chartFrom.Add(time.Duration(i) * time.Minute), Value: 5 + float64(i%600)/100}
		}
		if spread {
			r := rand.New(rand.NewPCG(17, 17))
			r.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
		}
		t0 := time.Now()
		for i := 0; i < n; i += 5000 {
			_, _, err := st.AppendReadings(ctx, rs[i:min(n, i+5000)])
			must(err)
		}
		return time.Since(t0)
	}
	w.chartSeeded = seed(w.chart, false)
	seed(w.spread, true)
	if pg, ok := st.(*postgis.Store); ok {
		// What autovacuum does soon after a load: without statistics the planner guesses a
		// handful of rows and sorts 43,200 on disk.
		_, err := pg.Pool().Exec(ctx, "ANALYZE readings_1m, readings_1h, readings")
		must(err)
	}
}

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

// loadAvg is the machine's load averages (1, 5 and 15 minutes), "?" when unknown.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
