package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"riskmap/pkg/httpapi"
	"riskmap/pkg/pgtest"
	"riskmap/pkg/postgis"
)

// The defects of issue 11 found by a hostile-input run, each reproduced here.

// serveReal serves e's handler on a real net/http server configured as `riskmap serve`
// configures it (timeouts, the listener that adds headers to net/http's own errors).
func serveReal(t *testing.T, api *httpapi.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := api.HTTPServer(slog.NewLogLogger(slog.DiscardHandler, slog.LevelWarn))
	go hs.Serve(httpapi.Listener(ln))
	t.Cleanup(func() { hs.Close() })
	return ln.Addr().String()
}

// rawExchange writes req on a new connection, optionally stalls, and returns what the
// server answered before it closed the connection or the deadline passed.
func rawExchange(t *testing.T, addr, req string, deadline time.Duration) (string, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(deadline))
	if _, err := io.WriteString(conn, req); err != nil {
		return "", err
	}
	b, err := io.ReadAll(conn)
	return string(b), err
}

// rawHead writes req on a new connection and returns the answer's head as soon as it has
// come, without waiting for the connection to close.
func rawHead(t *testing.T, addr, req string, deadline time.Duration) (string, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(deadline))
	if _, err := io.WriteString(conn, req); err != nil {
		return "", err
	}
	var got []byte
	buf := make([]byte, 4096)
	for !strings.Contains(string(got), "\r\n\r\n") {
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return string(got), err
		}
	}
	return string(got), nil
}

func statusOf(resp string) int {
	var proto string
	var code int
	fmt.Sscanf(resp, "%s %d", &proto, &code)
	return code
}

// Defect 2: a declared body that never comes, or comes too slowly, and headers sent one
// byte at a time, no longer hold a connection.
func TestSlowClientsAreCutOff(t *testing.T) {
	e := newEnvWith(t, gpkgStore(t), func(c *httpapi.Config) {
		c.Timeouts = httpapi.Timeouts{Header: 300 * time.Millisecond, Body: 300 * time.Millisecond}
	})
	addr := serveReal(t, e.api)

	t.Run("ErrDeclaredLengthOverLimit413AtOnce", func(t *testing.T) {
		resp, err := rawExchange(t, addr, "POST /api/v1/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"+
			"Content-Length: 100000000\r\n\r\n", 5*time.Second)
		if statusOf(resp) != 413 {
			t.Fatalf("a declared 100 MB login body: %q %v", resp, err)
		}
		if !strings.Contains(resp, "Content-Security-Policy") || !strings.Contains(resp, "请求体过大") {
			t.Fatalf("413 lacks its headers or its Chinese message: %q", resp)
		}
	})
	t.Run("ErrBodyStalls408", func(t *testing.T) {
		resp, err := rawExchange(t, addr, "POST /api/v1/units HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "+e.tokens["admin"]+
			"\r\nContent-Type: application/geo+json\r\nContent-Length: 500\r\n\r\n{\"type\":\"Feat", 5*time.Second)
		if statusOf(resp) != 408 {
			t.Fatalf("a body that stops mid-way: %q %v", resp, err)
		}
	})
	t.Run("ErrHeadersTrickleClosed", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		// One header byte every 100 ms: the server must hang up once the header time is over.
		closed := false
		for _, b := range []byte("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") {
			if _, err := conn.Write([]byte{b}); err != nil {
				closed = true
				break
			}
			time.Sleep(100 * time.Millisecond)
			conn.SetReadDeadline(time.Now().Add(time.Millisecond))
			var one [1]byte
			if _, err := conn.Read(one[:]); err != nil && !isTimeout(err) {
				closed = true
				break
			}
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		}
		if !closed {
			t.Fatal("a client trickling its headers for 6 s still holds the connection (header timeout 300 ms)")
		}
	})
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// Defect 3: links never follow a Host header or scheme headers a client made up.
func TestLinksIgnoreForgedHostAndScheme(t *testing.T) {
	e := newEnv(t, gpkgStore(t))
	addr := e.srv.Listener.Addr().String()
	forged := [][]string{
		{"Host", "evil.example"},
		{"Host", "evil.example", "X-Forwarded-Proto", "https"},
		{"X-Forwarded-Ssl", "on"},
		{"X-Url-Scheme", "https"},
		{"X-Forwarded-Host", "evil.example"},
	}
	for _, hdr := range forged {
		for _, path := range []string{"/ogc", "/tiles/units.json", "/api/v1/units?limit=1", "/public/tiles/units.json"} {
			r := e.do("GET", path, "", append(e.as("admin"), hdr...)...)
			body := string(r.body)
			if strings.Contains(body, "evil.example") || strings.Contains(body, "https://") {
				t.Fatalf("GET %s with %v: links follow the client: %s", path, hdr, clipb(r.body))
			}
			if strings.Contains(body, "://") && !strings.Contains(body, "http://"+addr) {
				t.Fatalf("GET %s with %v: links should name the address connected to (%s): %s", path, hdr, addr, clipb(r.body))
			}
		}
	}
	t.Run("PublicURLOK", func(t *testing.T) {
		e := newEnvWith(t, gpkgStore(t), func(c *httpapi.Config) { c.PublicURL = "https://riskmap.example.gov.cn" })
		r := e.do("GET", "/ogc", "", "Host", "evil.example")
		if !strings.Contains(string(r.body), `"https://riskmap.example.gov.cn/ogc`) || strings.Contains(string(r.body), "evil") {
			t.Fatalf("links with --public-url: %s", clipb(r.body))
		}
	})
	t.Run("TrustedProxyOK", func(t *testing.T) {
		_, loop, _ := net.ParseCIDR("127.0.0.0/8")
		e := newEnvWith(t, gpkgStore(t), func(c *httpapi.Config) { c.Auth.TrustedProxies = []*net.IPNet{loop} })
		r := e.do("GET", "/ogc", "", "X-Forwarded-Host", "gis.example.gov.cn", "X-Forwarded-Proto", "https")
		if !strings.Contains(string(r.body), `"https://gis.example.gov.cn/ogc`) {
			t.Fatalf("a trusted proxy's forwarded host and scheme: %s", clipb(r.body))
		}
	})
	t.Run("ErrBadPublicURL", func(t *testing.T) {
		for _, u := range []string{"riskmap.example", "ftp://x", "https://", "https://x/?a=1"} {
			if _, err := httpapi.ParsePublicURL(u); err == nil {
				t.Fatalf("--public-url %q accepted", u)
			}
		}
	})
}

