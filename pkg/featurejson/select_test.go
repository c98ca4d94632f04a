package featurejson_test

import (
	"encoding/json"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"riskmap/pkg/config"
	"riskmap/pkg/featurejson"
	"riskmap/pkg/riskmap"
)

// decoded is a Feature as a client reads it.
type decoded struct {
	Type       string                     `json:"type"`
	ID         int64                      `json:"id"`
	Geometry   json.RawMessage            `json:"geometry"`
	Properties map[string]json.RawMessage `json:"properties"`
}

func decodeFeature(t *testing.T, b []byte) decoded {
	t.Helper()
	var d decoded
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("not a Feature: %v\n%s", err, b)
	}
	return d
}

// The names a selection may use are exactly the keys the encoders write.
func TestPropertyNamesAreTheEncodersKeys(t *testing.T) {
	u, _ := featurejson.DecodeUnit([]byte(good))
	config.Default().Grader.Grade(u)
	for name, c := range map[string]struct {
		feature []byte
		names   []string
	}{
		"internal": {featurejson.Encode(u), featurejson.PropertyNames},
		"public":   {featurejson.EncodePublic(u, "危险化学品", "凤麓街道"), featurejson.PublicPropertyNames},
	} {
		keys := slices.Sorted(maps.Keys(decodeFeature(t, c.feature).Properties))
		if want := slices.Sorted(slices.Values(c.names)); !slices.Equal(keys, want) {
			t.Fatalf("%s: the encoder writes %v, the names are %v", name, keys, want)
		}
	}
	if slices.Contains(featurejson.PublicPropertyNames, "name") || slices.Contains(featurejson.PublicPropertyNames, "contact_phone") {
		t.Fatal("the public names must not include what the public never sees")
	}
}

// A selection keeps type, id, geometry and the properties named, with the values the full
// Feature has; nothing else.
func TestAppendSelected(t *testing.T) {
	sels := []map[string]bool{{}, {"code": true}, {"grade": true, "name": true}, {"conditions": true, "explanation": true, "controls": true},
		{"reidentify_overdue": true, "code": true}, {"no_such": true}}
	all := map[string]bool{}
	for _, n := range featurejson.PropertyNames {
		all[n] = true
	}
	sels = append(sels, all)
	i := int64(0)
	for u := range synthUnits(t, 9, 300) {
		i++
		u.ID, u.Version = i, 1
		u.CreatedAt, u.UpdatedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		if i%3 == 0 {
			u.DirectMajorReason = "直接判定 {\"}\\\"]"
			u.Conditions = []riskmap.Condition{{Source: "hazard", Ref: "YH-1", Level: "major", Since: u.CreatedAt, Detail: "}],{\"", Raises: true}}
		}
		full := featurejson.Encode(u)
		want := decodeFeature(t, full)
		for _, keep := range sels {
			got := decodeFeature(t, featurejson.AppendSelected([]byte("prefix"), full, keep)[len("prefix"):])
			if got.Type != "Feature" || got.ID != u.ID || string(got.Geometry) != string(want.Geometry) {
				t.Fatalf("selection %v changed the Feature around the properties: %+v", keep, got)
			}
			for k := range keep {
				if w, ok := want.Properties[k]; ok && string(got.Properties[k]) != string(w) {
					t.Fatalf("selection %v: %s is %s, want %s", keep, k, got.Properties[k], w)
				}
			}
			for k := range got.Properties {
				if !keep[k] {
					t.Fatalf("selection %v kept %s", keep, k)
				}
			}
		}
	}
	// Something the encoders never write is passed on as it is.
	for _, odd := range []string{`{"type":"Feature"}`, `{"type":"Feature","id":1,"geometry":null,"properties":{"a":"unterminated`} {
		if got := featurejson.AppendSelected(nil, []byte(odd), map[string]bool{"a": true}); string(got) != odd {
			t.Fatalf("%s became %s", odd, got)
		}
	}
}

func BenchmarkAppendSelected(b *testing.B) {
	u, _ := featurejson.DecodeUnit([]byte(good))
	config.Default().Grader.Grade(u)
	full := featurejson.Encode(u)
	keep := map[string]bool{"code": true, "name": true, "grade": true}
	b.ReportAllocs()
	buf := make([]byte, 0, 4096)
	for i := 0; i < b.N; i++ {
		buf = featurejson.AppendSelected(buf[:0], full, keep)
	}
}

// Whatever text a unit holds (quotes, backslashes, brackets), a selection keeps the values
// the full Feature has.
func FuzzAppendSelected(f *testing.F) {
	for _, s := range []string{`a`, `\`, `\\"`, `"}]`, `\\\"\\`, "名称\\\"{[", "\x00\u2028"} {
		f.Add(s)
	}
	u0, _ := featurejson.DecodeUnit([]byte(good))
	config.Default().Grader.Grade(u0)
	f.Fuzz(func(t *testing.T, s string) {
		u := *u0
		u.Name, u.DirectMajorReason, u.Address = s, s, s+`"`
		full := featurejson.Encode(&u)
		want := decodeFeature(t, full)
		for _, keep := range []map[string]bool{{"name": true}, {"address": true, "grade": true}, {"direct_major_reason": true, "code": true}} {
			got := decodeFeature(t, featurejson.AppendSelected(nil, full, keep))
			for k := range keep {
				if w, ok := want.Properties[k]; ok && string(got.Properties[k]) != string(w) {
					t.Fatalf("selection %v: %s is %s, want %s", keep, k, got.Properties[k], w)
				}
			}
			if len(got.Properties) > len(keep) {
				t.Fatalf("selection %v kept %v", keep, got.Properties)
			}
		}
	})
}

// A selection of what the index keeps of a unit, written from those facts, is byte for byte
// the selection from the unit's Feature; a selection naming anything else is left to the
// Feature.
func TestAppendSelectedFacts(t *testing.T) {
	facts := []string{"code", "name", "category", "region_code", "grade", "grade_label", "responsible_department",
		"influence_radius_m", "status", "version", "inherent_grade", "current_grade"}
	rng := rand.New(rand.NewPCG(1, 2))
	i := 0
	for u := range synthUnits(t, 11, 2000) {
		i++
		switch i % 4 {
		case 1: // raised by an open condition: the inherent grade differs from the grade
			u.InherentGrade, u.Grade = u.Grade, riskmap.GradeRed
		case 2: // what JSON must escape
			u.Name, u.ResponsibleDepartment = `<b>"甲"&乙</b>`+"\u2028\x01", "应急\\局"
		case 3:
			u.InfluenceRadiusM = 1234.5678
		}
		doc := featurejson.Encode(u)
		keep := map[string]bool{}
		for _, n := range facts {
			if rng.IntN(3) == 0 {
				keep[n] = true
			}
		}
		want := featurejson.AppendSelected(nil, doc, keep)
		got, ok := featurejson.AppendSelectedFacts([]byte("x"), u.ID, u.Version, new(riskmap.FactsOf(u)), keep)
		if !ok || string(got) != "x"+string(want) {
			t.Fatalf("unit %d, %v:\nfacts   %s\nfeature %s", u.ID, slices.Sorted(maps.Keys(keep)), got, want)
		}
		keep["controls"] = true
		if got, ok := featurejson.AppendSelectedFacts([]byte("x"), u.ID, u.Version, new(riskmap.FactsOf(u)), keep); ok || string(got) != "x" {
			t.Fatalf("a property the facts do not hold was written from them: %s", got)
		}
	}
}
