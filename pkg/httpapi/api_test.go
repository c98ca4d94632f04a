package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"riskmap/geodata"
	"riskmap/pkg/analysis"
	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/featurejson"
	"riskmap/pkg/gpkg"
	"riskmap/pkg/hazards"
	"riskmap/pkg/httpapi"
	"riskmap/pkg/password"
	"riskmap/pkg/pgtest"
	"riskmap/pkg/postgis"
	"riskmap/pkg/publishing"
	"riskmap/pkg/regiongrade"
	"riskmap/pkg/register"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/sites"
	"riskmap/pkg/spatialindex"

	"github.com/paulmach/orb"
)

type env struct {
	t     *testing.T
	srv   *httptest.Server
	store riskmap.Store
	ix    *spatialindex.Index
	api   *httpapi.Server
	// eng is the analysis engine the server answers conflicts, coverage and nearest from.
	eng *analysis.Engine
	// tokens are the API tokens of the test users, by name: admin, expert1, expert2,
	// zjj (住建局: construction and gas in 530481) and yjj (应急局: hazardous chemicals in
	// 530481001).
	tokens map[string]string
}

// testUsers are the users every test server has, with their roles and scopes.
var testUsers = []*riskmap.User{
	{Name: "admin", Role: riskmap.RoleAdmin},
	{Name: "expert1", Role: riskmap.RoleExpert},
	{Name: "expert2", Role: riskmap.RoleExpert},
	{Name: "zjj", Role: riskmap.RoleDepartment, Department: "住建局", Categories: []string{"construction", "lifeline_gas"}, Regions: []string{"530481"}},
	{Name: "yjj", Role: riskmap.RoleDepartment, Department: "应急局", Categories: []string{"hazardous_chemicals"}, Regions: []string{"530481001"}},
}

// testPassword is every test user's password.
const testPassword = "correct horse battery"

// The concrete index is what cmd/riskmap wires into httpapi.Config.Index.
var _ httpapi.Index = (*spatialindex.Index)(nil)

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

var encode = featurejson.Encoder()

// newEnv starts the API over a real store holding the demo regions and a few units.
func newEnv(t *testing.T, store riskmap.Store) *env {
	t.Helper()
	return newEnvWith(t, store, nil)
}

