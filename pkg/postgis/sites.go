package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

// PutRegions inserts or replaces regions by code, all in one transaction.
func (s *Store) PutRegions(ctx context.Context, rs []*riskmap.Region) error {
	return batchSites(ctx, s, "put regions", rs, func(b *pgx.Batch, r *riskmap.Region, g []byte) {
		b.Queue(`INSERT INTO regions (code, name, level, parent_code, population, geom)
			VALUES ($1, $2, $3, $4, $5, ST_GeomFromEWKB($6))
			ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level,
				parent_code = EXCLUDED.parent_code, population = EXCLUDED.population, geom = EXCLUDED.geom`,
			r.Code, r.Name, r.Level, r.ParentCode, r.Population, g)
	})
}

// batchSites queues a write of each site with queue, which gets the site's geometry as
// EWKB, and runs them in one transaction; no sites, no transaction. A geometry that cannot
// be encoded is EINVALID, naming the site.
func batchSites[T riskmap.Site](ctx context.Context, s *Store, op string, sites []T, queue func(*pgx.Batch, T, []byte)) error {
	if len(sites) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, x := range sites {
		g, _ := x.SiteGeometry()
		ewkb, err := encodeEWKB(g)
		if err != nil {
			return riskmap.Errorf(riskmap.EINVALID, "%s 的位置：%v", x.SiteLabel(), err)
		}
		queue(b, x, ewkb)
	}
	return sendBatch(ctx, s, op, b)
}

// sendBatch runs a batch of writes in one transaction.
func sendBatch(ctx context.Context, s *Store, op string, b *pgx.Batch) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, b).Close()
	})
	return dbError(op, err)
}

const selectRegion = "SELECT code, name, level, parent_code, population, ST_AsBinary(geom) FROM regions"

// Regions returns the regions of a level ("" for all), ordered by code.
func (s *Store) Regions(ctx context.Context, level string) ([]*riskmap.Region, error) {
	return queryAll(ctx, s, "regions", scanRegion, selectRegion+" WHERE ($1 = '' OR level = $1) ORDER BY code", level)
}

// GetRegion returns one region by code.
func (s *Store) GetRegion(ctx context.Context, code string) (*riskmap.Region, error) {
	rs, err := queryAll(ctx, s, "get region", scanRegion, selectRegion+" WHERE code = $1", code)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, riskmap.RegionNotFound(code)
	}
	return rs[0], nil
}

func scanRegion(rows pgx.Rows) (*riskmap.Region, error) {
	r := &riskmap.Region{}
	var wkb pgtype.DriverBytes
	if err := rows.Scan(&r.Code, &r.Name, &r.Level, &r.ParentCode, &r.Population, &wkb); err != nil {
		return nil, err
	}
	if err := unitcodec.DecodeRegion(&r.Geometry, r.Code, wkb, decodeWKB); err != nil {
		return nil, err
	}
	return r, nil
}

// AddProtectiveTargets stores targets in one transaction and sets their IDs, Version and
// UpdatedAt.
func (s *Store) AddProtectiveTargets(ctx context.Context, ts []*riskmap.ProtectiveTarget) error {
	now := s.timestamp()
	return batchSites(ctx, s, "add protective targets", ts, func(b *pgx.Batch, t *riskmap.ProtectiveTarget, g []byte) {
		b.Queue(`INSERT INTO protective_targets (name, kind, region_code, address, people, geom, version, updated_at)
			VALUES ($1, $2, $3, $4, $5, ST_GeomFromEWKB($6), 1, $7) RETURNING id`,
			t.Name, t.Kind, t.RegionCode, t.Address, int32(t.People), g, now).
			QueryRow(func(row pgx.Row) error {
				t.Version, t.UpdatedAt = 1, now
				return row.Scan(&t.ID)
			})
	})
}

const selectTarget = "SELECT id, name, kind, region_code, address, people, version, updated_at, ST_AsBinary(geom) FROM protective_targets"

func scanTarget(row pgx.Row) (*riskmap.ProtectiveTarget, error) {
	t := &riskmap.ProtectiveTarget{}
	var wkb []byte // DriverBytes cannot be scanned from a QueryRow
	if err := row.Scan(&t.ID, &t.Name, &t.Kind, &t.RegionCode, &t.Address, &t.People, &t.Version, &t.UpdatedAt, &wkb); err != nil {
		return nil, err
	}
	t.UpdatedAt = t.UpdatedAt.UTC()
	return t, siteGeometry(&t.Geometry, wkb, "protective target", t.ID)
}

