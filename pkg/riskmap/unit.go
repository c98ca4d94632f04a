package riskmap

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// Status is where a unit stands in its life.
type Status string

// Unit statuses.
const (
	StatusDraft     Status = "draft"
	StatusSubmitted Status = "submitted"
	StatusApproved  Status = "approved"
	StatusRetired   Status = "retired"
)

// Label is the status in Chinese: 草稿, 待审核, 已审核, 已注销.
func (s Status) Label() string {
	switch s {
	case StatusDraft:
		return "草稿"
	case StatusSubmitted:
		return "待审核"
	case StatusApproved:
		return "已审核"
	case StatusRetired:
		return "已注销"
	}
	return string(s)
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusDraft, StatusSubmitted, StatusApproved, StatusRetired:
		return true
	}
	return false
}

// Assessment methods.
const (
	MethodLS  = "LS"  // risk matrix, R = L × S
	MethodLEC = "LEC" // D = L × E × C
)

// Assessment holds the raw inputs of a grading method. Only the fields of the method are
// set; the grade is computed from them, never typed in.
type Assessment struct {
	Method string `json:"method"`
	// LS: likelihood and severity, 1–5.
	Likelihood int `json:"likelihood,omitempty"`
	Severity   int `json:"severity,omitempty"`
	// LEC: likelihood L, exposure E, consequence C.
	L float64 `json:"l,omitempty"`
	E float64 `json:"e,omitempty"`
	C float64 `json:"c,omitempty"`
}

// MajorHazardSource marks a 重大危险源 and its level, 1 (一级, the most dangerous) to 4.
type MajorHazardSource struct {
	Level int `json:"level"`
}

// Controls are the control measures, in their five groups.
type Controls struct {
	Engineering []string `json:"engineering"` // 工程技术
	Management  []string `json:"management"`  // 管理
	Training    []string `json:"training"`    // 培训教育
	PPE         []string `json:"ppe"`         // 个体防护
	Emergency   []string `json:"emergency"`   // 应急处置
}

// Groups returns the five groups with their property names, in order.
func (c *Controls) Groups() []struct {
	Name  string
	Items *[]string
} {
	return []struct {
		Name  string
		Items *[]string
	}{
		{"engineering", &c.Engineering}, {"management", &c.Management}, {"training", &c.Training},
		{"ppe", &c.PPE}, {"emergency", &c.Emergency},
	}
}

// Explanation says why a unit has its grade: the method, its inputs, the value and the rule
// that applied, and a sentence in Chinese.
type Explanation struct {
	Method string             `json:"method"`
	Inputs map[string]float64 `json:"inputs,omitempty"`
	Value  float64            `json:"value"`
	Rule   string             `json:"rule"`
	Text   string             `json:"text"`
}

// Unit is one risk identification unit (风险辨识单元): one row of the register, one feature
// on the map.
type Unit struct {
	ID          int64
	Code        string
	Name        string
	PublicTexts // what the public map shows of the unit
	Category    string
	SubCategory string
	RegionCode  string
	Address     string

	AccidentTypes     []string
	MajorHazardSource *MajorHazardSource
	MajorRiskFactors  string

	Assessment        Assessment
	DirectMajorReason string // non-empty makes the unit red (直接判定)

	// Computed by the server from the assessment; never accepted from a client.
	RiskValue float64
	// Grade is the current grade: InherentGrade raised by the open Conditions (see
	// Dynamics). It is what the map, filters and statistics use.
	Grade Grade
	// InherentGrade is the grade the assessment gives (固有风险等级).
	InherentGrade Grade
	// Explanation explains the inherent grade; Dynamic explains a raise.
	Explanation Explanation

	// Conditions are the open conditions (hidden dangers, alarms) that may raise the
	// grade, and OpenHazards counts the unit's hidden dangers not yet closed (销号). Only
	// the writes of hidden dangers and alarms change them (Dynamics); a unit write keeps
	// what is stored.
	Conditions  []Condition
	OpenHazards int

	Controls              Controls
	ResponsibleDepartment string
	ResponsibleUnit       string
	ContactPerson         string // internal
	ContactPhone          string // internal
	InfluenceRadiusM      float64

	Status     Status
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
	AssessedBy string
	// AssessedAt is the date of the last completed assessment or review (评估/复核时间);
	// nil: never reviewed (ReviewNever).
	AssessedAt *time.Time
	// NextReviewDue is computed, never typed in: AssessedAt plus the cadence of the current
	// grade (config review_months); nil when never reviewed.
	NextReviewDue *time.Time
	// IdentifiedAt is the date of the last full identification (全面辨识); a unit not
	// identified anew within ReidentifyYears is flagged.
	IdentifiedAt *time.Time

	Geometry orb.Geometry

	// DowngradeReason is the 降级理由 a writer gives when the revision's grade is below the
	// approved revision's; the register keeps it in the author record (ReviewNotes), not
	// with the unit, and stores do not read it back.
	DowngradeReason string

	// Author is who writes this revision (a user name), for CreateUnit and UpdateUnit to
	// record in the unit's author record in the same transaction as the write, so that no
	// reviewer ever sees a revision without its author. "" (the system: seed, regrade, a
	// review transition) leaves the record as it is. Stores do not read it back.
	Author string
}

