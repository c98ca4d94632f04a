package tiles

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/paulmach/orb/maptile"

	"riskmap/pkg/riskmap"
)

// RenderRegions draws the regions layer of tile t: each region whose bounding box reaches the
// buffered tile, clipped, coarsest level first and then by code, with code, name, level,
// grade (empty when the region has no grade) and the counts red, orange, yellow and blue.
// The feature id is the code when the code is a number, as administrative codes are.
func RenderRegions(features []RegionFeature, t maptile.Tile, opt Options) ([]byte, int, error) {
	opt = opt.withDefaults()
	if err := opt.checkTile(t); err != nil {
		return nil, 0, err
	}
	tb := t.Bound(opt.bufferFraction())
	var hit []*RegionFeature
	for i := range features {
		r := &features[i]
		b := r.Bound
		if b.IsZero() {
			b = r.Geometry.Bound()
		}
		if len(r.Geometry) > 0 && b.Intersects(tb) {
			hit = append(hit, r)
		}
	}
	slices.SortStableFunc(hit, func(a, b *RegionFeature) int {
		return cmp.Or(cmp.Compare(levelRank(a.Level), levelRank(b.Level)), cmp.Compare(a.Code, b.Code))
	})
	p := newProjector(t, opt)
	w := newLayerWriter(LayerRegions, opt.Extent)
	defer w.release()
	for _, r := range hit {
		p.next()
		g := p.multiPolygon(r.Geometry)
		if g == nil {
			continue
		}
		w.str(keyCode, r.Code)
		w.strMany(keyName, r.Name)
		w.str(keyLevel, r.Level)
		w.str(keyGrade, string(r.Grade))
		w.int(keyRed, int64(r.Counts[0]))
		w.int(keyOrange, int64(r.Counts[1]))
		w.int(keyYellow, int64(r.Counts[2]))
		w.int(keyBlue, int64(r.Counts[3]))
		id, err := strconv.ParseUint(r.Code, 10, 64)
		w.feature(id, err == nil, g)
	}
	return w.bytes(), w.count, nil
}

// levelRank orders region levels from the coarsest; unknown levels come last.
func levelRank(level string) int {
	for i, l := range riskmap.RegionLevels {
		if l == level {
			return i
		}
	}
	return len(riskmap.RegionLevels)
}
