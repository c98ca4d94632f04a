package postgis

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/storetest"
)

// fill sets every field reachable from v to a random value, so that a field added to the
// domain shows up in the comparison with json.Marshal.
func fill(r *rand.Rand, v reflect.Value) {
	texts := []string{"", "LS", "风险矩阵 R = 4 × 5", `quote " back \ slash`, "<b>&amp;</b>", "tab\tnl\n\x01",
		"bad \xff utf8", "line\u2028sep\u2029", "emoji 🚒"}
	switch v.Kind() {
	case reflect.String:
		v.SetString(texts[r.IntN(len(texts))])
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(r.IntN(11) - 5))
	case reflect.Float64:
		fs := []float64{0, 1, 0.5, -3.25, 1e-7, 1e21, 123456789.125, math.Copysign(0, -1), 7}
		v.SetFloat(fs[r.IntN(len(fs))])
	case reflect.Slice:
		if r.IntN(4) == 0 {
			v.SetZero() // nil
			return
		}
		s := reflect.MakeSlice(v.Type(), r.IntN(4), 4)
		for i := range s.Len() {
			fill(r, s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		if r.IntN(4) == 0 {
			v.SetZero()
			return
		}
		m := reflect.MakeMap(v.Type())
		for range r.IntN(4) {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(r, k)
			fill(r, e)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(r, v.Field(i))
		}
	default:
		panic("fill: add a case for " + v.Kind().String())
	}
}

// marshalNoHTML is json.Marshal without HTML escaping, the form the json columns hold.
func marshalNoHTML(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// The hand-written JSON must be byte for byte what encoding/json writes without HTML
// escaping, and mean what json.Marshal means.
func TestJSONWritersMatchMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		var a riskmap.Assessment
		var e riskmap.Explanation
		var c riskmap.Controls
		fill(r, reflect.ValueOf(&a).Elem())
		fill(r, reflect.ValueOf(&e).Elem())
		fill(r, reflect.ValueOf(&c).Elem())
		check := func(what string, got []byte, err error, v any) {
			t.Helper()
			want, werr := marshalNoHTML(v)
			if err != nil || werr != nil || !bytes.Equal(got, want) {
				t.Fatalf("case %d %s:\n got %s (%v)\nwant %s (%v)", i, what, got, err, want, werr)
			}
			// It reads back as what json.Marshal writes does.
			back, viaMarshal := reflect.New(reflect.TypeOf(v)), reflect.New(reflect.TypeOf(v))
			m, _ := json.Marshal(v)
			if err := json.Unmarshal(got, back.Interface()); err != nil {
				t.Fatalf("case %d %s: %s does not read back: %v", i, what, got, err)
			}
			if err := json.Unmarshal(m, viaMarshal.Interface()); err != nil || !reflect.DeepEqual(back.Interface(), viaMarshal.Interface()) {
				t.Fatalf("case %d %s: %s reads back as %+v, json.Marshal's %s as %+v", i, what, got, back, m, viaMarshal)
			}
		}
		got, err := appendAssessmentJSON(nil, &a)
		check("assessment", got, err, a)
		got, err = appendExplanationJSON(nil, &e)
		check("explanation", got, err, e)
		check("controls", appendControlsJSON(nil, &c), nil, c)
	}
	t.Run("ErrNaN", func(t *testing.T) {
		if _, err := appendExplanationJSON(nil, &riskmap.Explanation{Value: math.NaN()}); err == nil {
			t.Fatal("NaN has no JSON form and must be refused")
		}
	})
}

// A unit loaded in bulk reads back exactly like one created singly.
func TestBulkRoundTrip(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	poly := orb.Polygon{{{102.90, 24.60}, {102.95, 24.60}, {102.95, 24.65}, {102.90, 24.65}, {102.90, 24.60}}}
	full := storetest.NewUnit("RT-FULL", poly)
	full.Name = `名称 "引号" \ <&> ` + "\t"
	full.Controls.PPE = []string{}
	full.Explanation.Inputs = map[string]float64{"l": 0.5, "e": 6, "c": 7, "tiny": 1e-9}
	local := time.FixedZone("CST", 8*3600)
	assessed := time.Date(2026, 3, 1, 23, 30, 0, 123456789, local)
	due := time.Date(2026, 9, 1, 0, 0, 0, 0, local)
	full.AssessedAt, full.NextReviewDue = &assessed, &due
	bare := storetest.NewUnit("RT-BARE", orb.MultiPoint{{1, 2}, {3, 4}})
	bare.MajorHazardSource, bare.AssessedAt, bare.NextReviewDue, bare.AccidentTypes = nil, nil, nil, nil
	bare.Controls, bare.Status = riskmap.Controls{}, ""
	bare.Assessment = riskmap.Assessment{Method: riskmap.MethodLEC, L: 0.5, E: 6, C: 7}

	want := []*riskmap.Unit{full, bare}
	created := make([]*riskmap.Unit, len(want))
	for i, u := range want {
		c := *u
		c.Code += "-SINGLE"
		if err := s.CreateUnit(ctx, &c); err != nil {
			t.Fatal(err)
		}
		created[i] = &c
	}
	if _, err := s.BulkInsertUnits(ctx, slices.Values(want), nil); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.FindUnits(ctx, riskmap.UnitFilter{Q: "RT-"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("want 4 units, got %d", len(got))
	}
	for i := range want {
		single, bulk := *got[i], *got[i+2]
		single.Code = bulk.Code
		single.ID, single.CreatedAt, single.UpdatedAt = 0, time.Time{}, time.Time{}
		bulk.ID, bulk.CreatedAt, bulk.UpdatedAt = 0, time.Time{}, time.Time{}
		if !reflect.DeepEqual(single, bulk) {
			sj, _ := json.Marshal(single)
			bj, _ := json.Marshal(bulk)
			t.Errorf("%s: bulk and single insert differ:\nsingle %s\n  bulk %s", want[i].Code, sj, bj)
		}
	}
	b := got[2]
	if !b.AssessedAt.Equal(assessed.Truncate(time.Microsecond)) || b.NextReviewDue.Format(time.DateOnly) != "2026-09-01" {
		t.Errorf("times: assessed %v, due %v", b.AssessedAt, b.NextReviewDue)
	}
	if got[3].Status != riskmap.StatusDraft || got[3].Version != 1 {
		t.Errorf("a unit without status is a draft at version 1, got %s v%d", got[3].Status, got[3].Version)
	}
}
