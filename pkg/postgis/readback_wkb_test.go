package postgis

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/paulmach/orb"
	geom "github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/wkb"
	"github.com/twpayne/go-geom/encoding/wkbcommon"
)

// wkbSeeds are the WKB of the geometries the register holds, in both byte orders, and of
// those readWKB leaves to decodeWKB.
func wkbSeeds(t testing.TB) [][]byte {
	poly := orb.Polygon{{{102.90, 24.60}, {102.95, 24.60}, {102.95, 24.65}, {102.90, 24.60}},
		{{102.91, 24.61}, {102.91, 24.62}, {102.92, 24.62}, {102.91, 24.61}}}
	var out [][]byte
	for _, g := range []orb.Geometry{
		orb.Point{102.91, 24.67}, orb.Point{-180, 90},
		orb.MultiPoint{{102.9, 24.6}, {102.91, 24.61}}, orb.MultiPoint{},
		orb.LineString{{102.90, 24.66}, {102.91, 24.665}, {102.92, 24.67}}, orb.LineString{},
		orb.MultiLineString{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}, {9, 10}}},
		poly, orb.Polygon{},
		orb.MultiPolygon{poly, {{{103.0, 24.7}, {103.01, 24.7}, {103.01, 24.71}, {103.0, 24.7}}}},
		orb.Collection{orb.Point{1, 2}, orb.LineString{{1, 2}, {3, 4}}},
	} {
		gg, err := toGeom(g)
		if err != nil {
			t.Fatal(err)
		}
		for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			b, err := wkb.Marshal(gg, order)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b, b[:len(b)-1], append(b[:len(b):len(b)], 0))
		}
	}
	for _, gg := range []geom.T{
		geom.NewLineStringFlat(geom.XYZ, []float64{1, 2, 3, 4, 5, 6}),
		geom.NewPointFlat(geom.XYM, []float64{1, 2, 3}),
		geom.NewPolygonFlat(geom.XYZM, []float64{0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1}, []int{16}),
	} {
		b, err := wkb.Marshal(gg, binary.LittleEndian)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	nan := binary.LittleEndian.AppendUint32([]byte{1}, 1)
	nan = binary.LittleEndian.AppendUint64(nan, math.Float64bits(math.NaN()))
	nan = binary.LittleEndian.AppendUint64(nan, math.Float64bits(math.NaN()))
	mixed := binary.BigEndian.AppendUint32([]byte{0}, 4) // a big-endian multipoint of a little-endian point
	mixed = binary.BigEndian.AppendUint32(mixed, 1)
	mixed = append(mixed, 1)
	mixed = binary.LittleEndian.AppendUint32(mixed, 1)
	mixed = binary.LittleEndian.AppendUint64(mixed, math.Float64bits(1.5))
	mixed = binary.LittleEndian.AppendUint64(mixed, math.Float64bits(2.5))
	return append(out, nan, mixed, nil, []byte{1, 2, 0, 0, 0, 255, 255, 255, 255}, []byte{1, 2, 0, 0, 0, 2, 0, 0, 0})
}

// boundGoGeom makes go-geom refuse counts that no small input can hold, as readWKB does
// by itself: otherwise a count of 2³² points makes decodeWKB allocate 64 GiB before it
// finds the input short.
func boundGoGeom(t testing.TB) {
	saved := wkbcommon.MaxGeometryElements
	wkbcommon.MaxGeometryElements = [4]int{0, 1 << 16, 1 << 16, 1 << 16}
	t.Cleanup(func() { wkbcommon.MaxGeometryElements = saved })
}

// readWKB gives what decodeWKB gives, geometry or error.
func TestReadWKBMatchesDecodeWKB(t *testing.T) {
	boundGoGeom(t)
	for _, b := range wkbSeeds(t) {
		checkReadWKB(t, b)
	}
}

func FuzzReadWKB(f *testing.F) {
	for _, b := range wkbSeeds(f) {
		f.Add(b)
	}
	boundGoGeom(f)
	f.Fuzz(checkReadWKB)
}

func checkReadWKB(t *testing.T, b []byte) {
	got, err := readWKB(b)
	want, werr := decodeWKB(b)
	// Printed with their types, so that NaN equals NaN.
	if (err == nil) != (werr == nil) || fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
		t.Fatalf("readWKB(%x) = %#v, %v; decodeWKB gives %#v, %v", b, got, err, want, werr)
	}
}
