package gpkg

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"riskmap/pkg/unitcodec"
)

var (
	testPoly = orb.Polygon{
		{{102.90, 24.60}, {102.95, 24.60}, {102.95, 24.65}, {102.90, 24.65}, {102.90, 24.60}},
		{{102.91, 24.61}, {102.91, 24.62}, {102.92, 24.62}, {102.92, 24.61}, {102.91, 24.61}},
	}
	testGeometries = []struct {
		name string
		g    orb.Geometry
	}{
		{"Point", orb.Point{102.91, 24.67}},
		{"PointNegative", orb.Point{-179.5, -89.25}},
		{"LineString", orb.LineString{{102.90, 24.66}, {102.91, 24.665}, {102.92, 24.67}}},
		{"Polygon", testPoly},
		{"MultiPoint", orb.MultiPoint{{102.9, 24.6}, {102.91, 24.61}}},
		{"MultiLineString", orb.MultiLineString{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}, {9, 10}}}},
		{"MultiPolygon", orb.MultiPolygon{testPoly, {{{103, 24.7}, {103.01, 24.7}, {103.01, 24.71}, {103, 24.7}}}}},
		{"Collection", orb.Collection{orb.Point{1, 2}, orb.LineString{{1, 2}, {3, 4}}, orb.Collection{orb.Point{5, 6}}}},
	}
)

func TestGeometryRoundTrip(t *testing.T) {
	for _, tc := range testGeometries {
		t.Run(tc.name+"OK", func(t *testing.T) {
			b, err := EncodeGeometry(tc.g, SRSID)
			if err != nil {
				t.Fatal(err)
			}
			g, srs, err := DecodeGeometry(b)
			if err != nil {
				t.Fatal(err)
			}
			if srs != SRSID || !orb.Equal(g, tc.g) {
				t.Fatalf("round trip: want %v (srs %d), got %v (srs %d)", tc.g, SRSID, g, srs)
			}
			// The WKB part is standard ISO WKB: orb's own decoder reads the same geometry.
			h, err := parseHeader(b)
			if err != nil {
				t.Fatal(err)
			}
			og, err := wkb.Unmarshal(h.wkb)
			if err != nil {
				t.Fatalf("orb cannot read our WKB: %v", err)
			}
			if !orb.Equal(og, tc.g) {
				t.Fatalf("orb reads %v, want %v", og, tc.g)
			}
		})
	}
}

// TestGeometryHeader pins the bytes readers rely on: magic, version, flags (little-endian,
// envelope kind), srs_id and the [minx, maxx, miny, maxy] envelope.
func TestGeometryHeader(t *testing.T) {
	t.Run("PointHasNoEnvelope", func(t *testing.T) {
		b, _ := EncodeGeometry(orb.Point{1.5, 2.5}, SRSID)
		want := "47500001" + "e6100000" + // GP, v0, flags 0b00000001, 4326 LE
			"01" + "01000000" + "000000000000f83f" + "0000000000000440"
		if got := hex.EncodeToString(b); got != want {
			t.Fatalf("point blob:\nwant %s\n got %s", want, got)
		}
	})
	t.Run("LineHasXYEnvelope", func(t *testing.T) {
		b, _ := EncodeGeometry(orb.LineString{{3, 10}, {1, 20}}, SRSID)
		if b[3] != 0b00000011 {
			t.Fatalf("flags: want envelope 1, little-endian, got %08b", b[3])
		}
		var env [4]float64
		for i := range env {
			env[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8+8*i:]))
		}
		if env != [4]float64{1, 3, 10, 20} {
			t.Fatalf("envelope: want [minx maxx miny maxy] = [1 3 10 20], got %v", env)
		}
	})
	t.Run("EmptyFlag", func(t *testing.T) {
		for _, g := range []orb.Geometry{orb.LineString{}, orb.MultiPolygon{}, orb.Point{math.NaN(), math.NaN()}} {
			b, err := EncodeGeometry(g, SRSID)
			if err != nil {
				t.Fatal(err)
			}
			if b[3] != 0b00010001 {
				t.Fatalf("%T: flags: want empty, no envelope, got %08b", g, b[3])
			}
			if _, ok, err := bound(b); ok || err != nil {
				t.Fatalf("%T: an empty geometry has no bound (err %v)", g, err)
			}
		}
	})
}

