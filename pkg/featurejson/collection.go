package featurejson

import (
	"encoding/json"
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
			fail("不是 GeoJSON FeatureCollection：应为 JSON 对象")
			return
		}
		sawFeatures := false
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				fail("不是 GeoJSON FeatureCollection：%s", jsonProblem(err))
				return
			}
			key, _ := t.(string)
			if key != "features" {
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					fail("不是 GeoJSON FeatureCollection：%s", jsonProblem(err))
					return
				}
				if key == "type" && string(skip) != `"FeatureCollection"` {
					fail(`type 应为 "FeatureCollection"`)
					return
				}
				continue
			}
			sawFeatures = true
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				fail("features 应为数组")
				return
			}
			for i := 1; dec.More(); i++ {
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					fail("第 %d 个要素：%s", i, jsonProblem(err))
					return
				}
				u, err := DecodeUnitDeferBoundaries(raw) // BulkCreate checks boundaries in Prepare
				if err != nil {
					yield(nil, riskmap.Errorf(riskmap.ErrorCode(err), "第 %d 个要素：%s", i, riskmap.MessageOf(err)).WithFields(riskmap.ErrorFields(err)))
					return
				}
				if !yield(u, nil) {
					return
				}
			}
			if _, err := dec.Token(); err != nil {
				fail("features：%s", jsonProblem(err))
				return
			}
		}
		if !sawFeatures {
			fail("FeatureCollection 须有 features 数组")
		}
	}
}
