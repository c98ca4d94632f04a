package postgis

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// synthUnits yields n graded units with a mix of points, lines and polygons around
// Chengjiang, deterministic for a seed. It stands in for the project's synthetic generator
// so that this package's benchmarks depend on nothing else.
func synthUnits(n int, seed uint64) iter.Seq[*riskmap.Unit] {
	cats := []string{"hazardous_chemicals", "crowded_places", "lifeline_gas", "roads", "waterlogging", "construction"}
	accidents := []string{"fire", "explosion", "poisoning_asphyxia", "collapse", "drowning", "vehicle_injury"}
	assessed := time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC)
	due := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	return func(yield func(*riskmap.Unit) bool) {
		r := rand.New(rand.NewPCG(seed, 1))
		for i := range n {
			x, y := 102.7+r.Float64()*0.4, 24.4+r.Float64()*0.4
			var g orb.Geometry
			switch k := r.IntN(10); {
			case k < 7:
				g = orb.Point{x, y}
			case k < 9:
				g = orb.LineString{{x, y}, {x + 0.003, y + 0.001}, {x + 0.006, y - 0.001}, {x + 0.01, y}}
			default:
				d := 0.002 + r.Float64()*0.005
				g = orb.Polygon{{{x, y}, {x + d, y}, {x + d, y + d}, {x + d/2, y + 1.5*d}, {x, y + d}, {x, y}}}
			}
			grade := riskmap.Grades[r.IntN(4)]
			l, s := 1+r.IntN(5), 1+r.IntN(5)
			u := &riskmap.Unit{
				Code: fmt.Sprintf("SYN-%d-%07d", seed, i), Name: fmt.Sprintf("合成风险单元 %d 号", i),
				Category: cats[r.IntN(len(cats))], SubCategory: "储存仓库",
				RegionCode: fmt.Sprintf("530481%03d%03d", 1+r.IntN(8), 1+r.IntN(20)), Address: "凤麓街道工业园区",
				AccidentTypes: []string{accidents[r.IntN(len(accidents))], accidents[r.IntN(len(accidents))]},
				Assessment:    riskmap.Assessment{Method: riskmap.MethodLS, Likelihood: l, Severity: s},
				RiskValue:     float64(l * s), Grade: grade,
				Explanation: riskmap.Explanation{Method: "LS", Inputs: map[string]float64{"likelihood": float64(l), "severity": float64(s)},
					Value: float64(l * s), Rule: "R = L × S", Text: "风险矩阵 R = L × S"},
				Controls: riskmap.Controls{Engineering: []string{"设置可燃气体检测报警"}, Management: []string{"制定安全操作规程"},
					Emergency: []string{"编制专项应急预案"}},
				ResponsibleDepartment: "应急局", ResponsibleUnit: "某有限公司", ContactPerson: "张三", ContactPhone: "0877-0000000",
				InfluenceRadiusM: float64(r.IntN(1000)), Status: riskmap.StatusApproved,
				AssessedBy: "评估专家甲", AssessedAt: &assessed, NextReviewDue: &due,
				Geometry: g,
			}
			if r.IntN(10) == 0 {
				u.MajorHazardSource = &riskmap.MajorHazardSource{Level: 1 + r.IntN(4)}
			}
			if !yield(u) {
				return
			}
		}
	}
}

// benchUnits is the size of one benchmark load (RISKMAP_BENCH_UNITS, default 100,000);
// bigger loads scale about linearly.
var benchUnits = func() int {
	if n, err := strconv.Atoi(os.Getenv("RISKMAP_BENCH_UNITS")); err == nil && n >= 10 {
		return n
	}
	return 100_000
}()

