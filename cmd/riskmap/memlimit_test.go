package main

import "testing"

// The machine's memory is found, so serve holds the heap under a limit by default.
func TestAvailableMemory(t *testing.T) {
	if n := availableMemory(); n < 64<<20 {
		t.Fatalf("available memory %d bytes: /proc/meminfo not read", n)
	}
}
