package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"riskmap/pkg/pgtest"
)

// needQGIS skips a test when QGIS's Python library is missing, except in CI where it must
// exist. Debian's python3-qgis belongs to /usr/bin/python3, not to a pyenv python on PATH.
func needQGIS(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	cmd := exec.Command(py, "-c", "from qgis.core import Qgis")
	cmd.Env = append(os.Environ(), "QT_QPA_PLATFORM=offscreen")
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("QGIS's Python library is required in CI (scripts/install-deps.sh installs python3-qgis): %v\n%s", err, out)
		}
		t.Skipf("QGIS's Python library is not installed: %v", err)
	}
	return py
}

// TestQGISReadsTheOGCAPI opens /ogc with QGIS's own OAPIF provider, as an analyst adds the
// layers: every collection must open, count what the API counts, have one geometry type, and
// draw every unit in its grade colour (scripts/qgis_check.py). It does so for the public and
// with the API tokens of an admin and of a department, over both stores. QGIS sends a token
// as an analyst's QGIS 3.22 does: the password of a Basic authentication configuration, user
// name the login name; an unknown token must get a layer QGIS refuses.
func TestQGISReadsTheOGCAPI(t *testing.T) {
	py := needQGIS(t)
	script, err := filepath.Abs("../../scripts/qgis_check.py")
	if err != nil {
		t.Fatal(err)
	}
	artifacts, err := filepath.Abs("../../test-artifacts")
	if err != nil {
		t.Fatal(err)
	}
	stores := map[string]func(t *testing.T) string{
		// The GeoPackage is a copy of the demo seeded once (demoGPKG); PostGIS is seeded here.
		"GeoPackage": func(t *testing.T) string { return demoGPKG(t, "qgis.gpkg") },
		"PostGIS": func(t *testing.T) string {
			dsn := pgtest.NewDatabase(t)
			mustRun(t, "seed", "--db", dsn, "--demo")
			return dsn
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			const pw = "qgis-test-password"
			for _, u := range [][]string{
				{"--name", "admin", "--role", "admin"},
				{"--name", "yingji", "--role", "department", "--department", "应急局", "--categories", "hazardous_chemicals", "--regions", "530481001"},
			} {
				if _, errs, err := run(t, pw+"\n", append(append([]string{"user", "add", "--db", db}, u...), "--password-stdin")...); err != nil {
					t.Fatalf("user add %v: %v %s", u, err, errs)
				}
			}
			base, _ := serve(t, "--db", db)
			cookie, csrf := login(t, base, "admin", pw)
			admin := newToken(t, base, cookie, csrf, "admin")
			dept := newToken(t, base, cookie, csrf, "yingji")

			// The tokens see other registers than the public: the check is not the same thrice.
			counts := map[string]float64{}
			for who, tok := range map[string]string{"public": "", "admin": admin, "yingji": dept} {
				var fc struct {
					NumberMatched float64 `json:"numberMatched"`
				}
				getJSON(t, base+"/ogc/collections/units/items?limit=1", tok, &fc)
				counts[who] = fc.NumberMatched
			}
			if counts["admin"] <= counts["public"] || counts["yingji"] == 0 || counts["yingji"] >= counts["admin"] {
				t.Fatalf("units seen: %v", counts)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, py, script, "--base", base, "--token", "admin="+admin, "--token", "yingji="+dept,
				"--png", filepath.Join(artifacts, "qgis-units-"+strings.ToLower(name)+".png"))
			cmd.Env = append(os.Environ(), "QT_QPA_PLATFORM=offscreen")
			start := time.Now()
			out, err := cmd.CombinedOutput()
			t.Logf("qgis_check.py (%.1fs):\n%s", time.Since(start).Seconds(), out)
			if err != nil {
				t.Fatalf("QGIS cannot use the OGC API: %v", err)
			}
		})
	}
}

// login starts an admin session and returns its cookie and CSRF token.
func login(t *testing.T, base, user, pw string) (cookie, csrf string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	res, err := http.Post(base+"/api/v1/session", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var s struct {
		CSRF string `json:"csrf_token"`
	}
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &s); err != nil || res.StatusCode != 200 || len(res.Cookies()) == 0 {
		t.Fatalf("login as %s: %d %s", user, res.StatusCode, b)
	}
	c := res.Cookies()[0]
	return c.Name + "=" + c.Value, s.CSRF
}

// newToken makes an API token for user with an admin session.
func newToken(t *testing.T, base, cookie, csrf, user string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": "qgis-test", "user": user})
	req, _ := http.NewRequest("POST", base+"/api/v1/tokens", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", cookie)
	req.Header.Set("X-CSRF-Token", csrf)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		Secret string `json:"secret"`
	}
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &tok); err != nil || res.StatusCode != 201 || tok.Secret == "" {
		t.Fatalf("token for %s: %d %s", user, res.StatusCode, b)
	}
	return tok.Secret
}

func getJSON(t *testing.T, url, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || json.Unmarshal(b, v) != nil {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
}
