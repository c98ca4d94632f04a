package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"riskmap/pkg/gpkg"
	"riskmap/pkg/pgtest"
	"riskmap/pkg/postgis"
	"riskmap/pkg/riskmap"
)

var (
	killBinOnce sync.Once
	killBin     string
	killBinErr  error
)

// builtBinary is bin/riskmap built once for the tests that run it as a process (without the race
// detector, whose slowness would change nothing but the time).
func builtBinary(t *testing.T) string {
	t.Helper()
	killBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "riskmap-kill-")
		if err != nil {
			killBinErr = err
			return
		}
		killBin = filepath.Join(dir, "riskmap")
		if out, err := exec.Command("go", "build", "-o", killBin, ".").CombinedOutput(); err != nil {
			killBinErr = err
			t.Logf("%s", out)
		}
	})
	if killBinErr != nil {
		t.Fatalf("go build: %v", killBinErr)
	}
	return killBin
}

// TestKillDuringSeedLeavesNothing is issue 18's fault test: `kill -9` while a bulk load
// writes leaves all or nothing on both stores (one transaction), and the GeoPackage file
// stays a valid database that the next command opens and writes.
func TestKillDuringSeedLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	bin := builtBinary(t)
	stores := map[string]string{
		"GeoPackage": filepath.Join(t.TempDir(), "kill.gpkg"),
		"PostGIS":    pgtest.NewDatabase(t),
	}
	for name, db := range stores {
		t.Run(name, func(t *testing.T) {
			mustRun(t, "seed", "--db", db, "--synthetic", "10", "--seed", "1") // the schema and ten units
			cmd := exec.Command(bin, "seed", "--db", db, "--synthetic", "400000", "--seed", "2")
			cmd.Env = append(os.Environ(), "RISKMAP_DB=")
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Killed once it says it has written units: in the middle of its transaction.
			sc := bufio.NewScanner(stderr)
			said := make(chan string, 1)
			go func() {
				for sc.Scan() {
					if strings.HasPrefix(sc.Text(), "写入合成风险单元") {
						select {
						case said <- sc.Text():
						default:
						}
					}
				}
			}()
			select {
			case line := <-said:
				t.Logf("killed after: %s", line)
			case <-time.After(3 * time.Minute):
				cmd.Process.Kill()
				t.Fatal("the seed never reported progress")
			}
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			cmd.Wait()

			ctx := context.Background()
			var s riskmap.Store
			if name == "PostGIS" {
				s, err = postgis.Open(ctx, db)
			} else {
				s, err = gpkg.Open(ctx, db)
			}
			if err != nil {
				t.Fatalf("the store after kill -9: %v", err)
			}
			n, err := s.CountUnits(ctx)
			s.Close()
			if err != nil || n != 10 {
				t.Fatalf("after kill -9 the store holds %d units (%v), want the 10 from before", n, err)
			}
			// The next command opens and writes it as if nothing happened.
			mustRun(t, "seed", "--db", db, "--synthetic", "5", "--seed", "3")
			if name == "GeoPackage" {
				if script := validateGpkg(); script != "" {
					if out, err := exec.Command("/usr/bin/python3", script, db).CombinedOutput(); err != nil || len(out) > 0 {
						t.Fatalf("validate_gpkg.py after kill -9: %v\n%s", err, out)
					}
				} else if pgtest.Required() {
					t.Fatal("validate_gpkg.py is missing (scripts/install-deps.sh installs gdal)")
				}
			}
		})
	}
}

// validateGpkg is the path of GDAL's validate_gpkg.py, or "".
func validateGpkg() string {
	for _, p := range []string{"/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py", "/usr/share/doc/python3-gdal/examples/validate_gpkg.py"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}