// Defect 11: answers that depend on who asks say so, for shared caches.
func TestCallerDependentAnswersVary(t *testing.T) {
	e := newEnv(t, gpkgStore(t))
	for _, path := range []string{"/api/v1/units?limit=1", "/ogc/collections/units/items?limit=1", "/ogc", "/api/v1/stats"} {
		for _, who := range []string{"", "zjj"} {
			r := e.do("GET", path, "", e.asRole(who)...)
			if r.code != 200 && !(who == "" && strings.HasPrefix(path, "/api/") && r.code == 401) {
				t.Fatalf("GET %s as %q: %d", path, who, r.code)
			}
			vary := strings.Join(r.header.Values("Vary"), ",")
			if !strings.Contains(vary, "Cookie") || !strings.Contains(vary, "Authorization") {
				t.Fatalf("GET %s as %q: Vary %q", path, who, vary)
			}
			cc := r.header.Get("Cache-Control")
			if cc == "" || (who != "" && !strings.Contains(cc, "private") && !strings.Contains(cc, "no-store")) {
				t.Fatalf("GET %s as %q: Cache-Control %q", path, who, cc)
			}
		}
	}
}

// Defect 4: a cursor past the largest id must not wrap around to the first page.
func TestCursorOverflowRefused(t *testing.T) {
	e := newEnv(t, gpkgStore(t))
	e.create(t, "expert1", "CUR-1", "游标测试", "hazardous_chemicals", "530481001001", 102.912, 24.671)
	r := e.do("GET", "/api/v1/units?cursor=9223372036854775807", "")
	if r.code != 400 || !strings.Contains(string(r.body), "cursor") {
		t.Fatalf("cursor=MaxInt64: %d %s", r.code, clipb(r.body))
	}
	for _, c := range []string{"9223372036854775808", "-1", "abc"} {
		if r := e.do("GET", "/api/v1/units?cursor="+c, ""); r.code != 400 {
			t.Fatalf("cursor=%s: %d", c, r.code)
		}
	}
}

