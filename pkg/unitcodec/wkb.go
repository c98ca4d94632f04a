package unitcodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// A unit's geometry is stored as WKB by both stores: inside a GeoPackage geometry blob
// (a header, then ISO WKB) and, from PostGIS, as ST_AsBinary gives it. One decoder reads
// both, straight into orb with one allocation per list of points.

// WKB geometry type codes (ISO 19125 / SQL-MM).
const (
	wkbPoint              = 1
	wkbLineString         = 2
	wkbPolygon            = 3
	wkbMultiPoint         = 4
	wkbMultiLineString    = 5
	wkbMultiPolygon       = 6
	wkbGeometryCollection = 7
)

// MaxCollectionDepth bounds the nesting of geometry collections that ReadWKB follows, so
// that hostile bytes cannot exhaust the stack.
const MaxCollectionDepth = 32

// ErrWKB is the cause of every decoding error; the messages say where the bytes are bad.
var ErrWKB = errors.New("invalid WKB")

func badWKB(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrWKB, fmt.Sprintf(format, args...))
}

// AppendWKB appends the little-endian ISO WKB of g to dst.
func AppendWKB(dst []byte, g orb.Geometry) ([]byte, error) {
	switch g := g.(type) {
	case orb.Point:
		return appendPoint(dst, g), nil
	case orb.MultiPoint:
		return appendMulti(dst, wkbMultiPoint, g, appendPoint), nil
	case orb.LineString:
		return appendLineString(dst, g), nil
	case orb.MultiLineString:
		return appendMulti(dst, wkbMultiLineString, g, appendLineString), nil
	case orb.Ring:
		return appendPolygon(dst, orb.Polygon{g}), nil
	case orb.Polygon:
		return appendPolygon(dst, g), nil
	case orb.MultiPolygon:
		return appendMulti(dst, wkbMultiPolygon, g, appendPolygon), nil
	case orb.Collection:
		dst = appendHeader(dst, wkbGeometryCollection)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(g)))
		for _, c := range g {
			var err error
			if dst, err = AppendWKB(dst, c); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case orb.Bound:
		return appendPolygon(dst, g.ToPolygon()), nil
	}
	return dst, fmt.Errorf("unitcodec: cannot encode geometry type %T as WKB", g)
}

func appendFloat(dst []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
}

func appendHeader(dst []byte, typ uint32) []byte {
	dst = append(dst, 1) // little-endian
	return binary.LittleEndian.AppendUint32(dst, typ)
}

// appendMulti appends a multi-geometry of type typ: its header, its count and each part,
// which appendPart appends with the part's own header.
func appendMulti[T any](dst []byte, typ uint32, parts []T, appendPart func([]byte, T) []byte) []byte {
	dst = appendHeader(dst, typ)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(parts)))
	for _, p := range parts {
		dst = appendPart(dst, p)
	}
	return dst
}

func appendPoint(dst []byte, p orb.Point) []byte {
	dst = appendHeader(dst, wkbPoint)
	dst = appendFloat(dst, p[0])
	return appendFloat(dst, p[1])
}

func appendLineString(dst []byte, l orb.LineString) []byte {
	return appendPoints(appendHeader(dst, wkbLineString), l)
}

func appendPoints(dst []byte, ps []orb.Point) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(ps)))
	for _, p := range ps {
		dst = appendFloat(dst, p[0])
		dst = appendFloat(dst, p[1])
	}
	return dst
}

func appendPolygon(dst []byte, p orb.Polygon) []byte {
	dst = appendHeader(dst, wkbPolygon)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(p)))
	for _, r := range p {
		dst = appendPoints(dst, r)
	}
	return dst
}

// ReadWKB decodes the WKB geometry at the start of b and reports how many bytes it took.
// It reads either byte order, also mixed within one geometry, ISO Z, M and ZM types and
// PostGIS's EWKB flags (Z, M, an embedded SRID), which some writers leave in; Z and M
// values are dropped, because the register is two-dimensional. An empty point (NaN
// coordinates) decodes as a point with NaN coordinates, other empty geometries as empty
// orb values. Lists are never nil.
func ReadWKB(b []byte) (orb.Geometry, int, error) {
	d := wkbDecoder{b: b}
	g, err := d.geometry(0)
	return g, d.off, err
}

