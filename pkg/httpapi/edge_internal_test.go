package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"riskmap/pkg/riskmap"
)

// FuzzDeviceCookie feeds the device-cookie parser whatever a client may send: it never
// panics, keeps at most five accounts, and accepts only entries this server signed.
func FuzzDeviceCookie(f *testing.F) {
	s := &Server{cfg: Config{DeviceKey: []byte("fuzz key")}}
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

// FuzzDecodeError: whatever body a client sends, the error names no Go type or package.
func FuzzDecodeError(f *testing.F) {
	for _, seed := range []string{`{"name":123}`, `{"name":"x","user":false}`, `{"name":`, `[]`, `"x"`, `{"scope":{}}`, "\x00"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req struct {
			Name       string   `json:"name"`
			User       string   `json:"user"`
			Disabled   *bool    `json:"disabled"`
			Categories []string `json:"categories"`
		}
		err := json.Unmarshal(body, &req)
		if err == nil {
			return
		}
		de := decodeError(err)
		if riskmap.ErrorCode(de) != riskmap.EINVALID {
			t.Fatalf("%q: code %s", body, riskmap.ErrorCode(de))
		}
		msg := de.Error()
		if strings.Contains(msg, "json:") || strings.Contains(msg, "Go ") || strings.Contains(msg, "struct") {
			t.Fatalf("%q: Go's text reaches the user: %s", body, msg)
		}
	})
}
