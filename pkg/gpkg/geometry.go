package gpkg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/paulmach/orb"

	"riskmap/pkg/unitcodec"
)

// SRSID is the spatial reference of every geometry column and blob of the store: WGS 84
// longitude/latitude.
const SRSID = 4326

// GeoPackage binary geometry (specification §2.1.3): "GP", version 0, a flags byte, the
// srs_id, an optional envelope, then ISO WKB, which unitcodec reads and writes. The store
// writes little-endian blobs with an xy envelope for everything but points (a point is its
// own envelope), and reads whatever a conforming writer (GDAL, QGIS, ArcGIS) puts there:
// either byte order, any envelope kind, and Z/M coordinates, which it drops because the
// register is 2D.

const (
	flagLittleEndian = 1 << 0
	flagEmpty        = 1 << 4
	flagExtended     = 1 << 5
	envelopeShift    = 1
	envelopeMask     = 7 << envelopeShift
)

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
	return unitcodec.AppendWKB(dst, g)
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
	g, n, err := unitcodec.ReadWKB(h.wkb)
	if err != nil {
		return nil, 0, badGeometry("%v", err)
	}
	if n != len(h.wkb) {
		return nil, 0, badGeometry("%d bytes after the WKB geometry", len(h.wkb)-n)
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
	g, _, err := unitcodec.ReadWKB(h.wkb)
	if err != nil {
		return orb.Bound{}, false, badGeometry("%v", err)
	}
	if isEmpty(g) {
		return orb.Bound{}, false, nil
	}
	return g.Bound(), true, nil
}
