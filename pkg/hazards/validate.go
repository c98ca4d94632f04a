package hazards

import (
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// Text limits of a hidden danger and a report, in characters.
const (
	MaxDescriptionLen       = 4000
	MaxShortLen             = 200
	MaxNoteLen              = 2000
	MaxReportDescriptionLen = 1000
	MaxContactLen           = 100
	maxFiveLen              = 1000
)

// Validate checks a hidden danger before it is stored: every problem named by its field
// (riskmap.Problems). A major one that has left "reported" must carry all of its 五落实.
func (h *Hazard) Validate() error {
	var p riskmap.Problems
	if h.UnitID < 1 {
		p.Add("unit_id", "必须填写所属风险单元")
	}
	if !h.Level.Valid() {
		p.Add("level", "隐患级别须为 general（一般隐患）或 major（重大隐患）")
	}
	text(&p, "description", h.Description, MaxDescriptionLen, true)
	text(&p, "location", h.Location, MaxShortLen, false)
	text(&p, "found_by", h.FoundBy, MaxShortLen, false)
	text(&p, "responsible_unit", h.ResponsibleUnit, MaxShortLen, true)
	text(&p, "responsible_person", h.ResponsiblePerson, MaxShortLen, true)
	text(&p, "measures", h.Measures, MaxDescriptionLen, true)
	if !h.Source.Valid() {
		p.Add("source", "来源须为 inspection（检查）、self_inspection（自查）、public_report（举报）或 monitoring（监测）")
	}
	if h.FoundAt.IsZero() {
		p.Add("found_at", "必须填写发现时间")
	}
	if h.Deadline.IsZero() {
		p.Add("deadline", "必须填写整改期限")
	} else if !h.FoundAt.IsZero() && riskmap.DayNumber(h.Deadline) < riskmap.DayNumber(h.FoundAt) {
		p.Add("deadline", "整改期限（%s）不能早于发现日期（%s）", day(h.Deadline), day(h.FoundAt))
	}
	if h.Point != (orb.Point{}) && !validLonLat(h.Point[0], h.Point[1]) {
		p.Add("point", "坐标须为有效的经纬度（经度 -180 到 180，纬度 -90 到 90）")
	}
	if h.Five != nil {
		for _, f := range h.Five.fields() {
			text(&p, "five."+f.name, f.value, maxFiveLen, false)
		}
	}
	if h.Level == LevelMajor && h.Status != StatusRegistered && h.Status != StatusReported && h.Status != "" {
		checkFive(&p, h.Five)
	}
	return p.Err()
}

// checkFive demands every one of the 五落实 of a major hidden danger.
func checkFive(p *riskmap.Problems, f *FiveImplementations) {
	if f == nil {
		p.Add("five", "重大隐患进入整改前须落实责任、措施、资金、时限、预案（五落实）")
		return
	}
	for _, x := range f.fields() {
		if strings.TrimSpace(x.value) == "" {
			p.Add("five."+x.name, "重大隐患须落实%s", x.label)
		}
	}
}

type fiveField struct{ name, label, value string }

func (f *FiveImplementations) fields() []fiveField {
	return []fiveField{{"responsibility", "责任", f.Responsibility}, {"measures", "措施", f.Measures},
		{"funds", "资金", f.Funds}, {"time_limit", "时限", f.TimeLimit}, {"plan", "预案", f.Plan}}
}

// Complete reports whether all of the 五落实 are filled in.
func (f *FiveImplementations) Complete() bool {
	if f == nil {
		return false
	}
	for _, x := range f.fields() {
		if strings.TrimSpace(x.value) == "" {
			return false
		}
	}
	return true
}

// text checks a text field: required or not, its length, and no control characters (line
// breaks and tabs allowed).
func text(p *riskmap.Problems, field, s string, max int, required bool) {
	if !utf8.ValidString(s) {
		p.Add(field, "不是有效的 UTF-8 文本")
		return
	}
	if required && strings.TrimSpace(s) == "" {
		p.Add(field, "必填")
		return
	}
	if n := utf8.RuneCountInString(s); n > max {
		p.Add(field, "过长：%d 个字符，上限 %d", n, max)
		return
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			p.Add(field, "含有不允许的控制字符")
			return
		}
	}
}

func validLonLat(lon, lat float64) bool {
	return !math.IsNaN(lon) && !math.IsNaN(lat) && lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90
}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }
