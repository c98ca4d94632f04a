package unitcodec

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"riskmap/pkg/riskmap"
)

// FuzzAppendRead writes every field of the three documents and of a list of strings with
// the appender, in both escapings, holds the bytes to what encoding/json writes (with empty
// lists as []), and reads them back with the Reader, untrusted and trusted, on its fast
// path, as encoding/json reads them. Both stores write through the appender, so this is
// the round trip of both.
func FuzzAppendRead(f *testing.F) {
	f.Add("LS", "R ≥ 20 → red", "风险矩阵 R = 4 × 5 = 20", "likelihood", "储罐区,<b>&amp;</b>", 4, 5, 0.5, 6.0, 7.0, 20.0, uint16(0x2d7))
	f.Add("LEC", "160 < D ≤ 320", "quote \" back \\ slash", "l", "tab\tnl\n\x01,,a,b,c,d,e,f,g,h,i", 0, 0, 1e-7, 1e21, -3.25, math.Copysign(0, -1), uint16(0))
	f.Add("", "", "", "", "", -5, 99999, 0.0, 0.0, 0.0, 123456789.125, uint16(0xffff))
	f.Add("L\u2028S", "bad \xff utf8", "emoji 🚒", "\u2029", "a,,b", 1, 1, 5e-324, math.MaxFloat64, 24.675612, 1e-9, uint16(0x155))
	f.Fuzz(func(t *testing.T, method, rule, text, key, items string, likelihood, severity int, l, e, c, value float64, shape uint16) {
		// A field added to a document must be added here and to the appender.
		for _, n := range []struct {
			v    any
			want int
		}{{riskmap.Assessment{}, 6}, {riskmap.Explanation{}, 5}, {riskmap.Controls{}, 5}} {
			if got := reflect.TypeOf(n.v).NumField(); got != n.want {
				t.Fatalf("%T has %d fields, the test knows %d: write the new ones in append.go and set them here", n.v, got, n.want)
			}
		}
		a := riskmap.Assessment{Method: method, Likelihood: likelihood, Severity: severity, L: l, E: e, C: c}
		ex := riskmap.Explanation{Method: method, Value: value, Rule: rule, Text: text}
		if shape&1 != 0 {
			ex.Inputs = map[string]float64{key: l, "severity": c}
			for _, k := range strings.Split(items, ",") { // as many inputs as items
				ex.Inputs[k] = e
			}
		} else if shape&2 != 0 {
			ex.Inputs = map[string]float64{}
		}
		if Finite(&a, &ex) != nil {
			if (math.IsNaN(l) || math.IsInf(l, 0)) || (math.IsNaN(e) || math.IsInf(e, 0)) ||
				(math.IsNaN(c) || math.IsInf(c, 0)) || (math.IsNaN(value) || math.IsInf(value, 0)) {
				return // refused, as encoding/json refuses them
			}
			t.Fatalf("Finite refused finite numbers %v %v %v %v", l, e, c, value)
		}
		list := func(bits uint16) []string {
			switch bits & 3 {
			case 0:
				return nil
			case 1:
				return []string{}
			case 2:
				return strings.Split(items, ",")
			}
			return []string{rule, text, key}
		}
		ctl := riskmap.Controls{Engineering: list(shape >> 2), Management: list(shape >> 4), Training: list(shape >> 6),
			PPE: list(shape >> 8), Emergency: list(shape >> 10)}
		accidents := list(shape >> 12)

		for _, esc := range []Escaping{Stored, HTMLSafe} {
			checkRoundTrip(t, "assessment", esc, a, AppendAssessment(nil, &a, esc), (*Reader).Assessment, (*Reader).assessment)
			checkRoundTrip(t, "explanation", esc, ex, AppendExplanation(nil, &ex, esc), (*Reader).Explanation, (*Reader).explanation)
			checkRoundTrip(t, "controls", esc, ctl, AppendControls(nil, &ctl, esc), (*Reader).Controls, (*Reader).controls)
			checkRoundTrip(t, "strings", esc, accidents, AppendStrings(nil, accidents, esc),
				func(r *Reader, s string, v *[]string) (err error) { *v, err = r.Strings(s); return err },
				func(r *Reader, v *[]string) (ok bool) { *v, ok = r.strings(); return ok && r.end() })
		}
	})
}

