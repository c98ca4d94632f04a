package gpkg_test

import (
	"context"
	"path/filepath"
	"testing"

	"riskmap/pkg/gpkg"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/storetest"
)

// openTemp opens a fresh, migrated store in a file of the test's own.
func openTemp(t testing.TB) *gpkg.Store {
	t.Helper()
	s, err := gpkg.Open(context.Background(), filepath.Join(t.TempDir(), "riskmap.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) riskmap.Store { return openTemp(t) })
}
