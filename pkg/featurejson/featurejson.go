// Package featurejson reads and writes risk units as GeoJSON Features (RFC 7946) with the
// properties of API.md. It is the parser of outside input for units: the API, the demo city
// loader and imports all go through DecodeUnit.
package featurejson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"riskmap/pkg/riskmap"
)

// Properties is the properties object of a unit Feature, in the order API.md lists them.
type Properties struct {
	Code string `json:"code"`
	Name string `json:"name"`
	riskmap.PublicTexts
	Category              string                     `json:"category"`
	SubCategory           string                     `json:"sub_category"`
	RegionCode            string                     `json:"region_code"`
	Address               string                     `json:"address"`
	AccidentTypes         []string                   `json:"accident_types"`
	MajorHazardSource     *riskmap.MajorHazardSource `json:"major_hazard_source"`
	MajorRiskFactors      string                     `json:"major_risk_factors"`
	Assessment            riskmap.Assessment         `json:"assessment"`
	DirectMajorReason     *string                    `json:"direct_major_reason"`
	RiskValue             float64                    `json:"risk_value"`
	Grade                 riskmap.Grade              `json:"grade"`
	GradeLabel            string                     `json:"grade_label"`
	Explanation           riskmap.Explanation        `json:"explanation"`
	Controls              riskmap.Controls           `json:"controls"`
	ResponsibleDepartment string                     `json:"responsible_department"`
	ResponsibleUnit       string                     `json:"responsible_unit"`
	ContactPerson         string                     `json:"contact_person"`
	ContactPhone          string                     `json:"contact_phone"`
	InfluenceRadiusM      float64                    `json:"influence_radius_m"`
	Status                riskmap.Status             `json:"status"`
	Version               int64                      `json:"version"`
	CreatedAt             time.Time                  `json:"created_at"`
	UpdatedAt             time.Time                  `json:"updated_at"`
	AssessedBy            string                     `json:"assessed_by"`
	AssessedAt            *time.Time                 `json:"assessed_at"`
	NextReviewDue         *Date                      `json:"next_review_due"`
	// The grade the assessment gives and the current grade (= Grade), with the sentence
	// that explains a raise ("" without one) and the open conditions that may raise it.
	InherentGrade      riskmap.Grade       `json:"inherent_grade"`
	CurrentGrade       riskmap.Grade       `json:"current_grade"`
	DynamicExplanation string              `json:"dynamic_explanation"`
	Conditions         []riskmap.Condition `json:"conditions"`
	OpenHazards        int                 `json:"open_hazards"`
	IdentifiedAt       *Date               `json:"identified_at"`
	ReidentifyDue      *Date               `json:"reidentify_due"`
	// The properties that depend on the day, last (see Redate).
	ReviewState       riskmap.ReviewState `json:"review_state"`
	ReviewOverdue     bool                `json:"review_overdue"`
	ReidentifyOverdue bool                `json:"reidentify_overdue"`
}

// Now is the clock of the properties that depend on the day (review_state,
// review_overdue, reidentify_overdue), which count days in China (riskmap.ChinaDay); tests
// may fix it.
var Now = time.Now

// Feature is a unit Feature as written.
type Feature struct {
	Type       string            `json:"type"`
	ID         int64             `json:"id"`
	Geometry   *geojson.Geometry `json:"geometry"`
	Properties Properties        `json:"properties"`
}

// Date is a calendar date written as YYYY-MM-DD.
type Date struct{ time.Time }

// MarshalJSON writes the date as "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) {
	return []byte(`"` + d.UTC().Format(time.DateOnly) + `"`), nil
}

// NewFeature returns the Feature of a unit, on the day in China of Now.
func NewFeature(u *riskmap.Unit) *Feature { return NewFeatureOn(u, riskmap.ChinaDay(Now())) }

