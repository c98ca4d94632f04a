package tiles

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"riskmap/pkg/spatialindex"
)

// RenderUnits draws the units layer of tile t from a snapshot of the index: the raw
// (uncompressed) MVT and its number of features, or nil bytes for an empty tile.
//
// Below spatialindex.CellZoom, a tile that holds more than opt.MaxDetailFeatures units,
// counting those whose box reaches into its buffer (or whose detail would exceed
// opt.MaxTileBytes), carries cluster points instead of units: one
// per square of opt.ClusterPx tile units that has any, at the centroid of its units, with
// cluster=true, count, red, orange, yellow, blue and grade (the highest present). Units
// without a valid grade are not in the aggregate grid and so not in clusters.
func RenderUnits(s UnitSnapshot, t maptile.Tile, opt Options) ([]byte, int, error) {
	opt = opt.withDefaults()
	if err := opt.checkTile(t); err != nil {
		return nil, 0, err
	}
	if int(t.Z) >= spatialindex.CellZoom {
		b, n, _ := renderDetail(s, t, opt, -1, 0)
		return b, n, nil
	}
	var agg *aggregate
	if s.Len() > opt.MaxDetailFeatures {
		// Counting the cells of the tile costs a seek per column of cells, far less than
		// touching the features; and it gathers the clusters on the way.
		agg = aggregateCells(s, t, opt)
		if agg.units > opt.MaxDetailFeatures {
			return agg.encode(t, opt)
		}
	}
	// The cells count only graded units in the tile proper: ungraded units, or a crowded
	// buffer, can still make the detail too big. The candidates are counted before any is
	// drawn, and more than opt.MaxDetailFeatures of them mean clusters, as in
	// RenderUnitsWhere (issue 18: the fullest tile the cells let through had 4,055
	// candidates, and drawing them went past 300 KB only to be thrown away).
	if b, n, ok := renderDetail(s, t, opt, opt.MaxDetailFeatures, opt.MaxTileBytes); ok {
		return b, n, nil
	}
	if agg == nil {
		agg = aggregateCells(s, t, opt)
	}
	return agg.encode(t, opt)
}

// renderDetail draws every unit whose bounding box reaches the buffered tile, in id order so
// that the same data always gives the same bytes. It gives up (ok false) at more than limit
// candidates or maxBytes of tile (when those are positive).
func renderDetail(s UnitSnapshot, t maptile.Tile, opt Options, limit, maxBytes int) (b []byte, n int, ok bool) {
	var found []*spatialindex.Feature
	s.SearchBounds(t.Bound(opt.bufferFraction()), func(f *spatialindex.Feature) bool {
		found = append(found, f)
		return limit <= 0 || len(found) <= limit
	})
	if limit > 0 && len(found) > limit {
		return nil, 0, false
	}
	return drawDetail(found, t, opt, maxBytes)
}

// drawDetail draws the given units one by one, sorted by id so that the same data always
// gives the same bytes; ok is false past maxBytes (when positive).
func drawDetail(found []*spatialindex.Feature, t maptile.Tile, opt Options, maxBytes int) (b []byte, n int, ok bool) {
	if len(found) == 0 {
		return nil, 0, true
	}
	order(found)
	p := newProjector(t, opt)
	w := newLayerWriter(LayerUnits, opt.Extent)
	defer w.release()
	for _, f := range found {
		// A point, most units, is drawn here: as an orb.Geometry it would be boxed, an
		// allocation for each.
		// Its bound is the point itself, in the feature: its boxed value, elsewhere in
		// memory, is not read.
		var g orb.Geometry
		_, isPoint := f.Geometry.(orb.Point)
		pt := f.Bound.Min
		if isPoint {
			if !p.geo.Contains(pt) {
				continue
			}
			pt = roundPoint(p.project(pt))
		} else if g = p.geometryIn(f.Geometry, f.Bound); g == nil {
			continue
		}
		w.uniqueInt(keyID, f.ID)
		if f.Name != "" { // a public unit without a public label has none
			w.strMany(keyName, f.Name)
		}
		w.str(keyCategory, f.Category)
		w.str(keyGrade, string(f.Grade))
		w.uniqueStr(keyCode, f.Code)
		w.str(keyRegionCode, f.RegionCode)
		if opt.Status {
			if f.Status != "" {
				w.str(keyStatus, string(f.Status))
			}
			if f.InherentGrade != "" {
				w.str(keyInherent, string(f.InherentGrade))
			}
			w.int(keyOpenHaz, int64(f.OpenHazards))
		}
		if isPoint {
			w.pointFeature(uint64(f.ID), f.ID >= 0, pt)
		} else {
			w.feature(uint64(f.ID), f.ID >= 0, g)
		}
		if maxBytes > 0 && w.size() > maxBytes {
			return nil, 0, false
		}
	}
	return w.bytes(), w.count, true
}

// aggregate is the cluster grid of one tile: g×g squares, each summing the index's cells
// (at spatialindex.CellZoom) that fall in it.
type aggregate struct {
	g     int
	sums  []spatialindex.Cell
	units int
}

