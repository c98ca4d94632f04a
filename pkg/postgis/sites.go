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

// AddProtectiveTargets stores targets in one transaction and sets their IDs.
func (s *Store) AddProtectiveTargets(ctx context.Context, ts []*riskmap.ProtectiveTarget) error {
	return batchSites(ctx, s, "add protective targets", ts, func(b *pgx.Batch, t *riskmap.ProtectiveTarget, g []byte) {
		b.Queue(`INSERT INTO protective_targets (name, kind, region_code, address, people, geom)
			VALUES ($1, $2, $3, $4, $5, ST_GeomFromEWKB($6)) RETURNING id`,
			t.Name, t.Kind, t.RegionCode, t.Address, int32(t.People), g).
			QueryRow(func(row pgx.Row) error { return row.Scan(&t.ID) })
	})
}

// ProtectiveTargets returns every protective target, ordered by id.
func (s *Store) ProtectiveTargets(ctx context.Context) ([]*riskmap.ProtectiveTarget, error) {
	return queryAll(ctx, s, "protective targets", func(rows pgx.Rows) (*riskmap.ProtectiveTarget, error) {
		t := &riskmap.ProtectiveTarget{}
		var wkb pgtype.DriverBytes
		if err := rows.Scan(&t.ID, &t.Name, &t.Kind, &t.RegionCode, &t.Address, &t.People, &wkb); err != nil {
			return nil, err
		}
		return t, siteGeometry(&t.Geometry, wkb, "protective target", t.ID)
	}, "SELECT id, name, kind, region_code, address, people, ST_AsBinary(geom) FROM protective_targets ORDER BY id")
}

// AddShelters stores shelters in one transaction and sets their IDs.
func (s *Store) AddShelters(ctx context.Context, ss []*riskmap.Shelter) error {
	return batchSites(ctx, s, "add shelters", ss, func(b *pgx.Batch, sh *riskmap.Shelter, g []byte) {
		b.Queue(`INSERT INTO shelters (name, kind, region_code, address, capacity, effective_area_m2, service_radius_m, geom)
			VALUES ($1, $2, $3, $4, $5, $6, $7, ST_GeomFromEWKB($8)) RETURNING id`,
			sh.Name, sh.Kind, sh.RegionCode, sh.Address, int32(sh.Capacity), sh.EffectiveAreaM2, sh.ServiceRadiusM, g).
			QueryRow(func(row pgx.Row) error { return row.Scan(&sh.ID) })
	})
}

// Shelters returns every shelter, ordered by id.
func (s *Store) Shelters(ctx context.Context) ([]*riskmap.Shelter, error) {
	return queryAll(ctx, s, "shelters", func(rows pgx.Rows) (*riskmap.Shelter, error) {
		sh := &riskmap.Shelter{}
		var wkb pgtype.DriverBytes
		if err := rows.Scan(&sh.ID, &sh.Name, &sh.Kind, &sh.RegionCode, &sh.Address, &sh.Capacity,
			&sh.EffectiveAreaM2, &sh.ServiceRadiusM, &wkb); err != nil {
			return nil, err
		}
		return sh, siteGeometry(&sh.Geometry, wkb, "shelter", sh.ID)
	}, `SELECT id, name, kind, region_code, address, capacity, effective_area_m2, service_radius_m, ST_AsBinary(geom)
		FROM shelters ORDER BY id`)
}

// siteGeometry decodes the WKB of the geometry of site id of a kind into *g.
func siteGeometry(g *orb.Geometry, wkb []byte, kind string, id int64) error {
	var err error
	if *g, err = decodeWKB(wkb); err != nil {
		return fmt.Errorf("%s %d: geometry: %w", kind, id, err)
	}
	return nil
}
