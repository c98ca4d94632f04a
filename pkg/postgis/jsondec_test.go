package postgis

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"

	"riskmap/pkg/riskmap"
)

// jsonSeeds are documents as PostgreSQL prints jsonb back (keys reordered, ", " and ": "),
// as encoding/json writes them, and the odd ones the fast decoders must hand over.
var jsonSeeds = []string{
	`{"method": "LS", "severity": 5, "likelihood": 4}`,
	`{"c": 7, "e": 6, "l": 0.5, "method": "LEC"}`,
	`{"method":"LEC","l":0.1,"e":0.5,"c":100}`,
	`{"rule": "R ≥ 20 → red", "text": "风险矩阵 R = 4 × 5 = 20 ≥ 20,判定为重大风险", "value": 20, "inputs": {"severity": 5, "likelihood": 4}, "method": "LS"}`,
	`{"rule": "", "text": "", "value": 0, "method": ""}`,
	`{"inputs": null, "value": 1e2}`,
	`{"ppe": ["配备正压式空气呼吸器"], "training": [], "emergency": null, "management": ["a", "b"], "engineering": ["储罐区设置可燃气体检测报警"]}`,
	`{"ppe": null, "training": null, "emergency": null, "management": null, "engineering": null}`,
	`{"text": "他说\"快跑\"", "value": 3}`,
	`{"Method": "LS"}`,
	`{"method": "LS", "likelihood": 4.0}`,
	`{"method": "LS", "likelihood": 4, "extra": true}`,
	`{"value": -0.0, "inputs": {"a": 1, "a": 2}}`,
	`{"engineering": ["x"], "engineering": ["y", "z"]}`,
	`{"method": "\u004cS"}`,
	`{"text": "bad \xff utf8"}`,
	`null`, `{}`, ` { } `, `[]`, `{"method": "LS"`, `{"method": "LS"} x`, ``,
	`{"inputs": {"a": 1}, "inputs": {"b": 2}}`, `{"inputs": {"a": 1}, "inputs": null}`,
	`{"engineering": ["a"], "engineering": ["b", "c"], "ppe": ["x"], "ppe": null}`,
	`{"text": "\u003cb\u003e \ud83d\ude92 \ud800 \"q\" \\", "rule": "a\/b"}`,
	`{"metho\u0064": "LS"}`, `{"ppe": ["\n\t", "plain", "\"", ""]}`,
	"{\"text\": \"raw\ttab\"}", `{"text": "unterminated \"}`,
	`{"method":"LS","inputs":{"likelihood":1,"severity":4},"value":4,"rule":"4 ≤ R < 10 → yellow","text":"R = 1 × 4 = 4"}`,
}

// The fast decoders must give exactly what encoding/json gives, or the same error.
func TestJSONDecodersMatchEncodingJSON(t *testing.T) {
	for _, doc := range jsonSeeds {
		checkJSONDecoders(t, []byte(doc))
	}
}

func FuzzJSONDecoders(f *testing.F) {
	for _, doc := range jsonSeeds {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) { checkJSONDecoders(t, doc) })
}

func checkJSONDecoders(t *testing.T, doc []byte) {
	t.Helper()
	same := func(what string, gotErr, wantErr error, got, want any) {
		t.Helper()
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("%s %q: error %v, encoding/json says %v", what, doc, gotErr, wantErr)
		}
		if wantErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%s %q:\n got %#v\nwant %#v", what, doc, got, want)
		}
	}
	var a, wa riskmap.Assessment
	same("assessment", decodeAssessment(doc, &a), json.Unmarshal(doc, &wa), a, wa)
	var e, we riskmap.Explanation
	same("explanation", decodeExplanation(doc, &e), json.Unmarshal(doc, &we), e, we)
	var c, wc riskmap.Controls
	same("controls", decodeControls(doc, &c), json.Unmarshal(doc, &wc), c, wc)

	// Text a UTF-8 server has checked as json: the trusted reader, one for the three
	// documents of a row as decodeRow uses it, must agree with encoding/json when it
	// takes the document at all.
	if !json.Valid(doc) || !utf8.Valid(doc) {
		return
	}
	jr := jsonReader{trusted: true, arena: make([]string, 0, 2)}
	fast := func(what string, ok bool, got, want any) {
		t.Helper()
		if ok && !reflect.DeepEqual(got, want) {
			t.Fatalf("trusted %s %q:\n got %#v\nwant %#v", what, doc, got, want)
		}
	}
	var ta riskmap.Assessment
	fast("assessment", jr.reset(string(doc), doc).assessment(&ta), ta, wa)
	var te riskmap.Explanation
	fast("explanation", jr.reset(string(doc), doc).explanation(&te), te, we)
	var tc riskmap.Controls
	fast("controls", jr.reset(string(doc), doc).controls(&tc), tc, wc)
}

// What json.Marshal writes, the fast path must read without falling back.
func TestJSONDecodersFastPath(t *testing.T) {
	u := &riskmap.Unit{
		Assessment:  riskmap.Assessment{Method: riskmap.MethodLEC, L: 0.5, E: 6, C: 7},
		Explanation: riskmap.Explanation{Method: "LEC", Inputs: map[string]float64{"l": 0.5}, Value: 21, Rule: "D ≤ 70", Text: "低风险"},
		Controls:    riskmap.Controls{Engineering: []string{"一", "二"}, PPE: []string{}},
	}
	ab, _ := json.Marshal(u.Assessment)
	eb, _ := json.Marshal(u.Explanation)
	cb, _ := json.Marshal(u.Controls)
	var a riskmap.Assessment
	var e riskmap.Explanation
	var c riskmap.Controls
	if !(&jsonReader{b: ab, s: string(ab)}).assessment(&a) ||
		!(&jsonReader{b: eb, s: string(eb)}).explanation(&e) ||
		!(&jsonReader{b: cb, s: string(cb)}).controls(&c) {
		t.Fatalf("the fast path gave up on json.Marshal output: %s %s %s", ab, eb, cb)
	}
	if a != u.Assessment || !reflect.DeepEqual(e, u.Explanation) || !reflect.DeepEqual(c, u.Controls) {
		t.Fatalf("fast path: got %+v %+v %+v", a, e, c)
	}
}
