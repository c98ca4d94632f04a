package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// base is a time with milliseconds, the finest both stores keep, in China's time zone:
// stores must hand back the same instant in UTC.
var base = time.Date(2026, 5, 1, 16, 0, 0, 123_000_000, time.FixedZone("CST", 8*3600))

func wantTime(t *testing.T, what string, want, got time.Time) {
	t.Helper()
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("%s: want %v in UTC, got %v", what, want.UTC(), got)
	}
}

func wantOptTime(t *testing.T, what string, want, got *time.Time) {
	t.Helper()
	switch {
	case want == nil && got == nil:
	case want == nil || got == nil:
		t.Errorf("%s: want %v, got %v", what, want, got)
	default:
		wantTime(t, what, *want, *got)
	}
}

func mustUser(t *testing.T, s riskmap.Store, name string) *riskmap.User {
	t.Helper()
	u := &riskmap.User{Name: name, Role: riskmap.RoleExpert, PasswordHash: "$argon2id$v=19$" + name}
	must(t, s.CreateUserRecorded(ctx(), u, nil))
	return u
}

func testSessions(t *testing.T, open Opener) {
	s := open(t)
	u := mustUser(t, s, "expert1")
	other := mustUser(t, s, "expert2")
	newSession := func(hash string, userID int64, created time.Time) *riskmap.Session {
		return &riskmap.Session{TokenHash: hash, UserID: userID, CSRF: "csrf-" + hash, CreatedAt: created,
			LastSeenAt: created, ExpiresAt: created.Add(12 * time.Hour), ClientAddr: "192.0.2.7", UserAgent: "Mozilla/5.0 测试"}
	}
	t.Run("OK", func(t *testing.T) {
		x := newSession("h-ok", u.ID, base)
		must(t, s.CreateSession(ctx(), x))
		got, err := s.SessionByHash(ctx(), "h-ok")
		must(t, err)
		if got.TokenHash != "h-ok" || got.UserID != u.ID || got.CSRF != "csrf-h-ok" || got.ClientAddr != "192.0.2.7" || got.UserAgent != "Mozilla/5.0 测试" {
			t.Fatalf("session round trip: %+v", got)
		}
		wantTime(t, "created_at", base, got.CreatedAt)
		wantTime(t, "last_seen_at", base, got.LastSeenAt)
		wantTime(t, "expires_at", base.Add(12*time.Hour), got.ExpiresAt)

		later := base.Add(90 * time.Second)
		must(t, s.TouchSession(ctx(), "h-ok", later))
		got, err = s.SessionByHash(ctx(), "h-ok")
		must(t, err)
		wantTime(t, "last_seen_at after touch", later, got.LastSeenAt)
		wantTime(t, "created_at after touch", base, got.CreatedAt)

		must(t, s.DeleteSession(ctx(), "h-ok"))
		_, err = s.SessionByHash(ctx(), "h-ok")
		wantCode(t, err, riskmap.ENOTFOUND)
		must(t, s.DeleteSession(ctx(), "h-ok")) // ending an ended session is no error
	})
	t.Run("OKDefaultTimes", func(t *testing.T) {
		x := &riskmap.Session{TokenHash: "h-default", UserID: u.ID, CSRF: "c", ExpiresAt: time.Now().Add(time.Hour)}
		must(t, s.CreateSession(ctx(), x))
		if x.CreatedAt.IsZero() || !x.LastSeenAt.Equal(x.CreatedAt) {
			t.Fatalf("CreateSession must default CreatedAt to now and LastSeenAt to it: %+v", x)
		}
		got, err := s.SessionByHash(ctx(), "h-default")
		must(t, err)
		wantTime(t, "created_at", x.CreatedAt, got.CreatedAt)
		wantTime(t, "expires_at", x.ExpiresAt, got.ExpiresAt)
		must(t, s.DeleteSession(ctx(), "h-default"))
	})
	t.Run("ErrDuplicate", func(t *testing.T) {
		must(t, s.CreateSession(ctx(), newSession("h-dup", u.ID, base)))
		wantCode(t, s.CreateSession(ctx(), newSession("h-dup", other.ID, base)), riskmap.ECONFLICT)
		got, err := s.SessionByHash(ctx(), "h-dup")
		must(t, err)
		if got.UserID != u.ID {
			t.Fatalf("a refused duplicate must not replace the session: %+v", got)
		}
		must(t, s.DeleteSession(ctx(), "h-dup"))
	})
	t.Run("ErrUnknownUser", func(t *testing.T) {
		wantCode(t, s.CreateSession(ctx(), newSession("h-ghost", 999999, base)), riskmap.ENOTFOUND)
	})
	t.Run("ErrTouchEnded", func(t *testing.T) {
		wantCode(t, s.TouchSession(ctx(), "h-never", base), riskmap.ENOTFOUND)
	})
	t.Run("DeleteUserSessionsOK", func(t *testing.T) {
		must(t, s.CreateSession(ctx(), newSession("h-u1", u.ID, base)))
		must(t, s.CreateSession(ctx(), newSession("h-u2", u.ID, base)))
		must(t, s.CreateSession(ctx(), newSession("h-o1", other.ID, base)))
		n, err := s.DeleteUserSessions(ctx(), u.ID)
		wantEnded(t, s, "DeleteUserSessions", n, err, []string{"h-u1", "h-u2"}, "h-o1", "another user's session")
		must(t, s.DeleteSession(ctx(), "h-o1"))
	})
	t.Run("DeleteExpiredSessionsOK", func(t *testing.T) {
		now := base.Add(24 * time.Hour)
		idle := 30 * time.Minute
		expired := newSession("h-expired", u.ID, now.Add(-time.Hour))
		expired.ExpiresAt = now // an expiry of exactly now has passed
		idleOne := newSession("h-idle", u.ID, now.Add(-2*time.Hour))
		idleOne.LastSeenAt = now.Add(-idle) // idle for exactly idle
		fresh := newSession("h-fresh", u.ID, now.Add(-2*time.Hour))
		fresh.LastSeenAt = now.Add(-idle + time.Millisecond)
		for _, x := range []*riskmap.Session{expired, idleOne, fresh} {
			must(t, s.CreateSession(ctx(), x))
		}
		n, err := s.DeleteExpiredSessions(ctx(), now, idle)
		wantEnded(t, s, "DeleteExpiredSessions", n, err, []string{"h-expired", "h-idle"}, "h-fresh", "a fresh session")
	})
}

