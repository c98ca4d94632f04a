package httpapi_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// Protective targets and shelters (issue 16) over HTTP, on both stores.

// Points of the demo city: A in 凤麓街道 (530481001, yjj's scope), B in 龙街街道 (530481002).
var (
	siteA = orb.Point{102.9292, 24.6759}
	siteB = orb.Point{102.9550, 24.6578}
)

func targetBody(name string, p orb.Point, people int) string {
	return fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[%g,%g]},"properties":{"name":%q,"kind":"school","people":%d,"address":"文化路 1 号"}}`,
		p[0], p[1], name, people)
}

func shelterBody(name string, p orb.Point, area float64) string {
	return fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[%g,%g]},"properties":{"name":%q,"kind":"emergency","capacity":500,"effective_area_m2":%g}}`,
		p[0], p[1], name, area)
}

func TestSites(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			t.Run("CRUD", func(t *testing.T) { e.testSiteCRUD(t) })
			t.Run("BadInput", func(t *testing.T) { e.testSiteBadInput(t) })
			t.Run("Scope", func(t *testing.T) { e.testSiteScope(t) })
			t.Run("Public", func(t *testing.T) { e.testPublicShelters(t) })
		})
	}
}

func (e *env) testSiteCRUD(t *testing.T) {
	e.t = t
	r := e.do("POST", "/api/v1/protective-targets", targetBody("凤麓小学", siteA, 900))
	if r.code != 201 || r.header.Get("ETag") != `"1"` || !strings.HasPrefix(r.header.Get("Location"), "/api/v1/protective-targets/") {
		t.Fatalf("create: %d %v %s", r.code, r.header, r.body)
	}
	loc := r.header.Get("Location")
	p := r.json(t)["properties"].(map[string]any)
	if !strings.HasPrefix(p["region_code"].(string), "530481001001") || p["kind_label"] != "学校" || p["region_name"] == "" || p["people"] != 900.0 || p["version"] != 1.0 {
		t.Fatalf("created: %v", p)
	}
	if r := e.do("GET", loc, ""); r.code != 200 || r.header.Get("ETag") != `"1"` {
		t.Fatalf("get: %d %s", r.code, r.body)
	}
	if r := e.do("GET", loc, "", "If-None-Match", `"1"`); r.code != 304 {
		t.Fatalf("If-None-Match: %d", r.code)
	}
	// PUT and DELETE need If-Match (428), a current one (412).
	upd := targetBody("凤麓小学（新）", siteA, 1000)
	if r := e.do("PUT", loc, upd); r.code != 428 {
		t.Fatalf("PUT without If-Match: %d %s", r.code, r.body)
	}
	if r := e.do("PUT", loc, upd, "If-Match", `"7"`); r.code != 412 {
		t.Fatalf("stale PUT: %d %s", r.code, r.body)
	}
	r = e.do("PUT", loc, upd, "If-Match", `"1"`)
	if r.code != 200 || r.header.Get("ETag") != `"2"` || r.json(t)["properties"].(map[string]any)["name"] != "凤麓小学（新）" {
		t.Fatalf("PUT: %d %s", r.code, r.body)
	}
	if r := e.do("DELETE", loc, ""); r.code != 428 {
		t.Fatalf("DELETE without If-Match: %d", r.code)
	}
	if r := e.do("DELETE", loc, "", "If-Match", `"1"`); r.code != 412 {
		t.Fatalf("stale DELETE: %d", r.code)
	}
	// Lists: by bbox, kind, region, q.
	r = e.do("GET", "/api/v1/protective-targets?bbox=102.9,24.6,103,24.7&kind=school&region=530481001&q=凤麓", "")
	if r.code != 200 || r.json(t)["numberMatched"] != 1.0 {
		t.Fatalf("list: %d %s", r.code, r.body)
	}
	if r := e.do("GET", "/api/v1/protective-targets?kind=zoo", ""); r.code != 400 || !strings.Contains(string(r.body), "kind") {
		t.Fatalf("bad kind filter: %d %s", r.code, r.body)
	}
	if r := e.do("GET", "/api/v1/protective-targets?colour=red", ""); r.code != 400 {
		t.Fatalf("unknown parameter: %d", r.code)
	}
	// Tiles from memory.
	tr, layers := e.tile(t, tilePath("protective_targets", siteA, 15))
	if tr.code != 200 || len(layers) != 1 || layers[0].Name != "protective_targets" || len(layers[0].Features) != 1 ||
		layers[0].Version != 2 || layers[0].Features[0].Properties["name"] != "凤麓小学（新）" {
		t.Fatalf("target tile: %d %v", tr.code, layers)
	}
	if r := e.do("DELETE", loc, "", "If-Match", `"2"`); r.code != 204 {
		t.Fatalf("DELETE: %d %s", r.code, r.body)
	}
	if r := e.do("GET", loc, ""); r.code != 404 {
		t.Fatalf("deleted target: %d", r.code)
	}
	if tr, _ := e.tile(t, tilePath("protective_targets", siteA, 15)); tr.code != 204 {
		t.Fatalf("a deleted target stays in its tile: %d", tr.code)
	}
	// The audit log has the three writes, with their labels' actions.
	es, err := e.store.AuditEntries(context.Background(), riskmap.AuditFilter{Action: "target."})
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, x := range es {
		if x.Outcome == riskmap.OutcomeOK {
			acts = append(acts, x.Action)
		}
	}
	if strings.Join(acts, " ") != "target.delete target.update target.create" || es[0].TargetType != "protective_target" || len(es[len(es)-1].After) == 0 {
		t.Fatalf("audit: %v", acts)
	}
	// Shelters: the radius defaults by kind; the footprint of a polygon is reported.
	r = e.do("POST", "/api/v1/shelters", `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[102.92,24.67],[102.921,24.67],[102.921,24.671],[102.92,24.671],[102.92,24.67]]]},
		"properties":{"name":"文化广场","kind":"fixed","capacity":3000,"effective_area_m2":9000}}`)
	if r.code != 201 {
		t.Fatalf("create shelter: %d %s", r.code, r.body)
	}
	sp := r.json(t)["properties"].(map[string]any)
	if sp["service_radius_m"].(float64) <= 0 || sp["footprint_area_m2"] == nil || sp["kind_label"] != "固定避难场所" {
		t.Fatalf("shelter: %v", sp)
	}
	shLoc := r.header.Get("Location")
	// A create retried with its Idempotency-Key answers the first answer and stores one.
	before, _ := e.store.Shelters(context.Background())
	body := shelterBody("重试广场", siteA, 100)
	r1 := e.do("POST", "/api/v1/shelters", body, "Idempotency-Key", "shelter-key-1")
	r2 := e.do("POST", "/api/v1/shelters", body, "Idempotency-Key", "shelter-key-1")
	after, _ := e.store.Shelters(context.Background())
	if r1.code != 201 || r2.code != 201 || r1.header.Get("Location") != r2.header.Get("Location") || len(after) != len(before)+1 {
		t.Fatalf("idempotent create: %d %d %q %q, %d → %d shelters", r1.code, r2.code, r1.header.Get("Location"), r2.header.Get("Location"), len(before), len(after))
	}
	if r := e.do("DELETE", r1.header.Get("Location"), "", "If-Match", `"1"`); r.code != 204 {
		t.Fatalf("delete the retried shelter: %d", r.code)
	}
	tr, layers = e.tile(t, tilePath("shelters", orb.Point{102.9205, 24.6705}, 15))
	if tr.code != 200 || layers[0].Name != "shelters" || len(layers[0].Features) != 1 {
		t.Fatalf("shelter tile: %d %v", tr.code, layers)
	}
	pt := strings.Replace(tilePath("shelters", orb.Point{102.9205, 24.6705}, 15), "/tiles/", "/public/tiles/", 1)
	if tr, layers := e.tile(t, pt, "Authorization", ""); tr.code != 200 || len(layers[0].Features) != 1 {
		t.Fatalf("public shelter tile: %d", tr.code)
	}
	if r := e.do("DELETE", shLoc, "", "If-Match", `"1"`); r.code != 204 {
		t.Fatalf("delete shelter: %d %s", r.code, r.body)
	}
}