// ReadPlainWKB decodes b, which must be one plain two-dimensional point, line string,
// polygon or multi form of them, without NaN coordinates and without any byte left over:
// what a store writes for a unit. It reports false for anything else (for which ReadWKB
// may still give a geometry), so that a caller can hand such bytes to a decoder whose
// reading of them it must match.
func ReadPlainWKB(b []byte) (orb.Geometry, bool) {
	d := wkbDecoder{b: b, plain: true}
	g, err := d.geometry(0)
	return g, err == nil && d.off == len(b)
}

// wkbDecoder reads WKB from b. Every count is checked against the bytes that remain before
// anything is allocated, so the bytes cannot make the decoder allocate more than a few
// times their own size.
type wkbDecoder struct {
	b   []byte
	off int
	// plain refuses what ReadPlainWKB refuses.
	plain bool
}

// errPlain is what the plain decoder reports for what it leaves to others.
var errPlain = fmt.Errorf("%w: not plain two-dimensional WKB", ErrWKB)

func (d *wkbDecoder) need(n int) error {
	if n < 0 || len(d.b)-d.off < n {
		return badWKB("ends early at byte %d", d.off)
	}
	return nil
}

func (d *wkbDecoder) uint32(be bool) (uint32, error) {
	if err := d.need(4); err != nil {
		return 0, err
	}
	var v uint32
	if be {
		v = binary.BigEndian.Uint32(d.b[d.off:])
	} else {
		v = binary.LittleEndian.Uint32(d.b[d.off:])
	}
	d.off += 4
	return v, nil
}

// float reads the float at byte p, which must be in b.
func (d *wkbDecoder) float(be bool, p int) float64 {
	if be {
		return math.Float64frombits(binary.BigEndian.Uint64(d.b[p:]))
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(d.b[p:]))
}

// geomHeader reads a byte order (true for big-endian), a type and the coordinate dimension
// of one WKB geometry.
func (d *wkbDecoder) geomHeader() (bool, uint32, int, error) {
	if err := d.need(5); err != nil {
		return false, 0, 0, err
	}
	var be bool
	switch d.b[d.off] {
	case 0:
		be = true
	case 1:
	default:
		return false, 0, 0, badWKB("invalid byte order %d at byte %d", d.b[d.off], d.off)
	}
	d.off++
	t, _ := d.uint32(be)
	if d.plain {
		if t < wkbPoint || t > wkbMultiPolygon {
			return false, 0, 0, errPlain
		}
		return be, t, 2, nil
	}
	dims := 2
	// EWKB (PostGIS) flags: Z, M and an embedded SRID.
	if t&0x80000000 != 0 {
		dims++
	}
	if t&0x40000000 != 0 {
		dims++
	}
	if t&0x20000000 != 0 {
		if _, err := d.uint32(be); err != nil {
			return false, 0, 0, err
		}
	}
	t &^= 0xE0000000
	// ISO: 1000 Z, 2000 M, 3000 ZM.
	switch t / 1000 {
	case 0:
	case 1, 2:
		dims++
	case 3:
		dims += 2
	default:
		return false, 0, 0, badWKB("unknown geometry type %d", t)
	}
	t %= 1000
	if dims > 4 {
		return false, 0, 0, badWKB("geometry type has more than 4 dimensions")
	}
	return be, t, dims, nil
}

func (d *wkbDecoder) point(be bool, dims int) (orb.Point, error) {
	if err := d.need(8 * dims); err != nil {
		return orb.Point{}, err
	}
	p := orb.Point{d.float(be, d.off), d.float(be, d.off+8)}
	if d.plain && (math.IsNaN(p[0]) || math.IsNaN(p[1])) {
		return orb.Point{}, errPlain // an empty point
	}
	d.off += 8 * dims
	return p, nil
}

