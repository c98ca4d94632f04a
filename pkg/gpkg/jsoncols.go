package gpkg

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"riskmap/pkg/riskmap"
)

// The JSON columns (accident_types, assessment, grade_explanation, controls) are decoded on
// every unit read, and encoding/json's reflection was most of the cost of streaming the
// register. These decoders read the shapes the store writes without reflection and, for
// plain strings, without copying. Anything unexpected (an unknown or differently cased key,
// an escape, a non-integer where an int goes, invalid UTF-8) sends the column to
// encoding/json instead, so the result is always exactly what encoding/json would give.

// jsonReader reads JSON from s.
type jsonReader struct {
	s string
	i int
}

func (r *jsonReader) ws() {
	for r.i < len(r.s) {
		switch r.s[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// next skips white space and consumes c if it comes next.
func (r *jsonReader) next(c byte) bool {
	r.ws()
	if r.i < len(r.s) && r.s[r.i] == c {
		r.i++
		return true
	}
	return false
}

// null consumes a null literal if it comes next.
func (r *jsonReader) null() bool {
	r.ws()
	if len(r.s)-r.i >= 4 && r.s[r.i:r.i+4] == "null" {
		r.i += 4
		return true
	}
	return false
}

// str reads a string without escapes; false for anything else.
func (r *jsonReader) str() (string, bool) {
	if !r.next('"') {
		return "", false
	}
	start := r.i
	for r.i < len(r.s) {
		c := r.s[r.i]
		switch {
		case c == '"':
			v := r.s[start:r.i]
			r.i++
			return v, utf8.ValidString(v)
		case c == '\\' || c < 0x20:
			return "", false
		}
		r.i++
	}
	return "", false
}

// token reads the characters a JSON number may contain.
func (r *jsonReader) token() string {
	r.ws()
	start := r.i
	for r.i < len(r.s) {
		c := r.s[r.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			r.i++
			continue
		}
		break
	}
	return r.s[start:r.i]
}

// validNumber reports whether t follows the JSON number grammar, which is stricter than
// strconv's (no leading +, no leading zeros, digits on both sides of the point).
func validNumber(t string) bool {
	i := 0
	if i < len(t) && t[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
			n++
		}
		return n
	}
	start := i
	n := digits()
	if n == 0 || (n > 1 && t[start] == '0') {
		return false
	}
	if i < len(t) && t[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(t)
}

// num reads a number.
func (r *jsonReader) num() (float64, bool) {
	t := r.token()
	if !validNumber(t) {
		return 0, false
	}
	f, err := strconv.ParseFloat(t, 64)
	return f, err == nil
}

// integer reads an integer literal, as encoding/json requires for an int field.
func (r *jsonReader) integer() (int, bool) {
	t := r.token()
	if !validNumber(t) {
		return 0, false
	}
	n, err := strconv.ParseInt(t, 10, 0)
	return int(n), err == nil
}

// end reports whether only white space remains.
func (r *jsonReader) end() bool {
	r.ws()
	return r.i == len(r.s)
}

// object reads {"key": value, ...}, calling field for each key; field reads the value.
func (r *jsonReader) object(field func(key string) bool) bool {
	if !r.next('{') {
		return false
	}
	if r.next('}') {
		return true
	}
	for {
		k, ok := r.str()
		if !ok || !r.next(':') || !field(k) {
			return false
		}
		if r.next('}') {
			return true
		}
		if !r.next(',') {
			return false
		}
	}
}

// strings reads null or an array of strings.
func (r *jsonReader) strings() ([]string, bool) {
	if r.null() {
		return nil, true
	}
	if !r.next('[') {
		return nil, false
	}
	out := []string{}
	if r.next(']') {
		return out, true
	}
	for {
		v, ok := r.str()
		if !ok {
			return nil, false
		}
		out = append(out, v)
		if r.next(']') {
			return out, true
		}
		if !r.next(',') {
			return nil, false
		}
	}
}

func decodeStrings(s string) ([]string, error) {
	r := jsonReader{s: s}
	if v, ok := r.strings(); ok && r.end() {
		return v, nil
	}
	var v []string
	err := json.Unmarshal([]byte(s), &v)
	return v, err
}

func decodeAssessment(s string, a *riskmap.Assessment) error {
	r := jsonReader{s: s}
	var v riskmap.Assessment
	ok := r.object(func(k string) bool {
		var ok bool
		switch k {
		case "method":
			v.Method, ok = r.str()
		case "likelihood":
			v.Likelihood, ok = r.integer()
		case "severity":
			v.Severity, ok = r.integer()
		case "l":
			v.L, ok = r.num()
		case "e":
			v.E, ok = r.num()
		case "c":
			v.C, ok = r.num()
		}
		return ok
	})
	if ok && r.end() {
		*a = v
		return nil
	}
	return json.Unmarshal([]byte(s), a)
}

func decodeExplanation(s string, e *riskmap.Explanation) error {
	r := jsonReader{s: s}
	var v riskmap.Explanation
	ok := r.object(func(k string) bool {
		var ok bool
		switch k {
		case "method":
			v.Method, ok = r.str()
		case "rule":
			v.Rule, ok = r.str()
		case "text":
			v.Text, ok = r.str()
		case "value":
			v.Value, ok = r.num()
		case "inputs":
			if r.null() {
				return true
			}
			v.Inputs = map[string]float64{}
			ok = r.object(func(k string) bool {
				f, ok := r.num()
				v.Inputs[k] = f
				return ok
			})
		}
		return ok
	})
	if ok && r.end() {
		*e = v
		return nil
	}
	return json.Unmarshal([]byte(s), e)
}

func decodeControls(s string, c *riskmap.Controls) error {
	r := jsonReader{s: s}
	var v riskmap.Controls
	ok := r.object(func(k string) bool {
		var ok bool
		switch k {
		case "engineering":
			v.Engineering, ok = r.strings()
		case "management":
			v.Management, ok = r.strings()
		case "training":
			v.Training, ok = r.strings()
		case "ppe":
			v.PPE, ok = r.strings()
		case "emergency":
			v.Emergency, ok = r.strings()
		}
		return ok
	})
	if ok && r.end() {
		*c = v
		return nil
	}
	return json.Unmarshal([]byte(s), c)
}
