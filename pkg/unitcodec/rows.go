package unitcodec

// Rows is what a store's result set offers for reading it row by row: pgx.Rows and
// *sql.Rows both have it.
type Rows interface {
	Next() bool
	Err() error
}

// FirstRow reads the first row of rows with scan (a unit by id, a region by code): noRows
// when there is none, or the error that ended rows early. The caller closes rows.
func FirstRow[R Rows, T any](rows R, noRows error, scan func(R) (T, error)) (T, error) {
	if !rows.Next() {
		var zero T
		if err := rows.Err(); err != nil {
			return zero, err
		}
		return zero, noRows
	}
	return scan(rows)
}

// Collect reads every row of rows with scan (the users, the regions, the API tokens): all
// of them, or the first error. The caller closes rows.
func Collect[R Rows, T any](rows R, scan func(R) (T, error)) ([]T, error) {
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
