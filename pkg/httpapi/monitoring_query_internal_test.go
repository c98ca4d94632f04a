package httpapi

import (
	"encoding/json"
	"math"
	"net/url"
	"testing"
	"time"

	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
)

// FuzzAlarmQuery: any query string of the alarm list (and its CSV and statistics) is a
// query within bounds or an EINVALID naming a field, never a panic.
func FuzzAlarmQuery(f *testing.F) {
	for _, q := range []string{"", "status=active&level=red&unit=1&point=2&region=530481&kind=gas&open=1&from=2026-12-01&to=2026-12-06T08:00:00Z&limit=10",
		"limit=0", "limit=99999", "level=purple", "status=x", "open=maybe", "from=yesterday", "unit=-1", "point=9223372036854775808",
		"kind=zoo", "region=53x", "from=2026-02-01&to=2026-01-01", "a=1&a=2", "%zz", "from=0000-01-01T00:00:00Z"} {
		f.Add(q)
	}
	// The alarm routes exist only with a monitoring service, as cmd/riskmap wires it.
	cfg := monitoring.Default()
	s := &Server{cfg: Config{Monitoring: monitoring.NewService(nil, &cfg, nil)}}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		aq, err := s.parseAlarmQuery(q, alarmParams, DefaultLimit, monitoring.MaxAlarms)
		if err != nil {
			if riskmap.ErrorCode(err) != riskmap.EINVALID || len(riskmap.ErrorFields(err)) == 0 {
				t.Fatalf("%q: want EINVALID with fields, got %v", raw, err)
			}
			return
		}
		if aq.Limit < 1 || aq.Limit > monitoring.MaxAlarms || aq.UnitID < 0 || aq.PointID < 0 {
			t.Fatalf("%q: out of bounds: %+v", raw, aq)
		}
		if aq.Level != "" && !aq.Level.Valid() || aq.Status != "" && !aq.Status.Valid() {
			t.Fatalf("%q: unknown level or status accepted: %+v", raw, aq)
		}
		if !aq.From.IsZero() && !aq.To.IsZero() && !aq.From.Before(aq.To) {
			t.Fatalf("%q: empty range accepted", raw)
		}
		for k, vs := range q {
			if len(vs) > 1 {
				t.Fatalf("%q: %s given twice was accepted", raw, k)
			}
		}
	})
}

// TestReadingsJSON: the readings answer written by hand is what c.JSON writes (encoding/json
// and a newline), and what encoding/json refuses is left to it.
func TestReadingsJSON(t *testing.T) {
	at := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	values := []float64{0, math.Copysign(0, -1), 1, -1, 12.5, 0.1, 1.0 / 3, 62.5, 1e-6, 9.99e-7, 1e-7, -1e-9, 1.5e-300, 1e20, 1e21, 123456789012345678901234.0,
		-2.5e22, math.MaxFloat64, math.SmallestNonzeroFloat64, 5 + 599.0/100}
	var samples []monitoring.Sample
	for i, v := range values {
		samples = append(samples, monitoring.Sample{Time: at.Add(time.Duration(i) * time.Minute), Min: v, Max: -v, Avg: v / 7, Count: int64(i * 1000)},
			monitoring.Sample{Time: at.Add(time.Duration(i) * time.Hour), Min: v, Max: v, Avg: v, Count: 1})
	}
	samples = append(samples, monitoring.Sample{Time: at.Add(1234567 * time.Nanosecond).In(time.FixedZone("", 8*3600)), Count: math.MaxInt64})
	for _, a := range []readingsAnswer{
		{Point: 17, Step: monitoring.StepMinute, From: at.Add(-24 * time.Hour), To: at, Samples: samples},
		{Point: 1, Step: monitoring.Step30Minutes, From: at.In(time.FixedZone("", -(9*3600 + 30*60))), To: at.Add(time.Nanosecond), Samples: []monitoring.Sample{}},
		{Point: 2, Step: monitoring.StepRaw, From: at, To: at},
	} {
		want, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := a.appendJSON(nil)
		if !ok || string(got) != string(want)+"\n" {
			t.Errorf("by hand (ok %v):\n%s\nencoding/json:\n%s", ok, got, want)
		}
	}
	for _, a := range []readingsAnswer{
		{Step: monitoring.StepMinute, Samples: []monitoring.Sample{{Time: at, Avg: math.NaN()}}},
		{Step: monitoring.StepMinute, Samples: []monitoring.Sample{{Time: at, Max: math.Inf(1)}}},
		{Step: monitoring.StepMinute, From: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Step: monitoring.Step(`1m"<`)},
	} {
		if _, ok := a.appendJSON(nil); ok {
			t.Errorf("%+v: written by hand", a)
		}
	}
}
