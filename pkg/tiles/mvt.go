package tiles

import (
	"encoding/binary"
	"math"
	"slices"
	"sync"

	"github.com/paulmach/orb"
)

// layerWriter writes one MVT 2.1 layer straight into protobuf bytes. orb's encoding/mvt
// builds a map of properties and a message tree per feature, which at thousands of features
// per tile costs more in allocation than the rest of rendering; this writer appends into a
// few reused buffers. orb's decoder (and GDAL) read the result back in the tests.
//
// Geometry must already be in whole tile units with rings wound as MVT 2 wants (the
// projector sees to both).
type layerWriter struct {
	name   string
	extent uint32

	keys   []string            // a layer has a dozen keys at most: found by a scan, not a hash
	values []byte              // the layer's values, each an encoded field 4
	strIdx []map[string]uint32 // per key (by index): its string values written so far
	// recent holds each key's first few string values, compared before hashing: a
	// grade, a category or a status has only a few in a tile.
	recent []recentValues
	numIdx map[value]uint32 // numbers and booleans (s empty)
	nvals  uint32

	features []byte // the layer's features, each an encoded field 2
	count    int

	// Scratch for the feature being written.
	tags []uint32
	geom []uint32
	msg  []byte
}

// recentValues are the first string values of a key and their indexes.
type recentValues struct {
	n int
	s [8]string
	i [8]uint32
}

// value is a property value, as a key for sharing it between features.
type value struct {
	kind uint8 // 1 string, 5 uint, 6 sint, 7 bool
	s    string
	n    uint64
}

// Protobuf field numbers of vector_tile.proto.
const (
	tileLayers = 3

	layerName     = 1
	layerFeatures = 2
	layerKeys     = 3
	layerValues   = 4
	layerExtent   = 5
	layerVersion  = 15

	featureID   = 1
	featureTags = 2
	featureType = 3
	featureGeom = 4

	valueString = 1
	valueUint   = 5
	valueSint   = 6
	valueBool   = 7

	geomPoint      = 1
	geomLineString = 2
	geomPolygon    = 3

	cmdMoveTo    = 1
	cmdLineTo    = 2
	cmdClosePath = 7

	wireVarint = 0
	wireBytes  = 2
)

// layerWriters are reused from tile to tile: their buffers and maps, grown by the tiles
// before, are a third of what drawing a tile allocated.
var layerWriters = sync.Pool{New: func() any {
	return &layerWriter{numIdx: map[value]uint32{}}
}}

// maxPooledLayer is the most buffer a writer may hold to go back to the pool: one that
// drew an exceptional tile is left to the collector.
const maxPooledLayer = 1 << 20

// newLayerWriter starts a layer; release gives it back once its bytes are taken.
func newLayerWriter(name string, extent int) *layerWriter {
	w := layerWriters.Get().(*layerWriter)
	w.name, w.extent = name, uint32(extent)
	return w
}

// release empties w and gives it back for another tile. The bytes it returned are the
// caller's own copy.
func (w *layerWriter) release() {
	if cap(w.features)+cap(w.values) > maxPooledLayer {
		return
	}
	w.keys, w.values, w.nvals = w.keys[:0], w.values[:0], 0
	for _, m := range w.strIdx {
		clear(m)
	}
	clear(w.recent)
	clear(w.numIdx)
	w.features, w.count = w.features[:0], 0
	w.tags, w.geom, w.msg = w.tags[:0], w.geom[:0], w.msg[:0]
	layerWriters.Put(w)
}

// str, int and boolean add a property to the feature being written, sharing the value with
// any feature that has it already.
func (w *layerWriter) str(key, v string) { w.tag(key, value{kind: valueString, s: v}) }

// strMany is str for a key of many values that still repeat now and then (names): looked
// up by hash at once.
func (w *layerWriter) strMany(key, v string) {
	ki := w.keyIndex(key)
	m := w.stringValues(ki)
	vi, ok := m[v]
	if !ok {
		vi = w.addValue(value{kind: valueString, s: v})
		m[v] = vi
	}
	w.tags = append(w.tags, uint32(ki), vi)
}

// stringValues is the map of key index ki's string values.
func (w *layerWriter) stringValues(ki int) map[string]uint32 {
	for len(w.strIdx) <= ki {
		w.strIdx = append(w.strIdx, map[string]uint32{})
		w.recent = append(w.recent, recentValues{})
	}
	return w.strIdx[ki]
}

// uniqueStr and uniqueInt add a property whose value is (nearly) unique to the feature —
// ids, names, codes — without looking for it among the values: the lookup would cost more
// than the rare repeat saves.
func (w *layerWriter) uniqueStr(key, v string) {
	w.tagIndex(key, w.addValue(value{kind: valueString, s: v}))
}

