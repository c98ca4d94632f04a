package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// TestEveryRouteEveryRole calls every route the server has as every role (the public
// included) and checks the route's rule: who is refused gets 401 (nobody logged in) or 403
// (a role without the right), with exactly one audit row, and changes nothing; who is let
// through is not refused at the door.
func TestEveryRouteEveryRole(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) { everyRouteEveryRole(t, newMonitoringEnv(t, open(t))) })
	}
}

func everyRouteEveryRole(t *testing.T, e *env) {
	h := e.create(t, "expert1", "ROUTE-H", "路由测试", "hazardous_chemicals", "530481001001", 102.912, 24.671)
	if r := e.do("POST", "/api/v1/publications", ""); r.code != 201 {
		t.Fatalf("publish: %d", r.code)
	}
	tl := strings.TrimPrefix(tilePath("units", orb.Point{102.912, 24.671}, 14), "/tiles/units/")
	zxy := strings.Split(strings.TrimSuffix(tl, ".pbf"), "/")
	params := map[string]string{":id": h, ":fid": h, ":name": "zjj", ":n": "1", ":a": "1", ":b": "1", ":code": "530481",
		":cid": "units", ":pub": "1", ":z": zxy[0], ":x": zxy[1], ":y": zxy[2] + ".pbf", "*": "app.js"}
	allowed := map[string][]string{
		"anyone":     {"", "admin", "expert1", "zjj", "yjj"},
		"loggedIn":   {"admin", "expert1", "zjj", "yjj"},
		"editor":     {"admin", "expert1", "zjj", "yjj"},
		"reviewer":   {"admin", "expert1"},
		"adminOnly":  {"admin"},
		"monitoring": {"admin"},                          // and scrape tokens: TestScrapeToken
		"ingest":     {"admin", "expert1", "zjj", "yjj"}, // and device tokens: TestDeviceToken
	}
	rules := e.api.AccessRules()
	keys := make([]string, 0, len(rules))
	for k := range rules {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	checked := 0
	for _, k := range keys {
		method, path, _ := strings.Cut(k, " ")
		if method == "HEAD" {
			continue
		}
		var segs []string
		for _, seg := range strings.Split(path, "/") {
			if v, ok := params[seg]; ok {
				seg = url.PathEscape(v)
			}
			if seg == "*" {
				seg = params["*"]
			}
			segs = append(segs, seg)
		}
		p := strings.Join(segs, "/")
		for _, role := range roles {
			ok := slices.Contains(allowed[rules[k]], role)
			if ok {
				if method != "GET" || k == "GET /api/v1/events" {
					continue // writes by those allowed are tested where their effects are; the event stream never ends (TestMonitoring reads it)
				}
				r := e.do(method, p, "", e.asRole(role)...)
				// 503: the test server has no built pages; GET /api/v1/session answers 401
				// to say nobody is logged in.
				if (r.code == 401 && k != "GET /api/v1/session") || (r.code >= 500 && r.code != 503) {
					t.Errorf("%s %s as %q (rule %s): %d %s", method, p, role, rules[k], r.code, clipb(r.body))
				}
				continue
			}
			before := e.deniedRows(t)
			r := e.do(method, p, "{}", e.asRole(role)...)
			want := 403
			if role == "" {
				want = 401
			}
			if r.code != want {
				t.Errorf("%s %s as %q (rule %s): %d, want %d", method, p, role, rules[k], r.code, want)
			}
			if after := e.deniedRows(t); after != before+1 {
				t.Errorf("%s %s as %q: %d denied audit rows, want 1", method, p, role, after-before)
			}
			checked++
		}
	}
	if checked < 50 {
		t.Fatalf("only %d refusals checked: %v", checked, fmt.Sprint(len(keys)))
	}
	// Nothing a refused request asked for happened.
	if r := e.do("GET", "/api/v1/units/"+h, ""); r.header.Get("ETag") != `"1"` {
		t.Fatalf("a refused write changed unit %s: %s", h, r.header.Get("ETag"))
	}
}

// TestNoSelfApprovalRace: an author who submits a revision and, at the same time, tries to
// approve it never succeeds, however the two requests interleave. (The author is recorded
// in the same transaction as the revision.)
func TestNoSelfApprovalRace(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			for i := 0; i < 8; i++ {
				id := e.create(t, "expert2", fmt.Sprintf("RACE-%d", i), "竞态", "hazardous_chemicals", "530481001001", 102.91, 24.67)
				if r := e.do("PUT", "/api/v1/units/"+id, strings.Replace(feature(fmt.Sprintf("RACE-%d", i), "竞态", 102.91, 24.67, 2, 2), `"code":`, `"status":"draft","code":`, 1),
					append(e.as("expert2"), "If-Match", `"1"`)...); r.code != 200 {
					t.Fatalf("setup: %d %s", r.code, r.body)
				}
				// expert1 writes version 3 (submitted) while trying to approve version 3.
				done := make(chan struct{})
				var approved atomic.Int32
				var wg sync.WaitGroup
				for g := 0; g < 3; g++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							select {
							case <-done:
								return
							default:
							}
							req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/units/"+id+"/approve", nil)
							req.Header.Set("Authorization", "Bearer "+e.tokens["expert1"])
							req.Header.Set("If-Match", `"3"`)
							if res, err := http.DefaultClient.Do(req); err == nil {
								if res.StatusCode == 200 {
									approved.Add(1)
								}
								res.Body.Close()
							}
						}
					}()
				}
				time.Sleep(5 * time.Millisecond)
				body := strings.Replace(feature(fmt.Sprintf("RACE-%d", i), "竞态", 102.91, 24.67, 3, 3), `"code":`, `"status":"submitted","code":`, 1)
				r := e.do("PUT", "/api/v1/units/"+id, body, append(e.as("expert1"), "If-Match", `"2"`)...)
				time.Sleep(20 * time.Millisecond)
				close(done)
				wg.Wait()
				if r.code != 200 {
					t.Fatalf("submit: %d %s", r.code, r.body)
				}
				if n := approved.Load(); n != 0 {
					t.Fatalf("round %d: the author approved its own revision %d times", i, n)
				}
			}
		})
	}
}
