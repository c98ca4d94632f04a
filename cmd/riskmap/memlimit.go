package main

import (
	"math"
	"os"
	"path"
	"runtime/debug"
	"slices"
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

// availableMemory is the smallest memory limit of the cgroups the process is in (v2
// memory.max or v1 memory.limit_in_bytes, its own cgroup and each parent: systemd's
// MemoryMax=, a container's limit) and the machine's memory (MemTotal), in bytes; 0 when
// none can be read.
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
	if b, err := os.ReadFile("/proc/self/cgroup"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			// "0::/path" (v2) or "N:memory:/path" (v1).
			parts := strings.SplitN(line, ":", 3)
			if len(parts) != 3 {
				continue
			}
			var root, file string
			switch {
			case parts[0] == "0" && parts[1] == "":
				root, file = "/sys/fs/cgroup", "memory.max"
			case slices.Contains(strings.Split(parts[1], ","), "memory"):
				root, file = "/sys/fs/cgroup/memory", "memory.limit_in_bytes"
			default:
				continue
			}
			for dir := path.Clean("/" + parts[2]); ; dir = path.Dir(dir) {
				if n := cgroupLimit(path.Join(root, dir, file)); n > 0 && (total == 0 || n < total) {
					total = n
				}
				if dir == "/" {
					break
				}
			}
		}
	}
	return total
}

// cgroupLimit reads a cgroup memory limit file: a number of bytes, or 0 for "max" or none.
func cgroupLimit(file string) int64 {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// loadGCPercent is the garbage collector's GOGC while the indexes load at start: the heap
// only grows then (nothing loaded is garbage), so collecting each time it doubles is work
// for nothing. Measured at 1M units and a publication: start to /readyz 11.2–11.8 s against
// 12.7–13.9 s at GOGC 100, peak RSS 7.0 GB against 5.5–5.8 GB. Since the documents are
// kept compressed (a live heap half the size) 200 does better than 400: each fresh page
// the heap grows into costs a fault (a million of them, 8 s of system time, at 400), and
// 200 touches a fifth fewer: 23.1–24.0 s against 24.5–27.4 s on a slower machine, peak
// 2.9–3.4 GB against 3.9–4.2 GB (150: 25.1–29.5 s, 2.6–3.1 GB). On a machine whose faults
// cost less (session 14: 13.9–14.9 s to /readyz at 200), 300 and 400 start 1–2 s sooner,
// but the live heap ends spread over more of the pages the garbage held: 1.53–1.54 GB 15 s
// after /readyz against 1.48–1.51 GB, over issue 18's 1.5 GB. Session 15 (published rows
// decoded from the wire, 1.42 GB): 300 took 14.1–16.5 s against 14.9–15.4 s, 1.43–1.44 GB,
// three starts each in turn: no clear gain. Session 17 (2026-12-07, a slower host whose
// faults cost 3–10 µs each; four starts of each binary in turn, 1M units and a 1M-unit
// publication): 400 took 16.6–18.8 s to /readyz (25.1–28.6 s of CPU) against 18.4–20.0 s
// (28.8–30.9 s) at 200, peak RSS alike (2.75–2.79 GB against 2.77–2.86), 1.469–1.470 GB
// 15 s after /readyz against 1.453–1.458: since rows are decoded from the wire the load
// makes less garbage, so fewer collections now save more than the extra faults cost, and
// the heap stays under issue 18's 1.5 GB.
const loadGCPercent = 400

// loadMemoryShare bounds the heap during the load, as a share of the machine's (or the
// container's) memory: the faster load must not take from PostgreSQL on the same host
// what the default heap goal would have left it. Near the bound the collector simply runs
// more often.
const loadMemoryShare = 0.6

// collectLess raises GOGC to loadGCPercent with the soft memory limit lowered to
// loadMemoryShare of the memory, unless GOGC is set or no memory limit is, and returns
// what puts both back.
func collectLess() (restore func()) {
	limit := debug.SetMemoryLimit(-1)
	if os.Getenv("GOGC") != "" || limit == math.MaxInt64 {
		return func() {}
	}
	if avail := availableMemory(); avail > 0 {
		debug.SetMemoryLimit(min(limit, int64(float64(avail)*loadMemoryShare)))
	}
	old := debug.SetGCPercent(loadGCPercent)
	return func() {
		debug.SetGCPercent(old)
		debug.SetMemoryLimit(limit)
	}
}
