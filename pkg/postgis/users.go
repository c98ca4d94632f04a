package postgis

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"riskmap/pkg/riskmap"
)

// CreateUserRecorded stores a new user, sets its ID and CreatedAt, and keeps what rec returns
// (the audit row; nil: nothing) in the same transaction.
func (s *Store) CreateUserRecorded(ctx context.Context, u *riskmap.User, rec riskmap.AccessRecordFunc) error {
	created := u.CreatedAt.UTC().Truncate(time.Microsecond)
	if u.CreatedAt.IsZero() {
		created = s.timestamp()
	}
	return riskmap.WriteOrRestore(u, func() error {
		return s.recordedTx(ctx, "create user", rec, func(tx pgx.Tx) error {
			err := tx.QueryRow(ctx, `INSERT INTO users (name, role, department, categories, regions, password_hash, disabled, created_at,
		display_name, organisation, phone)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`,
				u.Name, u.Role, u.Department, nonNil(u.Categories), nonNil(u.Regions), u.PasswordHash, u.Disabled, created,
				u.DisplayName, u.Organisation, u.Phone).Scan(&u.ID)
			if err != nil {
				if isUniqueViolation(err) {
					return riskmap.UserNameTaken(u.Name)
				}
				return dbError("create user", err)
			}
			u.CreatedAt = created
			return nil
		})
	})
}

// selectUser reads what scanUser decodes.
const selectUser = `SELECT id, name, role, department, categories, regions, password_hash, disabled, created_at,
	display_name, organisation, phone FROM users`

func scanUser(row pgx.Row) (*riskmap.User, error) {
	u := &riskmap.User{}
	if err := row.Scan(&u.ID, &u.Name, &u.Role, &u.Department, &u.Categories, &u.Regions, &u.PasswordHash, &u.Disabled, &u.CreatedAt,
		&u.DisplayName, &u.Organisation, &u.Phone); err != nil {
		return nil, err
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return u, nil
}

// UserByName returns a user by name.
func (s *Store) UserByName(ctx context.Context, name string) (*riskmap.User, error) {
	return readOne("user by name", riskmap.UserNotFound(name),
		scanUser, s.pool.QueryRow(ctx, selectUser+" WHERE name = $1", name))
}

// UserByID returns a user by id.
func (s *Store) UserByID(ctx context.Context, id int64) (*riskmap.User, error) {
	return readOne("user by id", riskmap.UserIDNotFound(id),
		scanUser, s.pool.QueryRow(ctx, selectUser+" WHERE id = $1", id))
}

// Users returns every user, disabled ones included, ordered by name. The order is that of
// the bytes (COLLATE "C"), as in the GeoPackage store, whatever the database's collation.
func (s *Store) Users(ctx context.Context) ([]*riskmap.User, error) {
	return queryAll(ctx, s, "list users", func(r pgx.Rows) (*riskmap.User, error) { return scanUser(r) },
		selectUser+` ORDER BY name COLLATE "C"`)
}

// UpdateUser replaces everything about user u.ID but its name, id and CreatedAt.
func (s *Store) UpdateUser(ctx context.Context, u *riskmap.User) error {
	_, err := s.UpdateUserRecorded(ctx, u, false, nil)
	return err
}

// UpdateUserRecorded is UpdateUser that, with endSessions, ends the user's sessions and
// keeps what rec returns, all in one transaction.
func (s *Store) UpdateUserRecorded(ctx context.Context, u *riskmap.User, endSessions bool, rec riskmap.AccessRecordFunc) (int, error) {
	ended := 0
	err := s.recordedTx(ctx, "update user", rec, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET role = $2, department = $3, categories = $4, regions = $5,
		password_hash = $6, disabled = $7, display_name = $8, organisation = $9, phone = $10 WHERE id = $1`,
			u.ID, u.Role, u.Department, nonNil(u.Categories), nonNil(u.Regions), u.PasswordHash, u.Disabled,
			u.DisplayName, u.Organisation, u.Phone)
		if err != nil {
			return dbError("update user", err)
		}
		if tag.RowsAffected() == 0 {
			return riskmap.UserIDNotFound(u.ID)
		}
		if endSessions {
			tag, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = $1", u.ID)
			if err != nil {
				return dbError("delete user sessions", err)
			}
			ended = int(tag.RowsAffected())
		}
		return notifyAuth(ctx, tx)
	})
	if err != nil {
		return 0, err
	}
	return ended, nil
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
