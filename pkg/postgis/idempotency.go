package postgis

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"riskmap/pkg/riskmap"
)

// writeRecords keeps what rec returns for the unit u just written, in the write's
// transaction tx.
func (s *Store) writeRecords(ctx context.Context, tx pgx.Tx, u *riskmap.Unit, rec riskmap.RecordFunc) error {
	r, err := rec(u)
	if err != nil || r == nil {
		return err
	}
	if r.Author != nil {
		r.Author.UnitID = u.ID
		if err := setUnitAuthor(ctx, tx, r.Author); err != nil {
			return err
		}
	}
	return s.keepRecords(ctx, tx, r)
}

// keepRecords writes the audit row and the kept answer of r in the transaction tx.
func (s *Store) keepRecords(ctx context.Context, tx pgx.Tx, r *riskmap.WriteRecords) error {
	return r.Keep(func(e *riskmap.AuditEntry) error { return s.appendAudit(ctx, tx, e) },
		func(a *riskmap.IdempotentResponse) error { return s.putIdempotent(ctx, tx, a) })
}

// putIdempotent keeps the answer of a write made with an Idempotency-Key, after removing
// the answers that have expired. A key its scope holds already is ECONFLICT.
func (s *Store) putIdempotent(ctx context.Context, tx pgx.Tx, r *riskmap.IdempotentResponse) error {
	t := s.timestamp()
	if r.CreatedAt.IsZero() {
		r.CreatedAt = t
	}
	if r.ExpiresAt.IsZero() {
		r.ExpiresAt = r.CreatedAt.Add(riskmap.IdempotencyTTL)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM idempotency_keys WHERE expires_at <= $1", t); err != nil {
		return dbError("remove expired idempotency keys", err)
	}
	body := r.Body
	if body == nil {
		body = []byte{}
	}
	_, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, status, content_type, location, etag,
		body, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		r.Scope, r.Key, r.RequestHash, r.Status, r.ContentType, r.Location, r.ETag, body,
		micro(r.CreatedAt), micro(r.ExpiresAt))
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == sqlUniqueViolation {
		return riskmap.Errorf(riskmap.ECONFLICT, "幂等键 %q 已被另一个请求使用", r.Key)
	}
	return dbError("keep the answer of an idempotency key", err)
}

// IdempotentResponse returns the answer kept for scope and key that has not expired at
// now.
func (s *Store) IdempotentResponse(ctx context.Context, scope, key string, now time.Time) (*riskmap.IdempotentResponse, error) {
	r := &riskmap.IdempotentResponse{Scope: scope, Key: key}
	err := s.pool.QueryRow(ctx, `SELECT request_hash, status, content_type, location, etag, body, created_at, expires_at
		FROM idempotency_keys WHERE scope = $1 AND key = $2 AND expires_at > $3`, scope, key, micro(now)).
		Scan(&r.RequestHash, &r.Status, &r.ContentType, &r.Location, &r.ETag, &r.Body, &r.CreatedAt, &r.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, riskmap.IdempotentAnswerNotFound(key)
	}
	if err != nil {
		return nil, dbError("read idempotency key", err)
	}
	r.CreatedAt, r.ExpiresAt = r.CreatedAt.UTC(), r.ExpiresAt.UTC()
	return r, nil
}
