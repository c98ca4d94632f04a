package workbook

import (
	"archive/zip"
	"compress/flate"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
	"github.com/xuri/excelize/v2"

	"riskmap/pkg/hazards"
	"riskmap/pkg/riskmap"
)

// Export says what an exported workbook holds beyond its rows.
type Export struct {
	// Title is the first row, e.g. 澄江市城市安全风险清单.
	Title string
	// Date is the day of the export (written 导出日期：2026-12-06); Scope says what the
	// rows are (e.g. 范围：全市 · 已审核), written after it.
	Date  time.Time
	Scope string
	// Colours are the grade cells' fills, "#rrggbb" (the config's colours).
	Colours map[riskmap.Grade]string
	// Catalog labels categories and accident types; Regions names region codes.
	Catalog *riskmap.Catalog
	Regions []*riskmap.Region
	// ByGroup writes one sheet per 行业大类 (category group) instead of one 风险清单.
	ByGroup bool
	// Hazards, if set, are written as the 隐患清单 sheet (the 双清单 in one workbook),
	// HazardsToday the day their overdue state is told for.
	Hazards      iter.Seq[*hazards.Hazard]
	HazardsToday time.Time

	names map[string]string // region code → name, made by WriteUnits
}

func (o *Export) regionName(code string) (string, bool) {
	if o.names == nil {
		o.names = make(map[string]string, len(o.Regions))
		for _, r := range o.Regions {
			o.names[r.Code] = r.Name
		}
	}
	n, ok := o.names[code]
	return n, ok
}

func (o *Export) regionCell(code string) string {
	if n, ok := o.regionName(code); ok {
		return code + " " + n
	}
	return code
}

func (o *Export) regionShort(code string) string {
	for _, n := range []int{12, 9, 6} {
		if len(code) >= n {
			if name, ok := o.regionName(code[:n]); ok {
				return name
			}
		}
	}
	return code
}

func (o *Export) categoryLabel(code string) string {
	if c, ok := o.Catalog.Category(code); ok {
		return c.Label
	}
	return code
}

// newFile is a new workbook zipped at deflate's best speed: a third of the time of the
// default level for a file some 10 % larger (the export of 100k units is bound by it).
func newFile() *excelize.File {
	f := excelize.NewFile()
	f.ZipWriter = func(w io.Writer) excelize.ZipWriter {
		z := zip.NewWriter(w)
		z.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(w, flate.BestSpeed)
		})
		return z
	}
	return f
}

// styles are the workbook's cell styles.
type styles struct {
	title, sub, header, text, date, number int
	grade                                  map[riskmap.Grade]int
}

func newStyles(f *excelize.File, colours map[riskmap.Grade]string) (*styles, error) {
	border := []excelize.Border{{Type: "left", Color: "BFBFBF", Style: 1}, {Type: "right", Color: "BFBFBF", Style: 1},
		{Type: "top", Color: "BFBFBF", Style: 1}, {Type: "bottom", Color: "BFBFBF", Style: 1}}
	s := &styles{grade: map[riskmap.Grade]int{}}
	var err error
	mk := func(st *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(st)
		return id
	}
	dateFmt := "yyyy-mm-dd"
	s.title = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 16}, Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}})
	s.sub = mk(&excelize.Style{Font: &excelize.Font{Size: 10, Color: "595959"}, Alignment: &excelize.Alignment{Horizontal: "left", Vertical: "center"}})
	s.header = mk(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9E1F2"}},
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true}, Border: border})
	s.text = mk(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}, Border: border})
	s.number = mk(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top"}, Border: border})
	s.date = mk(&excelize.Style{CustomNumFmt: &dateFmt, Alignment: &excelize.Alignment{Vertical: "top"}, Border: border})
	for _, g := range riskmap.Grades {
		fill := strings.TrimPrefix(colours[g], "#")
		if fill == "" {
			fill = map[riskmap.Grade]string{riskmap.GradeRed: "E60012", riskmap.GradeOrange: "FF8C00", riskmap.GradeYellow: "FFE600", riskmap.GradeBlue: "0070C0"}[g]
		}
		font := "FFFFFF"
		if g == riskmap.GradeYellow {
			font = "000000"
		}
		s.grade[g] = mk(&excelize.Style{Font: &excelize.Font{Bold: true, Color: font}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{strings.ToUpper(fill)}},
			Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "top"}, Border: border})
	}
	return s, err
}

