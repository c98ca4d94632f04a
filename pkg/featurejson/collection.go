package featurejson

import (
	"encoding/json"
	"fmt"
	"io"
	"iter"

	"riskmap/pkg/riskmap"
)

// DecodeUnits streams the units of a GeoJSON FeatureCollection, one Feature at a time, so
// that a large file never sits in memory whole. A problem with one Feature is reported with
// its position and stops the sequence. Boundaries are left to register.Service, which checks
// them as it stores the units (as DecodeUnitDeferBoundaries).
func DecodeUnits(r io.Reader) iter.Seq2[*riskmap.Unit, error] {
	return func(yield func(*riskmap.Unit, error) bool) {
		dec := json.NewDecoder(r)
		fail := func(format string, args ...any) {
			yield(nil, riskmap.Errorf(riskmap.EINVALID, format, args...))
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			fail("not a GeoJSON FeatureCollection: it must be a JSON object")
			return
		}
		sawFeatures := false
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				fail("not a GeoJSON FeatureCollection: %s", jsonProblem(err))
				return
			}
			key, _ := t.(string)
			if key != "features" {
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					fail("not a GeoJSON FeatureCollection: %s", jsonProblem(err))
					return
				}
				if key == "type" && string(skip) != `"FeatureCollection"` {
					fail(`type must be "FeatureCollection"`)
					return
				}
				continue
			}
			sawFeatures = true
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				fail("features must be a list")
				return
			}
			for i := 1; dec.More(); i++ {
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					fail("feature %d: %s", i, jsonProblem(err))
					return
				}
				u, err := DecodeUnitDeferBoundaries(raw) // BulkCreate checks boundaries in Prepare
				if err != nil {
					yield(nil, &riskmap.Error{Code: riskmap.ErrorCode(err),
						Message: fmt.Sprintf("feature %d: %s", i, riskmap.ErrorMessage(err)), Fields: riskmap.ErrorFields(err)})
					return
				}
				if !yield(u, nil) {
					return
				}
			}
			if _, err := dec.Token(); err != nil {
				fail("features: %s", jsonProblem(err))
				return
			}
		}
		if !sawFeatures {
			fail("a FeatureCollection needs a features list")
		}
	}
}