// NewFeatureOn returns the Feature of a unit on the day of today.
func NewFeatureOn(u *riskmap.Unit, today time.Time) *Feature {
	p := Properties{
		Code: u.Code, Name: u.Name, PublicTexts: u.PublicTexts, Category: u.Category, SubCategory: u.SubCategory,
		RegionCode: u.RegionCode, Address: u.Address, AccidentTypes: nonNil(u.AccidentTypes),
		MajorHazardSource: u.MajorHazardSource, MajorRiskFactors: u.MajorRiskFactors,
		Assessment: u.Assessment, RiskValue: u.RiskValue, Grade: u.Grade, GradeLabel: u.Grade.Label(),
		Explanation: u.Explanation, Controls: u.Controls,
		ResponsibleDepartment: u.ResponsibleDepartment, ResponsibleUnit: u.ResponsibleUnit,
		ContactPerson: u.ContactPerson, ContactPhone: u.ContactPhone, InfluenceRadiusM: u.InfluenceRadiusM,
		Status: u.Status, Version: u.Version, CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(),
		AssessedBy: u.AssessedBy, AssessedAt: u.AssessedAt,
	}
	if u.DirectMajorReason != "" {
		r := u.DirectMajorReason
		p.DirectMajorReason = &r
	}
	if u.NextReviewDue != nil {
		p.NextReviewDue = &Date{*u.NextReviewDue}
	}
	p.InherentGrade, p.CurrentGrade, p.DynamicExplanation = u.InherentOrGrade(), u.Grade, u.DynamicText()
	p.Conditions, p.OpenHazards = u.Conditions, u.OpenHazards
	if p.Conditions == nil {
		p.Conditions = []riskmap.Condition{}
	}
	if u.IdentifiedAt != nil {
		p.IdentifiedAt = &Date{*u.IdentifiedAt}
	}
	if d := u.ReidentifyDue(); d != nil {
		p.ReidentifyDue = &Date{*d}
	}
	p.ReviewState = u.ReviewStateOn(today)
	p.ReviewOverdue = p.ReviewState == riskmap.ReviewOverdue
	p.ReidentifyOverdue = u.ReidentifyOverdueOn(today)
	for _, g := range p.Controls.Groups() {
		*g.Items = nonNil(*g.Items)
	}
	return &Feature{Type: "Feature", ID: u.ID, Geometry: geojson.NewGeometry(u.Geometry), Properties: p}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// MaxFeatureBytes is the largest Feature DecodeUnit reads.
const MaxFeatureBytes = 4 << 20

// readOnly are properties the server computes or keeps; a client may send them back (a
// Feature it read, edited and PUT) and they are ignored.
var readOnly = map[string]bool{
	"id": true, "risk_value": true, "grade": true, "grade_label": true, "explanation": true,
	"version": true, "created_at": true, "updated_at": true,
	"inherent_grade": true, "current_grade": true, "dynamic_explanation": true, "conditions": true,
	"open_hazards": true, "reidentify_due": true, "review_state": true, "review_overdue": true,
	"reidentify_overdue": true,
}

// DecodeUnit parses a GeoJSON Feature into a unit. It checks the JSON shape and the types of
// the properties and names the field of every problem; it does not run Unit.Validate (the
// caller does, with the catalog). Computed properties such as grade are ignored: the server
// computes them. The geometry is checked in full (riskmap.ValidateGeometry).
func DecodeUnit(data []byte) (*riskmap.Unit, error) {
	return decodeUnit(data, riskmap.ValidateGeometry)
}

// DecodeUnitDeferBoundaries is DecodeUnit but for the one check of the geometry that takes
// more than linear time, whether polygon boundaries cross or touch: it checks the
// geometry's shape only (riskmap.ValidateGeometryShape). It is for callers that hand the
// unit to register.Service, which checks the boundaries after the writer's scope, under
// the request's context.
func DecodeUnitDeferBoundaries(data []byte) (*riskmap.Unit, error) {
	return decodeUnit(data, riskmap.ValidateGeometryShape)
}

func decodeUnit(data []byte, validate func(orb.Geometry) error) (*riskmap.Unit, error) {
	if len(data) > MaxFeatureBytes {
		return nil, riskmap.Errorf(riskmap.ETOOLARGE, "Feature 超过 %d 字节", MaxFeatureBytes)
	}
	var raw struct {
		Type       string                     `json:"type"`
		ID         json.RawMessage            `json:"id"`
		Geometry   json.RawMessage            `json:"geometry"`
		Properties map[string]json.RawMessage `json:"properties"`
		BBox       json.RawMessage            `json:"bbox"`
	}
	if err := strictDecode(data, &raw); err != nil {
		return nil, riskmap.Errorf(riskmap.EINVALID, "请求体不是 GeoJSON Feature：%s", jsonProblem(err))
	}
	var p riskmap.Problems
	if raw.Type != "Feature" {
		p.Add("type", `应为 "Feature"，收到 %q`, clip(raw.Type))
	}
	u := &riskmap.Unit{}
	if len(raw.Geometry) == 0 || string(raw.Geometry) == "null" {
		p.Add("geometry", "必填（GeoJSON 的 Point、LineString、Polygon 或其 Multi- 类型）")
	} else if g, err := decodeGeometry(raw.Geometry, validate); err != nil {
		p.Add("geometry", "%s", riskmap.TextOf(err))
	} else {
		u.Geometry = g
	}
	if raw.Properties == nil {
		p.Add("properties", "必填")
		return nil, p.Err()
	}
	decodeProperties(&p, raw.Properties, u)
	if err := p.Err(); err != nil {
		return nil, err
	}
	return u, nil
}

func decodeProperties(p *riskmap.Problems, props map[string]json.RawMessage, u *riskmap.Unit) {
	str := func(name string, dst *string) {
		decodeProperty(p, name, props[name], json.Unmarshal, dst, "应为文本（字符串）")
	}
	for name, v := range props {
		switch name {
		case "code":
			str(name, &u.Code)
		case "name":
			str(name, &u.Name)
		case "category":
			str(name, &u.Category)
		case "sub_category":
			str(name, &u.SubCategory)
		case "region_code":
			str(name, &u.RegionCode)
		case "address":
			str(name, &u.Address)
		case "major_risk_factors":
			str(name, &u.MajorRiskFactors)
		case "direct_major_reason":
			str(name, &u.DirectMajorReason)
			u.DirectMajorReason = strings.TrimSpace(u.DirectMajorReason)
		case "responsible_department":
			str(name, &u.ResponsibleDepartment)
		case "responsible_unit":
			str(name, &u.ResponsibleUnit)
		case "contact_person":
			str(name, &u.ContactPerson)
		case "contact_phone":
			str(name, &u.ContactPhone)
		case "assessed_by":
			str(name, &u.AssessedBy)
		case "downgrade_reason": // 降级理由, kept in the author record (riskmap.ReviewNotes)
			str(name, &u.DowngradeReason)
			u.DowngradeReason = strings.TrimSpace(u.DowngradeReason)
		case "status":
			var s string
			str(name, &s)
			u.Status = riskmap.Status(s)
		case "accident_types":
			decodeProperty(p, name, v, json.Unmarshal, &u.AccidentTypes, "应为事故类型代码的列表")
		case "major_hazard_source":
			var m riskmap.MajorHazardSource
			if decodeProperty(p, name, v, strictDecode, &m, `应为 null 或 {"level": 1-4}`) {
				u.MajorHazardSource = &m
			}
		case "assessment":
			if err := decodeAssessment(v, &u.Assessment); err != nil {
				p.Add(name, "%s", riskmap.MessageOf(err))
			}
		case "controls":
			if string(v) == "null" {
				continue
			}
			if err := strictDecode(v, &u.Controls); err != nil {
				p.Add(name, "应为对象，含各类措施的文本列表：engineering（工程技术）、management（管理）、training（培训教育）、ppe（个体防护）、emergency（应急处置）（%s）", jsonProblem(err))
			}
		case "influence_radius_m":
			decodeProperty(p, name, v, json.Unmarshal, &u.InfluenceRadiusM, "应为米数（数值）")
		case "assessed_at":
			var t time.Time
			if decodeProperty(p, name, v, json.Unmarshal, &t, "应为日期时间，如 2026-03-01T08:00:00Z") {
				t = t.UTC()
				u.AssessedAt = &t
			}
		case "identified_at": // 全面辨识日期: a date, or a date and time of which the date counts
			var s string
			if !decodeProperty(p, name, v, json.Unmarshal, &s, "应为日期，例如 2026-09-01") {
				continue
			}
			if t, ok := parseDay(s); !ok {
				p.Add(name, "应为日期，如 2026-09-01，收到 %q", clip(s))
			} else {
				u.IdentifiedAt = &t
			}
		case "next_review_due":
			var s string
			if !decodeProperty(p, name, v, json.Unmarshal, &s, "应为日期，例如 2026-09-01") {
				continue
			}
			if t, err := time.Parse(time.DateOnly, s); err != nil {
				p.Add(name, "应为日期，如 2026-09-01，收到 %q", clip(s))
			} else {
				u.NextReviewDue = &t
			}
		default:
			if t := publicText(&u.PublicTexts, name); t != nil {
				str(name, t)
			} else if !readOnly[name] {
				p.Add(name, "不是风险单元的属性")
			}
		}
	}
}

// parseDay reads a date, YYYY-MM-DD, or an RFC 3339 date and time (its date in China).
func parseDay(s string) (time.Time, bool) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, true
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, false
	}
	return riskmap.ChinaDay(t), true
}

