package workbook_test

import (
	"bytes"
	"io"
	"os"
	"syscall"
	"testing"
	"time"

	"riskmap/pkg/workbook"
)

// TestExport100k: the export of 100,000 units takes at most 10 s (issue 15). It runs with
// RISKMAP_BENCH=1 (scripts/bench.sh), on a machine not shared with other work.
func TestExport100k(t *testing.T) {
	if testing.Short() || os.Getenv("RISKMAP_BENCH") == "" {
		t.Skip("exports 100,000 units: RISKMAP_BENCH=1")
	}
	e := newEnv(t)
	us := e.units(100000)
	start, cpu0 := time.Now(), cpuTime()
	var buf bytes.Buffer
	if err := workbook.WriteUnits(&buf, us, e.export()); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("export of %d units: %.1f s (%.1f s of CPU), %d MB", len(us), took.Seconds(), (cpuTime() - cpu0).Seconds(), buf.Len()>>20)
	if took > 10*time.Second {
		t.Errorf("export of 100k units took %.1f s, more than 10 s", took.Seconds())
	}
	start, cpu0 = time.Now(), cpuTime()
	rows, err := e.read(t, buf.Bytes(), workbook.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("read back %d rows: %.1f s (%.1f s of CPU)", len(rows), time.Since(start).Seconds(), (cpuTime() - cpu0).Seconds())
}

// cpuTime is the CPU time the process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkExport(b *testing.B) {
	e := newEnv(b)
	us := e.units(10000)
	b.ResetTimer()
	for range b.N {
		if err := workbook.WriteUnits(io.Discard, us, e.export()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	e := newEnv(b)
	us := e.units(10000)
	var buf bytes.Buffer
	if err := workbook.WriteUnits(&buf, us, e.export()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		rows, err := e.read(b, buf.Bytes(), workbook.Options{})
		if err != nil || len(rows) != len(us) {
			b.Fatal(err, len(rows))
		}
	}
}