// checkRoundTrip holds written, the appender's text of v, to encoding/json's text of v with
// empty lists as [] and the same escaping, and reads it back with both Reader modes, on the
// fast path and through the exported method, as what encoding/json reads from it.
func checkRoundTrip[T any](t *testing.T, what string, esc Escaping, v T, written []byte,
	read func(*Reader, string, *T) error, fast func(*Reader, *T) bool) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(bool(esc))
	if err := enc.Encode(emptyLists(v)); err != nil {
		t.Fatalf("%s: encoding/json: %v", what, err)
	}
	if want := bytes.TrimSuffix(buf.Bytes(), []byte("\n")); !bytes.Equal(written, want) {
		t.Fatalf("%s (html %v):\n got %s\nwant %s", what, esc, written, want)
	}
	var want T
	if err := json.Unmarshal(written, &want); err != nil {
		t.Fatalf("%s: encoding/json cannot read %s: %v", what, written, err)
	}
	for _, trusted := range []bool{false, true} {
		var got T
		r := Reader{Trusted: trusted}
		if !r.reset(string(written)) || !fast(&r, &got) {
			t.Fatalf("%s (trusted %v): the fast path gave up on %s", what, trusted, written)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s (trusted %v) %s: fast path read %#v, encoding/json %#v", what, trusted, written, got, want)
		}
		got = *new(T)
		r = Reader{Trusted: trusted}
		if err := read(&r, string(written), &got); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s (trusted %v) %s: read %#v (%v), encoding/json %#v", what, trusted, written, got, err, want)
		}
	}
}

// emptyLists returns v with its nil lists of strings made empty, as the appender writes
// them.
func emptyLists[T any](v T) any {
	switch x := any(v).(type) {
	case riskmap.Controls:
		for _, g := range x.Groups() {
			if *g.Items == nil {
				*g.Items = []string{}
			}
		}
		return x
	case []string:
		if x == nil {
			return []string{}
		}
	}
	return v
}

// The stores refuse what JSON cannot write instead of storing a document nobody reads.
func TestEncodeDocuments(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		u := &riskmap.Unit{Assessment: riskmap.Assessment{Method: "LS", Likelihood: 4, Severity: 5},
			Explanation: riskmap.Explanation{Method: "LS", Inputs: map[string]float64{"severity": 5, "likelihood": 4}, Value: 20, Rule: "R ≥ 20 → red", Text: "<重大>"},
			Controls:    riskmap.Controls{PPE: []string{"配备正压式空气呼吸器"}}}
		d, err := EncodeDocuments(u)
		if err != nil {
			t.Fatal(err)
		}
		want := Documents{
			Assessment:  `{"method":"LS","likelihood":4,"severity":5}`,
			Explanation: `{"method":"LS","inputs":{"likelihood":4,"severity":5},"value":20,"rule":"R ≥ 20 → red","text":"<重大>"}`,
			Controls:    `{"engineering":[],"management":[],"training":[],"ppe":["配备正压式空气呼吸器"],"emergency":[]}`,
		}
		if d != want {
			t.Fatalf("got  %+v\nwant %+v", d, want)
		}
	})
	for _, u := range []*riskmap.Unit{
		{Assessment: riskmap.Assessment{Method: "LEC", L: math.NaN()}},
		{Explanation: riskmap.Explanation{Value: math.Inf(1)}},
		{Explanation: riskmap.Explanation{Inputs: map[string]float64{"c": math.Inf(-1)}}},
	} {
		t.Run("ErrNotFinite", func(t *testing.T) {
			if _, err := EncodeDocuments(u); riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Fatalf("want EINVALID, got %v", err)
			}
		})
	}
}
