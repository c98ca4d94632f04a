package postgis

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	geom "github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/ewkb"
	"github.com/twpayne/go-geom/encoding/wkb"
)

// SRID is the spatial reference of every geometry column: WGS 84 longitude/latitude.
const SRID = 4326

// The domain speaks orb; the wire speaks (E)WKB through go-geom. These converters are the
// only place the two meet. They work on go-geom's flat coordinate arrays to keep the
// per-row cost of bulk loads and scans low.

// toGeom converts an orb geometry to a go-geom geometry in the XY layout.
func toGeom(g orb.Geometry) (geom.T, error) {
	switch g := g.(type) {
	case orb.Point:
		return geom.NewPointFlat(geom.XY, []float64{g[0], g[1]}), nil
	case orb.MultiPoint:
		flat := make([]float64, 0, 2*len(g))
		for _, p := range g {
			flat = append(flat, p[0], p[1])
		}
		return geom.NewMultiPointFlat(geom.XY, flat), nil
	case orb.LineString:
		return geom.NewLineStringFlat(geom.XY, appendPoints(make([]float64, 0, 2*len(g)), g)), nil
	case orb.MultiLineString:
		n := 0
		for _, l := range g {
			n += len(l)
		}
		flat := make([]float64, 0, 2*n)
		ends := make([]int, 0, len(g))
		for _, l := range g {
			flat = appendPoints(flat, l)
			ends = append(ends, len(flat))
		}
		return geom.NewMultiLineStringFlat(geom.XY, flat, ends), nil
	case orb.Ring:
		return toGeom(orb.Polygon{g})
	case orb.Polygon:
		flat, ends := appendPolygon(make([]float64, 0, 2*polygonPoints(g)), nil, g)
		return geom.NewPolygonFlat(geom.XY, flat, ends), nil
	case orb.MultiPolygon:
		n := 0
		for _, p := range g {
			n += polygonPoints(p)
		}
		flat := make([]float64, 0, 2*n)
		endss := make([][]int, 0, len(g))
		for _, p := range g {
			var ends []int
			flat, ends = appendPolygon(flat, make([]int, 0, len(p)), p)
			endss = append(endss, ends)
		}
		return geom.NewMultiPolygonFlat(geom.XY, flat, endss), nil
	case orb.Collection:
		c := geom.NewGeometryCollection()
		for _, m := range g {
			mg, err := toGeom(m)
			if err != nil {
				return nil, err
			}
			if err := c.Push(mg); err != nil {
				return nil, err
			}
		}
		return c, nil
	case orb.Bound:
		return toGeom(g.ToPolygon())
	case nil:
		return nil, fmt.Errorf("geometry is missing")
	}
	return nil, fmt.Errorf("geometry type %T is not supported", g)
}

func appendPoints(flat []float64, ps []orb.Point) []float64 {
	for _, p := range ps {
		flat = append(flat, p[0], p[1])
	}
	return flat
}

func polygonPoints(p orb.Polygon) int {
	n := 0
	for _, r := range p {
		n += len(r)
	}
	return n
}

func appendPolygon(flat []float64, ends []int, p orb.Polygon) ([]float64, []int) {
	for _, r := range p {
		flat = appendPoints(flat, r)
		ends = append(ends, len(flat))
	}
	return flat, ends
}

