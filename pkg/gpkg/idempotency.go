package gpkg

import (
	"context"
	"database/sql"
	"time"

	"riskmap/pkg/riskmap"
)

// writeRecords keeps what rec returns for the unit u just written, in the write's
// transaction tx.
func (s *Store) writeRecords(ctx context.Context, tx *sql.Tx, u *riskmap.Unit, rec riskmap.RecordFunc) error {
	if rec == nil {
		return nil
	}
	r, err := rec(u)
	if err != nil || r == nil {
		return err
	}
	if r.Author != nil {
		r.Author.UnitID = u.ID
		if err := s.setUnitAuthor(ctx, tx, r.Author); err != nil {
			return err
		}
	}
	return s.keepRecords(ctx, tx, r)
}

// keepRecords writes the audit row and the kept answer of r in the transaction tx.
func (s *Store) keepRecords(ctx context.Context, tx *sql.Tx, r *riskmap.WriteRecords) error {
	return r.Keep(func(e *riskmap.AuditEntry) error { return s.appendAudit(ctx, tx, e) },
		func(a *riskmap.IdempotentResponse) error { return s.putIdempotent(ctx, tx, a) })
}

// putIdempotent keeps the answer of a write made with an Idempotency-Key, after removing
// the answers that have expired. A key its scope holds already is ECONFLICT.
func (s *Store) putIdempotent(ctx context.Context, tx *sql.Tx, r *riskmap.IdempotentResponse) error {
	t := now()
	if r.CreatedAt.IsZero() {
		r.CreatedAt = t
	}
	if r.ExpiresAt.IsZero() {
		r.ExpiresAt = r.CreatedAt.Add(riskmap.IdempotencyTTL)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM idempotency_keys WHERE expires_at <= ?", formatTime(t)); err != nil {
		return s.dbErr(err, "remove expired idempotency keys")
	}
	body := r.Body
	if body == nil {
		body = []byte{}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, status, content_type, location, etag,
    body, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Scope, r.Key, r.RequestHash, r.Status, r.ContentType, r.Location, r.ETag, body,
		formatTime(r.CreatedAt), formatTime(r.ExpiresAt))
	if isUnique(err) {
		return riskmap.Errorf(riskmap.ECONFLICT, "幂等键 %q 已被另一个请求使用", r.Key)
	}
	return s.dbErr(err, "keep the answer of idempotency key")
}

// IdempotentResponse returns the answer kept for scope and key that has not expired at
// now.
func (s *Store) IdempotentResponse(ctx context.Context, scope, key string, at time.Time) (*riskmap.IdempotentResponse, error) {
	return readOne(s, "read idempotency key", riskmap.IdempotentAnswerNotFound(key),
		func(scan func(...any) error) (*riskmap.IdempotentResponse, error) {
			r := &riskmap.IdempotentResponse{Scope: scope, Key: key}
			var created, expires string
			if err := scan(&r.RequestHash, &r.Status, &r.ContentType, &r.Location, &r.ETag, &r.Body, &created, &expires); err != nil {
				return nil, err
			}
			return r, parseTimes([]string{created, expires}, &r.CreatedAt, &r.ExpiresAt)
		}, s.r.QueryRowContext(ctx, `SELECT request_hash, status, content_type, location, etag, body,
    CAST(created_at AS TEXT), CAST(expires_at AS TEXT)
FROM idempotency_keys WHERE scope = ? AND key = ? AND expires_at > ?`, scope, key, formatTime(at)).Scan)
}
