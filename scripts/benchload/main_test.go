package main

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	ds := make([]time.Duration, 100)
	for i := range ds {
		ds[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, c := range []struct {
		name string
		ds   []time.Duration
		q    float64
		want time.Duration
	}{
		{"Median", ds, 0.5, 50 * time.Millisecond},
		{"P99", ds, 0.99, 99 * time.Millisecond},
		{"Max", ds, 1, 100 * time.Millisecond},
		{"One", ds[:1], 0.99, time.Millisecond},
		{"Empty", nil, 0.5, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := percentile(c.ds, c.q); got != c.want {
				t.Fatalf("percentile(%d durations, %v) = %v, want %v", len(c.ds), c.q, got, c.want)
			}
		})
	}
}

// The mix's shares are what the package comment says: every thousandth maps to the kind
// whose weight covers it.
func TestPickerShares(t *testing.T) {
	p := newPicker(mix)
	if p.total() != 1000 {
		t.Fatalf("the mix adds up to %d thousandths", p.total())
	}
	count := map[int]int{}
	for r := range p.total() {
		count[p.pick(r)]++
	}
	for _, w := range mix {
		if count[w.kind] != w.weight {
			t.Errorf("%s: picked %d times in 1000, want %d", kindNames[w.kind], count[w.kind], w.weight)
		}
	}
}
