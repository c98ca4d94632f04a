package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb/geojson"

	"riskmap/pkg/hazards"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/workbook"
)

// The Excel 风险清单 (pkg/workbook): GET /api/v1/units.xlsx (the units the map's filters
// select, as /api/v1/units.csv takes them, within the caller's scope; ?sheets=category for
// one sheet per 行业大类; ?with=hazards adds the 隐患清单 sheet), GET /api/v1/hazards.xlsx
// (the hidden dangers /api/v1/hazards.csv selects) and GET /api/v1/templates/units.xlsx
// (the import template). Exports are reads: not audited, as the CSV is not.

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// xlsxParams are the query parameters of units.xlsx: those of units.csv but lang, and
// sheets and with.
var xlsxParams = listParamsAnd("sheets", "with")

// xlsxHazardParams are those of hazards.csv.
var xlsxHazardParams = hazardParams

// workbookExport is what every exported workbook of this server says beyond its rows.
func (s *Server) workbookExport(c echo.Context, title string) workbook.Export {
	colours := map[riskmap.Grade]string{}
	for g, col := range s.cfg.Grader.Config().Colours {
		colours[g] = col.Fill
	}
	scope := "范围：全部"
	if u := scoped(c); u != nil {
		scope = "范围：" + u.Department + "管辖范围"
	}
	if f := describeFilters(c); f != "" {
		scope += "　筛选：" + f
	}
	return workbook.Export{Title: s.cityName() + title, Date: time.Now(), Scope: scope, Colours: colours,
		Catalog: s.cfg.Catalog, Regions: s.cfg.Regions}
}

// cityName is the name of the top region (澄江市), "" if there are no regions.
func (s *Server) cityName() string {
	var top *riskmap.Region
	for _, r := range s.cfg.Regions {
		if top == nil || len(r.Code) < len(top.Code) {
			top = r
		}
	}
	if top == nil {
		return ""
	}
	return top.Name
}

// describeFilters lists the query's filters as key=value, for the scope row.
func describeFilters(c echo.Context) string {
	q := c.QueryParams()
	var parts []string
	for k, vs := range q {
		if k == "sheets" || k == "with" || k == "limit" || k == "cursor" {
			continue
		}
		parts = append(parts, k+"="+strings.Join(vs, ","))
	}
	sort.Strings(parts)
	return clip(strings.Join(parts, "；"))
}

