package riskmap_test

import (
	"math"
	"testing"

	"riskmap/pkg/riskmap"
)

// The numbers of frontend/src/lib/coords.js (the form's converter): WGS84 → GCJ-02 of
// Chengjiang's centre.
func TestGCJ02KnownPoint(t *testing.T) {
	x, y := riskmap.WGS84ToGCJ02(102.9088, 24.6725)
	// GCJ-02 shifts Yunnan by roughly −0.0025° in longitude and −0.0028°… in latitude; check
	// the forward formula against the inverse rather than against a copied constant.
	if math.Abs(x-102.9088) > 0.01 || math.Abs(y-24.6725) > 0.01 || (x == 102.9088 && y == 24.6725) {
		t.Fatalf("offset %v %v", x-102.9088, y-24.6725)
	}
	bx, by := riskmap.ToWGS84(riskmap.GCJ02, x, y)
	if math.Abs(bx-102.9088) > 1e-7 || math.Abs(by-24.6725) > 1e-7 {
		t.Fatalf("GCJ-02 back to WGS84: %v %v", bx, by)
	}
	if x, y := riskmap.ToWGS84(riskmap.GCJ02, 2.35, 48.85); x != 2.35 || y != 48.85 {
		t.Errorf("outside China GCJ-02 is WGS84; got %v %v", x, y)
	}
	for _, s := range []string{"", "wgs84", "WGS-84", "CGCS2000"} {
		if c, ok := riskmap.ParseCRS(s); !ok || c != riskmap.WGS84 {
			t.Errorf("ParseCRS(%q) = %q", s, c)
		}
	}
	if c, _ := riskmap.ParseCRS("gcj02"); c != riskmap.GCJ02 {
		t.Error("gcj02")
	}
	if c, _ := riskmap.ParseCRS("百度"); c != riskmap.BD09 {
		t.Error("百度")
	}
	if _, ok := riskmap.ParseCRS("北京54"); ok {
		t.Error("北京54 accepted")
	}
}

// FuzzCoords: converting a WGS 84 point to GCJ-02 or BD-09 and back gives the point to
// 1e-7° (about a centimetre) anywhere in China; no input gives NaN from a finite one.
func FuzzCoords(f *testing.F) {
	f.Add(102.9088, 24.6725)
	f.Add(116.397, 39.909)
	f.Add(73.0, 1.0)
	f.Add(180.0, -90.0)
	f.Fuzz(func(t *testing.T, lon, lat float64) {
		if math.IsNaN(lon) || math.IsInf(lon, 0) || math.IsNaN(lat) || math.IsInf(lat, 0) || math.Abs(lon) > 180 || math.Abs(lat) > 90 {
			return
		}
		for _, crs := range []riskmap.CRS{riskmap.WGS84, riskmap.GCJ02, riskmap.BD09} {
			x, y := riskmap.FromWGS84(crs, lon, lat)
			bx, by := riskmap.ToWGS84(crs, x, y)
			if math.IsNaN(bx) || math.IsNaN(by) {
				t.Fatalf("%s: NaN from %v %v", crs, lon, lat)
			}
			if riskmap.InChina(lon, lat) && riskmap.InChina(x, y) && (math.Abs(bx-lon) > 1e-7 || math.Abs(by-lat) > 1e-7) {
				t.Fatalf("%s: %v %v → %v %v → %v %v", crs, lon, lat, x, y, bx, by)
			}
		}
	})
}
