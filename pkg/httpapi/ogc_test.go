package httpapi_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// shapes are a unit's geometry of each kind, near 凤麓街道.
var shapes = map[string]string{
	"point":      `{"type":"Point","coordinates":[102.912,24.671]}`,
	"line":       `{"type":"LineString","coordinates":[[102.912,24.671],[102.914,24.672],[102.916,24.671]]}`,
	"polygon":    `{"type":"Polygon","coordinates":[[[102.912,24.671],[102.914,24.671],[102.914,24.673],[102.912,24.673],[102.912,24.671]]]}`,
	"multipoint": `{"type":"MultiPoint","coordinates":[[102.913,24.672],[102.915,24.674]]}`,
}

// createShape saves a unit with the given geometry as expert1; approved, it is published by
// the next publication.
func (e *env) createShape(t *testing.T, code, geometry string, approve bool) string {
	t.Helper()
	body := strings.Replace(feature(code, "形状测试 "+code, 102.912, 24.671, 4, 5),
		`{"type":"Point","coordinates":[102.912,24.671]}`, geometry, 1)
	// A public label, so that the public tiles carry a name too.
	body = strings.Replace(body, `"properties":{`, `"properties":{"public_label":"公开 `+code+`",`, 1)
	r := e.do("POST", "/api/v1/units", body, e.as("expert1")...)
	if r.code != 201 {
		t.Fatalf("create %s: %d %s", code, r.code, r.body)
	}
	id := strings.TrimPrefix(r.header.Get("Location"), "/api/v1/units/")
	if approve {
		if r := e.do("POST", "/api/v1/units/"+id+"/submit", "", append(e.as("expert1"), "If-Match", `"1"`)...); r.code != 200 {
			t.Fatalf("submit: %d %s", r.code, r.body)
		}
		if r := e.do("POST", "/api/v1/units/"+id+"/approve", "", append(e.as("expert2"), "If-Match", `"2"`)...); r.code != 200 {
			t.Fatalf("approve: %d %s", r.code, r.body)
		}
	}
	return id
}

// TestOGCForQGIS checks what QGIS's OAPIF provider needs: a service-desc link to an OpenAPI
// 3.0 document with the limits of limit, the oas30 conformance class, and collections of
// one kind of geometry each whose counts add up to the units collection's, for the public
// and for users.
func TestOGCForQGIS(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			ids := map[string]string{}
			for _, k := range []string{"point", "line", "polygon", "multipoint"} {
				ids[k] = e.createShape(t, "OGC-"+k, shapes[k], true)
			}
			ids["draft-line"] = e.createShape(t, "OGC-draft-line", shapes["line"], false)
			if r := e.do("POST", "/api/v1/publications", ""); r.code != 201 {
				t.Fatalf("publish: %d %s", r.code, r.body)
			}
			e.testOpenAPI(t)
			e.testPerGeometryCollections(t, ids)
		})
	}
}