// newEnvWith is newEnv with the server's configuration adjusted by tune.
func newEnvWith(t *testing.T, store riskmap.Store, tune func(*httpapi.Config)) *env {
	t.Helper()
	ctx := context.Background()
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	regions, err := demo.LoadRegions(geodata.FS)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.PutRegions(ctx, regions); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	svc := register.New(store, cfg.Grader, cfg.Catalog)
	svc.Locate = regiongrade.Containing(regions)
	ix := spatialindex.New(encode, regiongrade.Locator(regions))
	ix.SetHead(spatialindex.Head{Write: featurejson.AppendFeatureHead, Len: featurejson.FeatureHeadLen}) // as cmd/riskmap keeps documents
	// The analysis engine hears every unit write, and gives the register the conflict
	// conditions of a unit as written, as cmd/riskmap wires them.
	eng := analysis.New(cfg.Analysis, regions)
	eng.Watch(ix)
	svc.Conflicts = eng.ConditionsFor
	svc.Index = ix // SetConditions' writes (below) reach the index
	if _, err := ix.Load(ctx, store.Units(ctx)); err != nil {
		t.Fatal(err)
	}
	targets, err := store.ProtectiveTargets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	shelters, err := store.Shelters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eng.Load(ix.Snapshot(), targets, shelters)
	write := featurejson.PublicWriter(cfg.Catalog, regions)
	pub := func() *spatialindex.Index { return spatialindex.NewPublic(write, nil) }
	hash, err := password.Hash(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{}
	for _, tu := range testUsers {
		u := *tu
		u.PasswordHash = hash
		if err := store.CreateUserRecorded(ctx, &u, nil); err != nil {
			t.Fatal(err)
		}
		tokens[u.Name] = "rmk_test_" + u.Name
		if err := store.CreateAPIToken(ctx, &riskmap.APIToken{Name: "test", UserID: u.ID, TokenHash: sha(tokens[u.Name]),
			CreatedBy: "test", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	hc := httpapi.Config{Store: store, Units: svc, Index: ix, Publisher: publishing.New(store, regiongrade.Prepare(regions), cfg.RegionRule, pub), Catalog: cfg.Catalog, Grader: cfg.Grader,
		RegionRule: cfg.RegionRule, Regions: regions, MaxBodyBytes: 1 << 20, Logger: slog.New(slog.DiscardHandler), Analysis: eng}
	if hs, ok := store.(hazards.Store); ok {
		hc.Hazards = &hazards.Service{Store: hs, Dynamics: dynamicsOf(cfg.Grader), Units: store, Catalog: cfg.Catalog,
			Locate: regiongrade.Containing(regions), Limiter: hazards.NewLimiter(hazards.ReportsPerMinute, hazards.ReportsPerDay)}
	}
	hc.Sites = sites.New(store, cfg.Analysis, regions)
	// A site's write reaches the engine, and the units whose conflicts it changed get their
	// conflict conditions, before it is answered (as cmd/riskmap wires them).
	hc.Sites.OnTarget = func(before, after *riskmap.ProtectiveTarget) {
		for _, id := range eng.ApplyTarget(before, after) {
			if _, err := svc.SetConditions(ctx, id, riskmap.ConditionConflict, eng.ConditionsOf(id)); err != nil {
				t.Errorf("conflict conditions of unit %d: %v", id, err)
			}
		}
	}
	hc.Sites.OnShelter = eng.ShelterChanged
	if err := hc.Sites.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if tune != nil {
		tune(&hc)
	}
	s := httpapi.New(hc)
	if err := s.LoadPublication(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, store: store, ix: ix, api: s, eng: eng, tokens: tokens}
}

// as returns the headers of a request made with user's API token.
func (e *env) as(user string) []string {
	return []string{"Authorization", "Bearer " + e.tokens[user]}
}

type resp struct {
	code   int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, r.body)
	}
	return m
}

func (e *env) do(method, path string, body string, headers ...string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	// Requests are the admin's unless they say otherwise; "Authorization", "" is anonymous.
	req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
		if headers[i] == "Authorization" && headers[i+1] == "" {
			req.Header.Del("Authorization")
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

func feature(code, name string, lon, lat float64, l, s int) string {
	return fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[%g,%g]},"properties":{
		"code":%q,"name":%q,"category":"hazardous_chemicals","region_code":"530481001001",
		"assessment":{"method":"LS","likelihood":%d,"severity":%d},"accident_types":["fire"],
		"controls":{"engineering":["可燃气体报警"],"management":["安全操作规程"],"training":["岗前培训"],"ppe":["防护服"],"emergency":["应急预案"]},
		"responsible_unit":"某化工有限公司","contact_person":"联系人甲","contact_phone":"0877-1234567","assessed_at":"2026-03-01T00:00:00Z"}}`, lon, lat, code, name, l, s)
}

func stores(t *testing.T) map[string]func(t *testing.T) riskmap.Store {
	return map[string]func(t *testing.T) riskmap.Store{
		"GeoPackage": func(t *testing.T) riskmap.Store {
			s, err := gpkg.Open(context.Background(), filepath.Join(t.TempDir(), "api.gpkg"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"PostGIS": func(t *testing.T) riskmap.Store {
			s, err := postgis.Open(context.Background(), pgtest.NewDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

func TestAPI(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			t.Run("UnitLifecycle", e.testLifecycle)
			t.Run("List", e.testList)
			t.Run("PropertySelection", e.testPropertySelection)
			t.Run("BadInput", e.testBadInput)
			t.Run("Reference", e.testReference)
			t.Run("RegionsAndStats", e.testRegions)
			t.Run("OGC", e.testOGC)
			t.Run("Public", e.testPublic)
			t.Run("Tiles", e.testTiles)
		})
	}
}

func (e *env) testLifecycle(t *testing.T) {
	e.t = t
	r := e.do("POST", "/api/v1/units", feature("LC-1", "凤麓液氨储罐区", 102.91, 24.67, 4, 5), "Content-Type", "application/geo+json")
	if r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	loc := r.header.Get("Location")
	if !strings.HasPrefix(loc, "/api/v1/units/") || r.header.Get("ETag") != `"1"` {
		t.Fatalf("create must return Location and ETag \"1\": %v", r.header)
	}
	props := r.json(t)["properties"].(map[string]any)
	if props["grade"] != "red" || props["grade_label"] != "重大风险" || props["risk_value"].(float64) != 20 ||
		props["status"] != "draft" || props["responsible_department"] != "应急局" || props["next_review_due"] == nil {
		t.Fatalf("the server computes grade, defaults and review date: %v", props)
	}
	exp := props["explanation"].(map[string]any)
	if !strings.Contains(exp["text"].(string), "4 × 5 = 20") {
		t.Fatalf("explanation: %v", exp)
	}
	// The new unit is in the list and the index before the response returned.
	if l := e.do("GET", "/api/v1/units?q=LC-1", ""); !strings.Contains(string(l.body), "凤麓液氨储罐区") {
		t.Fatalf("a created unit must be listed at once: %s", l.body)
	}
	g := e.do("GET", loc, "")
	if g.code != 200 || g.header.Get("ETag") != `"1"` || g.header.Get("Content-Type") != "application/geo+json" {
		t.Fatalf("get: %d %v", g.code, g.header)
	}
	if nm := e.do("GET", loc, "", "If-None-Match", `"1"`); nm.code != 304 {
		t.Fatalf("If-None-Match with the current ETag must be 304, got %d", nm.code)
	}

	upd := feature("LC-1", "凤麓液氨储罐区(改)", 102.92, 24.68, 1, 3)
	if r := e.do("PUT", loc, upd); r.code != 428 || r.json(t)["error"].(map[string]any)["code"] != "precondition_required" {
		t.Fatalf("PUT without If-Match must be 428: %d %s", r.code, r.body)
	}
	r = e.do("PUT", loc, upd, "If-Match", `"1"`)
	if r.code != 200 || r.header.Get("ETag") != `"2"` || r.json(t)["properties"].(map[string]any)["grade"] != "blue" {
		t.Fatalf("update: %d %s", r.code, r.body)
	}
	stale := e.do("PUT", loc, feature("LC-1", "过时的修改", 102.9, 24.6, 5, 5), "If-Match", `"1"`)
	if stale.code != 412 || !strings.Contains(stale.json(t)["error"].(map[string]any)["message"].(string), "已被他人修改") {
		t.Fatalf("a stale If-Match must be 412: %d %s", stale.code, stale.body)
	}
	if g := e.do("GET", loc, ""); !strings.Contains(string(g.body), "(改)") {
		t.Fatalf("a stale write must overwrite nothing: %s", g.body)
	}
	if r := e.do("DELETE", loc, "", "If-Match", `"1"`); r.code != 412 {
		t.Fatalf("a stale DELETE must be 412, got %d", r.code)
	}
	r = e.do("DELETE", loc, "", "If-Match", `"2"`)
	if r.code != 200 || r.json(t)["properties"].(map[string]any)["status"] != "retired" {
		t.Fatalf("delete retires: %d %s", r.code, r.body)
	}
	if l := e.do("GET", "/api/v1/units?q=LC-1", ""); l.json(t)["numberMatched"].(float64) != 0 {
		t.Fatalf("a retired unit leaves the map at once: %s", l.body)
	}
	if g := e.do("GET", loc, ""); g.code != 200 || !strings.Contains(string(g.body), `"retired"`) {
		t.Fatalf("a retired unit is kept, not erased: %d %s", g.code, g.body)
	}
	if g := e.do("GET", "/api/v1/units/999999", ""); g.code != 404 {
		t.Fatalf("unknown unit: %d", g.code)
	}
}

// testPropertySelection: properties= keeps only the named properties of each feature, in the
// list and the OGC items; an unknown name, or one the public never sees, is a 400.
func (e *env) testPropertySelection(t *testing.T) {
	e.t = t
	for _, c := range []string{"PS-1", "PS-2"} {
		if r := e.do("POST", "/api/v1/units", feature(c, "属性选择 "+c, 102.93, 24.69, 3, 4), "Content-Type", "application/geo+json"); r.code != 201 {
			t.Fatalf("create: %d %s", r.code, r.body)
		}
	}
	full := e.do("GET", "/api/v1/units?q=PS-", "").json(t)
	for path, want := range map[string]string{
		"/api/v1/units?q=PS-&properties=code,grade":                    "code grade",
		"/api/v1/units?q=PS-&properties=":                              "",
		"/api/v1/units?q=PS-&properties=%20name%20,":                   "name",
		"/ogc/collections/units/items?q=PS-&properties=grade_label,id": "",
	} {
		r := e.do("GET", path, "")
		if want == "" && strings.Contains(path, "grade_label,id") {
			// id is the Feature's, not a property: refused.
			if r.code != 400 || !strings.Contains(string(r.body), "没有属性") {
				t.Fatalf("%s: %d %s", path, r.code, r.body)
			}
			continue
		}
		m := r.json(t)
		if r.code != 200 || m["numberMatched"] != full["numberMatched"] || m["numberMatched"] != 2.0 {
			t.Fatalf("%s: %d %s", path, r.code, r.body)
		}
		for _, f := range m["features"].([]any) {
			f := f.(map[string]any)
			var keys []string
			for k := range f["properties"].(map[string]any) {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if strings.Join(keys, " ") != want || f["geometry"] == nil || f["id"] == nil {
				t.Fatalf("%s: a feature keeps %v, want %q: %v", path, keys, want, f)
			}
		}
	}
	ogc := e.do("GET", "/ogc/collections/units/items?q=PS-&properties=grade_label", "").json(t)
	for _, f := range ogc["features"].([]any) {
		if p := f.(map[string]any)["properties"].(map[string]any); len(p) != 1 || p["grade_label"] != "较大风险" {
			t.Fatalf("OGC items with properties=grade_label: %v", p)
		}
	}
	for _, path := range []string{"/api/v1/units?properties=nope", "/api/v1/units?properties=code&properties=name",
		"/public/api/v1/units?properties=contact_phone", "/public/api/v1/units?properties=name"} {
		r := e.do("GET", path, "")
		if r.code != 400 || r.json(t)["error"].(map[string]any)["fields"] == nil {
			t.Fatalf("%s: want 400 naming properties, got %d %s", path, r.code, r.body)
		}
	}
}

func (e *env) testList(t *testing.T) {
	e.t = t
	for i := 0; i < 7; i++ {
		l, s := 1+i%5, 1+(i*2)%5
		r := e.do("POST", "/api/v1/units", feature(fmt.Sprintf("LS-%d", i), fmt.Sprintf("列表单元%d", i), 102.90+float64(i)*0.01, 24.60, l, s))
		if r.code != 201 {
			t.Fatalf("create: %s", r.body)
		}
	}
	r := e.do("GET", "/api/v1/units?q=LS-&limit=3", "")
	m := r.json(t)
	if r.header.Get("Content-Type") != "application/geo+json" || m["numberMatched"].(float64) != 7 || len(m["features"].([]any)) != 3 || m["next"] == nil {
		t.Fatalf("first page: %s", r.body)
	}
	seen := 0
	next := m["next"].(string)
	seen += 3
	for next != "" {
		r := e.do("GET", strings.TrimPrefix(next, e.srv.URL), "")
		m := r.json(t)
		seen += len(m["features"].([]any))
		next, _ = m["next"].(string)
	}
	if seen != 7 {
		t.Fatalf("following next links must list every unit once, got %d", seen)
	}
	cases := []struct {
		name, query string
		want        int
	}{
		{"BBox", "q=LS-&bbox=102.895,24.59,102.925,24.61", 3},
		{"BBoxNothing", "q=LS-&bbox=100,20,100.1,20.1", 0},
		{"Grade", "q=LS-&grade=blue", 2},
		{"GradeChinese", "q=LS-&grade=低", 2},
		{"Region", "q=LS-&region=530481001", 7},
		{"OtherRegion", "q=LS-&region=530481002", 0},
		{"Category", "q=LS-&category=hazardous_chemicals,roads", 7},
		{"Department", "q=LS-&department=" + urlq("应急局"), 7},
		{"OtherDepartment", "q=LS-&department=" + urlq("住建局,交通运输局"), 0},
		{"Injection", "q=" + urlq("' OR 1=1--"), 0},
		{"InjectionSleep", "q=" + urlq("%' AND pg_sleep(5)--"), 0},
		{"UnicodeQuotes", "q=" + urlq("’ OR ‘1’=‘1"), 0},
		{"PercentIsLiteral", "q=" + urlq("%"), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r := e.do("GET", "/api/v1/units?"+tc.query, "")
			if r.code != 200 {
				t.Fatalf("%d %s", r.code, r.body)
			}
			if n := r.json(t)["numberMatched"].(float64); int(n) != tc.want {
				t.Fatalf("want %d matched, got %v", tc.want, n)
			}
			if time.Since(start) > 4*time.Second {
				t.Fatalf("an injection string must be answered at once, not slept on")
			}
		})
	}
}

func urlq(s string) string {
	r := strings.NewReplacer("%", "%25", " ", "%20", "'", "%27", "&", "%26", "=", "%3D", "+", "%2B", "#", "%23")
	return r.Replace(s)
}

func (e *env) testBadInput(t *testing.T) {
	e.t = t
	before := e.ix.Snapshot().Len()
	big := `{"type":"Feature","geometry":{"type":"Point","coordinates":[102.9,24.6]},"properties":{"name":"` + strings.Repeat("x", 2<<20) + `"}}`
	manyVertices := `{"type":"Feature","geometry":{"type":"LineString","coordinates":[` + strings.Repeat("[102.9,24.6],", riskmap.MaxVertices) + `[102.91,24.6]]},"properties":{}}`
	cases := []struct {
		name, method, path, body string
		code                     int
		field                    string
	}{
		{"ErrMalformedJSON", "POST", "/api/v1/units", `{"type":"Feature",`, 400, ""},
		{"ErrEmptyBody", "POST", "/api/v1/units", ``, 400, ""},
		{"ErrUnknownCategory", "POST", "/api/v1/units", strings.Replace(feature("B-1", "x", 102.9, 24.6, 1, 1), "hazardous_chemicals", "nuclear", 1), 400, "category"},
		{"ErrLikelihood", "POST", "/api/v1/units", feature("B-2", "x", 102.9, 24.6, 9, 1), 400, "assessment.likelihood"},
		{"ErrHugeCoordinate", "POST", "/api/v1/units", feature("B-3", "x", 1e300, 24.6, 1, 1), 400, "geometry"},
		{"ErrSelfIntersecting", "POST", "/api/v1/units", `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[2,2],[2,0],[0,1],[0,0]]]},"properties":{}}`, 400, "geometry"},
		{"ErrUnclosed", "POST", "/api/v1/units", `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[2,2],[2,0],[0,1]]]},"properties":{}}`, 400, "geometry"},
		{"ErrRegionCode", "POST", "/api/v1/units", strings.Replace(feature("B-4", "x", 102.9, 24.6, 1, 1), "530481001001", "5304", 1), 400, "region_code"},
		{"ErrLongName", "POST", "/api/v1/units", feature("B-5", strings.Repeat("名", 300), 102.9, 24.6, 1, 1), 400, "name"},
		{"ErrRadiusNegative", "POST", "/api/v1/units", strings.Replace(feature("B-7", "x", 102.9, 24.6, 1, 1), `"code"`, `"influence_radius_m":-1,"code"`, 1), 400, "influence_radius_m"},
		{"ErrRadiusAbsurd", "POST", "/api/v1/units", strings.Replace(feature("B-8", "x", 102.9, 24.6, 1, 1), `"code"`, `"influence_radius_m":50001,"code"`, 1), 400, "influence_radius_m"},
		{"ErrRadiusOverflow", "POST", "/api/v1/units", strings.Replace(feature("B-9", "x", 102.9, 24.6, 1, 1), `"code"`, `"influence_radius_m":1e400,"code"`, 1), 400, "influence_radius_m"},
		{"ErrRadiusText", "POST", "/api/v1/units", strings.Replace(feature("B-10", "x", 102.9, 24.6, 1, 1), `"code"`, `"influence_radius_m":"NaN","code"`, 1), 400, "influence_radius_m"},
		{"ErrTooLarge", "POST", "/api/v1/units", big, 413, ""},
		{"ErrTooManyVertices", "POST", "/api/v1/units", manyVertices, 400, "geometry"},
		{"ErrGradeFromClientIgnoredButBadShape", "POST", "/api/v1/units", `{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"controls":"none"}}`, 400, "controls"},
		{"ErrBBoxArity", "GET", "/api/v1/units?bbox=1,2,3", "", 400, "bbox"},
		{"ErrBBoxOrder", "GET", "/api/v1/units?bbox=103,24,102,25", "", 400, "bbox"},
		{"ErrBBoxRange", "GET", "/api/v1/units?bbox=-200,24,102,25", "", 400, "bbox"},
		{"ErrBBoxNaN", "GET", "/api/v1/units?bbox=NaN,24,102,25", "", 400, "bbox"},
		{"ErrGrade", "GET", "/api/v1/units?grade=purple", "", 400, "grade"},
		{"ErrLimit", "GET", "/api/v1/units?limit=-5", "", 400, "limit"},
		{"ErrCursor", "GET", "/api/v1/units?cursor=abc", "", 400, "cursor"},
		{"ErrRegionPrefix", "GET", "/api/v1/units?region=53%27--", "", 400, "region"},
		{"ErrID", "GET", "/api/v1/units/abc", "", 404, ""},
		{"ErrIfMatchGarbage", "PUT", "/api/v1/units/1", feature("B-6", "x", 102.9, 24.6, 1, 1), 412, ""},
		{"ErrUnknownRoute", "GET", "/api/v1/nothing", "", 404, ""},
		{"ErrMethod", "PATCH", "/api/v1/units", "", 405, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r resp
			if tc.name == "ErrIfMatchGarbage" {
				r = e.do(tc.method, tc.path, tc.body, "If-Match", `"x1"`)
			} else {
				r = e.do(tc.method, tc.path, tc.body)
			}
			if r.code != tc.code {
				t.Fatalf("want %d, got %d %s", tc.code, r.code, clipb(r.body))
			}
			m := r.json(t)
			er, ok := m["error"].(map[string]any)
			if !ok || er["message"] == "" || er["code"] == "" {
				t.Fatalf("errors are {\"error\":{\"code\",\"message\"}}: %s", clipb(r.body))
			}
			if tc.field != "" && !strings.Contains(string(r.body), `"field":"`+tc.field) && !strings.HasPrefix(er["message"].(string), tc.field) {
				t.Fatalf("the message must name %s: %s", tc.field, clipb(r.body))
			}
			for _, leak := range []string{"SQLSTATE", "sqlite", "pgx", "goroutine", ".go:", "/work/"} {
				if strings.Contains(string(r.body), leak) {
					t.Fatalf("the response leaks %q: %s", leak, clipb(r.body))
				}
			}
		})
	}
	if after := e.ix.Snapshot().Len(); after != before {
		t.Fatalf("rejected input must change nothing: %d units before, %d after", before, after)
	}
}

