// Package mapimage draws the four-colour map (红橙黄蓝四色安全风险空间分布图) as a PNG on the
// server, from the spatial index, with no browser: the units layer (each unit filled in its
// grade's colour and outlined) or the regions layer (each region filled in its regional
// grade's colour). The report embeds these images and users paste them into slides.
//
// The image is in Web Mercator, like the map in the browser: the requested bounding box
// (lon/lat) is fitted into the image without distortion and centred. Drawing is
// deterministic: the same units, box and size give the same bytes.
package mapimage

import (
	"bytes"
	"cmp"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"golang.org/x/image/vector"

	"riskmap/pkg/grading"
	"riskmap/pkg/riskmap"
)

// Layers.
const (
	LayerUnits   = "units"
	LayerRegions = "regions"
)

// Limits and defaults of the image size.
const (
	DefaultWidth  = 1200
	DefaultHeight = 900
	MinSide       = 16
	MaxSide       = 4096
)

// Shape is one thing to draw: a unit or a region, in its grade's colour.
type Shape struct {
	// ID orders shapes of the same grade and kind, so that drawing is deterministic.
	ID       int64
	Grade    riskmap.Grade
	Geometry orb.Geometry
	// Palette, when set, colours the shape instead of its grade (a thematic map that is not
	// of grades, such as shelter coverage); such shapes are drawn first, in ID order.
	Palette *Palette
}

// Options say how to draw.
type Options struct {
	// BBox is the area shown (lon/lat); the image shows at least this box.
	BBox   orb.Bound
	Width  int
	Height int
	// Colours are the grades' fills and outlines (config "colours"); a grade missing uses
	// the standard colours.
	Colours map[riskmap.Grade]grading.Colour
	// Legend draws a key of the four grades (coloured boxes) in the lower left corner.
	Legend bool
	// Background fills the image first; zero is white.
	Background color.RGBA
	// Outlines are drawn first, unfilled, in OutlineColour: the regions around the shapes,
	// for orientation.
	Outlines []orb.Geometry
	// Markers are drawn over the shapes as squares (their points; an area's outline and
	// centre) in MarkerColour: the protective targets of the conflict map.
	Markers []orb.Geometry
	// Lines are drawn last, dashed, in LineColour: the conflict lines from a unit to a
	// protective target inside its influence range.
	Lines []orb.LineString
}

// The colours of the overlays: none is a grade's colour.
var (
	OutlineColour = color.RGBA{0x9E, 0x9E, 0x9E, 255}
	MarkerColour  = Palette{Fill: color.RGBA{0x8E, 0x24, 0xAA, 255}, Outline: color.RGBA{0x4A, 0x14, 0x8C, 255}}
	LineColour    = color.RGBA{0x21, 0x21, 0x21, 255}
)

// DefaultColours are the standard grade colours, used where the configuration gives none.
var DefaultColours = map[riskmap.Grade]grading.Colour{
	riskmap.GradeRed:    {Fill: "#E53935", Outline: "#B71C1C"},
	riskmap.GradeOrange: {Fill: "#FB8C00", Outline: "#E65100"},
	riskmap.GradeYellow: {Fill: "#FDD835", Outline: "#F9A825"},
	riskmap.GradeBlue:   {Fill: "#1E88E5", Outline: "#0D47A1"},
}

// Palette is the fill and outline of a grade as colours.
type Palette struct{ Fill, Outline color.RGBA }

// Palettes returns the fill and outline of each grade, red first (riskmap.Grades order).
func Palettes(colours map[riskmap.Grade]grading.Colour) [4]Palette {
	var out [4]Palette
	for i, g := range riskmap.Grades {
		c, ok := colours[g]
		d := DefaultColours[g]
		fill, ok1 := ParseHex(c.Fill)
		if !ok || !ok1 {
			fill, _ = ParseHex(d.Fill)
		}
		outline, ok2 := ParseHex(c.Outline)
		if !ok || !ok2 {
			outline, _ = ParseHex(d.Outline)
		}
		out[i] = Palette{Fill: fill, Outline: outline}
	}
	return out
}

