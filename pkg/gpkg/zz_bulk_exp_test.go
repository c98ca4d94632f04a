package gpkg_test

import (
	"context"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"riskmap/pkg/gpkg"
)

func TestBulkExp(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("EXP_N"))
	if n == 0 {
		t.Skip()
	}
	path := "/tmp/gk/bulk.gpkg"
	os.Remove(path)
	s, err := gpkg.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	cpu0 := cpuTime()
	got, err := s.BulkInsertUnits(context.Background(), benchUnits(n, 1), nil)
	t.Logf("bulk %d: wall %v cpu %v %v", got, time.Since(start), cpuTime()-cpu0, err)
	start = time.Now()
	cpu0 = cpuTime()
	c := 0
	for _, err := range s.Units(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		c++
	}
	t.Logf("scan %d: wall %v cpu %v", c, time.Since(start), cpuTime()-cpu0)
	s.Close()
	fi, _ := os.Stat(path)
	t.Logf("size %d MB", fi.Size()>>20)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
