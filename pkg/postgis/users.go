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

// UserByName returns a user by name.
func (s *Store) UserByName(ctx context.Context, name string) (*riskmap.User, error) {
	u := &riskmap.User{}
	err := s.pool.QueryRow(ctx, `SELECT id, name, role, department, categories, regions, password_hash, disabled, created_at
		FROM users WHERE name = $1`, name).
		Scan(&u.ID, &u.Name, &u.Role, &u.Department, &u.Categories, &u.Regions, &u.PasswordHash, &u.Disabled, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, riskmap.Errorf(riskmap.ENOTFOUND, "user %q does not exist", name)
	}
	if err != nil {
		return nil, dbError("user by name", err)
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return u, nil
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
