package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// roles are the requesters of the access tests: "" is the public.
var roles = []string{"", "admin", "expert1", "zjj", "yjj"}

func (e *env) asRole(role string) []string {
	if role == "" {
		return []string{"Authorization", ""}
	}
	return e.as(role)
}

// deniedRows counts the refusals in the audit log: the counts of its denied rows, after
// the server has written the counts of the refusals it folded.
func (e *env) deniedRows(t *testing.T) int {
	t.Helper()
	if err := e.api.FlushAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
	n := 0
	before := int64(0)
	for {
		es, err := e.store.AuditEntries(context.Background(), riskmap.AuditFilter{Outcome: riskmap.OutcomeDenied, Limit: 1000, BeforeID: before})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range es {
			n += x.Count
		}
		if len(es) < 1000 {
			return n
		}
		before = es[len(es)-1].ID
	}
}

func TestAccess(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			e.testAccess(t)
		})
	}
}

func (e *env) create(t *testing.T, as, code, name, category, region string, lon, lat float64) string {
	t.Helper()
	body := strings.NewReplacer(`"category":"hazardous_chemicals"`, fmt.Sprintf(`"category":%q`, category),
		`"region_code":"530481001001"`, fmt.Sprintf(`"region_code":%q`, region)).Replace(feature(code, name, lon, lat, 4, 5))
	r := e.do("POST", "/api/v1/units", body, e.as(as)...)
	if r.code != 201 {
		t.Fatalf("create %s as %s: %d %s", code, as, r.code, r.body)
	}
	return strings.TrimPrefix(r.header.Get("Location"), "/api/v1/units/")
}

