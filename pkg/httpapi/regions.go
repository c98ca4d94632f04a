package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"
	"github.com/paulmach/orb/geojson"

	"riskmap/pkg/regiongrade"
	"riskmap/pkg/riskmap"
)

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
		return riskmap.Errorf(riskmap.EINVALID, "level 应为 district（区县）、street（街道）、community（社区）或 grid（网格），收到 %q", clip(level))
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
	return nil, riskmap.Errorf(riskmap.ENOTFOUND, "没有区域 %q", clip(code))
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

// stats counts units by grade × category, and by grade × child region, for a region prefix
// and a category list.
func (v *view) stats(c echo.Context) error {
	f, err := v.s.parseStats(c.QueryParams())
	if err != nil {
		return err
	}
	snap, err := v.snapshot()
	if err != nil {
		return err
	}
	if !v.public {
		f.Scope = scoped(c) // a department counts only what lies in its scope
	}
	st := regiongrade.Statistics(snap, v.s.regions, f)
	total := statRow{Counts: st.Total.Counts, Total: st.Total.Total}
	cr := make([]statRow, len(st.ByCategory))
	for i, cs := range st.ByCategory {
		cr[i] = statRow{Category: cs.Category, Counts: cs.Counts, Total: cs.Total}
		if cat, ok := v.s.cfg.Catalog.Category(cs.Category); ok {
			cr[i].Label, cr[i].Group = cat.Label, cat.Group
		}
	}
	children := make([]statRow, len(st.ByRegion))
	for i, rs := range st.ByRegion {
		children[i] = statRow{Code: rs.Region.Code, Name: rs.Region.Name, Level: rs.Region.Level, Counts: rs.Counts, Total: rs.Total}
	}
	cats := []string{}
	if f.Categories != nil {
		cats = slices.Compact(slices.Sorted(slices.Values(f.Categories)))
	}
	return c.JSON(http.StatusOK, map[string]any{
		"region": f.RegionPrefix, "categories": cats, "grades": v.s.gradeInfos(),
		"total": total, "by_category": cr, "by_region": children,
	})
}
