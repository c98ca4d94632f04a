package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"testing"
)

// TestJSONIsCompressed: a list of more than 1 KB goes gzipped to a client that asks for it
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
			if r := e.do("GET", "/healthz", "", "Accept-Encoding", "gzip"); r.header.Get("Content-Encoding") == "gzip" {
				t.Error("/healthz: a tiny answer gzipped")
			}
		})
	}
}
