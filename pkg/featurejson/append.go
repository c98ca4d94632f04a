package featurejson

import (
	"bytes"
	"strconv"
	"sync"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/jsonappend"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

// AppendFeature appends the unit's Feature to dst: the same bytes as
// json.Marshal(NewFeature(u)), several times faster, because the index encodes every unit
// when it loads (a million at start).
func AppendFeature(dst []byte, u *riskmap.Unit) []byte {
	return AppendFeatureOn(dst, u, riskmap.ChinaDay(Now()))
}

// AppendFeatureOn is AppendFeature on the day of today: json.Marshal(NewFeatureOn(u, today)).
func AppendFeatureOn(dst []byte, u *riskmap.Unit, today time.Time) []byte {
	b := appendFeatureHead(dst, u.ID, u.Geometry, u.Code, u.Name)
	b = appendPublicTexts(b, &u.PublicTexts)
	b = append(b, `,"category":`...)
	b = appendString(b, u.Category)
	b = append(b, `,"sub_category":`...)
	b = appendString(b, u.SubCategory)
	b = append(b, `,"region_code":`...)
	b = appendString(b, u.RegionCode)
	b = append(b, `,"address":`...)
	b = appendString(b, u.Address)
	b = append(b, `,"accident_types":`...)
	b = unitcodec.AppendStrings(b, u.AccidentTypes, unitcodec.HTMLSafe)
	b = append(b, `,"major_hazard_source":`...)
	if u.MajorHazardSource == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"level":`...)
		b = strconv.AppendInt(b, int64(u.MajorHazardSource.Level), 10)
		b = append(b, '}')
	}
	b = append(b, `,"major_risk_factors":`...)
	b = appendString(b, u.MajorRiskFactors)
	b = append(b, `,"assessment":`...)
	b = unitcodec.AppendAssessment(b, &u.Assessment, unitcodec.HTMLSafe)
	b = append(b, `,"direct_major_reason":`...)
	if u.DirectMajorReason == "" {
		b = append(b, "null"...)
	} else {
		b = appendString(b, u.DirectMajorReason)
	}
	b = append(b, `,"risk_value":`...)
	b = appendFloat(b, u.RiskValue)
	b = append(b, `,"grade":`...)
	b = appendString(b, string(u.Grade))
	b = append(b, `,"grade_label":`...)
	b = appendString(b, u.Grade.Label())
	b = append(b, `,"explanation":`...)
	b = unitcodec.AppendExplanation(b, &u.Explanation, unitcodec.HTMLSafe)
	b = append(b, `,"controls":`...)
	b = unitcodec.AppendControls(b, &u.Controls, unitcodec.HTMLSafe)
	b = append(b, `,"responsible_department":`...)
	b = appendString(b, u.ResponsibleDepartment)
	b = append(b, `,"responsible_unit":`...)
	b = appendString(b, u.ResponsibleUnit)
	b = append(b, `,"contact_person":`...)
	b = appendString(b, u.ContactPerson)
	b = append(b, `,"contact_phone":`...)
	b = appendString(b, u.ContactPhone)
	b = append(b, `,"influence_radius_m":`...)
	b = appendFloat(b, u.InfluenceRadiusM)
	b = append(b, `,"status":`...)
	b = appendString(b, string(u.Status))
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, u.Version, 10)
	b = append(b, `,"created_at":`...)
	b = appendTime(b, u.CreatedAt.UTC())
	b = append(b, `,"updated_at":`...)
	b = appendTime(b, u.UpdatedAt.UTC())
	b = append(b, `,"assessed_by":`...)
	b = appendString(b, u.AssessedBy)
	b = append(b, `,"assessed_at":`...)
	if u.AssessedAt == nil {
		b = append(b, "null"...)
	} else {
		b = appendTime(b, *u.AssessedAt)
	}
	b = append(b, `,"next_review_due":`...)
	if u.NextReviewDue == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = u.NextReviewDue.UTC().AppendFormat(b, time.DateOnly)
		b = append(b, '"')
	}
	b = append(b, `,"inherent_grade":`...)
	b = appendString(b, string(u.InherentOrGrade()))
	b = append(b, `,"current_grade":`...)
	b = appendString(b, string(u.Grade))
	b = append(b, `,"dynamic_explanation":`...)
	b = appendString(b, u.DynamicText())
	b = append(b, `,"conditions":[`...)
	for i, c := range u.Conditions {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"source":`...)
		b = appendString(b, c.Source)
		b = append(b, `,"ref":`...)
		b = appendString(b, c.Ref)
		b = append(b, `,"level":`...)
		b = appendString(b, c.Level)
		b = append(b, `,"since":`...)
		b = appendTime(b, c.Since)
		if c.Detail != "" {
			b = append(b, `,"detail":`...)
			b = appendString(b, c.Detail)
		}
		if c.Raises {
			b = append(b, `,"raises":true`...)
		}
		b = append(b, '}')
	}
	b = append(b, `],"open_hazards":`...)
	b = strconv.AppendInt(b, int64(u.OpenHazards), 10)
	b = append(b, `,"identified_at":`...)
	b = appendDate(b, u.IdentifiedAt)
	b = append(b, `,"reidentify_due":`...)
	b = appendDate(b, u.ReidentifyDue())
	b = appendDayTail(b, u.NextReviewDue, u.ReidentifyDue(), today)
	return append(b, "}}"...)
}

