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

// DecodeRegion reads the stored geometry b of region code into *dst with decode, the
// store's reader of its geometry bytes; it must be a MultiPolygon (RegionGeometry).
func DecodeRegion(dst *orb.MultiPolygon, code string, b []byte, decode func([]byte) (orb.Geometry, error)) error {
	g, err := decode(b)
	if err == nil {
		*dst, err = RegionGeometry(g)
	}
	if err != nil {
		return fmt.Errorf("region %q: geometry: %w", code, err)
	}
	return nil
}
