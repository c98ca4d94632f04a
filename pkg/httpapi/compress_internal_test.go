package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// FuzzAcceptEncoding: any Accept-Encoding header chooses zstd, gzip or nothing, never a
// panic, and never an encoding it gives q=0.
func FuzzAcceptEncoding(f *testing.F) {
	for _, h := range []string{"", "gzip", "gzip, deflate, br, zstd", "zstd;q=0, gzip", "*;q=0", "gzip;q=0.0", "zstd;q=1e400", ";;,,=;q", "gzip;q=-1"} {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := &http.Request{Header: http.Header{"Accept-Encoding": {h}}}
		switch enc := responseEncoding(r); enc {
		case "":
		case "gzip", "zstd":
			if q := acceptQ(r, enc); q <= 0 || q > 1 {
				t.Fatalf("%q: chose %s with q=%v", h, enc, q)
			}
		default:
			t.Fatalf("%q: chose %q", h, enc)
		}
	})
}

// A handler that flushes before writing has sent its headers without Content-Encoding:
// what it writes next goes as it is, readable by the client.
func TestFlushBeforeWriteIsNotCompressed(t *testing.T) {
	e := echo.New()
	e.GET("/", compress(func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		c.Response().Flush()
		return c.String(http.StatusOK, strings.Repeat(`{"a":1}`, 1000))
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if enc := rec.Header().Get("Content-Encoding"); enc != "" || rec.Body.String() != strings.Repeat(`{"a":1}`, 1000) {
		t.Fatalf("Content-Encoding %q, body of %d bytes starting %q", enc, rec.Body.Len(), rec.Body.String()[:min(10, rec.Body.Len())])
	}
}

// Each token is in Vary once, however many layers ask for it.
func TestVaryOnce(t *testing.T) {
	h := http.Header{}
	vary(h, "Cookie", "Authorization")
	vary(h, "Accept-Encoding")
	vary(h, "accept-encoding", "Accept-Language", "Cookie")
	got := strings.Join(h.Values("Vary"), ", ")
	if got != "Cookie, Authorization, Accept-Encoding, Accept-Language" {
		t.Fatalf("Vary: %s", got)
	}
}