// wantEnded checks a deletion of sessions (op, which returned n and err): it ended the
// sessions gone, and only those, and the session kept (described as which) stays.
func wantEnded(t *testing.T, s riskmap.Store, op string, n int, err error, gone []string, kept, which string) {
	t.Helper()
	must(t, err)
	if n != len(gone) {
		t.Fatalf("%s: want %d, got %d", op, len(gone), n)
	}
	for _, h := range gone {
		_, err := s.SessionByHash(ctx(), h)
		wantCode(t, err, riskmap.ENOTFOUND)
	}
	if _, err := s.SessionByHash(ctx(), kept); err != nil {
		t.Fatalf("%s must stay: %v", which, err)
	}
}

func testAPITokens(t *testing.T, open Opener) {
	s := open(t)
	u := mustUser(t, s, "脚本用户")
	admin := mustUser(t, s, "admin")
	t1 := &riskmap.APIToken{Name: "夜间导入", UserID: u.ID, TokenHash: "th-1", CreatedBy: "admin", CreatedAt: base}
	t2 := &riskmap.APIToken{Name: "巡检", UserID: admin.ID, TokenHash: "th-2", CreatedBy: "admin"}
	must(t, s.CreateAPIToken(ctx(), t1))
	must(t, s.CreateAPIToken(ctx(), t2))
	if t1.ID == 0 || t2.ID == 0 || t1.ID == t2.ID || t2.CreatedAt.IsZero() {
		t.Fatalf("CreateAPIToken must set distinct ids and CreatedAt: %+v %+v", t1, t2)
	}
	t.Run("ByHashOK", func(t *testing.T) {
		got, err := s.APITokenByHash(ctx(), "th-1")
		must(t, err)
		if got.ID != t1.ID || got.Name != "夜间导入" || got.UserID != u.ID || got.UserName != "脚本用户" ||
			got.TokenHash != "th-1" || got.CreatedBy != "admin" || got.LastUsedAt != nil || got.RevokedAt != nil {
			t.Fatalf("token round trip: %+v", got)
		}
		wantTime(t, "created_at", base, got.CreatedAt)
	})
	t.Run("ErrByHashNotFound", func(t *testing.T) {
		_, err := s.APITokenByHash(ctx(), "th-none")
		wantCode(t, err, riskmap.ENOTFOUND)
	})
	t.Run("ErrDuplicateHash", func(t *testing.T) {
		wantCode(t, s.CreateAPIToken(ctx(), &riskmap.APIToken{Name: "x", UserID: u.ID, TokenHash: "th-1"}), riskmap.ECONFLICT)
	})
	t.Run("ErrUnknownUser", func(t *testing.T) {
		wantCode(t, s.CreateAPIToken(ctx(), &riskmap.APIToken{Name: "x", UserID: 999999, TokenHash: "th-ghost"}), riskmap.ENOTFOUND)
	})
	t.Run("ListNewestFirstOK", func(t *testing.T) {
		ts, err := s.APITokens(ctx())
		must(t, err)
		if len(ts) != 2 || ts[0].ID != t2.ID || ts[1].ID != t1.ID || ts[0].UserName != "admin" || ts[1].UserName != "脚本用户" {
			t.Fatalf("APITokens: %+v", ts)
		}
	})
	t.Run("TouchOK", func(t *testing.T) {
		used := base.Add(time.Hour)
		must(t, s.TouchAPIToken(ctx(), t1.ID, used))
		got, err := s.APITokenByHash(ctx(), "th-1")
		must(t, err)
		wantOptTime(t, "last_used_at", &used, got.LastUsedAt)
		wantCode(t, s.TouchAPIToken(ctx(), 999999, used), riskmap.ENOTFOUND)
	})
	t.Run("RevokeOK", func(t *testing.T) {
		at := base.Add(2 * time.Hour)
		must(t, s.RevokeAPIToken(ctx(), t1.ID, at))
		// A second revocation keeps the first time.
		must(t, s.RevokeAPIToken(ctx(), t1.ID, at.Add(time.Hour)))
		got, err := s.APITokenByHash(ctx(), "th-1")
		must(t, err)
		wantOptTime(t, "revoked_at", &at, got.RevokedAt)
		other, err := s.APITokenByHash(ctx(), "th-2")
		must(t, err)
		if other.RevokedAt != nil {
			t.Fatalf("revoking one token must leave the other: %+v", other)
		}
		wantCode(t, s.RevokeAPIToken(ctx(), 999999, at), riskmap.ENOTFOUND)
	})
}

