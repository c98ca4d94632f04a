package postgis

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

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
		for i, w := range imp.Writes {
			if i%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
				if imp.Progress != nil && i > 0 {
					imp.Progress(i)
				}
			}
			u := w.Unit
			if u.ID == 0 {
				vals, err := insertValues(u, now)
				if err != nil {
					return err
				}
				var id int64
				if err := tx.QueryRow(ctx, insertUnitSQL, vals...).Scan(&id); err != nil {
					return ctxOr(ctx, unitError("import: create unit", u.Code, err))
				}
				u.ID, u.Version, u.CreatedAt, u.UpdatedAt = id, 1, now, now
				if u.Status == "" {
					u.Status = riskmap.StatusDraft
				}
			} else {
				args, err := updateArgs(u, now)
				if err != nil {
					return err
				}
				var (
					version          int64
					created, updated time.Time
					status           string
				)
				err = tx.QueryRow(ctx, updateUnitSQL, args...).Scan(&version, &created, &updated, &status)
				if errors.Is(err, pgx.ErrNoRows) {
					return s.missOrStale(ctx, tx, u.ID, u.Version)
				}
				if err != nil {
					return ctxOr(ctx, unitError("import: update unit", u.Code, err))
				}
				u.Version, u.CreatedAt, u.UpdatedAt, u.Status = version, created.UTC(), updated.UTC(), riskmap.Status(status)
			}
			if w.Author != nil {
				w.Author.UnitID = u.ID
				if err := setUnitAuthor(ctx, tx, w.Author); err != nil {
					return ctxOr(ctx, err)
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
