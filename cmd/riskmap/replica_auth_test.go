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

// A disabled user and a revoked token take effect on every replica at once (issue 18 item
// 7): the store announces the change and each replica forgets the credentials it trusted,
// rather than trusting them for the rest of its cache's 2 s.
func TestReplicasShareAccessChanges(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	mustRun(t, "seed", "--db", dsn, "--synthetic", "5", "--seed", "7")
	store := openPG(t, dsn)
	addToken(t, store, "share-admin", riskmap.RoleAdmin)
	addToken(t, store, "share-expert", riskmap.RoleExpert)
	addToken(t, store, "share-dept", riskmap.RoleExpert)
	a, _ := serve(t, "--db", dsnWith(t, dsn, "", "riskmap-a"))
	b, _ := serve(t, "--db", dsnWith(t, dsn, "", "riskmap-b"))
	status := func(base, user string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", base+"/api/v1/units?limit=1", nil)
		req.Header.Set("Authorization", "Bearer rmk_"+user)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	// refusedSoon asks B again and again until it refuses user, and fails if B still
	// trusted it when its cache alone would have (2 s after B last looked it up).
	refusedSoon := func(t *testing.T, user string, trusted time.Time) {
		t.Helper()
		for time.Since(trusted) < 1800*time.Millisecond {
			if status(b, user) == http.StatusUnauthorized {
				t.Logf("B refused %s %v after it last trusted it", user, time.Since(trusted).Round(time.Millisecond))
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("B still trusted %s from its cache", user)
	}
	t.Run("OKRevokedTokenRefusedAtOnce", func(t *testing.T) {
		if c := status(b, "share-expert"); c != 200 {
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
		refusedSoon(t, "share-expert", trusted)
	})
	t.Run("OKDisabledUserRefusedAtOnce", func(t *testing.T) {
		if c := status(b, "share-dept"); c != 200 {
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
		refusedSoon(t, "share-dept", trusted)
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
