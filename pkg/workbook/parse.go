package workbook

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
	"github.com/paulmach/orb/project"
	"github.com/xuri/excelize/v2"

	"riskmap/pkg/riskmap"
)

// rowParser reads one row's cells.
type rowParser struct {
	b     *Book
	s     *sheet
	n     int
	cells []string
	row   Row
}

// cell is the trimmed text of the column key, "" if the sheet lacks it.
func (p *rowParser) cell(key string) string {
	i, ok := p.s.cols[key]
	if !ok || i >= len(p.cells) {
		return ""
	}
	return strings.TrimSpace(p.cells[i])
}

func (p *rowParser) add(key, format string, args ...any) {
	header, ref := "", ""
	if key != "" {
		header = column(key).Header
		if i, ok := p.s.cols[key]; ok {
			ref = cellName(i, p.n)
		}
	}
	p.addAt(header, ref, format, args...)
}

func (p *rowParser) addAt(header, ref, format string, args ...any) {
	if len(p.row.Problems) >= 200 {
		return
	}
	p.row.Problems = append(p.row.Problems, Problem{Sheet: p.s.name, Row: p.n, Column: header, Cell: ref,
		Err: riskmap.FieldErrorf(header, format, args...)})
}

// parseRow reads data row n of sheet s.
func (b *Book) parseRow(s *sheet, n int, cells []string) Row {
	p := &rowParser{b: b, s: s, n: n, cells: cells, row: Row{Sheet: s.name, Number: n}}
	for _, col := range s.marks.formulas[n] {
		header := ""
		if col-1 < len(s.headers) {
			header = strings.TrimSpace(s.headers[col-1])
		}
		p.addAt(header, cellName(col-1, n), "不接受公式：请复制后“粘贴为数值”")
	}
	for _, m := range s.marks.merges {
		if m.row1 <= n && n <= m.row2 && m.row2 > s.headerRow && m.row1 > 0 {
			if m.row1 == n || n == s.headerRow+1 {
				header := ""
				if m.col1-1 < len(s.headers) {
					header = strings.TrimSpace(s.headers[m.col1-1])
				}
				p.addAt(header, cellName(m.col1-1, n), "数据区不能有合并单元格（%s）：请取消合并，每行填写完整", m.ref)
			}
		}
	}
	u := p.unit()
	if len(p.row.Problems) == 0 {
		p.row.Unit = u
	}
	return p.row
}

func (p *rowParser) text(key string) string { return p.cell(key) }

func (p *rowParser) unit() *riskmap.Unit {
	cat := p.b.opts.Catalog
	u := &riskmap.Unit{
		Code:                  p.text(ColCode),
		Name:                  p.text(ColName),
		Address:               p.text(ColAddress),
		SubCategory:           p.text(ColSubCategory),
		MajorRiskFactors:      p.text(ColRiskFactors),
		DirectMajorReason:     p.text(ColDirectReason),
		ResponsibleDepartment: p.text(ColDepartment),
		ResponsibleUnit:       p.text(ColRespUnit),
		ContactPerson:         p.text(ColPerson),
		ContactPhone:          p.text(ColPhone),
		AssessedBy:            p.text(ColAssessedBy),
	}
	u.PublicLabel = p.text(ColPublicLabel)
	u.Category = p.category(cat)
	u.RegionCode = p.region()
	u.AccidentTypes = p.accidentTypes(cat)
	u.MajorHazardSource = p.majorHazard()
	u.Assessment = p.assessment()
	for _, g := range []struct {
		key string
		dst *[]string
	}{{ColEngineering, &u.Controls.Engineering}, {ColManagement, &u.Controls.Management}, {ColTraining, &u.Controls.Training},
		{ColPPE, &u.Controls.PPE}, {ColEmergency, &u.Controls.Emergency}} {
		*g.dst = splitItems(p.cell(g.key))
	}
	u.AssessedAt = p.date(ColAssessedAt)
	if v, ok := p.number(ColRadius, false); ok {
		u.InfluenceRadiusM = v
	}
	geomKey := p.geometry(u)
	p.grade(u)
	if len(p.row.Problems) > 0 {
		return nil
	}
	for _, f := range u.CheckFields(cat) {
		key := ""
		switch {
		case f.Field == "geometry":
			key = geomKey
		default:
			for _, c := range Columns {
				if c.Field == f.Field || (f.Field == "major_hazard_source" && c.Key == ColMajorHazard) {
					key = c.Key
					break
				}
			}
		}
		if key == "" {
			p.addAt("", "", "%s", f)
			continue
		}
		c := column(key)
		ref := ""
		if i, ok := p.s.cols[key]; ok {
			ref = cellName(i, p.n)
		}
		p.row.Problems = append(p.row.Problems, Problem{Sheet: p.s.name, Row: p.n, Column: c.Header, Cell: ref,
			Err: riskmap.FieldErrorf(c.Header, "%s", f)})
	}
	return u
}

