package grading_test

import (
	"strings"
	"testing"
	"time"

	"riskmap/pkg/config"
	"riskmap/pkg/grading"
	"riskmap/pkg/riskmap"
)

func TestEvaluate(t *testing.T) {
	g := config.Default().Grader
	ls := func(l, s int) riskmap.Assessment {
		return riskmap.Assessment{Method: riskmap.MethodLS, Likelihood: l, Severity: s}
	}
	lec := func(l, e, c float64) riskmap.Assessment {
		return riskmap.Assessment{Method: riskmap.MethodLEC, L: l, E: e, C: c}
	}
	cases := []struct {
		name   string
		a      riskmap.Assessment
		reason string
		value  float64
		grade  riskmap.Grade
		rule   string
		text   string
	}{
		{"LS4x5Red", ls(4, 5), "", 20, riskmap.GradeRed, "R ≥ 20 → red", "风险矩阵法：R = L × S = 4 × 5 = 20；R ≥ 20，判定为重大风险（红）。"},
		{"LS5x5Red", ls(5, 5), "", 25, riskmap.GradeRed, "R ≥ 20 → red", ""},
		{"LS4x4Orange", ls(4, 4), "", 16, riskmap.GradeOrange, "10 ≤ R < 20 → orange", ""},
		{"LS2x5Orange", ls(2, 5), "", 10, riskmap.GradeOrange, "10 ≤ R < 20 → orange", ""},
		{"LS3x3Yellow", ls(3, 3), "", 9, riskmap.GradeYellow, "4 ≤ R < 10 → yellow", ""},
		{"LS2x2Yellow", ls(2, 2), "", 4, riskmap.GradeYellow, "4 ≤ R < 10 → yellow", ""},
		{"LS1x3Blue", ls(1, 3), "", 3, riskmap.GradeBlue, "R < 4 → blue", ""},
		{"LEC126Yellow", lec(3, 6, 7), "", 126, riskmap.GradeYellow, "70 < D ≤ 160 → yellow",
			"作业条件危险性分析法（LEC）：D = L × E × C = 3 × 6 × 7 = 126；70 < D ≤ 160，判定为一般风险（黄）。"},
		{"LEC60Blue", lec(10, 6, 1), "", 60, riskmap.GradeBlue, "D ≤ 70 → blue", ""},
		{"LECExactly70IsBlue", lec(1, 10, 7), "", 70, riskmap.GradeBlue, "D ≤ 70 → blue", ""},
		{"LEC300Orange", lec(10, 2, 15), "", 300, riskmap.GradeOrange, "160 < D ≤ 320 → orange", ""},
		{"LEC1800Red", lec(3, 6, 100), "", 1800, riskmap.GradeRed, "D > 320 → red", ""},
		{"LEC160IsYellow", lec(1, 10, 15), "", 150, riskmap.GradeYellow, "70 < D ≤ 160 → yellow", ""},
		{"LECTinyBlue", lec(0.1, 0.5, 1), "", 0.05, riskmap.GradeBlue, "D ≤ 70 → blue", ""},
		{"DirectMajorRed", ls(1, 1), "一级重大危险源周边500米内有学校", 1, riskmap.GradeRed, "direct determination → red", "直接判定为重大风险（红）：一级重大危险源周边500米内有学校"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := g.Evaluate(tc.a, tc.reason)
			if err != nil {
				t.Fatal(err)
			}
			if r.RiskValue != tc.value || r.Grade != tc.grade || r.Explanation.Rule != tc.rule || r.GradeLabel != tc.grade.Label() {
				t.Fatalf("want %v %s %q, got %v %s %q", tc.value, tc.grade, tc.rule, r.RiskValue, r.Grade, r.Explanation.Rule)
			}
			if tc.text != "" && !strings.HasPrefix(r.Explanation.Text, tc.text) {
				t.Fatalf("explanation: want prefix %q, got %q", tc.text, r.Explanation.Text)
			}
			if r.Explanation.Method != tc.a.Method || len(r.Explanation.Inputs) == 0 || r.Explanation.Value != tc.value {
				t.Fatalf("explanation must carry method, inputs and value: %+v", r.Explanation)
			}
		})
	}
}

