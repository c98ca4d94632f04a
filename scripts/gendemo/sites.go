package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"

	"riskmap/pkg/demo"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/synth"
)

// site is a named place in a given community ("" = drawn by population).
type site struct {
	name, kind, comm string
}

// The city-level targets and shelters sit in fixed communities; the rest are drawn.
var fixedTargets = []site{
	{"澄江市第一中学", riskmap.TargetSchool, "东龙社区"},
	{"澄江市第二中学", riskmap.TargetSchool, "龙街社区"},
	{"澄江市职业高级中学", riskmap.TargetSchool, "广龙社区"},
	{"澄江市人民医院", riskmap.TargetHospital, "凤山社区"},
	{"澄江市中医医院", riskmap.TargetHospital, "西龙社区"},
	{"澄江市妇幼保健院", riskmap.TargetHospital, "新城社区"},
	{"澄江市社会福利院", riskmap.TargetCareHome, "龙街社区"},
	{"澄江市第一幼儿园", riskmap.TargetKindergarten, "东龙社区"},
	{"澄江化石地博物馆", riskmap.TargetCrowded, "凤山社区"},
	{"澄江客运站", riskmap.TargetCrowded, "新城社区"},
	{"禄充风景区游客中心", riskmap.TargetCrowded, "禄充村"},
	{"澄江市体育馆", riskmap.TargetCrowded, "广龙社区"},
}

// Templates for the drawn targets: {town} {townfull} {comm} {commfull} {brand} {cn}.
var targetNames = map[string][]string{
	riskmap.TargetSchool:       {"{townfull}{comm}小学", "{townfull}中心小学", "{town}中学", "澄江市第{cn}小学"},
	riskmap.TargetKindergarten: {"{townfull}中心幼儿园", "{comm}幼儿园", "澄江{brand}幼儿园"},
	riskmap.TargetHospital:     {"{townfull}卫生院", "{commfull}卫生室", "澄江{brand}医院"},
	riskmap.TargetCareHome:     {"{townfull}敬老院", "澄江{brand}康养中心", "{commfull}日间照料中心"},
	riskmap.TargetCrowded:      {"{town}{brand}购物广场", "{town}农贸市场", "{comm}文化活动中心", "澄江{brand}影城"},
}

var targetMix = []struct {
	kind     string
	n        int
	min, max int
}{
	{riskmap.TargetSchool, 16, 500, 3000},
	{riskmap.TargetKindergarten, 12, 120, 450},
	{riskmap.TargetHospital, 6, 200, 1200},
	{riskmap.TargetCareHome, 6, 40, 220},
	{riskmap.TargetCrowded, 10, 300, 6000},
}

var fixedShelters = []site{
	{"澄江市体育中心中心避难场所", riskmap.ShelterCentral, "广龙社区"},
	{"抚仙湖北岸湿地公园中心避难场所", riskmap.ShelterCentral, "新城社区"},
	{"澄江市第一中学操场固定避难场所", riskmap.ShelterFixed, "东龙社区"},
	{"凤山公园固定避难场所", riskmap.ShelterFixed, "凤山社区"},
	{"龙街街道文化广场固定避难场所", riskmap.ShelterFixed, "龙街社区"},
	{"右所镇中心学校操场固定避难场所", riskmap.ShelterFixed, "右所社区"},
	{"路居镇文化广场固定避难场所", riskmap.ShelterFixed, "路居社区"},
	{"海口镇中学操场固定避难场所", riskmap.ShelterFixed, "海口社区"},
	{"九村镇文化广场固定避难场所", riskmap.ShelterFixed, "九村社区"},
	{"阳宗文体广场固定避难场所", riskmap.ShelterFixed, "阳宗社区"},
}

var emergencyNames = []string{"{comm}小游园紧急避难场所", "{comm}活动广场紧急避难场所", "{commfull}篮球场紧急避难场所"}

const emergencyShelters = 20

// The demo's shelter story: every street but one has at least the required effective
// shelter area per resident; shortStreet, a lakeside farming town, is the one short of it,
// so the coverage map and the report show one shortfall. Streets that the draw leaves below
// the requirement are topped up to metPerCapita by enlarging their shelters (no new ones, so
// the counts stay as they are).
const (
	shortStreet  = "路居镇"
	metPerCapita = 1.55
	// effectiveShare caps a polygon shelter's effective area at this share of its footprint
	// (paths and buildings take the rest); riskmap refuses more than 1.2 times the footprint.
	effectiveShare = 0.9
	// maxEmergencyArea caps the effective area of an emergency shelter (a point).
	maxEmergencyArea = 5000
)