// BenchmarkBulkInsert loads benchUnits units into an empty register (the seeding case,
// where the indexes are built after the load) and into one that already holds more than
// rebuildBelow units (indexes maintained row by row).
func BenchmarkBulkInsert(b *testing.B) {
	b.Run("EmptyTable", func(b *testing.B) {
		b.ReportAllocs()
		var cpu *cpuMeter
		for i := range b.N {
			b.StopTimer()
			s := openStore(b)
			if cpu == nil {
				cpu = startCPU(b, s)
			} else {
				cpu.s = s
			}
			b.StartTimer()
			n, err := s.BulkInsertUnits(context.Background(), synthUnits(benchUnits, uint64(i)), nil)
			if err != nil || n != benchUnits {
				b.Fatalf("bulk insert: %d, %v", n, err)
			}
			b.StopTimer()
			cpu.addServer(s) // before the database goes, with its backends
		}
		b.ReportMetric(float64(b.N*benchUnits)/b.Elapsed().Seconds(), "units/s")
		cpu.report(b, b.N*benchUnits)
	})
	b.Run("Append", func(b *testing.B) {
		s := openStore(b)
		if _, err := s.BulkInsertUnits(context.Background(), synthUnits(rebuildBelow+1, 999), nil); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		cpu := startCPU(b, s)
		b.ResetTimer()
		for i := range b.N {
			n, err := s.BulkInsertUnits(context.Background(), synthUnits(benchUnits/10, uint64(i)), nil)
			if err != nil || n != benchUnits/10 {
				b.Fatalf("bulk insert: %d, %v", n, err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N*benchUnits/10)/b.Elapsed().Seconds(), "units/s")
		cpu.addServer(s)
		cpu.report(b, b.N*benchUnits/10)
	})
}

// BenchmarkScan reads benchUnits units back with Units, on two connections, and reports
// the rate and the CPU time the client and the server spent per unit.
func BenchmarkScan(b *testing.B) {
	s := openStore(b)
	if _, err := s.BulkInsertUnits(context.Background(), synthUnits(benchUnits, 1), nil); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Pool().Exec(context.Background(), "VACUUM ANALYZE risk_units"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := startCPU(b, s)
	b.ResetTimer()
	for range b.N {
		n := 0
		for _, err := range s.Units(context.Background()) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != benchUnits {
			b.Fatalf("scanned %d, want %d", n, benchUnits)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*benchUnits)/b.Elapsed().Seconds(), "units/s")
	cpu.addServer(s)
	cpu.report(b, b.N*benchUnits)
}

// cpuMeter measures the CPU time the benchmark process and the store's database backends
// spend. On a shared two-core machine the wall-clock rate moves with whatever else runs;
// CPU time per unit does not, and tells whether the client or the server is the limit.
type cpuMeter struct {
	s        *Store
	client   time.Duration
	backend  map[int]time.Duration
	server   time.Duration
	serverOK bool
}

func startCPU(b *testing.B, s *Store) *cpuMeter {
	m := &cpuMeter{s: s, client: processCPU()}
	m.backend, m.serverOK = backendCPU(s)
	return m
}

// addServer adds the backends' time since the last call (or the start) and starts anew.
func (m *cpuMeter) addServer(s *Store) {
	after, ok := backendCPU(s)
	if !ok {
		m.serverOK = false
		return
	}
	for pid, t := range after {
		m.server += t - m.backend[pid]
	}
	m.backend = map[int]time.Duration{}
}

func (m *cpuMeter) report(b *testing.B, units int) {
	client := processCPU() - m.client
	b.ReportMetric(float64(client.Microseconds())/float64(units), "client-µs/unit")
	if m.serverOK { // false when the server is not on this machine or /proc is unreadable
		b.ReportMetric(float64(m.server.Microseconds())/float64(units), "server-µs/unit")
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backendCPU returns the CPU time of each backend serving the store's database.
func backendCPU(s *Store) (map[int]time.Duration, bool) {
	rows, err := s.pool.Query(context.Background(),
		"SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
	if err != nil {
		return nil, false
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, false
	}
	out := map[int]time.Duration{}
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return nil, false
		}
		// Fields after the command name, which ends with ')': utime and stime are the
		// 12th and 13th.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) < 13 {
			return nil, false
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[int(pid)] = time.Duration(ut+st) * (time.Second / 100) // USER_HZ is 100 on Linux
	}
	return out, true
}

// BenchmarkDecodeUnitRow is the client's share of BenchmarkScan: decoding rows already
// received, without the database. Units decodes as from a UTF-8 server (Trusted), GetUnit
// and FindUnits without that assumption.
func BenchmarkDecodeUnitRow(b *testing.B) {
	s := openStore(b)
	ctx := context.Background()
	if _, err := s.BulkInsertUnits(ctx, synthUnits(2000, 4), nil); err != nil {
		b.Fatal(err)
	}
	rows, err := s.pool.Query(ctx, selectUnit+" ORDER BY id")
	if err != nil {
		b.Fatal(err)
	}
	var raw [][][]byte
	for rows.Next() {
		if !rawUnitOK(rows.FieldDescriptions()) {
			b.Fatal("the fast decoder does not take these columns")
		}
		var row [][]byte
		for _, v := range rows.RawValues() {
			row = append(row, slices.Clone(v))
		}
		raw = append(raw, row)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	for _, trusted := range []bool{false, true} {
		name := "Checked"
		if trusted {
			name = "Trusted"
		}
		b.Run(name, func(b *testing.B) {
			in := newInterner()
			b.ReportAllocs()
			for i := range b.N {
				if _, err := decodeRow(raw[i%len(raw)], trusted, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
