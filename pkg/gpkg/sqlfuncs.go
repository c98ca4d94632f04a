package gpkg

import (
	"database/sql/driver"
	"fmt"

	"github.com/paulmach/orb"
	"modernc.org/sqlite"

	"riskmap/pkg/riskmap"
)

// newDriver returns a SQLite driver of the store's own with the SQL functions its files
// need. The gpkg_rtree_index triggers call ST_IsEmpty and ST_MinX..ST_MaxY on every write,
// so a connection without them cannot insert a feature. Registering them on a private
// driver, rather than on the package-level "sqlite" one, keeps them off connections that
// other packages open.
func newDriver() (*sqlite.Driver, error) {
	d := &sqlite.Driver{}
	fns := []struct {
		name  string
		nArgs int32
		fn    func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error)
	}{
		{"ST_IsEmpty", 1, stIsEmpty},
		{"ST_MinX", 1, stBound(func(b orb.Bound) float64 { return b.Min[0] })},
		{"ST_MaxX", 1, stBound(func(b orb.Bound) float64 { return b.Max[0] })},
		{"ST_MinY", 1, stBound(func(b orb.Bound) float64 { return b.Min[1] })},
		{"ST_MaxY", 1, stBound(func(b orb.Bound) float64 { return b.Max[1] })},
		{"riskmap_intersects_bbox", 5, intersectsBBoxFunc},
	}
	for _, f := range fns {
		// VolatileArgs: the blob is read in place and never kept, which spares a copy of
		// every geometry on every insert.
		err := d.RegisterFunction(f.name, &sqlite.FunctionImpl{NArgs: f.nArgs, Deterministic: true, VolatileArgs: true, Scalar: f.fn})
		if err != nil {
			return nil, fmt.Errorf("gpkg: register %s: %w", f.name, err)
		}
	}
	return d, nil
}

// stIsEmpty is ST_IsEmpty(geom): 1 for an empty geometry, 0 otherwise, NULL for NULL or a
// blob that is not a GeoPackage geometry (as GDAL's version does, so a bad blob skips the
// spatial index instead of failing the write).
func stIsEmpty(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	b, ok := args[0].([]byte)
	if !ok {
		return nil, nil
	}
	_, nonEmpty, err := bound(b)
	if err != nil {
		return nil, nil
	}
	if nonEmpty {
		return int64(0), nil
	}
	return int64(1), nil
}

// stBound makes ST_MinX and its siblings: one coordinate of the envelope, NULL for NULL,
// empty or invalid geometries.
func stBound(pick func(orb.Bound) float64) func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
	return func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		b, ok := args[0].([]byte)
		if !ok {
			return nil, nil
		}
		env, nonEmpty, err := bound(b)
		if err != nil || !nonEmpty {
			return nil, nil
		}
		return pick(env), nil
	}
}

// intersectsBBoxFunc is riskmap_intersects_bbox(geom, minx, miny, maxx, maxy): 1 when the
// geometry and the rectangle share a point. Running the exact test inside SQL keeps COUNT,
// ORDER BY and LIMIT exact. It decodes the geometry only when its envelope overlaps the
// rectangle without lying inside it.
func intersectsBBoxFunc(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	blob, ok := args[0].([]byte)
	if !ok {
		return int64(0), nil
	}
	var c [4]float64
	for i := range c {
		switch v := args[i+1].(type) {
		case float64:
			c[i] = v
		case int64:
			c[i] = float64(v)
		default:
			return nil, fmt.Errorf("riskmap_intersects_bbox: argument %d is not a number", i+2)
		}
	}
	box := orb.Bound{Min: orb.Point{c[0], c[1]}, Max: orb.Point{c[2], c[3]}}
	env, nonEmpty, err := bound(blob)
	if err != nil || !nonEmpty || !env.Intersects(box) {
		return int64(0), nil
	}
	if box.Contains(env.Min) && box.Contains(env.Max) {
		return int64(1), nil
	}
	g, _, err := DecodeGeometry(blob)
	if err != nil {
		return int64(0), nil
	}
	if riskmap.IntersectsBound(g, box) {
		return int64(1), nil
	}
	return int64(0), nil
}