// buildSites makes the protective targets and the shelters, placed with the units' engine.
// perCapita is the required effective shelter area per resident (m²).
func buildSites(gen *synth.Generator, regions []*riskmap.Region, perCapita float64, r *rand.Rand) (targets, shelters []any, err error) {
	byName := map[string]*riskmap.Region{}
	byCode := map[string]*riskmap.Region{}
	for _, reg := range regions {
		byCode[reg.Code] = reg
		if reg.Level == riskmap.LevelCommunity {
			byName[reg.Name] = reg
		}
	}
	used := map[string]bool{}
	fillName := func(t, code string) string {
		c := byCode[code]
		tw := byCode[c.ParentCode]
		return strings.NewReplacer(
			"{townfull}", tw.Name, "{town}", short(tw.Name), "{commfull}", c.Name, "{comm}", short(c.Name),
			"{brand}", brandWords[r.IntN(len(brandWords))], "{cn}", numerals[r.IntN(len(numerals))],
		).Replace(t)
	}
	address := func(code string) string {
		c := byCode[code]
		tw := byCode[c.ParentCode]
		if strings.HasSuffix(c.Name, "村") {
			return fmt.Sprintf("澄江市%s%s%d组", tw.Name, c.Name, 1+r.IntN(12))
		}
		return fmt.Sprintf("澄江市%s%s%s%d号", tw.Name, c.Name, roadWords[r.IntN(len(roadWords))], 1+r.IntN(399))
	}
	fixedCode := func(s site) (string, error) {
		c, ok := byName[s.comm]
		if !ok {
			return "", fmt.Errorf("%s: no community %s", s.name, s.comm)
		}
		return c.Code, nil
	}

	addTarget := func(name, kind, code string, lo, hi int) error {
		p, err := gen.PointIn(r, code)
		if err != nil {
			return err
		}
		used[name] = true
		people := lo + r.IntN(hi-lo+1)
		people = int(math.Round(float64(people)/10) * 10)
		targets = append(targets, newFeature(p, demo.TargetProperties{SiteProperties: demo.SiteProperties{
			Name: name, Kind: kind, RegionCode: code, Address: address(code)}, People: people}))
		return nil
	}
	mixOf := map[string]int{}
	for i, m := range targetMix {
		mixOf[m.kind] = i
	}
	for _, s := range fixedTargets {
		code, err := fixedCode(s)
		if err != nil {
			return nil, nil, err
		}
		m := targetMix[mixOf[s.kind]]
		if err := addTarget(s.name, s.kind, code, m.max/2, m.max); err != nil {
			return nil, nil, err
		}
	}
	for _, m := range targetMix {
		for range m.n {
			var name, code string
			for try := 0; ; try++ {
				code = gen.PickPlace(r)
				tl := targetNames[m.kind]
				name = fillName(tl[r.IntN(len(tl))], code)
				if !used[name] {
					break
				}
				if try > 100 {
					return nil, nil, fmt.Errorf("ran out of names for %s", m.kind)
				}
			}
			if err := addTarget(name, m.kind, code, m.min, m.max); err != nil {
				return nil, nil, err
			}
		}
	}

	var recs []shelterRec
	addShelter := func(name, kind, code string) error {
		var (
			g      orb.Geometry
			area   float64
			radius float64
		)
		switch kind {
		case riskmap.ShelterCentral:
			area = 50000 + 20000*r.Float64()
			radius = 3000 + 100*float64(r.IntN(21))
		case riskmap.ShelterFixed:
			area = 12000 + 13000*r.Float64()
			radius = 1000 + 100*float64(r.IntN(11))
		default:
			area = 1500 + 3500*r.Float64()
			radius = 500
		}
		area = math.Round(area/10) * 10
		if kind == riskmap.ShelterEmergency {
			p, err := gen.PointIn(r, code)
			if err != nil {
				return err
			}
			g = p
		} else {
			// The site is larger than its effective area (paths, buildings): about 1.4 times.
			poly, err := gen.AreaIn(r, code, math.Sqrt(area*1.4/math.Pi)*1.25)
			if err != nil {
				return err
			}
			g = poly
			// The place may have drawn a smaller site than asked for.
			area = math.Min(area, maxArea(g))
		}
		used[name] = true
		recs = append(recs, shelterRec{g: g, p: demo.ShelterProperties{SiteProperties: demo.SiteProperties{
			Name: name, Kind: kind, RegionCode: code, Address: address(code)}, EffectiveAreaM2: area, ServiceRadiusM: radius}})
		return nil
	}
	for _, s := range fixedShelters {
		code, err := fixedCode(s)
		if err != nil {
			return nil, nil, err
		}
		if err := addShelter(s.name, s.kind, code); err != nil {
			return nil, nil, err
		}
	}
	for range emergencyShelters {
		var name, code string
		for try := 0; ; try++ {
			code = gen.PickPlace(r)
			name = fillName(emergencyNames[r.IntN(len(emergencyNames))], code)
			if !used[name] {
				break
			}
			if try > 100 {
				return nil, nil, fmt.Errorf("ran out of shelter names")
			}
		}
		if err := addShelter(name, riskmap.ShelterEmergency, code); err != nil {
			return nil, nil, err
		}
	}
	if err := balanceShelters(recs, byCode, regions, perCapita); err != nil {
		return nil, nil, err
	}
	for _, s := range recs {
		s.p.Capacity = int(s.p.EffectiveAreaM2 / 1.5)
		shelters = append(shelters, newFeature(s.g, s.p))
	}
	return targets, shelters, nil
}

