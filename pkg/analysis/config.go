// Package analysis owns riskmap's spatial analyses (issue 16): the influence range of a
// hazardous unit against protective targets (安全距离不足 conflicts), emergency shelter
// coverage per district and street, and the nearest shelter to a point. Its distances are
// geodesic (WGS 84) and its answers come from memory, kept current as units, targets and
// shelters change.
package analysis

import (
	"fmt"
	"math"

	"riskmap/pkg/riskmap"
)

// Config is the config section "analysis".
type Config struct {
	// HazardousCategories are the category codes whose units threaten protective targets
	// inside their influence range (危险化学品, 烟花爆竹, 燃气 …).
	HazardousCategories []string `json:"hazardous_categories"`
	// DefaultRadiusM is the influence radius, by category code, of a unit that gives none
	// (influence_radius_m 0).
	DefaultRadiusM map[string]float64 `json:"default_radius_m"`
	// ShelterPerCapitaM2 is the effective shelter area each resident needs (1.5 m²).
	ShelterPerCapitaM2 float64 `json:"shelter_per_capita_m2"`
	// ShelterRadiusM is the service radius, by shelter kind, of a shelter that gives none.
	ShelterRadiusM map[string]float64 `json:"shelter_radius_m"`
	// NearbyShelterM is how far "the shelters nearby" reach from a point on the public map.
	NearbyShelterM float64 `json:"nearby_shelter_m"`
	// MaxAreaRatio bounds a shelter's effective area by its footprint: effective area may
	// not exceed the footprint's area times this.
	MaxAreaRatio float64 `json:"max_area_ratio"`
}

// MaxRadiusM is the largest influence or service radius accepted (50 km).
const MaxRadiusM = 50000

// Check validates the section against the category catalog.
func (c *Config) Check(cat *riskmap.Catalog) error {
	for i, code := range c.HazardousCategories {
		if _, ok := cat.Category(code); !ok {
			return fmt.Errorf("analysis.hazardous_categories[%d]: 未知的行业类别 %q", i, code)
		}
	}
	for code, r := range c.DefaultRadiusM {
		if _, ok := cat.Category(code); !ok {
			return fmt.Errorf("analysis.default_radius_m: 未知的行业类别 %q", code)
		}
		if !(r >= 0 && r <= MaxRadiusM) {
			return fmt.Errorf("analysis.default_radius_m.%s 应在 0 到 %d 米之间", code, MaxRadiusM)
		}
	}
	for kind, r := range c.ShelterRadiusM {
		switch kind {
		case riskmap.ShelterEmergency, riskmap.ShelterFixed, riskmap.ShelterCentral:
		default:
			return fmt.Errorf("analysis.shelter_radius_m: 未知的避难场所类型 %q（应为 emergency、fixed 或 central）", kind)
		}
		if !(r > 0 && r <= MaxRadiusM) {
			return fmt.Errorf("analysis.shelter_radius_m.%s 应大于 0 且不超过 %d 米", kind, MaxRadiusM)
		}
	}
	if !(c.ShelterPerCapitaM2 > 0 && c.ShelterPerCapitaM2 < 100) {
		return fmt.Errorf("analysis.shelter_per_capita_m2 应大于 0 且小于 100")
	}
	if !(c.NearbyShelterM > 0 && c.NearbyShelterM <= MaxRadiusM) {
		return fmt.Errorf("analysis.nearby_shelter_m 应大于 0 且不超过 %d 米", MaxRadiusM)
	}
	if !(c.MaxAreaRatio >= 1) || math.IsInf(c.MaxAreaRatio, 0) {
		return fmt.Errorf("analysis.max_area_ratio 应不小于 1")
	}
	return nil
}

// Hazardous reports whether units of category threaten protective targets.
func (c *Config) Hazardous(category string) bool {
	for _, h := range c.HazardousCategories {
		if h == category {
			return true
		}
	}
	return false
}

// Radius is the influence radius of a unit of category that gives radius (0 for none):
// its own when it gives one, else the category's default; source says which ("unit",
// "default", or "none" when neither gives one).
func (c *Config) Radius(category string, radius float64) (float64, string) {
	if radius > 0 {
		return radius, "unit"
	}
	if r := c.DefaultRadiusM[category]; r > 0 {
		return r, "default"
	}
	return 0, "none"
}
