package postgis

import (
	"context"
	"crypto/rand"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"riskmap/pkg/riskmap"
)

// sqlForeignKeyViolation is the SQLSTATE of a reference to a row that does not exist.
const sqlForeignKeyViolation = "23503"

func isForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == sqlForeignKeyViolation
}

// micro is t in UTC at the microsecond resolution of timestamptz, so that what a write
// returns equals what a read returns.
func micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// microOr is micro(t), or def when t is zero.
func microOr(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return micro(t)
}

// optTime reads a nullable timestamptz.
func optTime(t pgtype.Timestamptz) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// CreateSession stores a session. CreatedAt defaults to now and LastSeenAt to CreatedAt;
// the times are set to what the database keeps.
func (s *Store) CreateSession(ctx context.Context, x *riskmap.Session) error {
	return s.CreateSessionRecorded(ctx, x, "", nil)
}

// CreateSessionRecorded is CreateSession that first ends the session replaces and keeps
// what rec returns, all in one transaction.
func (s *Store) CreateSessionRecorded(ctx context.Context, x *riskmap.Session, replaces string, rec riskmap.AccessRecordFunc) error {
	if x.TokenHash == "" {
		return riskmap.Errorf(riskmap.EINVALID, "a session needs a token hash")
	}
	if x.ExpiresAt.IsZero() {
		return riskmap.Errorf(riskmap.EINVALID, "a session needs an expiry time")
	}
	created := microOr(x.CreatedAt, s.timestamp())
	seen := microOr(x.LastSeenAt, created)
	expires := micro(x.ExpiresAt)
	old := *x
	err := s.inTx(ctx, "create session", func(tx pgx.Tx) error {
		if replaces != "" {
			if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE token_hash = $1", replaces); err != nil {
				return dbError("delete session", err)
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, csrf, created_at, last_seen_at, expires_at, client_addr, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			x.TokenHash, x.UserID, x.CSRF, created, seen, expires, x.ClientAddr, x.UserAgent)
		switch {
		case isUniqueViolation(err):
			return riskmap.Errorf(riskmap.ECONFLICT, "the session exists already")
		case isForeignKeyViolation(err):
			return riskmap.Errorf(riskmap.ENOTFOUND, "user %d does not exist", x.UserID)
		case err != nil:
			return dbError("create session", err)
		}
		x.CreatedAt, x.LastSeenAt, x.ExpiresAt = created, seen, expires
		return s.keepAccessRecords(ctx, tx, rec)
	})
	if err != nil {
		*x = old
	}
	return err
}

// keepAccessRecords keeps what rec returns (the audit row) in the transaction tx.
func (s *Store) keepAccessRecords(ctx context.Context, tx pgx.Tx, rec riskmap.AccessRecordFunc) error {
	if rec == nil {
		return nil
	}
	r, err := rec()
	if err != nil {
		return err
	}
	return s.keepRecords(ctx, tx, r)
}

// SessionByHash returns the session whose token has the hash.
func (s *Store) SessionByHash(ctx context.Context, hash string) (*riskmap.Session, error) {
	x := &riskmap.Session{}
	err := s.pool.QueryRow(ctx, `SELECT token_hash, user_id, csrf, created_at, last_seen_at, expires_at, client_addr, user_agent
		FROM sessions WHERE token_hash = $1`, hash).
		Scan(&x.TokenHash, &x.UserID, &x.CSRF, &x.CreatedAt, &x.LastSeenAt, &x.ExpiresAt, &x.ClientAddr, &x.UserAgent)
	if errors.Is(err, pgx.ErrNoRows) {
		// The hash is a secret's digest: it is not repeated in the message.
		return nil, riskmap.Errorf(riskmap.ENOTFOUND, "the session does not exist")
	}
	if err != nil {
		return nil, dbError("get session", err)
	}
	x.CreatedAt, x.LastSeenAt, x.ExpiresAt = x.CreatedAt.UTC(), x.LastSeenAt.UTC(), x.ExpiresAt.UTC()
	return x, nil
}

