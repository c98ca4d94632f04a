package monitoring

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"riskmap/pkg/riskmap"
)

// Kind is a kind of monitoring point in the taxonomy (config "monitoring.kinds").
type Kind struct {
	// Code is how points name the kind (gas, pressure …): lower-case ASCII.
	Code  string `json:"code"`
	Label string `json:"label"` // Chinese name: 可燃气体浓度 …
	Unit  string `json:"unit"`  // unit of measure: %LEL, MPa, m …
	// Min and Max are the physical range: a reading outside it is refused as impossible
	// (a broken sensor, 1e308), never evaluated.
	Min float64 `json:"min"`
	Max float64 `json:"max"`
	// IntervalS is the default expected reporting interval in seconds.
	IntervalS int `json:"interval_s"`
	// Thresholds are the defaults of a point that sets none; none when practice gives no
	// value that holds everywhere (a pipe's pressure, a dam's phreatic line).
	Thresholds Thresholds `json:"thresholds"`
	// Deadband and DeadbandFraction are the hysteresis: a level entered at threshold T is
	// left only below T − max(Deadband, DeadbandFraction·|T|) (above T + … for a lower
	// threshold).
	Deadband         float64 `json:"deadband"`
	DeadbandFraction float64 `json:"deadband_fraction"`
	// Consecutive is how many readings in a row must agree before a point's level changes
	// (up or down).
	Consecutive int `json:"consecutive"`
}

// deadband is the hysteresis at threshold t.
func (k *Kind) deadband(t float64) float64 { return max(k.Deadband, k.DeadbandFraction*math.Abs(t)) }

// Escalation is a unit-level rule (the tailings-dam rule): when at least MinPoints points
// of one unit, of the kinds Kinds, are at a level or above, each of them at that level is
// raised one level (blue → yellow → orange → red).
type Escalation struct {
	Kinds     []string `json:"kinds"`
	MinPoints int      `json:"min_points"`
}

// Config is the config section "monitoring".
type Config struct {
	Kinds []Kind `json:"kinds"`
	// OfflineAfter is how many expected intervals of silence raise an offline alarm (3).
	OfflineAfter int `json:"offline_after"`
	// OfflineLevel is the level of an offline alarm (blue: silence is no evidence of
	// danger, and does not raise the unit's grade under the default rules).
	OfflineLevel Level        `json:"offline_level"`
	Escalations  []Escalation `json:"escalations"`
	// RetentionDays is how many days of readings are kept (400: a year and a month, so a
	// year's chart compares like months); older ones are dropped daily. 0 keeps them all.
	RetentionDays int `json:"retention_days"`
}

func f(v float64) *float64 { return &v }

// Default is the taxonomy in force when the configuration gives none. Thresholds only
// where practice gives values that hold everywhere: combustible gas warns at 25 %LEL and
// alarms at 50 %LEL (GB/T 50493-2019, 一级/二级报警); crowd density after Fruin's levels of
// service (2, 3, 4 and 5 persons/m²); hourly rainfall from 20 mm/h (短时强降水) up.
func Default() Config {
	return Config{
		OfflineAfter:  3,
		OfflineLevel:  LevelBlue,
		RetentionDays: 400,
		Kinds: []Kind{
			{Code: "gas", Label: "可燃气体浓度", Unit: "%LEL", Min: 0, Max: 100, IntervalS: 60, Deadband: 2, Consecutive: 1,
				Thresholds: Thresholds{Upper: &Bounds{Yellow: f(25), Red: f(50)}}},
			{Code: "pressure", Label: "压力", Unit: "MPa", Min: -0.1, Max: 100, IntervalS: 60, DeadbandFraction: 0.02, Consecutive: 2},
			{Code: "water_level", Label: "水位", Unit: "m", Min: -500, Max: 9000, IntervalS: 300, DeadbandFraction: 0.002, Deadband: 0.02, Consecutive: 2},
			{Code: "phreatic_line", Label: "浸润线埋深", Unit: "m", Min: 0, Max: 500, IntervalS: 3600, Deadband: 0.05, Consecutive: 2},
			{Code: "displacement", Label: "位移", Unit: "mm", Min: -10000, Max: 10000, IntervalS: 3600, Deadband: 1, DeadbandFraction: 0.05, Consecutive: 3},
			{Code: "beach_length", Label: "干滩长度", Unit: "m", Min: 0, Max: 10000, IntervalS: 3600, Deadband: 1, Consecutive: 2},
			{Code: "temperature", Label: "温度", Unit: "°C", Min: -80, Max: 1500, IntervalS: 60, Deadband: 1, Consecutive: 2},
			{Code: "rainfall", Label: "小时雨量", Unit: "mm/h", Min: 0, Max: 500, IntervalS: 300, DeadbandFraction: 0.1, Consecutive: 1,
				Thresholds: Thresholds{Upper: &Bounds{Blue: f(20), Yellow: f(30), Orange: f(50), Red: f(80)}}},
			{Code: "crowd_density", Label: "人群密度", Unit: "人/m²", Min: 0, Max: 12, IntervalS: 60, DeadbandFraction: 0.1, Consecutive: 2,
				Thresholds: Thresholds{Upper: &Bounds{Blue: f(2), Yellow: f(3), Orange: f(4), Red: f(5)}}},
		},
		Escalations: []Escalation{{Kinds: []string{"phreatic_line", "displacement", "beach_length"}, MinPoints: 3}},
	}
}

