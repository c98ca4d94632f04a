package reportdoc

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"riskmap/pkg/riskmap"
)

// The two spatial analyses of issue 16, as plain rows the caller fills (from the analysis
// engine): the safe-distance conflicts (安全距离分析) and the shelter coverage
// (应急避难场所覆盖).

// ConflictPart is the chapter 安全距离分析: the protective targets inside the influence
// range of hazardous units.
type ConflictPart struct {
	// Rows are the conflicts listed, in the order of the city-wide conflict table (grade,
	// then people, then distance); More says how many more there are.
	Rows []ConflictRow
	More int
	// Units, Targets and People sum up all the conflicts (not only those listed): the
	// hazardous units with a target in range, the targets inside some range, and the people
	// at those targets.
	Units, Targets, People int
	// Raised is how many of the units the conflict rule raised (their grade above the
	// inherent one because of a conflict); RaisedRule says the rule in words ("" none).
	Raised     int
	RaisedRule string
	// Maps are PNGs of the conflict lines over the units and targets: the whole extent,
	// and maybe a closer look at where they crowd.
	Maps []Figure
}

// Figure is an image with its caption.
type Figure struct {
	Caption string
	PNG     []byte
	// Aspect is height/width.
	Aspect float64
}

// ConflictRow is one conflict: a unit, a protective target inside its influence range.
type ConflictRow struct {
	UnitCode, UnitName string
	Grade              riskmap.Grade
	Target             string
	Kind               string // the target's kind in words: 学校 …
	People             int
	// DistanceM is the distance edge to edge, RadiusM the unit's influence radius and
	// DefaultRadius whether that is its category's default.
	DistanceM, RadiusM float64
	DefaultRadius      bool
}

// Total is the number of conflicts.
func (c *ConflictPart) Total() int { return len(c.Rows) + c.More }

// CoveragePart is the chapter 应急避难场所覆盖: the effective shelter area per resident by
// district and by street against the requirement, and the shares inside some shelter's
// service radius.
type CoveragePart struct {
	// RequiredM2 is the required effective area per resident (1.5 m²).
	RequiredM2 float64
	// Shelters is the number of shelters; Districts and Streets the rows of each level.
	Shelters  int
	Districts []CoverageRow
	Streets   []CoverageRow
	// Map is a PNG of the streets in the colours of their classes (CoverageColours) with the
	// shelters (ShelterColour); nil leaves it out.
	Map *Figure
}

// CoverageColours are the fills of the coverage classes on the coverage map (those of the
// map in the browser; none a grade's colour).
var CoverageColours = map[string]string{
	CoverageOK:     "#2CA25F",
	CoverageShort:  "#9E9AC8",
	CoverageSevere: "#54278F",
	CoverageNoData: "#CCCCCC",
}

// ShelterColour is the fill of a shelter on the coverage map.
const ShelterColour = "#FFFFFF"

// coverageLegend is the coverage map's key.
func coverageLegend() []legendItem {
	var out []legendItem
	for _, c := range []string{CoverageOK, CoverageShort, CoverageSevere, CoverageNoData} {
		out = append(out, legendItem{classLabel(c), CoverageColours[c]})
	}
	return append(out, legendItem{"应急避难场所", ShelterColour})
}

// legendItem is a coloured box and its name.
type legendItem struct{ label, fill string }

// Coverage classes (as the API's shelter-coverage class).
const (
	CoverageOK     = "ok"
	CoverageShort  = "short"
	CoverageSevere = "severe"
	CoverageNoData = "no_data"
)

// CoverageRow is one region's shelter coverage.
type CoverageRow struct {
	Name       string
	Population int64
	Shelters   int
	// EffectiveAreaM2 is the effective area of its shelters, PerCapitaM2 that per resident,
	// ShortfallM2 the area missing to the requirement (0 when met).
	EffectiveAreaM2, PerCapitaM2, ShortfallM2 float64
	// CoveredPopulation and CoveredArea are the shares (0..1) of the population and of the
	// area within some shelter's service radius.
	CoveredPopulation, CoveredArea float64
	// Class is CoverageOK, CoverageShort, CoverageSevere or CoverageNoData.
	Class string
}

// classLabel names a coverage class.
func classLabel(c string) string {
	switch c {
	case CoverageOK:
		return "达标"
	case CoverageShort:
		return "不足"
	case CoverageSevere:
		return "严重不足"
	}
	return "无人口数据"
}

// classFill is the background of a class's cell: light tints of the coverage map's colours
// (none a grade's colour).
func classFill(c string) string {
	switch c {
	case CoverageOK:
		return "#C7E9C0"
	case CoverageShort:
		return "#DADAEB"
	case CoverageSevere:
		return "#BCBDDC"
	}
	return "#EEEEEE"
}

// The conflict table.

var conflictHeads = []string{"序号", "风险单元", "等级", "防护目标", "类型", "人数", "距离/m", "影响半径/m"}

