package sites

import (
	"github.com/paulmach/orb"

	"riskmap/pkg/analysis"
	"riskmap/pkg/regiongrade"
	"riskmap/pkg/riskmap"
)

// CityMarginM is how far outside its regions a site of the city may lie.
const CityMarginM = 20000

// New is the service of a city of regions: its bound (the regions' grown by CityMarginM),
// the finest region holding a site and the regions' names. Load it before use.
func New(store riskmap.SiteStore, cfg analysis.Config, regions []*riskmap.Region) *Service {
	byCode := make(map[string]*riskmap.Region, len(regions))
	for _, r := range regions {
		byCode[r.Code] = r
	}
	// A site's region is the finest holding it, often a grid: it is named with the street
	// and community above it ("凤麓街道东龙社区第2网格"), the district left out.
	names := make(map[string]string, len(regions))
	var b orb.Bound
	for i, r := range regions {
		name := r.Name
		for p := byCode[r.ParentCode]; p != nil && p.Level != riskmap.LevelDistrict && len(name) < 400; p = byCode[p.ParentCode] {
			name = p.Name + name
		}
		names[r.Code] = name
		if i == 0 {
			b = r.Geometry.Bound()
		} else {
			b = b.Union(r.Geometry.Bound())
		}
	}
	s := &Service{Store: store, Config: cfg, RegionName: func(code string) string { return names[code] }}
	if len(regions) > 0 {
		s.Bound = analysis.GrowM(b, CityMarginM)
		s.Locate = regiongrade.Containing(regions)
	}
	return s
}
