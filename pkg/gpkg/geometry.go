package gpkg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"
)

// SRSID is the spatial reference of every geometry column and blob of the store: WGS 84
// longitude/latitude.
const SRSID = 4326

// GeoPackage binary geometry (specification §2.1.3): "GP", version 0, a flags byte, the
// srs_id, an optional envelope, then ISO WKB. The store writes little-endian blobs with an
// xy envelope for everything but points (a point is its own envelope), and reads whatever a
// conforming writer (GDAL, QGIS, ArcGIS) puts there: either byte order, any envelope kind,
// and Z/M coordinates, which it drops because the register is 2D.

const (
	flagLittleEndian = 1 << 0
	flagEmpty        = 1 << 4
	flagExtended     = 1 << 5
	envelopeShift    = 1
	envelopeMask     = 7 << envelopeShift
)

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

// maxCollectionDepth bounds the nesting of geometry collections that the decoder follows,
// so that a hostile blob cannot exhaust the stack.
const maxCollectionDepth = 32

// errGeometry is the cause of every decoding error; the messages say where the blob is bad.
var errGeometry = errors.New("invalid GeoPackage geometry")

func badGeometry(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errGeometry, fmt.Sprintf(format, args...))
}

// EncodeGeometry returns the GeoPackage binary encoding of g with the given srs_id.
func EncodeGeometry(g orb.Geometry, srsID int32) ([]byte, error) {
	return AppendGeometry(nil, g, srsID)
}

// AppendGeometry appends the GeoPackage binary encoding of g to dst. Bulk loads reuse one
// buffer for every row.
func AppendGeometry(dst []byte, g orb.Geometry, srsID int32) ([]byte, error) {
	switch v := g.(type) {
	case nil:
		return dst, fmt.Errorf("gpkg: cannot encode a nil geometry")
	case orb.Ring:
		g = orb.Polygon{v}
	case orb.Bound:
		g = v.ToPolygon()
	}
	empty := isEmpty(g)
	_, isPoint := g.(orb.Point)
	flags := byte(flagLittleEndian)
	withEnvelope := !empty && !isPoint
	if withEnvelope {
		flags |= 1 << envelopeShift // envelope [minx, maxx, miny, maxy]
	}
	if empty {
		flags |= flagEmpty
	}
	dst = append(dst, 'G', 'P', 0, flags)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(srsID))
	if withEnvelope {
		b := g.Bound()
		dst = appendFloat(dst, b.Min[0])
		dst = appendFloat(dst, b.Max[0])
		dst = appendFloat(dst, b.Min[1])
		dst = appendFloat(dst, b.Max[1])
	}
	return appendWKB(dst, g)
}

// isEmpty reports whether g has no coordinates. A point is empty when its coordinates are
// NaN, which is how WKB spells an empty point.
func isEmpty(g orb.Geometry) bool {
	switch g := g.(type) {
	case orb.Point:
		return math.IsNaN(g[0]) && math.IsNaN(g[1])
	case orb.MultiPoint:
		return len(g) == 0
	case orb.LineString:
		return len(g) == 0
	case orb.MultiLineString:
		for _, l := range g {
			if len(l) > 0 {
				return false
			}
		}
		return true
	case orb.Polygon:
		for _, r := range g {
			if len(r) > 0 {
				return false
			}
		}
		return true
	case orb.MultiPolygon:
		for _, p := range g {
			if !isEmpty(p) {
				return false
			}
		}
		return true
	case orb.Collection:
		for _, c := range g {
			if !isEmpty(c) {
				return false
			}
		}
		return true
	}
	return false
}

func appendFloat(dst []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
}

func appendHeader(dst []byte, typ uint32) []byte {
	dst = append(dst, 1) // little-endian
	return binary.LittleEndian.AppendUint32(dst, typ)
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

// appendWKB appends the little-endian ISO WKB of g.
func appendWKB(dst []byte, g orb.Geometry) ([]byte, error) {
	switch g := g.(type) {
	case orb.Point:
		dst = appendHeader(dst, wkbPoint)
		dst = appendFloat(dst, g[0])
		return appendFloat(dst, g[1]), nil
	case orb.MultiPoint:
		dst = appendHeader(dst, wkbMultiPoint)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(g)))
		for _, p := range g {
			dst = appendHeader(dst, wkbPoint)
			dst = appendFloat(dst, p[0])
			dst = appendFloat(dst, p[1])
		}
		return dst, nil
	case orb.LineString:
		dst = appendHeader(dst, wkbLineString)
		return appendPoints(dst, g), nil
	case orb.MultiLineString:
		dst = appendHeader(dst, wkbMultiLineString)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(g)))
		for _, l := range g {
			dst = appendHeader(dst, wkbLineString)
			dst = appendPoints(dst, l)
		}
		return dst, nil
	case orb.Ring:
		return appendPolygon(dst, orb.Polygon{g}), nil
	case orb.Polygon:
		return appendPolygon(dst, g), nil
	case orb.MultiPolygon:
		dst = appendHeader(dst, wkbMultiPolygon)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(g)))
		for _, p := range g {
			dst = appendPolygon(dst, p)
		}
		return dst, nil
	case orb.Collection:
		dst = appendHeader(dst, wkbGeometryCollection)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(g)))
		for _, c := range g {
			var err error
			if dst, err = appendWKB(dst, c); err != nil {
				return dst, err
			}
		}
		return dst, nil
	case orb.Bound:
		return appendPolygon(dst, g.ToPolygon()), nil
	}
	return dst, fmt.Errorf("gpkg: cannot encode geometry type %T", g)
}

