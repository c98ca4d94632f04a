// Package grading computes a unit's grade from its assessment inputs with the thresholds of
// the deployment, and explains every grade: method, inputs, value and the rule that applied.
package grading

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"riskmap/pkg/riskmap"
)

// Band maps a range of risk values to a grade. LS bands use Min (value ≥ Min); LEC bands use
// Above (value > Above), as the methods are usually written.
type Band struct {
	Grade riskmap.Grade `json:"grade"`
	Min   *float64      `json:"min,omitempty"`
	Above *float64      `json:"above,omitempty"`
}

// MethodConfig is the bands of one method, from the highest grade down.
type MethodConfig struct {
	Bands []Band `json:"bands"`
}

// Colour is how a grade is drawn.
type Colour struct {
	Fill    string `json:"fill"`
	Outline string `json:"outline"`
}

// Config is the deployment's grading configuration.
type Config struct {
	LS  MethodConfig `json:"ls"`
	LEC MethodConfig `json:"lec"`
	// ReviewMonths is how long after an assessment the next review is due, per grade.
	ReviewMonths map[riskmap.Grade]int    `json:"review_months"`
	Colours      map[riskmap.Grade]Colour `json:"colours"`
	// Dynamic is the config section "dynamic_grades"; no rules at all (nil) means
	// DefaultDynamic, an empty list means no raise.
	Dynamic DynamicConfig `json:"-"`
}

// Grader grades assessments with one configuration. It is safe for concurrent use.
type Grader struct {
	cfg Config
}

// New checks the configuration and returns a Grader.
func New(cfg Config) (*Grader, error) {
	if err := checkBands("ls", cfg.LS.Bands, true); err != nil {
		return nil, err
	}
	if err := checkBands("lec", cfg.LEC.Bands, false); err != nil {
		return nil, err
	}
	for _, g := range riskmap.Grades {
		if m, ok := cfg.ReviewMonths[g]; !ok || m < 1 || m > 120 {
			return nil, fmt.Errorf("grading.review_months.%s 应为 1 到 120 个月", g)
		}
		c, ok := cfg.Colours[g]
		if !ok || !isHexColour(c.Fill) || !isHexColour(c.Outline) {
			return nil, fmt.Errorf("colours.%s 须有 fill 与 outline，写作 #rrggbb", g)
		}
	}
	if cfg.Dynamic.Rules == nil {
		cfg.Dynamic = DefaultDynamic()
	}
	if err := checkDynamic(cfg.Dynamic); err != nil {
		return nil, err
	}
	return &Grader{cfg: cfg}, nil
}

// Config returns the configuration in force.
func (g *Grader) Config() Config { return g.cfg }

func isHexColour(s string) bool {
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	_, err := strconv.ParseUint(s[1:], 16, 32)
	return err == nil
}

func checkBands(name string, bands []Band, useMin bool) error {
	if len(bands) != len(riskmap.Grades) {
		return fmt.Errorf("grading.%s.bands 须为 4 个等级各一档，从 red（重大）到 blue（低）", name)
	}
	prev := math.Inf(1)
	for i, b := range bands {
		if b.Grade != riskmap.Grades[i] {
			return fmt.Errorf("grading.%s.bands[%d] 应为 %s（各档从 red 到 blue 排列）", name, i, riskmap.Grades[i])
		}
		v := b.Above
		if useMin {
			v = b.Min
		}
		if v == nil || (useMin && b.Above != nil) || (!useMin && b.Min != nil) {
			key := "above"
			if useMin {
				key = "min"
			}
			return fmt.Errorf("grading.%s.bands[%d] 须有且只有阈值 %q", name, i, key)
		}
		if !(*v < prev) {
			return fmt.Errorf("grading.%s.bands[%d]：阈值须从 red 到 blue 递减", name, i)
		}
		prev = *v
	}
	return nil
}

// Result is a computed grade with its explanation.
type Result struct {
	RiskValue   float64             `json:"risk_value"`
	Grade       riskmap.Grade       `json:"grade"`
	GradeLabel  string              `json:"grade_label"`
	Explanation riskmap.Explanation `json:"explanation"`
}

