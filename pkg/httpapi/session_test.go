package httpapi_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"riskmap/pkg/gpkg"
	"riskmap/pkg/httpapi"
	"riskmap/pkg/riskmap"
)

// clock is a settable time for session limits.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func gpkgStore(t *testing.T) riskmap.Store {
	s, err := gpkg.Open(context.Background(), filepath.Join(t.TempDir(), "s.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func (e *env) login(t *testing.T, user string, hdr ...string) (cookie string) {
	t.Helper()
	r := e.do("POST", "/api/v1/session", `{"username":"`+user+`","password":"`+testPassword+`"}`, append([]string{"Authorization", ""}, hdr...)...)
	if r.code != 200 {
		t.Fatalf("login %s: %d %s", user, r.code, r.body)
	}
	ck := r.header.Get("Set-Cookie")
	return ck[:strings.IndexByte(ck, ';')]
}

func TestSessionLimits(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)}
	e := newEnvWith(t, gpkgStore(t), func(c *httpapi.Config) {
		c.Now = clk.now
		c.Auth.SessionIdle = 30 * time.Minute
		c.Auth.SessionMax = 2 * time.Hour
	})
	read := func(ck string) int {
		return e.do("GET", "/api/v1/units?limit=1", "", "Authorization", "", "Cookie", ck).code
	}
	ck := e.login(t, "expert1")
	// Busy: a request every 20 minutes keeps the session, until the absolute limit.
	for i := 0; i < 5; i++ {
		clk.add(20 * time.Minute)
		if code := read(ck); code != 200 {
			t.Fatalf("after %d min of activity: %d", (i+1)*20, code)
		}
	}
	clk.add(21 * time.Minute) // 2 h 1 min after login
	if code := read(ck); code != 401 {
		t.Fatalf("past the absolute limit: %d", code)
	}
	// Idle: 31 minutes without a request end the session.
	ck = e.login(t, "expert1")
	clk.add(31 * time.Minute)
	if code := read(ck); code != 401 {
		t.Fatalf("past the idle limit: %d", code)
	}
	r := e.do("GET", "/api/v1/session", "", "Authorization", "", "Cookie", ck)
	if r.code != 401 || !strings.Contains(string(r.body), "已结束") {
		t.Fatalf("the page learns the session ended: %d %s", r.code, r.body)
	}
}

func TestTLSCookieAndTrustedProxy(t *testing.T) {
	_, proxy, _ := net.ParseCIDR("127.0.0.0/8")
	e := newEnvWith(t, gpkgStore(t), func(c *httpapi.Config) { c.Auth.TrustedProxies = []*net.IPNet{proxy} })
	// Behind a trusted proxy that terminates TLS, the cookie is __Host- and Secure.
	r := e.do("POST", "/api/v1/session", `{"username":"admin","password":"`+testPassword+`"}`, "Authorization", "", "X-Forwarded-Proto", "https")
	ck := r.header.Get("Set-Cookie")
	if !strings.HasPrefix(ck, "__Host-riskmap_session=") || !strings.Contains(ck, "Secure") || !strings.Contains(ck, "Path=/") ||
		!strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Strict") || strings.Contains(ck, "Domain") {
		t.Fatalf("cookie over TLS: %s", ck)
	}
	if r.header.Get("Strict-Transport-Security") == "" {
		t.Fatal("no HSTS over TLS")
	}
	// Over TLS only the __Host- cookie counts: the same token under the plain name (which
	// a sibling domain or plain HTTP could have set) is nobody.
	token := strings.TrimPrefix(ck[:strings.IndexByte(ck, ';')], "__Host-riskmap_session=")
	if r := e.do("GET", "/api/v1/units?limit=1", "", "Authorization", "", "X-Forwarded-Proto", "https", "Cookie", "__Host-riskmap_session="+token); r.code != 200 {
		t.Fatalf("the __Host- cookie over TLS: %d", r.code)
	}
	if r := e.do("GET", "/api/v1/units?limit=1", "", "Authorization", "", "X-Forwarded-Proto", "https", "Cookie", "riskmap_session="+token); r.code != 401 {
		t.Fatalf("a plain-named cookie over TLS: %d", r.code)
	}
	// The proxy's X-Forwarded-For is believed: the audit row has the client's address.
	e.do("POST", "/api/v1/session", `{"username":"admin","password":"wrong password!"}`, "Authorization", "", "X-Forwarded-For", "198.51.100.9")
	es, err := e.store.AuditEntries(context.Background(), riskmap.AuditFilter{Action: "session.login", Limit: 1})
	if err != nil || len(es) != 1 || es[0].ClientAddr != "198.51.100.9" || es[0].Outcome != riskmap.OutcomeDenied {
		t.Fatalf("audit of a failed login through a trusted proxy: %v %+v", err, es)
	}

	// Served over TLS directly.
	ts := httptest.NewUnstartedServer(e.srv.Config.Handler)
	ts.StartTLS()
	defer ts.Close()
	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	res, err := cl.Post(ts.URL+"/api/v1/session", "application/json", strings.NewReader(`{"username":"admin","password":"`+testPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if ck := res.Header.Get("Set-Cookie"); !strings.HasPrefix(ck, "__Host-riskmap_session=") || !strings.Contains(ck, "Secure") {
		t.Fatalf("cookie over direct TLS: %s", ck)
	}
}

// TestThrottleCountsParallelGuesses: guesses sent all at once are counted before their
// passwords are checked, so no more than the limit get through.
func TestThrottleCountsParallelGuesses(t *testing.T) {
	e := newEnv(t, gpkgStore(t))
	var wg sync.WaitGroup
	codes := make([]int, 30)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := http.Post(e.srv.URL+"/api/v1/session", "application/json",
				strings.NewReader(`{"username":"zjj","password":"guess number `+strings.Repeat("x", i)+`"}`))
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			codes[i] = res.StatusCode
		}()
	}
	wg.Wait()
	tried := 0
	for _, c := range codes {
		switch c {
		case 401:
			tried++
		case 429, 503: // 503: the hashing queue was full (a loaded machine); nothing was checked
		default:
			t.Fatalf("a parallel guess: %d", c)
		}
	}
	if tried > 5 {
		t.Fatalf("%d parallel guesses had their password checked; the limit is 5", tried)
	}
}
