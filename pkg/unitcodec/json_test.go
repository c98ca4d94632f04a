package unitcodec

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"riskmap/pkg/riskmap"
)

// jsonSeeds are documents as the stores write them, as PostgreSQL prints jsonb back (keys
// reordered, ", " and ": "), as other programs may write them into a GeoPackage, and the
// odd ones the Reader must hand over to encoding/json.
var jsonSeeds = []string{
	`{"method":"LS","likelihood":4,"severity":5}`,
	`{"method":"LEC","l":0.5,"e":6,"c":7}`,
	`{"method": "LS", "severity": 5, "likelihood": 4}`,
	`{"c": 7, "e": 6, "l": 0.5, "method": "LEC"}`,
	`{"method":"LEC","l":0.1,"e":0.5,"c":100}`,
	`{"method":"LS","inputs":{"likelihood":4,"severity":5},"value":20,"rule":"R ≥ 20 → red","text":"风险矩阵 R = 4 × 5 = 20"}`,
	`{"rule": "R ≥ 20 → red", "text": "风险矩阵 R = 4 × 5 = 20 ≥ 20,判定为重大风险", "value": 20, "inputs": {"severity": 5, "likelihood": 4}, "method": "LS"}`,
	`{"method":"LS","inputs":{"likelihood":1,"severity":4},"value":4,"rule":"4 ≤ R < 10 → yellow","text":"R = 1 × 4 = 4"}`,
	`{"rule": "", "text": "", "value": 0, "method": ""}`,
	`{"engineering":["储罐区设置可燃气体检测报警"],"management":null,"training":[],"ppe":["a","b"],"emergency":null}`,
	`{"ppe": ["配备正压式空气呼吸器"], "training": [], "emergency": null, "management": ["a", "b"], "engineering": ["储罐区设置可燃气体检测报警"]}`,
	`{"ppe": null, "training": null, "emergency": null, "management": null, "engineering": null}`,
	`["fire","explosion"]`, `[]`, `null`, `{}`, ` { } `, ``,
	` { "method" : "LS" , "likelihood" : 1 } `,
	`{"Method":"LS"}`, // another case: encoding/json matches it anyway
	`{"method":"L\"S","text":"a\u00e9b"}`,
	`{"text": "他说\"快跑\"", "value": 3}`,
	`{"likelihood":4.0}`, // not an int literal: encoding/json refuses it
	`{"method": "LS", "likelihood": 4.0}`,
	`{"likelihood":1e2}`,
	`{"likelihood":-0}`,
	`{"likelihood":99999999999999999999}`,
	`{"likelihood":9007199254740993}`, // beyond 2⁵³: exact as an int, not as a float
	`{"value":-0.5e-3,"inputs":{}}`,
	`{"value": -0.0, "inputs": {"a": 1, "a": 2}}`,
	`{"value":1e400}`,
	`{"value":01}`, `{"value":+1}`, `{"value":.5}`, `{"value":1.}`, `{"value":1e}`,
	`{"inputs": null, "value": 1e2}`,
	`{"inputs":{"a":null}}`,
	`{"unknown":[1,2,{"x":null}]}`,
	`{"method": "LS", "likelihood": 4, "extra": true}`,
	`{"method":"LS"`, `{"method":"LS"} x`, `{"method":"LS",}`, `{,"method":"LS"}`, `{"method" "LS"}`,
	`["a",null]`, `["a","b",]`, `["a" "b"]`, "[\"\xff\"]",
	`{"engineering":"not a list"}`,
	`{"inputs":{"a":1},"inputs":{"b":2}}`, // encoding/json merges repeated objects into a map
	`{"inputs":{"a":1},"inputs":null}`,
	`{"engineering":["x"],"engineering":["y","z"]}`,
	`{"engineering":["a"],"engineering":["b","c"],"ppe":["x"],"ppe":null}`,
	`{"text":"\u003cb\u003e \ud83d\ude92 \ud800 \"q\" \\","rule":"a\/b"}`, // escapes, a lone surrogate
	`{"method":"\u004cS"}`,
	`{"metho\u0064":"LS"}`, // an escaped key
	`["\n\t","plain","\"",""]`,
	`{"ppe": ["\n\t", "plain", "\"", ""]}`,
	"{\"text\":\"raw\ttab\"}", // a raw control character: encoding/json refuses it
	"{\"text\":\"bad \xff utf8\"}",
	"{\"text\":\"ok\"} \xff",
	`{"text":"unterminated \"}`,
}

// The Reader gives exactly what encoding/json gives, or an error where it gives one.
func TestReaderMatchesEncodingJSON(t *testing.T) {
	for _, doc := range jsonSeeds {
		t.Run("OK", func(t *testing.T) { checkDocuments(t, []byte(doc)) })
	}
}

// FuzzDocuments holds the Reader to encoding/json on any text, field by field, for every
// document and list it reads: text other programs may have written into a GeoPackage, or
// rows written before the stores wrote through the appender. (What the stores write is
// FuzzAppendRead's.)
func FuzzDocuments(f *testing.F) {
	for _, doc := range jsonSeeds {
		f.Add([]byte(doc))
	}
	f.Fuzz(checkDocuments)
}

