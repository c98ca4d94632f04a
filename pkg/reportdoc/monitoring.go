package reportdoc

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"riskmap/pkg/riskmap"
)

// The chapter 监测预警 (issue 17): the monitoring points of the report's units by kind and by
// region, the alarm statistics (报警处置率, 平均确认时间, 平均处置时间, by level, kind,
// department and district) and the alarms not closed, as plain rows the caller fills (from
// the monitoring service). The chapter is written only when there are points.

// MonitoringPart is the chapter 监测预警.
type MonitoringPart struct {
	// Points counts the monitoring points, Online those not silent, Alarmed those with an
	// alarm not closed.
	Points, Online, Alarmed int
	// ByKind and ByRegion count the points per kind (可燃气体浓度 …) and per district.
	ByKind, ByRegion []PointRow
	// Alarms sums up the alarms of the statistics; StatsNote says which alarms they are.
	Alarms    AlarmSummary
	StatsNote string
	// ByLevel (red first), ByAlarmKind, ByAlarmDepartment (监管部门) and ByAlarmRegion
	// (district) count the alarms per group.
	ByLevel, ByAlarmKind, ByAlarmDepartment, ByAlarmRegion []AlarmRow
	// Open lists the alarms not closed (the most severe first); OpenMore says how many more
	// there are.
	Open     []OpenAlarm
	OpenMore int
}

// PointRow counts the points of a group.
type PointRow struct {
	Label                   string
	Points, Online, Alarmed int
}

// AlarmSummary sums up alarms: how many, how many were disposed of (已处置, or closed after
// disposal) and the times to acknowledge and to dispose (in seconds; N of each).
type AlarmSummary struct {
	Total, Open, Closed, Disposed int
	// DisposalRate is Disposed / Total (0..1).
	DisposalRate               float64
	AckN, DisposeN             int
	AckMean, AckMedian         float64
	DisposeMean, DisposeMedian float64
}

// AlarmRow counts the alarms of a group; Grade is the colour of a level's row ("" none).
type AlarmRow struct {
	Label                 string
	Grade                 riskmap.Grade
	Total, Open, Disposed int
	DisposalRate          float64
}

// OpenAlarm is one alarm not closed.
type OpenAlarm struct {
	Code, Unit, Point, Kind string
	// Level is the level's name (红色预警 …), Grade its colour.
	Level string
	Grade riskmap.Grade
	// Peak is the most severe value with its unit (62.5 %LEL).
	Peak     string
	OpenedAt time.Time
	Status   string
}

// durationText writes seconds in the unit that suits them: 45 秒, 12.5 分钟, 3.2 小时, 2.1 天.
func durationText(s float64) string {
	switch {
	case math.IsNaN(s) || s < 0:
		return "—"
	case s < 60:
		return strconv.FormatFloat(math.Round(s), 'f', 0, 64) + " 秒"
	case s < 3600:
		return strconv.FormatFloat(s/60, 'f', 1, 64) + " 分钟"
	case s < 86400:
		return strconv.FormatFloat(s/3600, 'f', 1, 64) + " 小时"
	}
	return strconv.FormatFloat(s/86400, 'f', 1, 64) + " 天"
}

// monitoringText is the paragraph on the points.
func monitoringText(m *MonitoringPart) string {
	var kinds []string
	for _, k := range m.ByKind {
		kinds = append(kinds, fmt.Sprintf("%s %d 个", k.Label, k.Points))
	}
	s := fmt.Sprintf("本报告范围内的风险单元共设监测点 %d 个", m.Points)
	if len(kinds) > 0 {
		s += "（" + strings.Join(kinds, "、") + "）"
	}
	return s + fmt.Sprintf("，当前在线 %d 个，有未关闭报警的 %d 个。在线指监测点未因超过 3 个上报周期没有数据而处于离线报警。", m.Online, m.Alarmed)
}

// alarmText is the paragraph on the alarm statistics.
func alarmText(m *MonitoringPart) string {
	a := m.Alarms
	var b strings.Builder
	if m.StatsNote != "" {
		b.WriteString(m.StatsNote)
	}
	if a.Total == 0 {
		b.WriteString("统计范围内没有报警。")
		return b.String()
	}
	fmt.Fprintf(&b, "共发生报警 %d 次，其中未关闭 %d 次、已关闭 %d 次；已处置 %d 次，报警处置率 %s。", a.Total, a.Open, a.Closed, a.Disposed, share(a.DisposalRate))
	if a.AckN > 0 {
		fmt.Fprintf(&b, "平均确认时间 %s（中位数 %s，%d 次）", durationText(a.AckMean), durationText(a.AckMedian), a.AckN)
	} else {
		b.WriteString("尚无报警被确认")
	}
	if a.DisposeN > 0 {
		fmt.Fprintf(&b, "，平均处置时间 %s（中位数 %s，%d 次）。", durationText(a.DisposeMean), durationText(a.DisposeMedian), a.DisposeN)
	} else {
		b.WriteString("，尚无报警被处置。")
	}
	b.WriteString("确认时间和处置时间自报警发生时起算；报警处置率为已处置（含处置后关闭）的报警占报警总数的比例。")
	return b.String()
}

