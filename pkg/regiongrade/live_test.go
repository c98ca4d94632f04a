package regiongrade

import (
	"errors"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/config"
	"riskmap/pkg/riskmap"
)

// counted is a state of the counts that says how often it was summed.
type counted struct {
	seq    uint64
	counts map[string][4]int
	sums   *int
}

func (c counted) Seq() uint64 { return c.seq }
func (c counted) RegionTotals() map[string][4]int {
	*c.sums++
	return c.counts
}

// TestLive: the grades follow the counts, are computed once per state of them, and are
// unavailable while the counts are.
func TestLive(t *testing.T) {
	sq := orb.MultiPolygon{{{{102.9, 24.6}, {102.91, 24.6}, {102.91, 24.61}, {102.9, 24.61}, {102.9, 24.6}}}}
	regions := Prepare([]*riskmap.Region{{Code: "530481001", Name: "凤麓街道", Level: riskmap.LevelStreet, Geometry: sq}})
	rule := config.RegionRule{Method: "highest"}
	n := 0
	var cur counted
	var unavailable error
	live := NewLive(regions, rule, func() (Counted, error) {
		if unavailable != nil {
			return nil, unavailable
		}
		return cur, nil
	})
	t.Run("ErrUnavailable", func(t *testing.T) {
		unavailable = riskmap.Errorf(riskmap.EUNAVAILABLE, "loading")
		defer func() { unavailable = nil }()
		if _, _, err := live.Summaries(); !errors.Is(err, unavailable) {
			t.Fatalf("want the state's error, got %v", err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		cur = counted{seq: 1, counts: map[string][4]int{"530481001001": {0, 0, 1, 0}}, sums: &n}
		for range 3 {
			sums, seq, err := live.Summaries()
			if err != nil || seq != 1 || len(sums) != 1 || sums[0].Grade != riskmap.GradeYellow {
				t.Fatalf("want one yellow region at state 1, got %+v %d %v", sums, seq, err)
			}
		}
		if n != 1 {
			t.Fatalf("one state is summed once, got %d", n)
		}
		cur = counted{seq: 2, counts: map[string][4]int{"530481001001": {1, 0, 1, 0}}, sums: &n}
		sums, seq, err := live.Summaries()
		if err != nil || seq != 2 || sums[0].Grade != riskmap.GradeRed || n != 2 {
			t.Fatalf("a new state regrades: %+v %d %v (%d sums)", sums, seq, err, n)
		}
	})
}
