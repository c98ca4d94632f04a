package postgis

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"riskmap/pkg/riskmap"
)

// AppendAudit stores an entry and sets its ID, and At when it is zero. The table takes no
// update or delete (sql/postgis/004_access.sql).
func (s *Store) AppendAudit(ctx context.Context, e *riskmap.AuditEntry) error {
	return s.appendAudit(ctx, s.pool, e)
}

// appendAudit is AppendAudit on q, a pool or a transaction.
func (s *Store) appendAudit(ctx context.Context, q querier, e *riskmap.AuditEntry) error {
	row, err := e.ToStore(s.timestamp(), time.Microsecond)
	if err != nil {
		return err
	}
	var lastAt pgtype.Timestamptz
	if !row.LastAt.IsZero() {
		lastAt = pgtype.Timestamptz{Time: row.LastAt, Valid: true}
	}
	err = q.QueryRow(ctx, `INSERT INTO audit_log (at, actor, role, action, outcome, status, method, path,
		client_addr, target_type, target_id, detail, before, after, count, last_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
		row.At, row.Actor, row.Role, row.Action, row.Outcome, row.Status, row.Method, row.Path,
		row.ClientAddr, row.TargetType, row.TargetID, row.Detail, []byte(row.Before), []byte(row.After), row.Count, lastAt).Scan(&e.ID)
	if err != nil {
		return dbError("append audit entry", err)
	}
	e.At, e.Count = row.At, row.Count
	return nil
}

// AuditEntries returns the entries f selects, newest first.
func (s *Store) AuditEntries(ctx context.Context, f riskmap.AuditFilter) ([]*riskmap.AuditEntry, error) {
	limit, err := f.PageLimit()
	if err != nil {
		return nil, err
	}
	q := &filterQuery{}
	if f.Actor != "" {
		q.add("actor = " + q.arg(f.Actor))
	}
	if f.Action != "" {
		q.add("action LIKE " + q.arg(escapeLike(f.Action)+"%") + ` ESCAPE '\'`)
	}
	if f.Outcome != "" {
		q.add("outcome = " + q.arg(f.Outcome))
	}
	if f.TargetType != "" {
		q.add("target_type = " + q.arg(f.TargetType))
	}
	if f.TargetID != "" {
		q.add("target_id = " + q.arg(f.TargetID))
	}
	if !f.Since.IsZero() {
		q.add("at >= " + q.arg(micro(f.Since)))
	}
	if !f.Until.IsZero() {
		q.add("at < " + q.arg(micro(f.Until)))
	}
	if f.BeforeID > 0 {
		q.add("id < " + q.arg(f.BeforeID))
	}
	text := `SELECT id, at, actor, role, action, outcome, status, method, path, client_addr,
		target_type, target_id, detail, before, after, count, last_at FROM audit_log` + q.sql() + " ORDER BY id DESC LIMIT " + q.arg(int64(limit))
	rows, err := s.pool.Query(ctx, text, q.args...)
	if err != nil {
		return nil, dbError("list audit entries", err)
	}
	es, err := collect(rows, func(r pgx.Rows) (*riskmap.AuditEntry, error) {
		e := &riskmap.AuditEntry{}
		var before, after []byte
		var lastAt pgtype.Timestamptz
		if err := r.Scan(&e.ID, &e.At, &e.Actor, &e.Role, &e.Action, &e.Outcome, &e.Status, &e.Method, &e.Path,
			&e.ClientAddr, &e.TargetType, &e.TargetID, &e.Detail, &before, &after, &e.Count, &lastAt); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		if lastAt.Valid {
			e.LastAt = lastAt.Time.UTC()
		}
		if before != nil {
			e.Before = json.RawMessage(before)
		}
		if after != nil {
			e.After = json.RawMessage(after)
		}
		return e, nil
	})
	if err != nil {
		return nil, dbError("list audit entries", err)
	}
	return es, nil
}
