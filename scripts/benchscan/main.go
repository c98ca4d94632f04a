// Command benchscan opens a store and reads every unit back, printing the rate. make bench
// uses it to measure what the spatial index pays at start.
//
//	go run ./scripts/benchscan --db DSN [--runs 3] [--cpuprofile FILE]
//
// Besides the wall-clock rate it prints the CPU time this process spent per unit and, for
// a PostGIS store on this machine, the CPU time of the database's backends: on a shared
// two-core machine the rate moves with whatever else runs, CPU time per unit much less.
// The last line is the summary that make bench shows.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"riskmap/pkg/gpkg"
	"riskmap/pkg/postgis"
	"riskmap/pkg/riskmap"
)

func main() {
	db := flag.String("db", "./data/riskmap.gpkg", "postgres:// DSN or GeoPackage path")
	runs := flag.Int("runs", 1, "read everything this many times; each run opens the store anew")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the reads to this file")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	var last string
	for range *runs {
		last = run(*db)
		fmt.Println(last)
	}
	if *runs > 1 {
		fmt.Println(last)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "benchscan:", err)
	os.Exit(1)
}

func run(db string) string {
	ctx := context.Background()
	start := time.Now()
	cpu0 := processCPU()
	var s riskmap.Store
	var pg *postgis.Store
	var err error
	if strings.HasPrefix(db, "postgres") {
		pg, err = postgis.Open(ctx, db)
		s = pg
	} else {
		s, err = gpkg.Open(ctx, db)
	}
	if err != nil {
		fail(err)
	}
	defer s.Close()
	var server0 map[int]time.Duration
	if pg != nil {
		server0 = backendCPU(ctx, pg)
	}
	n, vertices := 0, 0
	for u, err := range s.Units(ctx) {
		if err != nil {
			fail(err)
		}
		n++
		if u.Geometry != nil {
			vertices++
		}
	}
	d := time.Since(start)
	client := processCPU() - cpu0
	out := fmt.Sprintf("read %d units in %.2fs (open included): %.0f units/s; client CPU %.1f µs/unit",
		n, d.Seconds(), float64(n)/d.Seconds(), float64(client.Microseconds())/float64(max(n, 1)))
	if pg != nil && server0 != nil {
		var server time.Duration
		for pid, t := range backendCPU(ctx, pg) {
			server += t - server0[pid]
		}
		out += fmt.Sprintf(", server CPU %.1f µs/unit", float64(server.Microseconds())/float64(max(n, 1)))
	}
	return out
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backendCPU returns the CPU time of each backend connected to the store's database, or
// nil when that cannot be read (the server runs elsewhere).
func backendCPU(ctx context.Context, s *postgis.Store) map[int]time.Duration {
	rows, err := s.Pool().Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
	if err != nil {
		return nil
	}
	defer rows.Close()
	out := map[int]time.Duration{}
	for rows.Next() {
		var pid int32
		if err := rows.Scan(&pid); err != nil {
			return nil
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return nil
		}
		// The fields after the command name, which ends with ')': utime and stime are the
		// 12th and 13th.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) < 13 {
			return nil
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[int(pid)] = time.Duration(ut+st) * (time.Second / 100) // USER_HZ is 100 on Linux
	}
	if rows.Err() != nil {
		return nil
	}
	return out
}
