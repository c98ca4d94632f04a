package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedFilesAreCurrent: geodata/ holds exactly what the generator writes, so the demo
// city can always be rebuilt from source. After changing the generator (or pkg/synth), run
// `go run ./scripts/gendemo` and commit the files.
func TestCommittedFilesAreCurrent(t *testing.T) {
	files, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	again, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			if !bytes.Equal(data, again[name]) {
				t.Fatal("two runs of the generator differ")
			}
			committed, err := os.ReadFile(filepath.Join("..", "..", "geodata", name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(data, committed) {
				t.Fatalf("geodata/%s is stale: run `go run ./scripts/gendemo`", name)
			}
		})
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	if err := run(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"regions.geojson", "units.geojson", "protective_targets.geojson", "shelters.geojson"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := run(filepath.Join(dir, "missing")); err == nil {
		t.Error("writing into a missing directory did not fail")
	}
}
