package postgis

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	"riskmap/pkg/riskmap"
)

// Reading the register back is dominated by decoding the three JSON columns: with
// encoding/json they cost more than everything else of a row together. The decoders below
// read the shapes json.Marshal writes for these structs (compact, as riskmap stores them in
// json columns, or as PostgreSQL prints jsonb back, with keys reordered and white space),
// and every string value without escapes is a substring of one copy of the document, so a
// document costs one allocation plus its slices and map. A string with escapes is unquoted
// by encoding/json on its own. Anything else, such as an unknown or differently cased key
// or a number that does not fit the field, makes them give up, and encoding/json decodes
// the document instead. So the result is always what json.Unmarshal gives.

// decodeAssessment decodes an assessment document into a.
func decodeAssessment(b []byte, a *riskmap.Assessment) error {
	if d := (jsonReader{b: b, s: string(b)}); d.assessment(a) {
		return nil
	}
	*a = riskmap.Assessment{}
	return json.Unmarshal(b, a)
}

// decodeExplanation decodes a grade explanation document into e.
func decodeExplanation(b []byte, e *riskmap.Explanation) error {
	if d := (jsonReader{b: b, s: string(b)}); d.explanation(e) {
		return nil
	}
	*e = riskmap.Explanation{}
	return json.Unmarshal(b, e)
}

// decodeControls decodes a controls document into c.
func decodeControls(b []byte, c *riskmap.Controls) error {
	if d := (jsonReader{b: b, s: string(b)}); d.controls(c) {
		return nil
	}
	*c = riskmap.Controls{}
	return json.Unmarshal(b, c)
}

// jsonReader walks one document. b and s hold the same bytes: b to look at, s to slice
// string values from without copying.
//
// trusted says that the document is the text of a json or jsonb value from a server whose
// encoding is UTF-8: the server has checked that it is valid UTF-8 and valid JSON, so the
// reader need not look for raw control characters or invalid UTF-8 in strings, which
// encoding/json would reject or replace.
//
// arena is where arrays of strings are collected: the arrays read by one reader share its
// backing array (each is cut with its own capacity, so an append to one copies it).
type jsonReader struct {
	b       []byte
	s       string
	i       int
	trusted bool
	clean   bool // trusted and without a backslash: a string ends at the next quote
	arena   []string
}

// reset makes d read the document b, whose text is also s.
func (d *jsonReader) reset(s string, b []byte) *jsonReader {
	d.b, d.s, d.i = b, s, 0
	d.clean = d.trusted && bytes.IndexByte(b, '\\') < 0
	return d
}

func (d *jsonReader) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// eat consumes c after optional white space.
func (d *jsonReader) eat(c byte) bool {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *jsonReader) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// str reads a string.
func (d *jsonReader) str() (string, bool) {
	if !d.eat('"') {
		return "", false
	}
	start := d.i
	n := bytes.IndexByte(d.b[start:], '"')
	if n < 0 {
		return "", false
	}
	if d.clean {
		d.i = start + n + 1
		return d.s[start : start+n], true
	}
	raw := d.b[start : start+n]
	if bytes.IndexByte(raw, '\\') >= 0 {
		return d.escaped(start)
	}
	if !d.trusted {
		for _, c := range raw {
			if c < 0x20 {
				return "", false // a raw control character: encoding/json refuses it
			}
		}
		// encoding/json replaces invalid UTF-8; give such text to it.
		if !utf8.Valid(raw) {
			return "", false
		}
	}
	d.i = start + n + 1
	return d.s[start : start+n], true
}

// escaped reads the rest of a string with escapes that starts at b[start], just after its
// opening quote. encoding/json unquotes it, so that \u escapes, surrogate pairs and
// invalid UTF-8 come out exactly as it decodes them in a whole document.
func (d *jsonReader) escaped(start int) (string, bool) {
	for i := start; i < len(d.b); i++ {
		switch d.b[i] {
		case '\\':
			i++ // the escaped character, which may be a quote
		case '"':
			var s string
			if json.Unmarshal(d.b[start-1:i+1], &s) != nil {
				return "", false
			}
			d.i = i + 1
			return s, true
		}
	}
	return "", false
}

func (d *jsonReader) null() bool {
	d.ws()
	if len(d.b)-d.i >= 4 && d.s[d.i:d.i+4] == "null" {
		d.i += 4
		return true
	}
	return false
}

