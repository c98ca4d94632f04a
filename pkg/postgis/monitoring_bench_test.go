package postgis

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"riskmap/pkg/monitoring"
)

const benchBatch = 1000

// benchReadings is batch i of readings of points: benchBatch readings, a second apart per
// point, later for every i.
func benchReadings(points []*monitoring.Point, i int) []monitoring.Reading {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i*benchBatch/len(points)) * time.Second)
	rs := make([]monitoring.Reading, benchBatch)
	for j := range rs {
		rs[j] = monitoring.Reading{PointID: points[j%len(points)].ID, Time: t0.Add(time.Duration(j/len(points)) * time.Second), Value: float64(j % 97)}
	}
	return rs
}

func benchPoints(b *testing.B, s *Store) []*monitoring.Point {
	ps := make([]*monitoring.Point, 50)
	for i := range ps {
		ps[i] = monitoringPoint(b, s, "QT-"+string(rune('A'+i%26))+string(rune('a'+i/26)))
	}
	if err := s.EnsurePartitions(context.Background(), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		b.Fatal(err)
	}
	return ps
}

// BenchmarkAppendReadings: batches of 1000 new readings of 50 points through
// AppendReadings (idempotent insert and the rollups in one statement), against COPY of the
// same rows into the same partitioned table (no duplicate check, no rollups).
func BenchmarkAppendReadings(b *testing.B) {
	ctx := context.Background()
	b.Run("AppendReadings", func(b *testing.B) {
		s := openStore(b)
		ps := benchPoints(b, s)
		b.ResetTimer()
		for i := range b.N {
			added, _, err := s.AppendReadings(ctx, benchReadings(ps, i))
			if err != nil || added != benchBatch {
				b.Fatalf("append: %d, %v", added, err)
			}
		}
		b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "readings/s")
	})
	b.Run("COPY", func(b *testing.B) {
		s := openStore(b)
		ps := benchPoints(b, s)
		b.ResetTimer()
		for i := range b.N {
			rs := benchReadings(ps, i)
			n, err := s.pool.CopyFrom(ctx, pgx.Identifier{"readings"}, []string{"point_id", "at", "value"},
				pgx.CopyFromSlice(len(rs), func(j int) ([]any, error) { return []any{rs[j].PointID, rs[j].Time, rs[j].Value}, nil }))
			if err != nil || n != benchBatch {
				b.Fatalf("copy: %d, %v", n, err)
			}
		}
		b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "readings/s")
	})
}