func testAudit(t *testing.T, open Opener) {
	s := open(t)
	entries := []*riskmap.AuditEntry{
		{At: base, Actor: "admin", Role: riskmap.RoleAdmin, Action: "session.login", Outcome: riskmap.OutcomeOK, Status: 200,
			Method: "POST", Path: "/api/session", ClientAddr: "192.0.2.1", TargetType: "session"},
		{At: base.Add(time.Minute), Actor: "专家甲", Role: riskmap.RoleExpert, Action: "unit.create", Outcome: riskmap.OutcomeOK,
			Status: 201, Method: "POST", Path: "/api/units", TargetType: "unit", TargetID: "7",
			After: json.RawMessage(`{"code": "U-7",  "grade":"red"}`)},
		{At: base.Add(2 * time.Minute), Actor: "专家甲", Role: riskmap.RoleExpert, Action: "unit.update", Outcome: riskmap.OutcomeOK,
			Status: 200, Method: "PUT", Path: "/api/units/7", TargetType: "unit", TargetID: "7",
			Before: json.RawMessage(`{"code": "U-7",  "grade":"red"}`), After: json.RawMessage(`{"grade":"blue","code":"U-7"}`),
			Detail: "等级 red → blue"},
		{At: base.Add(3 * time.Minute), Actor: "dept", Role: riskmap.RoleDepartment, Action: "units.export", Outcome: riskmap.OutcomeDenied,
			Status: 403, Method: "GET", Path: "/api/units.csv"},
		{At: base.Add(4 * time.Minute), Actor: "mallory", Action: "unit_x.probe", Outcome: riskmap.OutcomeFailed, Status: 400,
			Method: "GET", Path: "/api/x"},
		{At: base.Add(5 * time.Minute), Actor: "", Action: "deny", Outcome: riskmap.OutcomeDenied, Status: 401, Method: "GET",
			Path: "/api/users", Detail: "anonymous"},
	}
	for _, e := range entries {
		must(t, s.AppendAudit(ctx(), e))
	}
	for i := 1; i < len(entries); i++ {
		if entries[i].ID <= entries[i-1].ID {
			t.Fatalf("AppendAudit must hand out increasing ids: %d then %d", entries[i-1].ID, entries[i].ID)
		}
	}
	actions := func(es []*riskmap.AuditEntry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.Action)
		}
		return out
	}
	t.Run("RoundTripOK", func(t *testing.T) {
		es, err := s.AuditEntries(ctx(), riskmap.AuditFilter{TargetType: "unit", TargetID: "7", Action: "unit.update"})
		must(t, err)
		if len(es) != 1 {
			t.Fatalf("want the one update, got %v", actions(es))
		}
		got, want := es[0], entries[2]
		wantTime(t, "at", want.At, got.At)
		// JSON is kept as logged, spacing and key order included.
		if string(got.Before) != string(want.Before) || string(got.After) != string(want.After) {
			t.Errorf("before/after: want %s / %s, got %s / %s", want.Before, want.After, got.Before, got.After)
		}
		g, w := *got, *want
		g.At, w.At, g.Before, w.Before, g.After, w.After = time.Time{}, time.Time{}, nil, nil, nil, nil
		if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", w) {
			t.Errorf("entry round trip:\nwant %+v\n got %+v", w, g)
		}
	})
	t.Run("NullJSONOK", func(t *testing.T) {
		es, err := s.AuditEntries(ctx(), riskmap.AuditFilter{Action: "session.login"})
		must(t, err)
		if len(es) != 1 || es[0].Before != nil || es[0].After != nil {
			t.Fatalf("an entry without before/after must read back nil: %+v", es)
		}
	})
	t.Run("NewestFirstOK", func(t *testing.T) {
		es, err := s.AuditEntries(ctx(), riskmap.AuditFilter{})
		must(t, err)
		want := []string{"deny", "unit_x.probe", "units.export", "unit.update", "unit.create", "session.login"}
		if !slices.Equal(actions(es), want) {
			t.Fatalf("want %v, got %v", want, actions(es))
		}
	})
	cases := []struct {
		name string
		f    riskmap.AuditFilter
		want []string
	}{
		{"ActionPrefixOK", riskmap.AuditFilter{Action: "unit."}, []string{"unit.update", "unit.create"}},
		// _ and % are no wildcards: "unit_" must not match "units.export" or "unit.update".
		{"ActionPrefixLiteralUnderscoreOK", riskmap.AuditFilter{Action: "unit_"}, []string{"unit_x.probe"}},
		{"ActionPrefixLiteralPercentOK", riskmap.AuditFilter{Action: "unit%"}, nil},
		{"ActionWholeOK", riskmap.AuditFilter{Action: "deny"}, []string{"deny"}},
		{"ActorOK", riskmap.AuditFilter{Actor: "专家甲"}, []string{"unit.update", "unit.create"}},
		{"OutcomeOK", riskmap.AuditFilter{Outcome: riskmap.OutcomeDenied}, []string{"deny", "units.export"}},
		{"TargetOK", riskmap.AuditFilter{TargetType: "unit", TargetID: "7"}, []string{"unit.update", "unit.create"}},
		{"SinceInclusiveUntilExclusiveOK", riskmap.AuditFilter{Since: base.Add(time.Minute), Until: base.Add(3 * time.Minute)},
			[]string{"unit.update", "unit.create"}},
		{"BeforeIDOK", riskmap.AuditFilter{BeforeID: entries[2].ID}, []string{"unit.create", "session.login"}},
		{"CombinedOK", riskmap.AuditFilter{Actor: "专家甲", Action: "unit.", Since: base.Add(2 * time.Minute)}, []string{"unit.update"}},
		{"NoMatchOK", riskmap.AuditFilter{Actor: "nobody"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			es, err := s.AuditEntries(ctx(), tc.f)
			must(t, err)
			if !slices.Equal(actions(es), tc.want) {
				t.Fatalf("want %v, got %v", tc.want, actions(es))
			}
		})
	}
	t.Run("PagingOK", func(t *testing.T) {
		var got []string
		f := riskmap.AuditFilter{Limit: 4}
		for range 10 {
			es, err := s.AuditEntries(ctx(), f)
			must(t, err)
			if len(es) > 4 {
				t.Fatalf("a page must hold at most Limit entries, got %d", len(es))
			}
			got = append(got, actions(es)...)
			if len(es) < 4 {
				break
			}
			f.BeforeID = es[len(es)-1].ID
		}
		want := []string{"deny", "unit_x.probe", "units.export", "unit.update", "unit.create", "session.login"}
		if !slices.Equal(got, want) {
			t.Fatalf("pages: want %v, got %v", want, got)
		}
	})
	t.Run("DefaultAtOK", func(t *testing.T) {
		before := time.Now().Add(-time.Second)
		e := &riskmap.AuditEntry{Action: "session.logout", Outcome: riskmap.OutcomeOK, Status: 204}
		must(t, s.AppendAudit(ctx(), e))
		if e.At.Before(before) || e.At.After(time.Now().Add(time.Second)) || e.At.Location() != time.UTC {
			t.Fatalf("AppendAudit must set At to now in UTC, got %v", e.At)
		}
	})
	t.Run("ErrBadJSON", func(t *testing.T) {
		e := &riskmap.AuditEntry{Action: "unit.update", Outcome: riskmap.OutcomeOK, Before: json.RawMessage(`{"a":`)}
		wantCode(t, s.AppendAudit(ctx(), e), riskmap.EINVALID)
	})
	t.Run("ErrNegativeLimit", func(t *testing.T) {
		_, err := s.AuditEntries(ctx(), riskmap.AuditFilter{Limit: -1})
		wantCode(t, err, riskmap.EINVALID)
	})
}

