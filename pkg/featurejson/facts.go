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
	sel, ok := SelectFacts(keep)
	if !ok {
		return dst, false
	}
	return sel.Append(dst, id, version, f), true
}

// FactSelection is a selection of properties that the facts hold, resolved once for a
// list: writing a thousand units then looks up no names (a map lookup for each of the
// Feature's forty properties was a third of writing a small box's list).
type FactSelection []factField

type factField struct {
	key   string // "name":
	write factWriter
}

// SelectFacts resolves keep, in the Feature's order, when every property it names is one
// the facts hold (AppendSelectedFacts).
func SelectFacts(keep map[string]bool) (FactSelection, bool) {
	for k := range keep {
		if factProperties[k] == nil {
			return nil, false
		}
	}
	sel := FactSelection{}
	for _, name := range PropertyNames { // in the Feature's order
		if keep[name] {
			sel = append(sel, factField{`"` + name + `":`, factProperties[name]})
		}
	}
	return sel, true
}

// Append appends the unit's Feature with the selected properties.
func (sel FactSelection) Append(dst []byte, id, version int64, f *riskmap.UnitFacts) []byte {
	b := append(dst, `{"type":"Feature","id":`...)
	b = strconv.AppendInt(b, id, 10)
	b = append(b, `,"geometry":`...)
	b = appendGeometry(b, f.Geometry)
	b = append(b, `,"properties":{`...)
	for i, p := range sel {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, p.key...)
		b = p.write(b, version, f)
	}
	return append(b, "}}"...)
}