func xlsxAttachment(c echo.Context, ascii, utf8Escaped string) {
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="`+ascii+`"; filename*=UTF-8''`+utf8Escaped)
	h.Set("Cache-Control", "private, no-store")
}

// unitsXLSX exports the units a list query selects (all of them unless limit is given) as
// the 风险清单 workbook.
func (v *view) unitsXLSX(c echo.Context) error {
	q := c.QueryParams()
	p, err := v.parseList(c, q, xlsxParams)
	if err != nil {
		return err
	}
	var probs riskmap.Problems
	byGroup := false
	switch q.Get("sheets") {
	case "":
	case "category":
		byGroup = true
	default:
		probs.Add("sheets", "应为 category（每个行业大类一张工作表）或不填")
	}
	withHazards := false
	switch q.Get("with") {
	case "":
	case "hazards":
		withHazards = true
	default:
		probs.Add("with", "应为 hazards（加上隐患清单，成为双清单）或不填")
	}
	if withHazards && v.s.cfg.Hazards == nil {
		probs.Add("with", "本服务没有隐患排查治理功能")
	}
	if err := probs.Err(); err != nil {
		return err
	}
	if q.Get("limit") == "" {
		p.Limit = 1 << 30
	}
	snap, err := v.snapshot()
	if err != nil {
		return err
	}
	pg := snap.Find(p)
	units := make([]*riskmap.Unit, 0, len(pg.Features))
	var doc []byte // each document read into the one buffer: json.Unmarshal keeps none of it
	for _, f := range pg.Features {
		doc = f.AppendJSON(doc[:0])
		u, err := unitOfFeature(doc)
		if err != nil {
			return err
		}
		units = append(units, u)
	}
	o := v.s.workbookExport(c, "城市安全风险清单")
	o.ByGroup = byGroup
	if withHazards {
		o.Hazards = v.s.allHazards(c.Request().Context(), userOf(c), hazards.Filter{}, 1<<30, &err)
		o.HazardsToday = v.s.hz().Today()
	}
	var buf bytes.Buffer
	if werr := workbook.WriteUnits(&buf, units, o); werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	// 风险清单.xlsx, with an ASCII name for clients that do not read RFC 5987.
	xlsxAttachment(c, "units.xlsx", "%E9%A3%8E%E9%99%A9%E6%B8%85%E5%8D%95.xlsx")
	return c.Blob(http.StatusOK, xlsxType, buf.Bytes())
}

// hazardsXLSX exports the hidden dangers a list query selects within the caller's scope
// (all unless limit is given) as the 隐患清单 workbook.
func (s *Server) hazardsXLSX(c echo.Context) error {
	q := c.QueryParams()
	f, err := s.parseHazardQuery(q, xlsxHazardParams)
	if err != nil {
		return err
	}
	limit := 1 << 30
	if q.Get("limit") != "" {
		limit = f.Limit
	}
	o := s.workbookExport(c, "城市安全风险清单")
	var listErr error
	o.Hazards = s.allHazards(c.Request().Context(), userOf(c), f, limit, &listErr)
	o.HazardsToday = s.hz().Today()
	var buf bytes.Buffer
	if err := workbook.WriteHazards(&buf, o); err != nil {
		return err
	}
	if listErr != nil {
		return listErr
	}
	// 隐患清单.xlsx
	xlsxAttachment(c, "hazards.xlsx", "%E9%9A%90%E6%82%A3%E6%B8%85%E5%8D%95.xlsx")
	return c.Blob(http.StatusOK, xlsxType, buf.Bytes())
}

// unitsTemplate answers the import template.
func (s *Server) unitsTemplate(c echo.Context) error {
	o := s.workbookExport(c, "城市安全风险清单")
	var buf bytes.Buffer
	if err := workbook.Template(&buf, o); err != nil {
		return err
	}
	// 风险清单导入模板.xlsx
	xlsxAttachment(c, "units-template.xlsx", "%E9%A3%8E%E9%99%A9%E6%B8%85%E5%8D%95%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx")
	return c.Blob(http.StatusOK, xlsxType, buf.Bytes())
}

// allHazards iterates over the hidden dangers f selects within u's scope, at most limit,
// paging through the service; the first error stops it and is left in *errp.
func (s *Server) allHazards(ctx context.Context, u *riskmap.User, f hazards.Filter, limit int, errp *error) iter.Seq[*hazards.Hazard] {
	return func(yield func(*hazards.Hazard) bool) {
		n := 0
		for n < limit {
			f.Limit = min(MaxLimit, limit-n)
			hs, _, err := s.hz().List(ctx, u, f)
			if err != nil {
				*errp = err
				return
			}
			for _, h := range hs {
				if !yield(h) {
					return
				}
			}
			n += len(hs)
			if len(hs) < f.Limit {
				return
			}
			f.AfterID = hs[len(hs)-1].ID
		}
	}
}

// featureUnit is what unitOfFeature reads of a unit's indexed Feature.
type featureUnit struct {
	ID         int64             `json:"id"`
	Geometry   *geojson.Geometry `json:"geometry"`
	Properties struct {
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
		InherentGrade         riskmap.Grade              `json:"inherent_grade"`
		Controls              riskmap.Controls           `json:"controls"`
		ResponsibleDepartment string                     `json:"responsible_department"`
		ResponsibleUnit       string                     `json:"responsible_unit"`
		ContactPerson         string                     `json:"contact_person"`
		ContactPhone          string                     `json:"contact_phone"`
		InfluenceRadiusM      float64                    `json:"influence_radius_m"`
		Status                riskmap.Status             `json:"status"`
		Version               int64                      `json:"version"`
		AssessedBy            string                     `json:"assessed_by"`
		AssessedAt            *time.Time                 `json:"assessed_at"`
		NextReviewDue         *string                    `json:"next_review_due"`
	} `json:"properties"`
}

// unitOfFeature reads back the unit of an indexed Feature (the internal view's JSON).
func unitOfFeature(b []byte) (*riskmap.Unit, error) {
	var f featureUnit
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	p := &f.Properties
	u := &riskmap.Unit{ID: f.ID, Code: p.Code, Name: p.Name, PublicTexts: p.PublicTexts, Category: p.Category,
		SubCategory: p.SubCategory, RegionCode: p.RegionCode, Address: p.Address, AccidentTypes: p.AccidentTypes,
		MajorHazardSource: p.MajorHazardSource, MajorRiskFactors: p.MajorRiskFactors, Assessment: p.Assessment,
		RiskValue: p.RiskValue, Grade: p.Grade, InherentGrade: p.InherentGrade, Controls: p.Controls,
		ResponsibleDepartment: p.ResponsibleDepartment, ResponsibleUnit: p.ResponsibleUnit,
		ContactPerson: p.ContactPerson, ContactPhone: p.ContactPhone, InfluenceRadiusM: p.InfluenceRadiusM,
		Status: p.Status, Version: p.Version, AssessedBy: p.AssessedBy, AssessedAt: p.AssessedAt}
	if p.DirectMajorReason != nil {
		u.DirectMajorReason = *p.DirectMajorReason
	}
	if p.NextReviewDue != nil {
		if t, err := time.Parse(time.DateOnly, *p.NextReviewDue); err == nil {
			u.NextReviewDue = &t
		}
	}
	if f.Geometry != nil {
		u.Geometry = f.Geometry.Geometry()
	}
	return u, nil
}

// categoryLabelOf names a category by its code (the code itself when unknown).
func (s *Server) categoryLabelOf(code string) string {
	if c, ok := s.cfg.Catalog.Category(code); ok {
		return c.Label
	}
	return code
}