// publicText points to the public text of t called name, or is nil if there is none.
func publicText(t *riskmap.PublicTexts, name string) *string {
	for _, f := range riskmap.PublicTextFields {
		if f.Name == name {
			return f.Of(t)
		}
	}
	return nil
}

// decodeProperty decodes the property name's value v into dst with decode and reports
// whether it did. A null leaves dst as it is (a property left out), and a value that does
// not fit adds problem under name.
func decodeProperty(p *riskmap.Problems, name string, v json.RawMessage, decode func([]byte, any) error, dst any, format string) bool {
	if v == nil || string(v) == "null" {
		return false
	}
	if decode(v, dst) != nil {
		p.Add(name, format)
		return false
	}
	return true
}

func decodeAssessment(v json.RawMessage, a *riskmap.Assessment) error {
	var raw map[string]json.RawMessage
	if json.Unmarshal(v, &raw) != nil || raw == nil {
		return riskmap.Errorf(riskmap.EINVALID, `应为对象，例如 {"method":"LS","likelihood":4,"severity":5} 或 {"method":"LEC","l":3,"e":6,"c":7}`)
	}
	if m, ok := raw["method"]; !ok || json.Unmarshal(m, &a.Method) != nil {
		return riskmap.Errorf(riskmap.EINVALID, `须有 "method": "LS" 或 "LEC"`)
	}
	var allowed []string
	switch a.Method {
	case riskmap.MethodLS:
		allowed = []string{"likelihood", "severity"}
	case riskmap.MethodLEC:
		allowed = []string{"l", "e", "c"}
	default:
		return riskmap.Errorf(riskmap.EINVALID, `method 应为 "LS"（风险矩阵法）或 "LEC"（作业条件危险性分析法），收到 %q`, clip(a.Method))
	}
	for k := range raw {
		if k != "method" && !contains(allowed, k) {
			return riskmap.Errorf(riskmap.EINVALID, "%q 不是 %s 法的输入（可用：%s）", k, a.Method, strings.Join(allowed, "、"))
		}
	}
	for _, k := range allowed {
		rv, ok := raw[k]
		if !ok {
			return riskmap.Errorf(riskmap.EINVALID, "%s 法需要 %q", a.Method, k)
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(string(rv)), 64)
		if err != nil {
			return riskmap.Errorf(riskmap.EINVALID, "%q 应为数值", k)
		}
		switch k {
		case "likelihood", "severity":
			if f != float64(int(f)) {
				return riskmap.Errorf(riskmap.EINVALID, "%q 应为 1 至 5 的整数", k)
			}
			if k == "likelihood" {
				a.Likelihood = int(f)
			} else {
				a.Severity = int(f)
			}
		case "l":
			a.L = f
		case "e":
			a.E = f
		case "c":
			a.C = f
		}
	}
	return nil
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// DecodeGeometry parses a GeoJSON geometry object and validates it.
func DecodeGeometry(data []byte) (orb.Geometry, error) {
	return decodeGeometry(data, riskmap.ValidateGeometry)
}

// positionDepth is how deep positions are nested in the coordinates of each type.
var positionDepth = map[string]int{"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}

func decodeGeometry(data []byte, validate func(orb.Geometry) error) (orb.Geometry, error) {
	var probe struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, riskmap.Errorf(riskmap.EINVALID, "不是 GeoJSON 几何对象：%s", jsonProblem(err))
	}
	switch probe.Type {
	case "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon":
	case "":
		return nil, riskmap.Errorf(riskmap.EINVALID, `须有 "type"（Point、LineString、Polygon 或其 Multi- 类型）`)
	default:
		return nil, riskmap.Errorf(riskmap.EINVALID, "不支持 %q 类型；请使用 Point、LineString、Polygon 或其 Multi- 类型", clip(probe.Type))
	}
	if len(probe.Coordinates) == 0 || string(probe.Coordinates) == "null" {
		return nil, riskmap.Errorf(riskmap.EINVALID, `须有 "coordinates"（坐标）`)
	}
	// Too many positions are refused before anything is built of them.
	if err := riskmap.CheckVertexCount(countPositions(probe.Coordinates, positionDepth[probe.Type])); err != nil {
		return nil, err
	}
	if err := checkPositions(probe.Type, probe.Coordinates); err != nil {
		return nil, err
	}
	g, err := geojson.UnmarshalGeometry(data)
	if err != nil {
		return nil, riskmap.Errorf(riskmap.EINVALID, "坐标与 %s 类型不符", probe.Type)
	}
	if err := validate(g.Geometry()); err != nil {
		return nil, err
	}
	return g.Geometry(), nil
}

// countPositions counts the arrays nested depth levels deep in JSON coordinates (the
// positions, when they are well formed) in one pass over the bytes.
func countPositions(coords []byte, depth int) int {
	n, level := 0, -1
	inString, escaped := false, false
	for _, c := range coords {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[':
			if level++; level == depth {
				n++
			}
		case c == ']':
			level--
		}
	}
	return n
}

// checkPositions checks that every position has exactly two or three numbers: orb would
// silently drop a third and accept a lone number.
func checkPositions(typ string, coords json.RawMessage) error {
	depth := positionDepth[typ]
	var walk func(v any, d int) error
	walk = func(v any, d int) error {
		arr, ok := v.([]any)
		if !ok {
			return riskmap.Errorf(riskmap.EINVALID, "%s 的坐标应嵌套 %d 层", typ, depth+1)
		}
		if d == 0 {
			if len(arr) < 2 || len(arr) > 3 {
				return riskmap.Errorf(riskmap.EINVALID, "每个坐标都需要经度和纬度")
			}
			for _, n := range arr {
				if _, ok := n.(float64); !ok {
					return riskmap.Errorf(riskmap.EINVALID, "坐标应为数值")
				}
			}
			return nil
		}
		for _, e := range arr {
			if err := walk(e, d-1); err != nil {
				return err
			}
		}
		return nil
	}
	var v any
	if err := json.Unmarshal(coords, &v); err != nil {
		return riskmap.Errorf(riskmap.EINVALID, "坐标：%s", jsonProblem(err))
	}
	return walk(v, depth)
}

func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("JSON 值之后有多余的数据")
	}
	return nil
}