func (e *env) testOpenAPI(t *testing.T) {
	e.t = t
	landing := e.do("GET", "/ogc", "", "Authorization", "")
	// QGIS answers its first requests from its disk cache unless told not to store them.
	for _, p := range []string{"/ogc", "/ogc/api", "/ogc/collections/units_point", "/ogc/collections/units_point/items?limit=10"} {
		for _, who := range []string{"", "admin"} {
			if cc := e.do("GET", p, "", e.asRole(who)...).header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("%s as %q: Cache-Control %q, want no-store", p, who, cc)
			}
		}
	}
	var lp struct {
		Links []struct{ Href, Rel, Type string } `json:"links"`
	}
	if err := json.Unmarshal(landing.body, &lp); err != nil {
		t.Fatal(err)
	}
	var desc string
	for _, l := range lp.Links {
		if l.Rel == "service-desc" && l.Type == "application/vnd.oai.openapi+json;version=3.0" {
			desc = l.Href
		}
	}
	if !strings.HasPrefix(desc, e.srv.URL+"/ogc/") {
		t.Fatalf("the landing page must link the API definition (rel service-desc, OpenAPI 3.0 JSON): %s", landing.body)
	}
	r := e.do("GET", strings.TrimPrefix(desc, e.srv.URL), "", "Authorization", "")
	if r.code != 200 || r.header.Get("Content-Type") != "application/vnd.oai.openapi+json;version=3.0" {
		t.Fatalf("API definition: %d %s", r.code, r.header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
		Comp    struct {
			Parameters map[string]struct {
				Name   string         `json:"name"`
				In     string         `json:"in"`
				Schema map[string]any `json:"schema"`
			} `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") {
		t.Fatalf("openapi: %q", doc.OpenAPI)
	}
	// QGIS sizes its pages from limit's maximum and default: they must be what the server does.
	lim := doc.Comp.Parameters["limit"]
	if lim.Name != "limit" || lim.In != "query" || lim.Schema["maximum"] != 1000.0 || lim.Schema["default"] != 100.0 || lim.Schema["minimum"] != 1.0 {
		t.Fatalf("limit parameter: %+v", lim)
	}
	if n := len(e.do("GET", "/ogc/collections/units/items?limit=5000", "").json(t)["features"].([]any)); n > 1000 {
		t.Fatalf("the server returned %d features, more than the maximum it declares", n)
	}
	cols := e.do("GET", "/ogc/collections", "").json(t)["collections"].([]any)
	for _, c := range cols {
		id := c.(map[string]any)["id"].(string)
		for _, p := range []string{"/ogc/collections/" + id, "/ogc/collections/" + id + "/items", "/ogc/collections/" + id + "/items/{featureId}"} {
			if doc.Paths[p]["get"] == nil {
				t.Errorf("the API definition does not describe GET %s", p)
			}
		}
		// Every parameter the items take is declared, and nothing the server refuses.
		params := map[string]bool{}
		for _, p := range doc.Paths["/ogc/collections/"+id+"/items"]["get"]["parameters"].([]any) {
			ref := p.(map[string]any)["$ref"].(string)
			params[doc.Comp.Parameters[strings.TrimPrefix(ref, "#/components/parameters/")].Name] = true
		}
		for p := range params {
			v := map[string]string{"limit": "1", "bbox": "102,24,104,26", "bbox-crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
				"cursor": "0", "category": "hazardous_chemicals", "grade": "red", "region": "530481", "q": "测试", "level": "street", "f": "json", "kind": "school",
				"properties": "code,grade"}[p]
			if p == "kind" && id == "shelters" {
				v = "fixed"
			}
			if v == "" {
				t.Errorf("%s: no test value for parameter %s", id, p)
				continue
			}
			if r := e.do("GET", "/ogc/collections/"+id+"/items?"+p+"="+urlq(v), ""); r.code != 200 {
				t.Errorf("%s: declared parameter %s=%s is refused: %d %s", id, p, v, r.code, r.body)
			}
		}
		if r := e.do("GET", "/ogc/collections/"+id+"/items?department=x", ""); r.code != 400 || params["department"] {
			t.Errorf("%s: an undeclared parameter must be refused: %d", id, r.code)
		}
	}
	for _, p := range []string{"/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/api"} {
		if doc.Paths[p]["get"] == nil {
			t.Errorf("the API definition does not describe GET %s", p)
		}
	}
	conf := string(e.do("GET", "/ogc/conformance", "").body)
	if !strings.Contains(conf, `"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30"`) {
		t.Fatalf("conformance must list oas30: %s", conf)
	}
}

func (e *env) testPerGeometryCollections(t *testing.T, ids map[string]string) {
	e.t = t
	type fc struct {
		NumberMatched int `json:"numberMatched"`
		Features      []struct {
			ID       json.Number `json:"id"`
			Geometry struct {
				Type string `json:"type"`
			} `json:"geometry"`
		} `json:"features"`
	}
	types := map[string][]string{"units_point": {"Point", "MultiPoint"}, "units_line": {"LineString", "MultiLineString"},
		"units_polygon": {"Polygon", "MultiPolygon"}}
	for _, who := range []string{"", "admin", "zjj"} {
		auth := e.asRole(who)
		var all fc
		if err := json.Unmarshal(e.do("GET", "/ogc/collections/units/items?limit=1000", "", auth...).body, &all); err != nil {
			t.Fatal(err)
		}
		sum := 0
		for cid, want := range types {
			col := e.do("GET", "/ogc/collections/"+cid, "", auth...).json(t)
			if col["id"] != cid || col["geometryType"] == nil {
				t.Fatalf("%q: collection %s: %v", who, cid, col)
			}
			var got fc
			if err := json.Unmarshal(e.do("GET", "/ogc/collections/"+cid+"/items?limit=1000", "", auth...).body, &got); err != nil {
				t.Fatal(err)
			}
			if got.NumberMatched != len(got.Features) {
				t.Fatalf("%q: %s: numberMatched %d, %d features", who, cid, got.NumberMatched, len(got.Features))
			}
			for _, f := range got.Features {
				if !slices.Contains(want, f.Geometry.Type) {
					t.Fatalf("%q: %s holds a %s", who, cid, f.Geometry.Type)
				}
			}
			sum += got.NumberMatched
		}
		if sum != all.NumberMatched {
			t.Fatalf("%q: the per-geometry collections hold %d units, units %d", who, sum, all.NumberMatched)
		}
		// The scope rules are those of units: the public sees no draft, admin sees it, and
		// 住建局 sees none of these hazardous-chemicals units.
		lines := e.do("GET", "/ogc/collections/units_line/items/"+ids["draft-line"], "", auth...).code
		if want := map[string]int{"": 404, "admin": 200, "zjj": 404}[who]; lines != want {
			t.Fatalf("%q: a draft line unit: %d, want %d", who, lines, want)
		}
		if who == "zjj" && sum != 0 {
			t.Fatalf("住建局 sees %d hazardous-chemicals units", sum)
		}
	}
	// One unit is in its own kind's collection only.
	if r := e.do("GET", "/ogc/collections/units_point/items/"+ids["line"], ""); r.code != 404 {
		t.Fatalf("a line unit in units_point: %d", r.code)
	}
	if r := e.do("GET", "/ogc/collections/units_polygon/items/"+ids["polygon"], ""); r.code != 200 {
		t.Fatalf("a polygon unit in units_polygon: %d", r.code)
	}
	if r := e.do("GET", "/ogc/collections/units_point/items/"+ids["multipoint"], ""); r.code != 200 {
		t.Fatalf("a multipoint unit in units_point: %d", r.code)
	}
	if r := e.do("GET", "/ogc/collections/units_hexagon/items", ""); r.code != 404 || !strings.Contains(string(r.body), "units_point") {
		t.Fatalf("an unknown collection is 404 and names those there are: %d %s", r.code, r.body)
	}
}

// TestPublicLabelIsThePublicName checks that the public map names a unit by its public label
// (公开名称), in its Feature, its search and its tiles, and never by its internal name.
func TestPublicLabelIsThePublicName(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			e.createShape(t, "PL-1", `{"type":"Point","coordinates":[102.912,24.671]}`, true)
			if r := e.do("POST", "/api/v1/publications", ""); r.code != 201 {
				t.Fatalf("publish: %d %s", r.code, r.body)
			}
			for q, want := range map[string]float64{"公开 PL": 1, "PL-1": 1, "形状测试": 0} {
				m := e.do("GET", "/public/api/v1/units?q="+url.QueryEscape(q), "").json(t)
				if m["numberMatched"].(float64) != want {
					t.Errorf("public search %q: %v units, want %v", q, m["numberMatched"], want)
				}
			}
			m := e.do("GET", "/public/api/v1/units?q=PL-1", "").json(t)
			props := m["features"].([]any)[0].(map[string]any)["properties"].(map[string]any)
			if props["public_label"] != "公开 PL-1" || props["name"] != nil {
				t.Errorf("public properties %v", props)
			}
			_, ls := e.tile(t, "/public"+tilePath("units", orb.Point{102.912, 24.671}, 17))
			if len(ls) != 1 || len(ls[0].Features) != 1 || ls[0].Features[0].Properties["name"] != "公开 PL-1" {
				t.Errorf("public tile: %+v", ls)
			}
		})
	}
}