// appendDate appends a date as "YYYY-MM-DD", or null.
func appendDate(b []byte, t *time.Time) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.DateOnly)
	return append(b, '"')
}

// dayTailKey starts the properties of a Feature that depend on the day: they come last.
const dayTailKey = `,"review_state":"`

// appendDayTail appends the properties that depend on the day: review_state,
// review_overdue and reidentify_overdue.
func appendDayTail(b []byte, reviewDue, reidentifyDue *time.Time, today time.Time) []byte {
	st := riskmap.ReviewStateOf(reviewDue, today)
	b = append(b, dayTailKey...)
	b = append(b, st...)
	b = append(b, `","review_overdue":`...)
	b = strconv.AppendBool(b, st == riskmap.ReviewOverdue)
	b = append(b, `,"reidentify_overdue":`...)
	b = strconv.AppendBool(b, reidentifyDue != nil && riskmap.DayNumber(*reidentifyDue) < riskmap.DayNumber(today))
	return b
}

// Redate returns the Feature feature (as AppendFeature wrote it) as it reads on the day of
// today, and whether that differs: only review_state, review_overdue and
// reidentify_overdue depend on the day. reviewDue and reidentifyDue are the unit's day
// numbers (riskmap.ReviewDayOf) of its next review and its next full identification, 0 for
// none. A feature without those properties is returned as it is.
func Redate(feature []byte, reviewDue, reidentifyDue int32, today time.Time) ([]byte, bool) {
	i := bytes.LastIndex(feature, []byte(dayTailKey))
	if i < 0 {
		return feature, false
	}
	b := make([]byte, 0, len(feature)+8)
	b = appendDayTail(append(b, feature[:i]...), dayOf(reviewDue), dayOf(reidentifyDue), today)
	b = append(b, "}}"...)
	if bytes.Equal(b, feature) {
		return feature, false
	}
	return b, true
}

// dayOf is the date of a day number (riskmap.DayNumber), nil for 0.
func dayOf(n int32) *time.Time {
	if n == 0 {
		return nil
	}
	t := time.Unix(int64(n-1)*86400, 0).UTC()
	return &t
}

// AppendPublicFeature appends the unit's public Feature: json.Marshal(NewPublicFeature(…)).
func AppendPublicFeature(dst []byte, u *riskmap.Unit, categoryLabel, regionName string) []byte {
	b := appendFeatureStart(dst, u.ID, u.Geometry, u.Code)
	b = appendPublicTexts(b, &u.PublicTexts)
	return appendPublicRest(b, u.Category, categoryLabel, u.Grade, u.RegionCode, regionName)
}

// appendPublicRest appends the public Feature's properties after its texts, and its end.
func appendPublicRest(b []byte, category, categoryLabel string, grade riskmap.Grade, regionCode, regionName string) []byte {
	b = append(b, `,"category":`...)
	b = appendString(b, category)
	b = append(b, `,"category_label":`...)
	b = appendString(b, categoryLabel)
	b = append(b, `,"grade":`...)
	b = appendString(b, string(grade))
	b = append(b, `,"grade_label":`...)
	b = appendString(b, grade.Label())
	b = append(b, `,"region_code":`...)
	b = appendString(b, regionCode)
	b = append(b, `,"region_name":`...)
	b = appendString(b, regionName)
	return append(b, "}}"...)
}

// appendPublicTexts appends `,"name":"text"` for each public text of the unit.
func appendPublicTexts(b []byte, t *riskmap.PublicTexts) []byte {
	for _, f := range riskmap.PublicTextFields {
		b = append(b, `,"`...)
		b = append(b, f.Name...)
		b = append(b, `":`...)
		b = appendString(b, *f.Of(t))
	}
	return b
}

// appendFeatureStart appends a unit's Feature up to its first property, the code, which
// both the full and the public Feature start with.
func appendFeatureStart(b []byte, id int64, g orb.Geometry, code string) []byte {
	b = appendFeatureID(b, id)
	b = appendGeometry(b, g)
	b = append(b, propertiesCode...)
	return appendString(b, code)
}

// The literal parts of a Feature's start: before the id, between the id and the geometry,
// between the geometry and the code, and before the name of a full Feature.
const (
	featureOpen    = `{"type":"Feature","id":`
	geometryKey    = `,"geometry":`
	propertiesCode = `,"properties":{"code":`
	nameKey        = `,"name":`
)