func (w *layerWriter) uniqueInt(key string, v int64) {
	if v < 0 {
		w.int(key, v)
		return
	}
	w.tagIndex(key, w.addValue(value{kind: valueUint, n: uint64(v)}))
}

func (w *layerWriter) int(key string, v int64) {
	if v < 0 {
		w.tag(key, value{kind: valueSint, n: uint64(v<<1) ^ uint64(v>>63)})
		return
	}
	w.tag(key, value{kind: valueUint, n: uint64(v)})
}

func (w *layerWriter) boolean(key string, v bool) {
	n := uint64(0)
	if v {
		n = 1
	}
	w.tag(key, value{kind: valueBool, n: n})
}

func (w *layerWriter) tag(key string, v value) {
	ki := w.keyIndex(key)
	var vi uint32
	var ok bool
	if v.kind == valueString {
		// One small map per key: a grade's or a category's few values stay in the cache
		// instead of sharing one map with every name of the tile.
		m := w.stringValues(ki)
		r := &w.recent[ki]
		for j := range r.n {
			if r.s[j] == v.s {
				w.tags = append(w.tags, uint32(ki), r.i[j])
				return
			}
		}
		if vi, ok = m[v.s]; !ok {
			vi = w.addValue(v)
			if r.n < len(r.s) {
				r.s[r.n], r.i[r.n] = v.s, vi
				r.n++
			} else {
				m[v.s] = vi
			}
		}
	} else if vi, ok = w.numIdx[v]; !ok {
		vi = w.addValue(v)
		w.numIdx[v] = vi
	}
	w.tags = append(w.tags, uint32(ki), vi)
}

func (w *layerWriter) tagIndex(key string, vi uint32) {
	w.tags = append(w.tags, uint32(w.keyIndex(key)), vi)
}

// keyIndex is the index of key in the layer's keys, added if new.
func (w *layerWriter) keyIndex(key string) int {
	ki := slices.Index(w.keys, key)
	if ki < 0 {
		ki = len(w.keys)
		w.keys = append(w.keys, key)
	}
	return ki
}

// addValue appends a value to the layer's and returns its index.
func (w *layerWriter) addValue(v value) uint32 {
	var m []byte
	if v.kind == valueString {
		m = appendStringField(w.msg[:0], valueString, v.s)
	} else {
		m = appendVarintField(w.msg[:0], int(v.kind), v.n)
	}
	w.values = appendBytesField(w.values, layerValues, m)
	w.msg = m
	w.nvals++
	return w.nvals - 1
}

// size is at least the number of bytes the tile would have if it ended now.
func (w *layerWriter) size() int {
	n := len(w.features) + len(w.values) + len(w.name) + 32
	for _, k := range w.keys {
		n += len(k) + 8
	}
	return n
}

// feature finishes the feature whose properties were just added, with geometry g (in tile
// units) and, when hasID, an id. A geometry that encodes to nothing drops the feature.
func (w *layerWriter) feature(id uint64, hasID bool, g orb.Geometry) {
	w.finish(id, hasID, w.encodeGeometry(g))
}

// pointFeature is feature for a point, q in whole tile units: what feature writes for an
// orb.Point, without boxing it.
func (w *layerWriter) pointFeature(id uint64, hasID bool, q orb.Point) {
	w.geom = w.geom[:0]
	var cx, cy int64
	w.geom = append(w.geom, command(cmdMoveTo, 1))
	w.point(q, &cx, &cy)
	w.finish(id, hasID, geomPoint)
}

// finish writes the feature whose tags and geometry commands are in w.tags and w.geom, of
// MVT geometry type typ (0: nothing to draw, the feature is dropped).
func (w *layerWriter) finish(id uint64, hasID bool, typ int) {
	if typ == 0 {
		w.tags = w.tags[:0]
		return
	}
	m := w.msg[:0]
	if hasID {
		m = appendVarintField(m, featureID, id)
	}
	m = appendPacked(m, featureTags, w.tags)
	m = appendVarintField(m, featureType, uint64(typ))
	m = appendPacked(m, featureGeom, w.geom)
	w.features = appendBytesField(w.features, layerFeatures, m)
	w.msg = m
	w.tags = w.tags[:0]
	w.count++
}

