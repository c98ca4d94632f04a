package postgis

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/paulmach/orb"
	geom "github.com/twpayne/go-geom"
	"github.com/twpayne/go-geom/encoding/ewkb"
	"github.com/twpayne/go-geom/encoding/wkb"
)

func TestGeometryRoundTrip(t *testing.T) {
	poly := orb.Polygon{{{102.90, 24.60}, {102.95, 24.60}, {102.95, 24.65}, {102.90, 24.65}, {102.90, 24.60}},
		{{102.91, 24.61}, {102.91, 24.62}, {102.92, 24.62}, {102.92, 24.61}, {102.91, 24.61}}}
	cases := []struct {
		name string
		g    orb.Geometry
	}{
		{"Point", orb.Point{102.91, 24.67}},
		{"PointExtremes", orb.Point{-180, 90}},
		{"MultiPoint", orb.MultiPoint{{102.9, 24.6}, {102.91, 24.61}}},
		{"LineString", orb.LineString{{102.90, 24.66}, {102.91, 24.665}, {102.92, 24.67}}},
		{"MultiLineString", orb.MultiLineString{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}, {9, 10}}}},
		{"PolygonWithHole", poly},
		{"MultiPolygon", orb.MultiPolygon{poly, {{{103.0, 24.7}, {103.01, 24.7}, {103.01, 24.71}, {103.0, 24.7}}}}},
		{"Collection", orb.Collection{orb.Point{1, 2}, orb.LineString{{1, 2}, {3, 4}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := encodeEWKB(tc.g)
			if err != nil {
				t.Fatal(err)
			}
			// What PostGIS receives carries SRID 4326.
			gg, err := ewkb.Unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if gg.SRID() != SRID {
				t.Fatalf("SRID: want %d, got %d", SRID, gg.SRID())
			}
			back, err := fromGeom(gg)
			if err != nil {
				t.Fatal(err)
			}
			if !orb.Equal(back, tc.g) {
				t.Fatalf("EWKB round trip: want %v, got %v", tc.g, back)
			}
			// What ST_AsBinary sends back is plain WKB.
			w, err := wkb.Marshal(gg, binary.BigEndian)
			if err != nil {
				t.Fatal(err)
			}
			back, err = decodeWKB(w)
			if err != nil {
				t.Fatal(err)
			}
			if !orb.Equal(back, tc.g) {
				t.Fatalf("WKB round trip: want %v, got %v", tc.g, back)
			}
		})
	}
}

func TestFromGeomDropsZM(t *testing.T) {
	g := geom.NewLineStringFlat(geom.XYZM, []float64{1, 2, 3, 4, 5, 6, 7, 8})
	got, err := fromGeom(g)
	if err != nil {
		t.Fatal(err)
	}
	if want := (orb.LineString{{1, 2}, {5, 6}}); !orb.Equal(got, want) {
		t.Fatalf("want %v, got %v", want, got)
	}
	mp := geom.NewMultiPolygonFlat(geom.XYZ, []float64{0, 0, 9, 1, 0, 9, 1, 1, 9, 0, 0, 9}, [][]int{{12}})
	got, err = fromGeom(mp)
	if err != nil {
		t.Fatal(err)
	}
	if want := (orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}}); !orb.Equal(got, want) {
		t.Fatalf("want %v, got %v", want, got)
	}
}

func TestGeometryErrors(t *testing.T) {
	t.Run("ErrNil", func(t *testing.T) {
		if _, err := encodeEWKB(nil); err == nil {
			t.Fatal("a missing geometry must not encode")
		}
	})
	t.Run("ErrEmptyPoint", func(t *testing.T) {
		// PostGIS writes POINT EMPTY as a point of two NaNs.
		b := binary.LittleEndian.AppendUint32([]byte{1}, 1)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(math.NaN()))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(math.NaN()))
		if g, err := decodeWKB(b); err == nil {
			t.Fatalf("POINT EMPTY must not read as a geometry, got %v", g)
		}
	})
	t.Run("ErrTruncated", func(t *testing.T) {
		b, _ := encodeEWKB(orb.LineString{{1, 2}, {3, 4}})
		if _, err := decodeWKB(b[:len(b)-3]); err == nil {
			t.Fatal("truncated WKB must not decode")
		}
	})
}
