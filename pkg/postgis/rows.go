package postgis

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"riskmap/pkg/unitcodec"
)

// collect reads every row with scan and closes rows.
func collect[T any](rows pgx.Rows, scan func(pgx.Rows) (T, error)) ([]T, error) {
	defer rows.Close()
	return unitcodec.Collect(rows, scan)
}

// queryAll runs query on the pool and reads every row it returns with scan; op names the
// read in an error.
func queryAll[T any](ctx context.Context, s *Store, op string, scan func(pgx.Rows) (T, error), query string, args ...any) ([]T, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, dbError(op, err)
	}
	out, err := collect(rows, scan)
	if err != nil {
		return nil, dbError(op, err)
	}
	return out, nil
}

// readOne reads row, the one row a query returns, with scan: notFound when there is none,
// and op names the read in any other error.
func readOne[T any](op string, notFound error, scan func(pgx.Row) (T, error), row pgx.Row) (T, error) {
	v, err := scan(row)
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			err = notFound
		}
		var zero T
		return zero, dbError(op, err)
	}
	return v, nil
}