var kindCode = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// Check validates the section; the first problem is returned, named by its path.
func (c *Config) Check() error {
	if len(c.Kinds) == 0 {
		return fmt.Errorf("monitoring.kinds 不能为空")
	}
	seen := map[string]bool{}
	for i, k := range c.Kinds {
		at := fmt.Sprintf("monitoring.kinds[%d]", i)
		switch {
		case !kindCode.MatchString(k.Code):
			return fmt.Errorf("%s.code 应为小写字母开头的字母、数字或下划线（不超过 32 个），收到 %q", at, k.Code)
		case seen[k.Code]:
			return fmt.Errorf("%s.code %q 重复", at, k.Code)
		case strings.TrimSpace(k.Label) == "":
			return fmt.Errorf("%s.label 不能为空", at)
		case strings.TrimSpace(k.Unit) == "" || len([]rune(k.Unit)) > maxUnitLen:
			return fmt.Errorf("%s.unit 不能为空，不超过 %d 个字符", at, maxUnitLen)
		case !finite(k.Min) || !finite(k.Max) || k.Min >= k.Max || math.Abs(k.Min) > MaxMagnitude || math.Abs(k.Max) > MaxMagnitude:
			return fmt.Errorf("%s 的 min 应小于 max，均为绝对值不超过 %g 的有限数值", at, MaxMagnitude)
		case k.IntervalS < minIntervalS || k.IntervalS > MaxIntervalS:
			return fmt.Errorf("%s.interval_s 应在 %d 到 %d 秒之间", at, minIntervalS, MaxIntervalS)
		case !finite(k.Deadband) || k.Deadband < 0 || k.Deadband > k.Max-k.Min:
			return fmt.Errorf("%s.deadband 应为 0 到量程之间的数值", at)
		case !finite(k.DeadbandFraction) || k.DeadbandFraction < 0 || k.DeadbandFraction >= 0.5:
			return fmt.Errorf("%s.deadband_fraction 应不小于 0 且小于 0.5", at)
		case k.Consecutive < 1 || k.Consecutive > 100:
			return fmt.Errorf("%s.consecutive 应在 1 到 100 之间", at)
		}
		if err := k.checkThresholds(k.Thresholds, at+".thresholds"); err != nil {
			return err
		}
		seen[k.Code] = true
	}
	if c.OfflineAfter < 2 || c.OfflineAfter > 100 {
		return fmt.Errorf("monitoring.offline_after 应在 2 到 100 之间（几个上报间隔无数据即离线）")
	}
	if !c.OfflineLevel.Valid() {
		return fmt.Errorf("monitoring.offline_level 应为 blue、yellow、orange 或 red")
	}
	if c.RetentionDays < 0 || c.RetentionDays > 36500 {
		return fmt.Errorf("monitoring.retention_days 应在 0（不删除）到 36500 之间")
	}
	inRule := map[string]int{}
	for i, e := range c.Escalations {
		at := fmt.Sprintf("monitoring.escalations[%d]", i)
		if len(e.Kinds) == 0 {
			return fmt.Errorf("%s.kinds 不能为空", at)
		}
		for _, k := range e.Kinds {
			if !seen[k] {
				return fmt.Errorf("%s.kinds: 未知的监测类型 %q", at, k)
			}
			if j, ok := inRule[k]; ok {
				return fmt.Errorf("%s.kinds: 监测类型 %q 已在 monitoring.escalations[%d] 中", at, k, j)
			}
			inRule[k] = i
		}
		if e.MinPoints < 2 || e.MinPoints > 100 {
			return fmt.Errorf("%s.min_points 应在 2 到 100 之间", at)
		}
	}
	return nil
}

