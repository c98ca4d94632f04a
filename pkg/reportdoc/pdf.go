package reportdoc

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strconv"
	"strings"
	"unicode"

	"codeberg.org/go-pdf/fpdf"

	"riskmap/pkg/mapimage"
)

// Page layout, in millimetres (A4).
const (
	pageW   = 210.0
	pageH   = 297.0
	margin  = 18.0
	bodyW   = pageW - 2*margin
	bottom  = pageH - 20.0
	lineH   = 5.0
	bodyPt  = 10.5
	smallPt = 8.5
)

// PDF writes the report as a PDF with f embedded (a subset: only the characters used).
func PDF(d *Data, f *Font) ([]byte, error) {
	charts, err := makeCharts(d, f)
	if err != nil {
		return nil, err
	}
	p := fpdf.New("P", "mm", "A4", "")
	p.SetCompression(true)
	p.SetCreationDate(d.Date)
	p.SetModificationDate(d.Date)
	p.SetCatalogSort(true)
	p.SetProducer("riskmap", true)
	p.SetCreator("riskmap", true)
	p.SetTitle(d.Title(), true)
	p.SetAuthor(d.Publisher, true)
	p.SetSubject(d.Scope, true)
	p.AddUTF8FontFromBytes("cjk", "", f.Bytes)
	if f.Latin != nil {
		p.AddUTF8FontFromBytes("latin", "", f.Latin.Bytes)
	}
	p.SetMargins(margin, margin, margin)
	p.SetCellMargin(0) // text runs in two fonts sit side by side
	p.SetAutoPageBreak(false, 20)
	w := &pdfWriter{p: p, d: d, f: f, widths: map[int]bool{}, runeW: map[runeKey]float64{}}
	p.SetFooterFunc(func() {
		if p.PageNo() == 1 {
			return
		}
		size := w.size
		w.font(smallPt)
		p.SetTextColor(110, 110, 110)
		w.text(margin, pageH-14, bodyW, 5, "C", fmt.Sprintf("%s · 第 %d 页", d.Title(), p.PageNo()))
		p.SetTextColor(0, 0, 0)
		w.font(size)
	})
	w.cover()
	w.summary(charts)
	w.maps()
	w.majors()
	w.regions()
	w.hazards()
	w.conflicts()
	w.coverage()
	w.monitoring()
	if err := p.Error(); err != nil {
		return nil, fmt.Errorf("reportdoc: %w", err)
	}
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		return nil, fmt.Errorf("reportdoc: %w", err)
	}
	return buf.Bytes(), nil
}

// charts are the chart images of a report.
type charts struct{ byCategory, byRegion []byte }

func makeCharts(d *Data, f *Font) (charts, error) {
	var c charts
	var err error
	if c.byCategory, err = chartPNG(f, d.ByCategory, d.Grades); err != nil {
		return c, err
	}
	if c.byRegion, err = chartPNG(f, d.ByRegion, d.Grades); err != nil {
		return c, err
	}
	return c, nil
}

type pdfWriter struct {
	p      *fpdf.Fpdf
	d      *Data
	f      *Font
	size   float64 // the font size in points
	images int
	widths map[int]bool // the pixel widths of the images placed
	runeW  map[runeKey]float64
}

// runeKey is a character in one of the two fonts.
type runeKey struct {
	latin bool
	r     rune
}

// runeWidth is the width of r at the current size, in mm, in the font that draws it.
func (w *pdfWriter) runeWidth(r rune) float64 {
	k := runeKey{w.f.latin(r), r}
	u, ok := w.runeW[k]
	if !ok {
		w.setFace(k.latin, 1000)
		u = w.p.GetStringWidth(string(r)) / 1000
		w.runeW[k] = u
		w.setFace(false, w.size)
	}
	return u * w.size
}

func (w *pdfWriter) setFace(latin bool, size float64) {
	if latin {
		w.p.SetFont("latin", "", size)
	} else {
		w.p.SetFont("cjk", "", size)
	}
}

