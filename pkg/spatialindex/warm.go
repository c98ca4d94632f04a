package spatialindex

import (
	"runtime"

	"github.com/paulmach/orb"
)

// Memory at a million units: a tile's or a small box's features are scattered over the
// heap, each on a page of its own, and so are their geometry and names. Reading them one
// by one as they are drawn or written waits on memory for each in turn; reading them first
// in plain loops, whose loads do not depend on one another, lets the processor have many
// misses in flight at once and brings them in at a fraction of the cost (issue 18;
// BenchmarkRenderUnitsCold in pkg/tiles, BenchmarkFindCold here).

// Warm reads what drawing or writing fs reads: each feature's facts, then its geometry,
// name and code.
func Warm(fs []*Feature) {
	warmFacts(fs)
	warmGeometry(fs)
	var sink int
	for _, f := range fs {
		if f.Name != "" {
			sink += int(f.Name[0])
		}
		if f.Code != "" {
			sink += int(f.Code[0])
		}
	}
	runtime.KeepAlive(sink) // the reads are what Warm is for
}

// warmFacts reads the features' first lines of memory: id, code, name, category, region
// code, grade, bound, status (riskmap.UnitFacts' order).
func warmFacts(fs []*Feature) {
	var sink int
	for _, f := range fs {
		sink += int(f.ID) + len(f.Name) + len(f.Code) + len(f.RegionCode) + len(f.Grade) + int(f.Bound.Min[0]) + len(f.Status)
	}
	runtime.KeepAlive(sink)
}

// warmGeometry reads the features' geometry (not a point's: its bound says it).
func warmGeometry(fs []*Feature) {
	var sink int
	for _, f := range fs {
		sink += int(f.Bound.Max[1])
	}
	for _, f := range fs {
		sink += touchGeometry(f.Geometry)
	}
	runtime.KeepAlive(sink)
}

// touchGeometry reads the first and last points of g, a line or a polygon.
func touchGeometry(g orb.Geometry) int {
	switch g := g.(type) {
	case orb.LineString:
		if len(g) > 0 {
			return int(g[0][0]) + int(g[len(g)-1][0])
		}
	case orb.Polygon:
		if len(g) > 0 && len(g[0]) > 0 {
			return int(g[0][0][0]) + int(g[0][len(g[0])-1][0])
		}
	case orb.MultiLineString:
		if len(g) > 0 && len(g[0]) > 0 {
			return int(g[0][0][0])
		}
	case orb.MultiPolygon:
		if len(g) > 0 && len(g[0]) > 0 && len(g[0][0]) > 0 {
			return int(g[0][0][0][0])
		}
	}
	return 0
}
