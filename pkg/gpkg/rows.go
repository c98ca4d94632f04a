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

// readOne decodes the one row a query returns, given its Scan: notFound when there is
// none, and op names the read in any other error.
func readOne[T any](s *Store, op string, notFound error, decode scanner[T], scan func(...any) error) (T, error) {
	v, err := decode(scan)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			err = notFound
		}
		var zero T
		return zero, s.dbErr(err, "%s", op)
	}
	return v, nil
}

// changedRows runs a write in tx and returns how many rows it changed; op names it in an
// error.
func (s *Store) changedRows(ctx context.Context, tx *sql.Tx, op, query string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, s.dbErr(err, "%s", op)
	}
	n, err := res.RowsAffected()
	return n, s.dbErr(err, "%s", op)
}
