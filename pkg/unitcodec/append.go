package unitcodec

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"riskmap/pkg/jsonappend"
	"riskmap/pkg/riskmap"
)

// The appender writes the documents the Reader reads, byte for byte as encoding/json
// writes them, except that an empty list, nil or not, is [] and never null: both stores and
// GeoJSON write the same text for the same unit. (The Reader reads null and [] alike, so
// rows written before read as they did.)

// Escaping says how the appender writes <, > and &.
type Escaping bool

const (
	// Stored writes them as they are, as a json.Encoder with SetEscapeHTML(false) does: the
	// stores keep text such as a rule's "4 ≤ R < 10" as it reads, and the Reader takes it
	// on its fast path without unquoting.
	Stored Escaping = false
	// HTMLSafe writes them as \u003c, \u003e and \u0026, as json.Marshal does, for JSON
	// served to browsers.
	HTMLSafe Escaping = true
)

func (e Escaping) str(b []byte, s string) []byte {
	if e == HTMLSafe {
		return jsonappend.String(b, s)
	}
	return jsonappend.PlainString(b, s)
}

// Documents are a unit's JSON documents as both stores keep them.
type Documents struct {
	Assessment, Explanation, Controls string
}

// EncodeDocuments writes the assessment, grade explanation and controls of u as the stores
// keep them, in one buffer and one string. It refuses a number JSON cannot write.
func EncodeDocuments(u *riskmap.Unit) (Documents, error) {
	if err := Finite(&u.Assessment, &u.Explanation); err != nil {
		return Documents{}, riskmap.Errorf(riskmap.EINVALID, "风险单元 %q：%v", u.Code, err)
	}
	b := make([]byte, 0, 512)
	b = AppendAssessment(b, &u.Assessment, Stored)
	ea := len(b)
	b = AppendExplanation(b, &u.Explanation, Stored)
	ee := len(b)
	b = AppendControls(b, &u.Controls, Stored)
	s := string(b)
	return Documents{Assessment: s[:ea], Explanation: s[ea:ee], Controls: s[ee:]}, nil
}

// Finite refuses an assessment or explanation holding a number that JSON cannot write
// (NaN or an infinity). The Append functions take such numbers as checked.
func Finite(a *riskmap.Assessment, e *riskmap.Explanation) error {
	for _, f := range [...]struct {
		what string
		v    float64
	}{{"assessment l", a.L}, {"assessment e", a.E}, {"assessment c", a.C}, {"grade explanation value", e.Value}} {
		if math.IsInf(f.v, 0) || math.IsNaN(f.v) {
			return fmt.Errorf("%s: the number %v has no JSON form", f.what, f.v)
		}
	}
	for k, v := range e.Inputs {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return fmt.Errorf("grade explanation input %q: the number %v has no JSON form", k, v)
		}
	}
	return nil
}

// AppendAssessment appends the assessment document: the method and only the inputs it
// sets. Its numbers must be finite (see Finite).
func AppendAssessment(b []byte, a *riskmap.Assessment, esc Escaping) []byte {
	b = append(b, `{"method":`...)
	b = esc.str(b, a.Method)
	if a.Likelihood != 0 {
		b = append(b, `,"likelihood":`...)
		b = strconv.AppendInt(b, int64(a.Likelihood), 10)
	}
	if a.Severity != 0 {
		b = append(b, `,"severity":`...)
		b = strconv.AppendInt(b, int64(a.Severity), 10)
	}
	for _, f := range [...]struct {
		key string
		v   float64
	}{{`,"l":`, a.L}, {`,"e":`, a.E}, {`,"c":`, a.C}} {
		if f.v != 0 {
			b = append(b, f.key...)
			b = jsonappend.Float(b, f.v)
		}
	}
	return append(b, '}')
}

// AppendExplanation appends the grade explanation document, its inputs in key order. Its
// numbers must be finite (see Finite).
func AppendExplanation(b []byte, e *riskmap.Explanation, esc Escaping) []byte {
	b = append(b, `{"method":`...)
	b = esc.str(b, e.Method)
	if len(e.Inputs) > 0 {
		b = append(b, `,"inputs":{`...)
		var buf [8]string // the inputs of LS and LEC, without an allocation
		keys := buf[:0]
		for k := range e.Inputs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = esc.str(b, k)
			b = append(b, ':')
			b = jsonappend.Float(b, e.Inputs[k])
		}
		b = append(b, '}')
	}
	b = append(b, `,"value":`...)
	b = jsonappend.Float(b, e.Value)
	b = append(b, `,"rule":`...)
	b = esc.str(b, e.Rule)
	b = append(b, `,"text":`...)
	b = esc.str(b, e.Text)
	return append(b, '}')
}

// AppendControls appends the controls document, every group a list ([] when empty).
func AppendControls(b []byte, c *riskmap.Controls, esc Escaping) []byte {
	b = append(b, `{"engineering":`...)
	b = AppendStrings(b, c.Engineering, esc)
	b = append(b, `,"management":`...)
	b = AppendStrings(b, c.Management, esc)
	b = append(b, `,"training":`...)
	b = AppendStrings(b, c.Training, esc)
	b = append(b, `,"ppe":`...)
	b = AppendStrings(b, c.PPE, esc)
	b = append(b, `,"emergency":`...)
	b = AppendStrings(b, c.Emergency, esc)
	return append(b, '}')
}

// AppendStrings appends a list of strings, such as a unit's accident types; nil is [].
func AppendStrings(b []byte, ss []string, esc Escaping) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = esc.str(b, s)
	}
	return append(b, ']')
}
