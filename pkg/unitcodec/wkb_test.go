package unitcodec

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

var (
	testPoly = orb.Polygon{
		{{102.90, 24.60}, {102.95, 24.60}, {102.95, 24.65}, {102.90, 24.65}, {102.90, 24.60}},
		{{102.91, 24.61}, {102.91, 24.62}, {102.92, 24.62}, {102.92, 24.61}, {102.91, 24.61}},
	}
	// plainGeometries are what a unit may hold.
	plainGeometries = []orb.Geometry{
		orb.Point{102.91, 24.67}, orb.Point{-179.5, -89.25},
		orb.LineString{{102.90, 24.66}, {102.91, 24.665}, {102.92, 24.67}}, orb.LineString{},
		testPoly, orb.Polygon{},
		orb.MultiPoint{{102.9, 24.6}, {102.91, 24.61}}, orb.MultiPoint{},
		orb.MultiLineString{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}, {9, 10}}},
		orb.MultiPolygon{testPoly, {{{103, 24.7}, {103.01, 24.7}, {103.01, 24.71}, {103, 24.7}}}},
	}
)

func mustHex(t testing.TB, parts ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, p := range parts {
		b, err := hex.DecodeString(p)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
	}
	return buf.Bytes()
}

// wkbSeeds are the WKB of the geometries a unit holds in both byte orders, and of what
// other writers may put in a GeoPackage or PostGIS may print.
func wkbSeeds(t testing.TB) [][]byte {
	var out [][]byte
	for _, g := range append(plainGeometries, orb.Collection{orb.Point{1, 2}, orb.LineString{{1, 2}, {3, 4}}, orb.Collection{orb.Point{5, 6}}}) {
		for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			b, err := wkb.Marshal(g, order)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b, b[:len(b)-1], append(b[:len(b):len(b)], 0))
		}
	}
	return append(out,
		mustHex(t, "01", "e9030000", "000000000000f03f", "0000000000000040", "0000000000000840"),                     // ISO point Z
		mustHex(t, "01", "b90b0000", "000000000000f03f", "0000000000000040", "0000000000000840", "0000000000001040"), // ISO point ZM
		mustHex(t, "01", "01000080", "000000000000f03f", "0000000000000040", "0000000000000840"),                     // EWKB Z flag
		mustHex(t, "01", "01000020", "e6100000", "000000000000f03f", "0000000000000040"),                             // EWKB SRID
		mustHex(t, "01", "01000000", "000000000000f87f", "000000000000f87f"),                                         // empty point
		mustHex(t, "01", "04000000", "02000000", "01", "01000000", "000000000000f03f", "0000000000000040",
			"00", "00000001", "4008000000000000", "4010000000000000"), // mixed byte orders
		mustHex(t, "01", "02000000", "ffffffff"), // a count no bytes hold
		nil, []byte{1, 2, 0, 0, 0, 2, 0, 0, 0},
	)
}

// sameGeometry compares as printed with types, so that NaN equals NaN.
func sameGeometry(a, b orb.Geometry) bool { return fmt.Sprintf("%#v", a) == fmt.Sprintf("%#v", b) }

func TestWKBRoundTrip(t *testing.T) {
	for _, g := range append(plainGeometries, orb.Collection{orb.Point{1, 2}, orb.Collection{orb.Point{5, 6}}}) {
		t.Run(g.GeoJSONType()+"OK", func(t *testing.T) {
			b, err := AppendWKB(nil, g)
			if err != nil {
				t.Fatal(err)
			}
			got, n, err := ReadWKB(b)
			if err != nil || n != len(b) || !orb.Equal(got, g) {
				t.Fatalf("ReadWKB(AppendWKB(%v)) = %v, %d of %d bytes, %v", g, got, n, len(b), err)
			}
			// Standard ISO WKB: orb's own decoder reads the same geometry.
			if og, err := wkb.Unmarshal(b); err != nil || !orb.Equal(og, g) {
				t.Fatalf("orb reads %v, %v; want %v", og, err, g)
			}
		})
	}
}

// What other writers put in WKB reads as its two-dimensional geometry.
func TestReadWKBOtherWriters(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		want orb.Geometry
	}{
		{"ISOPointZDropsZ", mustHex(t, "01", "e9030000", "000000000000f03f", "0000000000000040", "0000000000000840"), orb.Point{1, 2}},
		{"ISOPointZMDropsZM", mustHex(t, "01", "b90b0000", "000000000000f03f", "0000000000000040", "0000000000000840", "0000000000001040"), orb.Point{1, 2}},
		{"EWKBZFlagDropsZ", mustHex(t, "01", "01000080", "000000000000f03f", "0000000000000040", "0000000000000840"), orb.Point{1, 2}},
		{"EWKBSRIDSkipped", mustHex(t, "01", "01000020", "e6100000", "000000000000f03f", "0000000000000040"), orb.Point{1, 2}},
		{"BigEndianLine", mustHex(t, "00", "00000002", "00000002", "3ff0000000000000", "4008000000000000", "4000000000000000", "4010000000000000"), orb.LineString{{1, 3}, {2, 4}}},
		{"MixedByteOrderMembers", mustHex(t, "01", "04000000", "02000000", "01", "01000000", "000000000000f03f", "0000000000000040",
			"00", "00000001", "4008000000000000", "4010000000000000"), orb.MultiPoint{{1, 2}, {3, 4}}},
	} {
		t.Run(tc.name+"OK", func(t *testing.T) {
			g, n, err := ReadWKB(tc.b)
			if err != nil || n != len(tc.b) || !orb.Equal(g, tc.want) {
				t.Fatalf("ReadWKB = %v, %d of %d bytes, %v; want %v", g, n, len(tc.b), err, tc.want)
			}
		})
	}
}

