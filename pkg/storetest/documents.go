package storetest

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// testDocuments holds both stores to one reading of every field: a unit with every field
// set, and one with its lists empty (nil and empty alike) and its pointers nil, read back
// by every read path after every write path, are the unit written, field for field,
// whichever store keeps it. An empty group of controls reads as [] (not nil: what
// encoding/json reads from the [] both stores write); empty accident types read as nil
// (PostGIS keeps them as text[], the GeoPackage as [], which it does not decode).
func testDocuments(t *testing.T, open Opener) {
	s := open(t)
	full := NewUnit("DOC-FULL", orb.Polygon{{{102.90, 24.60}, {102.95, 24.60}, {102.95, 24.65}, {102.90, 24.65}, {102.90, 24.60}}})
	full.Name = `名称 "引号" \ <&> ` + "\t\u2028"
	full.AccidentTypes = []string{"fire", "<&>", `"q"`, "中毒和窒息"}
	full.Assessment = riskmap.Assessment{Method: riskmap.MethodLEC, L: 0.5, E: 6, C: 7}
	full.DirectMajorReason = "构成一级重大危险源"
	full.Explanation = riskmap.Explanation{Method: "LEC", Inputs: map[string]float64{"l": 0.5, "e": 6, "c": 7, "tiny": 1e-9},
		Value: 21, Rule: "20 < D ≤ 70 → blue", Text: `D = 0.5 × 6 × 7 = 21 "低" <风险> & \`}
	full.Controls = riskmap.Controls{Engineering: []string{"a", "b"}, Management: []string{""}, Training: []string{"<training>"},
		PPE: []string{"配备正压式空气呼吸器"}, Emergency: []string{"编制专项应急预案", "\t"}}
	bare := NewUnit("DOC-BARE", orb.MultiPoint{{102.91, 24.61}, {102.92, 24.62}})
	bare.MajorHazardSource, bare.AssessedAt, bare.NextReviewDue = nil, nil, nil
	bare.AccidentTypes = nil
	bare.Controls = riskmap.Controls{Engineering: nil, Management: []string{}, Training: nil, PPE: []string{}, Emergency: nil}
	bare.Explanation.Inputs = nil
	bare.DirectMajorReason, bare.MajorRiskFactors, bare.AssessedBy, bare.InfluenceRadiusM = "", "", "", 0
	emptied := NewUnit("DOC-EMPTIED", orb.LineString{{102.9, 24.6}, {102.91, 24.61}})

	// want is u as every store reads it back.
	want := func(u *riskmap.Unit) *riskmap.Unit {
		w := *u
		if len(w.AccidentTypes) == 0 {
			w.AccidentTypes = nil
		}
		for _, g := range w.Controls.Groups() {
			if *g.Items == nil {
				*g.Items = []string{}
			}
		}
		return &w
	}
	check := func(t *testing.T, how string, u *riskmap.Unit, got *riskmap.Unit) {
		t.Helper()
		w, g := *want(u), *got
		w.ID, w.Version, w.CreatedAt, w.UpdatedAt = g.ID, g.Version, g.CreatedAt, g.UpdatedAt
		if !orb.Equal(w.Geometry, g.Geometry) {
			t.Errorf("%s %s: geometry: want %v, got %v", how, u.Code, w.Geometry, g.Geometry)
		}
		w.Geometry, g.Geometry = nil, nil
		for _, p := range [][2]**time.Time{{&w.AssessedAt, &g.AssessedAt}, {&w.NextReviewDue, &g.NextReviewDue}} {
			if *p[0] != nil && *p[1] != nil && (*p[0]).Equal(**p[1]) {
				*p[0], *p[1] = nil, nil
			}
		}
		if !reflect.DeepEqual(w, g) {
			wj, _ := json.Marshal(w)
			gj, _ := json.Marshal(g)
			t.Errorf("%s %s reads back otherwise:\nwant %s\n got %s\nwant %#v\n got %#v", how, u.Code, wj, gj,
				[]any{w.AccidentTypes, w.Controls, w.Explanation.Inputs}, []any{g.AccidentTypes, g.Controls, g.Explanation.Inputs})
		}
	}

	// Written singly, in bulk, and by an update that empties every list.
	var written []*riskmap.Unit
	for _, u := range []*riskmap.Unit{full, bare} {
		c := *u
		c.Code += "-SINGLE"
		must(t, s.CreateUnit(ctx(), &c))
		written = append(written, &c)
	}
	must(t, s.CreateUnit(ctx(), emptied))
	up := *bare
	up.Code, up.ID, up.Version = emptied.Code, emptied.ID, emptied.Version
	up.Geometry = emptied.Geometry
	must(t, s.UpdateUnit(ctx(), &up))
	written = append(written, &up)
	var bulk []*riskmap.Unit
	for _, u := range []*riskmap.Unit{full, bare} {
		c := *u
		c.Code += "-BULK"
		bulk = append(bulk, &c)
	}
	if _, err := s.BulkInsertUnits(ctx(), slices.Values(bulk), nil); err != nil {
		t.Fatal(err)
	}
	written = append(written, bulk...)

	byCode := map[string]*riskmap.Unit{}
	for _, u := range written {
		byCode[u.Code] = u
	}
	seen := func(how string, got *riskmap.Unit) {
		u, ok := byCode[got.Code]
		if !ok {
			t.Fatalf("%s: a unit nobody wrote: %q", how, got.Code)
		}
		check(t, how, u, got)
	}
	found, n, err := s.FindUnits(ctx(), riskmap.UnitFilter{Q: "DOC-"})
	must(t, err)
	if n != len(written) {
		t.Fatalf("want %d units, found %d", len(written), n)
	}
	t.Run("FindUnits", func(t *testing.T) {
		for _, u := range found {
			seen("FindUnits", u)
		}
	})
	t.Run("GetUnit", func(t *testing.T) {
		for _, f := range found {
			got, err := s.GetUnit(ctx(), f.ID)
			must(t, err)
			seen("GetUnit", got)
		}
	})
	t.Run("Units", func(t *testing.T) {
		n := 0
		for u, err := range s.Units(ctx()) {
			must(t, err)
			seen("Units", u)
			n++
		}
		if n != len(written) {
			t.Fatalf("Units read %d units, want %d", n, len(written))
		}
	})
}
