package featurejson

import (
	"strconv"

	"riskmap/pkg/riskmap"
)

// factProperties are the properties of a unit Feature (Encode) that the facts an index keeps
// of a unit (riskmap.UnitFacts, with its id and version) say exactly.
var factProperties = map[string]bool{
	"code": true, "name": true, "category": true, "region_code": true, "grade": true,
	"grade_label": true, "responsible_department": true, "influence_radius_m": true,
	"status": true, "version": true, "inherent_grade": true, "current_grade": true,
}

// AppendSelectedFacts appends what AppendSelected(dst, Encode(u), keep) appends, written from
// the facts of u (riskmap.FactsOf) instead of its Feature, when every property keep names
// is one the facts hold; otherwise it returns dst and false. A list of units asking for such
// properties (properties=code,name,grade) is written without reading any unit's document.
func AppendSelectedFacts(dst []byte, id, version int64, f *riskmap.UnitFacts, keep map[string]bool) ([]byte, bool) {
	for k := range keep {
		if !factProperties[k] {
			return dst, false
		}
	}
	b := append(dst, `{"type":"Feature","id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"geometry":`...)
	b = appendGeometry(b, f.Geometry)
	b = append(b, `,"properties":{`...)
	first := true
	for _, name := range PropertyNames {
		if !keep[name] {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
		switch name {
		case "code":
			b = appendString(b, f.Code)
		case "name":
			b = appendString(b, f.Name)
		case "category":
			b = appendString(b, f.Category)
		case "region_code":
			b = appendString(b, f.RegionCode)
		case "grade", "current_grade":
			b = appendString(b, string(f.Grade))
		case "grade_label":
			b = appendString(b, f.Grade.Label())
		case "responsible_department":
			b = appendString(b, f.Department)
		case "influence_radius_m":
			b = appendFloat(b, f.InfluenceRadiusM)
		case "status":
			b = appendString(b, string(f.Status))
		case "version":
			b = strconv.AppendInt(b, version, 10)
		case "inherent_grade":
			b = appendString(b, string(f.InherentGrade))
		}
	}
	return append(b, "}}"...), true
}
