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
	row, err := x.ToStore(s.timestamp(), time.Microsecond)
	if err != nil {
		return err
	}
	return riskmap.WriteOrRestore(x, func() error {
		return s.recordedTx(ctx, "create session", rec, func(tx pgx.Tx) error {
			if replaces != "" {
				if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE token_hash = $1", replaces); err != nil {
					return dbError("delete session", err)
				}
			}
			_, err := tx.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, csrf, created_at, last_seen_at, expires_at, client_addr, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
				row.TokenHash, row.UserID, row.CSRF, row.CreatedAt, row.LastSeenAt, row.ExpiresAt, row.ClientAddr, row.UserAgent)
			if err != nil {
				return accessInsertError("create session", "会话", row.UserID, err)
			}
			*x = row
			return nil
		})
	})
}

// accessInsertError tells why the insert of a session or an API token (what) of user
// userID failed.
func accessInsertError(op, what string, userID int64, err error) error {
	switch {
	case isUniqueViolation(err):
		return riskmap.Errorf(riskmap.ECONFLICT, "%s 已存在", what)
	case isForeignKeyViolation(err):
		return riskmap.UserIDNotFound(userID)
	}
	return dbError(op, err)
}

// recordedTx runs write and then keeps what rec returns (the audit row), in one
// transaction.
func (s *Store) recordedTx(ctx context.Context, op string, rec riskmap.AccessRecordFunc, write func(pgx.Tx) error) error {
	return s.inTx(ctx, op, func(tx pgx.Tx) error {
		if err := write(tx); err != nil {
			return err
		}
		return rec.Keep(func(r *riskmap.WriteRecords) error { return s.keepRecords(ctx, tx, r) })
	})
}

// SessionByHash returns the session whose token has the hash.
func (s *Store) SessionByHash(ctx context.Context, hash string) (*riskmap.Session, error) {
	x := &riskmap.Session{}
	err := s.pool.QueryRow(ctx, `SELECT token_hash, user_id, csrf, created_at, last_seen_at, expires_at, client_addr, user_agent
		FROM sessions WHERE token_hash = $1`, hash).
		Scan(&x.TokenHash, &x.UserID, &x.CSRF, &x.CreatedAt, &x.LastSeenAt, &x.ExpiresAt, &x.ClientAddr, &x.UserAgent)
	if errors.Is(err, pgx.ErrNoRows) {
		// The hash is a secret's digest: it is not repeated in the message.
		return nil, riskmap.SessionNotFound()
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
		return riskmap.SessionNotFound()
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
	return s.recordedTx(ctx, "delete session", rec, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM sessions WHERE token_hash = $1", hash); err != nil {
			return dbError("delete session", err)
		}
		return notifyAuth(ctx, tx)
	})
}

// DeleteUserSessions ends every session of a user.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) (int, error) {
	n := 0
	err := s.inTx(ctx, "delete user sessions", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM sessions WHERE user_id = $1", userID)
		if err != nil {
			return dbError("delete user sessions", err)
		}
		n = int(tag.RowsAffected())
		return notifyAuth(ctx, tx)
	})
	return n, err
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
	row, err := t.ToStore(s.timestamp(), time.Microsecond)
	if err != nil {
		return err
	}
	return riskmap.WriteOrRestore(t, func() error {
		return s.recordedTx(ctx, "create API token", rec, func(tx pgx.Tx) error {
			err := tx.QueryRow(ctx, `INSERT INTO api_tokens (name, user_id, token_hash, created_by, created_at, last_used_at, revoked_at, scope)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
				row.Name, row.UserID, row.TokenHash, row.CreatedBy, row.CreatedAt, optTimestamptz(row.LastUsedAt), optTimestamptz(row.RevokedAt), row.Scope).Scan(&row.ID)
			if err != nil {
				return accessInsertError("create API token", "API 令牌", row.UserID, err)
			}
			*t = row
			return nil
		})
	})
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
	return readOne("get API token", riskmap.TokenNotFound(),
		scanAPIToken, s.pool.QueryRow(ctx, selectAPIToken+" WHERE t.token_hash = $1", hash))
}

// APITokens returns every token, newest first.
func (s *Store) APITokens(ctx context.Context) ([]*riskmap.APIToken, error) {
	return queryAll(ctx, s, "list API tokens", func(r pgx.Rows) (*riskmap.APIToken, error) { return scanAPIToken(r) },
		selectAPIToken+" ORDER BY t.id DESC")
}

// RevokeAPIToken revokes a token. A token revoked already keeps its first revocation time.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64, at time.Time) error {
	return s.RevokeAPITokenRecorded(ctx, id, at, nil)
}

// RevokeAPITokenRecorded is RevokeAPIToken that keeps what rec returns in the same
// transaction.
func (s *Store) RevokeAPITokenRecorded(ctx context.Context, id int64, at time.Time, rec riskmap.AccessRecordFunc) error {
	return s.recordedTx(ctx, "revoke API token", rec, func(tx pgx.Tx) error {
		if err := s.touchAPIToken(ctx, tx, "revoke API token", "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1", id, at); err != nil {
			return err
		}
		return notifyAuth(ctx, tx)
	})
}

// TouchAPIToken sets a token's LastUsedAt.
func (s *Store) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	return s.touchAPIToken(ctx, s.pool, "touch API token", "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1", id, at)
}

// touchAPIToken runs an update of token id that sets a time to at; ENOTFOUND when there is
// no such token.
func (s *Store) touchAPIToken(ctx context.Context, q querier, op, update string, id int64, at time.Time) error {
	tag, err := q.Exec(ctx, update, id, micro(at))
	if err != nil {
		return dbError(op, err)
	}
	if tag.RowsAffected() == 0 {
		return riskmap.TokenIDNotFound(id)
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