// TouchSession sets a session's LastSeenAt; ENOTFOUND if the session has ended.
func (s *Store) TouchSession(ctx context.Context, hash string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1", hash, micro(at))
	if err != nil {
		return dbError("touch session", err)
	}
	if tag.RowsAffected() == 0 {
		return riskmap.Errorf(riskmap.ENOTFOUND, "the session does not exist")
	}
	return nil
}

// DeleteSession ends a session. Ending one that has ended already is not an error.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	if _, err := s.pool.Exec(ctx, "DELETE FROM sessions WHERE token_hash = $1", hash); err != nil {
		return dbError("delete session", err)
	}
	return nil
}

// DeleteSessionRecorded is DeleteSession that keeps what rec returns in the same
// transaction.
func (s *Store) DeleteSessionRecorded(ctx context.Context, hash string, rec riskmap.AccessRecordFunc) error {
	return s.inTx(ctx, "delete session", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE token_hash = $1", hash); err != nil {
			return dbError("delete session", err)
		}
		return s.keepAccessRecords(ctx, tx, rec)
	})
}

// DeleteUserSessions ends every session of a user.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) (int, error) {
	tag, err := s.pool.Exec(ctx, "DELETE FROM sessions WHERE user_id = $1", userID)
	if err != nil {
		return 0, dbError("delete user sessions", err)
	}
	return int(tag.RowsAffected()), nil
}

// DeleteExpiredSessions removes the sessions past their expiry or idle for idle or longer.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time, idle time.Duration) (int, error) {
	tag, err := s.pool.Exec(ctx, "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
		micro(now), micro(now.Add(-idle)))
	if err != nil {
		return 0, dbError("delete expired sessions", err)
	}
	return int(tag.RowsAffected()), nil
}

// CreateAPIToken stores a token and sets its ID; CreatedAt defaults to now.
func (s *Store) CreateAPIToken(ctx context.Context, t *riskmap.APIToken) error {
	return s.CreateAPITokenRecorded(ctx, t, nil)
}

// CreateAPITokenRecorded is CreateAPIToken that keeps what rec returns in the same
// transaction.
func (s *Store) CreateAPITokenRecorded(ctx context.Context, t *riskmap.APIToken, rec riskmap.AccessRecordFunc) error {
	if t.TokenHash == "" {
		return riskmap.Errorf(riskmap.EINVALID, "an API token needs a token hash")
	}
	if !riskmap.ValidTokenScope(t.Scope) {
		return riskmap.Errorf(riskmap.EINVALID, "API 令牌的权限范围 %q 无效", t.Scope)
	}
	created := microOr(t.CreatedAt, s.timestamp())
	var lastUsed, revoked pgtype.Timestamptz
	if t.LastUsedAt != nil {
		lastUsed = pgtype.Timestamptz{Time: micro(*t.LastUsedAt), Valid: true}
	}
	if t.RevokedAt != nil {
		revoked = pgtype.Timestamptz{Time: micro(*t.RevokedAt), Valid: true}
	}
	old := *t
	err := s.inTx(ctx, "create API token", func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO api_tokens (name, user_id, token_hash, created_by, created_at, last_used_at, revoked_at, scope)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			t.Name, t.UserID, t.TokenHash, t.CreatedBy, created, lastUsed, revoked, t.Scope).Scan(&t.ID)
		switch {
		case isUniqueViolation(err):
			return riskmap.Errorf(riskmap.ECONFLICT, "the API token exists already")
		case isForeignKeyViolation(err):
			return riskmap.Errorf(riskmap.ENOTFOUND, "user %d does not exist", t.UserID)
		case err != nil:
			return dbError("create API token", err)
		}
		t.CreatedAt, t.LastUsedAt, t.RevokedAt = created, optTime(lastUsed), optTime(revoked)
		return s.keepAccessRecords(ctx, tx, rec)
	})
	if err != nil {
		*t = old
	}
	return err
}

