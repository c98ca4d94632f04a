package postgis

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"riskmap/pkg/riskmap"
)

// CreateUser stores a new user and sets its ID and, when unset, CreatedAt.
func (s *Store) CreateUser(ctx context.Context, u *riskmap.User) error {
	created := u.CreatedAt.UTC().Truncate(time.Microsecond)
	if u.CreatedAt.IsZero() {
		created = s.timestamp()
	}
	err := s.pool.QueryRow(ctx, `INSERT INTO users (name, role, department, categories, regions, password_hash, disabled, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		u.Name, u.Role, u.Department, nonNil(u.Categories), nonNil(u.Regions), u.PasswordHash, u.Disabled, created).Scan(&u.ID)
	if err != nil {
		if isUniqueViolation(err) {
			return riskmap.Errorf(riskmap.ECONFLICT, "user name %q is taken", u.Name)
		}
		return dbError("create user", err)
	}
	u.CreatedAt = created
	return nil
}

// selectUser reads what scanUser decodes.
const selectUser = `SELECT id, name, role, department, categories, regions, password_hash, disabled, created_at FROM users`

func scanUser(row pgx.Row) (*riskmap.User, error) {
	u := &riskmap.User{}
	if err := row.Scan(&u.ID, &u.Name, &u.Role, &u.Department, &u.Categories, &u.Regions, &u.PasswordHash, &u.Disabled, &u.CreatedAt); err != nil {
		return nil, err
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return u, nil
}

// UserByName returns a user by name.
func (s *Store) UserByName(ctx context.Context, name string) (*riskmap.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, selectUser+" WHERE name = $1", name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, riskmap.Errorf(riskmap.ENOTFOUND, "user %q does not exist", name)
	}
	if err != nil {
		return nil, dbError("user by name", err)
	}
	return u, nil
}

// UserByID returns a user by id.
func (s *Store) UserByID(ctx context.Context, id int64) (*riskmap.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, selectUser+" WHERE id = $1", id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, riskmap.Errorf(riskmap.ENOTFOUND, "user %d does not exist", id)
	}
	if err != nil {
		return nil, dbError("user by id", err)
	}
	return u, nil
}

// Users returns every user, disabled ones included, ordered by name. The order is that of
// the bytes (COLLATE "C"), as in the GeoPackage store, whatever the database's collation.
func (s *Store) Users(ctx context.Context) ([]*riskmap.User, error) {
	rows, err := s.pool.Query(ctx, selectUser+` ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, dbError("list users", err)
	}
	us, err := collect(rows, func(r pgx.Rows) (*riskmap.User, error) { return scanUser(r) })
	if err != nil {
		return nil, dbError("list users", err)
	}
	return us, nil
}

// UpdateUser replaces everything about user u.ID but its name, id and CreatedAt.
func (s *Store) UpdateUser(ctx context.Context, u *riskmap.User) error {
	tag, err := s.pool.Exec(ctx, `UPDATE users SET role = $2, department = $3, categories = $4, regions = $5,
		password_hash = $6, disabled = $7 WHERE id = $1`,
		u.ID, u.Role, u.Department, nonNil(u.Categories), nonNil(u.Regions), u.PasswordHash, u.Disabled)
	if err != nil {
		return dbError("update user", err)
	}
	if tag.RowsAffected() == 0 {
		return riskmap.Errorf(riskmap.ENOTFOUND, "user %d does not exist", u.ID)
	}
	return nil
}

// CountUsers counts all users, disabled ones included.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
		return 0, dbError("count users", err)
	}
	return n, nil
}

// nonNil keeps a nil list from being sent as NULL to a NOT NULL array column.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