// testAuditLimits has a store of its own: it needs more than a thousand entries.
func testAuditLimits(t *testing.T, open Opener) {
	s := open(t)
	for i := range 1005 {
		must(t, s.AppendAudit(ctx(), &riskmap.AuditEntry{At: base.Add(time.Duration(i) * time.Second),
			Actor: "bulk", Action: "unit.update", Outcome: riskmap.OutcomeOK, Status: 200}))
	}
	for _, tc := range []struct {
		name  string
		limit int
		want  int
	}{{"DefaultLimitOK", 0, 100}, {"LimitOK", 7, 7}, {"LimitCappedOK", 5000, 1000}} {
		t.Run(tc.name, func(t *testing.T) {
			es, err := s.AuditEntries(ctx(), riskmap.AuditFilter{Limit: tc.limit})
			must(t, err)
			if len(es) != tc.want {
				t.Fatalf("limit %d: want %d entries, got %d", tc.limit, tc.want, len(es))
			}
		})
	}
}

// approved collects the approved register or fails.
func approved(t *testing.T, s riskmap.Store) []*riskmap.ApprovedUnit {
	t.Helper()
	var out []*riskmap.ApprovedUnit
	for a, err := range s.ApprovedUnits(ctx()) {
		must(t, err)
		out = append(out, a)
	}
	return out
}

// approvedOf returns unit id's row of the approved register, or nil.
func approvedOf(as []*riskmap.ApprovedUnit, id int64) *riskmap.ApprovedUnit {
	for _, a := range as {
		if a.UnitID == id {
			return a
		}
	}
	return nil
}

// wantApproved checks that a is the approved revision u.
func wantApproved(t *testing.T, a *riskmap.ApprovedUnit, u *riskmap.Unit) {
	t.Helper()
	if a == nil {
		t.Fatalf("unit %d (%s) is missing from the approved register", u.ID, u.Code)
	}
	if a.Version != u.Version || a.Code != u.Code || a.Name != u.Name || a.Category != u.Category ||
		a.RegionCode != u.RegionCode || a.Grade != u.Grade || a.RiskValue != u.RiskValue || !orb.Equal(a.Geometry, u.Geometry) {
		t.Fatalf("approved revision of unit %d: got %+v, want version %d %s %s %v %v", u.ID, a, u.Version, u.Code, u.Grade, u.RiskValue, u.Geometry)
	}
}

