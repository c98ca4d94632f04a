package main

import (
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// memoryLimitShare is the share of the machine's (or the container's) memory the Go heap
// is held under when GOMEMLIMIT does not say otherwise.
const memoryLimitShare = 0.9

// setMemoryLimit gives the garbage collector a soft memory limit (issue 18): without one,
// the heap may grow to twice what is live before a collection, and an index of a million
// units (2.4 GB live) then takes twice that in RSS on a machine that may not have it. Near
// the limit the collector runs more often instead. GOMEMLIMIT, when set, wins (the runtime
// reads it). It returns the limit in bytes, 0 if none was set.
func setMemoryLimit() int64 {
	if os.Getenv("GOMEMLIMIT") != "" || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		return 0
	}
	total := availableMemory()
	if total <= 0 {
		return 0
	}
	limit := int64(float64(total) * memoryLimitShare)
	debug.SetMemoryLimit(limit)
	return limit
}

// availableMemory is the container's memory limit (cgroup v2 memory.max) when there is
// one, else the machine's (MemTotal), in bytes; 0 when neither can be read.
func availableMemory() int64 {
	var total int64
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
					total = kb * 1024
				}
			}
		}
	}
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			total = n
		}
	}
	return total
}
