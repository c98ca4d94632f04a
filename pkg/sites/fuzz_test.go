package sites_test

import (
	"testing"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/sites"
)

// FuzzDecodeSite: whatever the body, the decoders of site Features never panic and answer
// either a site or an application error (a 4xx), never anything else.
func FuzzDecodeSite(f *testing.F) {
	for _, s := range []string{
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[102.9,24.6]},"properties":{"name":"一中","kind":"school","people":800}}`,
		`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[102.9,24.6],[102.91,24.6],[102.91,24.61],[102.9,24.6]]]},"properties":{"name":"公园","kind":"fixed","capacity":100,"effective_area_m2":1e3,"service_radius_m":0,"version":3,"kind_label":"x"}}`,
		`{"type":"Feature","geometry":null,"properties":{"people":1.5,"capacity":"x","effective_area_m2":1e400}}`,
		`{"type":"Feature","properties":[],"geometry":{"type":"LineString","coordinates":[]}}`,
		`[]`, `null`, `{"type":"Feature"} {}`, `{"properties":{"zzz":1}}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(err error) {
			if err == nil {
				return
			}
			switch riskmap.ErrorCode(err) {
			case riskmap.EINVALID, riskmap.ETOOLARGE:
			default:
				t.Fatalf("%q: %v is not a client error", data, err)
			}
		}
		tg, err := sites.DecodeTarget(data)
		check(err)
		if err == nil {
			_ = tg.Validate()
		}
		sh, err := sites.DecodeShelter(data)
		check(err)
		if err == nil {
			_ = sh.Validate()
		}
	})
}

func TestDecodeTarget(t *testing.T) {
	tg, err := sites.DecodeTarget([]byte(`{"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[102.9,24.6]},
		"properties":{"id":7,"name":"一中","kind":"school","kind_label":"学校","people":800,"address":"路","version":2,"updated_at":"x","region_name":"y"}}`))
	if err != nil || tg.Name != "一中" || tg.People != 800 || tg.Address != "路" || tg.Geometry == nil {
		t.Fatalf("%+v %v", tg, err)
	}
	_, err = sites.DecodeTarget([]byte(`{"type":"Feature","geometry":{"type":"Point","coordinates":[102.9,24.6]},"properties":{"people":1.5,"nick":"x","name":3}}`))
	if !hasField(err, "people") || !hasField(err, "nick") || !hasField(err, "name") {
		t.Fatalf("bad properties: %v", err)
	}
	_, err = sites.DecodeShelter([]byte(`{"type":"Feature","geometry":{"type":"Point","coordinates":[102.9,"x"]},"properties":{"effective_area_m2":"big"}}`))
	if !hasField(err, "geometry") || !hasField(err, "effective_area_m2") {
		t.Fatalf("bad shelter: %v", err)
	}
}
