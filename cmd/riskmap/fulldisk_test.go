package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/paulmach/orb"

	"riskmap/pkg/gpkg"
	"riskmap/pkg/pgtest"
	"riskmap/pkg/riskmap"
)

// smallDisk mounts a tmpfs of size (e.g. "4m") on a new directory for the test; it skips
// where mounting is not allowed, except in CI.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		msg := "cannot mount a small tmpfs (needs root): " + strings.TrimSpace(string(out))
		if pgtest.Required() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill writes a file until the disk is full and returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "filler")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return p
		}
	}
}

// TestGeoPackageFullDisk is issue 18's fault test: a GeoPackage on a full disk refuses
// writes with a clear 503 (and a bulk load with a clear error), keeps every unit it had,
// stays valid for GDAL, and takes writes again once there is room, without a restart.
func TestGeoPackageFullDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a tmpfs")
	}
	dir := smallDisk(t, "6m")
	db := filepath.Join(dir, "full.gpkg")
	mustRun(t, "seed", "--db", db, "--synthetic", "20", "--seed", "1")
	{
		s, err := gpkg.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		addToken(t, s, "full-expert", riskmap.RoleExpert)
		s.Close()
	}
	base, _ := serve(t, "--db", db)
	post := func(code string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", base+"/api/v1/units", strings.NewReader(unitFeature(code, "满盘测试", orb.Point{102.9312, 24.6888}, "submitted")))
		req.Header.Set("Authorization", "Bearer rmk_full-expert")
		req.Header.Set("Content-Type", "application/geo+json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if c, body := post("FULL-0"); c != http.StatusCreated {
		t.Fatalf("a write before the disk is full: %d %s", c, body)
	}
	filler := fill(t, dir)

	t.Run("ErrWriteRefusedClearly", func(t *testing.T) {
		// A few writes: SQLite may still find room in free pages for the first.
		for i := range 20 {
			c, body := post("FULL-" + string(rune('A'+i)))
			if c == http.StatusCreated {
				continue
			}
			if c != http.StatusServiceUnavailable || !strings.Contains(body, "磁盘") {
				t.Fatalf("a write on a full disk: %d %s; want 503 saying the disk is full", c, body)
			}
			return
		}
		t.Fatal("twenty writes on a full disk all succeeded")
	})
	t.Run("ErrBulkLoadRefusedClearly", func(t *testing.T) {
		_, errs, err := run(t, "", "seed", "--db", db, "--synthetic", "3000", "--seed", "2")
		if err == nil || !strings.Contains(err.Error(), "磁盘") {
			t.Fatalf("a bulk load on a full disk: %v\n%s", err, errs)
		}
	})
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	t.Run("OKWritesResume", func(t *testing.T) {
		if c, body := post("FULL-Z"); c != http.StatusCreated {
			t.Fatalf("a write once there is room again: %d %s", c, body)
		}
		s, err := gpkg.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.GetUnit(context.Background(), 1); err != nil {
			t.Fatalf("the units from before: %v", err)
		}
	})
	t.Run("OKStillValid", func(t *testing.T) {
		validGpkg(t, db, "after a full disk")
	})
}