// Defect 7: decode errors name the field and the type in the user's words, never Go's.
func TestDecodeErrorsInUsersWords(t *testing.T) {
	e := newEnv(t, gpkgStore(t))
	cases := []struct{ method, path, body, field string }{
		{"POST", "/api/v1/users", `{"name":123,"role":"expert"}`, "name"},
		{"POST", "/api/v1/users", `{"name":"x","role":"expert","categories":"a"}`, "categories"},
		{"POST", "/api/v1/tokens", `{"name":"t","user":false}`, "user"},
		{"PATCH", "/api/v1/users/zjj", `{"disabled":"yes"}`, "disabled"},
	}
	for _, tc := range cases {
		r := e.do(tc.method, tc.path, tc.body)
		var b httpapi.ErrorBody
		_ = json.Unmarshal(r.body, &b)
		if r.code != 400 || len(b.Error.Fields) != 1 || b.Error.Fields[0].Field != tc.field {
			t.Fatalf("%s %s %s: %d %s", tc.method, tc.path, tc.body, r.code, r.body)
		}
		msg := b.Error.Message + b.Error.Fields[0].Message
		if strings.Contains(msg, "json:") || strings.Contains(msg, "Go struct") || !strings.Contains(msg, "应为") {
			t.Fatalf("%s %s: Go's text or no Chinese: %s", tc.method, tc.path, r.body)
		}
	}
	r := e.do("POST", "/api/v1/users", `{"name":`)
	if r.code != 400 || strings.Contains(string(r.body), "json:") {
		t.Fatalf("truncated JSON: %d %s", r.code, r.body)
	}
}

// Defect 8: a JSON body sent as text/plain (a form can) is refused, and nothing is written.
func TestJSONRoutesNeedJSONMediaType(t *testing.T) {
	e := newEnv(t, gpkgStore(t))
	body := feature("CT-1", "类型测试", 102.912, 24.671, 4, 5)
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""} {
		hdr := append(e.as("expert1"), "Content-Type", ct)
		r := e.do("POST", "/api/v1/units", body, hdr...)
		if r.code != 415 {
			t.Fatalf("a unit sent as %q: %d %s", ct, r.code, r.body)
		}
	}
	if r := e.do("GET", "/api/v1/units?q=CT-1", ""); !strings.Contains(string(r.body), `"numberMatched":0`) {
		t.Fatalf("a refused body was stored: %s", clipb(r.body))
	}
	if r := e.do("POST", "/api/v1/units", body, append(e.as("expert1"), "Content-Type", "application/geo+json; charset=utf-8")...); r.code != 201 {
		t.Fatalf("geo+json with a charset: %d %s", r.code, r.body)
	}
}

// Defect 9: net/http's own error answers carry the security headers too.
func TestNetHTTPErrorsCarrySecurityHeaders(t *testing.T) {
	e := newEnv(t, gpkgStore(t))
	addr := serveReal(t, e.api)
	cases := map[string]string{
		"malformed request line": "GARBAGE\r\n\r\n",
		"HTTP version":           "GET / HTTP/2.7\r\nHost: x\r\n\r\n",
		"missing Host":           "GET / HTTP/1.1\r\n\r\n",
		"duplicate Host":         "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"1.1 MB header":          "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 1100<<10) + "\r\n\r\n",
	}
	for name, req := range cases {
		resp, _ := rawExchange(t, addr, req, 5*time.Second)
		code := statusOf(resp)
		if code < 400 {
			t.Fatalf("%s: %q", name, resp)
		}
		head, _, _ := strings.Cut(resp, "\r\n\r\n")
		for _, h := range []string{"Content-Security-Policy: default-src 'self'", "X-Content-Type-Options: nosniff", "X-Frame-Options: DENY"} {
			if !strings.Contains(head, h) {
				t.Fatalf("%s (%d) lacks %s:\n%s", name, code, h, head)
			}
		}
	}
	// Handlers' own answers keep one set of headers, not two.
	resp, _ := rawExchange(t, addr, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 5*time.Second)
	if strings.Count(resp, "Content-Security-Policy") != 1 {
		t.Fatalf("a handler's answer: %q", resp)
	}
}

