package webauth

import (
	"encoding/base64"
	"testing"
	"time"
)

func TestBasicToken(t *testing.T) {
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		name, header, want string
		ok                 bool
	}{
		{"OKTokenAsPassword", basic("qgis:rmk_secret"), "rmk_secret", true},
		{"OKAnyUserName", basic(":rmk_secret"), "rmk_secret", true},
		{"ErrPassword", basic("admin:hunter22hunter22"), "", false},
		{"ErrNoColon", basic("rmk_secret"), "", false},
		{"ErrBadBase64", "Basic %%%", "", false},
		{"ErrBearer", "Bearer rmk_secret", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := basicToken(tc.header)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("basicToken(%q) = %q, %v; want %q, %v", tc.header, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestCacheTrustsForTwoSeconds(t *testing.T) {
	var c cache
	t0 := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	p := &Principal{Ended: "x"}
	c.put("k", p, t0, nil)
	for _, tc := range []struct {
		name string
		at   time.Time
		want *Principal
	}{
		{"OKWithinTTL", t0.Add(cacheTTL - time.Millisecond), p},
		{"ExpiredAtTTL", t0.Add(cacheTTL), nil},
		{"ClockWentBack", t0.Add(-time.Second), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.get("k", tc.at); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
	a := &Auth{}
	a.cache.put("k", p, t0, nil)
	a.Forget()
	if a.cache.get("k", t0) != nil {
		t.Fatal("Forget kept a credential")
	}
}

// A lookup that began before a Forget may have read what the Forget was about: it is not
// cached after it, and a stream waiting on Forgotten hears of it.
func TestForgetOutrunsALookup(t *testing.T) {
	a := &Auth{}
	t0 := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	waiting := a.Forgotten()
	since := a.cache.epoch() // the lookup begins
	a.Forget()               // the user is disabled meanwhile
	a.cache.put("k", &Principal{Ended: "x"}, t0, since)
	if a.cache.get("k", t0) != nil {
		t.Fatal("a lookup older than Forget was cached")
	}
	select {
	case <-waiting:
	default:
		t.Fatal("Forget did not close Forgotten")
	}
	since = a.cache.epoch()
	a.cache.put("k", &Principal{Ended: "y"}, t0, since)
	if a.cache.get("k", t0) == nil {
		t.Fatal("a lookup after Forget was not cached")
	}
}
