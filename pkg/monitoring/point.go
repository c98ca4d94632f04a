package monitoring

import (
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// Limits of a monitoring point.
const (
	MaxCodeLen    = 64
	MaxIntervalS  = 7 * 24 * 3600 // a week
	MaxMagnitude  = 1e9           // no kind measures beyond ±1e9 of its unit
	maxUnitLen    = 20
	minIntervalS  = 1
	defaultWindow = 5 * time.Minute
)

// Bounds are the thresholds of the four warning levels on one side: a value at or beyond
// a level's threshold is at that level. Nil is no threshold for the level.
type Bounds struct {
	Blue   *float64 `json:"blue,omitempty"`
	Yellow *float64 `json:"yellow,omitempty"`
	Orange *float64 `json:"orange,omitempty"`
	Red    *float64 `json:"red,omitempty"`
}

// At is the threshold of level l, nil when the level has none.
func (b *Bounds) At(l Level) *float64 {
	switch l {
	case LevelBlue:
		return b.Blue
	case LevelYellow:
		return b.Yellow
	case LevelOrange:
		return b.Orange
	case LevelRed:
		return b.Red
	}
	return nil
}

// empty reports whether no level has a threshold.
func (b *Bounds) empty() bool {
	return b == nil || (b.Blue == nil && b.Yellow == nil && b.Orange == nil && b.Red == nil)
}

// Thresholds are a point's warning thresholds (预警阈值): Upper for a value that must stay
// below them (gas concentration, displacement), Lower for one that must stay above them (a
// dry beach's length, a pipe's pressure), or both.
type Thresholds struct {
	Upper *Bounds `json:"upper,omitempty"`
	Lower *Bounds `json:"lower,omitempty"`
}

// Empty reports whether no threshold is set.
func (t Thresholds) Empty() bool { return t.Upper.empty() && t.Lower.empty() }

// clone is a deep copy of t.
func (t Thresholds) clone() Thresholds {
	cp := func(b *Bounds) *Bounds {
		if b == nil {
			return nil
		}
		c := &Bounds{}
		for _, l := range Levels {
			if v := b.At(l); v != nil {
				x := *v
				*c.ptr(l) = &x
			}
		}
		return c
	}
	return Thresholds{Upper: cp(t.Upper), Lower: cp(t.Lower)}
}

func (b *Bounds) ptr(l Level) **float64 {
	switch l {
	case LevelBlue:
		return &b.Blue
	case LevelYellow:
		return &b.Yellow
	case LevelOrange:
		return &b.Orange
	}
	return &b.Red
}

// check adds the problems of t to p, fields under prefix ("thresholds").
func (t Thresholds) check(p *riskmap.Problems, prefix string) {
	finite := true
	for _, side := range []struct {
		name string
		b    *Bounds
	}{{"upper", t.Upper}, {"lower", t.Lower}} {
		if side.b == nil {
			continue
		}
		for _, l := range Levels {
			if v := side.b.At(l); v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0) || math.Abs(*v) > MaxMagnitude) {
				p.Add(prefix+"."+side.name+"."+string(l), "阈值应为有限数值，绝对值不超过 %g", MaxMagnitude)
				finite = false
			}
		}
	}
	if !finite {
		return
	}
	// Upper: red ≥ orange ≥ yellow ≥ blue; lower: red ≤ orange ≤ yellow ≤ blue.
	if t.Upper != nil {
		var prev *float64
		var prevL Level
		for _, l := range Levels {
			if v := t.Upper.At(l); v != nil {
				if prev != nil && *v < *prev {
					p.Add(prefix+".upper."+string(l), "上限阈值应逐级不降：%s（%g）不能低于%s（%g）", l.text(), *v, prevL.text(), *prev)
				}
				prev, prevL = v, l
			}
		}
	}
	if t.Lower != nil {
		var prev *float64
		var prevL Level
		for _, l := range Levels {
			if v := t.Lower.At(l); v != nil {
				if prev != nil && *v > *prev {
					p.Add(prefix+".lower."+string(l), "下限阈值应逐级不升：%s（%g）不能高于%s（%g）", l.text(), *v, prevL.text(), *prev)
				}
				prev, prevL = v, l
			}
		}
	}
	if lo, hi := t.lowestUpper(), t.highestLower(); lo != nil && hi != nil && *lo <= *hi {
		p.Add(prefix, "上限阈值（最低 %g）应高于下限阈值（最高 %g）", *lo, *hi)
	}
}