// ProtectiveTargets returns every protective target, ordered by id.
func (s *Store) ProtectiveTargets(ctx context.Context) ([]*riskmap.ProtectiveTarget, error) {
	return queryAll(ctx, s, "protective targets", func(r pgx.Rows) (*riskmap.ProtectiveTarget, error) { return scanTarget(r) },
		selectTarget+" ORDER BY id")
}

// ProtectiveTarget returns one protective target.
func (s *Store) ProtectiveTarget(ctx context.Context, id int64) (*riskmap.ProtectiveTarget, error) {
	return readOne("get protective target", riskmap.TargetNotFound(id), scanTarget, s.pool.QueryRow(ctx, selectTarget+" WHERE id = $1", id))
}

// CreateProtectiveTargetRecorded stores a new target, sets its ID, Version and UpdatedAt,
// and keeps what rec returns in the same transaction.
func (s *Store) CreateProtectiveTargetRecorded(ctx context.Context, t *riskmap.ProtectiveTarget, rec riskmap.SiteRecordFunc[*riskmap.ProtectiveTarget]) error {
	g, err := siteEWKB(t)
	if err != nil {
		return err
	}
	now := s.timestamp()
	return riskmap.WriteOrRestore(t, func() error {
		return s.inTx(ctx, "create protective target", func(tx pgx.Tx) error {
			err := tx.QueryRow(ctx, `INSERT INTO protective_targets (name, kind, region_code, address, people, geom, version, updated_at)
				VALUES ($1, $2, $3, $4, $5, ST_GeomFromEWKB($6), 1, $7) RETURNING id`,
				t.Name, t.Kind, t.RegionCode, t.Address, int32(t.People), g, now).Scan(&t.ID)
			if err != nil {
				return dbError("create protective target", err)
			}
			t.Version, t.UpdatedAt = 1, now
			return keepSiteRecords(ctx, s, tx, rec, nil, t)
		})
	})
}