// header is the parsed fixed part of a GeoPackage geometry blob.
type header struct {
	srsID       int32
	empty       bool
	hasEnvelope bool
	envelope    orb.Bound
	wkb         []byte // the standard WKB that follows the header
}

// envelopeSizes is the envelope length in bytes for each envelope contents indicator.
var envelopeSizes = [...]int{0, 32, 48, 48, 64}

// parseHeader reads the GeoPackage header of b without touching the WKB.
func parseHeader(b []byte) (header, error) {
	var h header
	if len(b) < 8 {
		return h, badGeometry("blob of %d bytes is shorter than the 8-byte header", len(b))
	}
	if b[0] != 'G' || b[1] != 'P' {
		return h, badGeometry("missing GP magic")
	}
	if b[2] != 0 {
		return h, badGeometry("unsupported version %d", b[2])
	}
	flags := b[3]
	if flags&flagExtended != 0 {
		return h, badGeometry("extended geometry types are not supported")
	}
	var order binary.ByteOrder = binary.BigEndian
	if flags&flagLittleEndian != 0 {
		order = binary.LittleEndian
	}
	h.srsID = int32(order.Uint32(b[4:8]))
	h.empty = flags&flagEmpty != 0
	env := int(flags&envelopeMask) >> envelopeShift
	if env >= len(envelopeSizes) {
		return h, badGeometry("invalid envelope indicator %d", env)
	}
	n := envelopeSizes[env]
	if len(b) < 8+n {
		return h, badGeometry("blob ends inside the envelope")
	}
	if env > 0 {
		e := b[8:]
		f := func(i int) float64 { return math.Float64frombits(order.Uint64(e[8*i:])) }
		// The envelope is [minx, maxx, miny, maxy, (minz, maxz | minm, maxm)...].
		h.envelope = orb.Bound{Min: orb.Point{f(0), f(2)}, Max: orb.Point{f(1), f(3)}}
		h.hasEnvelope = !math.IsNaN(f(0)) && !math.IsNaN(f(1)) && !math.IsNaN(f(2)) && !math.IsNaN(f(3))
	}
	h.wkb = b[8+n:]
	return h, nil
}

// DecodeGeometry decodes a GeoPackage geometry blob. It returns the geometry and the srs_id
// written in the blob. Z and M values are dropped. An empty point decodes as a point with NaN
// coordinates; other empty geometries as empty orb values.
func DecodeGeometry(b []byte) (orb.Geometry, int32, error) {
	h, err := parseHeader(b)
	if err != nil {
		return nil, 0, err
	}
	d := wkbDecoder{b: h.wkb}
	g, err := d.geometry(0)
	if err != nil {
		return nil, 0, err
	}
	if d.off != len(d.b) {
		return nil, 0, badGeometry("%d bytes after the WKB geometry", len(d.b)-d.off)
	}
	return g, h.srsID, nil
}

// bound returns the envelope of the blob's geometry and false if it is empty. It uses the
// header's envelope when there is one and reads a point's coordinates directly, so the common
// cases never decode the whole geometry.
func bound(b []byte) (orb.Bound, bool, error) {
	h, err := parseHeader(b)
	if err != nil {
		return orb.Bound{}, false, err
	}
	if h.empty {
		return orb.Bound{}, false, nil
	}
	if h.hasEnvelope {
		return h.envelope, true, nil
	}
	d := wkbDecoder{b: h.wkb}
	g, err := d.geometry(0)
	if err != nil {
		return orb.Bound{}, false, err
	}
	if isEmpty(g) {
		return orb.Bound{}, false, nil
	}
	return g.Bound(), true, nil
}

// wkbDecoder reads WKB from b. Every count is checked against the bytes that remain before
// anything is allocated, so a blob cannot make the decoder allocate more than a few times its
// own size.
type wkbDecoder struct {
	b   []byte
	off int
}

func (d *wkbDecoder) need(n int) error {
	if n < 0 || len(d.b)-d.off < n {
		return badGeometry("WKB ends early at byte %d", d.off)
	}
	return nil
}

func (d *wkbDecoder) uint32(order binary.ByteOrder) (uint32, error) {
	if err := d.need(4); err != nil {
		return 0, err
	}
	v := order.Uint32(d.b[d.off:])
	d.off += 4
	return v, nil
}

