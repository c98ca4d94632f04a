package mapimage_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/url"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/mapimage"
	"riskmap/pkg/riskmap"
)

// count counts the pixels of each grade's exact fill colour, red first.
func count(img image.Image) [4]int {
	pal := mapimage.Palettes(nil)
	var n [4]int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			for i, p := range pal {
				if c == p.Fill {
					n[i]++
				}
			}
		}
	}
	return n
}

func square(x, y, side float64) orb.Polygon {
	return orb.Polygon{{{x, y}, {x + side, y}, {x + side, y + side}, {x, y + side}, {x, y}}}
}

var box = orb.Bound{Min: orb.Point{102.0, 24.0}, Max: orb.Point{102.1, 24.1}}

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	return img
}

// One unit of each grade: each colour is present, and the areas' pixels stand in the ratio
// of the areas (squares of sides 1, 2, 3 and 4 hundredths of a degree: 1 : 4 : 9 : 16).
func TestEachGradeInItsColourInProportion(t *testing.T) {
	shapes := []mapimage.Shape{
		{ID: 1, Grade: riskmap.GradeRed, Geometry: square(102.005, 24.005, 0.01)},
		{ID: 2, Grade: riskmap.GradeOrange, Geometry: square(102.02, 24.005, 0.02)},
		{ID: 3, Grade: riskmap.GradeYellow, Geometry: square(102.005, 24.04, 0.03)},
		{ID: 4, Grade: riskmap.GradeBlue, Geometry: square(102.05, 24.04, 0.04)},
	}
	raw, err := mapimage.Encode(mapimage.Render(shapes, mapimage.Options{BBox: box, Width: 800, Height: 800}))
	if err != nil {
		t.Fatal(err)
	}
	n := count(decode(t, raw))
	for i, g := range riskmap.Grades {
		if n[i] == 0 {
			t.Fatalf("no pixel of %s's colour: %v", g.Label(), n)
		}
	}
	for i, want := range []float64{1, 4, 9, 16} {
		got := float64(n[i]) / float64(n[0])
		if math.Abs(got-want)/want > 0.15 {
			t.Errorf("%s covers %.2f times the red unit's pixels, want about %v (counts %v)", riskmap.Grades[i].Label(), got, want, n)
		}
	}
	// White elsewhere: the four squares cover 30% of the box.
	total := n[0] + n[1] + n[2] + n[3]
	if frac := float64(total) / (800 * 800); frac < 0.2 || frac > 0.35 {
		t.Errorf("the units cover %.2f of the image, want about 0.30", frac)
	}
}

// Points drawn in their grade's colour, as many coloured dots as units: three red points,
// one blue; the red pixels are about three times the blue.
func TestPointsCountedByGrade(t *testing.T) {
	var shapes []mapimage.Shape
	for i := range 3 {
		shapes = append(shapes, mapimage.Shape{ID: int64(i + 1), Grade: riskmap.GradeRed, Geometry: orb.Point{102.01 + 0.02*float64(i), 24.05}})
	}
	shapes = append(shapes, mapimage.Shape{ID: 9, Grade: riskmap.GradeBlue, Geometry: orb.Point{102.08, 24.08}})
	n := count(mapimage.Render(shapes, mapimage.Options{BBox: box, Width: 400, Height: 400}))
	if n[1] != 0 || n[2] != 0 {
		t.Fatalf("orange or yellow pixels with no such unit: %v", n)
	}
	if r := float64(n[0]) / float64(n[3]); math.Abs(r-3) > 0.2 {
		t.Errorf("red pixels are %.2f times the blue, want 3 (three red points, one blue): %v", r, n)
	}
}

// A higher grade is drawn over a lower one; a hole stays white.
func TestRedOnTopAndHoles(t *testing.T) {
	big := square(102.0, 24.0, 0.1)
	hole := orb.Polygon{big[0], orb.Ring{{102.04, 24.04}, {102.04, 24.06}, {102.06, 24.06}, {102.06, 24.04}, {102.04, 24.04}}}
	shapes := []mapimage.Shape{
		{ID: 1, Grade: riskmap.GradeRed, Geometry: square(102.07, 24.07, 0.02)},
		{ID: 2, Grade: riskmap.GradeBlue, Geometry: hole},
	}
	img := mapimage.Render(shapes, mapimage.Options{BBox: box, Width: 500, Height: 500})
	pal := mapimage.Palettes(nil)
	pr := mapimage.NewProjector(box, 500, 500)
	at := func(lon, lat float64) color.RGBA {
		x, y := pr.Pixel(orb.Point{lon, lat})
		return img.RGBAAt(int(x), int(y))
	}
	if c := at(102.08, 24.08); c != pal[0].Fill {
		t.Errorf("inside the red unit the colour is %v, want red %v", c, pal[0].Fill)
	}
	if c := at(102.05, 24.05); c != (color.RGBA{255, 255, 255, 255}) {
		t.Errorf("inside the hole the colour is %v, want white", c)
	}
	if c := at(102.02, 24.02); c != pal[3].Fill {
		t.Errorf("in the blue unit the colour is %v, want blue", c)
	}
}

