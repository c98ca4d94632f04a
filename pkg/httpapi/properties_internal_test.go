package httpapi

import (
	"net/url"
	"slices"
	"testing"

	"riskmap/pkg/featurejson"
	"riskmap/pkg/riskmap"
)

// FuzzPropertySelection: any properties= value is a selection of the view's own property
// names or an EINVALID naming the field, never a panic.
func FuzzPropertySelection(f *testing.F) {
	for _, q := range []string{"properties=code,grade", "properties=", "properties=,,", "properties=name", "properties=a&properties=b",
		"properties=%20code%20", "properties=contact_phone", "x=1", "properties=code%2Cname"} {
		f.Add(q, false)
		f.Add(q, true)
	}
	f.Fuzz(func(t *testing.T, raw string, public bool) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		v := &view{public: public}
		keep, err := v.propertySelection(q)
		if err != nil {
			if riskmap.ErrorCode(err) != riskmap.EINVALID || len(riskmap.ErrorFields(err)) == 0 {
				t.Fatalf("%q: want EINVALID with fields, got %v", raw, err)
			}
			return
		}
		if _, ok := q["properties"]; !ok && keep != nil {
			t.Fatalf("%q: no parameter must keep everything (nil), got %v", raw, keep)
		}
		names := featurejson.PropertyNames
		if public {
			names = featurejson.PublicPropertyNames
		}
		for k := range keep {
			if !slices.Contains(names, k) {
				t.Fatalf("%q: %s is not a property of the view", raw, k)
			}
		}
	})
}