// headRows are the rows above the data: the title, the date and scope, the header.
const headRows = 3

// writeHead writes a sheet's title, date and scope rows and its header, with the column
// widths, the frozen header and filters over rows rows of data. Call before NewStreamWriter's
// rows.
func writeHead(f *excelize.File, sw *excelize.StreamWriter, st *styles, title, sub string, header []string, widths []float64, rows int) error {
	last, _ := excelize.ColumnNumberToName(len(header))
	for i, w := range widths {
		if err := sw.SetColWidth(i+1, i+1, w); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, XSplit: 3, YSplit: headRows, TopLeftCell: "D4", ActivePane: "bottomRight",
		Selection: []excelize.Selection{{SQRef: "D4", ActiveCell: "D4", Pane: "bottomRight"}}}); err != nil {
		return err
	}
	if err := sw.SetRow("A1", []any{excelize.Cell{StyleID: st.title, Value: title}}, excelize.RowOpts{Height: 30}); err != nil {
		return err
	}
	if err := sw.SetRow("A2", []any{excelize.Cell{StyleID: st.sub, Value: sub}}); err != nil {
		return err
	}
	hs := make([]any, len(header))
	for i, h := range header {
		hs[i] = excelize.Cell{StyleID: st.header, Value: h}
	}
	if err := sw.SetRow("A3", hs, excelize.RowOpts{Height: 32}); err != nil {
		return err
	}
	if err := sw.MergeCell("A1", last+"1"); err != nil {
		return err
	}
	return sw.MergeCell("A2", last+"2")
}

// autoFilter sets the filters of a sheet over its header and rows data rows; it must be
// called before the sheet's StreamWriter is made.
func autoFilter(f *excelize.File, sheet string, cols, rows int) error {
	last, _ := excelize.ColumnNumberToName(cols)
	return f.AutoFilter(sheet, fmt.Sprintf("A%d:%s%d", headRows, last, headRows+max(rows, 1)), nil)
}

// WriteUnits writes the register of units as an xlsx workbook to w, streaming its rows
// (excelize's StreamWriter): a title row, the date and scope, the frozen header with
// filters, one row per unit in the order given, the grade cells filled in the grade's
// colour; with o.ByGroup one sheet per 行业大类; with o.Hazards the 隐患清单 sheet. Text
// is always written as text: a name beginning with = + - or @ stays a name, never a
// formula.
func WriteUnits(w io.Writer, units []*riskmap.Unit, o Export) error {
	f := newFile()
	defer f.Close()
	st, err := newStyles(f, o.Colours)
	if err != nil {
		return err
	}
	type part struct {
		sheet string
		units []*riskmap.Unit
	}
	var parts []part
	if o.ByGroup {
		idx := map[string]int{}
		for _, u := range units {
			g := "其他"
			if c, ok := o.Catalog.Category(u.Category); ok && c.GroupLabel != "" {
				g = c.GroupLabel
			}
			i, ok := idx[g]
			if !ok {
				i = len(parts)
				idx[g] = i
				parts = append(parts, part{sheet: sheetName(g)})
			}
			parts[i].units = append(parts[i].units, u)
		}
		// in the catalog's order of groups
		order := map[string]int{}
		for i, g := range o.Catalog.Groups {
			order[sheetName(g.Label)] = i + 1
		}
		slices.SortStableFunc(parts, func(a, b part) int { return rank(order, a.sheet) - rank(order, b.sheet) })
	}
	if len(parts) == 0 {
		parts = []part{{sheet: UnitsSheet, units: units}}
	}
	header, widths := make([]string, len(Columns)), make([]float64, len(Columns))
	for i, c := range Columns {
		header[i], widths[i] = c.Header, c.Width
	}
	for i, p := range parts {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", p.sheet); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(p.sheet); err != nil {
			return err
		}
		if err := autoFilter(f, p.sheet, len(Columns), len(p.units)); err != nil {
			return err
		}
		sw, err := f.NewStreamWriter(p.sheet)
		if err != nil {
			return err
		}
		title := o.Title
		if o.ByGroup {
			title += "（" + p.sheet + "）"
		}
		if err := writeHead(f, sw, st, title, o.subtitle(len(p.units), "个风险单元"), header, widths, len(p.units)); err != nil {
			return err
		}
		row := make([]any, len(Columns))
		for n, u := range p.units {
			o.unitRow(row, n+1, u, st)
			cell, _ := excelize.CoordinatesToCellName(1, headRows+1+n)
			if err := sw.SetRow(cell, row); err != nil {
				return err
			}
		}
		if err := sw.Flush(); err != nil {
			return err
		}
	}
	if o.Hazards != nil {
		if err := o.writeHazards(f, st); err != nil {
			return err
		}
	}
	f.SetActiveSheet(0)
	_, err = f.WriteTo(w)
	return err
}

