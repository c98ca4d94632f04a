package main

import (
	"context"

	"riskmap/pkg/postgis"
	"riskmap/pkg/spatialindex"
)

// follow keeps the indexes in step with writes made by other replicas on the same PostGIS
// database. (Being written.)
func (m *Main) follow(ctx context.Context, s *postgis.Store, ix, pub *spatialindex.Index) {}