// jsonProblem turns a decoding error into a message without Go type names.
func jsonProblem(err error) riskmap.Text {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return riskmap.Textf("第 %d 字节处 JSON 格式错误", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return riskmap.Textf("%s 的类型不对（收到 JSON %s）", te.Field, te.Value)
		}
		return riskmap.Textf("JSON 类型不对（收到 JSON %s）", te.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return riskmap.Textf("JSON 提前结束")
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "json: unknown field ") {
		return riskmap.Textf("未知字段 %s", strings.TrimPrefix(msg, "json: unknown field "))
	}
	return riskmap.Textf("JSON 无效：%s", strings.TrimPrefix(msg, "json: "))
}

func clip(s string) string {
	r := []rune(s)
	if len(r) <= 40 {
		return s
	}
	return string(r[:40]) + "…"
}

// DecodeAssessment parses an assessment object such as {"method":"LS","likelihood":4,
// "severity":5}; the error names the field.
func DecodeAssessment(raw []byte) (riskmap.Assessment, error) {
	var a riskmap.Assessment
	if len(raw) == 0 || string(raw) == "null" {
		return a, riskmap.Errorf(riskmap.EINVALID, "assessment：必填").
			WithFields([]riskmap.FieldError{riskmap.FieldErrorf("assessment", "必填")})
	}
	if err := decodeAssessment(raw, &a); err != nil {
		return a, riskmap.Errorf(riskmap.EINVALID, "assessment：%s", riskmap.MessageOf(err)).
			WithFields([]riskmap.FieldError{riskmap.FieldErrorf("assessment", "%s", riskmap.MessageOf(err))})
	}
	return a, nil
}

