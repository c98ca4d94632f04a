package main

import (
	"fmt"
	"math/rand/v2"
	"regexp"
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
	PublicLabel           string                     `json:"public_label"`
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
	// The review dates (null: never reviewed). next_review_due is what the server
	// computes from assessed_at and the grade; it ignores the value sent.
	AssessedAt    *string `json:"assessed_at"`
	NextReviewDue *string `json:"next_review_due"`
	IdentifiedAt  *string `json:"identified_at"`
}

// buildUnits makes the demo register: one unit of every category first, so that each
// appears, then a random mix. A few are still drafts or awaiting approval. Names repeated
// within the city get their community added, as a register would.
func buildUnits(gen *synth.Generator, cfg *config.Config, regions []*riskmap.Region, r, reviews *rand.Rand) ([]any, error) {
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

	if err := dateReviews(units, cfg, reviews); err != nil {
		return nil, err
	}
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
		Code: u.Code, Name: u.Name, PublicLabel: publicLabel(u), Category: u.Category, SubCategory: u.SubCategory, RegionCode: u.RegionCode,
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
		s := u.AssessedAt.UTC().Format(time.RFC3339)
		p.AssessedAt = &s
	}
	if u.NextReviewDue != nil {
		s := u.NextReviewDue.Format(time.DateOnly)
		p.NextReviewDue = &s
	}
	if u.IdentifiedAt != nil {
		s := u.IdentifiedAt.Format(time.DateOnly)
		p.IdentifiedAt = &s
	}
	return p
}

// publicNouns say what a unit is to a citizen, by sub-category or, without one, category.
var publicNouns = map[string]string{
	"加油加气站": "加油站", "使用单位": "危险化学品使用单位", "储存仓库": "危险化学品仓库", "生产企业": "危险化学品企业",
	"批发仓库": "烟花爆竹仓库", "零售网点": "烟花爆竹零售点", "崩塌": "崩塌隐患点", "滑坡": "滑坡隐患点", "泥石流": "泥石流沟",
	"小美容美发": "美容美发店", "小餐饮": "餐饮店", "河道": "河道洪水淹没区",
	"ammonia_refrigeration": "涉氨制冷企业", "amusement": "游乐设施", "billboards": "户外广告牌", "bridges_tunnels": "桥梁隧道",
	"combustible_dust": "粉尘涉爆企业", "earthquake": "地震风险区", "forest_fire": "林区", "hazmat_transport": "危险货物运输线路",
	"high_rise": "高层建筑", "industrial_gas": "工业煤气设施", "lifeline_drainage": "排水管渠", "lifeline_heating": "供热设施",
	"lifeline_power": "变电站", "lifeline_water": "供水管道", "mass_events": "大型活动场地", "metal_smelting": "冶金企业",
	"muck_dumps": "渣土受纳场", "old_buildings": "老旧房屋片区", "public_transit": "公共交通场站", "rail_transit": "轨道交通",
	"special_equipment": "电梯等特种设备", "utility_tunnel": "综合管廊",
}

// roadInAddress finds the road of an address's house number ("…新城社区文化路106号" → 文化路).
var roadInAddress = regexp.MustCompile(`(?:村|社区)([\p{Han}]{1,6}?(?:路|大道|街))\d+号`)

// villageInAddress finds its village or community ("…右所镇小马沟村3组" → 小马沟村).
var villageInAddress = regexp.MustCompile(`(?:街道|镇)([\p{Han}]{1,6}?(?:村|社区))`)

// publicLabel is the demo's 公开名称 of a unit: what it is and where, in words a citizen
// knows ("加油站（小马沟村）", "户外广告牌（文化路）"), never the internal name.
func publicLabel(u *riskmap.Unit) string {
	noun := publicNouns[u.SubCategory]
	if noun == "" {
		noun = u.SubCategory
	}
	if noun == "" {
		noun = publicNouns[u.Category]
	}
	if noun == "" {
		return ""
	}
	if m := roadInAddress.FindStringSubmatch(u.Address); m != nil {
		return noun + "（" + m[1] + "）"
	}
	if m := villageInAddress.FindStringSubmatch(u.Address); m != nil {
		return noun + "（" + m[1] + "）"
	}
	return noun
}
