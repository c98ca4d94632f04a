package riskmap

import (
	"encoding/json"
	"time"
)

// This file holds what both stores decide alike when they write a session, an API token or
// an audit row: what is refused before the write, which times are defaulted, and the
// resolution the times take so that what a write returns equals what a read returns. A
// store passes its clock and its resolution (PostgreSQL's timestamptz keeps microseconds,
// a GeoPackage DATETIME milliseconds).

// atResolution is t in UTC truncated to res.
func atResolution(t time.Time, res time.Duration) time.Time { return t.UTC().Truncate(res) }

// orNow is t at res, or now at res when t is zero.
func orNow(t, now time.Time, res time.Duration) time.Time {
	if t.IsZero() {
		return atResolution(now, res)
	}
	return atResolution(t, res)
}

// optAtResolution is an optional time at res.
func optAtResolution(t *time.Time, res time.Duration) *time.Time {
	if t == nil {
		return nil
	}
	u := atResolution(*t, res)
	return &u
}

// ToStore checks a session to be stored (EINVALID without a token hash or an expiry time)
// and returns it as the store keeps it: CreatedAt defaults to now and LastSeenAt to
// CreatedAt, and every time is in UTC at the store's resolution res.
func (x Session) ToStore(now time.Time, res time.Duration) (Session, error) {
	if x.TokenHash == "" {
		return x, Errorf(EINVALID, "会话缺少令牌散列")
	}
	if x.ExpiresAt.IsZero() {
		return x, Errorf(EINVALID, "会话缺少过期时间")
	}
	x.CreatedAt = orNow(x.CreatedAt, now, res)
	x.LastSeenAt = orNow(x.LastSeenAt, x.CreatedAt, res)
	x.ExpiresAt = atResolution(x.ExpiresAt, res)
	return x, nil
}

// ToStore checks an API token to be stored (EINVALID without a token hash or with an
// unknown scope) and returns it as the store keeps it: CreatedAt defaults to now, and every
// time is in UTC at the store's resolution res.
func (t APIToken) ToStore(now time.Time, res time.Duration) (APIToken, error) {
	if t.TokenHash == "" {
		return t, Errorf(EINVALID, "API 令牌缺少散列")
	}
	if !ValidTokenScope(t.Scope) {
		return t, Errorf(EINVALID, "API 令牌的权限范围 %q 无效", t.Scope)
	}
	t.CreatedAt = orNow(t.CreatedAt, now, res)
	t.LastUsedAt = optAtResolution(t.LastUsedAt, res)
	t.RevokedAt = optAtResolution(t.RevokedAt, res)
	return t, nil
}

// Keep hands what f builds (nothing when f is nil) to keep, a store's writer of the
// records in the write's transaction.
func (f AccessRecordFunc) Keep(keep func(*WriteRecords) error) error {
	if f == nil {
		return nil
	}
	r, err := f()
	if err != nil {
		return err
	}
	return keep(r)
}

// WriteOrRestore runs write, which sets fields of *v as it goes (an ID, times), and puts
// *v back as it was when write fails: an object whose write was rolled back names no row.
func WriteOrRestore[T any](v *T, write func() error) error {
	old := *v
	err := write()
	if err != nil {
		*v = old
	}
	return err
}

// Audit paging: the default and the largest page.
const (
	AuditDefaultLimit = 100
	AuditMaxLimit     = 1000
)

// PageLimit is f.Limit with its default and its cap applied; EINVALID when negative.
func (f AuditFilter) PageLimit() (int, error) {
	switch {
	case f.Limit < 0:
		return 0, Errorf(EINVALID, "limit 不能为负数")
	case f.Limit == 0:
		return AuditDefaultLimit, nil
	case f.Limit > AuditMaxLimit:
		return AuditMaxLimit, nil
	}
	return f.Limit, nil
}

// ToStore checks an audit entry to be stored (EINVALID when Before or After is not JSON)
// and returns it as the store keeps it: At defaults to now, Count is at least 1, an empty
// Before or After is nil (NULL), and the times are in UTC at the store's resolution res
// (LastAt stays zero when it is).
func (e AuditEntry) ToStore(now time.Time, res time.Duration) (AuditEntry, error) {
	for _, f := range []struct {
		name string
		m    *json.RawMessage
	}{{"before", &e.Before}, {"after", &e.After}} {
		if len(*f.m) == 0 {
			*f.m = nil
			continue
		}
		if !json.Valid(*f.m) {
			return e, Errorf(EINVALID, "操作日志：%s 不是有效的 JSON", f.name)
		}
	}
	e.At = orNow(e.At, now, res)
	e.Count = max(e.Count, 1)
	if !e.LastAt.IsZero() {
		e.LastAt = atResolution(e.LastAt, res)
	}
	return e, nil
}