func rank(order map[string]int, s string) int {
	if r, ok := order[s]; ok {
		return r
	}
	return 1 << 20
}

// sheetName makes s a valid sheet name (at most 31 characters, none of :\/?*[]).
func sheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) {
			return '_'
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 31 {
		s = string(r[:31])
	}
	if s == "" {
		s = "其他"
	}
	return s
}

func (o *Export) subtitle(n int, what string) string {
	s := "导出日期：" + riskmap.ChinaDay(o.Date).Format(time.DateOnly)
	if o.Scope != "" {
		s += "　" + o.Scope
	}
	return s + fmt.Sprintf("　共 %d %s", n, what)
}

// text is a text cell (never a formula).
func text(st *styles, s string) any {
	if s == "" {
		return excelize.Cell{StyleID: st.text}
	}
	return excelize.Cell{StyleID: st.text, Value: s}
}

func num(st *styles, v any) any { return excelize.Cell{StyleID: st.number, Value: v} }

func day(st *styles, t *time.Time) any {
	if t == nil {
		return excelize.Cell{StyleID: st.date}
	}
	d := riskmap.ChinaDay(*t)
	return excelize.Cell{StyleID: st.date, Value: d}
}

// UnitRecord is the unit's row of Columns as text, as the export writes it (dates as
// 2026-12-06), for tests and other formats.
func (o *Export) unitRow(row []any, seq int, u *riskmap.Unit, st *styles) {
	for i, c := range Columns {
		row[i] = o.unitCell(c.Key, seq, u, st)
	}
}