func testApprovedRegister(t *testing.T, open Opener) {
	s := open(t)
	a := NewUnit("AR-A", point) // approved, red
	must(t, s.CreateUnit(ctx(), a))
	b := NewUnit("AR-B", line)
	b.Status = riskmap.StatusDraft
	must(t, s.CreateUnit(ctx(), b))
	approvedA := *a

	t.Run("CreateApprovedOK", func(t *testing.T) {
		as := approved(t, s)
		if len(as) != 1 {
			t.Fatalf("only the approved unit belongs in the register, got %d rows", len(as))
		}
		wantApproved(t, as[0], a)
		wantTime(t, "approved_at", a.UpdatedAt, as[0].ApprovedAt)
		if as[0].ApprovedBy != "" {
			t.Errorf("approver unknown to CreateUnit, got %q", as[0].ApprovedBy)
		}
	})
	t.Run("DraftKeepsApprovedRevisionOK", func(t *testing.T) {
		a.Status, a.Grade, a.RiskValue, a.Name = riskmap.StatusDraft, riskmap.GradeBlue, 2, "改后的名称"
		a.Geometry = orb.Point{102.95, 24.70}
		must(t, s.UpdateUnit(ctx(), a)) // version 2, draft
		a.Status = riskmap.StatusSubmitted
		must(t, s.UpdateUnit(ctx(), a)) // version 3, submitted
		as := approved(t, s)
		if len(as) != 1 {
			t.Fatalf("want 1 row, got %d", len(as))
		}
		wantApproved(t, as[0], &approvedA)
	})
	t.Run("StaleUpdateChangesNothingOK", func(t *testing.T) {
		stale := *a
		stale.Version, stale.Status, stale.Grade = 1, riskmap.StatusApproved, riskmap.GradeOrange
		wantCode(t, s.UpdateUnit(ctx(), &stale), riskmap.EPRECONDITION)
		wantApproved(t, approvedOf(approved(t, s), a.ID), &approvedA)
	})
	t.Run("ApproveAgainOK", func(t *testing.T) {
		a.Status = riskmap.StatusApproved
		must(t, s.UpdateUnit(ctx(), a)) // version 4
		b.Status = riskmap.StatusApproved
		must(t, s.UpdateUnit(ctx(), b))
		as := approved(t, s)
		if len(as) != 2 || as[0].UnitID != a.ID || as[1].UnitID != b.ID {
			t.Fatalf("want units %d and %d in id order, got %+v", a.ID, b.ID, as)
		}
		wantApproved(t, as[0], a)
		if as[0].Version != 4 || as[0].Grade != riskmap.GradeBlue {
			t.Fatalf("the new approved revision must replace the old: %+v", as[0])
		}
		wantTime(t, "approved_at", a.UpdatedAt, as[0].ApprovedAt)
		wantApproved(t, as[1], b)
	})
	t.Run("SetUnitAuthorRecordsApproverOK", func(t *testing.T) {
		at := base
		must(t, s.SetUnitAuthor(ctx(), &riskmap.UnitAuthor{UnitID: a.ID, CreatedBy: "甲", UpdatedBy: "乙",
			ReviewedBy: "专家丙", ReviewedAt: &at, ApprovedVersion: a.Version}))
		if got := approvedOf(approved(t, s), a.ID); got == nil || got.ApprovedBy != "专家丙" {
			t.Fatalf("the reviewer of the approved revision is its approver: %+v", got)
		}
		// A reviewer of a later revision that was not approved is not the approver.
		a.Status = riskmap.StatusSubmitted
		must(t, s.UpdateUnit(ctx(), a))
		must(t, s.SetUnitAuthor(ctx(), &riskmap.UnitAuthor{UnitID: a.ID, UpdatedBy: "乙",
			ReviewedBy: "专家丁", ReviewedAt: &at, ApprovedVersion: 4}))
		if got := approvedOf(approved(t, s), a.ID); got == nil || got.ApprovedBy != "专家丙" || got.Version != 4 {
			t.Fatalf("a reviewer of another revision must not become the approver: %+v", got)
		}
	})
	t.Run("RetireRemovesOK", func(t *testing.T) {
		_, err := s.RetireUnit(ctx(), a.ID, a.Version)
		must(t, err)
		as := approved(t, s)
		if len(as) != 1 || as[0].UnitID != b.ID {
			t.Fatalf("a retired unit leaves the approved register: %+v", as)
		}
	})
	t.Run("BulkOK", func(t *testing.T) {
		var in []*riskmap.Unit
		for i := range 5 {
			u := NewUnit(fmt.Sprintf("AR-BULK-%d", i), orb.Point{102.8 + float64(i)*0.01, 24.6})
			if i%2 == 1 {
				u.Status = riskmap.StatusDraft
			}
			u.Grade, u.RiskValue = riskmap.GradeYellow, float64(6+i)
			in = append(in, u)
		}
		n, err := s.BulkInsertUnits(ctx(), slices.Values(in), nil)
		must(t, err)
		if n != 5 {
			t.Fatalf("bulk: want 5, got %d", n)
		}
		as := approved(t, s)
		var codes []string
		for _, x := range as {
			codes = append(codes, x.Code)
		}
		if want := []string{"AR-B", "AR-BULK-0", "AR-BULK-2", "AR-BULK-4"}; !slices.Equal(codes, want) {
			t.Fatalf("approved register after bulk: want %v, got %v", want, codes)
		}
		for _, x := range as[1:] {
			i := int(x.Code[len(x.Code)-1] - '0')
			if x.Version != 1 || x.Grade != riskmap.GradeYellow || x.RiskValue != float64(6+i) ||
				!orb.Equal(x.Geometry, in[i].Geometry) || x.ApprovedAt.IsZero() {
				t.Fatalf("bulk-loaded approved unit: %+v", x)
			}
			u, err := s.GetUnit(ctx(), x.UnitID)
			must(t, err)
			if u.Code != x.Code || u.Status != riskmap.StatusApproved {
				t.Fatalf("approved row %d names unit %s (%s)", x.UnitID, u.Code, u.Status)
			}
		}
	})
	t.Run("EarlyBreakOK", func(t *testing.T) {
		n := 0
		for _, err := range s.ApprovedUnits(ctx()) {
			must(t, err)
			n++
			break
		}
		if n != 1 {
			t.Fatalf("want one row before the break, got %d", n)
		}
		if len(approved(t, s)) != 4 {
			t.Fatal("the store must still answer after a broken iteration")
		}
	})
}

// pubUnits collects a publication's units or fails.
func pubUnits(t *testing.T, s riskmap.Store, number int64) []*riskmap.ApprovedUnit {
	t.Helper()
	var out []*riskmap.ApprovedUnit
	for a, err := range s.PublicationUnits(ctx(), number) {
		must(t, err)
		out = append(out, a)
	}
	return out
}

func unitKeys(as []*riskmap.ApprovedUnit) []string {
	var out []string
	for _, a := range as {
		out = append(out, fmt.Sprintf("%d@%d:%s", a.UnitID, a.Version, a.Grade))
	}
	return out
}