// testSiteBadInput: each bad body is a 400 naming its field in Chinese, and nothing is
// stored.
func (e *env) testSiteBadInput(t *testing.T) {
	e.t = t
	ctx := context.Background()
	ts0, _ := e.store.ProtectiveTargets(ctx)
	ss0, _ := e.store.Shelters(ctx)
	square := `{"type":"Polygon","coordinates":[[[102.92,24.67],[102.921,24.67],[102.921,24.671],[102.92,24.671],[102.92,24.67]]]}`
	cases := []struct{ path, body, field, words string }{
		{"/api/v1/protective-targets", `{"type":"Feature","geometry":{"type":"Point","coordinates":[102.93,24.67]},"properties":{"name":"无人数","kind":"school"}}`, "people", "人数应大于 0"},
		{"/api/v1/protective-targets", targetBody("负人数", siteA, -5), "people", "人数"},
		{"/api/v1/protective-targets", strings.Replace(targetBody("怪类型", siteA, 5), `"school"`, `"zoo"`, 1), "kind", "应为"},
		{"/api/v1/protective-targets", targetBody("北京", orb.Point{116.4, 39.9}, 5), "geometry", "不在本市范围内"},
		{"/api/v1/protective-targets", targetBody("世界外", orb.Point{190, 24.6}, 5), "geometry", "经度"},
		{"/api/v1/protective-targets", `{"type":"Feature","geometry":{"type":"Point","coordinates":[102.93,24.67]},"properties":{"name":"小数","kind":"school","people":1.5}}`, "people", "整数"},
		{"/api/v1/shelters", `{"type":"Feature","geometry":{"type":"Point","coordinates":[102.93,24.67]},"properties":{"name":"负半径","kind":"fixed","service_radius_m":-10}}`, "service_radius_m", "服务半径"},
		{"/api/v1/shelters", `{"type":"Feature","geometry":{"type":"Point","coordinates":[102.93,24.67]},"properties":{"name":"大半径","kind":"fixed","service_radius_m":60000}}`, "service_radius_m", "服务半径"},
		{"/api/v1/shelters", `{"type":"Feature","geometry":{"type":"Point","coordinates":[102.93,24.67]},"properties":{"name":"无穷","kind":"fixed","effective_area_m2":1e999}}`, "effective_area_m2", "数值"},
		{"/api/v1/shelters", `{"type":"Feature","geometry":` + square + `,"properties":{"name":"太大","kind":"fixed","effective_area_m2":50000}}`, "effective_area_m2", "超过占地面积"},
		{"/api/v1/shelters", `{"type":"Feature","geometry":{"type":"Point","coordinates":[0,0]},"properties":{"name":"城外","kind":"fixed"}}`, "geometry", "不在本市范围内"},
		{"/api/v1/shelters", `{"type":"Feature","geometry":{"type":"Point","coordinates":[102.93,24.67]},"properties":{"name":"x","kind":"fixed","colour":"red"}}`, "colour", "不是此接口的字段"},
		{"/api/v1/shelters", `not json`, "", "JSON"},
	}
	for _, c := range cases {
		r := e.do("POST", c.path, c.body)
		if r.code != 400 || !strings.Contains(string(r.body), c.words) || (c.field != "" && !strings.Contains(string(r.body), `"field":"`+c.field+`"`)) {
			t.Errorf("%s %s: %d %s", c.path, c.field, r.code, r.body)
		}
	}
	ts1, _ := e.store.ProtectiveTargets(ctx)
	ss1, _ := e.store.Shelters(ctx)
	if len(ts1) != len(ts0) || len(ss1) != len(ss0) {
		t.Fatalf("bad input was stored: targets %d → %d, shelters %d → %d", len(ts0), len(ts1), len(ss0), len(ss1))
	}
}

