package riskmap

import (
	"math"
	"strings"
)

// Coordinates copied from Chinese web maps, converted to WGS 84 (= CGCS2000 to within
// centimetres), which is what riskmap stores. Amap (高德) and Tencent (腾讯) publish GCJ-02, a
// deliberately distorted datum; Baidu (百度) publishes BD-09, a further offset of GCJ-02. The
// forward GCJ-02 formula is the well-known public one (Krasovsky ellipsoid); its inverse has
// no closed form and is found by fixed-point iteration. The numbers are those of
// frontend/src/lib/coords.js (the form's coordinate input), so the map and an import agree.

// CRS is a coordinate system a user may give coordinates in.
type CRS string

// The coordinate systems of input.
const (
	WGS84 CRS = "WGS84"
	GCJ02 CRS = "GCJ-02"
	BD09  CRS = "BD-09"
)

// ParseCRS reads a coordinate system's name as users write it: WGS84 (also WGS-84,
// CGCS2000, "" for the default), GCJ-02 (GCJ02, 高德, 腾讯) or BD-09 (BD09, 百度).
func ParseCRS(s string) (CRS, bool) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.NewReplacer("-", "", "_", "", " ", "").Replace(t)
	switch t {
	case "", "WGS84", "CGCS2000", "EPSG4326", "GPS", "天地图":
		return WGS84, true
	case "GCJ02", "高德", "腾讯", "火星坐标":
		return GCJ02, true
	case "BD09", "BD09LL", "百度":
		return BD09, true
	}
	return "", false
}

const (
	krasovskyA  = 6378245.0                // semi-major axis of the Krasovsky 1940 ellipsoid
	krasovskyEE = 0.00669342162296594323   // its first eccentricity squared
	bdXPi       = math.Pi * 3000.0 / 180.0 // Baidu's constant
)

// InChina reports whether GCJ-02 applies: outside China's rough box the offset is zero.
func InChina(lon, lat float64) bool {
	return lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271
}

func gcjTransformLat(x, y float64) float64 {
	r := -100.0 + 2.0*x + 3.0*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	r += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	r += (20.0*math.Sin(y*math.Pi) + 40.0*math.Sin(y/3.0*math.Pi)) * 2.0 / 3.0
	r += (160.0*math.Sin(y/12.0*math.Pi) + 320*math.Sin(y*math.Pi/30.0)) * 2.0 / 3.0
	return r
}

func gcjTransformLon(x, y float64) float64 {
	r := 300.0 + x + 2.0*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	r += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	r += (20.0*math.Sin(x*math.Pi) + 40.0*math.Sin(x/3.0*math.Pi)) * 2.0 / 3.0
	r += (150.0*math.Sin(x/12.0*math.Pi) + 300.0*math.Sin(x/30.0*math.Pi)) * 2.0 / 3.0
	return r
}

// WGS84ToGCJ02 applies the GCJ-02 offset to a WGS 84 longitude and latitude.
func WGS84ToGCJ02(lon, lat float64) (float64, float64) {
	if !InChina(lon, lat) {
		return lon, lat
	}
	radLat := lat / 180.0 * math.Pi
	magic := math.Sin(radLat)
	magic = 1 - krasovskyEE*magic*magic
	sqrtMagic := math.Sqrt(magic)
	dLat := gcjTransformLat(lon-105.0, lat-35.0) * 180.0 / ((krasovskyA * (1 - krasovskyEE)) / (magic * sqrtMagic) * math.Pi)
	dLon := gcjTransformLon(lon-105.0, lat-35.0) * 180.0 / (krasovskyA / sqrtMagic * math.Cos(radLat) * math.Pi)
	return lon + dLon, lat + dLat
}

// GCJ02ToWGS84 inverts WGS84ToGCJ02 by fixed-point iteration: the offset changes slowly
// with position, so subtracting the error converges in a handful of steps, stopped at
// 1e-10° (about 0.01 mm).
func GCJ02ToWGS84(lon, lat float64) (float64, float64) {
	if !InChina(lon, lat) {
		return lon, lat
	}
	x, y := lon, lat
	for range 30 {
		gx, gy := WGS84ToGCJ02(x, y)
		dx, dy := gx-lon, gy-lat
		if math.Abs(dx) < 1e-10 && math.Abs(dy) < 1e-10 {
			break
		}
		x -= dx
		y -= dy
	}
	return x, y
}

// BD09ToGCJ02 removes Baidu's offset: the closed form commonly published (as the form's
// coords.js has it), refined by fixed-point iteration on GCJ02ToBD09 so that converting
// back gives the BD-09 coordinates to 1e-10°.
func BD09ToGCJ02(lon, lat float64) (float64, float64) {
	x, y := bd09ToGCJ02Approx(lon, lat)
	for range 30 {
		bx, by := GCJ02ToBD09(x, y)
		dx, dy := bx-lon, by-lat
		if math.Abs(dx) < 1e-10 && math.Abs(dy) < 1e-10 {
			break
		}
		x -= dx
		y -= dy
	}
	return x, y
}

func bd09ToGCJ02Approx(lon, lat float64) (float64, float64) {
	x, y := lon-0.0065, lat-0.006
	z := math.Sqrt(x*x+y*y) - 0.00002*math.Sin(y*bdXPi)
	theta := math.Atan2(y, x) - 0.000003*math.Cos(x*bdXPi)
	return z * math.Cos(theta), z * math.Sin(theta)
}

// GCJ02ToBD09 applies Baidu's offset to GCJ-02.
func GCJ02ToBD09(lon, lat float64) (float64, float64) {
	z := math.Sqrt(lon*lon+lat*lat) + 0.00002*math.Sin(lat*bdXPi)
	theta := math.Atan2(lat, lon) + 0.000003*math.Cos(lon*bdXPi)
	return z*math.Cos(theta) + 0.0065, z*math.Sin(theta) + 0.006
}

// ToWGS84 converts a longitude and latitude given in crs to WGS 84.
func ToWGS84(crs CRS, lon, lat float64) (float64, float64) {
	switch crs {
	case GCJ02:
		return GCJ02ToWGS84(lon, lat)
	case BD09:
		return GCJ02ToWGS84(BD09ToGCJ02(lon, lat))
	}
	return lon, lat
}

// FromWGS84 converts a WGS 84 longitude and latitude to crs.
func FromWGS84(crs CRS, lon, lat float64) (float64, float64) {
	switch crs {
	case GCJ02:
		return WGS84ToGCJ02(lon, lat)
	case BD09:
		return GCJ02ToBD09(WGS84ToGCJ02(lon, lat))
	}
	return lon, lat
}