func testPublications(t *testing.T, open Opener) {
	s := open(t)
	t.Run("ErrNothingPublished", func(t *testing.T) {
		_, err := s.LatestPublication(ctx())
		wantCode(t, err, riskmap.ENOTFOUND)
		ps, err := s.Publications(ctx())
		must(t, err)
		if len(ps) != 0 {
			t.Fatalf("want no publications, got %d", len(ps))
		}
	})
	a := NewUnit("PUB-A", point)
	b := NewUnit("PUB-B", poly)
	b.Grade, b.RiskValue = riskmap.GradeOrange, 12
	c := NewUnit("PUB-C", line)
	c.Status = riskmap.StatusDraft
	for _, u := range []*riskmap.Unit{a, b, c} {
		must(t, s.CreateUnit(ctx(), u))
	}
	// The summary is kept as returned: odd spacing and key order must survive.
	const regions1 = `[{"code": "530481",  "grade":"red", "units": 2}]`
	var seen []string
	var first bool
	p1 := &riskmap.Publication{CreatedBy: "admin", Note: "2026 年第一期", CreatedAt: base}
	ch1, err := s.Publish(ctx(), p1, func(ch *riskmap.PublicationChange) (*riskmap.PublicationSummary, error) {
		seen, first = unitKeys(ch.Added), ch.Previous == nil && len(ch.Removed) == 0
		return &riskmap.PublicationSummary{Regions: json.RawMessage(regions1), Counts: json.RawMessage(`{"n": 1}`)}, nil
	})
	must(t, err)
	want1 := []string{fmt.Sprintf("%d@1:red", a.ID), fmt.Sprintf("%d@1:orange", b.ID)}
	t.Run("PublishOK", func(t *testing.T) {
		if !slices.Equal(seen, want1) || !first || !slices.Equal(unitKeys(ch1.Added), want1) {
			t.Fatalf("the first publication adds the approved register in unit order: want %v, got %v (first %v)", want1, seen, first)
		}
		if p1.Number != 1 || p1.UnitCount != 2 || string(p1.Regions) != regions1 {
			t.Fatalf("Publish must set number 1, unit count 2 and the regions: %+v", p1)
		}
		wantTime(t, "created_at", base, p1.CreatedAt)
		got, err := s.GetPublication(ctx(), 1)
		must(t, err)
		if got.Number != 1 || got.CreatedBy != "admin" || got.Note != "2026 年第一期" || got.UnitCount != 2 ||
			string(got.Regions) != regions1 {
			t.Fatalf("publication 1: %+v", got)
		}
		wantTime(t, "created_at", base, got.CreatedAt)
		units := pubUnits(t, s, 1)
		if !slices.Equal(unitKeys(units), want1) {
			t.Fatalf("publication 1 units: want %v, got %v", want1, unitKeys(units))
		}
		wantApproved(t, units[0], a)
		wantApproved(t, units[1], b)
	})

	// Later approvals and retirements must not touch publication 1.
	a.Grade, a.RiskValue, a.Geometry = riskmap.GradeYellow, 8, orb.Point{103, 25}
	must(t, s.UpdateUnit(ctx(), a)) // approved, version 2
	c.Status = riskmap.StatusApproved
	must(t, s.UpdateUnit(ctx(), c))
	_, err = s.RetireUnit(ctx(), b.ID, b.Version)
	must(t, err)
	p2 := &riskmap.Publication{CreatedBy: "admin2"}
	var change2 *riskmap.PublicationChange
	var register2 []string
	_, err = s.Publish(ctx(), p2, func(ch *riskmap.PublicationChange) (*riskmap.PublicationSummary, error) {
		change2 = ch
		all, err := ch.Register()
		register2 = unitKeys(all)
		return &riskmap.PublicationSummary{Regions: json.RawMessage(`[]`)}, err
	})
	must(t, err)
	want2 := []string{fmt.Sprintf("%d@2:yellow", a.ID), fmt.Sprintf("%d@2:red", c.ID)}
	gone2 := []string{fmt.Sprintf("%d@1:red", a.ID), fmt.Sprintf("%d@1:orange", b.ID)}
	t.Run("SecondPublishOK", func(t *testing.T) {
		if p2.Number != 2 || p2.UnitCount != 2 || p2.CreatedAt.IsZero() {
			t.Fatalf("second publication: %+v", p2)
		}
		if got := unitKeys(pubUnits(t, s, 2)); !slices.Equal(got, want2) {
			t.Fatalf("publication 2 units: want %v, got %v", want2, got)
		}
	})
	t.Run("PublishSeesChangeOK", func(t *testing.T) {
		if change2.Previous == nil || change2.Previous.Number != 1 || string(change2.Previous.Counts) != `{"n": 1}` {
			t.Fatalf("summarize must see the publication before, with the counts it kept: %+v", change2.Previous)
		}
		if got := unitKeys(change2.Added); !slices.Equal(got, want2) {
			t.Fatalf("added (a new version, a newly approved unit): want %v, got %v", want2, got)
		}
		if got := unitKeys(change2.Removed); !slices.Equal(got, gone2) {
			t.Fatalf("removed (the old version, a retired unit): want %v, got %v", gone2, got)
		}
		if !slices.Equal(register2, want2) {
			t.Fatalf("Register must read the approved register: want %v, got %v", want2, register2)
		}
		wantApproved(t, change2.Removed[1], b)
	})
	t.Run("PublicationChangesOK", func(t *testing.T) {
		ch, err := s.PublicationChanges(ctx(), 1, 2)
		must(t, err)
		if !slices.Equal(unitKeys(ch.Added), want2) || !slices.Equal(unitKeys(ch.Removed), gone2) {
			t.Fatalf("changes 1→2: added %v, removed %v", unitKeys(ch.Added), unitKeys(ch.Removed))
		}
		ch, err = s.PublicationChanges(ctx(), 0, 2)
		must(t, err)
		if !slices.Equal(unitKeys(ch.Added), want2) || len(ch.Removed) != 0 {
			t.Fatalf("changes 0→2 are publication 2's units: added %v, removed %v", unitKeys(ch.Added), unitKeys(ch.Removed))
		}
		_, err = s.PublicationChanges(ctx(), 2, 1)
		wantCode(t, err, riskmap.EINVALID)
		_, err = s.PublicationChanges(ctx(), 2, 2)
		wantCode(t, err, riskmap.EINVALID)
		_, err = s.PublicationChanges(ctx(), 2, 99)
		wantCode(t, err, riskmap.ENOTFOUND)
	})
	t.Run("EarlierPublicationUnchangedOK", func(t *testing.T) {
		units := pubUnits(t, s, 1)
		if !slices.Equal(unitKeys(units), want1) {
			t.Fatalf("publication 1 changed: want %v, got %v", want1, unitKeys(units))
		}
		if !orb.Equal(units[0].Geometry, point) {
			t.Fatalf("publication 1 keeps the geometry it published, got %v", units[0].Geometry)
		}
	})
	t.Run("ListAndLatestOK", func(t *testing.T) {
		ps, err := s.Publications(ctx())
		must(t, err)
		if len(ps) != 2 || ps[0].Number != 2 || ps[1].Number != 1 || string(ps[1].Regions) != regions1 {
			t.Fatalf("Publications must list newest first: %+v", ps)
		}
		latest, err := s.LatestPublication(ctx())
		must(t, err)
		if latest.Number != 2 || latest.CreatedBy != "admin2" || string(latest.Regions) != "[]" {
			t.Fatalf("latest: %+v", latest)
		}
	})
	t.Run("ErrSummarizeFails", func(t *testing.T) {
		boom := errors.New("summary failed")
		_, err := s.Publish(ctx(), &riskmap.Publication{}, func(*riskmap.PublicationChange) (*riskmap.PublicationSummary, error) { return nil, boom })
		if !errors.Is(err, boom) {
			t.Fatalf("Publish must return summarize's error, got %v", err)
		}
		latest, err := s.LatestPublication(ctx())
		must(t, err)
		if latest.Number != 2 {
			t.Fatalf("a failed publish must leave nothing behind, latest is %d", latest.Number)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.GetPublication(ctx(), 99)
		wantCode(t, err, riskmap.ENOTFOUND)
		var got error
		for _, err := range s.PublicationUnits(ctx(), 99) {
			got = err
			break
		}
		wantCode(t, got, riskmap.ENOTFOUND)
	})
	t.Run("UnchangedPublishOK", func(t *testing.T) {
		p3 := &riskmap.Publication{}
		ch, err := s.Publish(ctx(), p3, nil)
		must(t, err)
		if p3.Number != 3 || p3.UnitCount != 2 || len(ch.Added)+len(ch.Removed) != 0 {
			t.Fatalf("nothing changed: %+v, added %v, removed %v", p3, unitKeys(ch.Added), unitKeys(ch.Removed))
		}
		for n, want := range map[int64][]string{1: want1, 2: want2, 3: want2} {
			if got := unitKeys(pubUnits(t, s, n)); !slices.Equal(got, want) {
				t.Fatalf("publication %d: want %v, got %v", n, want, got)
			}
		}
		ch, err = s.PublicationChanges(ctx(), 2, 3)
		must(t, err)
		if len(ch.Added)+len(ch.Removed) != 0 {
			t.Fatalf("changes 2→3: added %v, removed %v", unitKeys(ch.Added), unitKeys(ch.Removed))
		}
		ch, err = s.PublicationChanges(ctx(), 1, 3)
		must(t, err)
		if !slices.Equal(unitKeys(ch.Added), want2) || !slices.Equal(unitKeys(ch.Removed), gone2) {
			t.Fatalf("changes 1→3: added %v, removed %v", unitKeys(ch.Added), unitKeys(ch.Removed))
		}
	})
	t.Run("RaisedInPlaceOK", func(t *testing.T) {
		// A unit with a revision under review keeps its approved version when a condition
		// raises its approved grade: the next publication still takes the new grade.
		s := open(t)
		u := conditionUnit(t, s, "PUB-RAISE")
		_, err := s.Publish(ctx(), &riskmap.Publication{}, nil)
		must(t, err)
		u.Status, u.Name = riskmap.StatusSubmitted, "修订中的单元"
		must(t, s.UpdateUnit(ctx(), u))
		_, err = conditionStore(t, s).SetConditions(ctx(), u.ID, riskmap.ConditionConflict, []riskmap.Condition{school("澄江一中", 120)}, condDynamics)
		must(t, err)
		p := &riskmap.Publication{}
		ch, err := s.Publish(ctx(), p, nil)
		must(t, err)
		raised, was := fmt.Sprintf("%d@1:red", u.ID), fmt.Sprintf("%d@1:orange", u.ID)
		if got := unitKeys(pubUnits(t, s, p.Number)); !slices.Equal(got, []string{raised}) {
			t.Fatalf("publication %d: want [%s], got %v", p.Number, raised, got)
		}
		if !slices.Equal(unitKeys(ch.Added), []string{raised}) || !slices.Equal(unitKeys(ch.Removed), []string{was}) {
			t.Fatalf("the change: added %v, removed %v", unitKeys(ch.Added), unitKeys(ch.Removed))
		}
		if got := unitKeys(pubUnits(t, s, 1)); !slices.Equal(got, []string{was}) {
			t.Fatalf("publication 1: want [%s], got %v", was, got)
		}
	})
	t.Run("EmptyRegisterOK", func(t *testing.T) {
		s := open(t)
		p := &riskmap.Publication{}
		_, err := s.Publish(ctx(), p, func(ch *riskmap.PublicationChange) (*riskmap.PublicationSummary, error) {
			if len(ch.Added) != 0 {
				return nil, fmt.Errorf("want no units, got %d", len(ch.Added))
			}
			return nil, nil
		})
		must(t, err)
		if p.Number != 1 || p.UnitCount != 0 || string(p.Regions) != "[]" {
			t.Fatalf("publication of an empty register: %+v", p)
		}
		if units := pubUnits(t, s, 1); len(units) != 0 {
			t.Fatalf("want no units, got %d", len(units))
		}
	})
}

func testUnitAuthor(t *testing.T, open Opener) {
	s := open(t)
	u := NewUnit("AUTH-1", point)
	must(t, s.CreateUnit(ctx(), u))
	t.Run("EmptyOK", func(t *testing.T) {
		for _, id := range []int64{u.ID, 999999} {
			a, err := s.UnitAuthor(ctx(), id)
			must(t, err)
			if (*a != riskmap.UnitAuthor{UnitID: id}) {
				t.Fatalf("a unit without a record must have an empty one, got %+v", a)
			}
		}
	})
	t.Run("RoundTripOK", func(t *testing.T) {
		submitted, reviewed := base, base.Add(time.Hour)
		want := &riskmap.UnitAuthor{UnitID: u.ID, CreatedBy: "甲", UpdatedBy: "乙", SubmittedBy: "乙", SubmittedAt: &submitted,
			ReviewedBy: "专家丙", ReviewedAt: &reviewed, ApprovedVersion: u.Version}
		must(t, s.SetUnitAuthor(ctx(), want))
		got, err := s.UnitAuthor(ctx(), u.ID)
		must(t, err)
		wantOptTime(t, "submitted_at", want.SubmittedAt, got.SubmittedAt)
		wantOptTime(t, "reviewed_at", want.ReviewedAt, got.ReviewedAt)
		g, w := *got, *want
		g.SubmittedAt, g.ReviewedAt, w.SubmittedAt, w.ReviewedAt = nil, nil, nil, nil
		if g != w {
			t.Fatalf("author round trip: want %+v, got %+v", w, g)
		}
		// A new revision, written by 丁, records its author with the write; clearing the
		// review afterwards leaves the author as the write recorded it.
		u.Author = "丁"
		must(t, s.UpdateUnit(ctx(), u))
		got, err = s.UnitAuthor(ctx(), u.ID)
		must(t, err)
		if got.CreatedBy != "甲" || got.UpdatedBy != "丁" {
			t.Fatalf("the write must record its author at once: %+v", got)
		}
		must(t, s.SetUnitAuthor(ctx(), &riskmap.UnitAuthor{UnitID: u.ID, CreatedBy: "x", UpdatedBy: "stale", ApprovedVersion: 1}))
		got, err = s.UnitAuthor(ctx(), u.ID)
		must(t, err)
		if got.CreatedBy != "甲" || got.UpdatedBy != "丁" || got.SubmittedBy != "" || got.SubmittedAt != nil || got.ReviewedBy != "" ||
			got.ReviewedAt != nil || got.ApprovedVersion != 1 {
			t.Fatalf("author after a new revision: %+v", got)
		}
		// A write without an author (the system) leaves the record alone.
		u.Author = ""
		must(t, s.UpdateUnit(ctx(), u))
		if got, _ := s.UnitAuthor(ctx(), u.ID); got.UpdatedBy != "丁" {
			t.Fatalf("a system write changed the author: %+v", got)
		}
	})
	t.Run("CreateRecordsAuthorOK", func(t *testing.T) {
		v := NewUnit("AUTH-2", point)
		v.Author = "戊"
		must(t, s.CreateUnit(ctx(), v))
		a, err := s.UnitAuthor(ctx(), v.ID)
		must(t, err)
		if a.CreatedBy != "戊" || a.UpdatedBy != "戊" {
			t.Fatalf("CreateUnit must record its author: %+v", a)
		}
	})
	t.Run("ErrUnknownUnit", func(t *testing.T) {
		wantCode(t, s.SetUnitAuthor(ctx(), &riskmap.UnitAuthor{UnitID: 999999, CreatedBy: "x"}), riskmap.ENOTFOUND)
	})
}

// testEdge covers what the hardened edge keeps in the store: token scopes and the server's
// own secrets.
func testEdge(t *testing.T, open Opener) {
	s := open(t)
	u := mustUser(t, s, "admin")
	t.Run("TokenScopeRoundTripOK", func(t *testing.T) {
		tok := &riskmap.APIToken{Name: "prometheus", UserID: u.ID, TokenHash: "th-metrics", CreatedBy: "admin", Scope: riskmap.TokenScopeMetrics}
		must(t, s.CreateAPIToken(ctx(), tok))
		got, err := s.APITokenByHash(ctx(), "th-metrics")
		must(t, err)
		if got.Scope != riskmap.TokenScopeMetrics {
			t.Fatalf("scope: got %q, want %q", got.Scope, riskmap.TokenScopeMetrics)
		}
		full := &riskmap.APIToken{Name: "脚本", UserID: u.ID, TokenHash: "th-full", CreatedBy: "admin"}
		must(t, s.CreateAPIToken(ctx(), full))
		got, err = s.APITokenByHash(ctx(), "th-full")
		must(t, err)
		if got.Scope != riskmap.TokenScopeFull {
			t.Fatalf("a token made without a scope acts as its user: got scope %q", got.Scope)
		}
		device := &riskmap.APIToken{Name: "网关 1", UserID: u.ID, TokenHash: "th-readings", CreatedBy: "admin", Scope: riskmap.TokenScopeReadings}
		must(t, s.CreateAPIToken(ctx(), device))
		got, err = s.APITokenByHash(ctx(), "th-readings")
		must(t, err)
		if got.Scope != riskmap.TokenScopeReadings || got.UserID != u.ID {
			t.Fatalf("a device token: got scope %q, user %d", got.Scope, got.UserID)
		}
	})
	t.Run("ErrUnknownScope", func(t *testing.T) {
		wantCode(t, s.CreateAPIToken(ctx(), &riskmap.APIToken{Name: "x", UserID: u.ID, TokenHash: "th-x", Scope: "root"}), riskmap.EINVALID)
	})
	t.Run("ServerSecretStableOK", func(t *testing.T) {
		// Replicas asking at once must all get the one secret that is kept.
		const n = 8
		got := make([][]byte, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b, err := s.ServerSecret(ctx(), "device-cookie")
				if err != nil {
					t.Error(err)
				}
				got[i] = b
			}()
		}
		wg.Wait()
		for i := range got {
			if len(got[i]) != 32 || !bytes.Equal(got[i], got[0]) {
				t.Fatalf("secret %d: %x, want the same 32 bytes as %x", i, got[i], got[0])
			}
		}
		other, err := s.ServerSecret(ctx(), "another")
		must(t, err)
		if bytes.Equal(other, got[0]) {
			t.Fatal("two secrets must differ")
		}
	})
}
