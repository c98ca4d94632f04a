package tiles

import (
	"strconv"
	"strings"

	"github.com/paulmach/orb/maptile"

	"riskmap/pkg/riskmap"
)

// ParseZXY reads the z/x/y of a tile URL (y with or without its ".pbf"), up to
// DefaultMaxZoom. Anything but plain decimal digits — a sign, a space, a fraction, an
// exponent — and any number off the grid of its zoom is an EINVALID error naming the part
// and what was wrong with it.
func ParseZXY(z, x, y string) (maptile.Tile, error) {
	return ParseZXYMax(z, x, y, DefaultMaxZoom)
}

// ParseZXYMax is ParseZXY for a deployment's own deepest zoom (at most MaxZoomLimit).
func ParseZXYMax(z, x, y string, maxZoom int) (maptile.Tile, error) {
	if maxZoom < 0 || maxZoom > MaxZoomLimit {
		maxZoom = MaxZoomLimit
	}
	y = strings.TrimSuffix(y, ".pbf")
	zv, ok := parseUint(z)
	if !ok {
		return maptile.Tile{}, invalid("瓦片缩放级别 %s 不是 0 到 %d 之间的整数", quote(z), maxZoom)
	}
	if zv > uint64(maxZoom) {
		return maptile.Tile{}, invalid("瓦片缩放级别 %d 超过最大级别 %d", zv, maxZoom)
	}
	n := uint64(1) << zv
	xv, ok := parseUint(x)
	if !ok {
		return maptile.Tile{}, invalid("瓦片 x %s 不是 0 到 %d 之间的整数（缩放级别 %d）", quote(x), n-1, zv)
	}
	if xv >= n {
		return maptile.Tile{}, invalid("瓦片 x %d 超出 0 到 %d 的范围（缩放级别 %d）", xv, n-1, zv)
	}
	yv, ok := parseUint(y)
	if !ok {
		return maptile.Tile{}, invalid("瓦片 y %s 不是 0 到 %d 之间的整数（缩放级别 %d）", quote(y), n-1, zv)
	}
	if yv >= n {
		return maptile.Tile{}, invalid("瓦片 y %d 超出 0 到 %d 的范围（缩放级别 %d）", yv, n-1, zv)
	}
	return maptile.New(uint32(xv), uint32(yv), maptile.Zoom(zv)), nil
}

// parseUint accepts 1 to 10 decimal digits and nothing else; ten digits already exceed any
// tile number, so longer input need not be read.
func parseUint(s string) (uint64, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

// quote shows the user what they sent, shortened so that an error never echoes a page of
// input.
func quote(s string) string {
	if s == "" {
		return "（空）"
	}
	const limit = 24
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return strconv.Quote(s)
}

func invalid(format string, args ...any) error {
	return riskmap.Errorf(riskmap.EINVALID, format, args...)
}