const selectAPIToken = `SELECT t.id, t.name, t.user_id, u.name, t.token_hash, t.created_by, t.created_at, t.last_used_at, t.revoked_at, t.scope
	FROM api_tokens t JOIN users u ON u.id = t.user_id`

func scanAPIToken(row pgx.Row) (*riskmap.APIToken, error) {
	t := &riskmap.APIToken{}
	var lastUsed, revoked pgtype.Timestamptz
	if err := row.Scan(&t.ID, &t.Name, &t.UserID, &t.UserName, &t.TokenHash, &t.CreatedBy, &t.CreatedAt, &lastUsed, &revoked, &t.Scope); err != nil {
		return nil, err
	}
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = t.CreatedAt.UTC(), optTime(lastUsed), optTime(revoked)
	return t, nil
}

// APITokenByHash returns a token, revoked or not.
func (s *Store) APITokenByHash(ctx context.Context, hash string) (*riskmap.APIToken, error) {
	t, err := scanAPIToken(s.pool.QueryRow(ctx, selectAPIToken+" WHERE t.token_hash = $1", hash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, riskmap.Errorf(riskmap.ENOTFOUND, "the API token does not exist")
	}
	if err != nil {
		return nil, dbError("get API token", err)
	}
	return t, nil
}

// APITokens returns every token, newest first.
func (s *Store) APITokens(ctx context.Context) ([]*riskmap.APIToken, error) {
	rows, err := s.pool.Query(ctx, selectAPIToken+" ORDER BY t.id DESC")
	if err != nil {
		return nil, dbError("list API tokens", err)
	}
	ts, err := collect(rows, func(r pgx.Rows) (*riskmap.APIToken, error) { return scanAPIToken(r) })
	if err != nil {
		return nil, dbError("list API tokens", err)
	}
	return ts, nil
}

// RevokeAPIToken revokes a token. A token revoked already keeps its first revocation time.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64, at time.Time) error {
	return s.RevokeAPITokenRecorded(ctx, id, at, nil)
}

// RevokeAPITokenRecorded is RevokeAPIToken that keeps what rec returns in the same
// transaction.
func (s *Store) RevokeAPITokenRecorded(ctx context.Context, id int64, at time.Time, rec riskmap.AccessRecordFunc) error {
	return s.inTx(ctx, "revoke API token", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1", id, micro(at))
		if err != nil {
			return dbError("revoke API token", err)
		}
		if tag.RowsAffected() == 0 {
			return riskmap.Errorf(riskmap.ENOTFOUND, "API token %d does not exist", id)
		}
		return s.keepAccessRecords(ctx, tx, rec)
	})
}

// TouchAPIToken sets a token's LastUsedAt.
func (s *Store) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	tag, err := s.pool.Exec(ctx, "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1", id, micro(at))
	if err != nil {
		return dbError("touch API token", err)
	}
	if tag.RowsAffected() == 0 {
		return riskmap.Errorf(riskmap.ENOTFOUND, "API token %d does not exist", id)
	}
	return nil
}

// ServerSecret returns the secret named name, making and storing it on the first call. Two
// replicas asking at once get the same one.
func (s *Store) ServerSecret(ctx context.Context, name string) ([]byte, error) {
	fresh := make([]byte, 32)
	_, _ = rand.Read(fresh)
	if _, err := s.pool.Exec(ctx, "INSERT INTO server_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING", name, fresh); err != nil {
		return nil, dbError("store server secret", err)
	}
	var secret []byte
	if err := s.pool.QueryRow(ctx, "SELECT secret FROM server_secrets WHERE name = $1", name).Scan(&secret); err != nil {
		return nil, dbError("read server secret", err)
	}
	return secret, nil
}
