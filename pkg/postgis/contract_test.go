package postgis

import (
	"context"
	"testing"

	"riskmap/pkg/pgtest"
	"riskmap/pkg/riskmap"
	"riskmap/pkg/storetest"
)

// openStore returns a migrated store on a fresh database, closed before the database is
// dropped.
func openStore(tb testing.TB) *Store {
	tb.Helper()
	dsn := pgtest.NewDatabase(tb)
	s, err := Open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) riskmap.Store { return openStore(t) })
}