// width is the width of s at the current size, in mm.
func (w *pdfWriter) width(s string) float64 {
	var t float64
	for _, r := range s {
		t += w.runeWidth(r)
	}
	return t
}

// text writes one line of s in the box (x, y, wd, h), aligned L, C or R, switching between
// the CJK and the Latin font as its characters need.
func (w *pdfWriter) text(x, y, wd, h float64, align, s string) {
	tw := w.width(s)
	switch align {
	case "C":
		x += (wd - tw) / 2
	case "R":
		x += wd - tw
	}
	for _, seg := range w.f.segments(s) {
		w.setFace(seg.latin, w.size)
		sw := w.width(seg.text)
		w.p.SetXY(x, y)
		w.p.CellFormat(sw, h, seg.text, "", 0, "L", false, 0, "")
		x += sw
	}
	w.setFace(false, w.size)
}

// lines writes text wrapped to the body width, each line h high, aligned, from the current y.
func (w *pdfWriter) lines(text string, h float64, align string) {
	for _, l := range w.wrap(text, bodyW) {
		w.need(h)
		y := w.p.GetY()
		w.text(margin, y, bodyW, h, align, l)
		w.p.SetXY(margin, y+h)
	}
}

// uniqueWidth returns png, or png widened by white columns on the right until no other
// image of the document has its width: fpdf orders the images it writes by width alone
// (SetCatalogSort), so images of the same width would come out in random order and the
// same report would not be the same bytes.
func (w *pdfWriter) uniqueWidth(raw []byte) []byte {
	cfg, err := png.DecodeConfig(bytes.NewReader(raw))
	if err != nil {
		return raw
	}
	extra := 0
	for w.widths[cfg.Width+extra] {
		extra++
	}
	w.widths[cfg.Width+extra] = true
	if extra == 0 {
		return raw
	}
	src, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		return raw
	}
	b := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx()+extra, b.Dy()))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(dst, b.Sub(b.Min), src, b.Min, draw.Src)
	out, err := mapimage.Encode(dst)
	if err != nil {
		return raw
	}
	return out
}

func (w *pdfWriter) font(size float64) { w.size = size; w.p.SetFont("cjk", "", size) }

func (w *pdfWriter) cover() {
	p, d := w.p, w.d
	p.AddPage()
	w.font(26)
	p.SetY(80)
	w.lines(d.Title(), 13, "C")
	p.Ln(8)
	w.font(13)
	w.lines(d.Scope, 8, "C")
	if d.Filters != "" {
		w.font(bodyPt)
		w.lines("筛选条件："+d.Filters, 6, "C")
	}
	p.SetY(210)
	w.font(14)
	w.lines(d.Publisher, 9, "C")
	w.lines(dateText(d.Date), 9, "C")
}

// heading starts a section on a new page.
func (w *pdfWriter) heading(text string) {
	w.p.AddPage()
	w.font(16)
	w.lines(text, 10, "L")
	w.p.Ln(2)
}

func (w *pdfWriter) subheading(text string) {
	w.need(14)
	w.font(12.5)
	w.p.Ln(2)
	w.lines(text, 8, "L")
}

// para writes a paragraph of body text.
func (w *pdfWriter) para(text string) {
	w.font(bodyPt)
	w.lines(text, lineH+1, "L")
	w.p.Ln(1)
}

// need starts a new page unless h millimetres fit on this one.
func (w *pdfWriter) need(h float64) {
	if w.p.GetY()+h > bottom {
		w.p.AddPage()
	}
}