// ParseHex reads #RGB or #RRGGBB.
func ParseHex(s string) (color.RGBA, bool) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "#")
	if len(s) == 3 {
		s = string([]byte{s[0], s[0], s[1], s[1], s[2], s[2]})
	}
	if len(s) != 6 {
		return color.RGBA{}, false
	}
	v, err := strconv.ParseUint(s, 16, 32)
	if err != nil {
		return color.RGBA{}, false
	}
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 255}, true
}

// Mercator projects lon/lat to Web Mercator metres.
func Mercator(p orb.Point) (float64, float64) {
	const r = 6378137.0
	lat := math.Max(-85.05112878, math.Min(85.05112878, p[1]))
	return r * p[0] * math.Pi / 180, r * math.Log(math.Tan(math.Pi/4+lat*math.Pi/360))
}

// Projector maps lon/lat to pixels: the box fitted into the image and centred.
type Projector struct {
	x0, y1, scale, dx, dy float64
}

// NewProjector fits b into a w×h image.
func NewProjector(b orb.Bound, w, h int) Projector {
	x0, y0 := Mercator(b.Min)
	x1, y1 := Mercator(b.Max)
	bw, bh := math.Max(x1-x0, 1e-6), math.Max(y1-y0, 1e-6)
	scale := math.Min(float64(w)/bw, float64(h)/bh)
	return Projector{x0: x0, y1: y1, scale: scale,
		dx: (float64(w) - bw*scale) / 2, dy: (float64(h) - bh*scale) / 2}
}

// Pixel is where p falls in the image.
func (pr Projector) Pixel(p orb.Point) (float32, float32) {
	x, y := Mercator(p)
	return float32((x-pr.x0)*pr.scale + pr.dx), float32((pr.y1-y)*pr.scale + pr.dy)
}

// Bound is the lon/lat box the image shows in full (a little more than asked for on one
// axis when the aspect ratios differ).
func (pr Projector) Bound(w, h int) orb.Bound {
	inv := func(px, py float64) orb.Point {
		const r = 6378137.0
		x := (px-pr.dx)/pr.scale + pr.x0
		y := pr.y1 - (py-pr.dy)/pr.scale
		return orb.Point{x / r * 180 / math.Pi, (2*math.Atan(math.Exp(y/r)) - math.Pi/2) * 180 / math.Pi}
	}
	a, b := inv(0, float64(h)), inv(float64(w), 0)
	return orb.Bound{Min: a, Max: b}
}

// rank orders the drawing: shapes of their own palette first, then grades from blue to red.
func (s Shape) rank() int {
	if s.Palette != nil {
		return len(riskmap.Grades) + 1
	}
	return s.Grade.Rank()
}

// kindOrder draws areas under lines under points.
func kindOrder(g orb.Geometry) int {
	switch g.(type) {
	case orb.Polygon, orb.MultiPolygon, orb.Ring, orb.Bound:
		return 0
	case orb.LineString, orb.MultiLineString:
		return 1
	default:
		return 2
	}
}

// Render draws shapes: those with their own palette first, then lower grades first so that
// red lies on top; within a grade areas, then lines, then points, each in ID order.
func Render(shapes []Shape, o Options) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, o.Width, o.Height))
	bg := o.Background
	if bg == (color.RGBA{}) {
		bg = color.RGBA{255, 255, 255, 255}
	}
	draw.Draw(img, img.Bounds(), image.NewUniform(bg), image.Point{}, draw.Src)
	pal := Palettes(o.Colours)
	sorted := slices.Clone(shapes)
	slices.SortStableFunc(sorted, func(a, b Shape) int {
		return cmp.Or(cmp.Compare(b.rank(), a.rank()), cmp.Compare(kindOrder(a.Geometry), kindOrder(b.Geometry)), cmp.Compare(a.ID, b.ID))
	})
	d := newDrawer(img, NewProjector(o.BBox, o.Width, o.Height))
	for _, g := range o.Outlines {
		d.outline(g)
	}
	for _, s := range sorted {
		if s.Palette != nil {
			d.shape(s.Geometry, *s.Palette)
			continue
		}
		i := slices.Index(riskmap.Grades, s.Grade)
		if i < 0 {
			continue
		}
		d.shape(s.Geometry, pal[i])
	}
	for _, g := range o.Markers {
		d.marker(g)
	}
	for _, l := range o.Lines {
		d.dashed(l)
	}
	if o.Legend {
		drawLegend(img, pal)
	}
	return img
}

