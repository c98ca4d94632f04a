package tiles_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"riskmap/pkg/spatialindex"
	"riskmap/pkg/tiles"
)

// tileCounts counts the graded units of every tile at zoom z (at most
// spatialindex.CellZoom) from the aggregate cells.
func tileCounts(s *spatialindex.Snapshot, z maptile.Zoom) map[maptile.Tile]int {
	counts := map[maptile.Tile]int{}
	shift := spatialindex.CellZoom - int(z)
	lo, hi := s.Bounds()
	x0, y0 := spatialindex.CellOf(orb.Point{lo[0], hi[1]}, spatialindex.CellZoom)
	x1, y1 := spatialindex.CellOf(orb.Point{hi[0], lo[1]}, spatialindex.CellZoom)
	s.Cells(x0, y0, x1, y1, func(x, y uint32, c spatialindex.Cell) bool {
		counts[maptile.New(x>>shift, y>>shift, z)] += c.Total()
		return true
	})
	return counts
}

// fullestTile is the tile at zoom z holding the most units, but no more than limit (< 0:
// no limit), first by x then y among equals. Past spatialindex.CellZoom it is the tile at
// the centroid of the fullest cell.
func fullestTile(s *spatialindex.Snapshot, z maptile.Zoom, limit int) maptile.Tile {
	if int(z) > spatialindex.CellZoom {
		c := fullestTile(s, spatialindex.CellZoom, limit)
		var cell spatialindex.Cell
		s.Cells(c.X, c.Y, c.X, c.Y, func(_, _ uint32, cc spatialindex.Cell) bool { cell = cc; return false })
		return maptile.At(orb.Point{cell.SumX / float64(cell.Total()), cell.SumY / float64(cell.Total())}, z)
	}
	best, bestN := maptile.Tile{}, -1
	for t, n := range tileCounts(s, z) {
		if limit >= 0 && n > limit {
			continue
		}
		if n > bestN || n == bestN && (t.X < best.X || t.X == best.X && t.Y < best.Y) {
			best, bestN = t, n
		}
	}
	return best
}

func benchRender(b *testing.B, n int, z maptile.Zoom, limit int, opt tiles.Options) {
	s := synthIndex(b, n).Snapshot()
	t := fullestTile(s, z, limit)
	b.ReportAllocs()
	b.ResetTimer()
	var size, features int
	for b.Loop() {
		raw, k, err := tiles.RenderUnits(s, t, opt)
		if err != nil {
			b.Fatal(err)
		}
		size, features = len(raw), k
	}
	b.ReportMetric(float64(size), "bytes/tile")
	b.ReportMetric(float64(features), "features/tile")
}

// BenchmarkRenderUnits renders the fullest tile of a zoom from synthetic units of the demo
// city ("detail": the fullest tile still drawn unit by unit; otherwise the fullest of all,
// which below spatialindex.CellZoom means clusters).
func BenchmarkRenderUnits(b *testing.B) {
	detail := tiles.DefaultMaxDetailFeatures
	for _, bc := range []struct {
		name  string
		n     int
		z     maptile.Zoom
		limit int
	}{
		{"1M/z8", 1_000_000, 8, -1},
		{"1M/z10", 1_000_000, 10, -1},
		{"1M/z12", 1_000_000, 12, -1},
		{"1M/z14", 1_000_000, 14, -1},
		{"1M/z14detail", 1_000_000, 14, detail},
		{"1M/z16detail", 1_000_000, 16, detail},
		{"1M/z14at2000", 1_000_000, 14, 2000},
		{"1M/z15at1400", 1_000_000, 15, 1400},
		{"1M/z16at650", 1_000_000, 16, 650},
		{"1M/z16", 1_000_000, 16, -1},
		{"1M/z15", 1_000_000, 15, -1},
		{"1M/z18", 1_000_000, 18, -1},
		{"200k/z10", 200_000, 10, -1},
		{"200k/z14detail", 200_000, 14, detail},
	} {
		b.Run(bc.name, func(b *testing.B) { benchRender(b, bc.n, bc.z, bc.limit, tiles.Options{}) })
	}
}

// BenchmarkUnitsEveryTile renders every tile of a zoom that the 1M synthetic units reach,
// once per iteration, and reports the spread of render times and sizes: the targets are a
// p95 under 50 ms and no tile over 300 KB up to z12. Run with -benchtime 1x.
func BenchmarkUnitsEveryTile(b *testing.B) {
	s := synthIndex(b, 1_000_000).Snapshot()
	lo, hi := s.Bounds()
	for _, z := range []maptile.Zoom{4, 8, 10, 11, 12, 13, 14, 16} {
		b.Run(fmt.Sprintf("1M/z%d", z), func(b *testing.B) {
			t0 := maptile.At(orb.Point{lo[0], hi[1]}, z)
			t1 := maptile.At(orb.Point{hi[0], lo[1]}, z)
			var times []time.Duration
			var sizes []int
			b.ReportAllocs()
			for b.Loop() {
				times, sizes = times[:0], sizes[:0]
				for x := t0.X; x <= t1.X; x++ {
					for y := t0.Y; y <= t1.Y; y++ {
						start := time.Now()
						raw, _, err := tiles.RenderUnits(s, maptile.New(x, y, z), tiles.Options{})
						if err != nil {
							b.Fatal(err)
						}
						times = append(times, time.Since(start))
						if raw != nil {
							sizes = append(sizes, len(raw))
						}
					}
				}
			}
			slices.Sort(times)
			slices.Sort(sizes)
			pct := func(p float64) int { return int(p * float64(len(times)-1)) }
			b.ReportMetric(float64(len(times)), "tiles")
			b.ReportMetric(float64(times[pct(0.5)].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(times[pct(0.95)].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(times[len(times)-1].Microseconds())/1000, "max-ms")
			if len(sizes) > 0 {
				b.ReportMetric(float64(sizes[len(sizes)/2])/1000, "p50-KB")
				b.ReportMetric(float64(sizes[len(sizes)-1])/1000, "max-KB")
			}
		})
	}
}

// BenchmarkRenderUnitsCold renders tiles at units spread over the 1M synthetic ones, a
// different tile each time and round a list of 4,096, so that their units are rarely in
// the processor's caches: what an uncached tile costs a server (scripts/benchserve's
// uncached row). Tiles of clusters count too, as they would in a server.
func BenchmarkRenderUnitsCold(b *testing.B) {
	s := synthIndex(b, 1_000_000).Snapshot()
	// Every 97th unit by id (the R-tree's order is not the same from one load to the next).
	var pts []orb.Point
	s.Ascend(0, func(f *spatialindex.Feature) bool {
		if f.ID%97 == 0 {
			pts = append(pts, f.Bound.Center())
		}
		return true
	})
	for _, z := range []maptile.Zoom{14, 15, 16} {
		ts := make([]maptile.Tile, 4096)
		for i := range ts {
			ts[i] = maptile.At(pts[(i*7919)%len(pts)], z)
		}
		b.Run(fmt.Sprintf("1M/z%d", z), func(b *testing.B) {
			b.ReportAllocs()
			i, features, size := 0, 0, 0
			for b.Loop() {
				raw, k, err := tiles.RenderUnits(s, ts[i%len(ts)], tiles.Options{})
				if err != nil {
					b.Fatal(err)
				}
				i++
				features += k
				size += len(raw)
			}
			b.ReportMetric(float64(features)/float64(i), "features/tile")
			b.ReportMetric(float64(size)/float64(i), "bytes/tile")
		})
	}
}
