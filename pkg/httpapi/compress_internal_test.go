package httpapi

import (
	"net/http"
	"testing"
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
