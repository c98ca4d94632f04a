package reportdoc

import (
	"image"
	"image/color"
	"image/draw"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"riskmap/pkg/mapimage"
)

// Chart sizes, in pixels.
const (
	chartWidth  = 1600
	chartRow    = 44
	chartLabelW = 360
)

// chartPNG draws rows as horizontal bars stacked by grade (red, orange, yellow, blue), each
// labelled with its name and total, with a key of the grades on top.
func chartPNG(f *Font, rows []CountRow, grades [4]GradeInfo) ([]byte, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	h := 90 + chartRow*len(rows) + 20
	img := image.NewRGBA(image.Rect(0, 0, chartWidth, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	opt := &opentype.FaceOptions{Size: 24, DPI: 72, Hinting: font.HintingNone}
	face, err := opentype.NewFace(f.face, opt)
	if err != nil {
		return nil, err
	}
	defer face.Close()
	latin := face
	if f.Latin != nil {
		if latin, err = opentype.NewFace(f.Latin.face, opt); err != nil {
			return nil, err
		}
		defer latin.Close()
	}
	ink := image.NewUniform(color.RGBA{0x33, 0x33, 0x33, 0xff})
	text := func(s string, x, y int) {
		d := font.Drawer{Dst: img, Src: ink, Face: face, Dot: fixed.P(x, y)}
		for _, seg := range f.segments(s) {
			d.Face = face
			if seg.latin {
				d.Face = latin
			}
			d.DrawString(seg.text)
		}
	}
	// The key.
	x := chartLabelW
	for _, g := range grades {
		c, _ := mapimage.ParseHex(g.Fill)
		draw.Draw(img, image.Rect(x, 30, x+28, 58), image.NewUniform(c), image.Point{}, draw.Src)
		text(g.Label, x+36, 53)
		x += 260
	}
	most := 1
	for _, r := range rows {
		most = max(most, r.Sum())
	}
	barW := chartWidth - chartLabelW - 120
	for i, r := range rows {
		y := 90 + i*chartRow
		label := []rune(r.Label)
		if len(label) > 13 {
			label = append(label[:12], '…')
		}
		text(string(label), 16, y+30)
		x := chartLabelW
		for j, n := range r.Counts {
			if n == 0 {
				continue
			}
			w := max(1, n*barW/most)
			c, _ := mapimage.ParseHex(grades[j].Fill)
			draw.Draw(img, image.Rect(x, y+6, x+w, y+chartRow-6), image.NewUniform(c), image.Point{}, draw.Src)
			x += w
		}
		text(strconv.Itoa(r.Sum()), x+10, y+30)
	}
	return mapimage.Encode(img)
}
