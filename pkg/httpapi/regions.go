package httpapi

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb/geojson"

	"riskmap/pkg/regiongrade"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/spatialindex"
)

// scopedRegionCounts sums the snapshot's counts by exact region code, over the categories
// allowed (nil: all) inside a department user's scope (nil: everything).
func scopedRegionCounts(snap *spatialindex.Snapshot, cats map[string]bool, scope *riskmap.User) map[string][4]int {
	return snap.RegionCounts(func(k spatialindex.CountKey) bool {
		return (cats == nil || cats[k.Category]) && (scope == nil || scope.InScope(k.Category, k.RegionCode))
	})
}

type regionFeature struct {
	Type       string              `json:"type"`
	ID         string              `json:"id"`
	Geometry   *geojson.Geometry   `json:"geometry"`
	Properties regiongrade.Summary `json:"properties"`
}

// regionView is the view whose regional grades the requester sees: a department user's
// scope does not reach the regional map, which it sees as the public does.
func (v *view) regionView(c echo.Context) *view {
	if !v.public && scoped(c) != nil && v.s.pub() != nil {
		return v.s.pub()
	}
	return v
}

func (v *view) listRegions(c echo.Context) error {
	v = v.regionView(c)
	level := c.QueryParam("level")
	if level != "" && !riskmap.ValidRegionLevel(level) {
		return riskmap.Errorf(riskmap.EINVALID, "level must be district, street, community or grid, got %q", clip(level))
	}
	sums, _, err := v.grades.Summaries()
	if err != nil {
		return err
	}
	fc := struct {
		Type           string          `json:"type"`
		NumberMatched  int             `json:"numberMatched"`
		NumberReturned int             `json:"numberReturned"`
		Features       []regionFeature `json:"features"`
	}{Type: "FeatureCollection", Features: []regionFeature{}}
	for i, r := range v.s.regions {
		if level != "" && r.Level != level {
			continue
		}
		fc.Features = append(fc.Features, regionFeature{Type: "Feature", ID: r.Code, Geometry: geojson.NewGeometry(r.Geometry), Properties: sums[i]})
	}
	fc.NumberMatched, fc.NumberReturned = len(fc.Features), len(fc.Features)
	b, err := json.Marshal(fc)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, geoJSON, b)
}

func (v *view) getRegion(c echo.Context) error {
	v = v.regionView(c)
	f, err := v.regionByCode(c.Param("code"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, f)
}

func (v *view) regionByCode(code string) (*regionFeature, error) {
	sums, _, err := v.grades.Summaries()
	if err != nil {
		return nil, err
	}
	for i, r := range v.s.regions {
		if r.Code == code {
			return &regionFeature{Type: "Feature", ID: r.Code, Geometry: geojson.NewGeometry(r.Geometry), Properties: sums[i]}, nil
		}
	}
	return nil, riskmap.Errorf(riskmap.ENOTFOUND, "no region %q", clip(code))
}

type statRow struct {
	Category string `json:"category,omitempty"`
	Label    string `json:"label,omitempty"`
	Group    string `json:"group,omitempty"`
	Code     string `json:"code,omitempty"`
	Name     string `json:"name,omitempty"`
	Level    string `json:"level,omitempty"`
	regiongrade.Counts
	Total int `json:"total"`
}

func addCounts(r *statRow, v [4]int) {
	r.Red += v[0]
	r.Orange += v[1]
	r.Yellow += v[2]
	r.Blue += v[3]
	r.Total += v[0] + v[1] + v[2] + v[3]
}

// stats counts units by grade × category, and by grade × child region, for a region prefix
// and a category list.
func (v *view) stats(c echo.Context) error {
	var p riskmap.Problems
	region := c.QueryParam("region")
	if region != "" && (len(region) > 15 || strings.Trim(region, "0123456789") != "") {
		p.Add("region", "must be a region-code prefix of digits, got %q", clip(region))
	}
	var cats map[string]bool
	if list := c.QueryParam("category"); list != "" {
		cats = map[string]bool{}
		for _, code := range splitList(list) {
			if _, ok := v.s.cfg.Catalog.Category(code); !ok {
				p.Add("category", "unknown category %q; see /api/v1/categories", clip(code))
			}
			cats[code] = true
		}
	}
	if err := p.Err(); err != nil {
		return err
	}
	snap, err := v.snapshot()
	if err != nil {
		return err
	}
	var scope *riskmap.User
	if !v.public {
		scope = scoped(c) // a department counts only what lies in its scope
	}
	byCat := map[string]*statRow{}
	total := statRow{}
	for k, n := range snap.Counts() {
		if !strings.HasPrefix(k.RegionCode, region) || (cats != nil && !cats[k.Category]) ||
			(scope != nil && !scope.InScope(k.Category, k.RegionCode)) {
			continue
		}
		r := byCat[k.Category]
		if r == nil {
			r = &statRow{Category: k.Category}
			if cat, ok := v.s.cfg.Catalog.Category(k.Category); ok {
				r.Label, r.Group = cat.Label, cat.Group
			}
			byCat[k.Category] = r
		}
		addCounts(r, n)
		addCounts(&total, n)
	}
	cr := make([]statRow, 0, len(byCat))
	for _, r := range byCat {
		cr = append(cr, *r)
	}
	sort.Slice(cr, func(i, j int) bool { return cr[i].Category < cr[j].Category })

	// Children: the regions one level below the given one (the districts without one).
	counts := scopedRegionCounts(snap, cats, scope)
	var children []statRow
	for _, r := range v.s.regions {
		if (region == "" && r.Level == riskmap.LevelDistrict) || (region != "" && r.ParentCode == region) {
			row := statRow{Code: r.Code, Name: r.Name, Level: r.Level}
			for code, n := range counts {
				if strings.HasPrefix(code, r.Code) {
					addCounts(&row, n)
				}
			}
			children = append(children, row)
		}
	}
	if children == nil {
		children = []statRow{}
	}
	return c.JSON(http.StatusOK, map[string]any{
		"region": region, "categories": sortedKeys(cats), "grades": v.s.gradeInfos(),
		"total": total, "by_category": cr, "by_region": children,
	})
}