// appendFeatureID appends a Feature's start up to its geometry.
func appendFeatureID(b []byte, id int64) []byte {
	b = append(b, featureOpen...)
	b = strconv.AppendInt(b, id, 10)
	return append(b, geometryKey...)
}

// appendCodeName appends the code's value, then the name's key and value.
func appendCodeName(b []byte, code, name string) []byte {
	b = appendString(b, code)
	b = append(b, nameKey...)
	return appendString(b, name)
}

// appendFeatureHead appends a unit's full Feature up to its second property, the name.
func appendFeatureHead(b []byte, id int64, g orb.Geometry, code, name string) []byte {
	b = appendFeatureStart(b, id, g, code)
	b = append(b, nameKey...)
	return appendString(b, name)
}

// AppendFeatureHead appends what AppendFeature(dst, u) begins with, written from the facts
// the register's index keeps of u (its id and riskmap.FactsOf): the id, the geometry, the
// code and the name. The index keeps the rest of each document only
// (spatialindex.Index.SetHead): those facts are there already.
func AppendFeatureHead(dst []byte, id int64, f *riskmap.UnitFacts) []byte {
	return appendFeatureHead(dst, id, f.Geometry, f.Code, f.Name)
}

// FeatureHeadLen returns the length of what AppendFeatureHead(_, id, f) writes when doc (a
// document of AppendFeature) begins with it, else 0: the id, the code and the name are
// compared; the geometry is not written again to be compared (it would cost what reading the
// document saves), only found: it is the facts' own geometry, written by the same function
// (AppendFeature's unit is the one riskmap.FactsOf made f from).
func FeatureHeadLen(doc []byte, id int64, f *riskmap.UnitFacts) int {
	var buf [96]byte
	b := appendFeatureID(buf[:0], id)
	if !bytes.HasPrefix(doc, b) {
		return 0
	}
	// A geometry holds numbers, brackets and its keys only: the properties' opening
	// cannot occur in it.
	g := bytes.Index(doc[len(b):], []byte(propertiesCode))
	if g < 0 {
		return 0
	}
	at := len(b) + g + len(propertiesCode)
	b = appendCodeName(buf[:0], f.Code, f.Name)
	if !bytes.HasPrefix(doc[at:], b) {
		return 0
	}
	return at + len(b)
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func appendGeometry(b []byte, g orb.Geometry) []byte {
	if g == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"type":"`...)
	b = append(b, g.GeoJSONType()...)
	b = append(b, `","coordinates":`...)
	switch g := g.(type) {
	case orb.Point:
		b = appendPoint(b, g)
	case orb.MultiPoint:
		b = appendPoints(b, g)
	case orb.LineString:
		b = appendPoints(b, g)
	case orb.MultiLineString:
		b = appendList(b, g, appendPoints[orb.LineString])
	case orb.Polygon:
		b = appendRings(b, g)
	case orb.MultiPolygon:
		b = appendList(b, g, appendRings)
	default:
		return append(b[:len(b)-len(`","coordinates":`)-len(g.GeoJSONType())-len(`{"type":"`)], "null"...)
	}
	return append(b, '}')
}

func appendRings(b []byte, p orb.Polygon) []byte { return appendList(b, p, appendPoints[orb.Ring]) }

func appendPoints[P ~[]orb.Point](b []byte, ps P) []byte { return appendList(b, ps, appendPoint) }

// appendList appends a JSON array of xs, each appended by appendOne.
func appendList[T any](b []byte, xs []T, appendOne func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendOne(b, x)
	}
	return append(b, ']')
}

func appendPoint(b []byte, p orb.Point) []byte {
	b = append(b, '[')
	b = appendFloat(b, p[0])
	b = append(b, ',')
	b = appendFloat(b, p[1])
	return append(b, ']')
}

func appendFloat(b []byte, f float64) []byte { return jsonappend.Float(b, f) }

func appendString(b []byte, s string) []byte { return jsonappend.String(b, s) }

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// Encode returns the unit's Feature as an exact-size slice, for keeping.
func Encode(u *riskmap.Unit) []byte {
	return encode(func(b []byte) []byte { return AppendFeature(b, u) })
}

// EncodePublic returns the unit's public Feature as an exact-size slice.
func EncodePublic(u *riskmap.Unit, categoryLabel, regionName string) []byte {
	return encode(func(b []byte) []byte { return AppendPublicFeature(b, u, categoryLabel, regionName) })
}

// encode returns what appendTo appends to an empty pooled buffer, as an exact-size slice.
func encode(appendTo func([]byte) []byte) []byte {
	p := bufPool.Get().(*[]byte)
	*p = appendTo((*p)[:0])
	out := bytes.Clone(*p)
	bufPool.Put(p)
	return out
}
