package gpkg

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"riskmap/pkg/riskmap"
)

// jsonColumnSamples are column texts the fast decoders must read exactly as encoding/json
// does: what the store writes, and what other programs may write.
var jsonColumnSamples = []string{
	`{"method":"LS","likelihood":4,"severity":5}`,
	`{"method":"LEC","l":0.5,"e":6,"c":7}`,
	`{"method":"LS","inputs":{"likelihood":4,"severity":5},"value":20,"rule":"R ≥ 20 → red","text":"风险矩阵 R = 4 × 5 = 20"}`,
	`{"engineering":["储罐区设置可燃气体检测报警"],"management":null,"training":[],"ppe":["a","b"],"emergency":null}`,
	`["fire","explosion"]`,
	`[]`,
	`null`,
	` { "method" : "LS" , "likelihood" : 1 } `,
	`{"Method":"LS"}`,                     // another case: encoding/json matches it anyway
	`{"method":"L\"S","text":"a\u00e9b"}`, // escapes
	`{"likelihood":4.0}`,                  // not an int literal: encoding/json refuses it
	`{"likelihood":1e2}`,
	`{"value":-0.5e-3,"inputs":{}}`,
	`{"value":01}`,
	`{"value":+1}`,
	`{"inputs":null}`,
	`{"unknown":[1,2,{"x":null}]}`,
	`{"method":"LS"`,
	`{"method":"LS"} x`,
	`["a",null]`,
	`["a","b",]`,
	"[\"\xff\"]",
	`{"engineering":"not a list"}`,
	`{"likelihood":99999999999999999999}`,
	`{"inputs":{"a":1},"inputs":{"b":2}}`, // encoding/json merges repeated objects into a map
	`{"inputs":{"a":1},"inputs":null}`,
	`{"engineering":["a"],"engineering":["b","c"],"ppe":["x"],"ppe":null}`,
	`{"text":"\u003cb\u003e \ud83d\ude92 \ud800 \"q\" \\","rule":"a\/b"}`, // escapes, a lone surrogate
	`{"method":"\u004cS"}`,
	`{"metho\u0064":"LS"}`, // an escaped key
	`["\n\t","plain","\"",""]`,
	"{\"text\":\"raw\ttab\"}", // a raw control character: encoding/json refuses it
	"{\"text\":\"bad \xff utf8\"}",
	`{"text":"unterminated \"}`,
}

// TestJSONColumnsMatchEncodingJSON checks that every fast decoder gives encoding/json's
// result, error or not.
func TestJSONColumnsMatchEncodingJSON(t *testing.T) {
	for _, s := range jsonColumnSamples {
		t.Run("OK", func(t *testing.T) { checkJSONColumns(t, s) })
	}
}

func checkJSONColumns(t *testing.T, s string) {
	t.Helper()
	compare := func(name string, got any, gotErr error, want any, wantErr error) {
		t.Helper()
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("%s(%q): error %v, encoding/json says %v", name, s, gotErr, wantErr)
		}
		if gotErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%s(%q): got %#v, encoding/json gives %#v", name, s, got, want)
		}
	}
	var a, wa riskmap.Assessment
	compare("assessment", a, decodeAssessment(s, &a), wa, json.Unmarshal([]byte(s), &wa))
	var e, we riskmap.Explanation
	compare("explanation", e, decodeExplanation(s, &e), we, json.Unmarshal([]byte(s), &we))
	var c, wc riskmap.Controls
	compare("controls", c, decodeControls(s, &c), wc, json.Unmarshal([]byte(s), &wc))
	var wl []string
	l, err := decodeStrings(s)
	compare("strings", l, err, wl, json.Unmarshal([]byte(s), &wl))
}

// FuzzJSONColumns holds the fast decoders to encoding/json on any input.
func FuzzJSONColumns(f *testing.F) {
	for _, s := range jsonColumnSamples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkJSONColumns(t, s) })
}

// scanText must agree with utf8.ValidString and find every backslash and control byte.
func FuzzScanText(f *testing.F) {
	for _, s := range append(jsonColumnSamples, "", "\xe0\x80\x80", "\xed\xa0\x80", "\xef\xbf\xbf", "\xf0\x9f\x9a\x92",
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
