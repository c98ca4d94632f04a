// Package reportdoc writes the 城市安全风险评估报告 (the city's safety risk assessment report)
// from the register: a cover with the city and the date; a summary of the units by grade ×
// category × region, as tables and a chart; the four-colour unit map and the regional map
// (images from pkg/mapimage); the list of 重大 and 较大 risks with their controls and
// responsible departments; the regional grades with their explanations; the hidden
// dangers; the safe-distance conflicts between hazardous units and protective targets (a
// table and a map of conflict lines); the emergency shelter coverage by district and
// street; and, when the units have monitoring points, monitoring and early warning (监测预警:
// points, alarm statistics, open alarms). It writes it as PDF (for reading and printing,
// with a TrueType CJK font embedded as a subset) and as DOCX (OOXML written by hand, for the
// assessment firm to edit).
//
// The package only lays out what it is given (Data): what the report covers (scope,
// filters, a publication) is the caller's. The same Data gives the same bytes: no clock,
// no random ids; every date comes from Data.
package reportdoc

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"

	"riskmap/pkg/riskmap"
)

// Data is everything a report shows.
type Data struct {
	// City is the city's name (澄江市); the title is City + "城市安全风险评估报告".
	City string
	// Publisher is who issues the report (config "publisher").
	Publisher string
	// Date is the report's date (a publication's time for a publication's report): shown on
	// the cover and written as the documents' creation time.
	Date time.Time
	// Scope says what the report covers, in words (全市 / 部门 … 的职责范围 / 第 n 期发布).
	Scope string
	// Filters describes the filters applied, in words; "" for none.
	Filters string
	// Grades are the four grades, red first, with their colours.
	Grades [4]GradeInfo
	// Total counts the units by grade, red first.
	Total [4]int
	// ByCategory and ByRegion count the units by grade per category and per district.
	ByCategory []CountRow
	ByRegion   []CountRow
	// UnitMap and RegionMap are PNG images of the two maps; nil leaves a map out.
	UnitMap, RegionMap []byte
	// MapAspect is height/width of the map images.
	MapAspect float64
	// Major lists the 重大 and 较大 risks.
	Major []RiskRow
	// Regions are the regional grades with their explanations.
	Regions []RegionRow
	// RegionsNote says where the regional grades come from (live or published).
	RegionsNote string
	// Hazards is the hidden-danger part; nil leaves it out (with HazardsNote saying why).
	Hazards     *HazardPart
	HazardsNote string
	// Conflicts is the chapter 安全距离分析 (safe-distance conflicts); nil leaves it out,
	// with ConflictsNote saying why.
	Conflicts     *ConflictPart
	ConflictsNote string
	// Coverage is the chapter 应急避难场所覆盖 (shelter coverage); nil leaves it out, with
	// CoverageNote saying why.
	Coverage     *CoveragePart
	CoverageNote string
	// Monitoring is the chapter 监测预警 (monitoring points and alarms); nil or without
	// points leaves the chapter out.
	Monitoring *MonitoringPart
}

// Title is the report's title.
func (d *Data) Title() string { return d.City + "城市安全风险评估报告" }

// GradeInfo is a grade's name and colours.
type GradeInfo struct {
	Grade riskmap.Grade
	Label string // 重大风险 …
	Short string // 重大 …
	Fill  string // #RRGGBB
}

// CountRow is one row of counts: a label and the units by grade, red first.
type CountRow struct {
	Label  string
	Counts [4]int
}

// Sum is the row's total.
func (r CountRow) Sum() int { return r.Counts[0] + r.Counts[1] + r.Counts[2] + r.Counts[3] }

// RiskRow is one 重大 or 较大 risk.
type RiskRow struct {
	Code, Name, Category, Region string
	Grade                        riskmap.Grade
	// Controls are the control measures in words (the five groups, those given).
	Controls   string
	Department string
	Unit       string // 责任单位
}

// RegionRow is one region's grade and why.
type RegionRow struct {
	Name, Level string
	Counts      [4]int
	Grade       riskmap.Grade
	Explanation string
}

// HazardPart is the hidden dangers of the report's scope.
type HazardPart struct {
	// ByCategory counts the hidden dangers per category; Total sums them.
	ByCategory []HazardRow
	Total      HazardRow
	// OpenMajor lists open major hidden dangers (the first ones; OpenMajorMore says how
	// many more there are).
	OpenMajor     []HazardItem
	OpenMajorMore int
}

// HazardRow counts the hidden dangers of a group.
type HazardRow struct {
	Label                                            string
	Total, Closed, Open, OpenMajor, Overdue, DueSoon int
}

// HazardItem is one open major hidden danger.
type HazardItem struct {
	Code, Unit, Description, Deadline, Department, Status string
}

// SumTotal is the number of units in the report.
func (d *Data) SumTotal() int { return d.Total[0] + d.Total[1] + d.Total[2] + d.Total[3] }

// Font is the TrueType fonts both formats use: the CJK font and, when it lacks Latin
// letters and digits (Droid Sans Fallback is a fallback font and has none), a Latin font for
// those. The PDF embeds a subset of each; the chart images are drawn with them.
type Font struct {
	Path  string
	Bytes []byte
	face  *opentype.Font
	// Latin is the font of the characters the CJK font lacks; nil when it has them all.
	Latin *Font
	buf   sfnt.Buffer
	mu    sync.Mutex
	has   map[rune]bool
}

