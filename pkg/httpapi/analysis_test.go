package httpapi_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/httpapi"
	"riskmap/pkg/riskmap"
)

// TestAnalysisAPI checks the analysis routes on both stores: a unit's conflicts with a school
// inside its influence range, per unit, per target and city-wide (JSON, GeoJSON lines, CSV),
// inside each caller's scope; moving the unit away clears them; shelter coverage; the
// nearest shelter; and bad input refused with 400.
func TestAnalysisAPI(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			e.testAnalysis(t)
		})
	}
}

// offset is the point east and north metres from p (roughly).
func offset(p orb.Point, east, north float64) orb.Point {
	return orb.Point{p[0] + east/101200, p[1] + north/110700}
}

func (e *env) testAnalysis(t *testing.T) {
	e.t = t
	home := orb.Point{102.912, 24.671}
	// 应急局's hazardous-chemical unit in 凤麓街道 (default radius 500 m), a school 200 m
	// east of it and a hospital 2 km away.
	// L 3 × S 5 = 15: orange.
	r := e.do("POST", "/api/v1/units", feature("ANA-H", "危化企业乙", home[0], home[1], 3, 5), e.as("expert1")...)
	if r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	h := strings.TrimPrefix(r.header.Get("Location"), "/api/v1/units/")
	grade := func() (string, string) {
		m := e.do("GET", "/api/v1/units/"+h, "").json(t)["properties"].(map[string]any)
		expl, _ := m["dynamic_explanation"].(string)
		return m["grade"].(string), expl
	}
	before, _ := grade()
	target := func(name, kind string, people int, p orb.Point) string {
		r := e.do("POST", "/api/v1/protective-targets", fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[%f,%f]},
			"properties":{"name":%q,"kind":%q,"people":%d}}`, p[0], p[1], name, kind, people), e.as("expert1")...)
		if r.code != 201 {
			t.Fatalf("create target %s: %d %s", name, r.code, r.body)
		}
		return strings.TrimPrefix(r.header.Get("Location"), "/api/v1/protective-targets/")
	}
	school := target("澄江测试小学", riskmap.TargetSchool, 800, offset(home, 200, 0))
	target("远处医院", riskmap.TargetHospital, 300, offset(home, 2000, 0))
	// The school's write raised the orange unit to red, naming the school, before it was
	// answered.
	if g, expl := grade(); before != "orange" || g != "red" || !strings.Contains(expl, "澄江测试小学") {
		t.Fatalf("grade after the school came: %s → %s (%q)", before, g, expl)
	}

	r = e.do("GET", "/api/v1/units/"+h+"/conflicts", "")
	if r.code != 200 {
		t.Fatalf("unit conflicts: %d %s", r.code, r.body)
	}
	m := r.json(t)
	cs, _ := m["conflicts"].([]any)
	if m["hazardous"] != true || m["influence_radius_m"] != 500.0 || m["radius_source"] != "default" || len(cs) != 1 {
		t.Fatalf("unit conflicts: %s", r.body)
	}
	c0 := cs[0].(map[string]any)
	d := c0["distance_m"].(float64)
	if d < 195 || d > 205 || c0["target"].(map[string]any)["name"] != "澄江测试小学" ||
		c0["unit"].(map[string]any)["grade_label"] == "" || c0["line"].(map[string]any)["type"] != "LineString" {
		t.Fatalf("conflict: %v", c0)
	}

	// Scope: 应急局 reads the unit and its conflicts; 住建局 (construction and gas) does not.
	if r := e.do("GET", "/api/v1/units/"+h+"/conflicts", "", e.as("yjj")...); r.code != 200 {
		t.Fatalf("yjj: %d", r.code)
	}
	if r := e.do("GET", "/api/v1/units/"+h+"/conflicts", "", e.as("zjj")...); r.code != 403 && r.code != 404 {
		t.Fatalf("zjj reads another scope's unit's conflicts: %d %s", r.code, r.body)
	}
	for user, want := range map[string]float64{"admin": 1, "yjj": 1, "zjj": 0} {
		r := e.do("GET", "/api/v1/conflicts", "", e.as(user)...)
		if r.code != 200 || r.json(t)["total"] != want {
			t.Fatalf("conflicts as %s: %d %s", user, r.code, r.body)
		}
		r = e.do("GET", "/api/v1/protective-targets/"+school+"/conflicts", "", e.as(user)...)
		if r.code != 200 || float64(len(r.json(t)["conflicts"].([]any))) != want {
			t.Fatalf("target conflicts as %s: %d %s", user, r.code, r.body)
		}
	}
	if r := e.do("GET", "/api/v1/protective-targets/424242/conflicts", ""); r.code != 404 {
		t.Fatalf("a missing target: %d", r.code)
	}
	if r := e.do("GET", "/api/v1/units/424242/conflicts", ""); r.code != 404 {
		t.Fatalf("a missing unit: %d", r.code)
	}

	// Filters, GeoJSON lines, CSV.
	for q, want := range map[string]float64{"?kind=school": 1, "?kind=hospital": 0, "?region=530481001": 1, "?region=530481002": 0,
		"?department=不存在的部门": 0, "?grade=red,orange,yellow,blue": 1, "?bbox=102.9,24.6,103,24.7": 1, "?bbox=103,25,103.1,25.1": 0} {
		r := e.do("GET", "/api/v1/conflicts"+q, "")
		if r.code != 200 || r.json(t)["total"] != want {
			t.Fatalf("conflicts%s: %d %s", q, r.code, r.body)
		}
	}
	r = e.do("GET", "/api/v1/conflicts?f=geojson", "")
	if r.code != 200 || !strings.Contains(r.header.Get("Content-Type"), "geo+json") {
		t.Fatalf("geojson: %d %s", r.code, r.body)
	}
	fc := r.json(t)
	feats := fc["features"].([]any)
	if len(feats) != 1 || feats[0].(map[string]any)["geometry"].(map[string]any)["type"] != "LineString" ||
		feats[0].(map[string]any)["properties"].(map[string]any)["target_name"] != "澄江测试小学" {
		t.Fatalf("geojson: %s", r.body)
	}
	r = e.do("GET", "/api/v1/conflicts.csv", "")
	if r.code != 200 || !strings.HasPrefix(string(r.body), "\ufeff风险单元编号,") || !strings.Contains(string(r.body), "澄江测试小学") {
		t.Fatalf("csv: %d %s", r.code, r.body)
	}
	if r := e.do("GET", "/api/v1/conflicts.csv", "", e.as("zjj")...); r.code != 200 || strings.Contains(string(r.body), "澄江测试小学") {
		t.Fatalf("csv as zjj: %d %s", r.code, r.body)
	}
	for _, q := range []string{"?grade=purple", "?kind=zoo", "?region=abc", "?limit=0", "?limit=x", "?offset=-1", "?bbox=1,2,3", "?f=xml", "?colour=red"} {
		r := e.do("GET", "/api/v1/conflicts"+q, "")
		if r.code != 400 || !strings.Contains(string(r.body), `"fields"`) {
			t.Fatalf("conflicts%s: want 400 naming the field, got %d %s", q, r.code, r.body)
		}
	}
	if r := e.do("GET", "/api/v1/conflicts.csv?f=geojson", ""); r.code != 400 {
		t.Fatalf("csv with f: %d", r.code)
	}

	// Moving the unit 1 km west clears its conflict before the answer returns.
	body := strings.Replace(feature("ANA-H", "危化企业乙", home[0]-0.01, home[1], 3, 5), `"code"`, `"version":1,"code"`, 1)
	if r := e.do("PUT", "/api/v1/units/"+h, body, append(e.as("expert1"), "If-Match", `"2"`)...); r.code != 200 {
		t.Fatalf("move: %d %s", r.code, r.body)
	}
	if r := e.do("GET", "/api/v1/conflicts", ""); r.json(t)["total"] != 0.0 {
		t.Fatalf("after the move: %s", r.body)
	}
	if g, _ := grade(); g != "orange" {
		t.Fatalf("grade after the move: %s", g)
	}

	// Shelter coverage: every street, coloured by class, with its explanation.
	r = e.do("GET", "/api/v1/shelter-coverage", "")
	if r.code != 200 {
		t.Fatalf("coverage: %d %s", r.code, r.body)
	}
	feats = r.json(t)["features"].([]any)
	if len(feats) != 6 {
		t.Fatalf("coverage: %d streets", len(feats))
	}
	p0 := feats[0].(map[string]any)["properties"].(map[string]any)
	if p0["level"] != "street" || p0["class"] == "" || !strings.Contains(p0["explanation"].(string), "常住人口") {
		t.Fatalf("coverage: %v", p0)
	}
	if r := e.do("GET", "/api/v1/shelter-coverage?level=district", ""); r.code != 200 || len(r.json(t)["features"].([]any)) != 1 {
		t.Fatalf("district coverage: %d %s", r.code, r.body)
	}
	for _, q := range []string{"?level=grid", "?level=", "?x=1"} {
		if r := e.do("GET", "/api/v1/shelter-coverage"+q, ""); r.code != 400 && q != "?level=" {
			t.Fatalf("coverage%s: %d", q, r.code)
		}
	}
	// A parameter given twice is refused, never half read (the second value dropped).
	for _, u := range []string{"/api/v1/shelter-coverage?level=district&level=street",
		"/api/v1/conflicts?region=530481001&region=530481002", "/api/v1/conflicts?f=geojson&f=json",
		"/api/v1/conflicts.csv?grade=red&grade=orange", "/api/v1/protective-targets?kind=school&kind=hospital",
		"/api/v1/shelters?region=530481001&region=530481002", "/ogc/collections/shelters/items?limit=1&limit=2"} {
		r := e.do("GET", u, "")
		if r.code != 400 || !strings.Contains(string(r.body), "只能给一个值") {
			t.Fatalf("%s: want 400 只能给一个值, got %d %s", u, r.code, r.body)
		}
	}
	if r := e.do("GET", "/public/api/v1/shelters?bbox=102,24,103,25&bbox=1,2,3,4", "", "Authorization", ""); r.code != 400 {
		t.Fatalf("public shelters with bbox twice: %d %s", r.code, r.body)
	}
	if r := e.do("GET", "/api/v1/shelter-coverage", "", "Authorization", ""); r.code != 401 {
		t.Fatalf("coverage anonymous: %d", r.code)
	}

	// The nearest shelter, to anyone.
	e.eng.ShelterChanged(nil, &riskmap.Shelter{ID: 7001, Name: "凤麓广场", Kind: riskmap.ShelterEmergency, Capacity: 2000,
		EffectiveAreaM2: 3000, RegionCode: "530481001001", Geometry: offset(home, 0, 300)})
	e.eng.ShelterChanged(nil, &riskmap.Shelter{ID: 7002, Name: "远处公园", Kind: riskmap.ShelterFixed, Capacity: 9000,
		EffectiveAreaM2: 20000, RegionCode: "530481001001", Geometry: offset(home, 3000, 0)})
	r = e.do("GET", fmt.Sprintf("/public/api/v1/shelters/nearest?lon=%g&lat=%g", home[0], home[1]), "", "Authorization", "")
	if r.code != 200 {
		t.Fatalf("nearest: %d %s", r.code, r.body)
	}
	m = r.json(t)
	n := m["nearest"].(map[string]any)
	nav := n["nav"].(map[string]any)
	if n["direction"] != "北" || n["shelter"].(map[string]any)["properties"].(map[string]any)["name"] != "凤麓广场" ||
		!strings.HasPrefix(nav["amap"].(string), "https://uri.amap.com/marker?position=") || !strings.HasPrefix(nav["geo"].(string), "geo:") ||
		len(m["nearby"].([]any)) != 1 {
		t.Fatalf("nearest: %s", r.body)
	}
	if d := n["distance_m"].(float64); d < 290 || d > 310 {
		t.Fatalf("nearest distance: %v", d)
	}
	for _, q := range []string{"", "?lon=102.9", "?lat=24.6", "?lon=NaN&lat=24.6", "?lon=102.9&lat=Inf", "?lon=200&lat=24.6",
		"?lon=102.9&lat=91", "?lon=0&lat=0", "?lon=abc&lat=24.6", "?lon=102.9&lat=24.6&x=1", "?lon=102.9&lon=103&lat=24.6"} {
		r := e.do("GET", "/public/api/v1/shelters/nearest"+q, "", "Authorization", "")
		if r.code != 400 || !strings.Contains(string(r.body), `"fields"`) {
			t.Fatalf("nearest%s: want 400, got %d %s", q, r.code, r.body)
		}
	}
}

func TestParseNearestQuery(t *testing.T) {
	p, err := httpapi.ParseNearestQuery(url.Values{"lon": {" 102.9 "}, "lat": {"24.6"}})
	if err != nil || p != (orb.Point{102.9, 24.6}) {
		t.Fatalf("%v %v", p, err)
	}
}

// FuzzNearestQuery feeds the nearest query parser any query string: it never panics, and
// what it accepts is a finite point in WGS 84's range.
func FuzzNearestQuery(f *testing.F) {
	for _, s := range []string{"lon=102.9&lat=24.6", "lon=NaN&lat=1", "lon=1e400&lat=0", "lat=&lon=", "lon=1&lon=2&lat=3", "x=1", "lon=-180&lat=90", "lon=0x1p3&lat=1_0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		p, err := httpapi.ParseNearestQuery(q)
		if err != nil {
			if riskmap.ErrorCode(err) != riskmap.EINVALID {
				t.Fatalf("%q: error %v is not EINVALID", raw, err)
			}
			return
		}
		if !(p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90) {
			t.Fatalf("%q: accepted %v", raw, p)
		}
	})
}
