package tiles_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb/maptile"

	"riskmap/pkg/tiles"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGolden compares rendered tiles byte for byte with testdata/*.mvt, and their decoded
// form with testdata/*.json (for reading a change in review). Rerun with -update after a
// deliberate change.
func TestGolden(t *testing.T) {
	z10, area := clusterArea()
	clusters := mustIndex(t, randomPoints(5000, area, 3)...)
	detail := mustIndex(t, fixtureUnits()...)
	cases := []struct {
		name   string
		render func() ([]byte, int, error)
	}{
		{"units-detail-z14", func() ([]byte, int, error) {
			return tiles.RenderUnits(detail.Snapshot(), demoTile, tiles.Options{})
		}},
		{"units-clusters-z10", func() ([]byte, int, error) {
			return tiles.RenderUnits(clusters.Snapshot(), z10, tiles.Options{MaxDetailFeatures: 1000, ClusterPx: 512})
		}},
		{"regions-z14", func() ([]byte, int, error) {
			return tiles.RenderRegions(fixtureRegions(), demoTile, tiles.Options{})
		}},
		{"regions-z12", func() ([]byte, int, error) {
			return tiles.RenderRegions(fixtureRegions(), maptile.New(demoTile.X>>2, demoTile.Y>>2, 12), tiles.Options{})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw, _, err := tc.render()
			if err != nil {
				t.Fatal(err)
			}
			l := decode(t, raw)
			readable, err := json.MarshalIndent(map[string]any{
				"name": l.Name, "version": l.Version, "extent": l.Extent, "features": l.Features,
			}, "", " ")
			if err != nil {
				t.Fatal(err)
			}
			mvtPath := filepath.Join("testdata", tc.name+".mvt")
			jsonPath := filepath.Join("testdata", tc.name+".json")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(mvtPath, raw, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(jsonPath, append(readable, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(mvtPath)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(raw, want) {
				wantJSON, _ := os.ReadFile(jsonPath)
				t.Fatalf("%s differs from the golden file (%d bytes, want %d); decoded now:\n%s\nwas:\n%s",
					tc.name, len(raw), len(want), readable, wantJSON)
			}
			if wantJSON, err := os.ReadFile(jsonPath); err != nil || !bytes.Equal(bytes.TrimSpace(wantJSON), readable) {
				t.Fatalf("%s: the decoded golden file is stale (%v); rerun with -update", jsonPath, err)
			}
		})
	}
}
