package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestJSONIsCompressed: a list of more than 1 KB goes gzipped, or zstd-compressed, to a client that asks for it
// (and stays the same JSON once unpacked); a small answer goes as it is.
func TestJSONIsCompressed(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			for i := range 12 {
				e.createShape(t, fmt.Sprintf("GZ-%02d", i), fmt.Sprintf(`{"type":"Point","coordinates":[102.91%d,24.671]}`, i), true)
			}
			plain := e.do("GET", "/api/v1/units?q=GZ-", "")
			if plain.code != 200 || len(plain.body) < 1024 {
				t.Fatalf("the list: %d, %d bytes", plain.code, len(plain.body))
			}
			r := e.do("GET", "/api/v1/units?q=GZ-", "", "Accept-Encoding", "gzip")
			if r.code != 200 || r.header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("a list of %d bytes to a client accepting gzip: %d, Content-Encoding %q", len(plain.body), r.code, r.header.Get("Content-Encoding"))
			}
			zr, err := gzip.NewReader(bytes.NewReader(r.body))
			if err != nil {
				t.Fatal(err)
			}
			unpacked, err := io.ReadAll(zr)
			if err != nil || !json.Valid(unpacked) || len(r.body) >= len(unpacked) {
				t.Fatalf("unpacked %d bytes from %d (%v), valid JSON %v", len(unpacked), len(r.body), err, json.Valid(unpacked))
			}
			t.Logf("list of 12 units: %d bytes, %d gzipped", len(unpacked), len(r.body))
			// A browser that takes zstd gets zstd; a client's refusals (q=0) are honoured.
			for ae, want := range map[string]string{"gzip, deflate, br, zstd": "zstd", "zstd;q=0, gzip": "gzip", "gzip;q=0.5, zstd;q=0.4": "gzip",
				"gzip;q=0.0": "", "identity": "", "*": "zstd", "*;q=0, gzip": "gzip", "ZSTD;Q=1": "zstd", "zstd;q=x": ""} {
				r := e.do("GET", "/api/v1/units?q=GZ-", "", "Accept-Encoding", ae)
				if got := r.header.Get("Content-Encoding"); got != want || r.code != 200 {
					t.Fatalf("Accept-Encoding %q: Content-Encoding %q, want %q", ae, got, want)
				}
				if want != "zstd" {
					continue
				}
				zr, err := zstd.NewReader(bytes.NewReader(r.body))
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(zr)
				zr.Close()
				if err != nil || !bytes.Equal(got, plain.body) {
					t.Fatalf("the zstd answer unpacks to %d bytes (%v), not the %d of the plain one", len(got), err, len(plain.body))
				}
				t.Logf("and %d with zstd", len(r.body))
			}
			if r := e.do("GET", "/healthz", "", "Accept-Encoding", "gzip"); r.header.Get("Content-Encoding") == "gzip" {
				t.Error("/healthz: a tiny answer gzipped")
			}
		})
	}
}
