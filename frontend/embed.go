// Package frontend holds the built web front end (npm run build writes dist/), embedded so
// that the one riskmap binary serves the map application without any files beside it.
package frontend

import "embed"

// Dist is the built front end: index.html (the internal map application, GET /),
// public.html (the public map, GET /public) and assets/ (GET /assets/...). Before a build it
// holds only dist/.gitkeep, so the Go code always compiles.
//
//go:embed all:dist
var Dist embed.FS
