package workbook

import (
	"slices"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// Same reports whether a and b agree in every property the workbook's columns carry (the
// ones an import writes): code, name, public texts, category, sub-category, region,
// address, accident types, 重大危险源, risk factors, the assessment inputs, the direct
// reason, the five control groups, department, responsible unit, contact person and phone,
// assessor, the assessment's day (in China; the workbook keeps days, not times), influence
// radius and geometry. An importer writes nothing for a row that is the Same as its unit.
func Same(a, b *riskmap.Unit) bool {
	if a.Code != b.Code || a.Name != b.Name || a.PublicTexts != b.PublicTexts || a.Category != b.Category ||
		a.SubCategory != b.SubCategory || a.RegionCode != b.RegionCode || a.Address != b.Address ||
		!slices.Equal(a.AccidentTypes, b.AccidentTypes) || a.MajorRiskFactors != b.MajorRiskFactors ||
		a.Assessment != b.Assessment || a.DirectMajorReason != b.DirectMajorReason ||
		a.ResponsibleDepartment != b.ResponsibleDepartment || a.ResponsibleUnit != b.ResponsibleUnit ||
		a.ContactPerson != b.ContactPerson || a.ContactPhone != b.ContactPhone || a.AssessedBy != b.AssessedBy ||
		a.InfluenceRadiusM != b.InfluenceRadiusM {
		return false
	}
	if (a.MajorHazardSource == nil) != (b.MajorHazardSource == nil) ||
		a.MajorHazardSource != nil && *a.MajorHazardSource != *b.MajorHazardSource {
		return false
	}
	ga, gb := a.Controls.Groups(), b.Controls.Groups()
	for i := range ga {
		if !slices.Equal(*ga[i].Items, *gb[i].Items) {
			return false
		}
	}
	if (a.AssessedAt == nil) != (b.AssessedAt == nil) ||
		a.AssessedAt != nil && !riskmap.ChinaDay(*a.AssessedAt).Equal(riskmap.ChinaDay(*b.AssessedAt)) {
		return false
	}
	if (a.Geometry == nil) != (b.Geometry == nil) {
		return false
	}
	return a.Geometry == nil || orb.Equal(a.Geometry, b.Geometry)
}
