package riskmap_test

import (
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

func TestNegotiateLang(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   riskmap.Lang
	}{
		{"", riskmap.Chinese},
		{"zh-CN", riskmap.Chinese},
		{"zh-CN,zh;q=0.9,en;q=0.8", riskmap.Chinese},
		{"en", riskmap.English},
		{"en-US", riskmap.English},
		{"EN-gb", riskmap.English},
		{"en-US,en;q=0.9,zh-CN;q=0.8", riskmap.English},
		{"zh-CN;q=0.5, en;q=0.9", riskmap.English},
		{"en;q=0.5, zh;q=0.9", riskmap.Chinese},
		{"en;q=0.8, zh;q=0.8", riskmap.English}, // a tie: the earlier
		{"fr", riskmap.Chinese},
		{"fr, en;q=0.5", riskmap.English},
		{"de, *;q=0.1", riskmap.Chinese},
		{"en;q=0", riskmap.Chinese},
		{"en;q=abc", riskmap.Chinese},
		{"en;q=2", riskmap.Chinese},
		{";;;,,,=", riskmap.Chinese},
	} {
		if got := riskmap.NegotiateLang(tc.header); got != tc.want {
			t.Errorf("Accept-Language %q: got %s, want %s", tc.header, got, tc.want)
		}
	}
}

func FuzzNegotiateLang(f *testing.F) {
	for _, s := range []string{"", "en", "zh-CN,zh;q=0.9,en;q=0.8", "en;q=0.5, zh;q=0.9", "*;q=0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if l := riskmap.NegotiateLang(s); l != riskmap.Chinese && l != riskmap.English {
			t.Fatalf("%q: %q", s, l)
		}
	})
}

// TestMessagesInEnglish: a coded error and its field problems keep their format, so the
// edge renders them in English on request; Chinese is the default, and a message the
// catalog does not know stays Chinese.
func TestMessagesInEnglish(t *testing.T) {
	var p riskmap.Problems
	p.Add("level", "应为 1 至 4（一级至四级），收到 %d", 7)
	p.Add("code", "必填")
	err := p.Err()
	code, msg, fields := riskmap.ClientError(err, riskmap.English)
	if code != riskmap.EINVALID || msg != "level: must be 1 to 4 (level one to four), got 7 (and 1 more problems)" {
		t.Errorf("English: %s %q", code, msg)
	}
	if len(fields) != 2 || fields[0].Message != "must be 1 to 4 (level one to four), got 7" || fields[1].Message != "is required" {
		t.Errorf("English fields: %v", fields)
	}
	_, msg, fields = riskmap.ClientError(err, riskmap.Chinese)
	if msg != "level：应为 1 至 4（一级至四级），收到 7（另有 1 个问题）" || fields[1].Message != "必填" {
		t.Errorf("Chinese: %q %v", msg, fields)
	}
	wrapped := riskmap.Errorf(riskmap.EINVALID, "第 %d 个要素：%s", 3, riskmap.MessageOf(riskmap.UnitNotFound(9)))
	if _, msg, _ := riskmap.ClientError(wrapped, riskmap.English); msg != "feature 3: no risk unit with id 9" {
		t.Errorf("a message in a message: %q", msg)
	}
	if wrapped.Message != "第 3 个要素：没有编号为 9 的风险单元" {
		t.Errorf("a message in a message, Chinese: %q", wrapped.Message)
	}
	unknown := riskmap.Errorf(riskmap.ECONFLICT, "目录里没有的消息 %d", 1)
	if _, msg, _ := riskmap.ClientError(unknown, riskmap.English); msg != "目录里没有的消息 1" {
		t.Errorf("a message the catalog does not know: %q", msg)
	}
	if _, msg, _ := riskmap.ClientError(errPlain{}, riskmap.English); msg != "internal error" {
		t.Errorf("an internal error: %q", msg)
	}
	if _, msg, _ := riskmap.ClientError(errPlain{}, riskmap.Chinese); msg != "内部错误" {
		t.Errorf("an internal error: %q", msg)
	}
}

// TestGeometryMessagesInEnglish: a geometry's problem, named down to its part and
// position, is said in the client's language too.
func TestGeometryMessagesInEnglish(t *testing.T) {
	err := riskmap.ValidateGeometry(orb.MultiPoint{{100, 20}, {200, 20}})
	if got := riskmap.ErrorMessage(err); got != "第 2 个点：经度 200 超出 -180 至 180（坐标为 WGS 84 经度、纬度）" {
		t.Errorf("Chinese: %q", got)
	}
	if _, got, _ := riskmap.ClientError(err, riskmap.English); got != "point 2: longitude 200 is outside -180 to 180 (coordinates are WGS 84 longitude, latitude)" {
		t.Errorf("English: %q", got)
	}
	ring := orb.Polygon{{{100, 20}, {101, 20}, {101, 21}, {100, 20.5}}}
	err = riskmap.ValidateGeometry(ring)
	if _, got, _ := riskmap.ClientError(err, riskmap.English); got != "outer ring: the ring is not closed: its last position must be its first" {
		t.Errorf("English ring: %q (Chinese %q)", got, riskmap.ErrorMessage(err))
	}
}

type errPlain struct{}

func (errPlain) Error() string { return "secret detail" }