// wrap breaks text into lines no wider than width at the current font: between any two
// Chinese characters, and at spaces within Latin text when it can.
func (w *pdfWriter) wrap(text string, width float64) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		rs := []rune(para)
		if len(rs) == 0 {
			out = append(out, "")
			continue
		}
		start, lw, lastSpace := 0, 0.0, -1
		for i := 0; i < len(rs); i++ {
			cw := w.runeWidth(rs[i])
			if lw+cw > width && i > start {
				cut := i
				if lastSpace > start && rs[i] < 0x2E80 && !unicode.IsSpace(rs[i]) {
					cut = lastSpace + 1
				} else if strings.ContainsRune("。，、；：）」』”！？%", rs[cut]) && cut-1 > start {
					cut-- // closing punctuation never starts a line: take a character with it
				}
				out = append(out, strings.TrimRight(string(rs[start:cut]), " "))
				start, lw, lastSpace = cut, 0, -1
				for j := start; j < i; j++ {
					lw += w.runeWidth(rs[j])
				}
			}
			if rs[i] == ' ' {
				lastSpace = i
			}
			lw += cw
		}
		out = append(out, string(rs[start:]))
	}
	return out
}

// column is a table column: its header, width (mm), alignment and, optionally, a fill per
// row.
type column struct {
	head  string
	width float64
	align string
}

// table draws rows, with the header repeated on every page; fill gives a cell's background
// (#RRGGBB) or "".
func (w *pdfWriter) table(cols []column, rows [][]string, fill func(row, col int) string) {
	p := w.p
	const pad = 1.2
	const lh = 4.4
	// The header wraps in narrow columns.
	w.font(smallPt + 0.5)
	heads := make([][]string, len(cols))
	hh := 7.0
	for i, c := range cols {
		heads[i] = w.wrap(c.head, c.width-2*pad)
		hh = max(hh, float64(len(heads[i]))*lh+2.6)
	}
	header := func() {
		w.font(smallPt + 0.5)
		p.SetFillColor(0xEE, 0xEE, 0xEE)
		x := margin
		y := p.GetY()
		for i, c := range cols {
			p.Rect(x, y, c.width, hh, "FD")
			top := y + (hh-float64(len(heads[i]))*lh)/2
			for li, l := range heads[i] {
				w.text(x, top+float64(li)*lh, c.width, lh, "C", l)
			}
			x += c.width
		}
		p.SetXY(margin, y+hh)
	}
	w.need(hh + 2*lh)
	header()
	w.font(smallPt)
	for ri, row := range rows {
		lines := make([][]string, len(cols))
		n := 1
		for ci, c := range cols {
			lines[ci] = w.wrap(row[ci], c.width-2*pad)
			n = max(n, len(lines[ci]))
		}
		h := float64(n)*lh + 2*pad
		if p.GetY()+h > bottom {
			p.AddPage()
			header()
			w.font(smallPt)
		}
		y := p.GetY()
		x := margin
		for ci, c := range cols {
			style := "D"
			if fill != nil {
				if hex := fill(ri, ci); hex != "" {
					col, _ := mapimage.ParseHex(hex)
					p.SetFillColor(int(col.R), int(col.G), int(col.B))
					style = "FD"
				}
			}
			p.Rect(x, y, c.width, h, style)
			for li, l := range lines[ci] {
				w.text(x+pad, y+pad+float64(li)*lh, c.width-2*pad, lh, c.align, l)
			}
			x += c.width
		}
		p.SetXY(margin, y+h)
	}
	p.Ln(3)
}

// image places a PNG across the body width (at most maxH mm high).
func (w *pdfWriter) image(png []byte, aspect, maxH float64) {
	if len(png) == 0 {
		return
	}
	p := w.p
	wd := bodyW
	h := wd * aspect
	if h > maxH {
		h, wd = maxH, maxH/aspect
	}
	w.need(h + 2)
	w.images++
	png = w.uniqueWidth(png)
	name := "img" + strconv.Itoa(w.images)
	p.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(png))
	y := p.GetY()
	p.ImageOptions(name, margin+(bodyW-wd)/2, y, wd, h, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	p.SetY(y + h + 2)
}

// legend writes the four grades as coloured boxes with their names.
func (w *pdfWriter) legend() {
	var items []legendItem
	for _, g := range w.d.Grades {
		items = append(items, legendItem{g.Label, g.Fill})
	}
	w.legendOf(items)
}