// hexBlob builds a blob from hex pieces.
func hexBlob(t testing.TB, parts ...string) []byte {
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

// TestDecodeOtherWriters reads what other GeoPackage writers may put in a file.
func TestDecodeOtherWriters(t *testing.T) {
	cases := []struct {
		name string
		blob []byte
		want orb.Geometry
	}{
		{"BigEndianHeaderAndWKB", hexBlob(t, "47500002", "000010e6", "3ff0000000000000", "4000000000000000", "4008000000000000", "4010000000000000",
			"00", "00000002", "00000002", "3ff0000000000000", "4008000000000000", "4000000000000000", "4010000000000000"),
			orb.LineString{{1, 3}, {2, 4}}},
		{"ISOPointZDropsZ", hexBlob(t, "47500001", "e6100000", "01", "e9030000", "000000000000f03f", "0000000000000040", "0000000000000840"),
			orb.Point{1, 2}},
		{"ISOPointZMDropsZM", hexBlob(t, "47500001", "e6100000", "01", "b90b0000", "000000000000f03f", "0000000000000040", "0000000000000840", "0000000000001040"),
			orb.Point{1, 2}},
		{"EWKBZFlagDropsZ", hexBlob(t, "47500001", "e6100000", "01", "01000080", "000000000000f03f", "0000000000000040", "0000000000000840"),
			orb.Point{1, 2}},
		{"XYZEnvelopeSkipped", hexBlob(t, "47500005", "e6100000", "000000000000f03f", "000000000000f03f", "0000000000000040", "0000000000000040", "0000000000000000", "0000000000000000",
			"01", "01000000", "000000000000f03f", "0000000000000040"),
			orb.Point{1, 2}},
		{"MixedByteOrderMembers", hexBlob(t, "47500001", "e6100000", "01", "04000000", "02000000",
			"01", "01000000", "000000000000f03f", "0000000000000040",
			"00", "00000001", "4008000000000000", "4010000000000000"),
			orb.MultiPoint{{1, 2}, {3, 4}}},
	}
	for _, tc := range cases {
		t.Run(tc.name+"OK", func(t *testing.T) {
			g, srs, err := DecodeGeometry(tc.blob)
			if err != nil {
				t.Fatal(err)
			}
			if srs != SRSID || !orb.Equal(g, tc.want) {
				t.Fatalf("want %v, got %v (srs %d)", tc.want, g, srs)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	point, _ := EncodeGeometry(orb.Point{1, 2}, SRSID)
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(point)) }
	cases := []struct {
		name string
		blob []byte
	}{
		{"ErrEmptyBlob", nil},
		{"ErrShortHeader", point[:7]},
		{"ErrBadMagic", mod(func(b []byte) []byte { b[0] = 'X'; return b })},
		{"ErrVersion", mod(func(b []byte) []byte { b[2] = 1; return b })},
		{"ErrExtendedType", mod(func(b []byte) []byte { b[3] |= flagExtended; return b })},
		{"ErrEnvelopeIndicator", mod(func(b []byte) []byte { b[3] |= 5 << envelopeShift; return b })},
		{"ErrEnvelopeCut", mod(func(b []byte) []byte { b[3] |= 4 << envelopeShift; return b })},
		{"ErrTruncatedWKB", point[:len(point)-1]},
		{"ErrTrailingBytes", append(bytes.Clone(point), 0)},
		{"ErrByteOrder", mod(func(b []byte) []byte { b[8] = 7; return b })},
		{"ErrUnknownType", mod(func(b []byte) []byte { b[9] = 99; return b })},
		{"ErrCurveType", mod(func(b []byte) []byte { b[9] = 8; return b })},
		{"ErrHugeCount", hexBlob(t, "47500001", "e6100000", "01", "02000000", "ffffffff")},
		{"ErrWrongMemberType", hexBlob(t, "47500001", "e6100000", "01", "04000000", "01000000", "01", "02000000", "00000000", "000000000000000000000000")},
		{"ErrDeepCollections", func() []byte {
			b := hexBlob(t, "47500001", "e6100000")
			for i := 0; i <= unitcodec.MaxCollectionDepth; i++ {
				b = append(b, hexBlob(t, "01", "07000000", "01000000")...)
			}
			return append(b, hexBlob(t, "01", "01000000", "000000000000f03f", "0000000000000040")...)
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, _, err := DecodeGeometry(tc.blob)
			if !errors.Is(err, errGeometry) {
				t.Fatalf("want an invalid-geometry error, got %v (geometry %v)", err, g)
			}
		})
	}
}

func TestEncodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		g    orb.Geometry
	}{{"ErrNil", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := EncodeGeometry(tc.g, SRSID); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

// FuzzDecodeGeometry feeds the decoder arbitrary blobs, as a GeoPackage handed to us by
// anyone may hold. It must never panic or allocate without bound, and whatever it accepts
// must encode and decode again to the same geometry.
func FuzzDecodeGeometry(f *testing.F) {
	for _, tc := range testGeometries {
		b, _ := EncodeGeometry(tc.g, SRSID)
		f.Add(b)
	}
	f.Add(hexBlob(f, "47500002", "000010e6", "3ff0000000000000", "4000000000000000", "4008000000000000", "4010000000000000",
		"00", "00000002", "00000002", "3ff0000000000000", "4008000000000000", "4000000000000000", "4010000000000000"))
	f.Add(hexBlob(f, "47500001", "e6100000", "01", "b90b0000", "000000000000f03f", "0000000000000040", "0000000000000840", "0000000000001040"))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, srs, err := DecodeGeometry(b)
		_, _, berr := bound(b)
		if err != nil {
			return
		}
		if berr != nil {
			t.Fatalf("DecodeGeometry accepts what bound rejects: %v", berr)
		}
		again, err := EncodeGeometry(g, srs)
		if err != nil {
			t.Fatalf("cannot re-encode a decoded geometry %v: %v", g, err)
		}
		g2, srs2, err := DecodeGeometry(again)
		if err != nil {
			t.Fatalf("cannot decode a re-encoded geometry: %v", err)
		}
		if srs2 != srs || !sameGeometry(g, g2) {
			t.Fatalf("re-encoding changed the geometry: %v -> %v", g, g2)
		}
	})
}

// sameGeometry is orb.Equal that also takes NaN for NaN, as fuzzed coordinates may be.
func sameGeometry(a, b orb.Geometry) bool {
	ea, _ := EncodeGeometry(a, 0)
	eb, _ := EncodeGeometry(b, 0)
	return bytes.Equal(ea, eb)
}