// Defect 12: If-Match compares strongly; a weak tag never matches.
func TestWeakIfMatchNeverMatches(t *testing.T) {
	e := newEnv(t, gpkgStore(t))
	id := e.create(t, "expert1", "WEAK-1", "弱标签测试", "hazardous_chemicals", "530481001001", 102.912, 24.671)
	if r := e.do("DELETE", "/api/v1/units/"+id, "", "If-Match", `W/"1"`); r.code != 412 {
		t.Fatalf(`DELETE with If-Match: W/"1": %d %s`, r.code, r.body)
	}
	if r := e.do("PUT", "/api/v1/units/"+id, feature("WEAK-1", "改名", 102.912, 24.671, 4, 5), "If-Match", `W/"1"`); r.code != 412 {
		t.Fatalf(`PUT with If-Match: W/"1": %d`, r.code)
	}
	if r := e.do("GET", "/api/v1/units/"+id, ""); r.code != 200 || r.header.Get("ETag") != `"1"` || strings.Contains(string(r.body), "改名") {
		t.Fatalf("a weak If-Match changed the unit: %d %s", r.code, r.header.Get("ETag"))
	}
}

// Defect 15: a scrape token reads /metrics and /readyz and nothing else.
func TestScrapeToken(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			r := e.do("POST", "/api/v1/tokens", `{"name":"prometheus","scope":"metrics"}`)
			if r.code != 201 {
				t.Fatalf("create a scrape token: %d %s", r.code, r.body)
			}
			var created struct {
				Secret string `json:"secret"`
				Token  struct {
					Scope string `json:"scope"`
				} `json:"token"`
			}
			_ = json.Unmarshal(r.body, &created)
			if created.Token.Scope != "metrics" {
				t.Fatalf("token scope: %s", r.body)
			}
			as := []string{"Authorization", "Bearer " + created.Secret}
			if r := e.do("GET", "/metrics", "", as...); r.code != 200 || !strings.Contains(string(r.body), "riskmap_") {
				t.Fatalf("/metrics with a scrape token: %d", r.code)
			} else if !strings.Contains(string(r.body), "\nriskmap_index_loads_total 1\n") {
				t.Fatalf("/metrics does not count the index's one load: %s", r.body)
			}
			if r := e.do("GET", "/readyz", "", as...); r.code != 200 {
				t.Fatalf("/readyz with a scrape token: %d", r.code)
			}
			for _, p := range []string{"/api/v1/units", "/ogc/collections/units/items", "/tiles/units.json", "/api/v1/audit", "/api/v1/users", "/public/api/v1/units"} {
				if r := e.do("GET", p, "", as...); r.code != 403 {
					t.Fatalf("GET %s with a scrape token: %d", p, r.code)
				}
			}
			if r := e.do("POST", "/api/v1/units", feature("SCR-1", "x", 102.91, 24.67, 1, 1), as...); r.code != 403 {
				t.Fatalf("a write with a scrape token: %d", r.code)
			}
			if r := e.do("GET", "/metrics", "", e.as("expert1")...); r.code != 403 {
				t.Fatalf("/metrics as an expert: %d", r.code)
			}
			if r := e.do("POST", "/api/v1/tokens", `{"name":"x","scope":"root"}`); r.code != 400 {
				t.Fatalf("an unknown scope: %d", r.code)
			}
		})
	}
}

// Defect 6: an office behind one address is not locked out by a neighbour's guesses:
// browsers that logged in to an account before keep logging in to it.
func TestOfficeBehindOneAddress(t *testing.T) {
	e := newEnv(t, gpkgStore(t))
	login := func(user, pw string, cookies ...string) resp {
		hdr := []string{"Authorization", ""}
		if len(cookies) > 0 {
			hdr = append(hdr, "Cookie", strings.Join(cookies, "; "))
		}
		return e.do("POST", "/api/v1/session", `{"username":"`+user+`","password":"`+pw+`"}`, hdr...)
	}
	device := func(r resp) string {
		for _, ck := range r.header.Values("Set-Cookie") {
			if strings.HasPrefix(ck, "riskmap_device=") {
				return ck[:strings.IndexByte(ck, ';')]
			}
		}
		t.Fatalf("no device cookie after a login: %v", r.header.Values("Set-Cookie"))
		return ""
	}
	zjj := device(login("zjj", testPassword))
	both := device(login("yjj", testPassword, zjj)) // one browser, two colleagues
	// A neighbour behind the same address guesses at twenty accounts, all at once.
	var wg sync.WaitGroup
	codes := make([]int, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.Post(e.srv.URL+"/api/v1/session", "application/json",
				strings.NewReader(fmt.Sprintf(`{"username":"guess%d","password":"wrong password!"}`, i)))
			if err == nil {
				codes[i] = res.StatusCode
				res.Body.Close()
			}
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != 401 && c != 503 { // 503: past the hashing queue, and counted all the same
			t.Fatalf("guess %d: %d", i, c)
		}
	}
	if r := login("expert1", testPassword); r.code != 429 {
		t.Fatalf("a browser never seen before, from an address past its limit: %d", r.code)
	}
	for _, user := range []string{"zjj", "yjj"} {
		if r := login(user, testPassword, both); r.code != 200 {
			t.Fatalf("%s from a proven browser behind the busy address: %d %s", user, r.code, r.body)
		}
	}
	if r := login("expert1", testPassword, both); r.code != 429 {
		t.Fatalf("a device cookie proves only its own accounts: %d", r.code)
	}
	forged := strings.Replace(both, "riskmap_device=", "riskmap_device=ZXhwZXJ0MQ.1.", 1)
	if r := login("expert1", testPassword, forged); r.code != 429 {
		t.Fatalf("a forged device entry: %d", r.code)
	}
	// The account's own limit holds for proven browsers too.
	for range 5 {
		login("zjj", "wrong password!", both)
	}
	if r := login("zjj", testPassword, both); r.code != 429 {
		t.Fatalf("an account past its own limit, from a proven browser: %d", r.code)
	}
}

