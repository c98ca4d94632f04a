package reportdoc

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DOCX layout: A4 in twentieths of a point (twips), margins of 18 mm, images in EMU.
const (
	twipsPerMM = 56.6929
	emuPerMM   = 36000
	docBodyMM  = 174.0
)

// DOCX writes the report as a Word document (OOXML written by hand: document, styles,
// tables, PNG images). The zip's entries are in a fixed order with the report's date, so
// the same Data gives the same bytes. f draws the charts' labels.
func DOCX(d *Data, f *Font) ([]byte, error) {
	c, err := makeCharts(d, f)
	if err != nil {
		return nil, err
	}
	w := &docxWriter{d: d}
	w.cover()
	w.summary(c)
	w.maps()
	w.majors()
	w.regions()
	w.hazards()
	w.conflicts()
	w.coverage()
	w.monitoring()
	return w.pack()
}

type docxWriter struct {
	d      *Data
	body   strings.Builder
	images [][]byte
}

// esc escapes text for XML and drops what XML 1.0 cannot carry.
func esc(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF):
			if r == utf8.RuneError {
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// runs writes text as runs, a line break for each newline.
func runs(text, rPr string) string {
	var b strings.Builder
	for i, line := range strings.Split(text, "\n") {
		b.WriteString("<w:r>" + rPr)
		if i > 0 {
			b.WriteString("<w:br/>")
		}
		b.WriteString(`<w:t xml:space="preserve">` + esc(line) + "</w:t></w:r>")
	}
	return b.String()
}

func (w *docxWriter) p(style, text string) {
	w.pAligned(style, "", text)
}

func (w *docxWriter) pAligned(style, jc, text string) {
	w.body.WriteString("<w:p>")
	if style != "" || jc != "" {
		w.body.WriteString("<w:pPr>")
		if style != "" {
			w.body.WriteString(`<w:pStyle w:val="` + style + `"/>`)
		}
		if jc != "" {
			w.body.WriteString(`<w:jc w:val="` + jc + `"/>`)
		}
		w.body.WriteString("</w:pPr>")
	}
	w.body.WriteString(runs(text, ""))
	w.body.WriteString("</w:p>")
}

func (w *docxWriter) pageBreak() {
	w.body.WriteString(`<w:p><w:r><w:br w:type="page"/></w:r></w:p>`)
}

func (w *docxWriter) heading(text string) {
	w.pageBreak()
	w.p("Heading1", text)
}

func (w *docxWriter) cover() {
	d := w.d
	for range 8 {
		w.p("", "")
	}
	w.pAligned("Title", "center", d.Title())
	w.pAligned("CoverLine", "center", d.Scope)
	if d.Filters != "" {
		w.pAligned("", "center", "筛选条件："+d.Filters)
	}
	for range 10 {
		w.p("", "")
	}
	w.pAligned("CoverLine", "center", d.Publisher)
	w.pAligned("CoverLine", "center", dateText(d.Date))
}

// table writes a table; widths are in millimetres, fill gives a cell's background or "".
func (w *docxWriter) table(heads []string, widths []float64, rows [][]string, fill func(row, col int) string) {
	w.tableAligned(heads, widths, nil, rows, fill)
}

// tableAligned is table with each column's alignment (L, C or R; nil: all left).
func (w *docxWriter) tableAligned(heads []string, widths []float64, aligns []string, rows [][]string, fill func(row, col int) string) {
	b := &w.body
	b.WriteString(`<w:tbl><w:tblPr><w:tblStyle w:val="ReportTable"/><w:tblW w:w="0" w:type="auto"/><w:tblLayout w:type="fixed"/>`)
	b.WriteString(`<w:tblBorders>`)
	for _, side := range []string{"top", "left", "bottom", "right", "insideH", "insideV"} {
		b.WriteString(`<w:` + side + ` w:val="single" w:sz="4" w:space="0" w:color="808080"/>`)
	}
	b.WriteString(`</w:tblBorders><w:tblCellMar><w:left w:w="60" w:type="dxa"/><w:right w:w="60" w:type="dxa"/></w:tblCellMar></w:tblPr><w:tblGrid>`)
	tw := make([]int, len(widths))
	for i, mm := range widths {
		tw[i] = int(mm * twipsPerMM)
		b.WriteString(`<w:gridCol w:w="` + strconv.Itoa(tw[i]) + `"/>`)
	}
	b.WriteString(`</w:tblGrid>`)
	jc := func(i int) string {
		if i < len(aligns) {
			switch aligns[i] {
			case "R":
				return `<w:jc w:val="right"/>`
			case "C":
				return `<w:jc w:val="center"/>`
			}
		}
		return ""
	}
	cell := func(i int, text, shade string, bold bool) {
		b.WriteString(`<w:tc><w:tcPr><w:tcW w:w="` + strconv.Itoa(tw[i]) + `" w:type="dxa"/>`)
		if shade != "" {
			b.WriteString(`<w:shd w:val="clear" w:color="auto" w:fill="` + strings.TrimPrefix(shade, "#") + `"/>`)
		}
		b.WriteString(`</w:tcPr><w:p><w:pPr><w:pStyle w:val="TableText"/>` + jc(i) + `</w:pPr>`)
		rPr := ""
		if bold {
			rPr = "<w:rPr><w:b/></w:rPr>"
		}
		b.WriteString(runs(text, rPr))
		b.WriteString(`</w:p></w:tc>`)
	}
	b.WriteString(`<w:tr><w:trPr><w:tblHeader/></w:trPr>`)
	for i, h := range heads {
		cell(i, h, "EEEEEE", true)
	}
	b.WriteString(`</w:tr>`)
	for ri, row := range rows {
		b.WriteString(`<w:tr><w:trPr><w:cantSplit/></w:trPr>`)
		for ci, text := range row {
			shade := ""
			if fill != nil {
				shade = fill(ri, ci)
			}
			cell(ci, text, shade, false)
		}
		b.WriteString(`</w:tr>`)
	}
	b.WriteString(`</w:tbl>`)
	w.p("", "")
}

// image places a PNG across the body width (at most maxH mm high).
func (w *docxWriter) image(png []byte, aspect, maxH float64) {
	if len(png) == 0 {
		return
	}
	w.images = append(w.images, png)
	n := len(w.images)
	wd := docBodyMM
	h := wd * aspect
	if h > maxH {
		h, wd = maxH, maxH/aspect
	}
	cx, cy := int(wd*emuPerMM), int(h*emuPerMM)
	id := strconv.Itoa(n)
	fmt.Fprintf(&w.body, `<w:p><w:pPr><w:jc w:val="center"/></w:pPr><w:r><w:drawing><wp:inline distT="0" distB="0" distL="0" distR="0">`+
		`<wp:extent cx="%d" cy="%d"/><wp:docPr id="%s" name="图 %s"/><wp:cNvGraphicFramePr><a:graphicFrameLocks noChangeAspect="1"/></wp:cNvGraphicFramePr>`+
		`<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic>`+
		`<pic:nvPicPr><pic:cNvPr id="%s" name="image%s.png"/><pic:cNvPicPr/></pic:nvPicPr>`+
		`<pic:blipFill><a:blip r:embed="rIdImg%s"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>`+
		`<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="%d" cy="%d"/></a:xfrm><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr>`+
		`</pic:pic></a:graphicData></a:graphic></wp:inline></w:drawing></w:r></w:p>`, cx, cy, id, id, id, id, id, cx, cy)
}

// legend writes the grades' names in their colours.
func (w *docxWriter) legend() {
	var items []legendItem
	for _, g := range w.d.Grades {
		items = append(items, legendItem{g.Label, g.Fill})
	}
	w.legendOf(items)
}

// legendOf writes coloured boxes with their names in a row.
func (w *docxWriter) legendOf(items []legendItem) {
	w.body.WriteString(`<w:p><w:pPr><w:jc w:val="center"/></w:pPr>`)
	for _, it := range items {
		fill := strings.TrimPrefix(it.fill, "#")
		w.body.WriteString(`<w:r><w:rPr><w:bdr w:val="single" w:sz="4" w:space="0" w:color="808080"/><w:shd w:val="clear" w:color="auto" w:fill="` + fill + `"/></w:rPr><w:t xml:space="preserve">　　</w:t></w:r>`)
		w.body.WriteString(`<w:r><w:t xml:space="preserve"> ` + esc(it.label) + `　　</w:t></w:r>`)
	}
	w.body.WriteString(`</w:p>`)
}

// tableCols is table with the PDF's columns: headers, widths and alignments.
func (w *docxWriter) tableCols(cols []column, rows [][]string, fill func(row, col int) string) {
	h := make([]string, len(cols))
	wd := make([]float64, len(cols))
	al := make([]string, len(cols))
	for i, c := range cols {
		h[i], wd[i], al[i] = c.head, c.width, c.align
	}
	w.tableAligned(h, wd, al, rows, fill)
}

func (w *docxWriter) summary(c charts) {
	d := w.d
	w.heading("一、风险单元总体情况")
	w.p("", summaryText(d))
	w.p("Heading2", "（一）按等级统计")
	var rows [][]string
	for i, g := range d.Grades {
		rows = append(rows, []string{g.Label, strconv.Itoa(d.Total[i]), pct(d.Total[i], d.SumTotal())})
	}
	w.tableAligned([]string{"风险等级", "单元数", "占比"}, []float64{60, 50, 64}, []string{"L", "R", "R"}, rows, func(r, col int) string {
		if col == 0 {
			return d.Grades[r].Fill
		}
		return ""
	})
	w.p("Heading2", "（二）按行业领域统计")
	cols, rows := countTable(d, "行业领域", d.ByCategory)
	w.tableCols(cols, rows, nil)
	w.image(c.byCategory, chartAspect(len(d.ByCategory)), 120)
	w.p("Heading2", "（三）按街道（区域）统计")
	cols, rows = countTable(d, "街道/区域", d.ByRegion)
	w.tableCols(cols, rows, nil)
	w.image(c.byRegion, chartAspect(len(d.ByRegion)), 120)
}

func (w *docxWriter) maps() {
	d := w.d
	w.heading("二、红橙黄蓝四色安全风险空间分布图")
	if d.UnitMap != nil {
		w.p("Heading2", "（一）风险单元分布图")
		w.image(d.UnitMap, d.MapAspect, 150)
		w.legend()
	}
	if d.RegionMap != nil {
		w.p("Heading2", "（二）区域风险等级图")
		w.image(d.RegionMap, d.MapAspect, 150)
		w.legend()
	}
}

func (w *docxWriter) majors() {
	d := w.d
	w.heading("三、重大和较大风险清单")
	w.p("", majorsIntro(d))
	if len(d.Major) == 0 {
		return
	}
	w.table(majorHeads, majorWidths, majorRows(d), func(r, col int) string {
		if col == 5 {
			return d.Grades[d.Major[r].Grade.Rank()-1].Fill
		}
		return ""
	})
}

func (w *docxWriter) regions() {
	d := w.d
	w.heading("四、区域风险等级")
	if d.RegionsNote != "" {
		w.p("", d.RegionsNote)
	}
	if len(d.Regions) == 0 {
		return
	}
	w.table(regionHeads, []float64{28, 12, 10, 10, 10, 10, 18, 76}, regionRows(d), func(r, col int) string {
		if g := d.Regions[r].Grade.Rank(); col == 6 && g > 0 {
			return d.Grades[g-1].Fill
		}
		return ""
	})
}

func (w *docxWriter) hazards() {
	d := w.d
	w.heading("五、隐患排查治理情况")
	if d.Hazards == nil {
		w.p("", d.HazardsNote)
		return
	}
	w.p("", hazardText(d.Hazards))
	w.tableAligned(hazardHeads, []float64{44, 22, 22, 22, 22, 21, 21}, []string{"L", "R", "R", "R", "R", "R", "R"}, hazardRows(d.Hazards), nil)
	if len(d.Hazards.OpenMajor) > 0 {
		w.p("Heading2", "未销号的重大隐患")
		w.table(openMajorHeads, []float64{26, 32, 56, 20, 24, 16}, openMajorRows(d.Hazards), nil)
		if d.Hazards.OpenMajorMore > 0 {
			w.p("", fmt.Sprintf("另有 %d 项未列出。", d.Hazards.OpenMajorMore))
		}
	}
}

func (w *docxWriter) conflicts() {
	d := w.d
	w.heading("六、安全距离分析")
	c := d.Conflicts
	if c == nil {
		w.p("", d.ConflictsNote)
		return
	}
	w.p("", conflictText(c))
	if len(c.Maps) > 0 {
		w.p("Heading2", "（一）安全距离冲突分布图")
		for _, m := range c.Maps {
			w.pAligned("", "center", m.Caption)
			w.image(m.PNG, m.Aspect, 150)
			w.legend()
		}
		w.p("", conflictMapNote)
	}
	if len(c.Rows) == 0 {
		return
	}
	w.p("Heading2", conflictListHeading(c))
	w.tableAligned(conflictHeads, conflictWidths, conflictAligns, conflictRows(c), func(r, col int) string {
		if g := c.Rows[r].Grade.Rank(); col == 2 && g > 0 {
			return d.Grades[g-1].Fill
		}
		return ""
	})
	if c.More > 0 {
		w.p("", fmt.Sprintf("另有 %d 处冲突未列出，见系统中的冲突清单（可导出 CSV）。", c.More))
	}
}

func (w *docxWriter) coverage() {
	d := w.d
	w.heading("七、应急避难场所覆盖")
	c := d.Coverage
	if c == nil {
		w.p("", d.CoverageNote)
		return
	}
	w.p("", coverageText(c))
	fill := func(rows []CoverageRow) func(r, col int) string {
		return func(r, col int) string {
			if col == len(coverageHeads)-1 {
				return classFill(rows[r].Class)
			}
			return ""
		}
	}
	if len(c.Districts) > 0 {
		w.p("Heading2", "（一）按区县统计")
		w.tableAligned(coverageHeads, coverageWidths, coverageAligns, coverageRows(c, c.Districts), fill(c.Districts))
	}
	if len(c.Streets) > 0 {
		w.p("Heading2", "（二）按街道统计")
		w.tableAligned(coverageHeads, coverageWidths, coverageAligns, coverageRows(c, c.Streets), fill(c.Streets))
	}
	if m := c.Map; m != nil {
		w.p("Heading2", "（三）应急避难场所分布与人均面积图")
		w.pAligned("", "center", m.Caption)
		w.image(m.PNG, m.Aspect, 150)
		w.legendOf(coverageLegend())
	}
}

const (
	nsW   = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
	nsR   = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	nsWP  = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
	nsA   = "http://schemas.openxmlformats.org/drawingml/2006/main"
	nsPic = "http://schemas.openxmlformats.org/drawingml/2006/picture"
	xmlHd = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
)

func (w *docxWriter) document() string {
	return xmlHd + `<w:document xmlns:w="` + nsW + `" xmlns:r="` + nsR + `" xmlns:wp="` + nsWP + `" xmlns:a="` + nsA + `" xmlns:pic="` + nsPic + `"><w:body>` +
		w.body.String() +
		`<w:sectPr><w:footerReference w:type="default" r:id="rIdFooter"/><w:pgSz w:w="11906" w:h="16838"/>` +
		`<w:pgMar w:top="1020" w:right="1020" w:bottom="1134" w:left="1020" w:header="567" w:footer="567" w:gutter="0"/><w:titlePg/></w:sectPr></w:body></w:document>`
}

func (w *docxWriter) footer() string {
	return xmlHd + `<w:ftr xmlns:w="` + nsW + `"><w:p><w:pPr><w:jc w:val="center"/></w:pPr>` +
		runs(w.d.Title()+" · 第 ", "") +
		`<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>` +
		runs(" 页", "") + `</w:p></w:ftr>`
}

const stylesXML = xmlHd + `<w:styles xmlns:w="` + nsW + `">` +
	`<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="SimSun" w:cs="Times New Roman"/><w:sz w:val="21"/><w:szCs w:val="21"/><w:lang w:val="en-US" w:eastAsia="zh-CN"/></w:rPr></w:rPrDefault>` +
	`<w:pPrDefault><w:pPr><w:spacing w:after="80" w:line="300" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults>` +
	`<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:jc w:val="center"/><w:spacing w:after="480"/></w:pPr><w:rPr><w:rFonts w:eastAsia="SimHei"/><w:b/><w:sz w:val="52"/><w:szCs w:val="52"/></w:rPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="240" w:after="200"/><w:outlineLvl w:val="0"/></w:pPr><w:rPr><w:rFonts w:eastAsia="SimHei"/><w:b/><w:sz w:val="32"/><w:szCs w:val="32"/></w:rPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="200" w:after="120"/><w:outlineLvl w:val="1"/></w:pPr><w:rPr><w:rFonts w:eastAsia="SimHei"/><w:b/><w:sz w:val="26"/><w:szCs w:val="26"/></w:rPr></w:style>` +
	`<w:style w:type="paragraph" w:customStyle="1" w:styleId="CoverLine"><w:name w:val="Cover Line"/><w:basedOn w:val="Normal"/><w:pPr><w:jc w:val="center"/><w:spacing w:after="200"/></w:pPr><w:rPr><w:sz w:val="30"/><w:szCs w:val="30"/></w:rPr></w:style>` +
	`<w:style w:type="paragraph" w:customStyle="1" w:styleId="TableText"><w:name w:val="Table Text"/><w:basedOn w:val="Normal"/><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr><w:rPr><w:sz w:val="17"/><w:szCs w:val="17"/></w:rPr></w:style>` +
	`<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>` +
	`<w:style w:type="table" w:customStyle="1" w:styleId="ReportTable"><w:name w:val="Report Table"/><w:basedOn w:val="TableNormal"/></w:style>` +
	`</w:styles>`

func (w *docxWriter) pack() ([]byte, error) {
	d := w.d
	when := d.Date.UTC().Format("2006-01-02T15:04:05Z")
	var rels strings.Builder
	rels.WriteString(xmlHd + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`)
	rels.WriteString(`<Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>`)
	rels.WriteString(`<Relationship Id="rIdFooter" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer1.xml"/>`)
	for i := range w.images {
		n := strconv.Itoa(i + 1)
		rels.WriteString(`<Relationship Id="rIdImg` + n + `" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="media/image` + n + `.png"/>`)
	}
	rels.WriteString(`</Relationships>`)
	parts := []struct {
		name string
		data []byte
	}{
		{"[Content_Types].xml", []byte(xmlHd + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
			`<Default Extension="xml" ContentType="application/xml"/><Default Extension="png" ContentType="image/png"/>` +
			`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>` +
			`<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>` +
			`<Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/>` +
			`<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>` +
			`<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>`)},
		{"_rels/.rels", []byte(xmlHd + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>` +
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>` +
			`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/></Relationships>`)},
		{"docProps/core.xml", []byte(xmlHd + `<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
			`<dc:title>` + esc(d.Title()) + `</dc:title><dc:subject>` + esc(d.Scope) + `</dc:subject><dc:creator>` + esc(d.Publisher) + `</dc:creator><dc:language>zh-CN</dc:language>` +
			`<dcterms:created xsi:type="dcterms:W3CDTF">` + when + `</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">` + when + `</dcterms:modified></cp:coreProperties>`)},
		{"docProps/app.xml", []byte(xmlHd + `<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>riskmap</Application></Properties>`)},
		{"word/document.xml", []byte(w.document())},
		{"word/styles.xml", []byte(stylesXML)},
		{"word/footer1.xml", []byte(w.footer())},
		{"word/_rels/document.xml.rels", []byte(rels.String())},
	}
	for i, img := range w.images {
		parts = append(parts, struct {
			name string
			data []byte
		}{"word/media/image" + strconv.Itoa(i+1) + ".png", img})
	}
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for _, p := range parts {
		method := zip.Deflate
		if strings.HasSuffix(p.name, ".png") {
			method = zip.Store // already compressed
		}
		fw, err := z.CreateHeader(&zip.FileHeader{Name: p.name, Method: method, Modified: d.Date.UTC()})
		if err != nil {
			return nil, err
		}
		if _, err := fw.Write(p.data); err != nil {
			return nil, err
		}
	}
	if err := z.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