// conflictWidths are the table's column widths in mm (the body is 174 mm wide).
var conflictWidths = []float64{9, 50, 11, 36, 21, 13, 14, 20}

var conflictAligns = []string{"C", "L", "C", "L", "L", "R", "R", "R"}

func conflictRows(c *ConflictPart) [][]string {
	rows := make([][]string, len(c.Rows))
	for i, r := range c.Rows {
		radius := metres(r.RadiusM)
		if r.DefaultRadius {
			radius += "（默认）"
		}
		rows[i] = []string{strconv.Itoa(i + 1), r.UnitCode + "\n" + r.UnitName, r.Grade.ShortLabel(), r.Target, r.Kind,
			strconv.Itoa(r.People), metres(r.DistanceM), radius}
	}
	return rows
}

// metres writes a distance in whole metres.
func metres(m float64) string { return strconv.FormatFloat(math.Round(m), 'f', 0, 64) }

// conflictText is the chapter's opening paragraph.
func conflictText(c *ConflictPart) string {
	if c.Total() == 0 {
		return "在本报告范围内，没有防护目标（学校、幼儿园、医院、养老机构、人员密集场所等）位于危险化学品、烟花爆竹、燃气等易燃易爆、有毒有害单元的影响范围内。"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "在本报告范围内，%d 个易燃易爆、有毒有害风险单元的影响范围内有防护目标，共 %d 处安全距离不足（冲突），涉及防护目标 %d 个、%s 人。",
		c.Units, c.Total(), c.Targets, thousands(int64(c.People)))
	if c.Raised > 0 && c.RaisedRule != "" {
		fmt.Fprintf(&b, "按直接判定规则（%s），其中 %d 个单元的等级因此上调。", c.RaisedRule, c.Raised)
	}
	b.WriteString("距离为单元边缘到防护目标边缘的大地距离（WGS 84），影响半径为单元登记的半径，未登记的按行业类别的默认半径（注“默认”）。下表按风险等级、人数、距离排序。")
	return b.String()
}

// conflictListHeading numbers the list after the maps, if any.
func conflictListHeading(c *ConflictPart) string {
	if len(c.Maps) == 0 {
		return "（一）安全距离冲突清单"
	}
	return "（二）安全距离冲突清单"
}

// conflictMapNote says what the conflict map shows.
const conflictMapNote = "图中圆点、线和面为有冲突的风险单元（按等级着色），紫色方块为防护目标，虚线连接单元与其影响范围内的防护目标（最近点之间），灰线为街道界线。"

// The coverage tables.

var coverageHeads = []string{"区域", "常住人口", "场所数", "有效面积/m²", "人均/m²", "要求/m²", "缺口/m²", "人口覆盖率", "面积覆盖率", "结论"}

var coverageWidths = []float64{19, 16, 13, 21, 15, 15, 16, 19, 19, 21}

var coverageAligns = []string{"L", "R", "R", "R", "R", "R", "R", "R", "R", "C"}

func coverageRows(c *CoveragePart, rows []CoverageRow) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		per, short := "—", "—"
		if r.Class != CoverageNoData {
			per = strconv.FormatFloat(r.PerCapitaM2, 'f', 2, 64)
			short = thousands(int64(math.Round(r.ShortfallM2)))
		}
		out[i] = []string{r.Name, thousands(r.Population), strconv.Itoa(r.Shelters), thousands(int64(math.Round(r.EffectiveAreaM2))),
			per, strconv.FormatFloat(c.RequiredM2, 'f', -1, 64), short, share(r.CoveredPopulation), share(r.CoveredArea), classLabel(r.Class)}
	}
	return out
}

// share writes a share of 0..1 as a percentage with one decimal.
func share(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
}

// thousands writes n with thousands separators: 174,000.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// coverageText is the chapter's opening paragraph.
func coverageText(c *CoveragePart) string {
	var b strings.Builder
	fmt.Fprintf(&b, "按人均有效避难面积不小于 %s 平方米的要求，对全市 %d 处应急避难场所（紧急、固定、中心避难场所）按区县和街道统计有效避难面积；避难场所计入其所在的街道。",
		strconv.FormatFloat(c.RequiredM2, 'f', -1, 64), c.Shelters)
	var short []string
	for _, r := range c.Streets {
		if r.Class == CoverageShort || r.Class == CoverageSevere {
			short = append(short, fmt.Sprintf("%s（人均 %.2f 平方米，缺口 %s 平方米）", r.Name, r.PerCapitaM2, thousands(int64(math.Round(r.ShortfallM2)))))
		}
	}
	if len(c.Streets) > 0 {
		if len(short) == 0 {
			b.WriteString("各街道均达到要求。")
		} else {
			fmt.Fprintf(&b, "未达到要求的街道 %d 个：%s。", len(short), strings.Join(short, "、"))
		}
	}
	b.WriteString("人口覆盖率和面积覆盖率为位于某一避难场所服务半径内的人口和面积的比例（人口按社区人口密度估算）。")
	return b.String()
}
