package gpkg

import (
	"context"
	"database/sql"
	"errors"

	"riskmap/pkg/unitcodec"
)

// A scanner decodes one row, given the Scan of a Row or of Rows.
type scanner[T any] func(scan func(...any) error) (T, error)

// queryAll runs query on the readers and decodes every row it returns; op names the read in
// an error.
func queryAll[T any](ctx context.Context, s *Store, op string, decode scanner[T], query string, args ...any) ([]T, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.dbErr(err, "%s", op)
	}
	defer rows.Close()
	out, err := unitcodec.Collect(rows, func(r *sql.Rows) (T, error) { return decode(r.Scan) })
	if err != nil {
		return nil, s.dbErr(err, "%s", op)
	}
	return out, nil
}

// queryOne runs query on the readers and decodes the one row it returns; notFound when
// there is none. op names the read in any other error.
func queryOne[T any](ctx context.Context, s *Store, op string, notFound error, decode scanner[T], query string, args ...any) (T, error) {
	v, err := decode(s.r.QueryRowContext(ctx, query, args...).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		err = notFound
	}
	return v, s.dbErr(err, "%s", op)
}
