package featurejson

import (
	"strconv"

	"riskmap/pkg/riskmap"
)

// factWriter writes one property of a unit Feature (Encode) from the facts an index keeps of
// the unit (riskmap.UnitFacts, with its version).
type factWriter func(b []byte, version int64, f *riskmap.UnitFacts) []byte

// factProperties are the properties of a unit Feature that those facts say exactly, and how
// each is written.
var factProperties = map[string]factWriter{
	"code":                   func(b []byte, _ int64, f *riskmap.UnitFacts) []byte { return appendString(b, f.Code) },
	"name":                   func(b []byte, _ int64, f *riskmap.UnitFacts) []byte { return appendString(b, f.Name) },
	"category":               func(b []byte, _ int64, f *riskmap.UnitFacts) []byte { return appendString(b, f.Category) },
	"region_code":            func(b []byte, _ int64, f *riskmap.UnitFacts) []byte { return appendString(b, f.RegionCode) },
	"grade":                  func(b []byte, _ int64, f *riskmap.UnitFacts) []byte { return appendString(b, string(f.Grade)) },
	"current_grade":          func(b []byte, _ int64, f *riskmap.UnitFacts) []byte { return appendString(b, string(f.Grade)) },
	"grade_label":            func(b []byte, _ int64, f *riskmap.UnitFacts) []byte { return appendString(b, f.Grade.Label()) },
	"inherent_grade":         func(b []byte, _ int64, f *riskmap.UnitFacts) []byte { return appendString(b, string(f.InherentGrade)) },
	"responsible_department": func(b []byte, _ int64, f *riskmap.UnitFacts) []byte { return appendString(b, f.Department) },
	"influence_radius_m":     func(b []byte, _ int64, f *riskmap.UnitFacts) []byte { return appendFloat(b, f.InfluenceRadiusM) },
	"status":                 func(b []byte, _ int64, f *riskmap.UnitFacts) []byte { return appendString(b, string(f.Status)) },
	"version":                func(b []byte, v int64, _ *riskmap.UnitFacts) []byte { return strconv.AppendInt(b, v, 10) },
}

// AppendSelectedFacts appends what AppendSelected(dst, Encode(u), keep) appends, written from
// the facts of u (riskmap.FactsOf) instead of its Feature, when every property keep names
// is one the facts hold; otherwise it returns dst and false. A list of units asking for such
// properties (properties=code,name,grade) is written without reading any unit's document.
func AppendSelectedFacts(dst []byte, id, version int64, f *riskmap.UnitFacts, keep map[string]bool) ([]byte, bool) {
	for k := range keep {
		if factProperties[k] == nil {
			return dst, false
		}
	}
	b := append(dst, `{"type":"Feature","id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"geometry":`...)
	b = appendGeometry(b, f.Geometry)
	b = append(b, `,"properties":{`...)
	first := true
	for _, name := range PropertyNames { // in the Feature's order
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
		b = factProperties[name](b, version, f)
	}
	return append(b, "}}"...), true
}