func checkDocuments(t *testing.T, doc []byte) {
	s := string(doc)
	same := func(what string, got any, gotErr error, want any, wantErr error) {
		t.Helper()
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("%s %q: error %v, encoding/json says %v", what, doc, gotErr, wantErr)
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%s %q:\n got %#v\nwant %#v", what, doc, got, want)
		}
	}
	var a, wa riskmap.Assessment
	aerr := json.Unmarshal(doc, &wa)
	same("assessment", a, DecodeAssessment(s, &a), wa, aerr)
	var e, we riskmap.Explanation
	eerr := json.Unmarshal(doc, &we)
	same("explanation", e, DecodeExplanation(s, &e), we, eerr)
	var c, wc riskmap.Controls
	cerr := json.Unmarshal(doc, &wc)
	same("controls", c, DecodeControls(s, &c), wc, cerr)
	var wl []string
	lerr := json.Unmarshal(doc, &wl)
	l, err := DecodeStrings(s)
	same("strings", l, err, wl, lerr)

	// Text a UTF-8 server has checked as json: the trusted reader, one for the documents
	// of a row as the PostGIS store uses it, agrees with encoding/json.
	if json.Valid(doc) && utf8.Valid(doc) {
		r := Reader{Trusted: true}
		var ta riskmap.Assessment
		same("trusted assessment", ta, r.Assessment(s, &ta), wa, aerr)
		var te riskmap.Explanation
		same("trusted explanation", te, r.Explanation(s, &te), we, eerr)
		var tc riskmap.Controls
		same("trusted controls", tc, r.Controls(s, &tc), wc, cerr)
		tl, err := r.Strings(s)
		same("trusted strings", tl, err, wl, lerr)
	}
}

// What json.Marshal writes, the fast path reads without handing over to encoding/json.
func TestReaderFastPath(t *testing.T) {
	u := &riskmap.Unit{
		Assessment:  riskmap.Assessment{Method: riskmap.MethodLEC, L: 0.5, E: 6, C: 7},
		Explanation: riskmap.Explanation{Method: "LEC", Inputs: map[string]float64{"l": 0.5}, Value: 21, Rule: "D ≤ 70", Text: "低风险"},
		Controls:    riskmap.Controls{Engineering: []string{"一", "二"}, PPE: []string{}},
	}
	ab, _ := json.Marshal(u.Assessment)
	eb, _ := json.Marshal(u.Explanation)
	cb, _ := json.Marshal(u.Controls)
	for _, trusted := range []bool{false, true} {
		r := Reader{Trusted: trusted}
		var a riskmap.Assessment
		var e riskmap.Explanation
		var c riskmap.Controls
		if !r.reset(string(ab)) || !r.assessment(&a) || !r.reset(string(eb)) || !r.explanation(&e) ||
			!r.reset(string(cb)) || !r.controls(&c) {
			t.Fatalf("the fast path (trusted %v) gave up on json.Marshal output: %s %s %s", trusted, ab, eb, cb)
		}
		if a != u.Assessment || !reflect.DeepEqual(e, u.Explanation) || !reflect.DeepEqual(c, u.Controls) {
			t.Fatalf("fast path (trusted %v): got %+v %+v %+v", trusted, a, e, c)
		}
	}
}

// The Decode functions give encoding/json's result into a zero value, whatever the target
// held before.
func TestDecodeOverwrites(t *testing.T) {
	for _, doc := range []string{`{"method":"LS"}`, `{"method":"LS","extra":1}`} {
		a := riskmap.Assessment{Method: "LEC", L: 1, E: 2, C: 3}
		if err := DecodeAssessment(doc, &a); err != nil || a != (riskmap.Assessment{Method: "LS"}) {
			t.Fatalf("DecodeAssessment(%s) over an earlier value = %+v, %v", doc, a, err)
		}
	}
}

// scanText agrees with utf8.ValidString and finds every backslash and control byte.
func FuzzScanText(f *testing.F) {
	for _, s := range append(jsonSeeds, "", "\xe0\x80\x80", "\xed\xa0\x80", "\xef\xbf\xbf", "\xf0\x9f\x9a\x92",
		"\xee\x80", "中\\文", "a\tb", "\xf4\x90\x80\x80", "\xc0\xaf") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		valid, clean := scanText(s)
		if valid != utf8.ValidString(s) {
			t.Fatalf("scanText(%q) valid = %v, utf8.ValidString says %v", s, valid, !valid)
		}
		want := !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == '\\' })
		if valid && clean != want {
			t.Fatalf("scanText(%q) clean = %v, want %v", s, clean, want)
		}
	})
}

// FuzzConditions: stored conditions (which another program may have written into a
// GeoPackage) decode without panicking, and what encodes decodes back the same.
func FuzzConditions(f *testing.F) {
	f.Add(`[{"source":"hazard","ref":"YH-2026-000001","level":"major","since":"2026-11-01T00:00:00Z","raises":true}]`)
	f.Add(`[]`)
	f.Add(`null`)
	f.Add(`[{"since":"not a time"}]`)
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := DecodeConditions(s)
		if err != nil {
			return
		}
		back, err := DecodeConditions(EncodeConditions(cs))
		if err != nil || len(back) != len(cs) {
			t.Fatalf("%q: decoded %+v, again %+v (%v)", s, cs, back, err)
		}
	})
}
