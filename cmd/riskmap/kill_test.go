package main

import (
	"bufio"
	"bytes"
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
			killWhen(t, bin, func(line string) bool { return strings.HasPrefix(line, "写入合成风险单元") },
				"seed", "--db", db, "--synthetic", "400000", "--seed", "2")

			if n := len(unitVersions(t, db)); n != 10 {
				t.Fatalf("after kill -9 the store holds %d units, want the 10 from before", n)
			}
			// The next command opens and writes it as if nothing happened.
			mustRun(t, "seed", "--db", db, "--synthetic", "5", "--seed", "3")
			if name == "GeoPackage" {
				validGpkg(t, db, "after kill -9")
			}
		})
	}
}

// killWhen runs the binary with args and kills it (SIGKILL) as soon as a line of its
// standard error (lines end in \n or \r: progress lines rewrite themselves) satisfies
// said: in the middle of its work.
func killWhen(t *testing.T, bin string, said func(line string) bool, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "RISKMAP_DB=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
			return i + 1, data[:i], nil
		}
		if atEOF && len(data) > 0 {
			return len(data), data, nil
		}
		return 0, nil, nil
	})
	seen := make(chan string, 1)
	go func() {
		for sc.Scan() {
			if said(sc.Text()) {
				select {
				case seen <- sc.Text():
				default:
				}
			}
		}
	}()
	select {
	case line := <-seen:
		t.Logf("killed after: %s", line)
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("riskmap %s never said what it was waiting for", strings.Join(args, " "))
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()
}

// TestKillDuringImportLeavesNothing: `kill -9` while `riskmap import` writes an Excel
// 风险清单 of 50,000 units (one transaction) leaves the store as it was, on both stores,
// and the GeoPackage file valid. (Killed at its first progress line past zero, half a
// second into the writing; were the writing done by then, everything would be there: all or
// nothing either way, and the test says which.)
func TestKillDuringImportLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	bin := builtBinary(t)
	dir := t.TempDir()
	src, book := filepath.Join(dir, "src.gpkg"), filepath.Join(dir, "风险清单.xlsx")
	mustRun(t, "seed", "--db", src, "--synthetic", "50000", "--seed", "2")
	mustRun(t, "export", book, "--db", src)
	stores := map[string]string{
		"GeoPackage": filepath.Join(dir, "kill.gpkg"),
		"PostGIS":    pgtest.NewDatabase(t),
	}
	writing := regexp.MustCompile(`^写入：([1-9][0-9]*)/([0-9]+) 行`)
	for name, db := range stores {
		t.Run(name, func(t *testing.T) {
			mustRun(t, "seed", "--db", db, "--synthetic", "10", "--seed", "1") // the schema and ten units
			before := unitVersions(t, db)
			killWhen(t, bin, func(line string) bool {
				m := writing.FindStringSubmatch(line)
				return m != nil && m[1] != m[2] // some rows written, not all
			}, "import", book, "--db", db)
			switch after := unitVersions(t, db); {
			case maps.Equal(before, after):
				t.Logf("nothing of the import is in the store")
			case len(after) == len(before)+50000:
				t.Logf("the import had committed before the kill: all of it is in the store")
			default:
				t.Fatalf("after kill -9 during the import the store holds %d units: neither the %d from before, unchanged, nor all %d", len(after), len(before), len(before)+50000)
			}
			mustRun(t, "seed", "--db", db, "--synthetic", "5", "--seed", "3") // and takes writes
			if name == "GeoPackage" {
				validGpkg(t, db, "after kill -9")
			}
		})
	}
}

// unitVersions opens the store at db and returns the version of each of its units by code.
func unitVersions(t *testing.T, db string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	var (
		s   riskmap.Store
		err error
	)
	if isPostgres(db) {
		s, err = postgis.Open(ctx, db)
	} else {
		s, err = gpkg.Open(ctx, db)
	}
	if err != nil {
		t.Fatalf("the store after kill -9: %v", err)
	}
	defer s.Close()
	out := map[string]int64{}
	for u, err := range s.Units(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		out[u.Code] = u.Version
	}
	return out
}

// validGpkg checks the GeoPackage file db with GDAL's validate_gpkg.py (when says at what
// point, for the failure). Without the script the test fails where the tools are required (CI
// or RISKMAP_REQUIRE_PG=1: scripts/install-deps.sh installs python3-gdal) and skips elsewhere.
func validGpkg(t *testing.T, db, when string) {
	t.Helper()
	script := ""
	for _, p := range []string{"/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py", "/usr/share/doc/python3-gdal/examples/validate_gpkg.py"} {
		if _, err := os.Stat(p); err == nil {
			script = p
			break
		}
	}
	if script == "" {
		const msg = "validate_gpkg.py is missing (python3-gdal; scripts/install-deps.sh installs it)"
		if pgtest.Required() {
			t.Fatal(msg + " [required because CI or RISKMAP_REQUIRE_PG=1 is set]")
		}
		t.Skip(msg + ": the file is not validated")
	}
	// Debian's python3-gdal belongs to /usr/bin/python3, not to a pyenv python on PATH.
	if out, err := exec.Command("/usr/bin/python3", script, db).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("validate_gpkg.py %s: %v\n%s", when, err, out)
	}
}