// checkThresholds checks thresholds of kind k: ordered, finite, inside the range.
func (k *Kind) checkThresholds(t Thresholds, at string) error {
	if pr := k.thresholdProblems(t, at); len(pr) > 0 {
		return fmt.Errorf("%s：%s", pr[0].Field, pr[0].Message)
	}
	return nil
}

func (k *Kind) thresholdProblems(t Thresholds, at string) (pr riskmap.Problems) {
	t.check(&pr, at)
	if len(pr) > 0 {
		return pr
	}
	for _, side := range []struct {
		name string
		b    *Bounds
	}{{"upper", t.Upper}, {"lower", t.Lower}} {
		if side.b == nil {
			continue
		}
		for _, l := range Levels {
			if v := side.b.At(l); v != nil && (*v < k.Min || *v > k.Max) {
				pr.Add(at+"."+side.name+"."+string(l), "阈值 %g 超出%s的量程（%g 到 %g %s）", *v, k.Label, k.Min, k.Max, k.Unit)
			}
		}
	}
	return pr
}

// Kind is the kind of code.
func (c *Config) Kind(code string) (*Kind, bool) {
	for i := range c.Kinds {
		if c.Kinds[i].Code == code {
			return &c.Kinds[i], true
		}
	}
	return nil, false
}

// escalation is the escalation rule that covers kind, nil for none.
func (c *Config) escalation(kind string) *Escalation {
	for i := range c.Escalations {
		if slices.Contains(c.Escalations[i].Kinds, kind) {
			return &c.Escalations[i]
		}
	}
	return nil
}

// Prepare fills what a new point leaves out from its kind: the unit of measure, the
// expected interval and, when it sets no threshold at all, the kind's default thresholds.
func (c *Config) Prepare(p *Point) {
	k, ok := c.Kind(p.Kind)
	if !ok {
		return
	}
	if p.UnitOfMeasure == "" {
		p.UnitOfMeasure = k.Unit
	}
	if p.IntervalS == 0 {
		p.IntervalS = k.IntervalS
	}
	if p.Thresholds.Empty() {
		p.Thresholds = k.Thresholds.clone()
	}
}

// CheckPoint validates a point against the taxonomy: Validate's problems, and a known
// kind, its unit of measure, thresholds inside its physical range.
func (c *Config) CheckPoint(p *Point) error {
	var pr riskmap.Problems
	p.validate(&pr)
	k, ok := c.Kind(p.Kind)
	if !ok {
		if strings.TrimSpace(p.Kind) != "" {
			pr.Add("kind", "未知的监测类型 %q；可选：%s", p.Kind, c.kindCodes())
		}
		return pr.Err()
	}
	if p.UnitOfMeasure != "" && p.UnitOfMeasure != k.Unit {
		pr.Add("unit_of_measure", "%s的计量单位应为 %s，收到 %q", k.Label, k.Unit, p.UnitOfMeasure)
	}
	if len(pr) == 0 {
		pr = k.thresholdProblems(p.Thresholds, "thresholds")
	}
	return pr.Err()
}

func (c *Config) kindCodes() string {
	codes := make([]string, len(c.Kinds))
	for i, k := range c.Kinds {
		codes[i] = k.Code + "（" + k.Label + "）"
	}
	return strings.Join(codes, "、")
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
