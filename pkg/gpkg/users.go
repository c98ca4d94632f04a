package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"riskmap/pkg/riskmap"
)

// Users (riskmap.UserStore).

// CreateUserRecorded stores a new user, sets its ID and CreatedAt, and keeps what rec returns
// (the audit row; nil: nothing) in the same transaction.
func (s *Store) CreateUserRecorded(ctx context.Context, u *riskmap.User, rec riskmap.AccessRecordFunc) error {
	cats, regs, err := userLists(u)
	if err != nil {
		return err
	}
	t := now()
	return riskmap.WriteOrRestore(u, func() error {
		return s.recordedTx(ctx, rec, func(tx *sql.Tx) error {
			err := tx.QueryRowContext(ctx, `INSERT INTO users (name, role, department, categories, regions, password_hash,
    disabled, created_at, display_name, organisation, phone) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				u.Name, u.Role, u.Department, cats, regs, u.PasswordHash, u.Disabled, formatTime(t),
				u.DisplayName, u.Organisation, u.Phone).Scan(&u.ID)
			if isUnique(err) {
				return riskmap.UserNameTaken(u.Name)
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
    CAST(created_at AS TEXT), display_name, organisation, phone FROM users`

// scanUser decodes a row of selectUser; scan is a Row's or Rows' Scan.
func scanUser(scan func(...any) error) (*riskmap.User, error) {
	u := &riskmap.User{}
	var cats, regs, created string
	if err := scan(&u.ID, &u.Name, &u.Role, &u.Department, &cats, &regs, &u.PasswordHash, &u.Disabled, &created,
		&u.DisplayName, &u.Organisation, &u.Phone); err != nil {
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
	return readOne(s, "get user", riskmap.UserNotFound(name),
		scanUser, s.r.QueryRowContext(ctx, selectUser+" WHERE name = ?", name).Scan)
}

// UserByID returns a user.
func (s *Store) UserByID(ctx context.Context, id int64) (*riskmap.User, error) {
	return readOne(s, "get user", riskmap.UserIDNotFound(id),
		scanUser, s.r.QueryRowContext(ctx, selectUser+" WHERE id = ?", id).Scan)
}

// Users returns every user, disabled ones included, ordered by name.
func (s *Store) Users(ctx context.Context) ([]*riskmap.User, error) {
	return queryAll(ctx, s, "list users", scanUser, selectUser+" ORDER BY name")
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
		return 0, riskmap.Errorf(riskmap.EINVALID, "角色应为 admin（管理员）、expert（评估专家）或 department（行业部门），收到 %q", u.Role)
	}
	cats, regs, err := userLists(u)
	if err != nil {
		return 0, err
	}
	var ended int64
	err = s.recordedTx(ctx, rec, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET role = ?, department = ?, categories = ?, regions = ?,
    password_hash = ?, disabled = ?, display_name = ?, organisation = ?, phone = ? WHERE id = ?`,
			u.Role, u.Department, cats, regs, u.PasswordHash, u.Disabled, u.DisplayName, u.Organisation, u.Phone, u.ID)
		if err != nil {
			return s.dbErr(err, "update user")
		}
		if err := mustAffect(res, riskmap.UserIDNotFound(u.ID)); err != nil {
			return err
		}
		if endSessions {
			if ended, err = s.changedRows(ctx, tx, "delete user sessions", "DELETE FROM sessions WHERE user_id = ?", u.ID); err != nil {
				return err
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

// userLists encodes a user's categories and regions as the JSON arrays the users table
// keeps.
func userLists(u *riskmap.User) (cats, regs string, err error) {
	if cats, err = jsonList(u.Categories); err != nil {
		return "", "", err
	}
	regs, err = jsonList(u.Regions)
	return cats, regs, err
}
