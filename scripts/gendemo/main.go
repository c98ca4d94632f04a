// Command gendemo writes the demo city, 澄江市, into geodata/: its regions down to grids, about
// 3000 risk units, protective targets and emergency shelters, as GeoJSON. It is
// deterministic: running it again writes the same bytes.
//
//	go run ./scripts/gendemo [-out geodata]
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"riskmap/pkg/config"
	"riskmap/pkg/demo"
	"riskmap/pkg/synth"
)

// Seeds of the independent parts, so that changing one part leaves the others as they were.
const (
	seedRegions = 1
	seedUnits   = 2
	seedSites   = 3
	seedReviews = 4
)

func main() {
	out := flag.String("out", "geodata", "directory to write the GeoJSON files into")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gendemo:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	files, err := generate()
	if err != nil {
		return err
	}
	for _, name := range sortedKeys(files) {
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// generate builds every file in memory, keyed by file name.
func generate() (map[string][]byte, error) {
	cfg := config.Default()
	regions, err := buildRegions(synth.NewRand(seedRegions))
	if err != nil {
		return nil, err
	}
	gen, err := synth.New(regions, cfg.Catalog, cfg.Grader)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	var feats []any
	for _, r := range regions {
		feats = append(feats, feature{Type: "Feature", Geometry: geojson.NewGeometry(r.Geometry), Properties: demo.RegionProperties{
			Code: r.Code, Name: r.Name, Level: r.Level, ParentCode: r.ParentCode, Population: r.Population}})
	}
	if files["regions.geojson"], err = collection(feats); err != nil {
		return nil, err
	}
	if feats, err = buildUnits(gen, cfg, regions, synth.NewRand(seedUnits), synth.NewRand(seedReviews)); err != nil {
		return nil, err
	}
	if files["units.geojson"], err = collection(feats); err != nil {
		return nil, err
	}
	targets, shelters, err := buildSites(gen, regions, cfg.Analysis.ShelterPerCapitaM2, synth.NewRand(seedSites))
	if err != nil {
		return nil, err
	}
	if files["protective_targets.geojson"], err = collection(targets); err != nil {
		return nil, err
	}
	if files["shelters.geojson"], err = collection(shelters); err != nil {
		return nil, err
	}
	return files, nil
}

type feature struct {
	Type       string            `json:"type"`
	Geometry   *geojson.Geometry `json:"geometry"`
	Properties any               `json:"properties"`
}

func newFeature(g orb.Geometry, props any) feature {
	return feature{Type: "Feature", Geometry: geojson.NewGeometry(g), Properties: props}
}

// collection writes a FeatureCollection with one Feature per line, so that a regenerated file
// diffs line by line.
func collection(feats []any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"type":"FeatureCollection","features":[`)
	for i, f := range feats {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
		j, err := json.Marshal(f)
		if err != nil {
			return nil, err
		}
		b.Write(j)
	}
	b.WriteString("\n]}\n")
	return b.Bytes(), nil
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}