// aggregateCells sums the cells of the tile (not its buffer: a cluster belongs to exactly
// one tile) into the cluster grid.
func aggregateCells(s UnitSnapshot, t maptile.Tile, opt Options) *aggregate {
	shift := uint(spatialindex.CellZoom - int(t.Z))
	span := uint64(1) << shift // cells per tile side
	g := uint64(opt.Extent / opt.ClusterPx)
	if g < 1 {
		g = 1
	}
	if g > span {
		g = span
	}
	a := &aggregate{g: int(g), sums: make([]spatialindex.Cell, g*g)}
	x0, y0 := uint64(t.X)<<shift, uint64(t.Y)<<shift
	x1, y1 := x0+span-1, y0+span-1
	if s.Len() == 0 {
		return a
	}
	// Cells seeks once per column of cells: at low zoom, only the columns the data spans.
	lo, hi := s.Bounds()
	dx0, dy0 := spatialindex.CellOf(orb.Point{lo[0], hi[1]}, spatialindex.CellZoom)
	dx1, dy1 := spatialindex.CellOf(orb.Point{hi[0], lo[1]}, spatialindex.CellZoom)
	cx0, cy0 := max(x0, uint64(dx0)), max(y0, uint64(dy0))
	cx1, cy1 := min(x1, uint64(dx1)), min(y1, uint64(dy1))
	if cx0 > cx1 || cy0 > cy1 {
		return a
	}
	s.Cells(uint32(cx0), uint32(cy0), uint32(cx1), uint32(cy1), func(x, y uint32, c spatialindex.Cell) bool {
		gx := (uint64(x) - x0) * g / span
		gy := (uint64(y) - y0) * g / span
		sum := &a.sums[gy*g+gx]
		for i := range sum.Counts {
			sum.Counts[i] += c.Counts[i]
		}
		sum.SumX += c.SumX
		sum.SumY += c.SumY
		a.units += c.Total()
		return true
	})
	return a
}

// encode writes the cluster points, row by row.
func (a *aggregate) encode(t maptile.Tile, opt Options) ([]byte, int, error) {
	p := newProjector(t, opt)
	e := float64(opt.Extent)
	w := newLayerWriter(LayerUnits, opt.Extent)
	defer w.release()
	for _, c := range a.sums {
		n := c.Total()
		if n <= 0 {
			continue
		}
		q := p.project(orb.Point{c.SumX / float64(n), c.SumY / float64(n)})
		// The centroid of points inside the tile is inside it, up to the rounding the
		// running sums gather.
		q = orb.Point{math.Max(0, math.Min(e, math.Round(q[0]))), math.Max(0, math.Min(e, math.Round(q[1])))}
		w.boolean(keyCluster, true)
		w.int(keyCount, int64(n))
		w.int(keyRed, int64(c.Counts[0]))
		w.int(keyOrange, int64(c.Counts[1]))
		w.int(keyYellow, int64(c.Counts[2]))
		w.int(keyBlue, int64(c.Counts[3]))
		w.str(keyGrade, string(c.Highest()))
		w.feature(0, false, q)
	}
	return w.bytes(), w.count, nil
}

// RenderUnitsWhere draws the units layer of tile t with only the units keep accepts: the
// map's filters. The index's cells count every unit, so the clusters of a filtered tile are
// counted from the kept units themselves: slower than RenderUnits, and not cached.
func RenderUnitsWhere(s UnitSnapshot, t maptile.Tile, opt Options, keep func(*spatialindex.Feature) bool) ([]byte, int, error) {
	opt = opt.withDefaults()
	if err := opt.checkTile(t); err != nil {
		return nil, 0, err
	}
	var found []*spatialindex.Feature
	s.SearchBounds(t.Bound(opt.bufferFraction()), func(f *spatialindex.Feature) bool {
		if keep(f) {
			found = append(found, f)
		}
		return true
	})
	if int(t.Z) >= spatialindex.CellZoom || len(found) <= opt.MaxDetailFeatures {
		if b, n, ok := drawDetail(found, t, opt, opt.MaxTileBytes); ok || int(t.Z) >= spatialindex.CellZoom {
			return b, n, nil
		}
	}
	// Cluster the kept units by their representative points, as the cells would.
	g := max(1, opt.Extent/opt.ClusterPx)
	a := &aggregate{g: g, sums: make([]spatialindex.Cell, g*g)}
	tb := t.Bound()
	p := newProjector(t, opt)
	e := float64(opt.Extent)
	for _, f := range found {
		r := spatialindex.Representative(f)
		gi := f.Grade.Rank() - 1
		if gi < 0 || !tb.Contains(r) {
			continue // a unit in the buffer is clustered by its own tile
		}
		q := p.project(r)
		gx := min(g-1, max(0, int(q[0]*float64(g)/e)))
		gy := min(g-1, max(0, int(q[1]*float64(g)/e)))
		c := &a.sums[gy*g+gx]
		c.Counts[gi]++
		c.SumX += r[0]
		c.SumY += r[1]
		a.units++
	}
	return a.encode(t, opt)
}

// order sorts the units by id and reads them ahead of drawing (spatialindex.Warm): an
// uncached tile's units are rarely in the processor's caches, and drawing them one by one
// waited on memory for each in turn (BenchmarkRenderUnitsCold).
func order(found []*spatialindex.Feature) {
	spatialindex.SortByID(found)
	spatialindex.Warm(found)
}
