// Package tiles renders the Mapbox Vector Tiles (MVT 2.1) of the risk map from the spatial
// index: layer "units" (each unit, or at low zoom where a tile would hold too many, cluster
// points carrying per-grade counts) and layer "regions" (the regional four-colour map). It
// keeps rendered tiles, gzipped, in a bounded cache that a write to the index invalidates
// exactly where it lands, and describes the layers in TileJSON and in the metadata.json GDAL
// reads.
package tiles

import (
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"riskmap/pkg/riskmap"
)

// Layer names, as they appear in tiles, URLs and cache keys.
const (
	LayerUnits   = "units"
	LayerRegions = "regions"
)

// Defaults of Options.
const (
	DefaultExtent            = 4096
	DefaultBuffer            = 64
	DefaultMaxZoom           = 22
	DefaultMaxDetailFeatures = 3000
	DefaultClusterPx         = 64
	DefaultMaxTileBytes      = 300_000
	DefaultSimplify          = 1.0
	DefaultCacheBytes        = 256 << 20
)

// MaxZoomLimit is the deepest zoom any configuration may serve: tile numbers at zoom 30
// still fit 32 bits, and the projection keeps whole tile units to well past it.
const MaxZoomLimit = 30

// Options tunes rendering and caching. The zero value means every default.
type Options struct {
	// Extent is the tile's coordinate range per side (4096).
	Extent int
	// Buffer is how far, in tile units, geometry reaches past the tile's edge (64), so that
	// strokes and symbols are not cut at tile seams.
	Buffer int
	// MaxZoom is the deepest zoom served (22, at most MaxZoomLimit).
	MaxZoom int
	// MaxDetailFeatures is the most units a tile below spatialindex.CellZoom draws one by
	// one (3000); a tile holding more gets cluster points instead.
	MaxDetailFeatures int
	// ClusterPx is the side, in tile units, of the square each cluster point stands for
	// (64: at most 64×64 clusters in a 4096-unit tile, about 8 screen pixels apart on a
	// 512-pixel tile). Clusters are never finer than the index's aggregate cells.
	ClusterPx int
	// MaxTileBytes caps a detail tile below spatialindex.CellZoom (300 000 bytes,
	// uncompressed): a tile that would be larger is drawn as clusters instead.
	MaxTileBytes int
	// Simplify is the Douglas–Peucker tolerance in tile units (1: a sixteenth of a pixel on
	// a 256-pixel tile, which no one sees). Negative turns simplification off.
	Simplify float64
	// CacheBytes bounds the tile cache (256 MiB).
	CacheBytes int64
	// Status adds each unit's review status (status: draft, submitted, approved) to the
	// units layer, for the internal map to tell them apart, and what its current grade
	// (grade) follows: the grade its assessment gives (inherent_grade) and the count of its
	// hidden dangers not yet closed (open_hazards). The public tiles never carry them.
	Status bool
}

// withDefaults fills in zero fields.
func (o Options) withDefaults() Options {
	if o.Extent <= 0 {
		o.Extent = DefaultExtent
	}
	if o.Buffer < 0 {
		o.Buffer = 0
	} else if o.Buffer == 0 {
		o.Buffer = DefaultBuffer
	}
	if o.MaxZoom <= 0 {
		o.MaxZoom = DefaultMaxZoom
	}
	if o.MaxZoom > MaxZoomLimit {
		o.MaxZoom = MaxZoomLimit
	}
	if o.MaxDetailFeatures <= 0 {
		o.MaxDetailFeatures = DefaultMaxDetailFeatures
	}
	if o.ClusterPx <= 0 {
		o.ClusterPx = DefaultClusterPx
	}
	if o.ClusterPx > o.Extent {
		o.ClusterPx = o.Extent
	}
	if o.MaxTileBytes <= 0 {
		o.MaxTileBytes = DefaultMaxTileBytes
	}
	if o.Simplify == 0 {
		o.Simplify = DefaultSimplify
	}
	if o.CacheBytes <= 0 {
		o.CacheBytes = DefaultCacheBytes
	}
	return o
}

// bufferFraction is the buffer as a fraction of a tile's side.
func (o Options) bufferFraction() float64 { return float64(o.Buffer) / float64(o.Extent) }

// RegionFeature is one region of the regional map as the regions layer draws it.
type RegionFeature struct {
	Code, Name, Level string
	Grade             riskmap.Grade
	// Counts are the region's units by grade: red, orange, yellow, blue.
	Counts   [4]int
	Geometry orb.MultiPolygon
	// Bound is the geometry's bounding box; computed when left zero.
	Bound orb.Bound
}

// Tile is a rendered tile as the HTTP layer serves it.
type Tile struct {
	// Gzip is the gzip-compressed MVT (nil for an empty tile).
	Gzip []byte
	// ETag is a strong entity tag, quoted: a hash of the uncompressed tile ("" if empty).
	ETag string
	// Empty means the tile has no features: answer 204.
	Empty bool
	// Features is the number of features in the tile.
	Features int
}

// checkTile rejects a tile outside the zoom range or the grid of its zoom.
func (o Options) checkTile(t maptile.Tile) error {
	if int(t.Z) > o.MaxZoom {
		return riskmap.Errorf(riskmap.EINVALID, "瓦片级别 %d 超过最大级别 %d", t.Z, o.MaxZoom)
	}
	if !t.Valid() {
		n := uint64(1) << t.Z
		if uint64(t.X) >= n {
			return riskmap.Errorf(riskmap.EINVALID, "瓦片 x %d 超出第 %d 级的范围 0 至 %d", t.X, t.Z, n-1)
		}
		return riskmap.Errorf(riskmap.EINVALID, "瓦片 y %d 超出第 %d 级的范围 0 至 %d", t.Y, t.Z, n-1)
	}
	return nil
}