// count reads an element count and checks that at least minSize bytes per element remain.
func (d *wkbDecoder) count(be bool, minSize int) (int, error) {
	n, err := d.uint32(be)
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(minSize) > uint64(len(d.b)-d.off) {
		return 0, badWKB("count %d at byte %d exceeds the bytes", n, d.off-4)
	}
	return int(n), nil
}

func (d *wkbDecoder) points(be bool, dims int) ([]orb.Point, error) {
	n, err := d.count(be, 8*dims)
	if err != nil {
		return nil, err
	}
	ps := make([]orb.Point, n)
	p, step := d.off, 8*dims
	for i := range ps {
		x, y := d.float(be, p), d.float(be, p+8)
		if d.plain && (math.IsNaN(x) || math.IsNaN(y)) {
			return nil, errPlain
		}
		ps[i] = orb.Point{x, y}
		p += step
	}
	d.off = p
	return ps, nil
}

func (d *wkbDecoder) polygon(be bool, dims int) (orb.Polygon, error) {
	n, err := d.count(be, 4)
	if err != nil {
		return nil, err
	}
	p := make(orb.Polygon, n)
	for i := range p {
		ps, err := d.points(be, dims)
		if err != nil {
			return nil, err
		}
		p[i] = ps
	}
	return p, nil
}

// member reads the header of one element of a multi-geometry, which must be of type want.
func (d *wkbDecoder) member(want uint32) (bool, int, error) {
	be, t, dims, err := d.geomHeader()
	if err != nil {
		return false, 0, err
	}
	if t != want {
		return false, 0, badWKB("type %d inside a multi-geometry of type %d", t, want+3)
	}
	return be, dims, nil
}

// multi reads the count and members of a multi-geometry M, each a geometry of type want;
// minSize is the fewest bytes a member takes.
func multi[M interface {
	~[]T
	orb.Geometry
}, T any](d *wkbDecoder, be bool, minSize int, want uint32) (orb.Geometry, error) {
	n, err := d.count(be, minSize)
	if err != nil {
		return nil, err
	}
	m := make(M, n)
	for i := range m {
		o, dims, err := d.member(want)
		if err != nil {
			return nil, err
		}
		if err := d.memberBody(&m[i], o, dims); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// memberBody reads the body of a member of a multi-geometry into dst, a *orb.Point,
// *orb.LineString or *orb.Polygon. A type switch rather than a function value keeps the
// decoder on the stack.
func (d *wkbDecoder) memberBody(dst any, be bool, dims int) (err error) {
	switch dst := dst.(type) {
	case *orb.Point:
		*dst, err = d.point(be, dims)
	case *orb.LineString:
		*dst, err = d.points(be, dims)
	case *orb.Polygon:
		*dst, err = d.polygon(be, dims)
	}
	return err
}

func (d *wkbDecoder) geometry(depth int) (orb.Geometry, error) {
	be, t, dims, err := d.geomHeader()
	if err != nil {
		return nil, err
	}
	switch t {
	case wkbPoint:
		return d.point(be, dims)
	case wkbLineString:
		ps, err := d.points(be, dims)
		return orb.LineString(ps), err
	case wkbPolygon:
		return d.polygon(be, dims)
	case wkbMultiPoint:
		return multi[orb.MultiPoint](d, be, 5+16, wkbPoint)
	case wkbMultiLineString:
		return multi[orb.MultiLineString](d, be, 9, wkbLineString)
	case wkbMultiPolygon:
		return multi[orb.MultiPolygon](d, be, 9, wkbPolygon)
	case wkbGeometryCollection:
		if depth >= MaxCollectionDepth {
			return nil, badWKB("geometry collections nested more than %d deep", MaxCollectionDepth)
		}
		n, err := d.count(be, 5)
		if err != nil {
			return nil, err
		}
		c := make(orb.Collection, n)
		for i := range c {
			if c[i], err = d.geometry(depth + 1); err != nil {
				return nil, err
			}
		}
		return c, nil
	}
	return nil, badWKB("unsupported geometry type %d (curves are not supported)", t)
}