// legendOf writes coloured boxes with their names in a row.
func (w *pdfWriter) legendOf(items []legendItem) {
	p := w.p
	w.need(8)
	w.font(bodyPt)
	x, y := margin, p.GetY()+1
	step := min(40, bodyW/float64(max(len(items), 1)))
	for _, it := range items {
		c, _ := mapimage.ParseHex(it.fill)
		p.SetFillColor(int(c.R), int(c.G), int(c.B))
		p.Rect(x, y, 5, 5, "FD")
		w.text(x+6, y, step-6, 5, "L", it.label)
		x += step
	}
	p.SetXY(margin, y+8)
}

func (w *pdfWriter) gradeFill(g int) string { return w.d.Grades[g].Fill }

func countTable(d *Data, first string, rows []CountRow) ([]column, [][]string) {
	cols := []column{{first, 46, "L"}}
	for _, g := range d.Grades {
		cols = append(cols, column{g.Short, 20, "R"})
	}
	cols = append(cols, column{"合计", 22, "R"}, column{"占比", 26, "R"})
	var out [][]string
	total := d.SumTotal()
	for _, r := range rows {
		row := []string{r.Label}
		for _, n := range r.Counts {
			row = append(row, strconv.Itoa(n))
		}
		out = append(out, append(row, strconv.Itoa(r.Sum()), pct(r.Sum(), total)))
	}
	totalRow := []string{"合计"}
	for _, n := range d.Total {
		totalRow = append(totalRow, strconv.Itoa(n))
	}
	out = append(out, append(totalRow, strconv.Itoa(total), pct(total, total)))
	return cols, out
}

// Section texts shared by both formats.

func summaryText(d *Data) string {
	t := d.SumTotal()
	var b strings.Builder
	fmt.Fprintf(&b, "本报告依据风险清单（%s）编制，截至%s，共有风险单元 %d 个，其中", d.Scope, dateText(d.Date), t)
	for i, g := range d.Grades {
		if i > 0 {
			b.WriteString("，")
		}
		fmt.Fprintf(&b, "%s %d 个（%s）", g.Label, d.Total[i], pct(d.Total[i], t))
	}
	b.WriteString("。")
	return b.String()
}

func (w *pdfWriter) summary(c charts) {
	d := w.d
	w.heading("一、风险单元总体情况")
	w.para(summaryText(d))
	w.subheading("（一）按等级统计")
	cols := []column{{"风险等级", 60, "L"}, {"单元数", 50, "R"}, {"占比", 64, "R"}}
	var rows [][]string
	for i, g := range d.Grades {
		rows = append(rows, []string{g.Label, strconv.Itoa(d.Total[i]), pct(d.Total[i], d.SumTotal())})
	}
	w.table(cols, rows, func(r, col int) string {
		if col == 0 {
			return w.gradeFill(r)
		}
		return ""
	})
	w.subheading("（二）按行业领域统计")
	cols, rows = countTable(d, "行业领域", d.ByCategory)
	w.table(cols, rows, nil)
	w.image(c.byCategory, chartAspect(len(d.ByCategory)), 120)
	w.subheading("（三）按街道（区域）统计")
	cols, rows = countTable(d, "街道/区域", d.ByRegion)
	w.table(cols, rows, nil)
	w.image(c.byRegion, chartAspect(len(d.ByRegion)), 120)
}

func chartAspect(rows int) float64 {
	return float64(90+chartRow*rows+20) / chartWidth
}

func (w *pdfWriter) maps() {
	d := w.d
	w.heading("二、红橙黄蓝四色安全风险空间分布图")
	// A map keeps its heading and legend on its page.
	keep := bodyW * d.MapAspect
	if keep > 150 {
		keep = 150
	}
	keep += 14 + 10
	if d.UnitMap != nil {
		w.need(keep)
		w.subheading("（一）风险单元分布图")
		w.image(d.UnitMap, d.MapAspect, 150)
		w.legend()
	}
	if d.RegionMap != nil {
		w.need(keep)
		w.subheading("（二）区域风险等级图")
		w.image(d.RegionMap, d.MapAspect, 150)
		w.legend()
	}
}

func majorsIntro(d *Data) string {
	return fmt.Sprintf("重大风险 %d 个、较大风险 %d 个，逐一列明管控措施和责任部门如下。", d.Total[0], d.Total[1])
}