// Encode writes img as PNG (best speed; the same image always gives the same bytes).
func Encode(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("mapimage: %w", err)
	}
	return buf.Bytes(), nil
}

// LegendBox is the size of a legend's coloured box, in pixels, and the gap between boxes.
const (
	LegendBox = 14
	legendGap = 6
)

// drawLegend draws the four grades as coloured boxes (red, orange, yellow, blue) in the lower
// left corner on a white panel; the grade names are 重大、较大、一般、低 in that order (the
// report prints them beside the image).
func drawLegend(img *image.RGBA, pal [4]Palette) {
	b := img.Bounds()
	w := 4*LegendBox + 5*legendGap
	h := LegendBox + 2*legendGap
	if b.Dx() < w+8 || b.Dy() < h+8 {
		return
	}
	panel := image.Rect(8, b.Dy()-8-h, 8+w, b.Dy()-8)
	draw.Draw(img, panel, image.NewUniform(color.RGBA{255, 255, 255, 255}), image.Point{}, draw.Src)
	for i, p := range pal {
		x := panel.Min.X + legendGap + i*(LegendBox+legendGap)
		y := panel.Min.Y + legendGap
		draw.Draw(img, image.Rect(x, y, x+LegendBox, y+LegendBox), image.NewUniform(p.Outline), image.Point{}, draw.Src)
		draw.Draw(img, image.Rect(x+1, y+1, x+LegendBox-1, y+LegendBox-1), image.NewUniform(p.Fill), image.Point{}, draw.Src)
	}
}

// drawer rasterises shapes onto an image.
type drawer struct {
	img *image.RGBA
	pr  Projector
	r   *vector.Rasterizer
	// paths are the closed paths of the next fill, in image pixels.
	paths [][][2]float32
	// clip is the image grown by a margin: coordinates far outside are clamped so that
	// the rasteriser never sees huge numbers.
	lim float32
}

func newDrawer(img *image.RGBA, pr Projector) *drawer {
	b := img.Bounds()
	return &drawer{img: img, pr: pr, r: vector.NewRasterizer(1, 1), lim: float32(4 * max(b.Dx(), b.Dy()))}
}

func (d *drawer) px(p orb.Point) [2]float32 {
	x, y := d.pr.Pixel(p)
	clamp := func(v float32) float32 {
		if v != v { // NaN
			return 0
		}
		return max(-d.lim, min(d.lim, v))
	}
	return [2]float32{clamp(x), clamp(y)}
}

// fill paints the paths added since the last fill in c. The rasteriser covers only the
// paths' bounding box (clipped to the image): clearing and scanning the whole image for
// every unit would make a map of thousands of units slow.
func (d *drawer) fill(c color.RGBA) {
	paths := d.paths
	d.paths = d.paths[:0]
	if len(paths) == 0 {
		return
	}
	minX, minY := float32(math.MaxFloat32), float32(math.MaxFloat32)
	maxX, maxY := float32(-math.MaxFloat32), float32(-math.MaxFloat32)
	for _, pts := range paths {
		for _, p := range pts {
			minX, minY = min(minX, p[0]), min(minY, p[1])
			maxX, maxY = max(maxX, p[0]), max(maxY, p[1])
		}
	}
	r := image.Rect(int(math.Floor(float64(minX))), int(math.Floor(float64(minY))), int(math.Ceil(float64(maxX)))+1, int(math.Ceil(float64(maxY)))+1).Intersect(d.img.Bounds())
	if r.Empty() {
		return
	}
	d.r.Reset(r.Dx(), r.Dy())
	ox, oy := float32(r.Min.X), float32(r.Min.Y)
	for _, pts := range paths {
		d.r.MoveTo(pts[0][0]-ox, pts[0][1]-oy)
		for _, p := range pts[1:] {
			d.r.LineTo(p[0]-ox, p[1]-oy)
		}
		d.r.ClosePath()
	}
	d.r.DrawOp = draw.Over
	d.r.Draw(d.img, r, image.NewUniform(c), image.Point{})
}