// QGIS 3.22 can send an API token only as the password of HTTP Basic: reads take it, writes
// and plain passwords do not.
func TestBasicAuthCarriesATokenForReads(t *testing.T) {
	e := newEnv(t, gpkgStore(t))
	e.create(t, "zjj", "BAS-1", "基本认证测试", "construction", "530481001001", 102.912, 24.671)
	basic := func(user, pw string) []string {
		return []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))}
	}
	r := e.do("GET", "/ogc/collections/units/items?limit=10", "", basic("qgis", e.tokens["zjj"])...)
	if r.code != 200 || !strings.Contains(string(r.body), "基本认证测试") {
		t.Fatalf("OGC items with the token as a Basic password: %d %s", r.code, clipb(r.body))
	}
	if r := e.do("GET", "/api/v1/units?limit=1", "", basic("zjj", testPassword)...); r.code != 401 {
		t.Fatalf("a plain password over Basic: %d", r.code)
	}
	if r := e.do("POST", "/api/v1/units", feature("BAS-2", "x", 102.91, 24.67, 1, 1), basic("x", e.tokens["admin"])...); r.code != 401 {
		t.Fatalf("a write over Basic: %d", r.code)
	}
	// The cache of looked-up credentials must not let a write through either.
	if r := e.do("DELETE", "/api/v1/units/1", "", append(basic("qgis", e.tokens["zjj"]), "If-Match", `"1"`)...); r.code != 401 {
		t.Fatalf("a write over Basic after a read with the same header: %d", r.code)
	}
}

