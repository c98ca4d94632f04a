package postgis

import (
	"github.com/paulmach/orb"

	"riskmap/pkg/unitcodec"
)

// readWKB decodes the WKB of ST_AsBinary straight into orb, as decodeWKB does through
// go-geom, which costs about six allocations a geometry where this costs one or two. The
// plain two-dimensional points, lines and polygons and their multi forms, in either byte
// order, are unitcodec's to read; anything else (Z or M coordinates, collections, empty
// points, bytes left over, a count that the bytes cannot hold) goes to decodeWKB, so the
// result, or the error, is always decodeWKB's.
func readWKB(b []byte) (orb.Geometry, error) {
	if g, ok := unitcodec.ReadPlainWKB(b); ok {
		return g, nil
	}
	return decodeWKB(b)
}