func clipb(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "…"
	}
	return string(b)
}

func (e *env) testReference(t *testing.T) {
	e.t = t
	m := e.do("GET", "/api/v1/categories", "").json(t)
	if len(m["categories"].([]any)) < 30 || len(m["groups"].([]any)) != 4 || len(m["accident_types"].([]any)) < 20 {
		t.Fatalf("categories: %v", m["groups"])
	}
	g := e.do("GET", "/api/v1/grading", "").json(t)
	grades := g["grades"].([]any)
	if len(grades) != 4 || grades[0].(map[string]any)["label"] != "重大风险" || grades[3].(map[string]any)["short_label"] != "低" {
		t.Fatalf("grading: %v", grades)
	}
	cases := []struct {
		name, body string
		code       int
		grade      string
	}{
		{"LS4x5Red", `{"assessment":{"method":"LS","likelihood":4,"severity":5}}`, 200, "red"},
		{"LEC126Yellow", `{"assessment":{"method":"LEC","l":3,"e":6,"c":7}}`, 200, "yellow"},
		{"DirectRed", `{"assessment":{"method":"LS","likelihood":1,"severity":1},"direct_major_reason":"一级重大危险源紧邻学校"}`, 200, "red"},
		{"ErrRange", `{"assessment":{"method":"LS","likelihood":0,"severity":5}}`, 400, ""},
		{"ErrShape", `{"assesment":{}}`, 400, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/api/v1/grading/evaluate", tc.body)
			if r.code != tc.code {
				t.Fatalf("want %d, got %d %s", tc.code, r.code, r.body)
			}
			if tc.grade != "" {
				m := r.json(t)
				if m["grade"] != tc.grade || m["explanation"].(map[string]any)["text"] == "" {
					t.Fatalf("evaluate: %s", r.body)
				}
			}
		})
	}
}

