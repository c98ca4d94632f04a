package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"riskmap/pkg/gpkg"
	"riskmap/pkg/riskmap"
)

// TestPublishNote: "riskmap publish" checks the note as POST /api/v1/publications does, with
// the same words, and publishes nothing when it refuses it.
func TestPublishNote(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.gpkg")
	mustRun(t, "migrate", "--db", db)
	s, err := gpkg.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	addToken(t, s, "pub-admin", riskmap.RoleAdmin)
	latest := func() int64 {
		t.Helper()
		p, err := s.LatestPublication(context.Background())
		if riskmap.ErrorCode(err) == riskmap.ENOTFOUND {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return p.Number
	}
	defer s.Close()
	tooLong := strings.Repeat("长", 801)
	const want = "发布说明最多 800 个字"

	t.Run("ErrTooLongFromTheCommandLine", func(t *testing.T) {
		_, _, err := run(t, "", "publish", "--db", db, "--note", tooLong)
		if err == nil || err.Error() != want {
			t.Fatalf("want %q, got %v", want, err)
		}
		if n := latest(); n != 0 {
			t.Fatalf("a refused note must publish nothing, got publication %d", n)
		}
	})
	t.Run("ErrTooLongOverHTTP", func(t *testing.T) {
		base, _ := serve(t, "--db", db)
		b, _ := json.Marshal(map[string]string{"note": tooLong})
		req, err := http.NewRequest("POST", base+"/api/v1/publications", strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer rmk_pub-admin")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		var e struct {
			Error struct{ Message string }
		}
		if err := json.Unmarshal(body, &e); err != nil || res.StatusCode != http.StatusBadRequest || e.Error.Message != want {
			t.Fatalf("want 400 %q, got %d %s", want, res.StatusCode, body)
		}
		if n := latest(); n != 0 {
			t.Fatalf("a refused note must publish nothing, got publication %d", n)
		}
	})
	t.Run("OK", func(t *testing.T) {
		out := mustRun(t, "publish", "--db", db, "--note", strings.Repeat("长", 800))
		if !strings.HasPrefix(out, "已发布第 1 期：") || latest() != 1 {
			t.Fatalf("a note of 800 characters is published: %q, latest %d", out, latest())
		}
	})
}