func (p *rowParser) category(cat *riskmap.Catalog) string {
	s := p.cell(ColCategory)
	if s == "" {
		return ""
	}
	if c, ok := cat.Category(s); ok {
		return c.Code
	}
	for _, c := range cat.Categories {
		if c.Label == s {
			return c.Code
		}
	}
	p.add(ColCategory, "未知的行业领域 %q：请从下拉列表选择", clip(s))
	return ""
}

var leadingCode = regexp.MustCompile(`^(\d{12}|\d{9}|\d{6})(?:\s|$|[（(])`)

func (p *rowParser) region() string {
	s := p.cell(ColRegion)
	if s == "" {
		return ""
	}
	if m := leadingCode.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	var found []string
	for _, r := range p.b.opts.Regions {
		if r.Name == s {
			found = append(found, r.Code)
		}
	}
	switch len(found) {
	case 1:
		return found[0]
	case 0:
		p.add(ColRegion, "未知的行政区划 %q：请从下拉列表选择，或填写区划代码", clip(s))
	default:
		p.add(ColRegion, "有 %d 个区域都叫 %q：请填写区划代码", len(found), clip(s))
	}
	return ""
}

var listSep = regexp.MustCompile(`[、,，;；\n]+`)

func (p *rowParser) accidentTypes(cat *riskmap.Catalog) []string {
	s := p.cell(ColAccidentTypes)
	if s == "" {
		return nil
	}
	// Labels may hold a separator themselves (滑坡、崩塌、泥石流): the longest label or code
	// at the start of what is left is taken first.
	type name struct{ text, code string }
	var names []name
	for _, a := range cat.AccidentTypes {
		names = append(names, name{a.Label, a.Code}, name{a.Code, a.Code})
	}
	slices.SortFunc(names, func(a, b name) int { return len(b.text) - len(a.text) })
	var out []string
	rest := s
	for {
		rest = strings.TrimLeftFunc(rest, func(r rune) bool { return strings.ContainsRune("、,，;；\n\r\t 　", r) })
		if rest == "" {
			return out
		}
		found := false
		for _, n := range names {
			if n.text != "" && strings.HasPrefix(rest, n.text) {
				next := strings.TrimPrefix(rest, n.text)
				if next == "" || strings.ContainsRune("、,，;；\n\r\t 　", []rune(next)[0]) {
					out = append(out, n.code)
					rest, found = next, true
					break
				}
			}
		}
		if found {
			continue
		}
		t := rest
		if i := listSep.FindStringIndex(rest); i != nil {
			t, rest = rest[:i[0]], rest[i[0]:]
		} else {
			rest = ""
		}
		p.add(ColAccidentTypes, "未知的事故类型 %q：可选的类型见下拉列表，多个用顿号“、”分隔", clip(strings.TrimSpace(t)))
	}
}

var levels = map[string]int{"一级": 1, "二级": 2, "三级": 3, "四级": 4, "1": 1, "2": 2, "3": 3, "4": 4, "1级": 1, "2级": 2, "3级": 3, "4级": 4}

func (p *rowParser) majorHazard() *riskmap.MajorHazardSource {
	s := p.cell(ColMajorHazard)
	switch s {
	case "", "否", "无", "不是", "非":
		return nil
	}
	if l, ok := levels[s]; ok {
		return &riskmap.MajorHazardSource{Level: l}
	}
	p.add(ColMajorHazard, "应为 否、一级、二级、三级 或 四级，收到 %q", clip(s))
	return nil
}

func (p *rowParser) assessment() riskmap.Assessment {
	var a riskmap.Assessment
	m := p.cell(ColMethod)
	head := m
	if i := strings.IndexAny(head, "（( "); i >= 0 {
		head = head[:i]
	}
	head = strings.ToUpper(head)
	switch {
	case m == "":
		p.add(ColMethod, "必填：LS（风险矩阵法）或 LEC（作业条件危险性分析法）")
		return a
	case head == "LS" || m == "风险矩阵法":
		a.Method = riskmap.MethodLS
	case head == "LEC" || m == "作业条件危险性分析法":
		a.Method = riskmap.MethodLEC
	default:
		p.add(ColMethod, "应为 LS（风险矩阵法）或 LEC（作业条件危险性分析法），收到 %q", clip(m))
		return a
	}
	ls := []string{ColLSL, ColLSS}
	lec := []string{ColLECL, ColLECE, ColLECC}
	use, other := ls, lec
	if a.Method == riskmap.MethodLEC {
		use, other = lec, ls
	}
	for _, k := range other {
		if p.cell(k) != "" {
			p.add(k, "评估方法为 %s，本列应留空", a.Method)
		}
	}
	for _, k := range use {
		v, ok := p.number(k, true)
		if !ok {
			continue
		}
		switch k {
		case ColLSL, ColLSS:
			if v != math.Trunc(v) || v < 1 || v > 5 {
				p.add(k, "应为 1 至 5 的整数，收到 %s", p.cell(k))
				continue
			}
			if k == ColLSL {
				a.Likelihood = int(v)
			} else {
				a.Severity = int(v)
			}
		case ColLECL:
			a.L = v
		case ColLECE:
			a.E = v
		case ColLECC:
			a.C = v
		}
	}
	return a
}

