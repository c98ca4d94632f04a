package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"

	"riskmap/frontend"
	"riskmap/pkg/pgtest"
	"riskmap/pkg/postgis"
	"riskmap/pkg/riskmap"
)

// cut ends every connection through the proxy (with hold, the database is unreachable).
func (px *proxy) cut() {
	px.mu.Lock()
	defer px.mu.Unlock()
	for _, c := range px.conns {
		c.Close()
	}
	px.conns = nil
}

// TestDatabaseOutage is issue 18's fault test of PostgreSQL going away under a running
// server: a session and a token verified before the outage stay valid in memory, so that
// lists, details and tiles go on from the index for logged-in users as for the public (the
// public map's tiles, list and page too, also under a burst of concurrent reads);
// writes get 503 with Retry-After; /readyz says so; and service resumes without a restart
// when the database is back.
func TestDatabaseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostGIS")
	}
	dsn := pgtest.NewDatabase(t)
	mustRun(t, "seed", "--db", dsn, "--synthetic", "40", "--seed", "18")
	mustRun(t, "publish", "--db", dsn) // the public map's units
	px := newProxy(t, dsn)
	base, out := serve(t, "--db", dsnWith(t, dsn, px.addr(), "riskmap-outage"))
	pw := adminPassword(t, out)
	{ // after the first start, which creates the admin and prints its password
		store, err := postgis.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		addToken(t, store, "outage-expert", riskmap.RoleExpert)
		store.Close()
	}
	browser, csrf := browserLogin(t, base, "admin", pw)
	do := func(method, path, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Origin", base)
		req.Header.Set("X-CSRF-Token", csrf)
		res, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	// The write of a unit before the outage, to read it back by id during it.
	res, body := do("POST", "/api/v1/units", unitFeature("OUT-0", "停库前", orb.Point{102.9312, 24.6888}, "submitted"))
	var created struct {
		ID int64 `json:"id"`
	}
	if res.StatusCode != http.StatusCreated || json.Unmarshal([]byte(body), &created) != nil || created.ID == 0 {
		t.Fatalf("a write before the outage: %d %s", res.StatusCode, body)
	}
	tl := maptile.At(orb.Point{102.9312, 24.6888}, 14)
	reads := []string{"/api/v1/units?limit=5", "/api/v1/units/" + strconv.FormatInt(created.ID, 10),
		fmt.Sprintf("/tiles/units/%d/%d/%d.pbf", tl.Z, tl.X, tl.Y), "/api/v1/stats"}
	for _, p := range reads {
		if res, body := do("GET", p, ""); res.StatusCode != 200 {
			t.Fatalf("before the outage GET %s: %d %s", p, res.StatusCode, body)
		}
	}

	req, _ := http.NewRequest("GET", base+"/api/v1/units?limit=1", nil)
	req.Header.Set("Authorization", "Bearer rmk_outage-expert")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("the token before the outage: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	// The public map, to anyone and to the logged-in browser alike.
	anon := &http.Client{Timeout: 10 * time.Second}
	publicReads, publicOK := publicMap(t, base)
	for _, p := range publicReads {
		for _, c := range []*http.Client{anon, browser} {
			if code, _, body, err := send(c, base, "GET", p, "", "", ""); err != nil {
				t.Fatal(err)
			} else if err := publicOK(p, code, body); err != nil {
				t.Fatalf("before the outage: %v", err)
			}
		}
	}

	px.hold(true)
	px.cut()
	time.Sleep(2500 * time.Millisecond) // past the credential cache's 2 s TTL
	t.Run("OKReadsGoOnForTheLoggedIn", func(t *testing.T) {
		for _, p := range reads {
			if res, body := do("GET", p, ""); res.StatusCode != 200 {
				t.Errorf("during the outage GET %s: %d %s", p, res.StatusCode, body)
			}
		}
	})
	t.Run("OKPublicMapGoesOn", func(t *testing.T) {
		for _, p := range publicReads {
			for who, c := range map[string]*http.Client{"anyone": anon, "the logged-in browser": browser} {
				if code, _, body, err := send(c, base, "GET", p, "", "", ""); err != nil {
					t.Errorf("%s: %v", who, err)
				} else if err := publicOK(p, code, body); err != nil {
					t.Errorf("during the outage, for %s: %v", who, err)
				}
			}
		}
	})
	t.Run("OKConcurrentReadsGoOn", func(t *testing.T) {
		// 16 clients at once, four requests each, through every kind of read: the logged-in
		// browser, an API token and anyone on the public map; and now and then a write.
		var mix []mixedCall
		for _, p := range reads {
			mix = append(mix, mixedCall{c: browser, method: "GET", path: p})
		}
		for _, p := range publicReads {
			mix = append(mix, mixedCall{c: anon, method: "GET", path: p}, mixedCall{c: browser, method: "GET", path: p})
		}
		mix = append(mix, mixedCall{c: anon, method: "GET", path: "/api/v1/units?limit=1", token: "rmk_outage-expert"},
			mixedCall{c: browser, method: "POST", path: "/api/v1/units", csrf: csrf, write: true})
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range 4 {
					k := mix[(4*i+j)%len(mix)]
					body := ""
					if k.write {
						body = unitFeature(fmt.Sprintf("OUT-C%d", i), "停库并发", orb.Point{102.9312, 24.6888}, "submitted")
					}
					code, h, got, err := send(k.c, base, k.method, k.path, body, k.csrf, k.token)
					switch {
					case err != nil:
						t.Errorf("%s %s: %v", k.method, k.path, err)
					case k.write:
						if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
							t.Errorf("a write among the reads: %d Retry-After %q %.300s; want 503 with Retry-After", code, h.Get("Retry-After"), got)
						}
					case strings.HasPrefix(k.path, "/public"):
						if err := publicOK(k.path, code, got); err != nil {
							t.Error(err)
						}
					case code != 200:
						t.Errorf("GET %s: %d %.300s", k.path, code, got)
					}
				}
			}()
		}
		wg.Wait()
	})
	t.Run("OKTokenGoesOn", func(t *testing.T) {
		// A token verified before the outage: the one the test user's first request proved.
		req, _ := http.NewRequest("GET", base+"/api/v1/units?limit=1", nil)
		req.Header.Set("Authorization", "Bearer rmk_outage-expert")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("a token during the outage: %d", res.StatusCode)
		}
	})
	t.Run("ErrWrite503WithRetryAfter", func(t *testing.T) {
		res, body := do("POST", "/api/v1/units", unitFeature("OUT-1", "停库测试", orb.Point{102.9312, 24.6888}, "submitted"))
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
			t.Errorf("a write during the outage: %d Retry-After %q %s; want 503 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"), body)
		}
	})
	t.Run("OKReadyzSaysDegraded", func(t *testing.T) {
		if code, body := get(t, base+"/readyz"); code == 200 && !strings.Contains(body, "degraded") && !strings.Contains(body, "降级") {
			t.Errorf("/readyz during the outage: %d %s", code, body)
		}
	})

	px.hold(false)
	waitFor(t, "a write to succeed once the database is back", func() bool {
		res, _ := do("POST", "/api/v1/units", unitFeature("OUT-2", "恢复测试", orb.Point{102.9312, 24.6888}, "submitted"))
		return res.StatusCode == http.StatusCreated
	})
}

