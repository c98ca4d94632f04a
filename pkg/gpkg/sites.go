package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

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

// AddProtectiveTargets stores new protective targets, all or none, and sets their IDs,
// Version and UpdatedAt.
func (s *Store) AddProtectiveTargets(ctx context.Context, ts []*riskmap.ProtectiveTarget) error {
	t0 := now()
	return insertSites(ctx, s, "protective_targets", ts,
		"INSERT INTO protective_targets (name, kind, region_code, address, people, geom, version, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
		func(t *riskmap.ProtectiveTarget, geom []byte) []any {
			return []any{t.Name, t.Kind, t.RegionCode, t.Address, t.People, geom, formatTime(t0)}
		},
		func(t *riskmap.ProtectiveTarget, id int64) { t.ID, t.Version, t.UpdatedAt = id, 1, t0 })
}

const selectTarget = "SELECT id, name, kind, region_code, address, people, version, CAST(updated_at AS TEXT), geom FROM protective_targets"

func scanTarget(scan func(...any) error) (*riskmap.ProtectiveTarget, error) {
	t := new(riskmap.ProtectiveTarget)
	var geom []byte
	var updated string
	if err := scan(&t.ID, &t.Name, &t.Kind, &t.RegionCode, &t.Address, &t.People, &t.Version, &updated, &geom); err != nil {
		return nil, err
	}
	if err := parseTimes([]string{updated}, &t.UpdatedAt); err != nil {
		return nil, err
	}
	return t, decodeSite(&t.Geometry, geom, "protective target", t.ID)
}

// ProtectiveTargets returns every protective target, ordered by id.
func (s *Store) ProtectiveTargets(ctx context.Context) ([]*riskmap.ProtectiveTarget, error) {
	return queryAll(ctx, s, "list protective targets", scanTarget, selectTarget+" ORDER BY id")
}

// ProtectiveTarget returns one protective target.
func (s *Store) ProtectiveTarget(ctx context.Context, id int64) (*riskmap.ProtectiveTarget, error) {
	return readOne(s, "get protective target", riskmap.TargetNotFound(id), scanTarget,
		s.r.QueryRowContext(ctx, selectTarget+" WHERE id = ?", id).Scan)
}

// CreateProtectiveTargetRecorded stores a new target, sets its ID, Version and UpdatedAt,
// and keeps what rec returns in the same transaction.
func (s *Store) CreateProtectiveTargetRecorded(ctx context.Context, t *riskmap.ProtectiveTarget, rec riskmap.SiteRecordFunc[*riskmap.ProtectiveTarget]) error {
	return writeSite(ctx, s, "protective_targets", t, func(tx *sql.Tx, geom []byte, at string) (*riskmap.ProtectiveTarget, error) {
		res, err := tx.ExecContext(ctx, `INSERT INTO protective_targets (name, kind, region_code, address, people, geom, version, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, 1, ?)`, t.Name, t.Kind, t.RegionCode, t.Address, t.People, geom, at)
		if err != nil {
			return nil, s.dbErr(err, "create protective target")
		}
		t.ID, err = res.LastInsertId()
		t.Version = 1
		return nil, s.dbErr(err, "create protective target")
	}, rec)
}

// UpdateProtectiveTargetRecorded replaces target t.ID if its version is still t.Version.
func (s *Store) UpdateProtectiveTargetRecorded(ctx context.Context, t *riskmap.ProtectiveTarget, rec riskmap.SiteRecordFunc[*riskmap.ProtectiveTarget]) error {
	return writeSite(ctx, s, "protective_targets", t, func(tx *sql.Tx, geom []byte, at string) (*riskmap.ProtectiveTarget, error) {
		before, err := s.lockTarget(ctx, tx, t.ID, t.Version)
		if err != nil {
			return nil, err
		}
		_, err = tx.ExecContext(ctx, `UPDATE protective_targets SET name = ?, kind = ?, region_code = ?, address = ?, people = ?, geom = ?,
    version = version + 1, updated_at = ? WHERE id = ?`, t.Name, t.Kind, t.RegionCode, t.Address, t.People, geom, at, t.ID)
		t.Version = before.Version + 1
		return before, s.dbErr(err, "update protective target")
	}, rec)
}

func (s *Store) lockTarget(ctx context.Context, tx *sql.Tx, id, version int64) (*riskmap.ProtectiveTarget, error) {
	before, err := readOne(s, "get protective target", riskmap.TargetNotFound(id), scanTarget,
		tx.QueryRowContext(ctx, selectTarget+" WHERE id = ?", id).Scan)
	if err != nil {
		return nil, err
	}
	if before.Version != version {
		return nil, riskmap.StaleTarget(id, version, before.Version)
	}
	return before, nil
}

