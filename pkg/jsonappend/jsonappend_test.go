package jsonappend

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
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

// Decimals of up to seven fraction digits (the fast path) and any double are written as
// encoding/json writes them: two million of each kind, and the edges of the fast range.
func TestFloatMatchesEncodingJSON(t *testing.T) {
	check := func(f float64) {
		t.Helper()
		want, _ := json.Marshal(f)
		if got := Float(nil, f); string(got) != string(want) {
			t.Fatalf("Float(%v) = %s, want %s", f, got, want)
		}
	}
	for _, f := range []float64{1e-6, 9.999999e-7, 1e-7, 0.5, 1 << 29, 1<<29 - 0.0000001, 1<<29 - 1, 536870911.9999999, 102.9881389,
		24.6775701, -180, 90, 0.0000015, 123.45, 1e8 + 0.1, 3.0000001, -0.0000010} {
		check(f)
		check(-f)
	}
	r := rand.New(rand.NewPCG(1, 2))
	pow := []float64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7}
	for range 2_000_000 {
		digits := r.IntN(8)
		m := r.Int64N(1 << 50)
		if r.IntN(2) == 0 {
			m = r.Int64N(2_000_000_000)
		}
		f := float64(m) / pow[digits]
		if r.IntN(2) == 0 {
			f = -f
		}
		check(f)
		if x := math.Float64frombits(r.Uint64()) / float64(1+r.IntN(1000)); !math.IsNaN(x) && !math.IsInf(x, 0) {
			check(x)
		}
	}
}

func FuzzFloat(f *testing.F) {
	for _, v := range []float64{0, 1e-6, 102.988138, 24.67757, 1 << 29, 0.1 + 0.2} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		want, _ := json.Marshal(v)
		if got := Float(nil, v); string(got) != string(want) {
			t.Fatalf("Float(%v) = %s, want %s", v, got, want)
		}
	})
}

// BenchmarkFloat: a polygon's coordinates to six decimals, and doubles of full precision.
func BenchmarkFloat(b *testing.B) {
	for _, tc := range []struct {
		name string
		v    float64
	}{{"six-decimals", 102.988138}, {"full", 102.98813812345678}} {
		b.Run(tc.name, func(b *testing.B) {
			buf := make([]byte, 0, 32)
			for range b.N {
				buf = Float(buf[:0], tc.v)
			}
		})
	}
}