// ring adds a closed path, turned so that its signed area has the sign want (outer rings
// and holes opposite, since the rasteriser sums windings).
func (d *drawer) ring(pts [][2]float32, want float32) {
	if len(pts) < 3 {
		return
	}
	var a float32
	for i := range pts {
		j := (i + 1) % len(pts)
		a += pts[i][0]*pts[j][1] - pts[j][0]*pts[i][1]
	}
	if a*want < 0 {
		slices.Reverse(pts)
	}
	d.paths = append(d.paths, pts)
}

func (d *drawer) rings(p orb.Polygon) [][][2]float32 {
	out := make([][][2]float32, 0, len(p))
	for _, r := range p {
		pts := make([][2]float32, 0, len(r))
		for _, q := range r {
			pts = append(pts, d.px(q))
		}
		out = append(out, pts)
	}
	return out
}

func (d *drawer) polygon(p orb.Polygon, pal Palette) {
	rs := d.rings(p)
	for i, r := range rs {
		d.ring(r, map[bool]float32{true: 1, false: -1}[i == 0])
	}
	d.fill(pal.Fill)
	for _, r := range rs {
		d.stroke(r, true, 1.2)
	}
	d.fill(pal.Outline)
}

// stroke adds the outline of a path of the given width as quads and joints, all turned the
// same way so that overlaps do not cancel.
func (d *drawer) stroke(pts [][2]float32, closed bool, width float32) {
	n := len(pts)
	if n < 2 {
		return
	}
	hw := width / 2
	seg := func(a, b [2]float32) {
		dx, dy := b[0]-a[0], b[1]-a[1]
		l := float32(math.Hypot(float64(dx), float64(dy)))
		if l == 0 {
			return
		}
		nx, ny := -dy/l*hw, dx/l*hw
		d.ring([][2]float32{{a[0] + nx, a[1] + ny}, {b[0] + nx, b[1] + ny}, {b[0] - nx, b[1] - ny}, {a[0] - nx, a[1] - ny}}, 1)
	}
	for i := 0; i+1 < n; i++ {
		seg(pts[i], pts[i+1])
	}
	if closed && pts[0] != pts[n-1] {
		seg(pts[n-1], pts[0])
	}
}

// Point radius and line width in pixels.
const (
	pointRadius = 5
	lineWidth   = 3
)

func (d *drawer) circle(c [2]float32, r float32) [][2]float32 {
	const n = 20
	pts := make([][2]float32, n)
	for i := range pts {
		a := 2 * math.Pi * float64(i) / n
		pts[i] = [2]float32{c[0] + r*float32(math.Cos(a)), c[1] + r*float32(math.Sin(a))}
	}
	return pts
}

func (d *drawer) point(p orb.Point, pal Palette) {
	c := d.px(p)
	d.ring(d.circle(c, pointRadius+1.2), 1)
	d.fill(pal.Outline)
	d.ring(d.circle(c, pointRadius), 1)
	d.fill(pal.Fill)
}

func (d *drawer) line(l orb.LineString, pal Palette) {
	pts := make([][2]float32, len(l))
	for i, q := range l {
		pts[i] = d.px(q)
	}
	d.stroke(pts, false, lineWidth+2)
	d.fill(pal.Outline)
	d.stroke(pts, false, lineWidth)
	d.fill(pal.Fill)
}