// The legend shows the four colours even on an empty map; the same input gives the same
// bytes.
func TestLegendAndDeterminism(t *testing.T) {
	o := mapimage.Options{BBox: box, Width: 300, Height: 200, Legend: true}
	a, _ := mapimage.Encode(mapimage.Render(nil, o))
	b, _ := mapimage.Encode(mapimage.Render(nil, o))
	if !bytes.Equal(a, b) {
		t.Fatal("the same map drawn twice differs")
	}
	n := count(decode(t, a))
	for i, g := range riskmap.Grades {
		if n[i] != (mapimage.LegendBox-2)*(mapimage.LegendBox-2) {
			t.Errorf("legend box of %s has %d pixels of its colour", g.Label(), n[i])
		}
	}
}

func TestParseQuery(t *testing.T) {
	r, err := mapimage.ParseQuery(url.Values{})
	if err != nil || r.Width != 1200 || r.Height != 900 || r.Layer != "units" || r.BBox != nil || !r.Legend {
		t.Fatalf("defaults: %+v %v", r, err)
	}
	r, err = mapimage.ParseQuery(url.Values{"bbox": {"102.1,24.2,102.9,24.9"}, "width": {"640"}, "height": {"480"}, "layer": {"regions"}, "legend": {"0"}, "level": {"street"}})
	if err != nil || r.Width != 640 || r.Height != 480 || r.Layer != "regions" || r.BBox == nil || r.BBox.Max[1] != 24.9 || r.Legend || r.Level != "street" {
		t.Fatalf("parsed: %+v %v", r, err)
	}
	for _, q := range []url.Values{
		{"width": {"5000"}}, {"width": {"0"}}, {"height": {"x"}}, {"layer": {"tiles"}},
		{"bbox": {"1,2,3"}}, {"bbox": {"3,2,1,4"}}, {"bbox": {"1,2,3,NaN"}}, {"bbox": {"-200,0,1,1"}},
		{"legend": {"maybe"}}, {"level": {"city"}}, {"width": {"100", "200"}},
	} {
		if _, err := mapimage.ParseQuery(q); err == nil {
			t.Errorf("%v accepted", q)
		} else if code, msg, _ := riskmap.ClientError(err, riskmap.Chinese); code != riskmap.EINVALID || msg == "" {
			t.Errorf("%v: %s %q", q, code, msg)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	f.Add("bbox=102.1,24.2,102.9,24.9&width=640&height=480&layer=regions&legend=0&level=street")
	f.Add("width=99999999999999999999&bbox=1e308,1,2,3")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		r, err := mapimage.ParseQuery(q)
		if err != nil {
			return
		}
		if r.Width < mapimage.MinSide || r.Width > mapimage.MaxSide || r.Height < mapimage.MinSide || r.Height > mapimage.MaxSide {
			t.Fatalf("size %dx%d accepted", r.Width, r.Height)
		}
		if r.BBox != nil && !(r.BBox.Min[0] < r.BBox.Max[0] && r.BBox.Min[1] < r.BBox.Max[1]) {
			t.Fatalf("bbox %v accepted", r.BBox)
		}
		b := mapimage.Extent(orb.Bound{Min: orb.Point{102, 24}, Max: orb.Point{102, 24}})
		if r.BBox != nil {
			b = *r.BBox
		}
		mapimage.Render([]mapimage.Shape{{ID: 1, Grade: riskmap.GradeRed, Geometry: orb.Point{102, 24}}}, mapimage.Options{BBox: b, Width: 32, Height: 32})
	})
}

// BenchmarkRender3000 draws 3000 small polygons and points, about the demo city.
func BenchmarkRender3000(b *testing.B) {
	var shapes []mapimage.Shape
	for i := range 3000 {
		x, y := 102.0+float64(i%60)*0.0016, 24.0+float64(i/60)*0.0019
		var g orb.Geometry = orb.Point{x, y}
		if i%2 == 0 {
			g = square(x, y, 0.001)
		}
		shapes = append(shapes, mapimage.Shape{ID: int64(i), Grade: riskmap.Grades[i%4], Geometry: g})
	}
	for b.Loop() {
		if _, err := mapimage.Encode(mapimage.Render(shapes, mapimage.Options{BBox: box, Width: 1200, Height: 900, Legend: true})); err != nil {
			b.Fatal(err)
		}
	}
}