// DeleteProtectiveTargetRecorded removes target id if its version is still version.
func (s *Store) DeleteProtectiveTargetRecorded(ctx context.Context, id, version int64, rec riskmap.SiteRecordFunc[*riskmap.ProtectiveTarget]) (*riskmap.ProtectiveTarget, error) {
	var before *riskmap.ProtectiveTarget
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if before, err = s.lockTarget(ctx, tx, id, version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM protective_targets WHERE id = ?", id); err != nil {
			return s.dbErr(err, "delete protective target")
		}
		if _, err := tx.ExecContext(ctx, contentsTouch, "protective_targets"); err != nil {
			return s.dbErr(err, "update gpkg_contents")
		}
		return rec.Keep(before, nil, func(r *riskmap.WriteRecords) error { return s.keepRecords(ctx, tx, r) })
	})
	if err != nil {
		return nil, err
	}
	return before, nil
}

// AddShelters stores new shelters, all or none, and sets their IDs, Version and UpdatedAt.
func (s *Store) AddShelters(ctx context.Context, ss []*riskmap.Shelter) error {
	t0 := now()
	return insertSites(ctx, s, "shelters", ss, `INSERT INTO shelters (name, kind, region_code, address, capacity,
    effective_area_m2, service_radius_m, geom, version, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
		func(sh *riskmap.Shelter, geom []byte) []any {
			return []any{sh.Name, sh.Kind, sh.RegionCode, sh.Address, sh.Capacity, sh.EffectiveAreaM2, sh.ServiceRadiusM, geom, formatTime(t0)}
		}, func(sh *riskmap.Shelter, id int64) { sh.ID, sh.Version, sh.UpdatedAt = id, 1, t0 })
}

const selectShelter = `SELECT id, name, kind, region_code, address, capacity, effective_area_m2, service_radius_m, version,
    CAST(updated_at AS TEXT), geom FROM shelters`

func scanShelter(scan func(...any) error) (*riskmap.Shelter, error) {
	sh := new(riskmap.Shelter)
	var geom []byte
	var updated string
	if err := scan(&sh.ID, &sh.Name, &sh.Kind, &sh.RegionCode, &sh.Address, &sh.Capacity,
		&sh.EffectiveAreaM2, &sh.ServiceRadiusM, &sh.Version, &updated, &geom); err != nil {
		return nil, err
	}
	if err := parseTimes([]string{updated}, &sh.UpdatedAt); err != nil {
		return nil, err
	}
	return sh, decodeSite(&sh.Geometry, geom, "shelter", sh.ID)
}

// Shelters returns every shelter, ordered by id.
func (s *Store) Shelters(ctx context.Context) ([]*riskmap.Shelter, error) {
	return queryAll(ctx, s, "list shelters", scanShelter, selectShelter+" ORDER BY id")
}

// Shelter returns one shelter.
func (s *Store) Shelter(ctx context.Context, id int64) (*riskmap.Shelter, error) {
	return readOne(s, "get shelter", riskmap.ShelterNotFound(id), scanShelter,
		s.r.QueryRowContext(ctx, selectShelter+" WHERE id = ?", id).Scan)
}

// CreateShelterRecorded stores a new shelter, sets its ID, Version and UpdatedAt, and keeps
// what rec returns in the same transaction.
func (s *Store) CreateShelterRecorded(ctx context.Context, sh *riskmap.Shelter, rec riskmap.SiteRecordFunc[*riskmap.Shelter]) error {
	return writeSite(ctx, s, "shelters", sh, func(tx *sql.Tx, geom []byte, at string) (*riskmap.Shelter, error) {
		res, err := tx.ExecContext(ctx, `INSERT INTO shelters (name, kind, region_code, address, capacity, effective_area_m2,
    service_radius_m, geom, version, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
			sh.Name, sh.Kind, sh.RegionCode, sh.Address, sh.Capacity, sh.EffectiveAreaM2, sh.ServiceRadiusM, geom, at)
		if err != nil {
			return nil, s.dbErr(err, "create shelter")
		}
		sh.ID, err = res.LastInsertId()
		sh.Version = 1
		return nil, s.dbErr(err, "create shelter")
	}, rec)
}