func (e *env) testRegions(t *testing.T) {
	e.t = t
	r := e.do("GET", "/api/v1/regions?level=street", "")
	m := r.json(t)
	fs := m["features"].([]any)
	if len(fs) != 6 {
		t.Fatalf("the demo city has 6 streets/towns, got %d", len(fs))
	}
	var fenglu map[string]any
	for _, f := range fs {
		p := f.(map[string]any)["properties"].(map[string]any)
		if p["code"] == "530481001" {
			fenglu = p
		}
	}
	if fenglu == nil || fenglu["grade"] == "" || !strings.Contains(fenglu["explanation"].(string), "加权指数") {
		t.Fatalf("凤麓街道 must carry a grade and its explanation: %v", fenglu)
	}
	counts := fenglu["counts"].(map[string]any)
	if counts["red"].(float64) < 1 {
		t.Fatalf("凤麓街道 holds the red test units: %v", counts)
	}
	if r := e.do("GET", "/api/v1/regions?level=city", ""); r.code != 400 {
		t.Fatalf("unknown level: %d", r.code)
	}
	one := e.do("GET", "/api/v1/regions/530481001", "")
	if one.code != 200 || one.json(t)["properties"].(map[string]any)["name"] != "凤麓街道" {
		t.Fatalf("one region: %d %s", one.code, clipb(one.body))
	}
	if r := e.do("GET", "/api/v1/regions/999", ""); r.code != 404 {
		t.Fatalf("unknown region: %d", r.code)
	}
	st := e.do("GET", "/api/v1/stats?region=530481001&category=hazardous_chemicals", "").json(t)
	if st["total"].(map[string]any)["total"].(float64) < 1 || len(st["by_category"].([]any)) != 1 || len(st["by_region"].([]any)) == 0 {
		t.Fatalf("stats: %v", st)
	}
	if r := e.do("GET", "/api/v1/stats?category=nope", ""); r.code != 400 {
		t.Fatalf("stats with an unknown category: %d", r.code)
	}
}

