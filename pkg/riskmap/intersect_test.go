package riskmap

import (
	"testing"

	"github.com/paulmach/orb"
)

func TestIntersectsBound(t *testing.T) {
	box := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{10, 10}}
	square := func(x0, y0, x1, y1 float64) orb.Ring {
		return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
	}
	cases := []struct {
		name string
		g    orb.Geometry
		want bool
	}{
		{"PointInside", orb.Point{5, 5}, true},
		{"PointOnEdge", orb.Point{10, 3}, true},
		{"PointOutside", orb.Point{10.001, 3}, false},
		{"MultiPointOneInside", orb.MultiPoint{{20, 20}, {1, 1}}, true},
		{"LineInside", orb.LineString{{1, 1}, {2, 2}}, true},
		{"LineCrossesBetweenVertices", orb.LineString{{-5, 5}, {15, 5}}, true},
		{"LineDiagonalPassesCorner", orb.LineString{{-1, 12}, {12, -1}}, true},
		{"LineEnvelopeOverlapsButMisses", orb.LineString{{-5, 9}, {9, 23}}, false},
		{"LineTouchesCorner", orb.LineString{{10, 10}, {20, 20}}, true},
		{"VerticalLineOutside", orb.LineString{{11, -5}, {11, 15}}, false},
		{"PolygonContainsBox", orb.Polygon{square(-5, -5, 15, 15)}, true},
		{"BoxInsideHole", orb.Polygon{square(-5, -5, 15, 15), square(-1, -1, 11, 11)}, false},
		{"PolygonInsideBox", orb.Polygon{square(2, 2, 3, 3)}, true},
		{"PolygonEnvelopeOverlapsButMisses", orb.Polygon{orb.Ring{{-5, 9}, {9, 23}, {-5, 23}, {-5, 9}}}, false},
		{"PolygonEdgeCrosses", orb.Polygon{square(8, 8, 20, 20)}, true},
		{"MultiPolygonSecondHits", orb.MultiPolygon{{square(20, 20, 30, 30)}, {square(9, -3, 12, 1)}}, true},
		{"CollectionMisses", orb.Collection{orb.Point{-1, -1}, orb.LineString{{11, 0}, {11, 10}}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := IntersectsBound(tc.g, box); got != tc.want {
				t.Fatalf("IntersectsBound(%v) = %v, want %v", tc.g, got, tc.want)
			}
		})
	}
	t.Run("DegenerateBoxOnLine", func(t *testing.T) {
		pt := orb.Bound{Min: orb.Point{5, 5}, Max: orb.Point{5, 5}}
		if !IntersectsBound(orb.LineString{{0, 0}, {10, 10}}, pt) {
			t.Fatal("a point-sized box on the line must intersect it")
		}
	})
}
