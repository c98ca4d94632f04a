package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

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
// lists, details and tiles go on from the index for logged-in users as for the public;
// writes get 503 with Retry-After; /readyz says so; and service resumes without a restart
// when the database is back.
func TestDatabaseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostGIS")
	}
	dsn := pgtest.NewDatabase(t)
	mustRun(t, "seed", "--db", dsn, "--synthetic", "40", "--seed", "18")
	px := newProxy(t, dsn)
	base, out := serve(t, "--db", dsnWith(t, dsn, px.addr(), "riskmap-outage"))
	pw := regexp.MustCompile(`请以 admin 登录，密码 (\S+?)（`).FindStringSubmatch(out.String())
	if pw == nil {
		t.Fatalf("no admin password printed:\n%s", out.String())
	}
	{ // after the first start, which creates the admin and prints its password
		store, err := postgis.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		addToken(t, store, "outage-expert", riskmap.RoleExpert)
		store.Close()
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	csrf := ""
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
	res, body := do("POST", "/api/v1/session", `{"username":"admin","password":"`+pw[1]+`"}`)
	var sess struct {
		CSRF string `json:"csrf_token"`
	}
	if res.StatusCode != 200 || json.Unmarshal([]byte(body), &sess) != nil || sess.CSRF == "" {
		t.Fatalf("login: %d %s", res.StatusCode, body)
	}
	csrf = sess.CSRF
	// The write of a unit before the outage, to read it back by id during it.
	res, body = do("POST", "/api/v1/units", unitFeature("OUT-0", "停库前", orb.Point{102.9312, 24.6888}, "submitted"))
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