func (e *env) testAccess(t *testing.T) {
	e.t = t
	// H: 应急局's hazardous-chemical unit in 凤麓街道, approved and published.
	h := e.create(t, "expert1", "ACC-H", "危化企业甲 联系人李四", "hazardous_chemicals", "530481001001", 102.912, 24.671)
	if r := e.do("POST", "/api/v1/units/"+h+"/submit", "", append(e.as("expert1"), "If-Match", `"1"`)...); r.code != 200 {
		t.Fatalf("submit: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/units/"+h+"/approve", "", append(e.as("expert2"), "If-Match", `"2"`)...); r.code != 200 {
		t.Fatalf("approve: %d %s", r.code, r.body)
	}
	if r := e.do("POST", "/api/v1/publications", ""); r.code != 201 {
		t.Fatalf("publish: %d %s", r.code, r.body)
	}
	// D: a hazardous-chemical draft nobody published; C: 住建局's construction site.
	d := e.create(t, "expert1", "ACC-D", "危化企业乙 未发布", "hazardous_chemicals", "530481001001", 102.913, 24.672)
	c := e.create(t, "zjj", "ACC-C", "建筑工地丙", "construction", "530481001001", 102.914, 24.673)
	hp := orb.Point{102.912, 24.671}
	bbox := "bbox=102.9,24.66,102.92,24.68"

	t.Run("ReadsByRole", func(t *testing.T) {
		e.t = t
		type want struct {
			list  []string // ids listed by /api/v1/units?bbox (nil: 401)
			getH  int
			getD  int
			names bool // full fields (name) of H
		}
		wants := map[string]want{
			"":        {nil, 401, 401, false},
			"admin":   {[]string{h, d, c}, 200, 200, true},
			"expert1": {[]string{h, d, c}, 200, 200, true},
			"zjj":     {[]string{c}, 403, 404, false},
			"yjj":     {[]string{h, d}, 200, 200, true},
		}
		for _, role := range roles {
			w := wants[role]
			hdr := e.asRole(role)
			r := e.do("GET", "/api/v1/units?"+bbox+"&q=ACC-", "", hdr...)
			if w.list == nil {
				if r.code != 401 {
					t.Fatalf("%q lists units: %d", role, r.code)
				}
			} else {
				got := []string{}
				for _, f := range r.json(t)["features"].([]any) {
					got = append(got, fmt.Sprint(f.(map[string]any)["id"]))
				}
				if strings.Join(got, ",") != strings.Join(w.list, ",") {
					t.Fatalf("%q lists %v, want %v", role, got, w.list)
				}
			}
			if r := e.do("GET", "/api/v1/units/"+h, "", hdr...); r.code != w.getH || strings.Contains(string(r.body), "李四") != w.names {
				t.Fatalf("%q gets H: %d %s", role, r.code, clipb(r.body))
			}
			if r := e.do("GET", "/api/v1/units/"+d, "", hdr...); r.code != w.getD {
				t.Fatalf("%q gets D: %d", role, r.code)
			}
			// A unit's conflicts (issue 16) are read as the unit is.
			if r := e.do("GET", "/api/v1/units/"+h+"/conflicts", "", hdr...); r.code != w.getH {
				t.Fatalf("%q gets H's conflicts: %d", role, r.code)
			}
			if r := e.do("GET", "/api/v1/units/"+d+"/conflicts", "", hdr...); r.code != w.getD {
				t.Fatalf("%q gets D's conflicts: %d", role, r.code)
			}
			// Tiles: H is in the tile only for those who may read it in full.
			r, layers := e.tile(t, tilePath("units", hp, 16), hdr...)
			if role == "" {
				if r.code != 401 {
					t.Fatalf("anonymous internal tile: %d", r.code)
				}
			} else {
				inTile := false
				for _, l := range layers {
					for _, f := range l.Features {
						if fmt.Sprint(f.ID) == h || fmt.Sprint(f.Properties["id"]) == h {
							inTile = true
						}
					}
				}
				if inTile != w.names {
					t.Fatalf("%q sees H in the tile: %v", role, inTile)
				}
			}
			// OGC: the public (QGIS without login) sees the publication; users their scope.
			ogc := e.do("GET", "/ogc/collections/units/items?"+bbox+"&q=ACC-", "", hdr...)
			if ogc.code != 200 {
				t.Fatalf("%q OGC items: %d %s", role, ogc.code, clipb(ogc.body))
			}
			if strings.Contains(string(ogc.body), "李四") != w.names || (role == "" && strings.Contains(string(ogc.body), "ACC-D")) {
				t.Fatalf("%q OGC items: %s", role, clipb(ogc.body))
			}
			item := e.do("GET", "/ogc/collections/units/items/"+h, "", hdr...)
			if wantItem := map[bool]int{true: 200, false: 403}[w.names]; role != "" && item.code != wantItem {
				t.Fatalf("%q OGC item H: %d", role, item.code)
			}
			// CSV export follows the same rules.
			csv := e.do("GET", "/api/v1/units.csv?q=ACC-", "", hdr...)
			if role == "" {
				if csv.code != 401 {
					t.Fatalf("anonymous CSV: %d", csv.code)
				}
			} else if csv.code != 200 || strings.Contains(string(csv.body), "危化企业甲") != w.names {
				t.Fatalf("%q CSV: %d %s", role, csv.code, clipb(csv.body))
			}
			// Statistics count only what the requester may read.
			st := e.do("GET", "/api/v1/stats?category=hazardous_chemicals", "", hdr...)
			if role == "zjj" && st.json(t)["total"].(map[string]any)["total"].(float64) != 0 {
				t.Fatalf("住建局 counts hazardous chemicals: %s", st.body)
			}
		}
		pubCSV := e.do("GET", "/public/api/v1/units.csv?q=ACC-", "", "Authorization", "")
		if pubCSV.code != 200 || strings.Contains(string(pubCSV.body), "危化企业") || !strings.Contains(string(pubCSV.body), "ACC-H") || strings.Contains(string(pubCSV.body), "ACC-D") {
			t.Fatalf("public CSV: %d %s", pubCSV.code, pubCSV.body)
		}
	})

	t.Run("WritesByRole", func(t *testing.T) {
		e.t = t
		ver := func(id string) string {
			return e.do("GET", "/api/v1/units/"+id, "").header.Get("ETag")
		}
		upd := strings.Replace(feature("ACC-H", "改名", 102.912, 24.671, 1, 1), `"code":`, `"status":"draft","code":`, 1)
		for _, tc := range []struct {
			role string
			want int
		}{{"", 401}, {"zjj", 403}} {
			before := ver(h)
			if r := e.do("PUT", "/api/v1/units/"+h, upd, append(e.asRole(tc.role), "If-Match", before)...); r.code != tc.want {
				t.Fatalf("%q updates H: %d %s", tc.role, r.code, r.body)
			}
			if ver(h) != before {
				t.Fatalf("a refused update changed H")
			}
			if r := e.do("DELETE", "/api/v1/units/"+h, "", append(e.asRole(tc.role), "If-Match", before)...); r.code != tc.want {
				t.Fatalf("%q retires H: %d", tc.role, r.code)
			}
		}
		if r := e.do("POST", "/api/v1/units", feature("ACC-X", "x", 102.9, 24.6, 1, 1), "Authorization", ""); r.code != 401 {
			t.Fatalf("anonymous create: %d", r.code)
		}
		if r := e.do("POST", "/api/v1/units", feature("ACC-X", "x", 102.9, 24.6, 1, 1), e.as("zjj")...); r.code != 403 {
			t.Fatalf("住建局 creates a hazardous-chemical unit: %d %s", r.code, r.body)
		}
		outside := strings.NewReplacer(`"category":"hazardous_chemicals"`, `"category":"construction"`,
			`"region_code":"530481001001"`, `"region_code":"530402001001"`).Replace(feature("ACC-Y", "y", 102.9, 24.6, 1, 1))
		if r := e.do("POST", "/api/v1/units", outside, e.as("zjj")...); r.code != 403 {
			t.Fatalf("住建局 creates outside its regions: %d %s", r.code, r.body)
		}
		// A declared region inside the scope does not help a unit placed outside it: 应急局's
		// scope is 凤麓街道 (530481001); this point lies in 路居镇.
		placed := strings.Replace(feature("ACC-Z", "z", 102.96, 24.587, 1, 1), "530481001001", "530481001001", 1)
		if r := e.do("POST", "/api/v1/units", placed, e.as("yjj")...); r.code != 403 || !strings.Contains(string(r.body), "不在您管辖的区域") {
			t.Fatalf("应急局 places a unit outside its regions: %d %s", r.code, r.body)
		}
		// The unknown and the hidden are not found alike.
		if a, b := e.do("GET", "/api/v1/units/"+d, "", e.as("zjj")...), e.do("GET", "/api/v1/units/99999999", "", e.as("zjj")...); a.code != 404 || b.code != 404 ||
			strings.Replace(string(a.body), d, "N", 1) != strings.Replace(string(b.body), "99999999", "N", 1) {
			t.Fatalf("a hidden unit must look like a missing one: %s / %s", a.body, b.body)
		}
		if r := e.do("POST", "/api/v1/units/"+c+"/submit", "", append(e.as("zjj"), "If-Match", ver(c))...); r.code != 200 {
			t.Fatalf("住建局 submits its own unit: %d %s", r.code, r.body)
		}
		if r := e.do("POST", "/api/v1/units/"+c+"/approve", "", append(e.as("zjj"), "If-Match", ver(c))...); r.code != 403 {
			t.Fatalf("a department approves: %d", r.code)
		}
		if r := e.do("POST", "/api/v1/units/"+c+"/approve", "", append(e.as("expert1"), "If-Match", ver(c))...); r.code != 200 {
			t.Fatalf("an expert approves a department's unit: %d %s", r.code, r.body)
		}
		for _, role := range []string{"expert1", "zjj", "yjj"} {
			for _, path := range []string{"/api/v1/users", "/api/v1/tokens", "/api/v1/audit"} {
				if r := e.do("GET", path, "", e.as(role)...); r.code != 403 {
					t.Fatalf("%s reads %s: %d", role, path, r.code)
				}
			}
			if r := e.do("POST", "/api/v1/publications", "", e.as(role)...); r.code != 403 {
				t.Fatalf("%s publishes: %d", role, r.code)
			}
		}
	})

	t.Run("EveryDeniedRequestIsAuditedOnce", func(t *testing.T) {
		e.t = t
		denied := []struct {
			method, path, role string
		}{
			{"GET", "/api/v1/units", ""},
			{"POST", "/api/v1/units", ""},
			{"GET", "/api/v1/units/" + h, "zjj"},
			{"GET", "/api/v1/units/" + d, "zjj"},
			{"GET", "/api/v1/users", "expert1"},
			{"POST", "/api/v1/publications", "yjj"},
			{"GET", "/ogc/collections/units/items/" + h, "zjj"},
			{"GET", "/api/v1/units", "bogus-token"},
		}
		for _, dr := range denied {
			before := e.deniedRows(t)
			hdr := e.asRole(dr.role)
			if dr.role == "bogus-token" {
				hdr = []string{"Authorization", "Bearer nope"}
			}
			r := e.do(dr.method, dr.path, "{}", hdr...)
			if r.code != 401 && r.code != 403 && r.code != 404 {
				t.Fatalf("%s %s as %q: %d", dr.method, dr.path, dr.role, r.code)
			}
			if after := e.deniedRows(t); after != before+1 {
				t.Fatalf("%s %s as %q left %d denied audit rows, want 1", dr.method, dr.path, dr.role, after-before)
			}
		}
		es, _ := e.store.AuditEntries(context.Background(), riskmap.AuditFilter{Action: "unit.approve", Limit: 10})
		if len(es) == 0 || es[0].Actor == "" || es[0].After == nil || es[0].Before == nil {
			t.Fatalf("an approval is audited with who, before and after: %+v", es)
		}
	})

	t.Run("Sessions", func(t *testing.T) {
		e.t = t
		jar, _ := cookiejar.New(nil)
		cl := &http.Client{Jar: jar}
		post := func(path, body string, hdr ...string) *http.Response {
			req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			res, err := cl.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res
		}
		get := func(path string) int {
			res, err := cl.Get(e.srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		login := post("/api/v1/session", `{"username":"expert2","password":"`+testPassword+`"}`)
		if login.StatusCode != 200 {
			t.Fatalf("login: %d", login.StatusCode)
		}
		ck := login.Header.Get("Set-Cookie")
		if !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Strict") {
			t.Fatalf("session cookie: %s", ck)
		}
		first := login.Cookies()[0].Value
		if get("/api/v1/units?limit=1") != 200 {
			t.Fatal("a session reads")
		}
		// A write without the CSRF token is refused.
		if r := post("/api/v1/units", feature("ACC-S", "s", 102.9, 24.6, 1, 1)); r.StatusCode != 403 {
			t.Fatalf("write without CSRF: %d", r.StatusCode)
		}
		// Logging in again rotates the token: the old one no longer works.
		if r := post("/api/v1/session", `{"username":"expert2","password":"`+testPassword+`"}`); r.StatusCode != 200 || r.Cookies()[0].Value == first {
			t.Fatalf("login again: %d", r.StatusCode)
		}
		old := e.do("GET", "/api/v1/units?limit=1", "", "Authorization", "", "Cookie", "riskmap_session="+first)
		if old.code != 401 {
			t.Fatalf("the session before rotation still works: %d", old.code)
		}
		// Disabling a user cuts it off at once: session and token.
		if r := e.do("PATCH", "/api/v1/users/expert2", `{"disabled":true}`); r.code != 200 {
			t.Fatalf("disable: %d %s", r.code, r.body)
		}
		if get("/api/v1/units?limit=1") != 401 {
			t.Fatal("a disabled user's session still works")
		}
		if r := e.do("GET", "/api/v1/units?limit=1", "", e.as("expert2")...); r.code != 401 {
			t.Fatalf("a disabled user's token still works: %d", r.code)
		}
		if r := post("/api/v1/session", `{"username":"expert2","password":"`+testPassword+`"}`); r.StatusCode != 401 {
			t.Fatalf("a disabled user logs in: %d", r.StatusCode)
		}
		if r := e.do("PATCH", "/api/v1/users/expert2", `{"disabled":false}`); r.code != 200 {
			t.Fatalf("enable: %d", r.code)
		}
		// Logout ends the session.
		post("/api/v1/session", `{"username":"expert2","password":"`+testPassword+`"}`)
		var csrf string
		{
			res, _ := cl.Get(e.srv.URL + "/api/v1/session")
			var b struct {
				CSRF string `json:"csrf_token"`
			}
			decodeJSON(t, res, &b)
			csrf = b.CSRF
		}
		// Logging out needs the token too: another site cannot end the session.
		if r, _ := cl.Do(mustReq(t, "DELETE", e.srv.URL+"/api/v1/session")); r.StatusCode != 403 {
			t.Fatalf("logout without the CSRF token: %d", r.StatusCode)
		}
		req, _ := http.NewRequest("DELETE", e.srv.URL+"/api/v1/session", nil)
		req.Header.Set("X-CSRF-Token", csrf)
		res, err := cl.Do(req)
		if err != nil || res.StatusCode != 204 {
			t.Fatalf("logout: %v %v", err, res)
		}
		if get("/api/v1/units?limit=1") != 401 {
			t.Fatal("a session survives logout")
		}
	})

	t.Run("ThrottleIgnoresForgedForwardedFor", func(t *testing.T) {
		e.t = t
		for i := 0; i < 5; i++ {
			r := e.do("POST", "/api/v1/session", `{"username":"yjj","password":"wrong password!"}`, "Authorization", "", "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
			if r.code != 401 {
				t.Fatalf("failed login %d: %d", i, r.code)
			}
		}
		r := e.do("POST", "/api/v1/session", `{"username":"yjj","password":"`+testPassword+`"}`, "Authorization", "", "X-Forwarded-For", "198.51.100.7")
		if r.code != 429 || r.header.Get("Retry-After") == "" {
			t.Fatalf("the sixth login within the window: %d %s", r.code, r.body)
		}
		// Per address too: many accounts from one address.
		for i := 0; i < 20; i++ {
			e.do("POST", "/api/v1/session", fmt.Sprintf(`{"username":"nobody%d","password":"wrong password!"}`, i), "Authorization", "", "X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i))
		}
		if r := e.do("POST", "/api/v1/session", `{"username":"zjj","password":"`+testPassword+`"}`, "Authorization", ""); r.code != 429 {
			t.Fatalf("an address past its limit logs in: %d", r.code)
		}
	})

	t.Run("Edge", func(t *testing.T) {
		e.t = t
		for _, path := range []string{"/", "/api/v1/units", "/nope", "/public/api/v1/units"} {
			r := e.do("GET", path, "", "Authorization", "")
			for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
				if r.header.Get(h) == "" {
					t.Fatalf("%s lacks %s (%d)", path, h, r.code)
				}
			}
			if !strings.Contains(r.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
				t.Fatalf("CSP: %s", r.header.Get("Content-Security-Policy"))
			}
		}
		// An oversized body is refused on every write, review transitions included.
		if r := e.do("POST", "/api/v1/units/"+c+"/reject", strings.Repeat("x", 2<<20), append(e.as("expert2"), "If-Match", `"1"`)...); r.code != 413 {
			t.Fatalf("an oversized body on reject: %d", r.code)
		}
		// Login CSRF: a form cannot post JSON, and a cross-origin login is refused.
		login := `{"username":"admin","password":"` + testPassword + `"}`
		if r := e.do("POST", "/api/v1/session", login, "Authorization", "", "Content-Type", "text/plain"); r.code != 415 {
			t.Fatalf("a login posted as a form: %d", r.code)
		}
		if r := e.do("POST", "/api/v1/session", login, "Authorization", "", "Origin", "http://evil.example"); r.code != 403 {
			t.Fatalf("a cross-origin login: %d", r.code)
		}
		// Smuggled separators and parent segments are refused before any rule applies.
		for _, raw := range []string{"/api%2Fv1/units", "/public/..%2Fapi/v1/units", "/public/%2e%2e/api/v1/units", "/public/../api/v1/users", "/api/v1/units%2F" + h} {
			code := rawGet(t, e.srv.Listener.Addr().String(), raw)
			if code != 400 && code != 404 {
				t.Fatalf("GET %s: %d", raw, code)
			}
		}
	})
}

// rawGet sends a request line exactly as given (no client-side cleaning) and returns the
// status code.
func rawGet(t *testing.T, addr, path string) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, addr)
	var proto string
	var code int
	if _, err := fmt.Fscan(conn, &proto, &code); err != nil {
		t.Fatal(err)
	}
	return code
}

func decodeJSON(t *testing.T, res *http.Response, v any) {
	t.Helper()
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

func mustReq(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// testHazardAccess (run by TestHazards): a department sees, counts and moves only the
// hidden dangers of its scope, by every read path: list, id, history, photos, a unit's
// list, supervision, statistics and CSV.
func (e *env) testHazardAccess(t *testing.T) {
	e.t = t
	// H: 应急局's (yjj) hazardous-chemical unit; C: 住建局's (zjj) construction site.
	hu := e.unitOf(t, "expert1", "HZA-H", "hazardous_chemicals", "530481001001", 102.912, 24.671, 2, 2)
	cu := e.unitOf(t, "zjj", "HZA-C", "construction", "530481001001", 102.914, 24.673, 2, 2)
	// Both overdue (deadline passed), both major and under the city's supervision.
	h := e.newHazard(t, "yjj", hazardBody(hu, "major", daysAgo(40), daysAgo(35), map[string]any{"five": five, "description": "危化品仓库隐患甲"}))
	c := e.newHazard(t, "zjj", hazardBody(cu, "major", daysAgo(40), daysAgo(35), map[string]any{"five": five, "description": "工地隐患乙"}))
	for _, id := range []string{idOf(h), idOf(c)} {
		if r := e.do("POST", "/api/v1/hazards/"+id+"/supervision", `{"by":"city","note":"市安委办挂牌"}`, e.as("expert1")...); r.code != 200 {
			t.Fatalf("supervise: %d %s", r.code, r.body)
		}
	}
	body, ct := form(map[string]string{"stage": "before"}, "a.jpg", "image/jpeg", jpegWithGPS(20, 20))
	ph := e.do("POST", "/api/v1/hazards/"+idOf(h)+"/photos", body, append(e.as("yjj"), "Content-Type", ct)...)
	if ph.code != 201 {
		t.Fatalf("photo: %d %s", ph.code, ph.body)
	}
	photo := ph.json(t)["url"].(string)
	hc, cc := h["code"].(string), c["code"].(string)
	// Red units assessed on 2026-03-01: their reviews (every 6 months at most) are past due.
	e.unitOf(t, "expert1", "HZA-RH", "hazardous_chemicals", "530481001001", 102.912, 24.671, 4, 5)
	e.unitOf(t, "zjj", "HZA-RC", "construction", "530481001001", 102.914, 24.673, 4, 5)

	// Each department sees its own, by every path; the admin sees both.
	for _, tc := range []struct{ who, category, own, other, otherID, otherUnit string }{
		{"zjj", "construction", cc, hc, idOf(h), hu},
		{"yjj", "hazardous_chemicals", hc, cc, idOf(c), cu},
	} {
		t.Run(tc.who, func(t *testing.T) {
			e.t = t
			as := e.as(tc.who)
			for _, path := range []string{"/api/v1/hazards", "/api/v1/hazards?overdue=true", "/api/v1/hazards?supervised=true", "/api/v1/hazards.csv",
				"/api/v1/supervision", "/api/v1/hazards/stats?by=category", "/api/v1/hazards/stats?by=department", "/api/v1/hazards/stats?by=region"} {
				r := e.do("GET", path, "", as...)
				if r.code != 200 {
					t.Fatalf("%s: %d %s", path, r.code, r.body)
				}
				s := string(r.body)
				if strings.Contains(s, tc.other) || strings.Contains(s, "危化品仓库隐患甲") && tc.who == "zjj" || strings.Contains(s, "工地隐患乙") && tc.who == "yjj" {
					t.Errorf("%s shows %s another department's hidden danger: %s", path, tc.who, clipb(r.body))
				}
				if !strings.HasPrefix(path, "/api/v1/hazards/stats") && !strings.Contains(s, tc.own) {
					t.Errorf("%s does not show %s its own %s: %s", path, tc.who, tc.own, clipb(r.body))
				}
			}
			view := e.do("GET", "/api/v1/supervision", "", as...).json(t)
			sv := view["counts"].(map[string]any)
			if sv["overdue"].(float64) != 1 || sv["supervised"].(float64) != 1 {
				t.Errorf("supervision counts only its own: %v", sv)
			}
			own := map[string]string{"zjj": "HZA-RC", "yjj": "HZA-RH"}[tc.who]
			found := false
			for _, it := range view["reviews_overdue"].([]any) {
				u := it.(map[string]any)
				if u["category"] != tc.category {
					t.Errorf("reviews past due show %s a unit of %v", tc.who, u["category"])
				}
				found = found || u["code"] == own
			}
			if !found {
				t.Errorf("reviews past due lack its own %s: %v", own, view["reviews_overdue"])
			}
			st := e.do("GET", "/api/v1/hazards/stats?by=category", "", as...).json(t)
			for _, it := range st["items"].([]any) {
				if k := it.(map[string]any)["key"]; k != tc.category {
					t.Errorf("statistics count another department's category %v", k)
				}
			}
			if n := st["total"].(map[string]any)["open_major"].(float64); n != 1 {
				t.Errorf("statistics count its own open major one: %v", n)
			}
			for _, path := range []string{"/api/v1/hazards/" + tc.otherID, "/api/v1/hazards/" + tc.otherID + "/history",
				"/api/v1/hazards/" + tc.otherID + "/photos"} {
				if r := e.do("GET", path, "", as...); r.code != 404 {
					t.Errorf("%s as %s: %d %s", path, tc.who, r.code, r.body)
				}
			}
			if r := e.do("GET", "/api/v1/units/"+tc.otherUnit+"/hazards", "", as...); r.code != 404 && r.code != 403 {
				t.Errorf("the other's unit's hidden dangers: %d %s", r.code, r.body)
			}
			before := e.do("GET", "/api/v1/hazards/"+tc.otherID, "")
			if r := e.move(tc.who, tc.otherID, "reported", ""); r.code != 404 {
				t.Errorf("moving the other's: %d %s", r.code, r.body)
			}
			if after := e.do("GET", "/api/v1/hazards/"+tc.otherID, ""); after.header.Get("ETag") != before.header.Get("ETag") {
				t.Errorf("a refused transition changed the hidden danger")
			}
			if r := e.do("POST", "/api/v1/hazards", hazardBody(tc.otherUnit, "general", daysAgo(5), "2099-01-01", nil), as...); r.code != 403 && r.code != 404 {
				t.Errorf("a hidden danger on a unit outside the scope: %d %s", r.code, r.body)
			}
			if n := e.do("GET", "/api/v1/hazards?unit="+tc.otherUnit, "").json(t)["numberMatched"].(float64); n != 1 {
				t.Errorf("a refused hidden danger was stored: the unit has %v", n)
			}
		})
	}
	e.t = t
	if r := e.do("GET", photo, "", e.as("zjj")...); r.code != 404 {
		t.Errorf("another department's photo: %d", r.code)
	}
	if r := e.do("GET", photo, "", e.as("yjj")...); r.code != 200 {
		t.Errorf("its own photo: %d", r.code)
	}
	if r := e.do("GET", "/api/v1/hazards?overdue=true", "").json(t); r["numberMatched"].(float64) < 2 {
		t.Errorf("the admin sees the whole city: %v", r["numberMatched"])
	}
	if n := len(e.do("GET", "/api/v1/hazards?unit="+hu, "", e.as("zjj")...).json(t)["features"].([]any)); n != 0 {
		t.Errorf("filtering by another's unit shows %d", n)
	}
}
