package mapimage

import (
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// Request is what a map image query asks for.
type Request struct {
	Layer string
	// BBox is the box asked for; nil: the data's extent.
	BBox   *orb.Bound
	Width  int
	Height int
	Legend bool
	// Level is the region level the regions layer draws ("" : the default level).
	Level string
}

// Params are the query parameters ParseQuery reads.
var Params = []string{"bbox", "width", "height", "layer", "legend", "level"}

// ParseQuery reads bbox (minLon,minLat,maxLon,maxLat), width and height (pixels, MinSide to
// MaxSide; defaults DefaultWidth×DefaultHeight), layer (units, the default, or regions),
// legend (1/true, the default, or 0/false) and level (district, street, community or grid;
// regions only). Every problem is a field error in Chinese.
func ParseQuery(q url.Values) (Request, error) {
	r := Request{Layer: LayerUnits, Width: DefaultWidth, Height: DefaultHeight, Legend: true}
	var p riskmap.Problems
	one := func(k string) (string, bool) {
		vs, ok := q[k]
		if !ok {
			return "", false
		}
		if len(vs) > 1 {
			p.Add(k, "参数 %s 只能给一次", k)
			return "", false
		}
		return strings.TrimSpace(vs[0]), true
	}
	if v, ok := one("layer"); ok {
		switch v {
		case LayerUnits, LayerRegions:
			r.Layer = v
		default:
			p.Add("layer", "layer 应为 units（风险单元）或 regions（区域风险等级），收到 %q", clip(v))
		}
	}
	side := func(k string, dst *int) {
		v, ok := one(k)
		if !ok {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < MinSide || n > MaxSide {
			p.Add(k, "%s 应为 %d 到 %d 之间的整数（像素），收到 %q", k, MinSide, MaxSide, clip(v))
			return
		}
		*dst = n
	}
	side("width", &r.Width)
	side("height", &r.Height)
	if v, ok := one("legend"); ok {
		switch strings.ToLower(v) {
		case "1", "true", "yes":
			r.Legend = true
		case "0", "false", "no":
			r.Legend = false
		default:
			p.Add("legend", "legend 应为 1（显示图例）或 0（不显示），收到 %q", clip(v))
		}
	}
	if v, ok := one("level"); ok && v != "" {
		if !riskmap.ValidRegionLevel(v) {
			p.Add("level", "level 应为 district（区县）、street（街道）、community（社区）或 grid（网格），收到 %q", clip(v))
		} else {
			r.Level = v
		}
	}
	if v, ok := one("bbox"); ok && v != "" {
		switch b, bad := parseBBox(v); bad {
		case bboxOK:
			r.BBox = &b
		case bboxNumbers:
			p.Add("bbox", "bbox 应为 最小经度,最小纬度,最大经度,最大纬度 四个数，收到 %q", clip(v))
		case bboxRange:
			p.Add("bbox", "bbox 的经度应在 -180 到 180 之间，纬度在 -85 到 85 之间，收到 %q", clip(v))
		case bboxOrder:
			p.Add("bbox", "bbox 的最小经纬度应小于最大经纬度，收到 %q", clip(v))
		}
	}
	if err := p.Err(); err != nil {
		return Request{}, err
	}
	return r, nil
}

// What is wrong with a bbox.
const (
	bboxOK = iota
	bboxNumbers
	bboxRange
	bboxOrder
)

func parseBBox(s string) (orb.Bound, int) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return orb.Bound{}, bboxNumbers
	}
	var v [4]float64
	for i, x := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return orb.Bound{}, bboxNumbers
		}
		v[i] = f
	}
	if v[0] < -180 || v[2] > 180 || v[1] < -85 || v[3] > 85 {
		return orb.Bound{}, bboxRange
	}
	if v[0] >= v[2] || v[1] >= v[3] {
		return orb.Bound{}, bboxOrder
	}
	return orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}, bboxOK
}

// clip shortens what a client sent before it is quoted in a message.
func clip(s string) string {
	r := []rune(s)
	if len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// Extent is the box to draw when none is asked for: b grown by 5% on each side, and at
// least about 1 km across (a single point still shows its surroundings).
func Extent(b orb.Bound) orb.Bound {
	const minSpan = 0.01
	c := b.Center()
	w := math.Max(b.Max[0]-b.Min[0], minSpan) * 1.1
	h := math.Max(b.Max[1]-b.Min[1], minSpan) * 1.1
	return orb.Bound{Min: orb.Point{c[0] - w/2, math.Max(c[1]-h/2, -85)}, Max: orb.Point{c[0] + w/2, math.Min(c[1]+h/2, 85)}}
}