func (e *env) testOGC(t *testing.T) {
	e.t = t
	for _, p := range []string{"/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/units", "/ogc/collections/regions"} {
		if r := e.do("GET", p, ""); r.code != 200 {
			t.Fatalf("%s: %d %s", p, r.code, r.body)
		}
	}
	api := e.do("GET", "/api/v1/units?limit=1", "").json(t)["numberMatched"].(float64)
	items := e.do("GET", "/ogc/collections/units/items?limit=2", "").json(t)
	if items["numberMatched"].(float64) != api || len(items["features"].([]any)) != 2 {
		t.Fatalf("OGC items must match the API's count %v: %v", api, items["numberMatched"])
	}
	if r := e.do("GET", "/ogc/collections/units/items?limit=999999", ""); r.code != 200 {
		t.Fatalf("a limit over the maximum is clamped, not refused: %d", r.code)
	}
	if r := e.do("GET", "/ogc/collections/units/items?foo=1", ""); r.code != 400 {
		t.Fatalf("an unknown OGC query parameter is 400, got %d", r.code)
	}
	if r := e.do("GET", "/ogc/collections/nothing/items", ""); r.code != 404 {
		t.Fatalf("unknown collection: %d", r.code)
	}
	regions := e.do("GET", "/ogc/collections/regions/items?level=street", "").json(t)
	if regions["numberMatched"].(float64) != 6 {
		t.Fatalf("regions: %v", regions["numberMatched"])
	}
	if r := e.do("GET", "/ogc/collections/regions/items/530481001", ""); r.code != 200 {
		t.Fatalf("one region item: %d", r.code)
	}
}

