package postgis

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

// PutRegions inserts or replaces regions by code, all in one transaction.
func (s *Store) PutRegions(ctx context.Context, rs []*riskmap.Region) error {
	if len(rs) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, r := range rs {
		g, err := encodeEWKB(r.Geometry)
		if err != nil {
			return riskmap.Errorf(riskmap.EINVALID, "region %q: geometry: %v", r.Code, err)
		}
		b.Queue(`INSERT INTO regions (code, name, level, parent_code, population, geom)
			VALUES ($1, $2, $3, $4, $5, ST_GeomFromEWKB($6))
			ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level,
				parent_code = EXCLUDED.parent_code, population = EXCLUDED.population, geom = EXCLUDED.geom`,
			r.Code, r.Name, r.Level, r.ParentCode, r.Population, g)
	}
	return sendBatch(ctx, s, "put regions", b)
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
	rows, err := s.pool.Query(ctx, selectRegion+" WHERE ($1 = '' OR level = $1) ORDER BY code", level)
	if err != nil {
		return nil, dbError("regions", err)
	}
	out, err := collect(rows, scanRegion)
	return out, dbError("regions", err)
}

// GetRegion returns one region by code.
func (s *Store) GetRegion(ctx context.Context, code string) (*riskmap.Region, error) {
	rows, err := s.pool.Query(ctx, selectRegion+" WHERE code = $1", code)
	if err != nil {
		return nil, dbError("get region", err)
	}
	rs, err := collect(rows, scanRegion)
	if err != nil {
		return nil, dbError("get region", err)
	}
	if len(rs) == 0 {
		return nil, riskmap.Errorf(riskmap.ENOTFOUND, "region %q does not exist", code)
	}
	return rs[0], nil
}

func scanRegion(rows pgx.Rows) (*riskmap.Region, error) {
	r := &riskmap.Region{}
	var wkb pgtype.DriverBytes
	if err := rows.Scan(&r.Code, &r.Name, &r.Level, &r.ParentCode, &r.Population, &wkb); err != nil {
		return nil, err
	}
	g, err := decodeWKB(wkb)
	if err == nil {
		r.Geometry, err = unitcodec.RegionGeometry(g)
	}
	if err != nil {
		return nil, fmt.Errorf("region %s: geometry: %w", r.Code, err)
	}
	return r, nil
}

// collect reads every row with scan and closes rows.
func collect[T any](rows pgx.Rows, scan func(pgx.Rows) (T, error)) ([]T, error) {
	defer rows.Close()
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

// AddProtectiveTargets stores targets in one transaction and sets their IDs.
func (s *Store) AddProtectiveTargets(ctx context.Context, ts []*riskmap.ProtectiveTarget) error {
	if len(ts) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, t := range ts {
		g, err := encodeEWKB(t.Geometry)
		if err != nil {
			return riskmap.Errorf(riskmap.EINVALID, "protective target %q: geometry: %v", t.Name, err)
		}
		b.Queue(`INSERT INTO protective_targets (name, kind, region_code, address, people, geom)
			VALUES ($1, $2, $3, $4, $5, ST_GeomFromEWKB($6)) RETURNING id`,
			t.Name, t.Kind, t.RegionCode, t.Address, int32(t.People), g).
			QueryRow(func(row pgx.Row) error { return row.Scan(&t.ID) })
	}
	return sendBatch(ctx, s, "add protective targets", b)
}

// ProtectiveTargets returns every protective target, ordered by id.
func (s *Store) ProtectiveTargets(ctx context.Context) ([]*riskmap.ProtectiveTarget, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, kind, region_code, address, people, ST_AsBinary(geom)
		FROM protective_targets ORDER BY id`)
	if err != nil {
		return nil, dbError("protective targets", err)
	}
	out, err := collect(rows, func(rows pgx.Rows) (*riskmap.ProtectiveTarget, error) {
		t := &riskmap.ProtectiveTarget{}
		var people int32
		var wkb pgtype.DriverBytes
		if err := rows.Scan(&t.ID, &t.Name, &t.Kind, &t.RegionCode, &t.Address, &people, &wkb); err != nil {
			return nil, err
		}
		t.People = int(people)
		var err error
		if t.Geometry, err = decodeWKB(wkb); err != nil {
			return nil, fmt.Errorf("protective target %d: geometry: %w", t.ID, err)
		}
		return t, nil
	})
	return out, dbError("protective targets", err)
}

// AddShelters stores shelters in one transaction and sets their IDs.
func (s *Store) AddShelters(ctx context.Context, ss []*riskmap.Shelter) error {
	if len(ss) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, sh := range ss {
		g, err := encodeEWKB(sh.Geometry)
		if err != nil {
			return riskmap.Errorf(riskmap.EINVALID, "shelter %q: geometry: %v", sh.Name, err)
		}
		b.Queue(`INSERT INTO shelters (name, kind, region_code, address, capacity, effective_area_m2, service_radius_m, geom)
			VALUES ($1, $2, $3, $4, $5, $6, $7, ST_GeomFromEWKB($8)) RETURNING id`,
			sh.Name, sh.Kind, sh.RegionCode, sh.Address, int32(sh.Capacity), sh.EffectiveAreaM2, sh.ServiceRadiusM, g).
			QueryRow(func(row pgx.Row) error { return row.Scan(&sh.ID) })
	}
	return sendBatch(ctx, s, "add shelters", b)
}

// Shelters returns every shelter, ordered by id.
func (s *Store) Shelters(ctx context.Context) ([]*riskmap.Shelter, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, name, kind, region_code, address, capacity, effective_area_m2,
		service_radius_m, ST_AsBinary(geom) FROM shelters ORDER BY id`)
	if err != nil {
		return nil, dbError("shelters", err)
	}
	out, err := collect(rows, func(rows pgx.Rows) (*riskmap.Shelter, error) {
		sh := &riskmap.Shelter{}
		var capacity int32
		var wkb pgtype.DriverBytes
		if err := rows.Scan(&sh.ID, &sh.Name, &sh.Kind, &sh.RegionCode, &sh.Address, &capacity,
			&sh.EffectiveAreaM2, &sh.ServiceRadiusM, &wkb); err != nil {
			return nil, err
		}
		sh.Capacity = int(capacity)
		var err error
		if sh.Geometry, err = decodeWKB(wkb); err != nil {
			return nil, fmt.Errorf("shelter %d: geometry: %w", sh.ID, err)
		}
		return sh, nil
	})
	return out, dbError("shelters", err)
}
