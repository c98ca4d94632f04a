package jsonappend

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "中文 名称", "<img src=x onerror=alert(1)>", "a&b", "q\"b\\s", "\n\r\t\b\f\x01\x1f",
		"bad \xff utf8", "\u2028\u2029", "emoji 🚒"} {
		want, _ := json.Marshal(s)
		if got := String(nil, s); string(got) != string(want) {
			t.Errorf("String(%q) = %s, want %s", s, got, want)
		}
	}
	for _, f := range []float64{0, 1, -1, 0.1, 1e-7, 1e21, 123456789.125, -5e-324, math.MaxFloat64, 24.675612} {
		want, _ := json.Marshal(f)
		if got := Float(nil, f); string(got) != string(want) {
			t.Errorf("Float(%v) = %s, want %s", f, got, want)
		}
	}
}

func FuzzString(f *testing.F) {
	f.Add("澄江<&>\u2028\xff")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := String(nil, s); string(got) != string(want) {
			t.Fatalf("String(%q) = %s, want %s", s, got, want)
		}
		var plain bytes.Buffer
		enc := json.NewEncoder(&plain)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		if got := PlainString(nil, s); string(got) != strings.TrimSuffix(plain.String(), "\n") {
			t.Fatalf("PlainString(%q) = %s, want %s", s, got, plain.String())
		}
	})
}
