package gpkg_test

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// benchUnits yields n graded units with realistic field sizes: mostly points, some lines
// and polygons, Chinese text, control measures and explanations. It is deterministic for a
// seed. The project's synthetic generator (riskmap seed --synthetic) is richer; this one only
// has to make the store do representative work.
func benchUnits(n int, seed uint64) iter.Seq[*riskmap.Unit] {
	return func(yield func(*riskmap.Unit) bool) {
		r := rand.New(rand.NewPCG(seed, 1))
		cats := []string{"hazardous_chemicals", "crowded_places", "lifeline_gas", "roads", "waterlogging", "construction"}
		assessed := time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC)
		for i := 0; i < n; i++ {
			x, y := 102.7+r.Float64()*0.4, 24.4+r.Float64()*0.4
			var g orb.Geometry = orb.Point{x, y}
			switch k := r.IntN(10); {
			case k == 0:
				g = orb.LineString{{x, y}, {x + 0.003, y + 0.001}, {x + 0.006, y - 0.001}, {x + 0.01, y}}
			case k == 1:
				d := 0.001 + r.Float64()*0.004
				g = orb.Polygon{{{x, y}, {x + d, y}, {x + d, y + d}, {x + d/2, y + 1.5*d}, {x, y + d}, {x, y}}}
			}
			l, s := 1+r.IntN(5), 1+r.IntN(5)
			v := float64(l * s)
			grade := riskmap.GradeBlue
			switch {
			case v >= 20:
				grade = riskmap.GradeRed
			case v >= 10:
				grade = riskmap.GradeOrange
			case v >= 4:
				grade = riskmap.GradeYellow
			}
			u := &riskmap.Unit{
				Code: "SYN-" + strconv.Itoa(i), Name: fmt.Sprintf("澄江某化工有限公司第%d号储罐区", i),
				Category: cats[r.IntN(len(cats))], SubCategory: "储存仓库",
				RegionCode: fmt.Sprintf("530481%03d%03d", 1+r.IntN(8), 1+r.IntN(20)), Address: "凤麓街道工业园区 8 号",
				AccidentTypes:    []string{"fire", "explosion", "poisoning_asphyxia"}[:1+r.IntN(3)],
				MajorRiskFactors: "液氨泄漏、储罐超压",
				Assessment:       riskmap.Assessment{Method: riskmap.MethodLS, Likelihood: l, Severity: s},
				RiskValue:        v, Grade: grade,
				Explanation: riskmap.Explanation{Method: "LS", Inputs: map[string]float64{"likelihood": float64(l), "severity": float64(s)},
					Value: v, Rule: "R = L × S", Text: fmt.Sprintf("风险矩阵 R = %d × %d = %g,判定为%s", l, s, v, grade.Label())},
				Controls: riskmap.Controls{
					Engineering: []string{"储罐区设置可燃气体检测报警", "设置紧急切断阀"}, Management: []string{"制定安全操作规程"},
					Training: []string{"每季度应急演练"}, PPE: []string{"配备正压式空气呼吸器"}, Emergency: []string{"编制专项应急预案"},
				},
				ResponsibleDepartment: "应急局", ResponsibleUnit: "澄江某化工有限公司", ContactPerson: "张三",
				ContactPhone: "0877-0000000", InfluenceRadiusM: 500, Status: riskmap.StatusApproved,
				AssessedBy: "评估专家甲", AssessedAt: &assessed, Geometry: g,
			}
			if !yield(u) {
				return
			}
		}
	}
}

// benchSize is the number of units per benchmark iteration; BENCH_UNITS overrides it (the
// 1M target is measured with BENCH_UNITS=1000000).
func benchSize(b *testing.B) int {
	if s := os.Getenv("BENCH_UNITS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("BENCH_UNITS: %v", err)
		}
		return n
	}
	return 20000
}

// BenchmarkBulkInsert loads benchSize units into a fresh file per iteration and reports
// units per second.
func BenchmarkBulkInsert(b *testing.B) {
	n := benchSize(b)
	b.ReportAllocs()
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := openTemp(b)
		b.StartTimer()
		start := time.Now()
		got, err := s.BulkInsertUnits(context.Background(), benchUnits(n, uint64(i)), nil)
		elapsed += time.Since(start)
		if err != nil || got != n {
			b.Fatalf("inserted %d of %d: %v", got, n, err)
		}
		b.StopTimer()
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "units/s")
}

// BenchmarkScan streams benchSize units back with Units and reports units per second and
// the CPU time spent per unit (both reading connections and the decoding included), which
// moves less than the rate with whatever else the machine runs.
func BenchmarkScan(b *testing.B) {
	n := benchSize(b)
	s := openTemp(b)
	if _, err := s.BulkInsertUnits(context.Background(), benchUnits(n, 1), nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		got := 0
		for _, err := range s.Units(context.Background()) {
			if err != nil {
				b.Fatal(err)
			}
			got++
		}
		if got != n {
			b.Fatalf("scanned %d of %d", got, n)
		}
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "units/s")
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(n*b.N), "cpu-µs/unit")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkFindBBox measures a map-view query: a small window over benchSize units.
func BenchmarkFindBBox(b *testing.B) {
	n := benchSize(b)
	s := openTemp(b)
	if _, err := s.BulkInsertUnits(context.Background(), benchUnits(n, 1), nil); err != nil {
		b.Fatal(err)
	}
	f := riskmap.UnitFilter{BBox: &orb.Bound{Min: orb.Point{102.85, 24.55}, Max: orb.Point{102.87, 24.57}}, Limit: 500}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := s.FindUnits(context.Background(), f); err != nil {
			b.Fatal(err)
		}
	}
}
