package postgis

import (
	"encoding/binary"
	"math"

	"github.com/paulmach/orb"
)

// readWKB decodes the WKB of ST_AsBinary straight into orb, as decodeWKB does through
// go-geom, which costs about six allocations a geometry where this costs one or two. It
// reads the two-dimensional points, lines and polygons and their multi forms, in either
// byte order, and hands anything else (Z or M coordinates, collections, empty points, bytes
// left over, a count that the bytes cannot hold) to decodeWKB, so the result, or the
// error, is always decodeWKB's.
func readWKB(b []byte) (orb.Geometry, error) {
	r := wkbReader{b: b}
	if g, ok := r.geometry(); ok && r.i == len(b) {
		return g, nil
	}
	return decodeWKB(b)
}

type wkbReader struct {
	b     []byte
	i     int
	order binary.ByteOrder
}

// header reads a byte order and a geometry type.
func (r *wkbReader) header() (uint32, bool) {
	if len(r.b)-r.i < 5 {
		return 0, false
	}
	switch r.b[r.i] {
	case 0:
		r.order = binary.BigEndian
	case 1:
		r.order = binary.LittleEndian
	default:
		return 0, false
	}
	t := r.order.Uint32(r.b[r.i+1:])
	r.i += 5
	return t, true
}

// count reads a number of elements each at least size bytes long.
func (r *wkbReader) count(size int) (int, bool) {
	if len(r.b)-r.i < 4 {
		return 0, false
	}
	n := int(r.order.Uint32(r.b[r.i:]))
	r.i += 4
	if n < 0 || n > (len(r.b)-r.i)/size {
		return 0, false
	}
	return n, true
}

func (r *wkbReader) point() (orb.Point, bool) {
	if len(r.b)-r.i < 16 {
		return orb.Point{}, false
	}
	x := math.Float64frombits(r.order.Uint64(r.b[r.i:]))
	y := math.Float64frombits(r.order.Uint64(r.b[r.i+8:]))
	r.i += 16
	if math.IsNaN(x) || math.IsNaN(y) {
		return orb.Point{}, false // an empty point: decodeWKB's to refuse or skip
	}
	return orb.Point{x, y}, true
}

// points reads a counted list of points; never nil, as fromGeom's.
func (r *wkbReader) points() ([]orb.Point, bool) {
	n, ok := r.count(16)
	if !ok {
		return nil, false
	}
	ps := make([]orb.Point, n)
	for i := range ps {
		if ps[i], ok = r.point(); !ok {
			return nil, false
		}
	}
	return ps, true
}

func (r *wkbReader) polygon() (orb.Polygon, bool) {
	n, ok := r.count(4)
	if !ok {
		return nil, false
	}
	p := make(orb.Polygon, n)
	for i := range p {
		ring, ok := r.points()
		if !ok {
			return nil, false
		}
		p[i] = ring
	}
	return p, true
}

// member reads the header of an element of a multi geometry, which must be of type t.
func (r *wkbReader) member(t uint32) bool {
	got, ok := r.header()
	return ok && got == t
}

func (r *wkbReader) geometry() (orb.Geometry, bool) {
	t, ok := r.header()
	if !ok {
		return nil, false
	}
	switch t {
	case 1:
		p, ok := r.point()
		return p, ok
	case 2:
		l, ok := r.points()
		return orb.LineString(l), ok
	case 3:
		p, ok := r.polygon()
		return p, ok
	case 4:
		n, ok := r.count(21)
		if !ok {
			return nil, false
		}
		mp := make(orb.MultiPoint, n)
		for i := range mp {
			if !r.member(1) {
				return nil, false
			}
			if mp[i], ok = r.point(); !ok {
				return nil, false
			}
		}
		return mp, true
	case 5:
		n, ok := r.count(9)
		if !ok {
			return nil, false
		}
		ml := make(orb.MultiLineString, n)
		for i := range ml {
			if !r.member(2) {
				return nil, false
			}
			l, ok := r.points()
			if !ok {
				return nil, false
			}
			ml[i] = l
		}
		return ml, true
	case 6:
		n, ok := r.count(9)
		if !ok {
			return nil, false
		}
		mp := make(orb.MultiPolygon, n)
		for i := range mp {
			if !r.member(3) {
				return nil, false
			}
			if mp[i], ok = r.polygon(); !ok {
				return nil, false
			}
		}
		return mp, true
	}
	return nil, false
}
