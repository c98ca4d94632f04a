package gpkg

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"riskmap/pkg/riskmap"
)

// The JSON columns (accident_types, assessment, grade_explanation, controls) are decoded on
// every unit read, and encoding/json's reflection was most of the cost of streaming the
// register. These decoders read the shapes the store writes without reflection and, for
// plain strings, without copying; a string with escapes is unquoted by encoding/json on its
// own. Anything unexpected (an unknown or differently cased key, a non-integer where an int
// goes, invalid UTF-8 anywhere in the text) sends the column to encoding/json instead, so
// the result is always exactly what encoding/json would give.

// jsonReader reads JSON from s. The string lists it reads share the backing array arena
// (each cut with its own capacity, so an append to one copies it); one reader decoding all
// the columns of a row thus allocates their lists once.
type jsonReader struct {
	s     string
	i     int
	clean bool // s has no backslash and no control character: strings end at the next quote
	arena []string
}

// reset makes r read s, keeping its arena. It reports whether s is valid UTF-8: if it is
// not, encoding/json decides what the text means (it replaces invalid bytes in strings).
func (r *jsonReader) reset(s string) bool {
	r.s, r.i = s, 0
	var valid bool
	valid, r.clean = scanText(s)
	return valid
}

// scanText reports whether s is valid UTF-8, as utf8.ValidString does, and whether it has
// no backslash and no byte below 0x20, in one pass. Three-byte sequences, which make up
// Chinese text, are checked without decoding the rune.
func scanText(s string) (valid, clean bool) {
	clean = true
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '\\' {
				clean = false
			}
			i++
			continue
		}
		// E1–EC and EE–EF lead three-byte sequences whose continuation bytes may be any of
		// 80–BF (E0 and ED restrict the second byte).
		if (c >= 0xE1 && c <= 0xEC || c == 0xEE || c == 0xEF) && i+2 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80 {
			i += 3
			continue
		}
		_, n := utf8.DecodeRuneInString(s[i:])
		if n == 1 {
			return false, false
		}
		i += n
	}
	return true, clean
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

// str reads a string.
func (r *jsonReader) str() (string, bool) {
	if !r.next('"') {
		return "", false
	}
	start := r.i
	if r.clean {
		n := strings.IndexByte(r.s[start:], '"')
		if n < 0 {
			return "", false
		}
		r.i = start + n + 1
		return r.s[start : start+n], true
	}
	for r.i < len(r.s) {
		c := r.s[r.i]
		switch {
		case c == '"':
			v := r.s[start:r.i]
			r.i++
			return v, true
		case c == '\\':
			return r.escaped(start)
		case c < 0x20:
			return "", false // encoding/json refuses a raw control character
		}
		r.i++
	}
	return "", false
}

// escaped reads the rest of a string with escapes that starts at s[start], just after its
// opening quote. encoding/json unquotes it, so that \u escapes and surrogate pairs come out
// exactly as it decodes them in a whole document.
func (r *jsonReader) escaped(start int) (string, bool) {
	for i := start; i < len(r.s); i++ {
		switch r.s[i] {
		case '\\':
			i++ // the escaped character, which may be a quote
		case '"':
			var v string
			if json.Unmarshal([]byte(r.s[start-1:i+1]), &v) != nil {
				return "", false
			}
			r.i = i + 1
			return v, true
		}
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
	from := len(r.arena)
	if !r.next(']') {
		for {
			v, ok := r.str()
			if !ok {
				return nil, false
			}
			r.arena = append(r.arena, v)
			if r.next(']') {
				break
			}
			if !r.next(',') {
				return nil, false
			}
		}
	}
	if len(r.arena) == from {
		return []string{}, true // not nil: encoding/json gives an empty slice for []
	}
	return r.arena[from:len(r.arena):len(r.arena)], true
}

func decodeStrings(s string) ([]string, error) {
	var r jsonReader
	return r.stringList(s)
}

func decodeAssessment(s string, a *riskmap.Assessment) error {
	var r jsonReader
	return r.assessment(s, a)
}

func decodeExplanation(s string, e *riskmap.Explanation) error {
	var r jsonReader
	return r.explanation(s, e)
}

func decodeControls(s string, c *riskmap.Controls) error {
	var r jsonReader
	return r.controls(s, c)
}

// stringList decodes a JSON list of strings.
func (r *jsonReader) stringList(s string) ([]string, error) {
	if r.reset(s) {
		if v, ok := r.strings(); ok && r.end() {
			return v, nil
		}
	}
	var v []string
	err := json.Unmarshal([]byte(s), &v)
	return v, err
}

func (r *jsonReader) assessment(s string, a *riskmap.Assessment) error {
	var v riskmap.Assessment
	ok := r.reset(s) && r.object(func(k string) bool {
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

func (r *jsonReader) explanation(s string, e *riskmap.Explanation) error {
	var v riskmap.Explanation
	ok := r.reset(s) && r.object(func(k string) bool {
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
				v.Inputs = nil // as encoding/json does, also after an earlier "inputs"
				return true
			}
			if v.Inputs == nil { // a repeated "inputs" adds to the map, as in encoding/json
				v.Inputs = make(map[string]float64, 4)
			}
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

func (r *jsonReader) controls(s string, c *riskmap.Controls) error {
	var v riskmap.Controls
	ok := r.reset(s) && r.object(func(k string) bool {
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