// Defect 14 (the part at the door): a database that does not answer says nothing about a
// token, so the answer is 503 with Retry-After, never 401 "the token's user is disabled".
func TestTokenLookupWithDatabaseDownIs503(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	store, err := postgis.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := newEnv(t, store)
	u, _ := url.Parse(dsn)
	db := strings.TrimPrefix(u.Path, "/")
	admin, err := pgx.Connect(context.Background(), pgtest.AdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) }) // after the cleanup below
	exec := func(sql string) {
		if _, err := admin.Exec(context.Background(), sql); err != nil {
			t.Fatal(err)
		}
	}
	exec(`ALTER DATABASE "` + db + `" ALLOW_CONNECTIONS false`)
	exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '` + db + `'`)
	t.Cleanup(func() { exec(`ALTER DATABASE "` + db + `" ALLOW_CONNECTIONS true`) })
	for _, who := range []string{"expert1", "zjj"} {
		r := e.do("GET", "/api/v1/units?limit=1", "", e.as(who)...)
		if r.code != 503 || r.header.Get("Retry-After") == "" {
			t.Fatalf("a token looked up while the database is down (%s): %d %s", who, r.code, r.body)
		}
	}
	exec(`ALTER DATABASE "` + db + `" ALLOW_CONNECTIONS true`)
	var r resp
	for range 50 {
		if r = e.do("GET", "/api/v1/units?limit=1", "", e.as("zjj")...); r.code == 200 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the database is back but the token is refused: %d %s", r.code, r.body)
}

// What a second hostile-input review found after the fixes above.
func TestSecondReview(t *testing.T) {
	e := newEnv(t, gpkgStore(t))
	addr := serveReal(t, e.api)
	t.Run("ErrRefusedBeforeBodyAnsweredAtOnce", func(t *testing.T) {
		// Refused before its body is read (a bad path, an unknown route): the answer must not
		// wait for the rest of a body that never comes.
		for _, head := range []string{
			"POST /api/v1/%2e%2e/session HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":",
			"GET /a/%2f/b HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n",
			"POST /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
		} {
			resp, err := rawHead(t, addr, head, 5*time.Second)
			if c := statusOf(resp); c < 400 || c >= 500 {
				t.Fatalf("%q: %q %v", head[:30], resp, err)
			}
		}
	})
	t.Run("OptionsStarCarriesHeaders", func(t *testing.T) {
		resp, _ := rawExchange(t, addr, "OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 5*time.Second)
		if !strings.Contains(resp, "Content-Security-Policy") {
			t.Fatalf("OPTIONS *: %q", resp)
		}
	})
	t.Run("ErrLoginBodyOver4KiB", func(t *testing.T) {
		big := `{"username":"u","password":"` + strings.Repeat("x", 8<<10) + `"}`
		if r := e.do("POST", "/api/v1/session", big, "Authorization", ""); r.code != 413 {
			t.Fatalf("an 8 KiB login body: %d", r.code)
		}
	})
	t.Run("NamesThatDifferInCaseAreTwoAccounts", func(t *testing.T) {
		if r := e.do("POST", "/api/v1/users", `{"name":"ZJJ","role":"expert","password":"`+testPassword+`"}`); r.code != 201 {
			t.Fatalf("create ZJJ: %d %s", r.code, r.body)
		}
		for range 4 {
			e.do("POST", "/api/v1/session", `{"username":"zjj","password":"wrong password!"}`, "Authorization", "")
		}
		// ZJJ's successful login must not forgive zjj's failures.
		if r := e.do("POST", "/api/v1/session", `{"username":"ZJJ","password":"`+testPassword+`"}`, "Authorization", ""); r.code != 200 {
			t.Fatalf("ZJJ: %d", r.code)
		}
		e.do("POST", "/api/v1/session", `{"username":"zjj","password":"wrong password!"}`, "Authorization", "")
		if r := e.do("POST", "/api/v1/session", `{"username":"zjj","password":"wrong password!"}`, "Authorization", ""); r.code != 429 {
			t.Fatalf("zjj's sixth failure, after ZJJ logged in: %d", r.code)
		}
	})
	t.Run("MethodsDoNotGrowMetrics", func(t *testing.T) {
		for i := range 20 {
			rawExchange(t, addr, fmt.Sprintf("M%dXYZ /nope HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", i), 5*time.Second)
		}
		r := e.do("GET", "/metrics", "")
		if strings.Contains(string(r.body), "M1XYZ") || !strings.Contains(string(r.body), `method="OTHER"`) {
			t.Fatalf("made-up methods became metric labels")
		}
	})
	t.Run("ErrRegionsCursorOverflow", func(t *testing.T) {
		if r := e.do("GET", "/ogc/collections/regions/items?limit=1&cursor=9223372036854775807", ""); r.code != 400 {
			t.Fatalf("regions cursor=MaxInt64: %d %s", r.code, clipb(r.body))
		}
	})
	t.Run("ErrIfMatchNotTheETag", func(t *testing.T) {
		id := e.create(t, "expert1", "IFM-1", "标签测试", "hazardous_chemicals", "530481001001", 102.912, 24.671)
		for _, tag := range []string{`"01"`, `"+1"`, `1`, `"1`, `1"`, `"1", "2"`, `*`} {
			if r := e.do("PUT", "/api/v1/units/"+id, feature("IFM-1", "改名", 102.912, 24.671, 4, 5), "If-Match", tag); r.code != 412 {
				t.Fatalf("If-Match: %s: %d", tag, r.code)
			}
		}
	})
	t.Run("HostWithAWordForAPort", func(t *testing.T) {
		r := e.do("GET", "/ogc", "", "Host", "localhost:80.evil.example")
		if strings.Contains(string(r.body), "evil") {
			t.Fatalf("links: %s", clipb(r.body))
		}
	})
	t.Run("PageVariesByCaller", func(t *testing.T) {
		r := e.do("GET", "/healthz", "")
		_ = r
		r = e.do("GET", "/api/v1/ui-config", "")
		if v := strings.Join(r.header.Values("Vary"), ","); !strings.Contains(v, "Cookie") {
			t.Fatalf("ui-config Vary: %q", v)
		}
	})
}