// DefaultFontPath is where Debian's fonts-droid-fallback puts its font (a TrueType font
// with glyf outlines, which fpdf can subset).
const DefaultFontPath = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"

// FontPackage is the Debian package that provides DefaultFontPath.
const FontPackage = "fonts-droid-fallback"

// LatinFontPath is the font of Latin letters and digits when the CJK font has none (Debian's
// fonts-dejavu-core, LatinFontPackage).
const (
	LatinFontPath    = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
	LatinFontPackage = "fonts-dejavu-core"
)

// LoadFont reads and checks a TrueType CJK font and, if it lacks digits, the Latin font. The
// error says, in Chinese, which package to install.
func LoadFont(path string) (*Font, error) {
	if path == "" {
		path = DefaultFontPath
	}
	f, err := loadTTF(path)
	if err != nil {
		return nil, riskmap.Errorf(riskmap.EUNAVAILABLE, "生成报告需要中文字体 %s，但无法读取；请安装 Debian 软件包 %s（见 scripts/install-deps.sh）或用 --report-font 指定 TrueType 字体", path, FontPackage)
	}
	if f.face == nil {
		return nil, riskmap.Errorf(riskmap.EUNAVAILABLE, "报告字体 %s 不是带 glyf 轮廓的 TrueType 字体；请安装 Debian 软件包 %s", path, FontPackage)
	}
	if !f.own('0') || !f.own('A') {
		latin, err := loadTTF(LatinFontPath)
		if err != nil || latin.face == nil {
			return nil, riskmap.Errorf(riskmap.EUNAVAILABLE, "报告字体 %s 没有西文字母和数字，需要字体 %s；请安装 Debian 软件包 %s", path, LatinFontPath, LatinFontPackage)
		}
		f.Latin = latin
	}
	return f, nil
}

// loadTTF reads a font file; face is nil when it is not a TrueType font with glyf outlines.
func loadTTF(path string) (*Font, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := &Font{Path: path, Bytes: b, has: map[rune]bool{}}
	if len(b) < 12 || string(b[:4]) == "OTTO" || string(b[:4]) == "ttcf" {
		return f, nil
	}
	if face, err := opentype.Parse(b); err == nil {
		f.face = face
	}
	return f, nil
}

// own reports whether the font has a glyph for r.
func (f *Font) own(r rune) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if v, ok := f.has[r]; ok {
		return v
	}
	i, err := f.face.GlyphIndex(&f.buf, r)
	v := err == nil && i != 0
	f.has[r] = v
	return v
}

// Latin reports whether r is drawn with the Latin font.
func (f *Font) latin(r rune) bool { return f.Latin != nil && !f.own(r) && r != '\n' }

// segment is a run of text in one of the two fonts.
type segment struct {
	latin bool
	text  string
}

// segments splits s into runs by font.
func (f *Font) segments(s string) []segment {
	var out []segment
	for _, r := range s {
		l := f.latin(r)
		if n := len(out); n > 0 && out[n-1].latin == l {
			out[n-1].text += string(r)
			continue
		}
		out = append(out, segment{l, string(r)})
	}
	return out
}

// FontSource finds the font once and remembers the answer: the server starts without it and
// answers 503 until it is installed (it looks again at most once a minute).
type FontSource struct {
	Path string
	Now  func() time.Time

	mu      sync.Mutex
	font    *Font
	err     error
	triedAt time.Time
}

// Font returns the font or an EUNAVAILABLE error naming the package to install.
func (s *FontSource) Font() (*Font, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	if s.font == nil && (s.err == nil || now.Sub(s.triedAt) > time.Minute) {
		s.font, s.err = LoadFont(s.Path)
		s.triedAt = now
	}
	return s.font, s.err
}

// City guesses the city's name from the publisher's (澄江市安全生产委员会办公室 → 澄江市):
// the text up to the first 市, 州 or 县; else the whole name.
func City(publisher string) string {
	for i, r := range publisher {
		if r == '市' || r == '县' || r == '州' {
			return publisher[:i+len(string(r))]
		}
	}
	if publisher == "" {
		return "本市"
	}
	return publisher
}

// ControlsText writes a unit's controls as one text, group by group.
func ControlsText(c riskmap.Controls) string {
	var parts []string
	add := func(label string, items []string) {
		var keep []string
		for _, it := range items {
			if it = strings.TrimSpace(it); it != "" {
				keep = append(keep, it)
			}
		}
		if len(keep) > 0 {
			parts = append(parts, label+"："+strings.Join(keep, "；"))
		}
	}
	add("工程技术", c.Engineering)
	add("管理", c.Management)
	add("培训教育", c.Training)
	add("个体防护", c.PPE)
	add("应急处置", c.Emergency)
	return strings.Join(parts, "\n")
}

// dateText is a date in Chinese: 2026年12月6日.
func dateText(t time.Time) string {
	t = t.In(riskmap.ChinaTime)
	return fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
}

// pct is n/total as a percentage with one decimal.
func pct(n, total int) string {
	if total == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", float64(n)*100/float64(total))
}