// geomHeader reads a byte order, a type and the coordinate dimension of one WKB geometry.
func (d *wkbDecoder) geomHeader() (binary.ByteOrder, uint32, int, error) {
	if err := d.need(5); err != nil {
		return nil, 0, 0, err
	}
	var order binary.ByteOrder
	switch d.b[d.off] {
	case 0:
		order = binary.BigEndian
	case 1:
		order = binary.LittleEndian
	default:
		return nil, 0, 0, badGeometry("invalid WKB byte order %d at byte %d", d.b[d.off], d.off)
	}
	d.off++
	t, _ := d.uint32(order)
	dims := 2
	// EWKB (PostGIS) flags, which some writers leave in: Z, M and an embedded SRID.
	if t&0x80000000 != 0 {
		dims++
	}
	if t&0x40000000 != 0 {
		dims++
	}
	if t&0x20000000 != 0 {
		if _, err := d.uint32(order); err != nil {
			return nil, 0, 0, err
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
		return nil, 0, 0, badGeometry("unknown WKB geometry type %d", t)
	}
	t %= 1000
	if dims > 4 {
		return nil, 0, 0, badGeometry("WKB geometry type has more than 4 dimensions")
	}
	return order, t, dims, nil
}

func (d *wkbDecoder) point(order binary.ByteOrder, dims int) (orb.Point, error) {
	if err := d.need(8 * dims); err != nil {
		return orb.Point{}, err
	}
	x := math.Float64frombits(order.Uint64(d.b[d.off:]))
	y := math.Float64frombits(order.Uint64(d.b[d.off+8:]))
	d.off += 8 * dims
	return orb.Point{x, y}, nil
}

// count reads an element count and checks that at least minSize bytes per element remain.
func (d *wkbDecoder) count(order binary.ByteOrder, minSize int) (int, error) {
	n, err := d.uint32(order)
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(minSize) > uint64(len(d.b)-d.off) {
		return 0, badGeometry("count %d at byte %d exceeds the blob", n, d.off-4)
	}
	return int(n), nil
}

func (d *wkbDecoder) points(order binary.ByteOrder, dims int) ([]orb.Point, error) {
	n, err := d.count(order, 8*dims)
	if err != nil {
		return nil, err
	}
	ps := make([]orb.Point, n)
	for i := range ps {
		ps[i], _ = d.point(order, dims)
	}
	return ps, nil
}

func (d *wkbDecoder) polygon(order binary.ByteOrder, dims int) (orb.Polygon, error) {
	n, err := d.count(order, 4)
	if err != nil {
		return nil, err
	}
	p := make(orb.Polygon, n)
	for i := range p {
		ps, err := d.points(order, dims)
		if err != nil {
			return nil, err
		}
		p[i] = ps
	}
	return p, nil
}

// member reads one element of a multi-geometry, which must be of type want.
func (d *wkbDecoder) member(want uint32) (binary.ByteOrder, int, error) {
	order, t, dims, err := d.geomHeader()
	if err != nil {
		return nil, 0, err
	}
	if t != want {
		return nil, 0, badGeometry("WKB type %d inside a multi-geometry of type %d", t, want+3)
	}
	return order, dims, nil
}

func (d *wkbDecoder) geometry(depth int) (orb.Geometry, error) {
	order, t, dims, err := d.geomHeader()
	if err != nil {
		return nil, err
	}
	switch t {
	case wkbPoint:
		return d.point(order, dims)
	case wkbLineString:
		ps, err := d.points(order, dims)
		return orb.LineString(ps), err
	case wkbPolygon:
		return d.polygon(order, dims)
	case wkbMultiPoint:
		n, err := d.count(order, 5+16)
		if err != nil {
			return nil, err
		}
		mp := make(orb.MultiPoint, n)
		for i := range mp {
			o, dm, err := d.member(wkbPoint)
			if err != nil {
				return nil, err
			}
			if mp[i], err = d.point(o, dm); err != nil {
				return nil, err
			}
		}
		return mp, nil
	case wkbMultiLineString:
		n, err := d.count(order, 9)
		if err != nil {
			return nil, err
		}
		ml := make(orb.MultiLineString, n)
		for i := range ml {
			o, dm, err := d.member(wkbLineString)
			if err != nil {
				return nil, err
			}
			ps, err := d.points(o, dm)
			if err != nil {
				return nil, err
			}
			ml[i] = ps
		}
		return ml, nil
	case wkbMultiPolygon:
		n, err := d.count(order, 9)
		if err != nil {
			return nil, err
		}
		mp := make(orb.MultiPolygon, n)
		for i := range mp {
			o, dm, err := d.member(wkbPolygon)
			if err != nil {
				return nil, err
			}
			if mp[i], err = d.polygon(o, dm); err != nil {
				return nil, err
			}
		}
		return mp, nil
	case wkbGeometryCollection:
		if depth >= maxCollectionDepth {
			return nil, badGeometry("geometry collections nested more than %d deep", maxCollectionDepth)
		}
		n, err := d.count(order, 5)
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
	return nil, badGeometry("unsupported WKB geometry type %d (curves are not supported)", t)
}