// adminPassword is the password a first start of serve printed for the admin.
func adminPassword(t *testing.T, out *syncBuffer) string {
	t.Helper()
	pw := regexp.MustCompile(`请以 admin 登录，密码 (\S+?)（`).FindStringSubmatch(out.String())
	if pw == nil {
		t.Fatalf("no admin password printed:\n%s", out.String())
	}
	return pw[1]
}

// browserLogin logs user in at base as the browser does and returns a client that keeps
// the session's cookie, and the session's CSRF token (send adds it and the Origin).
func browserLogin(t *testing.T, base, user, pw string) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	body, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	code, _, got, err := send(browser, base, "POST", "/api/v1/session", string(body), "", "")
	var sess struct {
		CSRF string `json:"csrf_token"`
	}
	if err != nil || code != 200 || json.Unmarshal([]byte(got), &sess) != nil || sess.CSRF == "" {
		t.Fatalf("login as %s: %d %v %s", user, code, err, got)
	}
	return browser, sess.CSRF
}

// publicMap returns the public map's reads that show a published unit — its z16 tile, the
// list of a box around it and the page itself (once the front end is built) — and a check
// of their answers.
func publicMap(t *testing.T, base string) ([]string, func(path string, code int, body string) error) {
	t.Helper()
	var pub struct {
		Features []*geojson.Feature `json:"features"`
	}
	if code, body := get(t, base+"/public/api/v1/units?limit=50"); code != 200 || json.Unmarshal([]byte(body), &pub) != nil {
		t.Fatalf("the public list: %d %s", code, body)
	}
	var pubID float64
	var at orb.Point
	for _, f := range pub.Features {
		if p, ok := pointOn(f.Geometry); ok && pubID == 0 {
			pubID, at = f.ID.(float64), p
		}
	}
	if pubID == 0 {
		t.Fatalf("the publication has no unit to look for: %d features", len(pub.Features))
	}
	ptl := maptile.At(at, 16)
	reads := []string{fmt.Sprintf("/public/tiles/units/%d/%d/%d.pbf", ptl.Z, ptl.X, ptl.Y),
		fmt.Sprintf("/public/api/v1/units?bbox=%.6f,%.6f,%.6f,%.6f&limit=100", at[0]-0.01, at[1]-0.01, at[0]+0.01, at[1]+0.01)}
	if _, err := fs.Stat(frontend.Dist, "dist/public.html"); err == nil {
		reads = append(reads, "/public")
	} else if os.Getenv("CI") != "" {
		t.Fatal("the front end is not built (make test builds it first)")
	} else {
		t.Log("the front end is not built (make frontend): the public page is not checked")
	}
	// ok says what is wrong with the answer to a public read, if anything.
	return reads, func(path string, code int, body string) error {
		if code != 200 {
			return fmt.Errorf("GET %s: %d %.300s", path, code, body)
		}
		var found bool
		switch {
		case strings.HasPrefix(path, "/public/tiles/"):
			layers, err := mvt.Unmarshal([]byte(body))
			if err != nil {
				return fmt.Errorf("GET %s is not an MVT: %v", path, err)
			}
			for _, l := range layers {
				for _, f := range l.Features {
					found = found || l.Name == "units" && f.Properties["id"] == pubID
				}
			}
		case strings.HasPrefix(path, "/public/api/"):
			var fc struct {
				Features []*geojson.Feature `json:"features"`
			}
			if err := json.Unmarshal([]byte(body), &fc); err != nil {
				return fmt.Errorf("GET %s: %v %.300s", path, err, body)
			}
			for _, f := range fc.Features {
				found = found || f.ID == pubID
			}
		default: // the page
			if !strings.Contains(strings.ToLower(body), "<!doctype html") {
				return fmt.Errorf("GET %s: 200 but not the public map page: %.300s", path, body)
			}
			found = true
		}
		if !found {
			return fmt.Errorf("GET %s: 200 without unit %v (%d bytes)", path, pubID, len(body))
		}
		return nil
	}
}

// mixedCall is one request of the concurrent mixes the outage tests send while the
// database is away: who sends it (a browser's session, with its CSRF token, or a bearer
// token), what, and whether it is a write.
type mixedCall struct {
	c            *http.Client
	method, path string
	csrf, token  string
	write        bool
}

// send sends one request to the server at base, as a browser (with an Origin and, for
// csrf, the session's CSRF token) or with an API token, and further headers (name, value,
// …), and returns the answer. It calls no t method, for the tests' goroutines.
func send(c *http.Client, base, method, path, body, csrf, token string, headers ...string) (int, http.Header, string, error) {
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, "", err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", base)
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, nil, "", fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b), err
}

// pointOn is a point of g (a vertex of a line or an area), so that the tile at it holds g.
func pointOn(g orb.Geometry) (orb.Point, bool) {
	switch g := g.(type) {
	case orb.Point:
		return g, true
	case orb.LineString:
		if len(g) > 0 {
			return g[0], true
		}
	case orb.Polygon:
		if len(g) > 0 && len(g[0]) > 0 {
			return g[0][0], true
		}
	}
	return orb.Point{}, false
}
