package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"riskmap/pkg/riskmap"
)

// Audit paging: the default and the largest page.
const (
	auditDefaultLimit = 100
	auditMaxLimit     = 1000
)

// auditJSON is a Before or After value as bound: NULL when empty, refused when not JSON,
// and TEXT otherwise (a []byte would be stored as a BLOB).
func auditJSON(field string, m json.RawMessage) (any, error) {
	if len(m) == 0 {
		return nil, nil
	}
	if !json.Valid(m) {
		return nil, riskmap.Errorf(riskmap.EINVALID, "audit entry: %s is not valid JSON", field)
	}
	return string(m), nil
}

// AppendAudit stores an entry and sets its ID, and At when it is zero. The table's
// triggers refuse any update or delete (sql/gpkg/003_access.sql).
func (s *Store) AppendAudit(ctx context.Context, e *riskmap.AuditEntry) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return s.appendAudit(ctx, tx, e) })
}

// appendAudit is AppendAudit in the transaction tx. It sets e's ID, At and Count as
// written; if tx is rolled back they name no row.
func (s *Store) appendAudit(ctx context.Context, tx *sql.Tx, e *riskmap.AuditEntry) error {
	before, err := auditJSON("before", e.Before)
	if err != nil {
		return err
	}
	after, err := auditJSON("after", e.After)
	if err != nil {
		return err
	}
	count := max(e.Count, 1)
	var lastAt any
	if !e.LastAt.IsZero() {
		lastAt = formatTime(e.LastAt)
	}
	at := milliOr(e.At, now())
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO audit_log (at, actor, role, action, outcome, status, method, path,
    client_addr, target_type, target_id, detail, before, after, count, last_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		formatTime(at), e.Actor, e.Role, e.Action, e.Outcome, e.Status, e.Method, e.Path,
		e.ClientAddr, e.TargetType, e.TargetID, e.Detail, before, after, count, lastAt).Scan(&id)
	if err != nil {
		return s.dbErr(err, "append audit entry")
	}
	e.ID, e.At, e.Count = id, at, count
	return nil
}

// AuditEntries returns the entries f selects, newest first.
func (s *Store) AuditEntries(ctx context.Context, f riskmap.AuditFilter) ([]*riskmap.AuditEntry, error) {
	limit := f.Limit
	switch {
	case limit < 0:
		return nil, riskmap.Errorf(riskmap.EINVALID, "limit must not be negative")
	case limit == 0:
		limit = auditDefaultLimit
	case limit > auditMaxLimit:
		limit = auditMaxLimit
	}
	var conds []string
	var args []any
	add := func(cond string, vs ...any) {
		conds = append(conds, cond)
		args = append(args, vs...)
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if p := f.Action; p != "" {
		// A range, not LIKE: no wildcard to escape, and the index serves it.
		if hi, ok := prefixEnd(p); ok {
			add("action >= ? AND action < ?", p, hi)
		} else {
			add("action >= ?", p)
		}
	}
	if f.Outcome != "" {
		add("outcome = ?", f.Outcome)
	}
	if f.TargetType != "" {
		add("target_type = ?", f.TargetType)
	}
	if f.TargetID != "" {
		add("target_id = ?", f.TargetID)
	}
	// DATETIME text of one format compares as the times do.
	if !f.Since.IsZero() {
		add("at >= ?", formatTime(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", formatTime(f.Until))
	}
	if f.BeforeID > 0 {
		add("id < ?", f.BeforeID)
	}
	q := `SELECT id, CAST(at AS TEXT), actor, role, action, outcome, status, method, path, client_addr,
    target_type, target_id, detail, before, after, count, CAST(last_at AS TEXT) FROM audit_log`
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.dbErr(err, "list audit entries")
	}
	defer rows.Close()
	var out []*riskmap.AuditEntry
	for rows.Next() {
		e := &riskmap.AuditEntry{}
		var at string
		var before, after, lastAt sql.NullString
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Role, &e.Action, &e.Outcome, &e.Status, &e.Method, &e.Path,
			&e.ClientAddr, &e.TargetType, &e.TargetID, &e.Detail, &before, &after, &e.Count, &lastAt); err != nil {
			return nil, s.dbErr(err, "list audit entries")
		}
		if e.At, err = parseTime(at); err != nil {
			return nil, err
		}
		if lastAt.Valid {
			if e.LastAt, err = parseTime(lastAt.String); err != nil {
				return nil, err
			}
		}
		if before.Valid {
			e.Before = json.RawMessage(before.String)
		}
		if after.Valid {
			e.After = json.RawMessage(after.String)
		}
		out = append(out, e)
	}
	return out, s.dbErr(rows.Err(), "list audit entries")
}
