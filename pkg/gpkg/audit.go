package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"riskmap/pkg/riskmap"
)

// nullText binds JSON as TEXT (a []byte would be stored as a BLOB), or NULL when there is
// none.
func nullText(m json.RawMessage) any {
	if m == nil {
		return nil
	}
	return string(m)
}

// AppendAudit stores an entry and sets its ID, and At when it is zero. The table's
// triggers refuse any update or delete (sql/gpkg/003_access.sql).
func (s *Store) AppendAudit(ctx context.Context, e *riskmap.AuditEntry) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return s.appendAudit(ctx, tx, e) })
}

// appendAudit is AppendAudit in the transaction tx. It sets e's ID, At and Count as
// written; if tx is rolled back they name no row.
func (s *Store) appendAudit(ctx context.Context, tx *sql.Tx, e *riskmap.AuditEntry) error {
	row, err := e.ToStore(now(), time.Millisecond)
	if err != nil {
		return err
	}
	var lastAt any
	if !row.LastAt.IsZero() {
		lastAt = formatTime(row.LastAt)
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO audit_log (at, actor, role, action, outcome, status, method, path,
    client_addr, target_type, target_id, detail, before, after, count, last_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		formatTime(row.At), row.Actor, row.Role, row.Action, row.Outcome, row.Status, row.Method, row.Path,
		row.ClientAddr, row.TargetType, row.TargetID, row.Detail, nullText(row.Before), nullText(row.After), row.Count, lastAt).Scan(&row.ID)
	if err != nil {
		return s.dbErr(err, "append audit entry")
	}
	e.ID, e.At, e.Count = row.ID, row.At, row.Count
	return nil
}

// AuditEntries returns the entries f selects, newest first.
func (s *Store) AuditEntries(ctx context.Context, f riskmap.AuditFilter) ([]*riskmap.AuditEntry, error) {
	limit, err := f.PageLimit()
	if err != nil {
		return nil, err
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
