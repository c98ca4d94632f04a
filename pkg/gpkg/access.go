package gpkg

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"riskmap/pkg/riskmap"
)

// isForeignKey reports whether err is a FOREIGN KEY constraint violation.
func isForeignKey(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// milli is t in UTC at the millisecond resolution of a GeoPackage DATETIME, so that what a
// write returns equals what a read returns.
func milli(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

// milliOr is milli(t), or def when t is zero.
func milliOr(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return milli(t)
}

// optTimeArg binds an optional time: NULL or a DATETIME.
func optTimeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return formatTime(*t)
}

// parseOptTime reads a nullable DATETIME read through CAST(… AS TEXT).
func parseOptTime(s sql.NullString) (*time.Time, error) {
	if !s.Valid {
		return nil, nil
	}
	t, err := parseTime(s.String)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// mustAffect returns notFound when a write changed no row.
func mustAffect(res sql.Result, notFound error) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("gpkg: rows affected: %w", err)
	}
	if n == 0 {
		return notFound
	}
	return nil
}

// CreateSession stores a session. CreatedAt defaults to now and LastSeenAt to CreatedAt;
// the times are set to what the file keeps.
func (s *Store) CreateSession(ctx context.Context, x *riskmap.Session) error {
	return s.CreateSessionRecorded(ctx, x, "", nil)
}

// CreateSessionRecorded is CreateSession that first ends the session replaces and keeps
// what rec returns, all in one transaction.
func (s *Store) CreateSessionRecorded(ctx context.Context, x *riskmap.Session, replaces string, rec riskmap.AccessRecordFunc) error {
	row, err := x.ToStore(now(), time.Millisecond)
	if err != nil {
		return err
	}
	return riskmap.WriteOrRestore(x, func() error {
		return s.recordedTx(ctx, rec, func(tx *sql.Tx) error {
			if replaces != "" {
				if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE token_hash = ?", replaces); err != nil {
					return s.dbErr(err, "delete session")
				}
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, csrf, created_at, last_seen_at, expires_at,
    client_addr, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				row.TokenHash, row.UserID, row.CSRF, formatTime(row.CreatedAt), formatTime(row.LastSeenAt), formatTime(row.ExpiresAt),
				row.ClientAddr, row.UserAgent)
			if err != nil {
				return s.accessInsertError(err, "create session", "会话", row.UserID)
			}
			*x = row
			return nil
		})
	})
}

// accessInsertError tells why the insert of a session or an API token (what) of user
// userID failed.
func (s *Store) accessInsertError(err error, op, what string, userID int64) error {
	if isUnique(err) {
		return riskmap.Errorf(riskmap.ECONFLICT, "%s 已存在", what)
	}
	if isForeignKey(err) {
		return riskmap.UserIDNotFound(userID)
	}
	return s.dbErr(err, "%s", op)
}

// recordedTx runs write and then keeps what rec returns (the audit row), in one
// transaction.
func (s *Store) recordedTx(ctx context.Context, rec riskmap.AccessRecordFunc, write func(*sql.Tx) error) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := write(tx); err != nil {
			return err
		}
		return rec.Keep(func(r *riskmap.WriteRecords) error { return s.keepRecords(ctx, tx, r) })
	})
}

// SessionByHash returns the session whose token has the hash.
func (s *Store) SessionByHash(ctx context.Context, hash string) (*riskmap.Session, error) {
	x := &riskmap.Session{}
	var created, seen, expires string
	err := s.r.QueryRowContext(ctx, `SELECT token_hash, user_id, csrf, CAST(created_at AS TEXT), CAST(last_seen_at AS TEXT),
    CAST(expires_at AS TEXT), client_addr, user_agent FROM sessions WHERE token_hash = ?`, hash).
		Scan(&x.TokenHash, &x.UserID, &x.CSRF, &created, &seen, &expires, &x.ClientAddr, &x.UserAgent)
	if errors.Is(err, sql.ErrNoRows) {
		// The hash is a secret's digest: it is not repeated in the message.
		return nil, riskmap.SessionNotFound()
	}
	if err != nil {
		return nil, s.dbErr(err, "get session")
	}
	if err := parseTimes([]string{created, seen, expires}, &x.CreatedAt, &x.LastSeenAt, &x.ExpiresAt); err != nil {
		return nil, err
	}
	return x, nil
}

// TouchSession sets a session's LastSeenAt; ENOTFOUND if the session has ended.
func (s *Store) TouchSession(ctx context.Context, hash string, at time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", formatTime(at), hash)
		if err != nil {
			return s.dbErr(err, "touch session")
		}
		return mustAffect(res, riskmap.SessionNotFound())
	})
}

// DeleteSession ends a session. Ending one that has ended already is not an error.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	return s.DeleteSessionRecorded(ctx, hash, nil)
}

// DeleteSessionRecorded is DeleteSession that keeps what rec returns in the same
// transaction.
func (s *Store) DeleteSessionRecorded(ctx context.Context, hash string, rec riskmap.AccessRecordFunc) error {
	return s.recordedTx(ctx, rec, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE token_hash = ?", hash)
		return s.dbErr(err, "delete session")
	})
}

// deleteSessions runs a DELETE of sessions and returns how many it removed.
func (s *Store) deleteSessions(ctx context.Context, op, query string, args ...any) (int, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = s.changedRows(ctx, tx, op, query, args...)
		return err
	})
	return int(n), err
}

