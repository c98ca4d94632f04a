package gpkg

import (
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/storetest"
)

// BenchmarkEncodeUnit measures the column values CreateUnit, UpdateUnit and the bulk load
// bind for one unit, its JSON documents included.
func BenchmarkEncodeUnit(b *testing.B) {
	u := storetest.NewUnit("B-1", orb.LineString{{102.9, 24.6}, {102.91, 24.61}})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := encodeUnit(u); err != nil {
			b.Fatal(err)
		}
	}
}
