package postgis

import (
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/storetest"
)

// BenchmarkAppendUnitRow measures the bulk load's COPY row of one unit, its three JSON
// documents included.
func BenchmarkAppendUnitRow(b *testing.B) {
	u := storetest.NewUnit("B-1", orb.LineString{{102.9, 24.6}, {102.91, 24.61}})
	now := time.Now()
	var buf []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var err error
		if buf, err = appendUnitRow(buf[:0], u, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnitValues measures the values CreateUnit and UpdateUnit bind for one unit.
func BenchmarkUnitValues(b *testing.B) {
	u := storetest.NewUnit("B-1", orb.LineString{{102.9, 24.6}, {102.91, 24.61}})
	now := time.Now()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := unitValues(u, 1, now, now); err != nil {
			b.Fatal(err)
		}
	}
}
