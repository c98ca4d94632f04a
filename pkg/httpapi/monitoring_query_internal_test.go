package httpapi

import (
	"net/url"
	"testing"

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
