package webauth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
)

// FuzzDeviceCookie feeds the device-cookie parser whatever a client may send: it never
// panics, keeps at most five accounts, and accepts only entries this server signed.
func FuzzDeviceCookie(f *testing.F) {
	s := &Auth{deviceKey: []byte("fuzz key")}
	now := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	valid := s.deviceEntry("zjj", now.Unix()) + "~" + s.deviceEntry("expert1", now.Add(-time.Hour).Unix())
	for _, seed := range []string{valid, "", "~~~", "a.b.c", valid + "~x.1.y", strings.Repeat(valid+"~", 10), "emprag.99999999999999999999.x"} {
		f.Add(seed)
	}
	e := echo.New()
	f.Fuzz(func(t *testing.T, raw string) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/session", nil)
		req.AddCookie(&http.Cookie{Name: deviceCookiePlain, Value: raw})
		if req.Header.Get("Cookie") == "" {
			return // net/http would not send a cookie value it cannot quote
		}
		c := e.NewContext(req, httptest.NewRecorder())
		got := s.deviceEntries(c, now)
		if len(got) > deviceAccounts {
			t.Fatalf("%d accounts kept from one cookie", len(got))
		}
		for _, d := range got {
			parts := strings.Split(d.entry, ".")
			if len(parts) != 3 || s.deviceMAC(parts[0], parts[1]) != parts[2] {
				t.Fatalf("an entry this server did not sign was accepted: %q", d.entry)
			}
		}
	})
}