func TestReadWKBRejects(t *testing.T) {
	point, _ := AppendWKB(nil, orb.Point{1, 2})
	deep := []byte{}
	for i := 0; i <= MaxCollectionDepth; i++ {
		deep = append(deep, mustHex(t, "01", "07000000", "01000000")...)
	}
	deep = append(deep, point...)
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"ErrEmpty", nil},
		{"ErrTruncated", point[:len(point)-1]},
		{"ErrByteOrder", append([]byte{7}, point[1:]...)},
		{"ErrUnknownType", mustHex(t, "01", "63000000")},
		{"ErrCurveType", mustHex(t, "01", "08000000", "00000000")},
		{"ErrHugeCount", mustHex(t, "01", "02000000", "ffffffff")},
		{"ErrWrongMemberType", mustHex(t, "01", "04000000", "01000000", "01", "02000000", "00000000", "000000000000000000000000")},
		{"ErrDeepCollections", deep},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if g, _, err := ReadWKB(tc.b); !errors.Is(err, ErrWKB) {
				t.Fatalf("want an invalid-WKB error, got %v (geometry %v)", err, g)
			}
		})
	}
}

// ReadPlainWKB takes what a unit holds, and nothing that another decoder might read
// differently.
func TestReadPlainWKB(t *testing.T) {
	for _, g := range plainGeometries {
		for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			b, _ := wkb.Marshal(g, order)
			if got, ok := ReadPlainWKB(b); !ok || !orb.Equal(got, g) {
				t.Fatalf("ReadPlainWKB(%v, %v) = %v, %v", g, order, got, ok)
			}
		}
	}
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"ISOPointZ", mustHex(t, "01", "e9030000", "000000000000f03f", "0000000000000040", "0000000000000840")},
		{"EWKBZFlag", mustHex(t, "01", "01000080", "000000000000f03f", "0000000000000040", "0000000000000840")},
		{"EWKBSRID", mustHex(t, "01", "01000020", "e6100000", "000000000000f03f", "0000000000000040")},
		{"EmptyPoint", mustHex(t, "01", "01000000", "000000000000f87f", "000000000000f87f")},
		{"NaNInLine", mustHex(t, "01", "02000000", "01000000", "000000000000f87f", "0000000000000040")},
		{"Collection", mustHex(t, "01", "07000000", "00000000")},
		{"TrailingByte", mustHex(t, "01", "01000000", "000000000000f03f", "0000000000000040", "00")},
	} {
		t.Run("Refuses"+tc.name, func(t *testing.T) {
			if g, ok := ReadPlainWKB(tc.b); ok {
				t.Fatalf("ReadPlainWKB(%x) = %v, takes what is not plain", tc.b, g)
			}
		})
	}
}

// FuzzReadWKB feeds the decoder arbitrary bytes, as a GeoPackage handed to us by anyone
// may hold. It must never panic or allocate without bound; whatever it accepts must encode
// and decode again to the same geometry; and what the plain decoder accepts, ReadWKB and
// orb's own WKB decoder read the same.
func FuzzReadWKB(f *testing.F) {
	for _, b := range wkbSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		g, n, err := ReadWKB(b)
		if plain, ok := ReadPlainWKB(b); ok {
			if err != nil || n != len(b) || !sameGeometry(plain, g) {
				t.Fatalf("ReadPlainWKB(%x) = %#v; ReadWKB = %#v, %d of %d bytes, %v", b, plain, g, n, len(b), err)
			}
			if og, err := wkb.Unmarshal(b); err != nil || !orb.Equal(og, plain) {
				t.Fatalf("ReadPlainWKB(%x) = %#v; orb reads %#v, %v", b, plain, og, err)
			}
		}
		if err != nil {
			return
		}
		if n > len(b) {
			t.Fatalf("ReadWKB(%x) took %d bytes", b, n)
		}
		again, err := AppendWKB(nil, g)
		if err != nil {
			t.Fatalf("cannot re-encode a decoded geometry %v: %v", g, err)
		}
		g2, n2, err := ReadWKB(again)
		if err != nil || n2 != len(again) || !sameGeometry(g, g2) {
			t.Fatalf("re-encoding changed the geometry: %#v -> %#v (%v)", g, g2, err)
		}
	})
}

func TestRegionGeometry(t *testing.T) {
	for _, tc := range []struct {
		name string
		g    orb.Geometry
		want orb.MultiPolygon
	}{
		{"MultiPolygonOK", orb.MultiPolygon{testPoly}, orb.MultiPolygon{testPoly}},
		{"PolygonOK", testPoly, orb.MultiPolygon{testPoly}},
		{"ErrLineString", orb.LineString{{1, 2}, {3, 4}}, nil},
		{"ErrNil", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RegionGeometry(tc.g)
			if (err != nil) != (tc.want == nil) || !orb.Equal(got, tc.want) {
				t.Fatalf("RegionGeometry(%v) = %v, %v; want %v", tc.g, got, err, tc.want)
			}
		})
	}
}