// Text field limits, in characters.
const (
	MaxCodeLen       = 64
	MaxNameLen       = 200
	MaxShortTextLen  = 200
	MaxLongTextLen   = 4000
	MaxControlItems  = 100
	MaxAccidentTypes = 30
	MaxInfluenceM    = 50000
)

var regionCodeRE = regexp.MustCompile(`^(\d{6}|\d{9}|\d{12})$`)

// ValidRegionCode reports whether s is a 6-, 9- or 12-digit administrative code.
func ValidRegionCode(s string) bool { return regionCodeRE.MatchString(s) }

// Validate checks everything about a unit that does not need the store: required fields,
// codes known to the catalog, lengths, the assessment inputs' ranges and the geometry. It
// does not check the computed fields. It is CheckFields and then CheckBoundaries, with
// every problem listed.
func (u *Unit) Validate(cat *Catalog) error {
	p := u.CheckFields(cat)
	if err := u.CheckBoundaries(context.Background(), &p); err != nil {
		return err
	}
	return p.Err()
}

// CheckFields lists the problems of the unit that take time linear in its size to find:
// every check of Validate but whether polygon boundaries cross or touch.
func (u *Unit) CheckFields(cat *Catalog) Problems {
	var p Problems
	checkText(&p, "code", u.Code, MaxCodeLen, true)
	checkText(&p, "name", u.Name, MaxNameLen, true)
	u.PublicTexts.check(&p)
	if u.Category == "" {
		p.Add("category", "必填；请从 /api/v1/categories 中选择行业领域代码")
	} else if _, ok := cat.Category(u.Category); !ok {
		p.Add("category", "未知的行业领域 %q；请从 /api/v1/categories 中选择", clip(u.Category))
	}
	checkText(&p, "sub_category", u.SubCategory, MaxShortTextLen, false)
	if u.RegionCode == "" {
		p.Add("region_code", "必填")
	} else if !ValidRegionCode(u.RegionCode) {
		p.Add("region_code", "应为 6、9 或 12 位行政区划代码，收到 %q", clip(u.RegionCode))
	}
	checkText(&p, "address", u.Address, MaxShortTextLen, false)
	if len(u.AccidentTypes) > MaxAccidentTypes {
		p.Add("accident_types", "事故类型最多 %d 项", MaxAccidentTypes)
	}
	seen := map[string]bool{}
	for i, a := range u.AccidentTypes {
		if _, ok := cat.AccidentType(a); !ok {
			p.Add("accident_types", "第 %d 项：未知的事故类型 %q", i+1, clip(a))
		} else if seen[a] {
			p.Add("accident_types", "第 %d 项：%q 重复", i+1, a)
		}
		seen[a] = true
	}
	if m := u.MajorHazardSource; m != nil && (m.Level < 1 || m.Level > 4) {
		p.Add("major_hazard_source.level", "应为 1 至 4（一级至四级），收到 %d", m.Level)
	}
	checkText(&p, "major_risk_factors", u.MajorRiskFactors, MaxLongTextLen, false)
	ValidateAssessment(&p, u.Assessment)
	checkText(&p, "direct_major_reason", u.DirectMajorReason, MaxLongTextLen, false)
	for _, g := range u.Controls.Groups() {
		if len(*g.Items) > MaxControlItems {
			p.Add("controls."+g.Name, "最多 %d 条措施", MaxControlItems)
		}
		for i, s := range *g.Items {
			if strings.TrimSpace(s) == "" {
				p.Add("controls."+g.Name, "第 %d 条为空", i+1)
			}
			checkText(&p, "controls."+g.Name, s, MaxLongTextLen, false)
		}
	}
	checkText(&p, "responsible_department", u.ResponsibleDepartment, MaxShortTextLen, false)
	checkText(&p, "responsible_unit", u.ResponsibleUnit, MaxShortTextLen, false)
	checkText(&p, "contact_person", u.ContactPerson, MaxShortTextLen, false)
	checkText(&p, "contact_phone", u.ContactPhone, 40, false)
	if !(u.InfluenceRadiusM >= 0 && u.InfluenceRadiusM <= MaxInfluenceM) { // also catches NaN
		p.Add("influence_radius_m", "影响半径应在 0 到 %d 米之间", MaxInfluenceM)
	}
	if u.Status != "" && !u.Status.Valid() {
		p.Add("status", "应为 draft（草稿）、submitted（待审核）、approved（已审核）或 retired（已注销），收到 %q", clip(string(u.Status)))
	}
	checkText(&p, "assessed_by", u.AssessedBy, MaxShortTextLen, false)
	checkText(&p, "downgrade_reason", u.DowngradeReason, MaxReasonLen, false)
	if err := ValidateGeometryShape(u.Geometry); err != nil {
		p.Add("geometry", "%s", TextOf(err))
	}
	return p
}