// testSiteScope: a department reads and writes the targets of its regions only, on every
// read path (list, id, tiles, OGC); shelters are read by all.
func (e *env) testSiteScope(t *testing.T) {
	e.t = t
	mk := func(path, body string) string {
		r := e.do("POST", path, body)
		if r.code != 201 {
			t.Fatalf("create: %d %s", r.code, r.body)
		}
		return strings.TrimPrefix(r.header.Get("Location"), path+"/")
	}
	a := mk("/api/v1/protective-targets", targetBody("范围甲", siteA, 10))
	b := mk("/api/v1/protective-targets", targetBody("范围乙", siteB, 10))
	sb := mk("/api/v1/shelters", shelterBody("范围避难乙", siteB, 100))
	ids := func(r resp) string {
		var out []string
		for _, f := range r.json(t)["features"].([]any) {
			out = append(out, fmt.Sprint(f.(map[string]any)["id"]))
		}
		return strings.Join(out, ",")
	}
	// yjj (530481001) sees A only; zjj (530481) both.
	for _, c := range []struct {
		role string
		want string
		getB int
	}{{"yjj", a, 404}, {"zjj", a + "," + b, 200}, {"admin", a + "," + b, 200}} {
		if got := ids(e.do("GET", "/api/v1/protective-targets?q=范围", "", e.as(c.role)...)); got != c.want {
			t.Errorf("%s lists %s, want %s", c.role, got, c.want)
		}
		if r := e.do("GET", "/api/v1/protective-targets/"+b, "", e.as(c.role)...); r.code != c.getB {
			t.Errorf("%s gets B: %d", c.role, r.code)
		}
		if got := ids(e.do("GET", "/ogc/collections/protective_targets/items?q=范围", "", e.as(c.role)...)); got != c.want {
			t.Errorf("%s OGC lists %s, want %s", c.role, got, c.want)
		}
		if r := e.do("GET", "/ogc/collections/protective_targets/items/"+b, "", e.as(c.role)...); r.code != c.getB {
			t.Errorf("%s OGC gets B: %d", c.role, r.code)
		}
		tr, layers := e.tile(t, tilePath("protective_targets", siteB, 16), e.as(c.role)...)
		inTile := tr.code == 200 && len(layers) == 1 && len(layers[0].Features) > 0
		if inTile != (c.getB == 200) {
			t.Errorf("%s sees B in its tile: %v (%d)", c.role, inTile, tr.code)
		}
		// Shelters: every user reads them.
		if r := e.do("GET", "/api/v1/shelters/"+sb, "", e.as(c.role)...); r.code != 200 {
			t.Errorf("%s gets a shelter: %d", c.role, r.code)
		}
	}
	// yjj may not write outside its regions: not B (hidden: 404), not a new one there (403),
	// not move A there (403); A itself it may change.
	if r := e.do("PUT", "/api/v1/protective-targets/"+b, targetBody("改乙", siteB, 10), append(e.as("yjj"), "If-Match", `"1"`)...); r.code != 404 {
		t.Errorf("yjj updates B: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/protective-targets", targetBody("新乙", siteB, 10), e.as("yjj")...); r.code != 403 {
		t.Errorf("yjj creates in B's street: %d %s", r.code, r.body)
	}
	if r := e.do("PUT", "/api/v1/protective-targets/"+a, targetBody("搬走", siteB, 10), append(e.as("yjj"), "If-Match", `"1"`)...); r.code != 403 {
		t.Errorf("yjj moves A out: %d %s", r.code, r.body)
	}
	if r := e.do("DELETE", "/api/v1/shelters/"+sb, "", append(e.as("yjj"), "If-Match", `"1"`)...); r.code != 403 {
		t.Errorf("yjj deletes a shelter outside its regions: %d %s", r.code, r.body)
	}
	if r := e.do("PUT", "/api/v1/protective-targets/"+a, targetBody("范围甲（改）", siteA, 12), append(e.as("yjj"), "If-Match", `"1"`)...); r.code != 200 {
		t.Errorf("yjj updates A: %d %s", r.code, r.body)
	}
	// The anonymous see no targets at all, and no protective_targets collection.
	if r := e.do("GET", "/api/v1/protective-targets", "", "Authorization", ""); r.code != 401 {
		t.Errorf("anonymous list: %d", r.code)
	}
	if r := e.do("GET", "/ogc/collections/protective_targets/items", "", "Authorization", ""); r.code != 404 {
		t.Errorf("anonymous OGC targets: %d", r.code)
	}
	if strings.Contains(string(e.do("GET", "/ogc/collections", "", "Authorization", "").body), "protective_targets") {
		t.Error("the public collections list protective_targets")
	}
}

func (e *env) testPublicShelters(t *testing.T) {
	e.t = t
	if r := e.do("POST", "/api/v1/shelters", shelterBody("公开广场", siteA, 300)); r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	r := e.do("GET", "/public/api/v1/shelters?bbox=102.9,24.6,103,24.7", "", "Authorization", "")
	if r.code != 200 || !strings.Contains(r.header.Get("Cache-Control"), "max-age=60") || r.header.Get("ETag") == "" {
		t.Fatalf("public shelters: %d %v", r.code, r.header)
	}
	found := false
	for _, f := range r.json(t)["features"].([]any) {
		p := f.(map[string]any)["properties"].(map[string]any)
		if _, ok := p["version"]; ok {
			t.Fatalf("public properties carry version: %v", p)
		}
		if p["name"] == "公开广场" && p["kind_label"] == "紧急避难场所" && p["effective_area_m2"] == 300.0 && p["service_radius_m"].(float64) > 0 {
			found = true
		}
	}
	if !found {
		t.Fatalf("public shelters miss the new one: %s", r.body)
	}
	if r2 := e.do("GET", "/public/api/v1/shelters?bbox=102.9,24.6,103,24.7", "", "Authorization", "", "If-None-Match", r.header.Get("ETag")); r2.code != 304 {
		t.Fatalf("If-None-Match: %d", r2.code)
	}
	if r := e.do("GET", "/public/api/v1/shelters?bbox=1,2", "", "Authorization", ""); r.code != 400 {
		t.Fatalf("bad bbox: %d", r.code)
	}
	// Anyone reads the shelters collection.
	if r := e.do("GET", "/ogc/collections/shelters/items", "", "Authorization", ""); r.code != 200 || !strings.Contains(string(r.body), "公开广场") {
		t.Fatalf("public OGC shelters: %d", r.code)
	}
	// The numbered public tiles still route past the static "shelters" segment.
	// (No publication yet: the numbered route's own answer, not the router's.)
	if r := e.do("GET", "/public/tiles/1/units/0/0/0.pbf", "", "Authorization", ""); r.code != 404 || !strings.Contains(string(r.body), "不是当前提供的一期") {
		t.Fatalf("numbered public tile: %d %s", r.code, r.body)
	}
	if r := e.do("GET", "/public/tiles/shelters/0/0/0.pbf", "", "Authorization", ""); r.code != 200 {
		t.Fatalf("public shelter tile at zoom 0: %d %s", r.code, r.body)
	}
}