// UpdateProtectiveTargetRecorded replaces target t.ID if its version is still t.Version.
func (s *Store) UpdateProtectiveTargetRecorded(ctx context.Context, t *riskmap.ProtectiveTarget, rec riskmap.SiteRecordFunc[*riskmap.ProtectiveTarget]) error {
	g, err := siteEWKB(t)
	if err != nil {
		return err
	}
	now := s.timestamp()
	return riskmap.WriteOrRestore(t, func() error {
		return s.inTx(ctx, "update protective target", func(tx pgx.Tx) error {
			before, err := lockSite(ctx, tx, selectTarget, scanTarget, t.ID, t.Version, riskmap.TargetNotFound, riskmap.StaleTarget,
				func(b *riskmap.ProtectiveTarget) int64 { return b.Version })
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE protective_targets SET name = $2, kind = $3, region_code = $4, address = $5, people = $6,
				geom = ST_GeomFromEWKB($7), version = version + 1, updated_at = $8 WHERE id = $1`,
				t.ID, t.Name, t.Kind, t.RegionCode, t.Address, int32(t.People), g, now)
			if err != nil {
				return dbError("update protective target", err)
			}
			t.Version, t.UpdatedAt = before.Version+1, now
			return keepSiteRecords(ctx, s, tx, rec, before, t)
		})
	})
}

// DeleteProtectiveTargetRecorded removes target id if its version is still version.
func (s *Store) DeleteProtectiveTargetRecorded(ctx context.Context, id, version int64, rec riskmap.SiteRecordFunc[*riskmap.ProtectiveTarget]) (*riskmap.ProtectiveTarget, error) {
	var before *riskmap.ProtectiveTarget
	err := s.inTx(ctx, "delete protective target", func(tx pgx.Tx) error {
		var err error
		before, err = lockSite(ctx, tx, selectTarget, scanTarget, id, version, riskmap.TargetNotFound, riskmap.StaleTarget,
			func(b *riskmap.ProtectiveTarget) int64 { return b.Version })
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM protective_targets WHERE id = $1", id); err != nil {
			return dbError("delete protective target", err)
		}
		return keepSiteRecords(ctx, s, tx, rec, before, nil)
	})
	if err != nil {
		return nil, err
	}
	return before, nil
}

// AddShelters stores shelters in one transaction and sets their IDs, Version and UpdatedAt.
func (s *Store) AddShelters(ctx context.Context, ss []*riskmap.Shelter) error {
	now := s.timestamp()
	return batchSites(ctx, s, "add shelters", ss, func(b *pgx.Batch, sh *riskmap.Shelter, g []byte) {
		b.Queue(`INSERT INTO shelters (name, kind, region_code, address, capacity, effective_area_m2, service_radius_m, geom, version, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, ST_GeomFromEWKB($8), 1, $9) RETURNING id`,
			sh.Name, sh.Kind, sh.RegionCode, sh.Address, int32(sh.Capacity), sh.EffectiveAreaM2, sh.ServiceRadiusM, g, now).
			QueryRow(func(row pgx.Row) error {
				sh.Version, sh.UpdatedAt = 1, now
				return row.Scan(&sh.ID)
			})
	})
}

const selectShelter = `SELECT id, name, kind, region_code, address, capacity, effective_area_m2, service_radius_m, version, updated_at,
	ST_AsBinary(geom) FROM shelters`

func scanShelter(row pgx.Row) (*riskmap.Shelter, error) {
	sh := &riskmap.Shelter{}
	var wkb []byte // DriverBytes cannot be scanned from a QueryRow
	if err := row.Scan(&sh.ID, &sh.Name, &sh.Kind, &sh.RegionCode, &sh.Address, &sh.Capacity,
		&sh.EffectiveAreaM2, &sh.ServiceRadiusM, &sh.Version, &sh.UpdatedAt, &wkb); err != nil {
		return nil, err
	}
	sh.UpdatedAt = sh.UpdatedAt.UTC()
	return sh, siteGeometry(&sh.Geometry, wkb, "shelter", sh.ID)
}

// Shelters returns every shelter, ordered by id.
func (s *Store) Shelters(ctx context.Context) ([]*riskmap.Shelter, error) {
	return queryAll(ctx, s, "shelters", func(r pgx.Rows) (*riskmap.Shelter, error) { return scanShelter(r) }, selectShelter+" ORDER BY id")
}

// Shelter returns one shelter.
func (s *Store) Shelter(ctx context.Context, id int64) (*riskmap.Shelter, error) {
	return readOne("get shelter", riskmap.ShelterNotFound(id), scanShelter, s.pool.QueryRow(ctx, selectShelter+" WHERE id = $1", id))
}

// CreateShelterRecorded stores a new shelter, sets its ID, Version and UpdatedAt, and keeps
// what rec returns in the same transaction.
func (s *Store) CreateShelterRecorded(ctx context.Context, sh *riskmap.Shelter, rec riskmap.SiteRecordFunc[*riskmap.Shelter]) error {
	g, err := siteEWKB(sh)
	if err != nil {
		return err
	}
	now := s.timestamp()
	return riskmap.WriteOrRestore(sh, func() error {
		return s.inTx(ctx, "create shelter", func(tx pgx.Tx) error {
			err := tx.QueryRow(ctx, `INSERT INTO shelters (name, kind, region_code, address, capacity, effective_area_m2, service_radius_m,
				geom, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, ST_GeomFromEWKB($8), 1, $9) RETURNING id`,
				sh.Name, sh.Kind, sh.RegionCode, sh.Address, int32(sh.Capacity), sh.EffectiveAreaM2, sh.ServiceRadiusM, g, now).Scan(&sh.ID)
			if err != nil {
				return dbError("create shelter", err)
			}
			sh.Version, sh.UpdatedAt = 1, now
			return keepSiteRecords(ctx, s, tx, rec, nil, sh)
		})
	})
}

// UpdateShelterRecorded replaces shelter sh.ID if its version is still sh.Version.
func (s *Store) UpdateShelterRecorded(ctx context.Context, sh *riskmap.Shelter, rec riskmap.SiteRecordFunc[*riskmap.Shelter]) error {
	g, err := siteEWKB(sh)
	if err != nil {
		return err
	}
	now := s.timestamp()
	return riskmap.WriteOrRestore(sh, func() error {
		return s.inTx(ctx, "update shelter", func(tx pgx.Tx) error {
			before, err := lockSite(ctx, tx, selectShelter, scanShelter, sh.ID, sh.Version, riskmap.ShelterNotFound, riskmap.StaleShelter,
				func(b *riskmap.Shelter) int64 { return b.Version })
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE shelters SET name = $2, kind = $3, region_code = $4, address = $5, capacity = $6,
				effective_area_m2 = $7, service_radius_m = $8, geom = ST_GeomFromEWKB($9), version = version + 1, updated_at = $10
				WHERE id = $1`,
				sh.ID, sh.Name, sh.Kind, sh.RegionCode, sh.Address, int32(sh.Capacity), sh.EffectiveAreaM2, sh.ServiceRadiusM, g, now)
			if err != nil {
				return dbError("update shelter", err)
			}
			sh.Version, sh.UpdatedAt = before.Version+1, now
			return keepSiteRecords(ctx, s, tx, rec, before, sh)
		})
	})
}