var (
	pointHeads  = []string{"", "监测点", "在线", "有未关闭报警"}
	pointWidths = []float64{84, 30, 30, 30}
	pointAligns = []string{"L", "R", "R", "R"}
	alarmHeads  = []string{"", "报警次数", "未关闭", "已处置", "报警处置率"}
	alarmWidths = []float64{74, 25, 25, 25, 25}
	alarmAligns = []string{"L", "R", "R", "R", "R"}
	openHeads   = []string{"报警编号", "风险单元", "监测点", "监测类型", "预警级别", "峰值", "发生时间", "状态"}
	openWidths  = []float64{30, 28, 17, 19, 16, 20, 32, 12}
	openAligns  = []string{"L", "L", "L", "L", "C", "R", "L", "C"}
)

// heads is hs with the first column named first.
func heads(first string, hs []string) []string {
	out := append([]string{}, hs...)
	out[0] = first
	return out
}

func pointRows(rows []PointRow) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = []string{r.Label, strconv.Itoa(r.Points), strconv.Itoa(r.Online), strconv.Itoa(r.Alarmed)}
	}
	return out
}

func alarmRows(rows []AlarmRow) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = []string{r.Label, strconv.Itoa(r.Total), strconv.Itoa(r.Open), strconv.Itoa(r.Disposed), share(r.DisposalRate)}
	}
	return out
}

func openRows(m *MonitoringPart) [][]string {
	out := make([][]string, len(m.Open))
	for i, a := range m.Open {
		out[i] = []string{a.Code, a.Unit, a.Point, a.Kind, a.Level, a.Peak, a.OpenedAt.In(riskmap.ChinaTime).Format("2006-01-02 15:04"), a.Status}
	}
	return out
}

// gradeIndex is the index of g in Data.Grades (red first), -1 for none.
func gradeIndex(g riskmap.Grade) int {
	if r := g.Rank(); r > 0 {
		return r - 1
	}
	return -1
}

// alarmTables are the tables of the statistics, for the PDF and the DOCX alike: first column
// name, rows.
func alarmTables(m *MonitoringPart) []struct {
	first string
	rows  []AlarmRow
} {
	return []struct {
		first string
		rows  []AlarmRow
	}{{"预警级别", m.ByLevel}, {"监测类型", m.ByAlarmKind}, {"监管部门", m.ByAlarmDepartment}, {"区域", m.ByAlarmRegion}}
}

func (w *docxWriter) monitoring() {
	d := w.d
	m := d.Monitoring
	if m == nil || m.Points == 0 {
		return
	}
	w.heading("八、监测预警")
	w.p("", monitoringText(m))
	w.p("Heading2", "（一）监测点分布")
	w.tableAligned(heads("监测类型", pointHeads), pointWidths, pointAligns, pointRows(m.ByKind), nil)
	if len(m.ByRegion) > 0 {
		w.p("", "")
		w.tableAligned(heads("区域", pointHeads), pointWidths, pointAligns, pointRows(m.ByRegion), nil)
	}
	w.p("Heading2", "（二）报警统计")
	w.p("", alarmText(m))
	for _, t := range alarmTables(m) {
		if len(t.rows) == 0 {
			continue
		}
		rows := t.rows
		w.tableAligned(heads(t.first, alarmHeads), alarmWidths, alarmAligns, alarmRows(rows), func(r, col int) string {
			if i := gradeIndex(rows[r].Grade); col == 0 && i >= 0 {
				return d.Grades[i].Fill
			}
			return ""
		})
		w.p("", "")
	}
	w.p("Heading2", "（三）未关闭的报警")
	if len(m.Open) == 0 {
		w.p("", "没有未关闭的报警。")
		return
	}
	w.tableAligned(openHeads, openWidths, openAligns, openRows(m), func(r, col int) string {
		if i := gradeIndex(m.Open[r].Grade); col == 4 && i >= 0 {
			return d.Grades[i].Fill
		}
		return ""
	})
	if m.OpenMore > 0 {
		w.p("", fmt.Sprintf("另有 %d 条未关闭的报警未列出，见系统中的报警列表（可导出 CSV）。", m.OpenMore))
	}
}

func (w *pdfWriter) monitoring() {
	d := w.d
	m := d.Monitoring
	if m == nil || m.Points == 0 {
		return
	}
	w.heading("八、监测预警")
	w.para(monitoringText(m))
	w.subheading("（一）监测点分布")
	w.table(columns(heads("监测类型", pointHeads), pointWidths, pointAligns), pointRows(m.ByKind), nil)
	if len(m.ByRegion) > 0 {
		w.p.Ln(3)
		w.table(columns(heads("区域", pointHeads), pointWidths, pointAligns), pointRows(m.ByRegion), nil)
	}
	w.subheading("（二）报警统计")
	w.para(alarmText(m))
	for _, t := range alarmTables(m) {
		if len(t.rows) == 0 {
			continue
		}
		rows := t.rows
		w.table(columns(heads(t.first, alarmHeads), alarmWidths, alarmAligns), alarmRows(rows), func(r, col int) string {
			if i := gradeIndex(rows[r].Grade); col == 0 && i >= 0 {
				return w.gradeFill(i)
			}
			return ""
		})
		w.p.Ln(3)
	}
	w.subheading("（三）未关闭的报警")
	if len(m.Open) == 0 {
		w.para("没有未关闭的报警。")
		return
	}
	w.table(columns(openHeads, openWidths, openAligns), openRows(m), func(r, col int) string {
		if i := gradeIndex(m.Open[r].Grade); col == 4 && i >= 0 {
			return w.gradeFill(i)
		}
		return ""
	})
	if m.OpenMore > 0 {
		w.para(fmt.Sprintf("另有 %d 条未关闭的报警未列出，见系统中的报警列表（可导出 CSV）。", m.OpenMore))
	}
}
