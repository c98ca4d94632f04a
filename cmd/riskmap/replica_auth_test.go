package main

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"riskmap/pkg/pgtest"
	"riskmap/pkg/riskmap"
)

// A disabled user, a revoked token and a logged-out browser session take effect on every
// replica at once (issue 18 item 7): the store announces the change and each replica forgets
// the credentials it trusted, rather than trusting them for the rest of its cache's 2 s.
func TestReplicasShareAccessChanges(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	mustRun(t, "seed", "--db", dsn, "--synthetic", "5", "--seed", "7")
	store := openPG(t, dsn)
	addToken(t, store, "share-admin", riskmap.RoleAdmin)
	addToken(t, store, "share-expert", riskmap.RoleExpert)
	addToken(t, store, "share-dept", riskmap.RoleExpert)
	const browserPW = "share-browser-password"
	if _, errs, err := run(t, browserPW+"\n", "user", "add", "--db", dsn, "--name", "share-browser", "--role", "expert", "--password-stdin"); err != nil {
		t.Fatalf("user add: %v %s", err, errs)
	}
	a, _ := serve(t, "--db", dsnWith(t, dsn, "", "riskmap-a"))
	b, _ := serve(t, "--db", dsnWith(t, dsn, "", "riskmap-b"))
	// status is the answer of replica base to an internal read with header (an API token or
	// a browser's session cookie).
	status := func(base, header, value string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/api/v1/units?limit=1", nil)
		req.Header.Set(header, value)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	// refusedSoon asks B again and again until it refuses who (header: value), and fails if
	// B still trusted it when its cache alone would have (2 s after B last looked it up).
	refusedSoon := func(t *testing.T, who, header, value string, trusted time.Time) {
		t.Helper()
		for time.Since(trusted) < 1800*time.Millisecond {
			if status(b, header, value) == http.StatusUnauthorized {
				t.Logf("B refused %s %v after it last trusted it", who, time.Since(trusted).Round(time.Millisecond))
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("B still trusted %s from its cache", who)
	}
	t.Run("OKRevokedTokenRefusedAtOnce", func(t *testing.T) {
		if c := status(b, "Authorization", "Bearer rmk_share-expert"); c != 200 {
			t.Fatalf("before: %d", c)
		}
		trusted := time.Now()
		var id string
		toks, err := store.APITokens(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range toks {
			if tk.UserName == "share-expert" {
				id = strconv.FormatInt(tk.ID, 10)
			}
		}
		req, _ := http.NewRequest("DELETE", a+"/api/v1/tokens/"+id, nil)
		req.Header.Set("Authorization", "Bearer rmk_share-admin")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode/100 != 2 {
			t.Fatalf("revoking through A: %d", res.StatusCode)
		}
		refusedSoon(t, "share-expert", "Authorization", "Bearer rmk_share-expert", trusted)
	})
	t.Run("OKDisabledUserRefusedAtOnce", func(t *testing.T) {
		if c := status(b, "Authorization", "Bearer rmk_share-dept"); c != 200 {
			t.Fatalf("before: %d", c)
		}
		trusted := time.Now()
		req, _ := http.NewRequest("PATCH", a+"/api/v1/users/share-dept", strings.NewReader(`{"disabled":true}`))
		req.Header.Set("Authorization", "Bearer rmk_share-admin")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("disabling through A: %d", res.StatusCode)
		}
		refusedSoon(t, "share-dept", "Authorization", "Bearer rmk_share-dept", trusted)
	})
	t.Run("OKLoggedOutSessionRefusedAtOnce", func(t *testing.T) {
		// A browser logs in on A; behind a load balancer its next request may reach B.
		cookie, csrf := login(t, a, "share-browser", browserPW)
		if c := status(b, "Cookie", cookie); c != 200 {
			t.Fatalf("the session from A, on B before the logout: %d", c)
		}
		trusted := time.Now()
		req, _ := http.NewRequest("DELETE", a+"/api/v1/session", nil)
		req.Header.Set("Cookie", cookie)
		req.Header.Set("X-CSRF-Token", csrf)
		req.Header.Set("Origin", a)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("logging out on A: %d", res.StatusCode)
		}
		if c := status(a, "Cookie", cookie); c != http.StatusUnauthorized {
			t.Fatalf("the session on A after its logout: %d, want 401", c)
		}
		refusedSoon(t, "share-browser's logged-out session", "Cookie", cookie, trusted)
	})
	t.Run("OKGuessesCountOnEveryReplica", func(t *testing.T) {
		login := func(base string) int {
			t.Helper()
			res, err := http.Post(base+"/api/v1/session", "application/json", strings.NewReader(`{"username":"share-admin","password":"not-the-password-1"}`))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		for i := range 5 { // the account's limit, all through A
			if c := login(a); c != http.StatusUnauthorized {
				t.Fatalf("guess %d through A: %d", i+1, c)
			}
		}
		time.Sleep(time.Second) // the announcements reach B within milliseconds
		if c := login(b); c != http.StatusTooManyRequests {
			t.Fatalf("the sixth guess, through B: %d, want 429 (B must count A's guesses)", c)
		}
	})
}
