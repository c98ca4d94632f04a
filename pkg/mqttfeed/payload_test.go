package mqttfeed

import (
	"math"
	"strings"
	"testing"
	"time"

	"riskmap/pkg/riskmap"
)

func TestParsePointPayload(t *testing.T) {
	now := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	ok := map[string]int{
		`{"time":"2026-12-06T08:30:00+08:00","value":12.5}`: 1,
		` {"value": 3} `: 1,
		`[{"time":"2026-12-06T00:00:00Z","value":1},{"time":"2026-12-06T00:00:01Z","value":-2e3}]`: 2,
	}
	for in, n := range ok {
		got, err := ParsePointPayload([]byte(in), now)
		if err != nil || len(got) != n {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	got, _ := ParsePointPayload([]byte(`{"value": 3}`), now)
	if !got[0].Time.Equal(now) || got[0].Value != 3 {
		t.Errorf("a reading without time is taken at now: %+v", got)
	}
	got, _ = ParsePointPayload([]byte(`{"time":"2026-12-06T08:30:00+08:00","value":12.5}`), now)
	if got[0].Time.Location() != time.UTC || got[0].Time.Hour() != 0 {
		t.Errorf("time in UTC: %v", got[0].Time)
	}
	bad := []string{``, `null`, `[]`, `{}`, `{"value":"1"}`, `{"value":NaN}`, `{"value":1e999}`, `{"value":1,"x":2}`,
		`{"time":"yesterday","value":1}`, `{"value":1}{"value":2}`, `[{"value":1},3]`, `"x"`, `{"value":1} x`, `[{"value":1}`}
	for _, in := range bad {
		if _, err := ParsePointPayload([]byte(in), now); err == nil || riskmap.ErrorCode(err) != riskmap.EINVALID {
			t.Errorf("%q: want EINVALID, got %v", in, err)
		}
	}
}

func TestPointCode(t *testing.T) {
	for in, want := range map[string]string{"points/JC-1/readings": "JC-1", "points//readings": "", "points/a/b/readings": "",
		"readings": "", "points/JC-1": "", "points/燃气-1/readings": "燃气-1"} {
		got, ok := PointCode(in)
		if got != want || ok != (want != "") {
			t.Errorf("%q: %q %v", in, got, ok)
		}
	}
}

// FuzzParsePointPayload: any payload is read or refused with EINVALID/ETOOLARGE, never a
// panic, and every value read is finite.
func FuzzParsePointPayload(f *testing.F) {
	for _, s := range []string{`{"time":"2026-12-06T08:30:00+08:00","value":12.5}`, `[{"value":1},{"value":2}]`, `{"value":NaN}`,
		`[`, `{"value":1e400}`, `{"time":null,"value":0}`, strings.Repeat("[", 100)} {
		f.Add([]byte(s))
	}
	now := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		vals, err := ParsePointPayload(b, now)
		if err != nil {
			if c := riskmap.ErrorCode(err); c != riskmap.EINVALID && c != riskmap.ETOOLARGE {
				t.Fatalf("error code %s: %v", c, err)
			}
			return
		}
		if len(vals) == 0 {
			t.Fatal("no error and no value")
		}
		for _, v := range vals {
			if math.IsNaN(v.Value) || math.IsInf(v.Value, 0) || v.Time.IsZero() {
				t.Fatalf("bad value %+v", v)
			}
		}
	})
}
