package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

// PutRegions inserts or replaces regions by code, all or none. An existing region keeps its
// fid, so that QGIS projects and the spatial index keep pointing at the same row.
func (s *Store) PutRegions(ctx context.Context, rs []*riskmap.Region) error {
	// UPDATE, then INSERT where nothing was updated, rather than an upsert: the ON CONFLICT
	// clause of an upsert overrides the INSERT OR REPLACE of the R-tree triggers, which then
	// fail on the existing index entry.
	_, err := putSites(ctx, s, "regions", rs, []string{
		"UPDATE regions SET name = ?, level = ?, parent_code = ?, population = ?, geom = ? WHERE code = ?",
		"INSERT INTO regions (name, level, parent_code, population, geom, code) VALUES (?, ?, ?, ?, ?, ?)",
	}, func(stmts []*sql.Stmt, r *riskmap.Region, geom []byte) (int64, error) {
		res, err := stmts[0].ExecContext(ctx, r.Name, r.Level, r.ParentCode, r.Population, geom, r.Code)
		if err != nil {
			return 0, s.dbErr(err, "put region %q", r.Code)
		}
		if n, err := res.RowsAffected(); err != nil {
			return 0, s.dbErr(err, "put region %q", r.Code)
		} else if n == 0 {
			if _, err := stmts[1].ExecContext(ctx, r.Name, r.Level, r.ParentCode, r.Population, geom, r.Code); err != nil {
				return 0, s.dbErr(err, "put region %q", r.Code)
			}
		}
		return 0, nil
	})
	return err
}

// putSites writes sites in one transaction, all or none, with write, which gets the
// statements of queries prepared in it and a site's geometry as a GeoPackage blob and
// returns the row's id; then it widens the table's extent in gpkg_contents. No sites, no
// transaction. A site without a geometry, or one that cannot be encoded, is EINVALID.
func putSites[T riskmap.Site](ctx context.Context, s *Store, table string, sites []T, queries []string,
	write func(stmts []*sql.Stmt, site T, geom []byte) (int64, error)) ([]int64, error) {
	if len(sites) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(sites))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		stmts := make([]*sql.Stmt, len(queries))
		for i, q := range queries {
			stmt, err := tx.PrepareContext(ctx, q)
			if err != nil {
				return s.dbErr(err, "prepare %s", strings.ReplaceAll(table, "_", " "))
			}
			defer stmt.Close()
			stmts[i] = stmt
		}
		var ext extent
		for i, x := range sites {
			g, ok := x.SiteGeometry()
			if !ok {
				return riskmap.Errorf(riskmap.EINVALID, "%s 没有位置", x.SiteLabel())
			}
			geom, err := EncodeGeometry(g, SRSID)
			if err != nil {
				return riskmap.Errorf(riskmap.EINVALID, "%s: %v", x.SiteLabel(), err)
			}
			if ids[i], err = write(stmts, x, geom); err != nil {
				return err
			}
			ext.add(g)
		}
		return s.dbErr(ext.write(ctx, tx, table), "update gpkg_contents")
	})
	return ids, err
}

// decodeSite decodes the stored geometry of site id of a kind into *g.
func decodeSite(g *orb.Geometry, geom []byte, kind string, id int64) (err error) {
	if *g, err = decodeStored(geom); err != nil {
		err = fmt.Errorf("gpkg: %s %d: geom: %w", kind, id, err)
	}
	return err
}

// insertSites inserts new sites with insert, bound to what args returns for a site and its
// geometry blob, all or none (putSites), and gives each its id once they are committed.
func insertSites[T riskmap.Site](ctx context.Context, s *Store, table string, sites []T, insert string,
	args func(T, []byte) []any, setID func(T, int64)) error {
	op := "insert " + strings.TrimSuffix(strings.ReplaceAll(table, "_", " "), "s")
	ids, err := putSites(ctx, s, table, sites, []string{insert}, func(stmts []*sql.Stmt, x T, geom []byte) (int64, error) {
		res, err := stmts[0].ExecContext(ctx, args(x, geom)...)
		if err != nil {
			return 0, s.dbErr(err, "%s", op)
		}
		id, err := res.LastInsertId()
		return id, s.dbErr(err, "%s", op)
	})
	if err != nil {
		return err
	}
	for i, x := range sites {
		setID(x, ids[i])
	}
	return nil
}

