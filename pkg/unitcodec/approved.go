package unitcodec

import "riskmap/pkg/riskmap"

// ApprovedTargets are the Scan destinations of a row of the approved register (or of a
// publication's units) as both stores select it: unit_id, version, code, name, category,
// region_code, grade into grade, risk_value, the geometry's bytes into geom, approved_by,
// approved_at into at (a store's nullable time), then the public texts.
func ApprovedTargets(a *riskmap.ApprovedUnit, grade *string, geom *[]byte, at any) []any {
	dest := []any{&a.UnitID, &a.Version, &a.Code, &a.Name, &a.Category, &a.RegionCode, grade, &a.RiskValue,
		geom, &a.ApprovedBy, at}
	return AppendPublicTargets(dest, &a.PublicTexts)
}