// UpdateShelterRecorded replaces shelter sh.ID if its version is still sh.Version.
func (s *Store) UpdateShelterRecorded(ctx context.Context, sh *riskmap.Shelter, rec riskmap.SiteRecordFunc[*riskmap.Shelter]) error {
	return writeSite(ctx, s, "shelters", sh, func(tx *sql.Tx, geom []byte, at string) (*riskmap.Shelter, error) {
		before, err := s.lockShelter(ctx, tx, sh.ID, sh.Version)
		if err != nil {
			return nil, err
		}
		_, err = tx.ExecContext(ctx, `UPDATE shelters SET name = ?, kind = ?, region_code = ?, address = ?, capacity = ?,
    effective_area_m2 = ?, service_radius_m = ?, geom = ?, version = version + 1, updated_at = ? WHERE id = ?`,
			sh.Name, sh.Kind, sh.RegionCode, sh.Address, sh.Capacity, sh.EffectiveAreaM2, sh.ServiceRadiusM, geom, at, sh.ID)
		sh.Version = before.Version + 1
		return before, s.dbErr(err, "update shelter")
	}, rec)
}

func (s *Store) lockShelter(ctx context.Context, tx *sql.Tx, id, version int64) (*riskmap.Shelter, error) {
	before, err := readOne(s, "get shelter", riskmap.ShelterNotFound(id), scanShelter,
		tx.QueryRowContext(ctx, selectShelter+" WHERE id = ?", id).Scan)
	if err != nil {
		return nil, err
	}
	if before.Version != version {
		return nil, riskmap.StaleShelter(id, version, before.Version)
	}
	return before, nil
}

// DeleteShelterRecorded removes shelter id if its version is still version.
func (s *Store) DeleteShelterRecorded(ctx context.Context, id, version int64, rec riskmap.SiteRecordFunc[*riskmap.Shelter]) (*riskmap.Shelter, error) {
	var before *riskmap.Shelter
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if before, err = s.lockShelter(ctx, tx, id, version); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM shelters WHERE id = ?", id); err != nil {
			return s.dbErr(err, "delete shelter")
		}
		if _, err := tx.ExecContext(ctx, contentsTouch, "shelters"); err != nil {
			return s.dbErr(err, "update gpkg_contents")
		}
		return rec.Keep(before, nil, func(r *riskmap.WriteRecords) error { return s.keepRecords(ctx, tx, r) })
	})
	if err != nil {
		return nil, err
	}
	return before, nil
}

// writeSite runs write, the insert or update of site x given its geometry as a GeoPackage
// blob and the time of the write as DATETIME text, which returns the stored site before it
// (nil for a new one) and sets x's ID and Version; then it widens the table's extent in
// gpkg_contents and keeps what rec returns, all in one transaction. x is as it was when the
// write fails.
func writeSite[T interface {
	*E
	riskmap.Site
}, E any](ctx context.Context, s *Store, table string, x T, write func(tx *sql.Tx, geom []byte, at string) (T, error),
	rec riskmap.SiteRecordFunc[T]) error {
	g, ok := x.SiteGeometry()
	if !ok {
		return riskmap.Errorf(riskmap.EINVALID, "%s 没有位置", x.SiteLabel())
	}
	geom, err := EncodeGeometry(g, SRSID)
	if err != nil {
		return riskmap.Errorf(riskmap.EINVALID, "%s: %v", x.SiteLabel(), err)
	}
	t := now()
	return riskmap.WriteOrRestore((*E)(x), func() error {
		return s.inTx(ctx, func(tx *sql.Tx) error {
			before, err := write(tx, geom, formatTime(t))
			if err != nil {
				return err
			}
			setUpdated(x, t)
			var ext extent
			ext.add(g)
			if err := ext.write(ctx, tx, table); err != nil {
				return s.dbErr(err, "update gpkg_contents")
			}
			return rec.Keep(before, x, func(r *riskmap.WriteRecords) error { return s.keepRecords(ctx, tx, r) })
		})
	})
}

// setUpdated sets the UpdatedAt of a target or a shelter.
func setUpdated(x any, t time.Time) {
	switch x := x.(type) {
	case *riskmap.ProtectiveTarget:
		x.UpdatedAt = t
	case *riskmap.Shelter:
		x.UpdatedAt = t
	}
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

// SitesMark is the count, the sum of versions, the largest id and the latest write of each
// table of sites: every create, update or delete changes one of them (AUTOINCREMENT ids are
// never reused).
func (s *Store) SitesMark(ctx context.Context) (string, error) {
	var mark string
	err := s.r.QueryRowContext(ctx, `SELECT
    (SELECT count(*) || ':' || coalesce(sum(version), 0) || ':' || coalesce(max(id), 0) || ':' || coalesce(max(updated_at), '')
        FROM protective_targets) || '/' ||
    (SELECT count(*) || ':' || coalesce(sum(version), 0) || ':' || coalesce(max(id), 0) || ':' || coalesce(max(updated_at), '')
        FROM shelters)`).Scan(&mark)
	return mark, s.dbErr(err, "sites mark")
}