const regionColumns = "code, name, level, parent_code, population, geom"

// Regions returns the regions of a level ("" for all), ordered by code.
func (s *Store) Regions(ctx context.Context, level string) ([]*riskmap.Region, error) {
	return queryAll(ctx, s, "list regions", scanRegion, "SELECT "+regionColumns+" FROM regions WHERE ? = '' OR level = ? ORDER BY code", level, level)
}

// GetRegion returns one region.
func (s *Store) GetRegion(ctx context.Context, code string) (*riskmap.Region, error) {
	return readOne(s, "get region", riskmap.RegionNotFound(code),
		scanRegion, s.r.QueryRowContext(ctx, "SELECT "+regionColumns+" FROM regions WHERE code = ?", code).Scan)
}

// scanRegion decodes a row of regionColumns.
func scanRegion(scan func(...any) error) (*riskmap.Region, error) {
	r := new(riskmap.Region)
	var geom []byte
	if err := scan(&r.Code, &r.Name, &r.Level, &r.ParentCode, &r.Population, &geom); err != nil {
		return nil, err
	}
	return r, unitcodec.DecodeRegion(&r.Geometry, r.Code, geom, decodeStored)
}

// AddProtectiveTargets stores new protective targets, all or none, and sets their IDs.
func (s *Store) AddProtectiveTargets(ctx context.Context, ts []*riskmap.ProtectiveTarget) error {
	return insertSites(ctx, s, "protective_targets", ts,
		"INSERT INTO protective_targets (name, kind, region_code, address, people, geom) VALUES (?, ?, ?, ?, ?, ?)",
		func(t *riskmap.ProtectiveTarget, geom []byte) []any {
			return []any{t.Name, t.Kind, t.RegionCode, t.Address, t.People, geom}
		},
		func(t *riskmap.ProtectiveTarget, id int64) { t.ID = id })
}

// ProtectiveTargets returns every protective target, ordered by id.
func (s *Store) ProtectiveTargets(ctx context.Context) ([]*riskmap.ProtectiveTarget, error) {
	return queryAll(ctx, s, "list protective targets", func(scan func(...any) error) (*riskmap.ProtectiveTarget, error) {
		t := new(riskmap.ProtectiveTarget)
		var geom []byte
		if err := scan(&t.ID, &t.Name, &t.Kind, &t.RegionCode, &t.Address, &t.People, &geom); err != nil {
			return nil, err
		}
		return t, decodeSite(&t.Geometry, geom, "protective target", t.ID)
	}, "SELECT id, name, kind, region_code, address, people, geom FROM protective_targets ORDER BY id")
}

// AddShelters stores new shelters, all or none, and sets their IDs.
func (s *Store) AddShelters(ctx context.Context, ss []*riskmap.Shelter) error {
	return insertSites(ctx, s, "shelters", ss, `INSERT INTO shelters (name, kind, region_code, address, capacity,
    effective_area_m2, service_radius_m, geom) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		func(sh *riskmap.Shelter, geom []byte) []any {
			return []any{sh.Name, sh.Kind, sh.RegionCode, sh.Address, sh.Capacity, sh.EffectiveAreaM2, sh.ServiceRadiusM, geom}
		}, func(sh *riskmap.Shelter, id int64) { sh.ID = id })
}

// Shelters returns every shelter, ordered by id.
func (s *Store) Shelters(ctx context.Context) ([]*riskmap.Shelter, error) {
	return queryAll(ctx, s, "list shelters", func(scan func(...any) error) (*riskmap.Shelter, error) {
		sh := new(riskmap.Shelter)
		var geom []byte
		if err := scan(&sh.ID, &sh.Name, &sh.Kind, &sh.RegionCode, &sh.Address, &sh.Capacity,
			&sh.EffectiveAreaM2, &sh.ServiceRadiusM, &geom); err != nil {
			return nil, err
		}
		return sh, decodeSite(&sh.Geometry, geom, "shelter", sh.ID)
	}, `SELECT id, name, kind, region_code, address, capacity, effective_area_m2, service_radius_m, geom
FROM shelters ORDER BY id`)
}

// jsonList encodes a list of strings as a JSON array, never null.
func jsonList(l []string) (string, error) {
	if len(l) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(l)
	if err != nil {
		return "", fmt.Errorf("gpkg: encode list: %w", err)
	}
	return string(b), nil
}