func TestEvaluateErrors(t *testing.T) {
	g := config.Default().Grader
	cases := []struct {
		name  string
		a     riskmap.Assessment
		field string
	}{
		{"ErrNoMethod", riskmap.Assessment{}, "assessment.method"},
		{"ErrUnknownMethod", riskmap.Assessment{Method: "ABC"}, "assessment.method"},
		{"ErrLikelihood0", riskmap.Assessment{Method: "LS", Likelihood: 0, Severity: 3}, "assessment.likelihood"},
		{"ErrSeverity6", riskmap.Assessment{Method: "LS", Likelihood: 3, Severity: 6}, "assessment.severity"},
		{"ErrLECL", riskmap.Assessment{Method: "LEC", L: 2, E: 1, C: 1}, "assessment.l"},
		{"ErrLECE", riskmap.Assessment{Method: "LEC", L: 1, E: 4, C: 1}, "assessment.e"},
		{"ErrLECC", riskmap.Assessment{Method: "LEC", L: 1, E: 1, C: 50}, "assessment.c"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := g.Evaluate(tc.a, "")
			if riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Fatalf("want EINVALID, got %v", err)
			}
			if f := riskmap.ErrorFields(err); len(f) == 0 || f[0].Field != tc.field {
				t.Fatalf("want a problem with %s, got %+v", tc.field, f)
			}
		})
	}
}

func f(v float64) *float64 { return &v }

func TestNewRejectsBadConfig(t *testing.T) {
	good := config.Default().Grader.Config()
	cases := []struct {
		name string
		mod  func(c *grading.Config)
		want string
	}{
		{"ErrThreeBands", func(c *grading.Config) { c.LS.Bands = c.LS.Bands[:3] }, "grading.ls.bands"},
		{"ErrRising", func(c *grading.Config) {
			b := append([]grading.Band(nil), c.LS.Bands...)
			b[1].Min = f(30)
			c.LS.Bands = b
		}, "递减"},
		{"ErrLECWithMin", func(c *grading.Config) {
			b := append([]grading.Band(nil), c.LEC.Bands...)
			b[0] = grading.Band{Grade: "red", Min: f(320)}
			c.LEC.Bands = b
		}, `阈值 "above"`},
		{"ErrColour", func(c *grading.Config) {
			m := map[riskmap.Grade]grading.Colour{}
			for k, v := range c.Colours {
				m[k] = v
			}
			m["yellow"] = grading.Colour{Fill: "yellow", Outline: "#000000"}
			c.Colours = m
		}, "colours.yellow"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.mod(&c)
			_, err := grading.New(c)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error about %q, got %v", tc.want, err)
			}
		})
	}
}

func TestThresholdsFromConfig(t *testing.T) {
	c := config.Default().Grader.Config()
	c.LS.Bands = []grading.Band{{Grade: "red", Min: f(25)}, {Grade: "orange", Min: f(15)}, {Grade: "yellow", Min: f(5)}, {Grade: "blue", Min: f(1)}}
	g, err := grading.New(c)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := g.Evaluate(riskmap.Assessment{Method: "LS", Likelihood: 4, Severity: 5}, "")
	if r.Grade != riskmap.GradeOrange || r.Explanation.Rule != "15 ≤ R < 25 → orange" {
		t.Fatalf("stricter thresholds must make 4×5 orange, got %s %q", r.Grade, r.Explanation.Rule)
	}
}

