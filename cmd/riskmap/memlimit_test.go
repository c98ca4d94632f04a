package main

import (
	"math"
	"os"
	"runtime/debug"
	"testing"
)

// The machine's memory is found, so serve holds the heap under a limit by default.
func TestAvailableMemory(t *testing.T) {
	if n := availableMemory(); n < 64<<20 {
		t.Fatalf("available memory %d bytes: /proc/meminfo not read", n)
	}
}

// TestCollectLessWhileLoading: with a memory limit and no GOGC, the start's load collects
// at loadGCPercent under a lower limit and puts both back after; without a limit it leaves
// GOGC alone.
func TestCollectLessWhileLoading(t *testing.T) {
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set: collectLess leaves it alone")
	}
	oldLimit := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(oldLimit)
	debug.SetMemoryLimit(math.MaxInt64)
	restore := collectLess()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("without a memory limit GOGC must stay, got %d", got)
	}
	restore()
	limit := availableMemory() * 9 / 10
	debug.SetMemoryLimit(limit)
	restore = collectLess()
	if got := debug.SetGCPercent(loadGCPercent); got != loadGCPercent {
		t.Fatalf("while loading GOGC must be %d, got %d", loadGCPercent, got)
	}
	if got, want := debug.SetMemoryLimit(-1), int64(float64(availableMemory())*loadMemoryShare); got != want {
		t.Fatalf("while loading the memory limit must be %d, got %d", want, got)
	}
	restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("after loading GOGC must be back at 100, got %d", got)
	}
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Fatalf("after loading the memory limit must be back at %d, got %d", limit, got)
	}
}
