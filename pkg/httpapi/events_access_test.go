package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// An open event stream follows its caller's access as every request does (the audit's
// finding: a stream kept the scope and the session it opened with): a narrowed scope
// filters the next events and sends the new scope's snapshot, and logging out, a disabled
// user and a revoked token end the stream, on both stores.
func TestEventStreamFollowsAccess(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newMonitoringEnv(t, open(t))
			e.testEventStreamAccess(t)
		})
	}
}

func (e *env) testEventStreamAccess(t *testing.T) {
	e.t = t
	// yjj reads hazardous chemicals and, for now, construction sites in 凤麓街道.
	if r := e.do("PATCH", "/api/v1/users/yjj", `{"categories":["hazardous_chemicals","construction"]}`); r.code != 200 {
		t.Fatalf("widen yjj: %d %s", r.code, r.body)
	}
	chem := e.monUnit(t, "EV-CHEM")
	site := e.unitOf(t, "expert1", "EV-SITE", "construction", "530481001001", 102.914, 24.673, 1, 3)
	e.point(t, chem, "JC-EV-C1")
	e.point(t, chem, "JC-EV-C2")
	e.point(t, site, "JC-EV-S1")
	e.point(t, site, "JC-EV-S2")
	red := func(point string) {
		t.Helper()
		if r := e.do("POST", "/api/v1/readings", reading(`"`+point+`"`, 62)); r.code != 200 || r.json(t)["accepted"] != 1.0 {
			t.Fatalf("red reading of %s: %d %s", point, r.code, r.body)
		}
	}
	// alarmOf waits for s's next alarm and returns the code of its unit.
	alarmOf := func(s *sseStream) string {
		t.Helper()
		return fmt.Sprint(s.next(t, "alarm", 20*time.Second)["alarm"].(map[string]any)["unit_code"])
	}

	// yjj watches through its session (as the browser does) and through its API token.
	r := e.do("POST", "/api/v1/session", `{"username":"yjj","password":"`+testPassword+`"}`, "Authorization", "")
	if r.code != 200 {
		t.Fatalf("login yjj: %d %s", r.code, r.body)
	}
	var login struct {
		CSRF string `json:"csrf_token"`
	}
	_ = json.Unmarshal(r.body, &login)
	ck := r.header.Get("Set-Cookie")
	ck = ck[:strings.IndexByte(ck, ';')]
	bySession := e.openEventsWith(t, "yjj", "Cookie", ck)
	byToken := e.openEvents(t, "yjj")
	zjj := e.openEvents(t, "zjj")
	expert := e.openEvents(t, "expert1")
	yjj := []*sseStream{bySession, byToken}
	for _, s := range append(yjj, zjj, expert) {
		s.next(t, "snapshot", 20*time.Second)
	}
	red("JC-EV-S1")
	for _, s := range append(yjj, expert) {
		if got := alarmOf(s); got != "EV-SITE" {
			t.Fatalf("the site's alarm, while yjj may read it: %s", got)
		}
		s.next(t, "grade", 20*time.Second)
	}

	t.Run("OKNarrowedScopeFiltersTheStream", func(t *testing.T) {
		e.t = t
		if r := e.do("PATCH", "/api/v1/users/yjj", `{"categories":["hazardous_chemicals"]}`); r.code != 200 {
			t.Fatalf("narrow yjj: %d %s", r.code, r.body)
		}
		if r := e.do("GET", "/api/v1/alarms?open=1", "", e.as("yjj")...); r.code != 200 || strings.Contains(string(r.body), "EV-SITE") {
			t.Fatalf("yjj's alarms after the change: %d %s", r.code, r.body)
		}
		// The stream says so at once: a snapshot of the new scope, without the site.
		for _, s := range yjj {
			snap := s.next(t, "snapshot", 20*time.Second)
			if _, ok := snap["alarmed_units"].(map[string]any)[site]; ok {
				t.Fatalf("the new snapshot still names the site: %v", snap)
			}
		}
		// The site's next alarm is not yjj's any more; the chemical unit's alarm and grade
		// are, and come after it.
		red("JC-EV-S2")
		red("JC-EV-C1")
		if got := alarmOf(expert); got != "EV-SITE" {
			t.Fatalf("the expert's first alarm: %s", got)
		}
		for _, s := range yjj {
			if got := alarmOf(s); got != "EV-CHEM" {
				t.Fatalf("yjj's stream delivered an alarm of %s, outside its new scope", got)
			}
			if g := s.next(t, "grade", 20*time.Second); g["code"] != "EV-CHEM" || g["grade"] != "red" {
				t.Fatalf("the chemical unit's grade event: %v", g)
			}
			for _, ev := range s.pending() {
				if strings.Contains(fmt.Sprint(ev.data), "EV-SITE") {
					t.Fatalf("yjj's stream delivered an event of the site: %v", ev)
				}
			}
		}
	})

	t.Run("OKLogoutEndsTheSessionsStream", func(t *testing.T) {
		e.t = t
		if r := e.do("DELETE", "/api/v1/session", "", "Authorization", "", "Cookie", ck, "X-CSRF-Token", login.CSRF); r.code != 204 {
			t.Fatalf("logout: %d %s", r.code, r.body)
		}
		bySession.ends(t, 20*time.Second)
		if r := e.do("GET", "/api/v1/events", "", "Authorization", "", "Cookie", ck); r.code != 401 {
			t.Fatalf("the stream again after logout: %d %s", r.code, r.body)
		}
		// yjj's token is another credential: its stream goes on.
		red("JC-EV-C2")
		if got := alarmOf(byToken); got != "EV-CHEM" {
			t.Fatalf("the token's stream after the logout: %s", got)
		}
	})

	t.Run("OKDisabledUserEndsItsStream", func(t *testing.T) {
		e.t = t
		if r := e.do("PATCH", "/api/v1/users/yjj", `{"disabled":true}`); r.code != 200 {
			t.Fatalf("disable yjj: %d %s", r.code, r.body)
		}
		byToken.ends(t, 20*time.Second)
		if r := e.do("GET", "/api/v1/events", "", e.as("yjj")...); r.code != 401 {
			t.Fatalf("the stream of a disabled user: %d %s", r.code, r.body)
		}
	})

	t.Run("OKRevokedTokenEndsItsStream", func(t *testing.T) {
		e.t = t
		var list struct {
			Tokens []struct {
				ID   int64  `json:"id"`
				User string `json:"user"`
			} `json:"tokens"`
		}
		_ = json.Unmarshal(e.do("GET", "/api/v1/tokens", "").body, &list)
		var id int64
		for _, tk := range list.Tokens {
			if tk.User == "zjj" {
				id = tk.ID
			}
		}
		if r := e.do("DELETE", fmt.Sprintf("/api/v1/tokens/%d", id), ""); r.code/100 != 2 {
			t.Fatalf("revoke zjj's token: %d %s", r.code, r.body)
		}
		zjj.ends(t, 20*time.Second)
	})

	// Nobody else's stream ended with them: the expert hears the next alarm (after those of
	// before it has not read yet).
	e.t = t
	e.point(t, site, "JC-EV-S3")
	red("JC-EV-S3")
	for {
		a := expert.next(t, "alarm", 20*time.Second)["alarm"].(map[string]any)
		if a["point_code"] == "JC-EV-S3" {
			break
		}
	}
}

// ends waits for the stream to end (its body at EOF), whatever it still delivers first,
// and fails if it is still open within the wait.
func (s *sseStream) ends(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case _, ok := <-s.events:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the stream is still open")
		}
	}
}