// PublicProperties are the only properties the public sees of a unit: no name, address,
// contacts, controls or responsible unit (those identify enterprises and people).
type PublicProperties struct {
	Code string `json:"code"`
	riskmap.PublicTexts
	Category      string        `json:"category"`
	CategoryLabel string        `json:"category_label"`
	Grade         riskmap.Grade `json:"grade"`
	GradeLabel    string        `json:"grade_label"`
	RegionCode    string        `json:"region_code"`
	RegionName    string        `json:"region_name"`
}

// PublicFeature is a unit Feature as the public sees it.
type PublicFeature struct {
	Type       string            `json:"type"`
	ID         int64             `json:"id"`
	Geometry   *geojson.Geometry `json:"geometry"`
	Properties PublicProperties  `json:"properties"`
}

// NewPublicFeature returns the public Feature of a unit, with the labels of its category
// and region.
func NewPublicFeature(u *riskmap.Unit, categoryLabel, regionName string) *PublicFeature {
	return &PublicFeature{Type: "Feature", ID: u.ID, Geometry: geojson.NewGeometry(u.Geometry),
		Properties: PublicProperties{Code: u.Code, PublicTexts: u.PublicTexts, Category: u.Category, CategoryLabel: categoryLabel,
			Grade: u.Grade, GradeLabel: u.Grade.Label(), RegionCode: u.RegionCode, RegionName: regionName}}
}
