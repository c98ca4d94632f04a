// Package geodata carries the demo city, 澄江市, inside the binary: its regions, risk units,
// protective targets and emergency shelters as GeoJSON. scripts/gendemo writes the files;
// pkg/demo and pkg/featurejson read them.
package geodata

import "embed"

// FS holds regions.geojson, units.geojson, protective_targets.geojson and shelters.geojson.
//
//go:embed *.geojson
var FS embed.FS
