package unitcodec

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"riskmap/pkg/riskmap"
)

// Reading the register back is dominated by decoding the JSON documents: with
// encoding/json they cost more than everything else of a row together. The Reader reads
// the shapes json.Marshal writes for these structs (compact, as the stores write them, or
// as PostgreSQL prints jsonb back, with keys reordered and white space), and every string
// value without escapes is a substring of the document's text, so a document costs no
// more than its lists and map. A string with escapes is unquoted by encoding/json on its
// own. Anything else, such as an unknown or differently cased key, a number that does not
// fit the field, or invalid UTF-8, makes it give up, and encoding/json decodes the
// document instead. So the result is always what json.Unmarshal gives into a zero value.

// Reader reads the JSON documents of a unit. The zero Reader reads any text.
//
// The lists of strings it reads share one backing array (each is cut with its own
// capacity, so an append to one copies it): use one Reader for the documents of one unit,
// and a new one for the next, so that a unit does not keep another's lists alive.
type Reader struct {
	// Trusted says that the text is a json or jsonb value from a PostgreSQL server whose
	// encoding is UTF-8: the server has checked that it is valid UTF-8 and valid JSON, so
	// the reader need not look for raw control characters or invalid UTF-8, which
	// encoding/json would reject or replace.
	Trusted bool

	s     string
	i     int
	clean bool // no backslash and no control character: a string ends at the next quote
	arena []string
}

// DecodeAssessment decodes an assessment document into a, as json.Unmarshal does into a
// zero Assessment.
func DecodeAssessment(s string, a *riskmap.Assessment) error {
	var r Reader
	return r.Assessment(s, a)
}

// DecodeExplanation decodes a grade explanation document into e.
func DecodeExplanation(s string, e *riskmap.Explanation) error {
	var r Reader
	return r.Explanation(s, e)
}

// DecodeControls decodes a controls document into c.
func DecodeControls(s string, c *riskmap.Controls) error {
	var r Reader
	return r.Controls(s, c)
}

// DecodeStrings decodes a JSON list of strings (or null, which is nil).
func DecodeStrings(s string) ([]string, error) {
	var r Reader
	return r.Strings(s)
}

// Assessment decodes an assessment document into a, as json.Unmarshal does into a zero
// Assessment.
func (r *Reader) Assessment(s string, a *riskmap.Assessment) error {
	*a = riskmap.Assessment{}
	if r.reset(s) && r.assessment(a) {
		return nil
	}
	return unmarshalZero(s, a)
}

// Explanation decodes a grade explanation document into e, as json.Unmarshal does into a
// zero Explanation.
func (r *Reader) Explanation(s string, e *riskmap.Explanation) error {
	*e = riskmap.Explanation{}
	if r.reset(s) && r.explanation(e) {
		return nil
	}
	return unmarshalZero(s, e)
}

// Controls decodes a controls document into c, as json.Unmarshal does into zero Controls.
func (r *Reader) Controls(s string, c *riskmap.Controls) error {
	*c = riskmap.Controls{}
	if r.reset(s) && r.controls(c) {
		return nil
	}
	return unmarshalZero(s, c)
}

// unmarshalZero decodes s into the zero value of *v with encoding/json, for when the
// Reader has given up on s.
func unmarshalZero[T any](s string, v *T) error {
	var zero T
	*v = zero
	return json.Unmarshal([]byte(s), v)
}

// Strings decodes a JSON list of strings, as json.Unmarshal does into a nil slice.
func (r *Reader) Strings(s string) ([]string, error) {
	if r.reset(s) {
		if v, ok := r.strings(); ok && r.end() {
			return v, nil
		}
	}
	var v []string
	err := json.Unmarshal([]byte(s), &v)
	return v, err
}

