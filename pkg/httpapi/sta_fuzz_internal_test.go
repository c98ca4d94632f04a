package httpapi

import (
	"net/url"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/monitoring"
	"riskmap/pkg/riskmap"
)

// FuzzSTAObservation: any body of POST /sta/v1.1/Observations is refused as invalid, or
// becomes a one-row CreateObservations body that the service's parser reads as one
// reading, accepted or refused; never a panic.
func FuzzSTAObservation(f *testing.F) {
	for _, b := range []string{`{"Datastream":{"@iot.id":1},"phenomenonTime":"2026-12-06T08:00:00Z","result":12.5}`,
		`{"Datastream":{"@iot.id":1},"result":1}`, `{"Datastream":{"@iot.id":"JC-1"},"result":"x"}`, `{"Datastream":{"@iot.id":1},"result":NaN}`,
		`{"Datastream":{"@iot.id":1},"result":-Infinity}`, `{"Datastream":{},"result":1}`, `{"result":1}`, `{"Datastream":{"@iot.id":1}}`,
		`{"Datastream":{"@iot.id":1},"phenomenonTime":"2026-12-06T08:00:00Z/2026-12-06T09:00:00Z","result":1}`, `{"x":1}`, `[]`, ``, `{`,
		`{"Datastream":{"@iot.id":1},"result":1e999}`, `{"Datastream":{"@iot.id":1},"resultTime":null,"result":1,"phenomenonTime":null}`} {
		f.Add([]byte(b))
	}
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	cfg := monitoring.Default()
	pt := &monitoring.Point{ID: 1, Code: "JC-1", UnitID: 1, Kind: "gas", Location: orb.Point{102.9, 24.6}, IntervalS: 60}
	in := monitoring.Input{Now: now, Config: &cfg, Lookup: func(r monitoring.PointRef) (*monitoring.Point, error) {
		if r.ID == 1 || r.Code == "JC-1" {
			return pt, nil
		}
		return nil, riskmap.Errorf(riskmap.ENOTFOUND, "没有监测点")
	}}
	f.Fuzz(func(t *testing.T, b []byte) {
		body, err := staObservationBody(b, now)
		if err != nil {
			if riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Fatalf("%q: want EINVALID, got %v", b, err)
			}
			return
		}
		items, refused, err := monitoring.ParseDataArray(body, in)
		if err != nil {
			t.Fatalf("%q became %q, which the service refuses whole: %v", b, body, err)
		}
		if len(items)+len(refused) != 1 {
			t.Fatalf("%q became %q: %d readings and %d refusals, want one of them", b, body, len(items), len(refused))
		}
	})
}

// FuzzSTAPath: any SensorThings path and query string is an entity path and paging within
// bounds, or refused (404 for a path or id, EINVALID for an option); never a panic.
func FuzzSTAPath(f *testing.F) {
	for _, s := range []string{"Things", "Things(1)/Datastreams", "Datastreams(12)/Observations", "Observations(3-1765008000000)",
		"Observations(3-x)", "Things(", "Things(1)/Things(2)/Datastreams", "Sensors", "", "(", ")", "Observations(-1-5)", "Things(99999999999999999999)"} {
		f.Add(s, "$top=10&$skip=5&$count=true")
	}
	f.Add("Things", "$top=-1")
	f.Add("Things", "$top=10001&$count=maybe")
	f.Add("Things", "$skip=99999999999999999999")
	f.Fuzz(func(t *testing.T, path, raw string) {
		if segs, ok := staPath(path); ok {
			for _, sg := range segs {
				if !sg.HasID {
					continue
				}
				if sg.Set == "Observations" {
					if id, _, err := staObservationID(sg.ID); err == nil && id < 1 {
						t.Fatalf("%q: observation of point %d", path, id)
					} else if err != nil && riskmap.ErrorCode(err) != riskmap.ENOTFOUND {
						t.Fatalf("%q: %v", path, err)
					}
				} else if id, err := staID(sg.Set, sg.ID); err == nil && id < 1 {
					t.Fatalf("%q: id %d", path, id)
				} else if err != nil && riskmap.ErrorCode(err) != riskmap.ENOTFOUND {
					t.Fatalf("%q: %v", path, err)
				}
			}
		}
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		top, skip, _, err := staPaging(q)
		if err != nil {
			if riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Fatalf("%q: %v", raw, err)
			}
			return
		}
		if top < 0 || top > staMaxTop || skip < 0 || skip > 1<<30 {
			t.Fatalf("%q: $top %d, $skip %d", raw, top, skip)
		}
	})
}
