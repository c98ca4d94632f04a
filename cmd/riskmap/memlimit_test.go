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
// at GOGC 400 and puts the old value back after; without a limit it leaves GOGC alone.
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
	debug.SetMemoryLimit(8 << 30)
	restore = collectLess()
	if got := debug.SetGCPercent(loadGCPercent); got != loadGCPercent {
		t.Fatalf("while loading GOGC must be %d, got %d", loadGCPercent, got)
	}
	restore()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("after loading GOGC must be back at 100, got %d", got)
	}
}