func (o *Export) unitCell(key string, seq int, u *riskmap.Unit, st *styles) any {
	a := u.Assessment
	switch key {
	case ColSeq:
		return num(st, seq)
	case ColCode:
		return text(st, u.Code)
	case ColName:
		return text(st, u.Name)
	case ColPublicLabel:
		return text(st, u.PublicLabel)
	case ColAddress:
		return text(st, u.Address)
	case ColRegion:
		return text(st, o.regionCell(u.RegionCode))
	case ColCategory:
		return text(st, o.categoryLabel(u.Category))
	case ColSubCategory:
		return text(st, u.SubCategory)
	case ColAccidentTypes:
		labels := make([]string, len(u.AccidentTypes))
		for i, t := range u.AccidentTypes {
			labels[i] = t
			if at, ok := o.Catalog.AccidentType(t); ok {
				labels[i] = at.Label
			}
		}
		return text(st, strings.Join(labels, "、"))
	case ColMajorHazard:
		if u.MajorHazardSource == nil {
			return text(st, "否")
		}
		if l := u.MajorHazardSource.Level; l >= 1 && l <= 4 {
			return text(st, []string{"一级", "二级", "三级", "四级"}[l-1])
		}
		return text(st, fmt.Sprint(u.MajorHazardSource.Level))
	case ColRiskFactors:
		return text(st, u.MajorRiskFactors)
	case ColMethod:
		return text(st, a.Method)
	case ColLSL:
		if a.Method == riskmap.MethodLS {
			return num(st, a.Likelihood)
		}
	case ColLSS:
		if a.Method == riskmap.MethodLS {
			return num(st, a.Severity)
		}
	case ColLECL:
		if a.Method == riskmap.MethodLEC {
			return num(st, a.L)
		}
	case ColLECE:
		if a.Method == riskmap.MethodLEC {
			return num(st, a.E)
		}
	case ColLECC:
		if a.Method == riskmap.MethodLEC {
			return num(st, a.C)
		}
	case ColRiskValue:
		return num(st, u.RiskValue)
	case ColGrade:
		if id, ok := st.grade[u.Grade]; ok {
			return excelize.Cell{StyleID: id, Value: u.Grade.Label()}
		}
		return text(st, "")
	case ColDirectReason:
		return text(st, u.DirectMajorReason)
	case ColEngineering:
		return text(st, strings.Join(u.Controls.Engineering, "\n"))
	case ColManagement:
		return text(st, strings.Join(u.Controls.Management, "\n"))
	case ColTraining:
		return text(st, strings.Join(u.Controls.Training, "\n"))
	case ColPPE:
		return text(st, strings.Join(u.Controls.PPE, "\n"))
	case ColEmergency:
		return text(st, strings.Join(u.Controls.Emergency, "\n"))
	case ColControlLevel:
		return text(st, ControlLevel(u.Grade))
	case ColDepartment:
		return text(st, u.ResponsibleDepartment)
	case ColRespUnit:
		return text(st, u.ResponsibleUnit)
	case ColPerson:
		return text(st, u.ContactPerson)
	case ColPhone:
		return text(st, u.ContactPhone)
	case ColAssessedBy:
		return text(st, u.AssessedBy)
	case ColAssessedAt:
		return day(st, u.AssessedAt)
	case ColNextReview:
		return day(st, u.NextReviewDue)
	case ColRadius:
		if u.InfluenceRadiusM != 0 {
			return num(st, u.InfluenceRadiusM)
		}
	case ColLon, ColLat:
		if p, ok := u.Geometry.(orb.Point); ok {
			if key == ColLon {
				return num(st, p[0])
			}
			return num(st, p[1])
		}
	case ColCRS:
		return text(st, string(riskmap.WGS84))
	case ColWKT:
		if _, ok := u.Geometry.(orb.Point); !ok && u.Geometry != nil {
			return text(st, wkt.MarshalString(u.Geometry))
		}
	case ColStatus:
		return text(st, u.Status.Label())
	}
	return excelize.Cell{StyleID: st.text}
}

func (o *Export) writeHazards(f *excelize.File, st *styles) error {
	var hs []*hazards.Hazard
	for h := range o.Hazards {
		hs = append(hs, h)
	}
	if _, err := f.NewSheet(HazardsSheet); err != nil {
		return err
	}
	if err := autoFilter(f, HazardsSheet, len(HazardHeader), len(hs)); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(HazardsSheet)
	if err != nil {
		return err
	}
	widths := make([]float64, len(HazardHeader))
	for i := range widths {
		widths[i] = 14
	}
	widths[7], widths[14] = 30, 30
	title := strings.Replace(o.Title, "风险清单", "隐患清单", 1)
	if title == o.Title {
		title += "（隐患清单）"
	}
	if err := writeHead(f, sw, st, title, o.subtitle(len(hs), "条隐患"), HazardHeader, widths, len(hs)); err != nil {
		return err
	}
	names := Names{Category: o.categoryLabel, Region: o.regionShort}
	row := make([]any, len(HazardHeader))
	for n, h := range hs {
		for i, s := range HazardRecord(h, o.HazardsToday, names) {
			row[i] = text(st, s)
		}
		cell, _ := excelize.CoordinatesToCellName(1, headRows+1+n)
		if err := sw.SetRow(cell, row); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// WriteHazards writes the hidden-danger list alone (the 隐患清单 sheet of o.Hazards) as an
// xlsx workbook to w.
func WriteHazards(w io.Writer, o Export) error {
	f := newFile()
	defer f.Close()
	st, err := newStyles(f, o.Colours)
	if err != nil {
		return err
	}
	if o.Hazards == nil {
		o.Hazards = func(func(*hazards.Hazard) bool) {}
	}
	if err := o.writeHazards(f, st); err != nil {
		return err
	}
	if err := f.DeleteSheet("Sheet1"); err != nil {
		return err
	}
	f.SetActiveSheet(0)
	_, err = f.WriteTo(w)
	return err
}