// DeleteShelterRecorded removes shelter id if its version is still version.
func (s *Store) DeleteShelterRecorded(ctx context.Context, id, version int64, rec riskmap.SiteRecordFunc[*riskmap.Shelter]) (*riskmap.Shelter, error) {
	var before *riskmap.Shelter
	err := s.inTx(ctx, "delete shelter", func(tx pgx.Tx) error {
		var err error
		before, err = lockSite(ctx, tx, selectShelter, scanShelter, id, version, riskmap.ShelterNotFound, riskmap.StaleShelter,
			func(b *riskmap.Shelter) int64 { return b.Version })
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM shelters WHERE id = $1", id); err != nil {
			return dbError("delete shelter", err)
		}
		return keepSiteRecords(ctx, s, tx, rec, before, nil)
	})
	if err != nil {
		return nil, err
	}
	return before, nil
}

// siteEWKB encodes a site's geometry for ST_GeomFromEWKB; one that cannot be is EINVALID.
func siteEWKB(x riskmap.Site) ([]byte, error) {
	g, _ := x.SiteGeometry()
	b, err := encodeEWKB(g)
	if err != nil {
		return nil, riskmap.Errorf(riskmap.EINVALID, "%s 的位置：%v", x.SiteLabel(), err)
	}
	return b, nil
}

// lockSite reads the row id of a site table (selectSQL, read with scan) for update, in tx:
// notFound when there is none, stale when its version (of) is not version.
func lockSite[T any](ctx context.Context, tx pgx.Tx, selectSQL string, scan func(pgx.Row) (T, error), id, version int64,
	notFound func(int64) error, stale func(id, version, current int64) error, of func(T) int64) (T, error) {
	v, err := readOne("lock site", notFound(id), scan, tx.QueryRow(ctx, selectSQL+" WHERE id = $1 FOR UPDATE", id))
	if err != nil {
		return v, err
	}
	if cur := of(v); cur != version {
		var zero T
		return zero, stale(id, version, cur)
	}
	return v, nil
}

// keepSiteRecords keeps what rec returns for a site write (before, after) in its transaction.
func keepSiteRecords[T any](ctx context.Context, s *Store, tx pgx.Tx, rec riskmap.SiteRecordFunc[T], before, after T) error {
	return rec.Keep(before, after, func(r *riskmap.WriteRecords) error { return s.keepRecords(ctx, tx, r) })
}

// siteGeometry decodes the WKB of the geometry of site id of a kind into *g.
func siteGeometry(g *orb.Geometry, wkb []byte, kind string, id int64) error {
	var err error
	if *g, err = decodeWKB(wkb); err != nil {
		return fmt.Errorf("%s %d: geometry: %w", kind, id, err)
	}
	return nil
}

// SitesMark is the count, the sum of versions, the largest id and the latest write of each
// table of sites: every create, update or delete changes one of them (ids are never
// reused).
func (s *Store) SitesMark(ctx context.Context) (string, error) {
	var mark string
	err := s.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) || ':' || coalesce(sum(version), 0) || ':' || coalesce(max(id), 0) || ':' || coalesce(max(updated_at)::text, '')
			FROM protective_targets) || '/' ||
		(SELECT count(*) || ':' || coalesce(sum(version), 0) || ':' || coalesce(max(id), 0) || ':' || coalesce(max(updated_at)::text, '')
			FROM shelters)`).Scan(&mark)
	return mark, dbError("sites mark", err)
}