func (e *env) testPublic(t *testing.T) {
	e.t = t
	draft := e.do("POST", "/api/v1/units", feature("PUB-1", "草稿单元 联系人张三", 102.91, 24.67, 4, 5), e.as("expert1")...)
	if draft.code != 201 {
		t.Fatalf("create: %s", draft.body)
	}
	loc := draft.header.Get("Location")
	id := strings.TrimPrefix(loc, "/api/v1/units/")
	if r := e.do("GET", "/public/api/v1/units/"+id, ""); r.code != 404 {
		t.Fatalf("a draft unit is not public: %d", r.code)
	}
	// Nobody approves by setting the status.
	approvedBody := strings.Replace(feature("PUB-1", "已审核单元 联系人张三", 102.91, 24.67, 4, 5), `"code":`, `"status":"approved","contact_person":"张三","code":`, 1)
	if r := e.do("PUT", loc, approvedBody, "If-Match", `"1"`); r.code != 403 {
		t.Fatalf("setting status approved directly: %d %s", r.code, r.body)
	}
	submitted := strings.Replace(approvedBody, `"status":"approved"`, `"status":"submitted"`, 1)
	if r := e.do("PUT", loc, submitted, append(e.as("expert1"), "If-Match", `"1"`)...); r.code != 200 {
		t.Fatalf("submit: %d %s", r.code, r.body)
	}
	if r := e.do("POST", loc+"/approve", "", append(e.as("expert1"), "If-Match", `"2"`)...); r.code != 403 {
		t.Fatalf("the author approves its own revision: %d %s", r.code, r.body)
	}
	if r := e.do("POST", loc+"/approve", "", append(e.as("expert2"), "If-Match", `"2"`)...); r.code != 200 {
		t.Fatalf("approve: %d %s", r.code, r.body)
	}
	if r := e.do("GET", "/public/api/v1/units/"+id, ""); r.code != 404 {
		t.Fatalf("an approved unit is public only once published: %d", r.code)
	}
	pr := e.do("POST", "/api/v1/publications", `{"note":"测试"}`)
	if pr.code != 201 {
		t.Fatalf("publish: %d %s", pr.code, pr.body)
	}
	number := int(pr.json(t)["number"].(float64))
	r := e.do("GET", "/public/api/v1/units/"+id, "")
	if r.code != 200 {
		t.Fatalf("a published unit is public: %d", r.code)
	}
	for _, internal := range []string{"张三", "已审核单元", "contact_person", "controls", "responsible_unit", `"name"`, "address"} {
		if strings.Contains(string(r.body), internal) {
			t.Fatalf("the public sees an internal field (%s): %s", internal, r.body)
		}
	}
	props := r.json(t)["properties"].(map[string]any)
	if props["grade"] != "red" || props["grade_label"] != "重大风险" || props["category"] != "hazardous_chemicals" {
		t.Fatalf("public properties: %v", props)
	}
	if r := e.do("GET", "/public/api/v1/units?q="+urlq("已审核"), ""); r.json(t)["numberMatched"].(float64) != 0 {
		t.Fatalf("the public must not be able to search by internal names: %s", r.body)
	}
	list := e.do("GET", "/public/api/v1/units?q=PUB-1", "")
	if list.json(t)["numberMatched"].(float64) != 1 || strings.Contains(string(list.body), "张三") {
		t.Fatalf("public list: %s", list.body)
	}
	if r := e.do("POST", "/public/api/v1/units", feature("PUB-2", "x", 102.9, 24.6, 1, 1)); r.code != 405 && r.code != 404 {
		t.Fatalf("the public cannot write: %d", r.code)
	}
	// A new revision (graded lower) needs approval again; the approved one stays public,
	// also in the next publication.
	lower := strings.Replace(feature("PUB-1", "已审核单元", 102.91, 24.67, 1, 1), `"code":`, `"status":"draft","downgrade_reason":"已整改","code":`, 1)
	if r := e.do("PUT", loc, lower, append(e.as("expert1"), "If-Match", `"3"`)...); r.code != 200 {
		t.Fatalf("new revision: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/publications", ""); r.code != 201 {
		t.Fatalf("publish 2: %d %s", r.code, r.body)
	}
	if g := e.do("GET", "/public/api/v1/units/"+id, "").json(t)["properties"].(map[string]any)["grade"]; g != "red" {
		t.Fatalf("the approved revision stays public while the new one is a draft: %v", g)
	}
	if r := e.do("POST", loc+"/submit", "", append(e.as("expert1"), "If-Match", `"4"`)...); r.code != 200 {
		t.Fatalf("submit: %d %s", r.code, r.body)
	}
	if r := e.do("POST", loc+"/approve", "", append(e.as("expert2"), "If-Match", `"5"`)...); r.code != 200 {
		t.Fatalf("approve: %d %s", r.code, r.body)
	}
	p3 := e.do("POST", "/api/v1/publications", "")
	if p3.code != 201 {
		t.Fatalf("publish 3: %d %s", p3.code, p3.body)
	}
	if g := e.do("GET", "/public/api/v1/units/"+id, "").json(t)["properties"].(map[string]any)["grade"]; g != "blue" {
		t.Fatalf("the new approved revision is public after publication: %v", g)
	}
	n3 := int(p3.json(t)["number"].(float64))
	diff := e.do("GET", fmt.Sprintf("/api/v1/publications/%d/diff/%d", number, n3), "", e.as("zjj")...)
	if diff.code != 200 || !strings.Contains(string(diff.body), `"from_grade":"red","to_grade":"blue"`) {
		t.Fatalf("diff: %d %s", diff.code, diff.body)
	}
	if strings.Contains(string(diff.body), "已审核单元") {
		t.Fatalf("the diff shows a department the name of a unit outside its scope: %s", diff.body)
	}
	if d := e.do("GET", fmt.Sprintf("/api/v1/publications/%d/diff/%d", number, n3), "", e.as("yjj")...); !strings.Contains(string(d.body), "已审核单元") {
		t.Fatalf("inside its scope the diff names the unit: %s", d.body)
	}
	// Tiles of a publication carry its number and are cacheable forever.
	tj := e.do("GET", "/public/tiles/units.json", "", "Authorization", "")
	if !strings.Contains(string(tj.body), fmt.Sprintf("/public/tiles/%d/units/{z}/{x}/{y}.pbf", n3)) {
		t.Fatalf("TileJSON must name the publication: %s", tj.body)
	}
	zxy := strings.TrimPrefix(tilePath("units", orb.Point{102.91, 24.67}, 14), "/tiles/units/")
	tile := e.do("GET", fmt.Sprintf("/public/tiles/%d/units/%s", n3, zxy), "", "Authorization", "")
	if tile.code != 200 || tile.header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Fatalf("numbered tile: %d %q", tile.code, tile.header.Get("Cache-Control"))
	}
	if r := e.do("GET", fmt.Sprintf("/public/tiles/%d/units/%s", number, zxy), "", "Authorization", ""); r.code != 404 {
		t.Fatalf("a superseded publication's tiles: %d", r.code)
	}
	if r := e.do("GET", "/public/api/v1/regions?level=street", ""); r.code != 200 {
		t.Fatalf("public regions: %d", r.code)
	}
	if r := e.do("GET", "/public/api/v1/publication", "", "Authorization", ""); r.code != 200 || strings.Contains(string(r.body), "created_by") {
		t.Fatalf("public publication: %d %s", r.code, r.body)
	}
}
