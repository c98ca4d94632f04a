package postgis

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

var _ riskmap.UnitImportStore = (*Store)(nil)

// UnitsByCode returns the active units whose code is among codes.
func (s *Store) UnitsByCode(ctx context.Context, codes []string) ([]*riskmap.Unit, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, selectUnit+" WHERE code = ANY($1) AND status <> 'retired'", codes)
	if err != nil {
		return nil, dbError("units by code", err)
	}
	defer rows.Close()
	var out []*riskmap.Unit
	sc := newUnitScan()
	for rows.Next() {
		u, err := sc.scan(rows)
		if err != nil {
			return nil, dbError("units by code", err)
		}
		out = append(out, u)
	}
	return out, dbError("units by code", rows.Err())
}

// updateArgs are the arguments of updateUnitSQL for u, written at now.
func updateArgs(u *riskmap.Unit, now time.Time) ([]any, error) {
	vals, err := unitValues(u, 0, now, now)
	if err != nil {
		return nil, err
	}
	args := make([]any, 0, 40)
	args = append(args, vals[:colVersion]...)
	args[colVersion-1] = string(u.Status)
	args = append(args, now)
	args = append(args, vals[colUpdated+1:]...)
	args = unitcodec.AppendPublicValues(append(args, u.ID, u.Version, u.Author), &u.PublicTexts)
	return appendDynamicValues(args, u), nil
}

// ImportUnits writes an import's units, their author records and its records in one
// transaction. The statements are those of CreateUnit and UpdateUnit.
func (s *Store) ImportUnits(ctx context.Context, imp *riskmap.UnitImport) error {
	type was struct {
		id, version      int64
		created, updated time.Time
		status           riskmap.Status
	}
	old := make([]was, len(imp.Writes))
	for i, w := range imp.Writes {
		old[i] = was{w.Unit.ID, w.Unit.Version, w.Unit.CreatedAt, w.Unit.UpdatedAt, w.Unit.Status}
	}
	now := s.timestamp()
	err := s.inTx(ctx, "import units", func(tx pgx.Tx) error {
		// The statements go in batches (one round trip each); the author records follow
		// their batch, once the new units' ids are known.
		const chunk = 256
		for start := 0; start < len(imp.Writes); start += chunk {
			if err := ctx.Err(); err != nil {
				return err
			}
			if imp.Progress != nil && start > 0 {
				imp.Progress(start)
			}
			ws := imp.Writes[start:min(start+chunk, len(imp.Writes))]
			b := &pgx.Batch{}
			for _, w := range ws {
				u := w.Unit
				if u.ID == 0 {
					vals, err := insertValues(u, now)
					if err != nil {
						return err
					}
					b.Queue(insertUnitSQL, vals...)
				} else {
					args, err := updateArgs(u, now)
					if err != nil {
						return err
					}
					b.Queue(updateUnitSQL, args...)
				}
			}
			br := tx.SendBatch(ctx, b)
			var stale *riskmap.Unit
			var failed error
			for _, w := range ws {
				u := w.Unit
				if u.ID == 0 {
					var id int64
					if err := br.QueryRow().Scan(&id); err != nil {
						failed = unitError("import: create unit", u.Code, err)
						break
					}
					u.ID, u.Version, u.CreatedAt, u.UpdatedAt = id, 1, now, now
					if u.Status == "" {
						u.Status = riskmap.StatusDraft
					}
					continue
				}
				var (
					version          int64
					created, updated time.Time
					status           string
				)
				err := br.QueryRow().Scan(&version, &created, &updated, &status)
				if errors.Is(err, pgx.ErrNoRows) {
					stale = u
					break
				}
				if err != nil {
					failed = unitError("import: update unit", u.Code, err)
					break
				}
				u.Version, u.CreatedAt, u.UpdatedAt, u.Status = version, created.UTC(), updated.UTC(), riskmap.Status(status)
			}
			if err := br.Close(); err != nil && failed == nil && stale == nil {
				failed = dbError("import units", err)
			}
			if failed != nil {
				return ctxOr(ctx, failed)
			}
			if stale != nil {
				return s.missOrStale(ctx, tx, stale.ID, stale.Version)
			}
			ab := &pgx.Batch{}
			for _, w := range ws {
				if a := w.Author; a != nil {
					a.UnitID = w.Unit.ID
					queueUnitAuthor(ab, a)
				}
			}
			if ab.Len() > 0 {
				if err := tx.SendBatch(ctx, ab).Close(); err != nil {
					return ctxOr(ctx, dbError("import: author records", err))
				}
			}
		}
		if imp.Progress != nil {
			imp.Progress(len(imp.Writes))
		}
		if imp.Record != nil {
			r, err := imp.Record()
			if err != nil {
				return err
			}
			if err := s.keepRecords(ctx, tx, r); err != nil {
				return err
			}
		}
		return ctx.Err()
	})
	if err != nil {
		for i, w := range imp.Writes {
			o := old[i]
			w.Unit.ID, w.Unit.Version, w.Unit.CreatedAt, w.Unit.UpdatedAt, w.Unit.Status = o.id, o.version, o.created, o.updated, o.status
		}
		return ctxOr(ctx, err)
	}
	return nil
}

// ctxOr is ctx's error once it has ended (a cancelled import), err otherwise.
func ctxOr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// queueUnitAuthor queues setUnitAuthor's statement for a in b.
func queueUnitAuthor(b *pgx.Batch, a *riskmap.UnitAuthor) {
	_ = setUnitAuthor(context.Background(), batchQuerier{b}, a)
}

// batchQuerier queues the statements it is given; only Exec is used.
type batchQuerier struct{ b *pgx.Batch }

func (q batchQuerier) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	q.b.Queue(sql, args...)
	return pgconn.CommandTag{}, nil
}

func (q batchQuerier) Query(context.Context, string, ...any) (pgx.Rows, error) {
	panic("postgis: batchQuerier only queues Exec")
}

func (q batchQuerier) QueryRow(context.Context, string, ...any) pgx.Row {
	panic("postgis: batchQuerier only queues Exec")
}