func TestReviewDue(t *testing.T) {
	g := config.Default().Grader
	at := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	if d := g.ReviewDue(riskmap.GradeRed, at); !d.Equal(time.Date(2026, 4, 15, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("red units are reviewed every 3 months, got %v", d)
	}
	if d := g.ReviewDue(riskmap.GradeBlue, at); !d.Equal(time.Date(2028, 1, 15, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("blue units every 24 months, got %v", d)
	}
}

func cond(ref, level string) riskmap.Condition {
	return riskmap.Condition{Source: riskmap.ConditionHazard, Ref: ref, Level: level}
}

func TestRaise(t *testing.T) {
	g := config.Default().Grader
	cases := []struct {
		name     string
		inherent riskmap.Grade
		open     []riskmap.Condition
		want     riskmap.Grade
		text     string
	}{
		{"NoConditions", riskmap.GradeYellow, nil, riskmap.GradeYellow, ""},
		{"GeneralHazardDoesNotRaise", riskmap.GradeYellow, []riskmap.Condition{cond("YH-2026-000001", "general")}, riskmap.GradeYellow, ""},
		{"MajorHazardRaisesToRed", riskmap.GradeYellow, []riskmap.Condition{cond("YH-2026-000123", "major")}, riskmap.GradeRed,
			"存在未销号重大隐患 YH-2026-000123，等级由一般上调为重大"},
		{"SeveralMajorOnesNamed", riskmap.GradeBlue, []riskmap.Condition{cond("YH-2026-000001", "major"), cond("YH-2026-000002", "general"), cond("YH-2026-000003", "major")},
			riskmap.GradeRed, "存在未销号重大隐患 YH-2026-000001、YH-2026-000003，等级由低上调为重大"},
		{"RedStaysRedWithoutText", riskmap.GradeRed, []riskmap.Condition{cond("YH-2026-000001", "major")}, riskmap.GradeRed, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, text := g.Raise(tc.inherent, tc.open)
			if got != tc.want || text != tc.text {
				t.Fatalf("Raise(%s) = %s %q, want %s %q", tc.inherent, got, text, tc.want, tc.text)
			}
		})
	}
}

func TestRaiseBy(t *testing.T) {
	cfg := config.Default().Grader.Config()
	cfg.Dynamic = grading.DynamicConfig{Rules: []grading.DynamicRule{
		{Source: riskmap.ConditionHazard, Level: "general", RaiseBy: 1},
		{Source: riskmap.ConditionHazard, Level: "major", RaiseBy: 2},
	}}
	g, err := grading.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, text := g.Raise(riskmap.GradeBlue, []riskmap.Condition{cond("YH-1", "general")}); got != riskmap.GradeYellow || text != "存在未销号一般隐患 YH-1，等级由低上调为一般" {
		t.Fatalf("one step: %s %q", got, text)
	}
	if got, _ := g.Raise(riskmap.GradeOrange, []riskmap.Condition{cond("YH-1", "major")}); got != riskmap.GradeRed {
		t.Fatalf("two steps from orange are capped at red, got %s", got)
	}
	cfg.Dynamic = grading.DynamicConfig{Rules: []grading.DynamicRule{}}
	if g, err = grading.New(cfg); err != nil {
		t.Fatal(err)
	}
	if got, _ := g.Raise(riskmap.GradeBlue, []riskmap.Condition{cond("YH-1", "major")}); got != riskmap.GradeBlue {
		t.Fatalf("no rules, no raise: got %s", got)
	}
}

func TestDynamics(t *testing.T) {
	g := config.Default().Grader
	assessed := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	u := &riskmap.Unit{Grade: riskmap.GradeYellow, InherentGrade: riskmap.GradeYellow, AssessedAt: &assessed}
	open := []riskmap.Condition{cond("YH-2026-000007", "major"), cond("YH-2026-000008", "general")}
	d := g.Dynamics(u, riskmap.GradeBlue, open, 2)
	if d.Grade != riskmap.GradeRed || d.ApprovedGrade != riskmap.GradeRed || d.OpenHazards != 2 || len(d.Conditions) != 2 {
		t.Fatalf("dynamics: %+v", d)
	}
	if !d.Conditions[0].Raises || d.Conditions[1].Raises {
		t.Fatalf("only the major one raises: %+v", d.Conditions)
	}
	// red is reviewed every 3 months: the next review moves with the grade.
	if d.NextReviewDue == nil || d.NextReviewDue.Format(time.DateOnly) != "2026-06-10" {
		t.Fatalf("next review of a red unit assessed 2026-03-10: %v", d.NextReviewDue)
	}
	u.Grade, u.Conditions = d.Grade, d.Conditions
	if text := u.DynamicText(); text != "存在未销号重大隐患 YH-2026-000007，等级由一般上调为重大" {
		t.Fatalf("unit's text: %q", text)
	}
	// Closed: back to the inherent grade and its cadence (yellow: 12 months).
	d = g.Dynamics(u, "", nil, 0)
	if d.Grade != riskmap.GradeYellow || d.ApprovedGrade != "" || d.Conditions != nil || d.NextReviewDue.Format(time.DateOnly) != "2027-03-10" {
		t.Fatalf("after closing: %+v", d)
	}
	// Never reviewed: no date.
	u.AssessedAt = nil
	if d = g.Dynamics(u, "", open, 2); d.NextReviewDue != nil {
		t.Fatalf("never reviewed has no next review, got %v", d.NextReviewDue)
	}
	// A unit stored before inherent grades has its grade as inherent grade.
	old := &riskmap.Unit{Grade: riskmap.GradeOrange}
	if d = g.Dynamics(old, "", nil, 0); d.Grade != riskmap.GradeOrange {
		t.Fatalf("old unit: %+v", d)
	}
}

func conflict(kind, name string, m float64) riskmap.Condition {
	return riskmap.ConflictCondition(kind, name, m)
}

// The default rules raise an orange unit with a school, kindergarten or hospital inside its
// influence range to red, and name the target; other grades and other kinds stay.
func TestRaiseConflict(t *testing.T) {
	g := config.Default().Grader
	sch := conflict(riskmap.TargetSchool, "澄江一中", 120)
	cases := []struct {
		name     string
		inherent riskmap.Grade
		open     []riskmap.Condition
		want     riskmap.Grade
		text     string
	}{
		{"OrangeSchoolRed", riskmap.GradeOrange, []riskmap.Condition{sch}, riskmap.GradeRed,
			"影响范围内有学校「澄江一中」（距离 120 米），等级由较大上调为重大"},
		{"OrangeKindergartenRed", riskmap.GradeOrange, []riskmap.Condition{conflict(riskmap.TargetKindergarten, "阳光幼儿园", 80)}, riskmap.GradeRed,
			"影响范围内有幼儿园「阳光幼儿园」（距离 80 米），等级由较大上调为重大"},
		{"OrangeHospitalRed", riskmap.GradeOrange, []riskmap.Condition{conflict(riskmap.TargetHospital, "澄江市人民医院", 0)}, riskmap.GradeRed,
			"影响范围内有医院「澄江市人民医院」（距离 0 米），等级由较大上调为重大"},
		{"YellowSchoolStays", riskmap.GradeYellow, []riskmap.Condition{sch}, riskmap.GradeYellow, ""},
		{"BlueSchoolStays", riskmap.GradeBlue, []riskmap.Condition{sch}, riskmap.GradeBlue, ""},
		{"RedStaysWithoutText", riskmap.GradeRed, []riskmap.Condition{sch}, riskmap.GradeRed, ""},
		{"OrangeCareHomeStays", riskmap.GradeOrange, []riskmap.Condition{conflict(riskmap.TargetCareHome, "敬老院", 10)}, riskmap.GradeOrange, ""},
		{"OrangeCrowdedStays", riskmap.GradeOrange, []riskmap.Condition{conflict(riskmap.TargetCrowded, "农贸市场", 10)}, riskmap.GradeOrange, ""},
		{"OnlyRaisingNamed", riskmap.GradeOrange, []riskmap.Condition{conflict(riskmap.TargetCareHome, "敬老院", 10), sch}, riskmap.GradeRed,
			"影响范围内有学校「澄江一中」（距离 120 米），等级由较大上调为重大"},
		{"WithMajorHazard", riskmap.GradeOrange, []riskmap.Condition{cond("YH-2026-000123", "major"), sch}, riskmap.GradeRed,
			"存在未销号重大隐患 YH-2026-000123；影响范围内有学校「澄江一中」（距离 120 米），等级由较大上调为重大"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, text := g.Raise(tc.inherent, tc.open)
			if got != tc.want || text != tc.text {
				t.Fatalf("Raise(%s) = %s %q, want %s %q", tc.inherent, got, text, tc.want, tc.text)
			}
		})
	}

	// The working revision (orange) is raised; the approved one (yellow) is not.
	u := &riskmap.Unit{Grade: riskmap.GradeOrange, InherentGrade: riskmap.GradeOrange}
	d := g.Dynamics(u, riskmap.GradeYellow, []riskmap.Condition{sch, conflict(riskmap.TargetCareHome, "敬老院", 10)}, 0)
	if d.Grade != riskmap.GradeRed || d.ApprovedGrade != riskmap.GradeYellow || !d.Conditions[0].Raises || d.Conditions[1].Raises {
		t.Fatalf("dynamics: %+v", d)
	}
}