// DeleteUserSessions ends every session of a user.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) (int, error) {
	return s.deleteSessions(ctx, "delete user sessions", "DELETE FROM sessions WHERE user_id = ?", userID)
}

// DeleteExpiredSessions removes the sessions past their expiry or idle for idle or longer.
// DATETIME text of one format compares as the times do.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time, idle time.Duration) (int, error) {
	return s.deleteSessions(ctx, "delete expired sessions", "DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?",
		formatTime(now), formatTime(now.Add(-idle)))
}

// CreateAPIToken stores a token and sets its ID; CreatedAt defaults to now.
func (s *Store) CreateAPIToken(ctx context.Context, t *riskmap.APIToken) error {
	return s.CreateAPITokenRecorded(ctx, t, nil)
}

// CreateAPITokenRecorded is CreateAPIToken that keeps what rec returns in the same
// transaction.
func (s *Store) CreateAPITokenRecorded(ctx context.Context, t *riskmap.APIToken, rec riskmap.AccessRecordFunc) error {
	row, err := t.ToStore(now(), time.Millisecond)
	if err != nil {
		return err
	}
	return riskmap.WriteOrRestore(t, func() error {
		return s.recordedTx(ctx, rec, func(tx *sql.Tx) error {
			err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (name, user_id, token_hash, created_by, created_at, last_used_at,
    revoked_at, scope) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				row.Name, row.UserID, row.TokenHash, row.CreatedBy, formatTime(row.CreatedAt), optTimeArg(row.LastUsedAt),
				optTimeArg(row.RevokedAt), row.Scope).Scan(&row.ID)
			if err != nil {
				return s.accessInsertError(err, "create API token", "API 令牌", row.UserID)
			}
			*t = row
			return nil
		})
	})
}

const selectAPIToken = `SELECT t.id, t.name, t.user_id, u.name, t.token_hash, t.created_by, CAST(t.created_at AS TEXT),
    CAST(t.last_used_at AS TEXT), CAST(t.revoked_at AS TEXT), t.scope
FROM api_tokens t JOIN users u ON u.id = t.user_id`

func scanAPIToken(scan func(...any) error) (*riskmap.APIToken, error) {
	t := &riskmap.APIToken{}
	var created string
	var lastUsed, revoked sql.NullString
	if err := scan(&t.ID, &t.Name, &t.UserID, &t.UserName, &t.TokenHash, &t.CreatedBy, &created, &lastUsed, &revoked, &t.Scope); err != nil {
		return nil, err
	}
	var err error
	if t.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if t.LastUsedAt, err = parseOptTime(lastUsed); err != nil {
		return nil, err
	}
	if t.RevokedAt, err = parseOptTime(revoked); err != nil {
		return nil, err
	}
	return t, nil
}

// APITokenByHash returns a token, revoked or not.
func (s *Store) APITokenByHash(ctx context.Context, hash string) (*riskmap.APIToken, error) {
	return readOne(s, "get API token", riskmap.TokenNotFound(),
		scanAPIToken, s.r.QueryRowContext(ctx, selectAPIToken+" WHERE t.token_hash = ?", hash).Scan)
}

// APITokens returns every token, newest first.
func (s *Store) APITokens(ctx context.Context) ([]*riskmap.APIToken, error) {
	return queryAll(ctx, s, "list API tokens", scanAPIToken, selectAPIToken+" ORDER BY t.id DESC")
}

// RevokeAPIToken revokes a token. A token revoked already keeps its first revocation time.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64, at time.Time) error {
	return s.RevokeAPITokenRecorded(ctx, id, at, nil)
}

// RevokeAPITokenRecorded is RevokeAPIToken that keeps what rec returns in the same
// transaction.
func (s *Store) RevokeAPITokenRecorded(ctx context.Context, id int64, at time.Time, rec riskmap.AccessRecordFunc) error {
	return s.recordedTx(ctx, rec, func(tx *sql.Tx) error {
		return s.touchAPIToken(ctx, tx, "revoke API token", "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?", id, at)
	})
}

// TouchAPIToken sets a token's LastUsedAt.
func (s *Store) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		return s.touchAPIToken(ctx, tx, "touch API token", "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", id, at)
	})
}

// touchAPIToken runs an update of token id that sets a time to at; ENOTFOUND when there is
// no such token.
func (s *Store) touchAPIToken(ctx context.Context, tx *sql.Tx, op, update string, id int64, at time.Time) error {
	res, err := tx.ExecContext(ctx, update, formatTime(at), id)
	if err != nil {
		return s.dbErr(err, "%s", op)
	}
	return mustAffect(res, riskmap.TokenIDNotFound(id))
}

// ServerSecret returns the secret named name, making and storing it on the first call.
func (s *Store) ServerSecret(ctx context.Context, name string) ([]byte, error) {
	fresh := make([]byte, 32)
	_, _ = rand.Read(fresh)
	var secret []byte
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO server_secrets (name, secret) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", name, fresh); err != nil {
			return s.dbErr(err, "store server secret")
		}
		return s.dbErr(tx.QueryRowContext(ctx, "SELECT secret FROM server_secrets WHERE name = ?", name).Scan(&secret), "read server secret")
	})
	return secret, err
}