// num reads a number of JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *jsonReader) num() (float64, bool) {
	d.ws()
	b, start := d.b, d.i
	i := start
	digits := func() bool {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return 0, false
		}
	}
	d.i = i
	f, err := strconv.ParseFloat(d.s[start:i], 64)
	return f, err == nil
}

// integer reads a number that must be a whole number in the range of int.
func (d *jsonReader) integer() (int, bool) {
	d.ws()
	start := d.i
	f, ok := d.num()
	if !ok {
		return 0, false
	}
	for _, c := range d.b[start:d.i] { // json.Unmarshal rejects 4.0 for an int field
		if c == '.' || c == 'e' || c == 'E' {
			return 0, false
		}
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int(f), true
}

// key reads the next key of an object and its colon. first is true right after the
// opening brace. done reports the closing brace.
func (d *jsonReader) key(first bool) (key string, done, ok bool) {
	if d.eat('}') {
		return "", true, true
	}
	if !first && !d.eat(',') {
		return "", false, false
	}
	key, ok = d.str()
	return key, false, ok && d.eat(':')
}

// end reports whether only white space is left.
func (d *jsonReader) end() bool {
	d.ws()
	return d.i == len(d.b)
}

func (d *jsonReader) strings() ([]string, bool) {
	if d.null() {
		return nil, true
	}
	if !d.eat('[') {
		return nil, false
	}
	from := len(d.arena)
	if !d.eat(']') {
		for {
			s, ok := d.str()
			if !ok {
				return nil, false
			}
			d.arena = append(d.arena, s)
			if d.eat(',') {
				continue
			}
			if !d.eat(']') {
				return nil, false
			}
			break
		}
	}
	if len(d.arena) == from {
		return []string{}, true // not nil: encoding/json gives an empty slice for []
	}
	return d.arena[from:len(d.arena):len(d.arena)], true
}

func (d *jsonReader) assessment(a *riskmap.Assessment) bool {
	if !d.eat('{') {
		return false
	}
	for first := true; ; first = false {
		key, done, ok := d.key(first)
		if done || !ok {
			return ok && d.end()
		}
		switch key {
		case "method":
			a.Method, ok = d.str()
		case "likelihood":
			a.Likelihood, ok = d.integer()
		case "severity":
			a.Severity, ok = d.integer()
		case "l":
			a.L, ok = d.num()
		case "e":
			a.E, ok = d.num()
		case "c":
			a.C, ok = d.num()
		default:
			ok = false
		}
		if !ok {
			return false
		}
	}
}

func (d *jsonReader) explanation(e *riskmap.Explanation) bool {
	if !d.eat('{') {
		return false
	}
	for first := true; ; first = false {
		key, done, ok := d.key(first)
		if done || !ok {
			return ok && d.end()
		}
		switch key {
		case "method":
			e.Method, ok = d.str()
		case "value":
			e.Value, ok = d.num()
		case "rule":
			e.Rule, ok = d.str()
		case "text":
			e.Text, ok = d.str()
		case "inputs":
			e.Inputs, ok = d.inputs(e.Inputs)
		default:
			ok = false
		}
		if !ok {
			return false
		}
	}
}

// inputs reads an object of numbers into m (merging, as encoding/json does).
func (d *jsonReader) inputs(m map[string]float64) (map[string]float64, bool) {
	if d.null() {
		return nil, true
	}
	if !d.eat('{') {
		return nil, false
	}
	if m == nil {
		m = make(map[string]float64, 4)
	}
	for first := true; ; first = false {
		key, done, ok := d.key(first)
		if done || !ok {
			return m, ok
		}
		v, ok := d.num()
		if !ok {
			return nil, false
		}
		m[key] = v
	}
}

func (d *jsonReader) controls(c *riskmap.Controls) bool {
	if !d.eat('{') {
		return false
	}
	for first := true; ; first = false {
		key, done, ok := d.key(first)
		if done || !ok {
			return ok && d.end()
		}
		switch key {
		case "engineering":
			c.Engineering, ok = d.strings()
		case "management":
			c.Management, ok = d.strings()
		case "training":
			c.Training, ok = d.strings()
		case "ppe":
			c.PPE, ok = d.strings()
		case "emergency":
			c.Emergency, ok = d.strings()
		default:
			ok = false
		}
		if !ok {
			return false
		}
	}
}
