package gpkg_test

import (
	"context"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/monitoring"
	"riskmap/pkg/storetest"
)

// BenchmarkAppendReadings: batches of 1000 new readings of 50 points through
// AppendReadings (INSERT OR IGNORE, the rollup trigger).
func BenchmarkAppendReadings(b *testing.B) {
	ctx := context.Background()
	s := openTemp(b)
	u := storetest.NewUnit("U-1", orb.Point{102.91, 24.67})
	if err := s.CreateUnit(ctx, u); err != nil {
		b.Fatal(err)
	}
	red := 50.0
	ps := make([]*monitoring.Point, 50)
	for i := range ps {
		ps[i] = &monitoring.Point{Code: "QT-" + string(rune('A'+i%26)) + string(rune('a'+i/26)), UnitID: u.ID, Kind: "gas", UnitOfMeasure: "%LEL",
			Location: orb.Point{102.91, 24.67}, IntervalS: 60, Thresholds: monitoring.Thresholds{Upper: &monitoring.Bounds{Red: &red}}}
		if err := s.CreatePointRecorded(ctx, ps[i], nil); err != nil {
			b.Fatal(err)
		}
	}
	const batch = 1000
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i*batch/len(ps)) * time.Second)
		rs := make([]monitoring.Reading, batch)
		for j := range rs {
			rs[j] = monitoring.Reading{PointID: ps[j%len(ps)].ID, Time: t0.Add(time.Duration(j/len(ps)) * time.Second), Value: float64(j % 97)}
		}
		added, _, err := s.AppendReadings(ctx, rs)
		if err != nil || added != batch {
			b.Fatalf("append: %d, %v", added, err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "readings/s")
}