// A rule's grades and level limit it; a rule without them applies to every conflict.
func TestConflictRules(t *testing.T) {
	cfg := config.Default().Grader.Config()
	cfg.Dynamic = grading.DynamicConfig{Rules: []grading.DynamicRule{
		{Source: riskmap.ConditionConflict, Grades: []riskmap.Grade{riskmap.GradeYellow, riskmap.GradeBlue}, RaiseBy: 1},
		{Source: riskmap.ConditionConflict, Level: riskmap.TargetHospital, RaiseTo: riskmap.GradeRed},
	}}
	g, err := grading.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	care := conflict(riskmap.TargetCareHome, "敬老院", 10)
	if got, _ := g.Raise(riskmap.GradeBlue, []riskmap.Condition{care}); got != riskmap.GradeYellow {
		t.Errorf("any kind raises blue one step: %s", got)
	}
	if got, _ := g.Raise(riskmap.GradeOrange, []riskmap.Condition{care}); got != riskmap.GradeOrange {
		t.Errorf("orange is not among the grades: %s", got)
	}
	if got, _ := g.Raise(riskmap.GradeBlue, []riskmap.Condition{conflict(riskmap.TargetHospital, "医院", 10)}); got != riskmap.GradeRed {
		t.Errorf("a hospital raises any grade to red: %s", got)
	}
	if got, _ := g.Raise(riskmap.GradeBlue, []riskmap.Condition{cond("YH-1", "major")}); got != riskmap.GradeBlue {
		t.Errorf("conflict rules do not match hidden dangers: %s", got)
	}

	for _, tc := range []struct {
		name string
		rule grading.DynamicRule
		want string
	}{
		{"ErrUnknownKind", grading.DynamicRule{Source: riskmap.ConditionConflict, Level: "factory", RaiseTo: riskmap.GradeRed}, "防护目标类型"},
		{"ErrHazardLevelOnConflict", grading.DynamicRule{Source: riskmap.ConditionConflict, Level: "major", RaiseTo: riskmap.GradeRed}, "防护目标类型"},
		{"ErrBadGrade", grading.DynamicRule{Source: riskmap.ConditionConflict, Grades: []riskmap.Grade{"purple"}, RaiseTo: riskmap.GradeRed}, "grades"},
		{"ErrUnknownSource", grading.DynamicRule{Source: "weather", RaiseTo: riskmap.GradeRed}, "source"},
		{"ErrAlarmLevel", grading.DynamicRule{Source: riskmap.ConditionAlarm, Level: "major", RaiseTo: riskmap.GradeRed}, "预警颜色"},
		{"ErrNoRaise", grading.DynamicRule{Source: riskmap.ConditionAlarm, Level: "red"}, "raise_to（调整到的等级）"},
		{"ErrBothRaises", grading.DynamicRule{Source: riskmap.ConditionHazard, RaiseTo: riskmap.GradeRed, RaiseBy: 1}, "只能填写一个"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := config.Default().Grader.Config()
			c.Dynamic = grading.DynamicConfig{Rules: []grading.DynamicRule{tc.rule}}
			if _, err := grading.New(c); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error about %q, got %v", tc.want, err)
			}
		})
	}
}