// number reads a number column; blank is a problem if required.
func (p *rowParser) number(key string, required bool) (float64, bool) {
	s := p.cell(key)
	if s == "" {
		if required {
			p.add(key, "必填（数字）")
		}
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, "，", ""), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		p.add(key, "应为数字，收到 %q", clip(s))
		return 0, false
	}
	return v, true
}

var (
	dateDash  = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})$`)
	dateSlash = regexp.MustCompile(`^(\d{4})/(\d{1,2})/(\d{1,2})$`)
	dateCN    = regexp.MustCompile(`^(\d{4})年(\d{1,2})月(\d{1,2})日$`)
)

// ParseDate reads a date as a register writes it: 2026-12-06, 2026/12/6, 2026年12月6日 or
// an Excel serial number (46362). The day starts at 00:00 China time (UTC+8).
func ParseDate(s string) (time.Time, bool) {
	for _, re := range []*regexp.Regexp{dateDash, dateSlash, dateCN} {
		if m := re.FindStringSubmatch(s); m != nil {
			y, _ := strconv.Atoi(m[1])
			mo, _ := strconv.Atoi(m[2])
			d, _ := strconv.Atoi(m[3])
			t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, riskmap.ChinaTime)
			if t.Year() != y || int(t.Month()) != mo || t.Day() != d || y < 1900 {
				return time.Time{}, false
			}
			return t, true
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 1 || v > 2958465 || v != math.Trunc(v) {
		return time.Time{}, false
	}
	t, err := excelize.ExcelDateToTime(v, false)
	if err != nil {
		return time.Time{}, false
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, riskmap.ChinaTime), true
}

func (p *rowParser) date(key string) *time.Time {
	s := p.cell(key)
	if s == "" {
		return nil
	}
	t, ok := ParseDate(s)
	if !ok {
		p.add(key, "应为日期，如 2026-12-06、2026/12/6 或 2026年12月6日，收到 %q", clip(s))
		return nil
	}
	t = t.UTC()
	return &t
}

// splitItems splits a cell of measures at line breaks and "；".
func splitItems(s string) []string {
	var out []string
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == '；' }) {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// geometry reads 经度/纬度 or WKT in 坐标系 into u.Geometry (WGS 84), and returns the key
// of the column a problem with the geometry belongs to.
func (p *rowParser) geometry(u *riskmap.Unit) string {
	crsText := p.cell(ColCRS)
	crs, ok := riskmap.ParseCRS(crsText)
	if !ok {
		p.add(ColCRS, "应为 WGS84、GCJ-02 或 BD-09，收到 %q", clip(crsText))
		return ColLon
	}
	lonS, latS, w := p.cell(ColLon), p.cell(ColLat), p.cell(ColWKT)
	if w != "" {
		if lonS != "" || latS != "" {
			p.add(ColWKT, "经度、纬度与 WKT 只填一种")
			return ColWKT
		}
		g, err := wkt.Unmarshal(w)
		if err != nil {
			p.add(ColWKT, "不是有效的 WKT（如 POINT(102.9 24.7)、POLYGON((…))）")
			return ColWKT
		}
		if crs != riskmap.WGS84 {
			g = project.Geometry(orb.Clone(g), func(pt orb.Point) orb.Point {
				x, y := riskmap.ToWGS84(crs, pt[0], pt[1])
				return orb.Point{x, y}
			})
		}
		u.Geometry = g
		return ColWKT
	}
	if lonS == "" && latS == "" {
		p.add(ColLon, "请填写经度、纬度，或在 WKT 列填写图形")
		return ColLon
	}
	lon, ok1 := p.number(ColLon, true)
	lat, ok2 := p.number(ColLat, true)
	if !ok1 || !ok2 {
		return ColLon
	}
	if lon < -180 || lon > 180 {
		p.add(ColLon, "经度应在 -180 至 180 之间，收到 %s", lonS)
		return ColLon
	}
	if lat < -90 || lat > 90 {
		p.add(ColLat, "纬度应在 -90 至 90 之间，收到 %s", latS)
		return ColLat
	}
	x, y := riskmap.ToWGS84(crs, lon, lat)
	u.Geometry = orb.Point{x, y}
	return ColLon
}

// ParseGrade reads a grade as written: 重大风险/重大/红/red, and so on.
func ParseGrade(s string) (riskmap.Grade, bool) {
	s = strings.TrimSpace(s)
	for _, g := range riskmap.Grades {
		if s == g.Label() || s == g.ShortLabel() || s == g.ColourName() || s == g.ColourName()+"色" || strings.EqualFold(s, string(g)) {
			return g, true
		}
	}
	return "", false
}

func (p *rowParser) grade(u *riskmap.Unit) {
	s := p.cell(ColGrade)
	if s == "" {
		return
	}
	g, ok := ParseGrade(s)
	if !ok {
		p.add(ColGrade, "不接受手填等级，由评估输入计算：请留空")
		return
	}
	p.row.Grade = g
	if p.b.opts.GradeOK != nil && len(p.row.Problems) == 0 && !p.b.opts.GradeOK(u, g) {
		p.add(ColGrade, "不接受手填等级，由评估输入计算：请留空")
	}
}