func (t Thresholds) lowestUpper() *float64 {
	if t.Upper == nil {
		return nil
	}
	var lo *float64
	for _, l := range Levels {
		if v := t.Upper.At(l); v != nil && (lo == nil || *v < *lo) {
			lo = v
		}
	}
	return lo
}

func (t Thresholds) highestLower() *float64 {
	if t.Lower == nil {
		return nil
	}
	var hi *float64
	for _, l := range Levels {
		if v := t.Lower.At(l); v != nil && (hi == nil || *v > *hi) {
			hi = v
		}
	}
	return hi
}

// Point is a monitoring point (监测点): one sensor's series at a risk unit.
type Point struct {
	ID     int64  `json:"id"`
	Code   string `json:"code"`
	UnitID int64  `json:"unit_id"`
	// Kind is a kind code of the config's taxonomy (gas, pressure …).
	Kind string `json:"kind"`
	// UnitOfMeasure is the kind's unit (%LEL, MPa, m …).
	UnitOfMeasure string    `json:"unit_of_measure"`
	Location      orb.Point `json:"location"`
	// IntervalS is the expected reporting interval in seconds; silence for
	// Config.OfflineAfter intervals raises an offline alarm.
	IntervalS  int        `json:"interval_s"`
	Thresholds Thresholds `json:"thresholds"`
}

// Interval is the expected reporting interval.
func (p *Point) Interval() time.Duration { return time.Duration(p.IntervalS) * time.Second }

// Validate checks a point on its own (Config.CheckPoint checks it against its kind): every
// problem named by its JSON field.
func (p *Point) Validate() error {
	var pr riskmap.Problems
	p.validate(&pr)
	return pr.Err()
}

func (p *Point) validate(pr *riskmap.Problems) {
	checkCode(pr, "code", p.Code)
	if p.UnitID < 1 {
		pr.Add("unit_id", "必须填写所属风险单元")
	}
	if strings.TrimSpace(p.Kind) == "" {
		pr.Add("kind", "必须填写监测类型")
	}
	if strings.TrimSpace(p.UnitOfMeasure) == "" || utf8.RuneCountInString(p.UnitOfMeasure) > maxUnitLen {
		pr.Add("unit_of_measure", "必须填写计量单位（不超过 %d 个字符）", maxUnitLen)
	}
	lon, lat := p.Location[0], p.Location[1]
	if math.IsNaN(lon) || math.IsNaN(lat) || lon < -180 || lon > 180 || lat < -90 || lat > 90 || p.Location == (orb.Point{}) {
		pr.Add("location", "坐标须为有效的经纬度（经度 -180 到 180，纬度 -90 到 90）")
	}
	if p.IntervalS < minIntervalS || p.IntervalS > MaxIntervalS {
		pr.Add("interval_s", "上报间隔应在 %d 到 %d 秒之间", minIntervalS, MaxIntervalS)
	}
	if p.Thresholds.Empty() {
		pr.Add("thresholds", "至少须设置一个预警阈值（上限或下限）")
	}
	p.Thresholds.check(pr, "thresholds")
}

// checkCode refuses an empty code, one over MaxCodeLen characters or one with a space or a
// control character.
func checkCode(pr *riskmap.Problems, field, code string) {
	if code == "" || utf8.RuneCountInString(code) > MaxCodeLen || !utf8.ValidString(code) ||
		strings.IndexFunc(code, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		pr.Add(field, "编号必填，不超过 %d 个字符，不含空白或控制字符", MaxCodeLen)
	}
}

// Reading is one value of a point at a time.
type Reading struct {
	PointID int64     `json:"point_id"`
	Time    time.Time `json:"time"`
	Value   float64   `json:"value"`
}

// Validate checks a reading on its own (the parser also checks its kind's range and its
// time against the clock).
func (r *Reading) Validate() error {
	var p riskmap.Problems
	if r.PointID < 1 {
		p.Add("point", "必须指明监测点")
	}
	if r.Time.IsZero() {
		p.Add("time", "必须填写观测时间")
	}
	if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
		p.Add("value", "应为有限数值")
	}
	return p.Err()
}
