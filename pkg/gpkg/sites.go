package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"riskmap/pkg/riskmap"
	"riskmap/pkg/unitcodec"
)

// PutRegions inserts or replaces regions by code, all or none. An existing region keeps its
// fid, so that QGIS projects and the spatial index keep pointing at the same row.
func (s *Store) PutRegions(ctx context.Context, rs []*riskmap.Region) error {
	if len(rs) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		// UPDATE, then INSERT where nothing was updated, rather than an upsert: the
		// ON CONFLICT clause of an upsert overrides the INSERT OR REPLACE of the R-tree
		// triggers, which then fail on the existing index entry.
		upd, err := tx.PrepareContext(ctx, `UPDATE regions SET name = ?, level = ?, parent_code = ?, population = ?, geom = ?
WHERE code = ?`)
		if err != nil {
			return s.dbErr(err, "prepare regions")
		}
		defer upd.Close()
		ins, err := tx.PrepareContext(ctx, `INSERT INTO regions (name, level, parent_code, population, geom, code)
VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return s.dbErr(err, "prepare regions")
		}
		defer ins.Close()
		var ext extent
		for _, r := range rs {
			if len(r.Geometry) == 0 {
				return riskmap.Errorf(riskmap.EINVALID, "region %q has no geometry", r.Code)
			}
			geom, err := EncodeGeometry(r.Geometry, SRSID)
			if err != nil {
				return riskmap.Errorf(riskmap.EINVALID, "region %q: %v", r.Code, err)
			}
			res, err := upd.ExecContext(ctx, r.Name, r.Level, r.ParentCode, r.Population, geom, r.Code)
			if err != nil {
				return s.dbErr(err, "put region %q", r.Code)
			}
			if n, err := res.RowsAffected(); err != nil {
				return s.dbErr(err, "put region %q", r.Code)
			} else if n == 0 {
				if _, err := ins.ExecContext(ctx, r.Name, r.Level, r.ParentCode, r.Population, geom, r.Code); err != nil {
					return s.dbErr(err, "put region %q", r.Code)
				}
			}
			ext.add(r.Geometry)
		}
		return s.dbErr(ext.write(ctx, tx, "regions"), "update gpkg_contents")
	})
}

const regionColumns = "code, name, level, parent_code, population, geom"

// Regions returns the regions of a level ("" for all), ordered by code.
func (s *Store) Regions(ctx context.Context, level string) ([]*riskmap.Region, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+regionColumns+" FROM regions WHERE ? = '' OR level = ? ORDER BY code", level, level)
	if err != nil {
		return nil, s.dbErr(err, "list regions")
	}
	defer rows.Close()
	var out []*riskmap.Region
	for rows.Next() {
		r, err := scanRegion(rows)
		if err != nil {
			return nil, s.dbErr(err, "list regions")
		}
		out = append(out, r)
	}
	return out, s.dbErr(rows.Err(), "list regions")
}

// GetRegion returns one region.
func (s *Store) GetRegion(ctx context.Context, code string) (*riskmap.Region, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+regionColumns+" FROM regions WHERE code = ?", code)
	if err != nil {
		return nil, s.dbErr(err, "get region")
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, s.dbErr(err, "get region")
		}
		return nil, riskmap.Errorf(riskmap.ENOTFOUND, "no region with code %q", code)
	}
	r, err := scanRegion(rows)
	return r, s.dbErr(err, "get region")
}

func scanRegion(rows *sql.Rows) (*riskmap.Region, error) {
	r := new(riskmap.Region)
	var geom sql.RawBytes
	if err := rows.Scan(&r.Code, &r.Name, &r.Level, &r.ParentCode, &r.Population, &geom); err != nil {
		return nil, err
	}
	g, err := decodeStored(geom)
	if err == nil {
		r.Geometry, err = unitcodec.RegionGeometry(g)
	}
	if err != nil {
		return nil, fmt.Errorf("region %q: geom: %w", r.Code, err)
	}
	return r, nil
}

// AddProtectiveTargets stores new protective targets, all or none, and sets their IDs.
func (s *Store) AddProtectiveTargets(ctx context.Context, ts []*riskmap.ProtectiveTarget) error {
	if len(ts) == 0 {
		return nil
	}
	ids := make([]int64, len(ts))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO protective_targets (name, kind, region_code, address, people, geom)
VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return s.dbErr(err, "prepare protective targets")
		}
		defer stmt.Close()
		var ext extent
		for i, t := range ts {
			if t.Geometry == nil {
				return riskmap.Errorf(riskmap.EINVALID, "protective target %q has no geometry", t.Name)
			}
			geom, err := EncodeGeometry(t.Geometry, SRSID)
			if err != nil {
				return riskmap.Errorf(riskmap.EINVALID, "protective target %q: %v", t.Name, err)
			}
			res, err := stmt.ExecContext(ctx, t.Name, t.Kind, t.RegionCode, t.Address, t.People, geom)
			if err != nil {
				return s.dbErr(err, "insert protective target")
			}
			if ids[i], err = res.LastInsertId(); err != nil {
				return s.dbErr(err, "insert protective target")
			}
			ext.add(t.Geometry)
		}
		return s.dbErr(ext.write(ctx, tx, "protective_targets"), "update gpkg_contents")
	})
	if err != nil {
		return err
	}
	for i, t := range ts {
		t.ID = ids[i]
	}
	return nil
}

// ProtectiveTargets returns every protective target, ordered by id.
func (s *Store) ProtectiveTargets(ctx context.Context) ([]*riskmap.ProtectiveTarget, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT id, name, kind, region_code, address, people, geom FROM protective_targets ORDER BY id")
	if err != nil {
		return nil, s.dbErr(err, "list protective targets")
	}
	defer rows.Close()
	var out []*riskmap.ProtectiveTarget
	for rows.Next() {
		t := new(riskmap.ProtectiveTarget)
		var geom sql.RawBytes
		if err := rows.Scan(&t.ID, &t.Name, &t.Kind, &t.RegionCode, &t.Address, &t.People, &geom); err != nil {
			return nil, s.dbErr(err, "list protective targets")
		}
		if t.Geometry, err = decodeStored(geom); err != nil {
			return nil, fmt.Errorf("gpkg: protective target %d: geom: %w", t.ID, err)
		}
		out = append(out, t)
	}
	return out, s.dbErr(rows.Err(), "list protective targets")
}

// AddShelters stores new shelters, all or none, and sets their IDs.
func (s *Store) AddShelters(ctx context.Context, ss []*riskmap.Shelter) error {
	if len(ss) == 0 {
		return nil
	}
	ids := make([]int64, len(ss))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO shelters (name, kind, region_code, address, capacity,
    effective_area_m2, service_radius_m, geom) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return s.dbErr(err, "prepare shelters")
		}
		defer stmt.Close()
		var ext extent
		for i, sh := range ss {
			if sh.Geometry == nil {
				return riskmap.Errorf(riskmap.EINVALID, "shelter %q has no geometry", sh.Name)
			}
			geom, err := EncodeGeometry(sh.Geometry, SRSID)
			if err != nil {
				return riskmap.Errorf(riskmap.EINVALID, "shelter %q: %v", sh.Name, err)
			}
			res, err := stmt.ExecContext(ctx, sh.Name, sh.Kind, sh.RegionCode, sh.Address, sh.Capacity,
				sh.EffectiveAreaM2, sh.ServiceRadiusM, geom)
			if err != nil {
				return s.dbErr(err, "insert shelter")
			}
			if ids[i], err = res.LastInsertId(); err != nil {
				return s.dbErr(err, "insert shelter")
			}
			ext.add(sh.Geometry)
		}
		return s.dbErr(ext.write(ctx, tx, "shelters"), "update gpkg_contents")
	})
	if err != nil {
		return err
	}
	for i, sh := range ss {
		sh.ID = ids[i]
	}
	return nil
}

// Shelters returns every shelter, ordered by id.
func (s *Store) Shelters(ctx context.Context) ([]*riskmap.Shelter, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, kind, region_code, address, capacity, effective_area_m2,
    service_radius_m, geom FROM shelters ORDER BY id`)
	if err != nil {
		return nil, s.dbErr(err, "list shelters")
	}
	defer rows.Close()
	var out []*riskmap.Shelter
	for rows.Next() {
		sh := new(riskmap.Shelter)
		var geom sql.RawBytes
		if err := rows.Scan(&sh.ID, &sh.Name, &sh.Kind, &sh.RegionCode, &sh.Address, &sh.Capacity,
			&sh.EffectiveAreaM2, &sh.ServiceRadiusM, &geom); err != nil {
			return nil, s.dbErr(err, "list shelters")
		}
		if sh.Geometry, err = decodeStored(geom); err != nil {
			return nil, fmt.Errorf("gpkg: shelter %d: geom: %w", sh.ID, err)
		}
		out = append(out, sh)
	}
	return out, s.dbErr(rows.Err(), "list shelters")
}