// CheckBoundaries adds to p a problem with the geometry when polygon boundaries cross or
// touch (ValidateBoundaries), unless p has one already: then the geometry's shape is wrong
// and its boundaries mean nothing. It returns an error only when ctx ends first.
func (u *Unit) CheckBoundaries(ctx context.Context, p *Problems) error {
	for _, f := range *p {
		if f.Field == "geometry" {
			return nil
		}
	}
	if err := ValidateBoundaries(ctx, u.Geometry); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		p.Add("geometry", "%s", TextOf(err))
	}
	return nil
}

// ValidateAssessment checks the inputs of a grading method.
func ValidateAssessment(p *Problems, a Assessment) {
	switch a.Method {
	case MethodLS:
		if a.Likelihood < 1 || a.Likelihood > 5 {
			p.Add("assessment.likelihood", "应为 1 至 5 的整数，收到 %d", a.Likelihood)
		}
		if a.Severity < 1 || a.Severity > 5 {
			p.Add("assessment.severity", "应为 1 至 5 的整数，收到 %d", a.Severity)
		}
	case MethodLEC:
		if !oneOf(a.L, LECLikelihoods) {
			p.Add("assessment.l", "应为 0.1、0.2、0.5、1、3、6、10 之一，收到 %v", a.L)
		}
		if !oneOf(a.E, LECExposures) {
			p.Add("assessment.e", "应为 0.5、1、2、3、6、10 之一，收到 %v", a.E)
		}
		if !oneOf(a.C, LECConsequences) {
			p.Add("assessment.c", "应为 1、3、7、15、40、100 之一，收到 %v", a.C)
		}
	case "":
		p.Add("assessment.method", "必填：LS（风险矩阵法）或 LEC（作业条件危险性分析法）")
	default:
		p.Add("assessment.method", "应为 LS（风险矩阵法）或 LEC（作业条件危险性分析法），收到 %q", clip(a.Method))
	}
}

// The values the LEC method allows.
var (
	LECLikelihoods  = []float64{0.1, 0.2, 0.5, 1, 3, 6, 10}
	LECExposures    = []float64{0.5, 1, 2, 3, 6, 10}
	LECConsequences = []float64{1, 3, 7, 15, 40, 100}
)

func oneOf(v float64, allowed []float64) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

func checkText(p *Problems, field, s string, max int, required bool) {
	if !utf8.ValidString(s) {
		p.Add(field, "不是有效的 UTF-8 文本")
		return
	}
	if strings.ContainsRune(s, 0) {
		p.Add(field, "含有 NUL 字符")
		return
	}
	if required && strings.TrimSpace(s) == "" {
		p.Add(field, "必填")
		return
	}
	if n := utf8.RuneCountInString(s); n > max {
		p.Add(field, "共 %d 个字，最多 %d 个", n, max)
	}
}

// clip shortens a value quoted back in an error message.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	r := []rune(s)
	return string(r[:40]) + "…"
}