// reset makes r read s, keeping its arena. It reports false when s is not valid UTF-8:
// encoding/json then decides what the text means (it replaces invalid bytes in strings).
func (r *Reader) reset(s string) bool {
	r.s, r.i = s, 0
	if r.Trusted {
		r.clean = strings.IndexByte(s, '\\') < 0
		return true
	}
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

func (r *Reader) ws() {
	for r.i < len(r.s) {
		switch r.s[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// eat consumes c after optional white space.
func (r *Reader) eat(c byte) bool {
	r.ws()
	if r.i < len(r.s) && r.s[r.i] == c {
		r.i++
		return true
	}
	return false
}

// null consumes a null literal if it comes next.
func (r *Reader) null() bool {
	r.ws()
	if len(r.s)-r.i >= 4 && r.s[r.i:r.i+4] == "null" {
		r.i += 4
		return true
	}
	return false
}

// str reads a string.
func (r *Reader) str() (string, bool) {
	if !r.eat('"') {
		return "", false
	}
	start := r.i
	n := strings.IndexByte(r.s[start:], '"')
	if n < 0 {
		return "", false
	}
	if !r.clean {
		raw := r.s[start : start+n]
		if strings.IndexByte(raw, '\\') >= 0 {
			return r.escaped(start)
		}
		if !r.Trusted {
			for i := 0; i < len(raw); i++ {
				if raw[i] < 0x20 {
					return "", false // a raw control character: encoding/json refuses it
				}
			}
		}
	}
	r.i = start + n + 1
	return r.s[start : start+n], true
}

// escaped reads the rest of a string with escapes that starts at s[start], just after its
// opening quote. encoding/json unquotes it, so that \u escapes, surrogate pairs and
// invalid UTF-8 come out exactly as it decodes them in a whole document.
func (r *Reader) escaped(start int) (string, bool) {
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

// number reads the text of a number of JSON's grammar,
// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, and reports whether it is an integer
// literal (no fraction, no exponent).
func (r *Reader) number() (t string, integer, ok bool) {
	r.ws()
	s, start := r.s, r.i
	i := start
	digits := func() bool {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case !digits():
		return "", false, false
	}
	integer = true
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return "", false, false
		}
		integer = false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return "", false, false
		}
		integer = false
	}
	r.i = i
	return s[start:i], integer, true
}

// num reads a number that fits a float64.
func (r *Reader) num() (float64, bool) {
	t, _, ok := r.number()
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(t, 64)
	return f, err == nil
}

// integer reads an integer literal that fits an int, as encoding/json requires for an int
// field (it refuses 4.0 and 1e2).
func (r *Reader) integer() (int, bool) {
	t, integer, ok := r.number()
	if !ok || !integer {
		return 0, false
	}
	n, err := strconv.ParseInt(t, 10, 0)
	return int(n), err == nil
}

// key reads the next key of an object and its colon. first is true right after the
// opening brace. done reports the closing brace.
func (r *Reader) key(first bool) (key string, done, ok bool) {
	if r.eat('}') {
		return "", true, true
	}
	if !first && !r.eat(',') {
		return "", false, false
	}
	key, ok = r.str()
	return key, false, ok && r.eat(':')
}

// end reports whether only white space is left.
func (r *Reader) end() bool {
	r.ws()
	return r.i == len(r.s)
}

// strings reads null or an array of strings.
func (r *Reader) strings() ([]string, bool) {
	if r.null() {
		return nil, true
	}
	if !r.eat('[') {
		return nil, false
	}
	from := len(r.arena)
	if !r.eat(']') {
		for {
			s, ok := r.str()
			if !ok {
				return nil, false
			}
			if r.arena == nil {
				r.arena = make([]string, 0, 12) // the lists of one unit's controls, as a rule
			}
			r.arena = append(r.arena, s)
			if r.eat(',') {
				continue
			}
			if !r.eat(']') {
				return nil, false
			}
			break
		}
	}
	if len(r.arena) == from {
		return []string{}, true // not nil: encoding/json gives an empty slice for []
	}
	return r.arena[from:len(r.arena):len(r.arena)], true
}

func (r *Reader) assessment(a *riskmap.Assessment) bool {
	return r.document(func(key string) (ok bool) {
		switch key {
		case "method":
			a.Method, ok = r.str()
		case "likelihood":
			a.Likelihood, ok = r.integer()
		case "severity":
			a.Severity, ok = r.integer()
		case "l":
			a.L, ok = r.num()
		case "e":
			a.E, ok = r.num()
		case "c":
			a.C, ok = r.num()
		}
		return ok
	})
}

func (r *Reader) explanation(e *riskmap.Explanation) bool {
	return r.document(func(key string) (ok bool) {
		switch key {
		case "method":
			e.Method, ok = r.str()
		case "value":
			e.Value, ok = r.num()
		case "rule":
			e.Rule, ok = r.str()
		case "text":
			e.Text, ok = r.str()
		case "inputs":
			e.Inputs, ok = r.inputs(e.Inputs)
		}
		return ok
	})
}

// document reads an object that is the whole text, handing each key to field, which reads
// its value and reports whether it could; an unknown key is one it cannot read.
func (r *Reader) document(field func(key string) bool) bool {
	if !r.eat('{') {
		return false
	}
	for first := true; ; first = false {
		key, done, ok := r.key(first)
		if done || !ok {
			return ok && r.end()
		}
		if !field(key) {
			return false
		}
	}
}

// inputs reads null (nil, also after an earlier "inputs", as encoding/json does) or an
// object of numbers into m (a repeated "inputs" adds to the map, as in encoding/json).
func (r *Reader) inputs(m map[string]float64) (map[string]float64, bool) {
	if r.null() {
		return nil, true
	}
	if !r.eat('{') {
		return nil, false
	}
	if m == nil {
		m = make(map[string]float64, 4)
	}
	for first := true; ; first = false {
		key, done, ok := r.key(first)
		if done || !ok {
			return m, ok
		}
		v, ok := r.num()
		if !ok {
			return nil, false
		}
		m[key] = v
	}
}

func (r *Reader) controls(c *riskmap.Controls) bool {
	return r.document(func(key string) (ok bool) {
		switch key {
		case "engineering":
			c.Engineering, ok = r.strings()
		case "management":
			c.Management, ok = r.strings()
		case "training":
			c.Training, ok = r.strings()
		case "ppe":
			c.PPE, ok = r.strings()
		case "emergency":
			c.Emergency, ok = r.strings()
		}
		return ok
	})
}
