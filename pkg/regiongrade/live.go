package regiongrade

import (
	"sync"

	"riskmap/pkg/config"
)

// Counted is one state of a register's counts (a spatialindex.Snapshot): its version and
// its units per grade by exact region code.
type Counted interface {
	Seq() uint64
	RegionTotals() map[string][4]int
}

// Live keeps the regional grades of a register that changes: they are computed once per
// state of its counts and handed out again until the counts change. The regions API and the
// regions layer of the tiles read the same grades from it.
type Live struct {
	regions []Region
	rule    config.RegionRule
	state   func() (Counted, error)

	mu   sync.Mutex // guards the summaries of one state
	done bool
	seq  uint64
	sums []Summary
}

// NewLive returns the live grades of regions over state, which returns the current counts
// (or why there are none yet, such as an index still loading).
func NewLive(regions []Region, rule config.RegionRule, state func() (Counted, error)) *Live {
	return &Live{regions: regions, rule: rule, state: state}
}

// Regions are the regions graded, in the order of the summaries.
func (l *Live) Regions() []Region { return l.regions }

// Summaries returns every region's grade for the current counts, in the order of Regions,
// and the version of the counts they are of. The slice is shared: do not change it.
func (l *Live) Summaries() ([]Summary, uint64, error) {
	c, err := l.state()
	if err != nil {
		return nil, 0, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done || l.seq != c.Seq() {
		l.sums = Compute(l.regions, c.RegionTotals(), l.rule)
		l.done, l.seq = true, c.Seq()
	}
	return l.sums, l.seq, nil
}