// The conflict map's overlays: region outlines under the units, targets as squares in the
// marker colour over them, and conflict lines dashed on top, none in a grade's colour.
func TestOverlays(t *testing.T) {
	unit := orb.Point{102.03, 24.05}
	target := orb.Point{102.07, 24.05}
	o := mapimage.Options{BBox: box, Width: 400, Height: 400,
		Outlines: []orb.Geometry{orb.MultiPolygon{square(102.001, 24.001, 0.098)}},
		Markers:  []orb.Geometry{target, square(102.04, 24.08, 0.01)},
		Lines:    []orb.LineString{{unit, target}, {target, target}},
	}
	shapes := []mapimage.Shape{{ID: 1, Grade: riskmap.GradeOrange, Geometry: unit}}
	raw, err := mapimage.Encode(mapimage.Render(shapes, o))
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, raw)
	pr := mapimage.NewProjector(box, 400, 400)
	at := func(p orb.Point) color.RGBA {
		x, y := pr.Pixel(p)
		return color.RGBAModel.Convert(img.At(int(x), int(y))).(color.RGBA)
	}
	if c := at(target); c != mapimage.MarkerColour.Fill {
		t.Errorf("the target's pixel is %v, want the marker colour", c)
	}
	if c := at(orb.Point{unit[0], unit[1] + 0.0007}); c != mapimage.Palettes(nil)[1].Fill {
		t.Errorf("the unit's pixel is %v, want orange", c)
	}
	if c := at(orb.Point{102.045, 24.085}); c != mapimage.MarkerColour.Fill {
		t.Errorf("an area target's centre is %v, want the marker colour", c)
	}
	// Along the line: dashes and gaps, the dashes in the line colour.
	var dash, gap int
	x0, y := pr.Pixel(orb.Point{102.035, 24.05})
	x1, _ := pr.Pixel(orb.Point{102.065, 24.05})
	for x := int(x0); x < int(x1); x++ {
		switch color.RGBAModel.Convert(img.At(x, int(y))).(color.RGBA) {
		case mapimage.LineColour:
			dash++
		case color.RGBA{255, 255, 255, 255}:
			gap++
		}
	}
	if dash == 0 || gap == 0 || dash < gap {
		t.Errorf("along the line %d dash pixels and %d gap pixels", dash, gap)
	}
	// The outline is grey where nothing else is drawn.
	ox, oy := pr.Pixel(orb.Point{102.05, 24.001})
	found := false
	for dy := -2; dy <= 2; dy++ {
		c := color.RGBAModel.Convert(img.At(int(ox), int(oy)+dy)).(color.RGBA)
		found = found || (c.R == c.G && c.G == c.B && c.R < 0xF0 && c.R > 0x60)
	}
	if !found {
		t.Error("no grey outline at the region's edge")
	}
	// Deterministic.
	again, _ := mapimage.Encode(mapimage.Render(shapes, o))
	if !bytes.Equal(raw, again) {
		t.Error("the same map drawn twice differs")
	}
}

// A shape with its own palette is drawn in it, under the graded shapes.
func TestOwnPalette(t *testing.T) {
	green := mapimage.Palette{Fill: color.RGBA{0x2C, 0xA2, 0x5F, 255}, Outline: color.RGBA{0x1B, 0x5E, 0x20, 255}}
	shapes := []mapimage.Shape{
		{ID: 2, Grade: riskmap.GradeRed, Geometry: orb.Point{102.05, 24.05}},
		{ID: 1, Palette: &green, Geometry: square(102.01, 24.01, 0.08)},
	}
	img := mapimage.Render(shapes, mapimage.Options{BBox: box, Width: 200, Height: 200})
	pr := mapimage.NewProjector(box, 200, 200)
	at := func(p orb.Point) color.RGBA {
		x, y := pr.Pixel(p)
		return img.RGBAAt(int(x), int(y))
	}
	if c := at(orb.Point{102.02, 24.02}); c != green.Fill {
		t.Errorf("the area is %v, want its own fill", c)
	}
	if c := at(orb.Point{102.05, 24.05}); c != mapimage.Palettes(nil)[0].Fill {
		t.Errorf("the red unit on it is %v, want red on top", c)
	}
}
