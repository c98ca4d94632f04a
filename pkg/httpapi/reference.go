package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/featurejson"
	"riskmap/pkg/riskmap"
)

func (s *Server) categories(c echo.Context) error {
	cat := s.cfg.Catalog
	return c.JSON(http.StatusOK, map[string]any{
		"groups":         cat.Groups,
		"categories":     cat.Categories,
		"accident_types": cat.AccidentTypes,
	})
}

type gradeInfo struct {
	Code       riskmap.Grade `json:"code"`
	Label      string        `json:"label"`
	ShortLabel string        `json:"short_label"`
	ColourName string        `json:"colour_name"`
	Fill       string        `json:"fill"`
	Outline    string        `json:"outline"`
	Rank       int           `json:"rank"`
}

func (s *Server) gradeInfos() []gradeInfo {
	cfg := s.cfg.Grader.Config()
	out := make([]gradeInfo, 0, 4)
	for _, g := range riskmap.Grades {
		col := cfg.Colours[g]
		out = append(out, gradeInfo{Code: g, Label: g.Label(), ShortLabel: g.ShortLabel(), ColourName: g.ColourName(),
			Fill: col.Fill, Outline: col.Outline, Rank: g.Rank()})
	}
	return out
}

func (s *Server) gradingConfig(c echo.Context) error {
	cfg := s.cfg.Grader.Config()
	return c.JSON(http.StatusOK, map[string]any{
		"grades": s.gradeInfos(),
		"methods": []map[string]any{
			{"code": riskmap.MethodLS, "label": "风险矩阵法", "formula": "R = L × S",
				"inputs": map[string]any{"likelihood": []int{1, 2, 3, 4, 5}, "severity": []int{1, 2, 3, 4, 5}},
				"bands":  cfg.LS.Bands},
			{"code": riskmap.MethodLEC, "label": "作业条件危险性分析法", "formula": "D = L × E × C",
				"inputs": map[string]any{"l": riskmap.LECLikelihoods, "e": riskmap.LECExposures, "c": riskmap.LECConsequences},
				"bands":  cfg.LEC.Bands},
		},
		"direct_determination": "记录直接判定理由的单元一律判定为重大风险（红）",
		"review_months":        cfg.ReviewMonths,
		"region_rule":          s.cfg.RegionRule,
	})
}

func (s *Server) evaluate(c echo.Context) error {
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	var req struct {
		Assessment        json.RawMessage `json:"assessment"`
		DirectMajorReason *string         `json:"direct_major_reason"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return riskmap.Errorf(riskmap.EINVALID, `请求体应为 {"assessment": {...}, "direct_major_reason": null 或文本}`)
	}
	a, err := featurejson.DecodeAssessment(req.Assessment)
	if err != nil {
		return err
	}
	reason := ""
	if req.DirectMajorReason != nil {
		reason = *req.DirectMajorReason
	}
	r, err := s.cfg.Grader.Evaluate(a, reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// publicGrading tells the public page the grade names and colours, nothing of the methods'
// thresholds beyond what the legend needs.
func (s *Server) publicGrading(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]any{"grades": s.gradeInfos()})
}