// Evaluate grades an assessment. A non-empty directMajorReason makes the grade red whatever
// the score (直接判定); the score is still computed and recorded. Invalid inputs are an
// EINVALID error naming the field.
func (g *Grader) Evaluate(a riskmap.Assessment, directMajorReason string) (Result, error) {
	var p riskmap.Problems
	riskmap.ValidateAssessment(&p, a)
	if err := p.Err(); err != nil {
		return Result{}, err
	}
	var (
		value                    float64
		inputs                   map[string]float64
		formula, methodName, sym string
		bands                    []Band
		useMin                   bool
	)
	switch a.Method {
	case riskmap.MethodLS:
		value = float64(a.Likelihood * a.Severity)
		inputs = map[string]float64{"likelihood": float64(a.Likelihood), "severity": float64(a.Severity)}
		methodName, sym = "风险矩阵法", "R"
		formula = fmt.Sprintf("R = L × S = %d × %d = %s", a.Likelihood, a.Severity, num(value))
		bands, useMin = g.cfg.LS.Bands, true
	case riskmap.MethodLEC:
		value = round(a.L * a.E * a.C)
		inputs = map[string]float64{"l": a.L, "e": a.E, "c": a.C}
		methodName, sym = "作业条件危险性分析法（LEC）", "D"
		formula = fmt.Sprintf("D = L × E × C = %s × %s × %s = %s", num(a.L), num(a.E), num(a.C), num(value))
		bands = g.cfg.LEC.Bands
	}
	grade, rule := pick(bands, useMin, sym, value)
	res := Result{RiskValue: value, Grade: grade}
	res.Explanation = riskmap.Explanation{Method: a.Method, Inputs: inputs, Value: value, Rule: rule}
	if directMajorReason != "" {
		res.Grade = riskmap.GradeRed
		res.Explanation.Rule = "direct determination → red"
		res.Explanation.Text = fmt.Sprintf("直接判定为重大风险（红）：%s。评估计算值 %s（%s，%s）仅作记录。",
			directMajorReason, methodName, formula, ruleZh(rule))
	} else {
		res.Explanation.Text = fmt.Sprintf("%s：%s；%s，判定为%s（%s）。",
			methodName, formula, ruleZh(rule), grade.Label(), grade.ColourName())
	}
	res.GradeLabel = res.Grade.Label()
	return res, nil
}

// pick finds the band of value and writes the rule that applied, e.g. "10 ≤ R < 20 → orange".
func pick(bands []Band, useMin bool, sym string, v float64) (riskmap.Grade, string) {
	// A value enters a band at its bound (≥ a Min, > an Above) and stays below the band
	// before it: in, low and out are the signs of the rule, e.g. "R ≥ 20", "10 ≤ R < 20".
	in, low, out := ">", "<", "≤"
	bound := func(b Band) float64 { return *b.Above }
	if useMin {
		in, low, out = "≥", "≤", "<"
		bound = func(b Band) float64 { return *b.Min }
	}
	for i, b := range bands {
		last := i == len(bands)-1
		if t := bound(b); v > t || useMin && v == t || last {
			switch {
			case i == 0:
				return b.Grade, fmt.Sprintf("%s %s %s → %s", sym, in, num(t), b.Grade)
			case last:
				return b.Grade, fmt.Sprintf("%s %s %s → %s", sym, out, num(bound(bands[i-1])), b.Grade)
			}
			return b.Grade, fmt.Sprintf("%s %s %s %s %s → %s", num(t), low, sym, out, num(bound(bands[i-1])), b.Grade)
		}
	}
	return riskmap.GradeBlue, ""
}

// ruleZh is the rule without its arrow, for the Chinese sentence.
func ruleZh(rule string) string {
	for i := 0; i+len("→") <= len(rule); i++ {
		if rule[i:i+len("→")] == "→" {
			return rule[:max(i-1, 0)]
		}
	}
	return rule
}

// ReviewDue is when the next review of a unit of grade g assessed at t is due: the day of t
// in China plus the grade's cadence.
func (g *Grader) ReviewDue(grade riskmap.Grade, assessed time.Time) time.Time {
	y, m, d := riskmap.ChinaDay(assessed).Date()
	return time.Date(y, m+time.Month(g.cfg.ReviewMonths[grade]), d, 0, 0, 0, 0, time.UTC)
}

// Grade computes and sets the unit's risk value, grade and explanation from its assessment.
func (g *Grader) Grade(u *riskmap.Unit) error {
	r, err := g.Evaluate(u.Assessment, u.DirectMajorReason)
	if err != nil {
		return err
	}
	u.RiskValue, u.Grade, u.Explanation = r.RiskValue, r.Grade, r.Explanation
	return nil
}

func round(v float64) float64 { return math.Round(v*1000) / 1000 }

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
