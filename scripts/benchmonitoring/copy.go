package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// copyBaseline copies the rows of the paced run (the same batches, the same times) into
// readings_copy, a table of the same columns without index, key or partitions, with plain
// COPY (pgx CopyFrom) in chunks of 5000 rows from two connections at once: the most the
// database takes in. It returns rows/s and the CPU time (this process and postgres) a row.
func copyBaseline(ctx context.Context, dsn string, w *world, o opts) (float64, time.Duration) {
	must(exec(ctx, dsn, "CREATE TABLE readings_copy (point_id bigint NOT NULL, at timestamptz NOT NULL, value double precision NOT NULL)"))
	nBatches := int(int64(o.rate) * int64(o.duration/time.Millisecond) / 1000 / int64(o.batch))
	per := time.Duration(float64(time.Second) * float64(o.batch) / float64(o.rate))
	start := time.Now()
	rows := make([][]any, 0, nBatches*o.batch)
	for b := range nBatches {
		for _, r := range batchReadings(w, o, b, start.Add(time.Duration(b)*per)) {
			rows = append(rows, []any{r.PointID, r.Time, r.Value})
		}
	}
	const chunk, conns = 5000, 2
	var wg sync.WaitGroup
	t0, cpu0 := time.Now(), cpuTime()
	var mu sync.Mutex
	var server time.Duration
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := pgx.Connect(ctx, dsn)
			must(err)
			defer conn.Close(ctx)
			var pid int32
			must(conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid))
			before := procCPU(int(pid))
			defer func() {
				mu.Lock()
				server += procCPU(int(pid)) - before
				mu.Unlock()
			}()
			for i := c * chunk; i < len(rows); i += conns * chunk {
				part := rows[i:min(len(rows), i+chunk)]
				n, err := conn.CopyFrom(ctx, pgx.Identifier{"readings_copy"}, []string{"point_id", "at", "value"}, pgx.CopyFromRows(part))
				must(err)
				if int(n) != len(part) {
					must(fmt.Errorf("COPY: %d of %d rows", n, len(part)))
				}
			}
		}()
	}
	wg.Wait()
	return float64(len(rows)) / time.Since(t0).Seconds(), (cpuTime() - cpu0 + server) / time.Duration(len(rows))
}

// procCPU is the CPU time (user and system) of process pid, from /proc; 0 when it is gone.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	closing := strings.LastIndexByte(s, ')')
	if closing < 0 {
		return 0
	}
	f := strings.Fields(s[closing+1:])
	// Fields after the name: state is 0, utime 11, stime 12 (clock ticks of 1/100 s).
	if len(f) <= 12 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * time.Second / 100
}

// dbMeter measures the CPU time of the server processes (backends) connected to one
// database: the database's side of a run, without what other databases on the same server
// do meanwhile. Backends must stay connected until the reading (a pool's do).
type dbMeter struct {
	conn  *pgx.Conn
	start map[int]time.Duration
}

// newDBMeter connects to dsn (nil meter, measuring nothing, for an empty dsn).
func newDBMeter(ctx context.Context, dsn string) *dbMeter {
	if dsn == "" {
		return nil
	}
	conn, err := pgx.Connect(ctx, dsn)
	must(err)
	return &dbMeter{conn: conn}
}

// backends is the CPU time of every other backend of the meter's database.
func (m *dbMeter) backends(ctx context.Context) map[int]time.Duration {
	rows, err := m.conn.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
	must(err)
	out := map[int]time.Duration{}
	for rows.Next() {
		var pid int32
		must(rows.Scan(&pid))
		out[int(pid)] = 0
	}
	must(rows.Err())
	for pid := range out {
		out[pid] = procCPU(pid)
	}
	return out
}

// Start takes the backends' CPU times now.
func (m *dbMeter) Start(ctx context.Context) {
	if m != nil {
		m.start = m.backends(ctx)
	}
}

// Since is the CPU time the database's backends used since Start (all of it for those that
// connected since).
func (m *dbMeter) Since(ctx context.Context) time.Duration {
	if m == nil {
		return 0
	}
	var d time.Duration
	for pid, t := range m.backends(ctx) {
		d += t - m.start[pid]
	}
	return d
}

func (m *dbMeter) Close(ctx context.Context) {
	if m != nil {
		m.conn.Close(ctx)
	}
}