func majorRows(d *Data) [][]string {
	rows := make([][]string, len(d.Major))
	for i, r := range d.Major {
		dept := r.Department
		if r.Unit != "" {
			dept += "\n" + r.Unit
		}
		rows[i] = []string{strconv.Itoa(i + 1), r.Code, r.Name, r.Category, r.Region, r.Grade.ShortLabel(), r.Controls, dept}
	}
	return rows
}

// majorWidths are the widths of the columns of the list of 重大 and 较大 risks, in mm: the
// controls take the most room.
var majorWidths = []float64{8, 20, 24, 15, 15, 9, 63, 20}

var majorHeads = []string{"序号", "风险编号", "风险点名称", "行业领域", "所在区域", "等级", "管控措施", "责任部门/单位"}

func (w *pdfWriter) majors() {
	d := w.d
	w.heading("三、重大和较大风险清单")
	w.para(majorsIntro(d))
	if len(d.Major) == 0 {
		return
	}
	cols := make([]column, len(majorWidths))
	for i, wd := range majorWidths {
		cols[i] = column{majorHeads[i], wd, "L"}
	}
	cols[0].align, cols[5].align = "C", "C"
	w.table(cols, majorRows(d), func(r, col int) string {
		if col == 5 {
			return w.gradeFill(d.Major[r].Grade.Rank() - 1)
		}
		return ""
	})
}

var regionHeads = []string{"区域", "层级", "重大", "较大", "一般", "低", "区域等级", "说明"}

func regionRows(d *Data) [][]string {
	rows := make([][]string, len(d.Regions))
	for i, r := range d.Regions {
		rows[i] = []string{r.Name, r.Level, strconv.Itoa(r.Counts[0]), strconv.Itoa(r.Counts[1]), strconv.Itoa(r.Counts[2]), strconv.Itoa(r.Counts[3]), r.Grade.Label(), r.Explanation}
	}
	return rows
}

func (w *pdfWriter) regions() {
	d := w.d
	w.heading("四、区域风险等级")
	if d.RegionsNote != "" {
		w.para(d.RegionsNote)
	}
	if len(d.Regions) == 0 {
		return
	}
	widths := []float64{28, 12, 10, 10, 10, 10, 18, 76}
	cols := make([]column, len(widths))
	for i := range widths {
		cols[i] = column{regionHeads[i], widths[i], "L"}
	}
	for i := 2; i <= 5; i++ {
		cols[i].align = "R"
	}
	w.table(cols, regionRows(d), func(r, col int) string {
		if col == 6 {
			if g := d.Regions[r].Grade.Rank(); g > 0 {
				return w.gradeFill(g - 1)
			}
		}
		return ""
	})
}

var hazardHeads = []string{"行业领域", "隐患总数", "已销号", "未销号", "重大未销号", "逾期未整改", "七日内到期"}

func hazardRows(h *HazardPart) [][]string {
	var rows [][]string
	for _, r := range append(append([]HazardRow{}, h.ByCategory...), h.Total) {
		rows = append(rows, []string{r.Label, strconv.Itoa(r.Total), strconv.Itoa(r.Closed), strconv.Itoa(r.Open), strconv.Itoa(r.OpenMajor), strconv.Itoa(r.Overdue), strconv.Itoa(r.DueSoon)})
	}
	return rows
}

func hazardText(h *HazardPart) string {
	t := h.Total
	return fmt.Sprintf("共排查隐患 %d 项，已销号 %d 项，未销号 %d 项，其中重大隐患未销号 %d 项，逾期未整改 %d 项。", t.Total, t.Closed, t.Open, t.OpenMajor, t.Overdue)
}

var openMajorHeads = []string{"隐患编号", "所属单元", "隐患描述", "整改期限", "责任部门", "状态"}

func openMajorRows(h *HazardPart) [][]string {
	rows := make([][]string, len(h.OpenMajor))
	for i, it := range h.OpenMajor {
		rows[i] = []string{it.Code, it.Unit, it.Description, it.Deadline, it.Department, it.Status}
	}
	return rows
}