// shelterRec is a shelter before it becomes a feature.
type shelterRec struct {
	g orb.Geometry
	p demo.ShelterProperties
}

// maxArea is the largest effective area the demo gives a shelter of geometry g, rounded
// down to 10 m².
func maxArea(g orb.Geometry) float64 {
	if _, ok := g.(orb.Point); ok {
		return maxEmergencyArea
	}
	return math.Floor(geo.Area(g)*effectiveShare/10) * 10
}

// balanceShelters makes the shelter story hold (see shortStreet): it tops up every street
// but shortStreet to metPerCapita, enlarging its shelters in order up to maxArea, and fails
// when that is not enough or when shortStreet meets the requirement. A shelter counts for
// the street of its community.
func balanceShelters(recs []shelterRec, byCode map[string]*riskmap.Region, regions []*riskmap.Region, perCapita float64) error {
	street := func(s shelterRec) string { return byCode[s.p.RegionCode].ParentCode }
	for _, st := range regions {
		if st.Level != riskmap.LevelStreet {
			continue
		}
		var area float64
		for _, s := range recs {
			if street(s) == st.Code {
				area += s.p.EffectiveAreaM2
			}
		}
		pop := float64(st.Population)
		if st.Name == shortStreet {
			if area >= pop*perCapita {
				return fmt.Errorf("%s: %.2f m² of shelter per resident, meant to be short of %.2f", st.Name, area/pop, perCapita)
			}
			continue
		}
		need := math.Ceil((pop*metPerCapita-area)/10) * 10
		for i := range recs {
			if need <= 0 {
				break
			}
			if street(recs[i]) != st.Code {
				continue
			}
			grow := math.Min(need, maxArea(recs[i].g)-recs[i].p.EffectiveAreaM2)
			if grow > 0 {
				recs[i].p.EffectiveAreaM2 += grow
				need -= grow
			}
		}
		if need > 0 {
			return fmt.Errorf("%s: shelters too small to give %.2f m² per resident", st.Name, metPerCapita)
		}
	}
	return nil
}

var (
	brandWords = []string{"鑫源", "华澄", "仙湖", "凤山", "龙泉", "明珠", "金湖", "晨光", "阳光", "康宁"}
	numerals   = []string{"一", "二", "三", "四", "五", "六"}
	roadWords  = []string{"凤麓路", "抚仙路", "凤山路", "澄川路", "东环路", "龙泉路", "广龙路", "新城大道", "学府路", "文化路"}
)

func short(s string) string {
	for _, suf := range []string{"街道", "社区", "镇", "村"} {
		if t, ok := strings.CutSuffix(s, suf); ok && t != "" {
			return t
		}
	}
	return s
}
