package unitcodec

import (
	"errors"
	"fmt"

	"github.com/paulmach/orb"
)

// RegionGeometry gives the geometry stored for a region as the MultiPolygon a region has.
// The column is a MULTIPOLYGON, but a desktop edit (QGIS on the GeoPackage file or on the
// database) may have saved a plain polygon, which is a MultiPolygon of one.
func RegionGeometry(g orb.Geometry) (orb.MultiPolygon, error) {
	switch g := g.(type) {
	case orb.MultiPolygon:
		return g, nil
	case orb.Polygon:
		return orb.MultiPolygon{g}, nil
	case nil:
		return nil, errors.New("no geometry, want a MultiPolygon")
	default:
		return nil, fmt.Errorf("a %s, want a MultiPolygon", g.GeoJSONType())
	}
}