// fromGeom converts a go-geom geometry to orb, keeping x and y and dropping any z or m.
func fromGeom(g geom.T) (orb.Geometry, error) {
	switch g := g.(type) {
	case *geom.Point:
		c := g.FlatCoords()
		// WKB has no empty point; PostGIS writes POINT EMPTY with NaN coordinates.
		if len(c) < 2 || math.IsNaN(c[0]) || math.IsNaN(c[1]) {
			return nil, fmt.Errorf("empty point")
		}
		return orb.Point{c[0], c[1]}, nil
	case *geom.MultiPoint:
		stride, flat := g.Stride(), g.FlatCoords()
		mp := make(orb.MultiPoint, 0, g.NumPoints())
		start := 0
		for _, end := range g.Ends() {
			if end > start { // an empty member has end == start; orb cannot hold it
				mp = append(mp, orb.Point{flat[start], flat[start+1]})
			}
			start = end
		}
		if len(g.Ends()) == 0 { // no ends recorded: every member is a point
			for i := 0; i+1 < len(flat); i += stride {
				mp = append(mp, orb.Point{flat[i], flat[i+1]})
			}
		}
		return mp, nil
	case *geom.LineString:
		return orb.LineString(points(g.FlatCoords(), 0, len(g.FlatCoords()), g.Stride())), nil
	case *geom.LinearRing:
		return orb.Ring(points(g.FlatCoords(), 0, len(g.FlatCoords()), g.Stride())), nil
	case *geom.MultiLineString:
		flat, stride := g.FlatCoords(), g.Stride()
		ml := make(orb.MultiLineString, 0, len(g.Ends()))
		start := 0
		for _, end := range g.Ends() {
			ml = append(ml, orb.LineString(points(flat, start, end, stride)))
			start = end
		}
		return ml, nil
	case *geom.Polygon:
		p, _ := polygon(g.FlatCoords(), 0, g.Ends(), g.Stride())
		return p, nil
	case *geom.MultiPolygon:
		flat, stride := g.FlatCoords(), g.Stride()
		mp := make(orb.MultiPolygon, 0, len(g.Endss()))
		start := 0
		for _, ends := range g.Endss() {
			var p orb.Polygon
			p, start = polygon(flat, start, ends, stride)
			mp = append(mp, p)
		}
		return mp, nil
	case *geom.GeometryCollection:
		c := make(orb.Collection, 0, g.NumGeoms())
		for _, m := range g.Geoms() {
			og, err := fromGeom(m)
			if err != nil {
				return nil, err
			}
			c = append(c, og)
		}
		return c, nil
	case nil:
		return nil, fmt.Errorf("geometry is missing")
	}
	return nil, fmt.Errorf("geometry type %T is not supported", g)
}

// points slices flat[start:end] into points. All points of one geometry share one backing
// array: one allocation instead of one per ring.
func points(flat []float64, start, end, stride int) []orb.Point {
	ps := make([]orb.Point, 0, (end-start)/stride)
	for i := start; i+1 < end; i += stride {
		ps = append(ps, orb.Point{flat[i], flat[i+1]})
	}
	return ps
}

func polygon(flat []float64, start int, ends []int, stride int) (orb.Polygon, int) {
	p := make(orb.Polygon, 0, len(ends))
	for _, end := range ends {
		p = append(p, orb.Ring(points(flat, start, end, stride)))
		start = end
	}
	return p, start
}

// encodeEWKB returns the little-endian EWKB of g with SRID 4326: what PostGIS's binary
// input (COPY BINARY, ST_GeomFromEWKB) reads without a text round trip.
func encodeEWKB(g orb.Geometry) ([]byte, error) {
	gg, err := toGeom(g)
	if err != nil {
		return nil, err
	}
	if err := setSRID(gg, SRID); err != nil {
		return nil, err
	}
	return ewkb.Marshal(gg, binary.LittleEndian)
}

// decodeWKB reads the output of ST_AsBinary.
func decodeWKB(b []byte) (orb.Geometry, error) {
	gg, err := wkb.Unmarshal(b)
	if err != nil {
		return nil, err
	}
	return fromGeom(gg)
}

func setSRID(g geom.T, srid int) error {
	switch g := g.(type) {
	case *geom.Point:
		g.SetSRID(srid)
	case *geom.MultiPoint:
		g.SetSRID(srid)
	case *geom.LineString:
		g.SetSRID(srid)
	case *geom.MultiLineString:
		g.SetSRID(srid)
	case *geom.Polygon:
		g.SetSRID(srid)
	case *geom.MultiPolygon:
		g.SetSRID(srid)
	case *geom.GeometryCollection:
		g.SetSRID(srid)
	default:
		return fmt.Errorf("geometry type %T is not supported", g)
	}
	return nil
}