func (w *pdfWriter) hazards() {
	d := w.d
	w.heading("五、隐患排查治理情况")
	if d.Hazards == nil {
		w.para(d.HazardsNote)
		return
	}
	w.para(hazardText(d.Hazards))
	widths := []float64{44, 22, 22, 22, 22, 21, 21}
	cols := make([]column, len(widths))
	for i := range widths {
		cols[i] = column{hazardHeads[i], widths[i], "R"}
	}
	cols[0].align = "L"
	w.table(cols, hazardRows(d.Hazards), nil)
	if len(d.Hazards.OpenMajor) > 0 {
		w.subheading("未销号的重大隐患")
		widths := []float64{26, 32, 56, 20, 24, 16}
		cols := make([]column, len(widths))
		for i := range widths {
			cols[i] = column{openMajorHeads[i], widths[i], "L"}
		}
		w.table(cols, openMajorRows(d.Hazards), nil)
		if d.Hazards.OpenMajorMore > 0 {
			w.para(fmt.Sprintf("另有 %d 项未列出。", d.Hazards.OpenMajorMore))
		}
	}
}

// columns makes table columns of heads, widths and aligns.
func columns(heads []string, widths []float64, aligns []string) []column {
	cols := make([]column, len(heads))
	for i := range heads {
		cols[i] = column{heads[i], widths[i], aligns[i]}
	}
	return cols
}

func (w *pdfWriter) conflicts() {
	d := w.d
	w.heading("六、安全距离分析")
	c := d.Conflicts
	if c == nil {
		w.para(d.ConflictsNote)
		return
	}
	w.para(conflictText(c))
	if len(c.Maps) > 0 {
		w.subheading("（一）安全距离冲突分布图")
		for _, m := range c.Maps {
			w.need(min(bodyW*m.Aspect, 150) + 10 + 8 + 12)
			w.font(bodyPt)
			w.lines(m.Caption, lineH+1, "C")
			w.image(m.PNG, m.Aspect, 150)
			w.legend()
		}
		w.font(smallPt)
		w.lines(conflictMapNote, lineH, "L")
		w.p.Ln(2)
	}
	if len(c.Rows) == 0 {
		return
	}
	w.subheading(conflictListHeading(c))
	w.table(columns(conflictHeads, conflictWidths, conflictAligns), conflictRows(c), func(r, col int) string {
		if g := c.Rows[r].Grade.Rank(); col == 2 && g > 0 {
			return w.gradeFill(g - 1)
		}
		return ""
	})
	if c.More > 0 {
		w.para(fmt.Sprintf("另有 %d 处冲突未列出，见系统中的冲突清单（可导出 CSV）。", c.More))
	}
}

func (w *pdfWriter) coverage() {
	d := w.d
	w.heading("七、应急避难场所覆盖")
	c := d.Coverage
	if c == nil {
		w.para(d.CoverageNote)
		return
	}
	w.para(coverageText(c))
	cols := columns(coverageHeads, coverageWidths, coverageAligns)
	fill := func(rows []CoverageRow) func(r, col int) string {
		return func(r, col int) string {
			if col == len(coverageHeads)-1 {
				return classFill(rows[r].Class)
			}
			return ""
		}
	}
	if len(c.Districts) > 0 {
		w.subheading("（一）按区县统计")
		w.table(cols, coverageRows(c, c.Districts), fill(c.Districts))
	}
	if len(c.Streets) > 0 {
		w.subheading("（二）按街道统计")
		w.table(cols, coverageRows(c, c.Streets), fill(c.Streets))
	}
	if m := c.Map; m != nil {
		w.need(min(bodyW*m.Aspect, 150) + 14 + 8 + 10)
		w.subheading("（三）应急避难场所分布与人均面积图")
		w.font(bodyPt)
		w.lines(m.Caption, lineH+1, "C")
		w.image(m.PNG, m.Aspect, 150)
		w.legendOf(coverageLegend())
	}
}