// encodeGeometry turns g into drawing commands in w.geom and returns the MVT geometry type
// (0 when there is nothing to draw).
func (w *layerWriter) encodeGeometry(g orb.Geometry) int {
	w.geom = w.geom[:0]
	var cx, cy int64 // the cursor carries over from part to part
	moveTo := func(p orb.Point) {
		w.geom = append(w.geom, command(cmdMoveTo, 1))
		w.point(p, &cx, &cy)
	}
	lineTo := func(ps []orb.Point) {
		w.geom = append(w.geom, command(cmdLineTo, len(ps)))
		for _, p := range ps {
			w.point(p, &cx, &cy)
		}
	}
	line := func(l orb.LineString) {
		if len(l) >= 2 {
			moveTo(l[0])
			lineTo(l[1:])
		}
	}
	polygon := func(p orb.Polygon) {
		for _, r := range p {
			n := len(r)
			if n > 0 && r[0] == r[n-1] {
				n-- // ClosePath draws the closing edge
			}
			if n < 3 {
				continue
			}
			moveTo(r[0])
			lineTo(r[1:n])
			w.geom = append(w.geom, command(cmdClosePath, 1))
		}
	}
	switch g := g.(type) {
	case orb.Point:
		moveTo(g)
	case orb.MultiPoint:
		if len(g) > 0 {
			w.geom = append(w.geom, command(cmdMoveTo, len(g)))
			for _, p := range g {
				w.point(p, &cx, &cy)
			}
		}
	case orb.LineString:
		line(g)
	case orb.MultiLineString:
		for _, l := range g {
			line(l)
		}
	case orb.Polygon:
		polygon(g)
	case orb.MultiPolygon:
		for _, p := range g {
			polygon(p)
		}
	default:
		return 0
	}
	if len(w.geom) == 0 {
		return 0 // no points, or every line or ring was too short
	}
	return geomType(g)
}

// geomType is the MVT geometry type of g. A type switch, not g.Dimensions(): calling a
// method of g would make every caller's geometry escape to the heap.
func geomType(g orb.Geometry) int {
	switch g.(type) {
	case orb.Point, orb.MultiPoint:
		return geomPoint
	case orb.LineString, orb.MultiLineString:
		return geomLineString
	case orb.Polygon, orb.MultiPolygon:
		return geomPolygon
	}
	return 0
}

// point appends one point as a zigzag delta from the cursor.
func (w *layerWriter) point(p orb.Point, cx, cy *int64) {
	x, y := int64(math.Round(p[0])), int64(math.Round(p[1]))
	dx, dy := x-*cx, y-*cy
	*cx, *cy = x, y
	w.geom = append(w.geom, zigzag32(dx), zigzag32(dy))
}

func command(id, count int) uint32 { return uint32(id&7) | uint32(count)<<3 }

func zigzag32(v int64) uint32 {
	n := int32(v)
	return uint32(n<<1) ^ uint32(n>>31)
}

// bytes returns the whole tile (just this layer), or nil when it has no features.
func (w *layerWriter) bytes() []byte {
	if w.count == 0 {
		return nil
	}
	// The layer's small fields are put together first, then the tile is written once, at
	// its size.
	head := appendStringField(w.msg[:0], layerName, w.name)
	nh := len(head)
	for _, k := range w.keys {
		head = appendStringField(head, layerKeys, k)
	}
	nk := len(head)
	head = appendVarintField(head, layerExtent, uint64(w.extent))
	head = appendVarintField(head, layerVersion, 2)
	w.msg = head
	n := len(head) + len(w.features) + len(w.values)
	out := make([]byte, 0, n+binary.MaxVarintLen64+1)
	out = binary.AppendUvarint(appendKey(out, tileLayers, wireBytes), uint64(n))
	out = append(out, head[:nh]...)
	out = append(out, w.features...)
	out = append(out, head[nh:nk]...)
	out = append(out, w.values...)
	return append(out, head[nk:]...)
}

func appendKey(b []byte, field, wire int) []byte {
	return binary.AppendUvarint(b, uint64(field)<<3|uint64(wire))
}

func appendVarintField(b []byte, field int, v uint64) []byte {
	return binary.AppendUvarint(appendKey(b, field, wireVarint), v)
}

func appendBytesField(b []byte, field int, v []byte) []byte {
	b = binary.AppendUvarint(appendKey(b, field, wireBytes), uint64(len(v)))
	return append(b, v...)
}

func appendStringField(b []byte, field int, v string) []byte {
	b = binary.AppendUvarint(appendKey(b, field, wireBytes), uint64(len(v)))
	return append(b, v...)
}

func appendPacked(b []byte, field int, vs []uint32) []byte {
	n := 0
	for _, v := range vs {
		n += uvarintLen(uint64(v))
	}
	b = binary.AppendUvarint(appendKey(b, field, wireBytes), uint64(n))
	for _, v := range vs {
		b = binary.AppendUvarint(b, uint64(v))
	}
	return b
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
