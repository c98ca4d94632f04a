package tiles_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb/maptile"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/tiles"
)

func TestParseZXY(t *testing.T) {
	cases := []struct {
		name    string
		z, x, y string
		want    maptile.Tile
		msg     string // the error message, "" for success
	}{
		{"OKWorld", "0", "0", "0", maptile.New(0, 0, 0), ""},
		{"OKPbfSuffix", "4", "15", "15.pbf", maptile.New(15, 15, 4), ""},
		{"OKLeadingZero", "04", "007", "3", maptile.New(7, 3, 4), ""},
		{"OKMaxZoom", "22", "4194303", "0", maptile.New(4194303, 0, 22), ""},
		{"ErrXOutside", "4", "99", "0", maptile.Tile{}, "瓦片 x 99 超出 0 到 15 的范围（缩放级别 4）"},
		{"ErrXJustOutside", "4", "16", "0", maptile.Tile{}, "瓦片 x 16 超出 0 到 15 的范围（缩放级别 4）"},
		{"ErrYOutside", "1", "0", "2.pbf", maptile.Tile{}, "瓦片 y 2 超出 0 到 1 的范围（缩放级别 1）"},
		{"ErrZoomAboveMax", "23", "0", "0", maptile.Tile{}, "瓦片缩放级别 23 超过最大级别 22"},
		{"ErrZoomAbove30", "31", "0", "0", maptile.Tile{}, "瓦片缩放级别 31 超过最大级别 22"},
		{"ErrZoomNotNumber", "abc", "0", "0", maptile.Tile{}, `瓦片缩放级别 "abc" 不是 0 到 22 之间的整数`},
		{"ErrZoomEmpty", "", "0", "0", maptile.Tile{}, `瓦片缩放级别 （空） 不是 0 到 22 之间的整数`},
		{"ErrNegativeX", "3", "-1", "0", maptile.Tile{}, `瓦片 x "-1" 不是 0 到 7 之间的整数（缩放级别 3）`},
		{"ErrPlusY", "3", "1", "+1", maptile.Tile{}, `瓦片 y "+1" 不是 0 到 7 之间的整数（缩放级别 3）`},
		{"ErrSpace", "3", " 1", "1", maptile.Tile{}, `瓦片 x " 1" 不是 0 到 7 之间的整数（缩放级别 3）`},
		{"ErrFraction", "3", "1.5", "1", maptile.Tile{}, `瓦片 x "1.5" 不是 0 到 7 之间的整数（缩放级别 3）`},
		{"ErrExponent", "1e1", "0", "0", maptile.Tile{}, `瓦片缩放级别 "1e1" 不是 0 到 22 之间的整数`},
		{"ErrHex", "3", "0x1", "1", maptile.Tile{}, `瓦片 x "0x1" 不是 0 到 7 之间的整数（缩放级别 3）`},
		{"ErrHuge", "3", "99999999999999999999999", "1", maptile.Tile{},
			`瓦片 x "99999999999999999999999" 不是 0 到 7 之间的整数（缩放级别 3）`},
		{"ErrOtherSuffix", "3", "1", "1.png", maptile.Tile{}, `瓦片 y "1.png" 不是 0 到 7 之间的整数（缩放级别 3）`},
		{"ErrFullWidthDigit", "３", "0", "0", maptile.Tile{}, `瓦片缩放级别 "３" 不是 0 到 22 之间的整数`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tiles.ParseZXY(tc.z, tc.x, tc.y)
			if tc.msg == "" {
				if err != nil || got != tc.want {
					t.Fatalf("want %v, got %v (%v)", tc.want, got, err)
				}
				return
			}
			if riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Fatalf("want an EINVALID error, got %v", err)
			}
			if msg := riskmap.ErrorMessage(err); msg != tc.msg {
				t.Fatalf("message:\nwant %s\ngot  %s", tc.msg, msg)
			}
		})
	}
}

func TestParseZXYMax(t *testing.T) {
	t.Run("ErrAboveConfiguredMax", func(t *testing.T) {
		_, err := tiles.ParseZXYMax("19", "0", "0", 18)
		if riskmap.ErrorMessage(err) != "瓦片缩放级别 19 超过最大级别 18" {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("OKZoom30", func(t *testing.T) {
		got, err := tiles.ParseZXYMax("30", "1073741823", "1073741823", 30)
		if err != nil || got != maptile.New(1<<30-1, 1<<30-1, 30) {
			t.Fatalf("got %v (%v)", got, err)
		}
	})
}

// FuzzParseZXY: whatever the input, ParseZXY either rejects it with EINVALID or returns a
// tile on the grid of its zoom that the plain decimal form of the input names.
func FuzzParseZXY(f *testing.F) {
	for _, s := range [][3]string{
		{"0", "0", "0"}, {"4", "15", "15.pbf"}, {"22", "4194303", "4194303"}, {"23", "0", "0"},
		{"-1", "0", "0"}, {"+1", "0", "0"}, {"1", "2", "0"}, {"99999999999", "0", "0"}, {"", "", ""},
		{"1", "1", ".pbf"}, {"1", "1", "1.pbf.pbf"}, {"0010", "0", "0"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, z, x, y string) {
		tile, err := tiles.ParseZXY(z, x, y)
		if err != nil {
			if riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Fatalf("error is not EINVALID: %v", err)
			}
			if len(riskmap.ErrorMessage(err)) > 200 {
				t.Fatalf("error message too long: %d bytes", len(riskmap.ErrorMessage(err)))
			}
			return
		}
		if tile.Z > tiles.DefaultMaxZoom || !tile.Valid() {
			t.Fatalf("accepted a tile off the grid: %v", tile)
		}
		canon := func(s string) string {
			s = strings.TrimLeft(s, "0")
			if s == "" {
				return "0"
			}
			return s
		}
		y = strings.TrimSuffix(y, ".pbf")
		if canon(z) != strconv.Itoa(int(tile.Z)) || canon(x) != strconv.Itoa(int(tile.X)) || canon(y) != strconv.Itoa(int(tile.Y)) {
			t.Fatalf("%q/%q/%q parsed as %v", z, x, y, tile)
		}
	})
}
