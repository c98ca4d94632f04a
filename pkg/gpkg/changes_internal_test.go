package gpkg

import (
	"context"
	"testing"

	"riskmap/pkg/storetest"
)

// Publishing compares only the units approved_changes names (sql/gpkg/016).
func TestPublishTakesLoggedChanges(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	storetest.PublishTakesLoggedChanges(t, s, storetest.ChangeLog{
		Exec: func(q string, args ...any) error {
			_, err := s.w.ExecContext(ctx, q, args...)
			return err
		},
		Logged: func() (n int, err error) {
			err = s.r.QueryRowContext(ctx, "SELECT count(*) FROM approved_changes").Scan(&n)
			return n, err
		},
	})
}
