package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"riskmap/pkg/riskmap"
)

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