// CreateUser stores a new user and sets its ID and CreatedAt.
func (s *Store) CreateUser(ctx context.Context, u *riskmap.User) error {
	return s.CreateUserRecorded(ctx, u, nil)
}

// CreateUserRecorded is CreateUser that keeps what rec returns in the same transaction.
func (s *Store) CreateUserRecorded(ctx context.Context, u *riskmap.User, rec riskmap.AccessRecordFunc) error {
	cats, err := jsonList(u.Categories)
	if err != nil {
		return err
	}
	regs, err := jsonList(u.Regions)
	if err != nil {
		return err
	}
	t := now()
	return riskmap.WriteOrRestore(u, func() error {
		return s.recordedTx(ctx, rec, func(tx *sql.Tx) error {
			err := tx.QueryRowContext(ctx, `INSERT INTO users (name, role, department, categories, regions, password_hash,
    disabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				u.Name, u.Role, u.Department, cats, regs, u.PasswordHash, u.Disabled, formatTime(t)).Scan(&u.ID)
			if isUnique(err) {
				return riskmap.Errorf(riskmap.ECONFLICT, "the user name %q is taken", u.Name)
			}
			if err != nil {
				return s.dbErr(err, "insert user")
			}
			u.CreatedAt = t
			return nil
		})
	})
}

// selectUser reads what scanUser decodes.
const selectUser = `SELECT id, name, role, department, categories, regions, password_hash, disabled,
    CAST(created_at AS TEXT) FROM users`

// scanUser decodes a row of selectUser; scan is a Row's or Rows' Scan.
func scanUser(scan func(...any) error) (*riskmap.User, error) {
	u := &riskmap.User{}
	var cats, regs, created string
	if err := scan(&u.ID, &u.Name, &u.Role, &u.Department, &cats, &regs, &u.PasswordHash, &u.Disabled, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(cats), &u.Categories); err != nil {
		return nil, fmt.Errorf("gpkg: user %d: categories: %w", u.ID, err)
	}
	if err := json.Unmarshal([]byte(regs), &u.Regions); err != nil {
		return nil, fmt.Errorf("gpkg: user %d: regions: %w", u.ID, err)
	}
	var err error
	if u.CreatedAt, err = parseTime(created); err != nil {
		return nil, fmt.Errorf("gpkg: user %d: created_at: %w", u.ID, err)
	}
	return u, nil
}

// UserByName returns a user.
func (s *Store) UserByName(ctx context.Context, name string) (*riskmap.User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, selectUser+" WHERE name = ?", name).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, riskmap.Errorf(riskmap.ENOTFOUND, "no user named %q", name)
	}
	if err != nil {
		return nil, s.dbErr(err, "get user")
	}
	return u, nil
}

// UserByID returns a user.
func (s *Store) UserByID(ctx context.Context, id int64) (*riskmap.User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, selectUser+" WHERE id = ?", id).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, riskmap.Errorf(riskmap.ENOTFOUND, "no user with id %d", id)
	}
	if err != nil {
		return nil, s.dbErr(err, "get user")
	}
	return u, nil
}

// Users returns every user, disabled ones included, ordered by name.
func (s *Store) Users(ctx context.Context) ([]*riskmap.User, error) {
	rows, err := s.r.QueryContext(ctx, selectUser+" ORDER BY name")
	if err != nil {
		return nil, s.dbErr(err, "list users")
	}
	defer rows.Close()
	var out []*riskmap.User
	for rows.Next() {
		u, err := scanUser(rows.Scan)
		if err != nil {
			return nil, s.dbErr(err, "list users")
		}
		out = append(out, u)
	}
	return out, s.dbErr(rows.Err(), "list users")
}

// UpdateUser replaces everything about user u.ID but its name, id and CreatedAt.
func (s *Store) UpdateUser(ctx context.Context, u *riskmap.User) error {
	_, err := s.UpdateUserRecorded(ctx, u, false, nil)
	return err
}

// UpdateUserRecorded is UpdateUser that, with endSessions, ends the user's sessions and
// keeps what rec returns, all in one transaction.
func (s *Store) UpdateUserRecorded(ctx context.Context, u *riskmap.User, endSessions bool, rec riskmap.AccessRecordFunc) (int, error) {
	if !riskmap.ValidRole(u.Role) {
		return 0, riskmap.Errorf(riskmap.EINVALID, "role must be admin, expert or department, got %q", u.Role)
	}
	cats, err := jsonList(u.Categories)
	if err != nil {
		return 0, err
	}
	regs, err := jsonList(u.Regions)
	if err != nil {
		return 0, err
	}
	var ended int64
	err = s.recordedTx(ctx, rec, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET role = ?, department = ?, categories = ?, regions = ?,
    password_hash = ?, disabled = ? WHERE id = ?`,
			u.Role, u.Department, cats, regs, u.PasswordHash, u.Disabled, u.ID)
		if err != nil {
			return s.dbErr(err, "update user")
		}
		if err := mustAffect(res, riskmap.Errorf(riskmap.ENOTFOUND, "no user with id %d", u.ID)); err != nil {
			return err
		}
		if endSessions {
			res, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = ?", u.ID)
			if err != nil {
				return s.dbErr(err, "delete user sessions")
			}
			if ended, err = res.RowsAffected(); err != nil {
				return s.dbErr(err, "delete user sessions")
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(ended), nil
}

// CountUsers counts the users.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n)
	return n, s.dbErr(err, "count users")
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
