package main

import (
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// The demo city, seeded once per test process: loading it costs a minute of CPU under the
// race detector, and most tests that need it only read it or build on it. Each test gets a
// copy of the file.
var (
	demoOnce sync.Once
	demoDir  string
	demoErr  error
)

// demoGPKG returns the path of a fresh copy, named name in a directory of the test's, of a
// GeoPackage store as `riskmap seed --demo` leaves it.
func demoGPKG(t *testing.T, name string) string {
	t.Helper()
	demoOnce.Do(func() {
		if demoDir, demoErr = os.MkdirTemp("", "riskmap-demo-"); demoErr != nil {
			return
		}
		_, _, demoErr = run(t, "", "seed", "--db", filepath.Join(demoDir, "demo.gpkg"), "--demo")
	})
	if demoErr != nil {
		t.Fatalf("seed --demo: %v", demoErr)
	}
	dst := filepath.Join(t.TempDir(), name)
	for _, suffix := range []string{"", "-wal"} {
		src, err := os.Open(filepath.Join(demoDir, "demo.gpkg"+suffix))
		if os.IsNotExist(err) && suffix != "" {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(dst + suffix)
		if err == nil {
			_, err = io.Copy(out, src)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
		}
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestMain(m *testing.M) {
	code := m.Run()
	if demoDir != "" {
		os.RemoveAll(demoDir)
	}
	if killBin != "" {
		os.RemoveAll(filepath.Dir(killBin))
	}
	os.Exit(code)
}
