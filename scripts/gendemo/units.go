package main

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"riskmap/pkg/config"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/synth"
)

// demoUnits is how many risk units the demo city has.
const demoUnits = 3000

// unitProps are a unit Feature's properties as a client sends them (API.md): no id, grade,
// risk value or version, which the server computes.
type unitProps struct {
	Code                  string                     `json:"code"`
	Name                  string                     `json:"name"`
	Category              string                     `json:"category"`
	SubCategory           string                     `json:"sub_category"`
	RegionCode            string                     `json:"region_code"`
	Address               string                     `json:"address"`
	AccidentTypes         []string                   `json:"accident_types"`
	MajorHazardSource     *riskmap.MajorHazardSource `json:"major_hazard_source"`
	MajorRiskFactors      string                     `json:"major_risk_factors"`
	Assessment            riskmap.Assessment         `json:"assessment"`
	DirectMajorReason     *string                    `json:"direct_major_reason"`
	Controls              riskmap.Controls           `json:"controls"`
	ResponsibleDepartment string                     `json:"responsible_department"`
	ResponsibleUnit       string                     `json:"responsible_unit"`
	ContactPerson         string                     `json:"contact_person"`
	ContactPhone          string                     `json:"contact_phone"`
	InfluenceRadiusM      float64                    `json:"influence_radius_m"`
	Status                riskmap.Status             `json:"status"`
	AssessedBy            string                     `json:"assessed_by"`
	AssessedAt            string                     `json:"assessed_at"`
	NextReviewDue         string                     `json:"next_review_due"`
}

// buildUnits makes the demo register: one unit of every category first, so that each
// appears, then a random mix. A few are still drafts or awaiting approval. Names repeated
// within the city get their community added, as a register would.
func buildUnits(gen *synth.Generator, cfg *config.Config, regions []*riskmap.Region, r *rand.Rand) ([]any, error) {
	names := map[string]string{}
	for _, reg := range regions {
		names[reg.Code] = reg.Name
	}
	lakes := lakeside(regions)
	lakeNames := map[string]bool{}
	cats := cfg.Catalog.Categories
	units := make([]*riskmap.Unit, 0, demoUnits)
	for i := 0; i < demoUnits; i++ {
		s := synth.Spec{}
		if i < len(cats) {
			s.Category = cats[i].Code
		}
		u, err := gen.Unit(r, "", s)
		if err != nil {
			return nil, err
		}
		// The lake shore's flood points carry the lake's name, as registers call them.
		if lake := lakes[u.RegionCode]; lake != "" && u.Category == "waterlogging" && u.SubCategory == "内涝点" &&
			u.Geometry.GeoJSONType() == "Point" {
			if name := lake + short(names[u.RegionCode]) + "段内涝点"; !lakeNames[name] {
				lakeNames[name] = true
				u.Name = name
			}
		}
		switch x := r.Float64(); {
		case x < 0.04:
			u.Status = riskmap.StatusDraft
		case x < 0.10:
			u.Status = riskmap.StatusSubmitted
		}
		units = append(units, u)
	}

	order := map[string]int{}
	for i, c := range cats {
		order[c.Code] = i
	}
	// Number per category in generation order, then list by category.
	seq := map[string]int{}
	for _, u := range units {
		seq[u.Category]++
		u.Code = fmt.Sprintf("CJ-%s-%04d", synth.CodePrefix(u.Category), seq[u.Category])
	}
	sort.SliceStable(units, func(i, j int) bool {
		if oi, oj := order[units[i].Category], order[units[j].Category]; oi != oj {
			return oi < oj
		}
		return units[i].Code < units[j].Code
	})

	seen := map[string]int{}
	for _, u := range units {
		seen[u.Name]++
	}
	used := map[string]bool{}
	feats := make([]any, 0, len(units))
	for _, u := range units {
		if seen[u.Name] > 1 {
			base := u.Name + "（" + names[u.RegionCode] + "）"
			name := base
			for k := 2; used[name]; k++ {
				name = fmt.Sprintf("%s（%s第%d处）", u.Name, names[u.RegionCode], k)
			}
			u.Name = name
		}
		used[u.Name] = true
		if err := u.Validate(cfg.Catalog); err != nil {
			return nil, fmt.Errorf("unit %s: %v", u.Code, err)
		}
		feats = append(feats, newFeature(u.Geometry, props(u)))
	}
	return feats, nil
}

func props(u *riskmap.Unit) unitProps {
	p := unitProps{
		Code: u.Code, Name: u.Name, Category: u.Category, SubCategory: u.SubCategory, RegionCode: u.RegionCode,
		Address: u.Address, AccidentTypes: u.AccidentTypes, MajorHazardSource: u.MajorHazardSource,
		MajorRiskFactors: u.MajorRiskFactors, Assessment: u.Assessment, Controls: u.Controls,
		ResponsibleDepartment: u.ResponsibleDepartment, ResponsibleUnit: u.ResponsibleUnit,
		ContactPerson: u.ContactPerson, ContactPhone: u.ContactPhone, InfluenceRadiusM: u.InfluenceRadiusM,
		Status: u.Status, AssessedBy: u.AssessedBy,
	}
	if p.AccidentTypes == nil {
		p.AccidentTypes = []string{}
	}
	if u.DirectMajorReason != "" {
		reason := u.DirectMajorReason
		p.DirectMajorReason = &reason
	}
	if u.AssessedAt != nil {
		p.AssessedAt = u.AssessedAt.UTC().Format(time.RFC3339)
	}
	if u.NextReviewDue != nil {
		p.NextReviewDue = u.NextReviewDue.Format(time.DateOnly)
	}
	return p
}