func (d *drawer) shape(g orb.Geometry, pal Palette) {
	switch g := g.(type) {
	case orb.Point:
		d.point(g, pal)
	case orb.MultiPoint:
		for _, p := range g {
			d.point(p, pal)
		}
	case orb.LineString:
		d.line(g, pal)
	case orb.MultiLineString:
		for _, l := range g {
			d.line(l, pal)
		}
	case orb.Polygon:
		d.polygon(g, pal)
	case orb.MultiPolygon:
		for _, p := range g {
			d.polygon(p, pal)
		}
	case orb.Ring:
		d.polygon(orb.Polygon{g}, pal)
	case orb.Bound:
		d.polygon(g.ToPolygon(), pal)
	case orb.Collection:
		for _, x := range g {
			d.shape(x, pal)
		}
	}
}

// outline strokes the rings of an area (or a line) thinly, unfilled.
func (d *drawer) outline(g orb.Geometry) {
	var rings []orb.Ring
	switch g := g.(type) {
	case orb.Polygon:
		rings = g
	case orb.MultiPolygon:
		for _, p := range g {
			rings = append(rings, p...)
		}
	case orb.LineString:
		rings = []orb.Ring{orb.Ring(g)}
	case orb.MultiLineString:
		for _, l := range g {
			rings = append(rings, orb.Ring(l))
		}
	}
	for _, r := range rings {
		pts := make([][2]float32, len(r))
		for i, q := range r {
			pts[i] = d.px(q)
		}
		d.stroke(pts, false, 1)
	}
	d.fill(OutlineColour)
}

// markerSide is the side of a marker's square, in pixels.
const markerSide = 9

// marker draws a square at a point; an area gets its outline and a square at its centre.
func (d *drawer) marker(g orb.Geometry) {
	switch g := g.(type) {
	case orb.Point:
		c := d.px(g)
		sq := func(h float32) [][2]float32 {
			return [][2]float32{{c[0] - h, c[1] - h}, {c[0] + h, c[1] - h}, {c[0] + h, c[1] + h}, {c[0] - h, c[1] + h}}
		}
		d.ring(sq(markerSide/2+1.2), 1)
		d.fill(MarkerColour.Outline)
		d.ring(sq(markerSide/2), 1)
		d.fill(MarkerColour.Fill)
	case orb.MultiPoint:
		for _, p := range g {
			d.marker(p)
		}
	case orb.Polygon, orb.MultiPolygon:
		for _, r := range d.areaRings(g) {
			d.stroke(r, true, 2)
		}
		d.fill(MarkerColour.Outline)
		d.marker(g.Bound().Center())
	case orb.LineString, orb.MultiLineString:
		d.marker(g.Bound().Center())
	}
}

func (d *drawer) areaRings(g orb.Geometry) [][][2]float32 {
	switch g := g.(type) {
	case orb.Polygon:
		return d.rings(g)
	case orb.MultiPolygon:
		var out [][][2]float32
		for _, p := range g {
			out = append(out, d.rings(p)...)
		}
		return out
	}
	return nil
}

// Dashes of a conflict line, in pixels.
const (
	dashOn    = 6
	dashOff   = 4
	dashWidth = 2
)

// dashed draws a line dashed; a line too short for a dash is drawn whole, so that every
// conflict shows.
func (d *drawer) dashed(l orb.LineString) {
	for i := 0; i+1 < len(l); i++ {
		a, b := d.px(l[i]), d.px(l[i+1])
		dx, dy := b[0]-a[0], b[1]-a[1]
		n := float32(math.Hypot(float64(dx), float64(dy)))
		if n < dashOn+dashOff {
			d.stroke([][2]float32{a, b}, false, dashWidth)
			continue
		}
		for t := float32(0); t < n; t += dashOn + dashOff {
			e := min(t+dashOn, n)
			d.stroke([][2]float32{{a[0] + dx*t/n, a[1] + dy*t/n}, {a[0] + dx*e/n, a[1] + dy*e/n}}, false, dashWidth)
		}
	}
	d.fill(LineColour)
}
