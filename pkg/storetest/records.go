package storetest

import (
	"bytes"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"riskmap/pkg/riskmap"
)

// testRecords runs the contract of the recorded unit writes (a write, its author record,
// its audit row and its Idempotency-Key answer in one transaction) and of the audit log's
// folded rows.
func testRecords(t *testing.T, open Opener) {
	s := open(t)
	now := time.Now().UTC()
	auditOf := func(t *testing.T, action, id string) []*riskmap.AuditEntry {
		t.Helper()
		es, err := s.AuditEntries(ctx(), riskmap.AuditFilter{Action: action, TargetType: "unit", TargetID: id, Limit: 10})
		must(t, err)
		return es
	}
	unitsCoded := func(t *testing.T, code string) int {
		t.Helper()
		us, _, err := s.FindUnits(ctx(), riskmap.UnitFilter{Q: code, IncludeRetired: true})
		must(t, err)
		return len(us)
	}
	record := func(action, key string, calls *int) riskmap.RecordFunc {
		return func(u *riskmap.Unit) (*riskmap.WriteRecords, error) {
			if calls != nil {
				*calls++
			}
			if u.ID == 0 || u.Version == 0 || u.UpdatedAt.IsZero() {
				return nil, errors.New("the record function must see the unit as written")
			}
			at := now
			r := &riskmap.WriteRecords{
				Author: &riskmap.UnitAuthor{CreatedBy: "专家甲", UpdatedBy: "专家甲", SubmittedBy: "专家甲", SubmittedAt: &at},
				Audit: &riskmap.AuditEntry{Actor: "专家甲", Role: riskmap.RoleExpert, Action: action, Outcome: riskmap.OutcomeOK,
					Status: 201, Method: "POST", Path: "/api/v1/units", TargetType: "unit", TargetID: strconv.FormatInt(u.ID, 10),
					After: []byte(`{"version":` + strconv.FormatInt(u.Version, 10) + `}`)},
			}
			if key != "" {
				r.Response = &riskmap.IdempotentResponse{Scope: "专家甲", Key: key, RequestHash: "h-" + key, Status: 201,
					ContentType: "application/geo+json", Location: "/api/v1/units/" + strconv.FormatInt(u.ID, 10), ETag: `"1"`,
					Body: []byte(`{"id":` + strconv.FormatInt(u.ID, 10) + `}`), CreatedAt: now, ExpiresAt: now.Add(riskmap.IdempotencyTTL)}
			}
			return r, nil
		}
	}

	t.Run("CreateRecordedOK", func(t *testing.T) {
		u := NewUnit("REC-001", orb.Point{102.91, 24.67})
		u.Status, u.Author = riskmap.StatusSubmitted, "专家甲"
		must(t, s.CreateUnitRecorded(ctx(), u, record("unit.create", "key-1", nil)))
		a, err := s.UnitAuthor(ctx(), u.ID)
		must(t, err)
		if a.CreatedBy != "专家甲" || a.SubmittedBy != "专家甲" || a.SubmittedAt == nil {
			t.Fatalf("the author record is written with the unit: %+v", a)
		}
		es := auditOf(t, "unit.create", strconv.FormatInt(u.ID, 10))
		if len(es) != 1 || es[0].Count != 1 || string(es[0].After) != `{"version":1}` {
			t.Fatalf("the audit row is written with the unit: %+v", es)
		}
		r, err := s.IdempotentResponse(ctx(), "专家甲", "key-1", now)
		must(t, err)
		if r.Status != 201 || r.RequestHash != "h-key-1" || r.ETag != `"1"` || r.ContentType != "application/geo+json" ||
			r.Location != "/api/v1/units/"+strconv.FormatInt(u.ID, 10) || !bytes.Equal(r.Body, []byte(`{"id":`+strconv.FormatInt(u.ID, 10)+`}`)) {
			t.Fatalf("the kept answer: %+v", r)
		}
		wantTime(t, "created_at", now.Truncate(time.Millisecond), r.CreatedAt.Truncate(time.Millisecond))
	})

	t.Run("ErrRecordRollsTheWriteBack", func(t *testing.T) {
		u := NewUnit("REC-002", orb.Point{102.91, 24.67})
		bad := errors.New("refused by the record function")
		err := s.CreateUnitRecorded(ctx(), u, func(u *riskmap.Unit) (*riskmap.WriteRecords, error) {
			return &riskmap.WriteRecords{Audit: &riskmap.AuditEntry{Action: "unit.create", Outcome: riskmap.OutcomeOK,
				TargetType: "unit", TargetID: strconv.FormatInt(u.ID, 10)}}, bad
		})
		if !errors.Is(err, bad) {
			t.Fatalf("want the record function's error, got %v", err)
		}
		if u.ID != 0 || unitsCoded(t, "REC-002") != 0 {
			t.Fatalf("a write whose records fail must not be stored (id %d)", u.ID)
		}
	})

	t.Run("ErrTakenKeyRollsTheWriteBack", func(t *testing.T) {
		u := NewUnit("REC-003", orb.Point{102.91, 24.67})
		err := s.CreateUnitRecorded(ctx(), u, record("unit.create", "key-1", nil))
		wantCode(t, err, riskmap.ECONFLICT)
		if unitsCoded(t, "REC-003") != 0 {
			t.Fatal("a write whose Idempotency-Key is taken must not be stored")
		}
		es, err := s.AuditEntries(ctx(), riskmap.AuditFilter{Action: "unit.create", Limit: 100})
		must(t, err)
		if len(es) != 1 {
			t.Fatalf("the refused write must leave no audit row: %d rows", len(es))
		}
	})

	t.Run("SameKeyOtherScopeOK", func(t *testing.T) {
		u := NewUnit("REC-004", orb.Point{102.91, 24.67})
		must(t, s.CreateUnitRecorded(ctx(), u, func(u *riskmap.Unit) (*riskmap.WriteRecords, error) {
			return &riskmap.WriteRecords{Response: &riskmap.IdempotentResponse{Scope: "专家乙", Key: "key-1", Status: 201, Body: []byte("{}")}}, nil
		}))
		r, err := s.IdempotentResponse(ctx(), "专家乙", "key-1", now)
		must(t, err)
		if r.ExpiresAt.Before(now.Add(riskmap.IdempotencyTTL - time.Minute)) {
			t.Fatalf("a zero ExpiresAt is CreatedAt + IdempotencyTTL, got %v", r.ExpiresAt)
		}
		_, err = s.IdempotentResponse(ctx(), "专家丙", "key-1", now)
		wantCode(t, err, riskmap.ENOTFOUND)
	})

	t.Run("ExpiredKeyAnswersNothingOK", func(t *testing.T) {
		u := NewUnit("REC-005", orb.Point{102.91, 24.67})
		must(t, s.CreateUnitRecorded(ctx(), u, func(u *riskmap.Unit) (*riskmap.WriteRecords, error) {
			return &riskmap.WriteRecords{Response: &riskmap.IdempotentResponse{Scope: "专家甲", Key: "old", Status: 201, Body: []byte("{}"),
				CreatedAt: now.Add(-25 * time.Hour), ExpiresAt: now.Add(-time.Hour)}}, nil
		}))
		_, err := s.IdempotentResponse(ctx(), "专家甲", "old", now)
		wantCode(t, err, riskmap.ENOTFOUND)
		// The expired key is free again.
		v := NewUnit("REC-006", orb.Point{102.91, 24.67})
		must(t, s.CreateUnitRecorded(ctx(), v, func(u *riskmap.Unit) (*riskmap.WriteRecords, error) {
			return &riskmap.WriteRecords{Response: &riskmap.IdempotentResponse{Scope: "专家甲", Key: "old", Status: 201, Body: []byte("{}")}}, nil
		}))
	})

	t.Run("UpdateRecordedOK", func(t *testing.T) {
		u := NewUnit("REC-007", orb.Point{102.91, 24.67})
		must(t, s.CreateUnit(ctx(), u))
		u.Name = "改名后的单元"
		calls := 0
		must(t, s.UpdateUnitRecorded(ctx(), u, record("unit.update", "", &calls)))
		if calls != 1 || u.Version != 2 {
			t.Fatalf("record calls %d, version %d", calls, u.Version)
		}
		es := auditOf(t, "unit.update", strconv.FormatInt(u.ID, 10))
		if len(es) != 1 || string(es[0].After) != `{"version":2}` {
			t.Fatalf("the audit row of the update: %+v", es)
		}
	})

	t.Run("ErrStaleUpdateRecordsNothing", func(t *testing.T) {
		u := NewUnit("REC-008", orb.Point{102.91, 24.67})
		must(t, s.CreateUnit(ctx(), u))
		stale := *u
		u.Name = "新名"
		must(t, s.UpdateUnit(ctx(), u))
		calls := 0
		wantCode(t, s.UpdateUnitRecorded(ctx(), &stale, record("unit.update", "", &calls)), riskmap.EPRECONDITION)
		if calls != 0 || stale.Version != 1 || len(auditOf(t, "unit.update", strconv.FormatInt(u.ID, 10))) != 0 {
			t.Fatalf("a stale update records nothing and keeps the caller's version: calls %d, version %d", calls, stale.Version)
		}
	})

	t.Run("ErrUpdateRecordRollsBack", func(t *testing.T) {
		u := NewUnit("REC-009", orb.Point{102.91, 24.67})
		must(t, s.CreateUnit(ctx(), u))
		u.Name = "不会写入"
		bad := errors.New("no")
		if err := s.UpdateUnitRecorded(ctx(), u, func(*riskmap.Unit) (*riskmap.WriteRecords, error) { return nil, bad }); !errors.Is(err, bad) {
			t.Fatalf("want the record function's error, got %v", err)
		}
		got := mustGetUnit(t, s, u.ID)
		if got.Version != 1 || got.Name == "不会写入" || u.Version != 1 {
			t.Fatalf("the update must be rolled back: stored version %d name %q, caller's version %d", got.Version, got.Name, u.Version)
		}
	})

	t.Run("RetireRecordedOK", func(t *testing.T) {
		u := NewUnit("REC-010", orb.Point{102.91, 24.67})
		must(t, s.CreateUnit(ctx(), u))
		got, err := s.RetireUnitRecorded(ctx(), u.ID, 1, record("unit.retire", "", nil))
		must(t, err)
		if got.Status != riskmap.StatusRetired || len(auditOf(t, "unit.retire", strconv.FormatInt(u.ID, 10))) != 1 {
			t.Fatalf("retired %v with its audit row", got.Status)
		}
		v := NewUnit("REC-011", orb.Point{102.91, 24.67})
		must(t, s.CreateUnit(ctx(), v))
		_, err = s.RetireUnitRecorded(ctx(), v.ID, 1, func(*riskmap.Unit) (*riskmap.WriteRecords, error) { return nil, errors.New("no") })
		if err == nil {
			t.Fatal("want the record function's error")
		}
		if got, _ := s.GetUnit(ctx(), v.ID); got.Status == riskmap.StatusRetired {
			t.Fatal("the retirement must be rolled back")
		}
	})

	t.Run("PublishRecordedOK", func(t *testing.T) {
		var seen int64
		p := &riskmap.Publication{CreatedBy: "管理员", Note: "记录测试"}
		_, err := s.PublishRecorded(ctx(), p, nil, func(q *riskmap.Publication) (*riskmap.WriteRecords, error) {
			seen = q.Number
			return &riskmap.WriteRecords{
				Audit: &riskmap.AuditEntry{Actor: "管理员", Action: "publication.create", Outcome: riskmap.OutcomeOK, Status: 201,
					TargetType: "publication", TargetID: strconv.FormatInt(q.Number, 10)},
				Response: &riskmap.IdempotentResponse{Scope: "管理员", Key: "pub-1", Status: 201, Body: []byte("{}")},
			}, nil
		})
		must(t, err)
		if seen == 0 || seen != p.Number {
			t.Fatalf("the record function sees the publication numbered: %d, published %d", seen, p.Number)
		}
		es, err := s.AuditEntries(ctx(), riskmap.AuditFilter{Action: "publication.create", TargetID: strconv.FormatInt(p.Number, 10)})
		must(t, err)
		if len(es) != 1 {
			t.Fatalf("want the publication's audit row, got %d", len(es))
		}
		_, err = s.IdempotentResponse(ctx(), "管理员", "pub-1", now)
		must(t, err)
	})

	t.Run("ErrPublishRecordRollsBack", func(t *testing.T) {
		before, err := s.Publications(ctx())
		must(t, err)
		p := &riskmap.Publication{CreatedBy: "管理员"}
		// The key is taken: the publication must not be made.
		_, err = s.PublishRecorded(ctx(), p, nil, func(q *riskmap.Publication) (*riskmap.WriteRecords, error) {
			return &riskmap.WriteRecords{Response: &riskmap.IdempotentResponse{Scope: "管理员", Key: "pub-1", Status: 201, Body: []byte("{}")}}, nil
		})
		wantCode(t, err, riskmap.ECONFLICT)
		after, err := s.Publications(ctx())
		must(t, err)
		if len(after) != len(before) {
			t.Fatalf("a publication whose records fail must not be made: %d then %d", len(before), len(after))
		}
	})

	t.Run("AuditCountOK", func(t *testing.T) {
		last := base.Add(59 * time.Second)
		folded := &riskmap.AuditEntry{At: base, Action: "get /api/v1/units", Outcome: riskmap.OutcomeDenied, Status: 401,
			ClientAddr: "192.0.2.7", Count: 999, LastAt: last}
		one := &riskmap.AuditEntry{At: base, Action: "get /api/v1/units", Outcome: riskmap.OutcomeDenied, Status: 401, ClientAddr: "192.0.2.8"}
		must(t, s.AppendAudit(ctx(), folded))
		must(t, s.AppendAudit(ctx(), one))
		es, err := s.AuditEntries(ctx(), riskmap.AuditFilter{Outcome: riskmap.OutcomeDenied, Limit: 2})
		must(t, err)
		if len(es) != 2 || es[1].Count != 999 || es[0].Count != 1 || !es[0].LastAt.IsZero() {
			t.Fatalf("counts: %+v", es)
		}
		wantTime(t, "last_at", last, es[1].LastAt)
	})
}

// testAccessRecords runs the contract of the recorded writes of users, sessions and API
// tokens: the write and its audit row commit together, and a record function that fails
// rolls the write back.
func testAccessRecords(t *testing.T, open Opener) {
	s := open(t)
	now := time.Now().UTC().Truncate(time.Second)
	refused := errors.New("the audit log refuses the row")
	rows := func(t *testing.T, action, targetID string) int {
		t.Helper()
		es, err := s.AuditEntries(ctx(), riskmap.AuditFilter{Action: action, TargetID: targetID, Limit: 100})
		must(t, err)
		return len(es)
	}
	// row returns a record function writing an audit row of action on target, after
	// checking with seen that it sees the object as written.
	row := func(action, targetType, targetID string, seen func() error) riskmap.AccessRecordFunc {
		return func() (*riskmap.WriteRecords, error) {
			if seen != nil {
				if err := seen(); err != nil {
					return nil, err
				}
			}
			return &riskmap.WriteRecords{Audit: &riskmap.AuditEntry{Actor: "admin", Role: riskmap.RoleAdmin, Action: action,
				Outcome: riskmap.OutcomeOK, Status: 200, Method: "POST", Path: "/api/v1/x", TargetType: targetType,
				TargetID: targetID, After: []byte(`{"ok":true}`)}}, nil
		}
	}
	fail := func() (*riskmap.WriteRecords, error) { return nil, refused }
	// rolledBack checks a write of a what whose record function failed: the write returns
	// the function's error (err), the object cannot be read back (readErr) and has no id.
	wantRefused := func(t *testing.T, err error) {
		t.Helper()
		if !errors.Is(err, refused) {
			t.Fatalf("want the record function's error, got %v", err)
		}
	}
	rolledBack := func(t *testing.T, what string, err error, id int64, readErr error) {
		t.Helper()
		wantRefused(t, err)
		wantCode(t, readErr, riskmap.ENOTFOUND)
		if id != 0 {
			t.Fatalf("a %s rolled back has no id: %d", what, id)
		}
	}
	session := func(t *testing.T, hash string, userID int64) *riskmap.Session {
		t.Helper()
		x := &riskmap.Session{TokenHash: hash, UserID: userID, CSRF: "c-" + hash, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		must(t, s.CreateSession(ctx(), x))
		return x
	}
	sessionExists := func(t *testing.T, hash string) bool {
		t.Helper()
		_, err := s.SessionByHash(ctx(), hash)
		if riskmap.ErrorCode(err) == riskmap.ENOTFOUND {
			return false
		}
		must(t, err)
		return true
	}

	t.Run("CreateUserRecordedOK", func(t *testing.T) {
		u := &riskmap.User{Name: "rec-user-1", Role: riskmap.RoleExpert, PasswordHash: "h"}
		must(t, s.CreateUserRecorded(ctx(), u, row("user.create", "user", "rec-user-1", func() error {
			if u.ID == 0 || u.CreatedAt.IsZero() {
				return errors.New("the record function must see the user as written")
			}
			return nil
		})))
		if _, err := s.UserByName(ctx(), "rec-user-1"); err != nil {
			t.Fatal(err)
		}
		if n := rows(t, "user.create", "rec-user-1"); n != 1 {
			t.Fatalf("the audit row commits with the user: %d rows", n)
		}
	})
	t.Run("ErrCreateUserRecordRollsBack", func(t *testing.T) {
		u := &riskmap.User{Name: "rec-user-2", Role: riskmap.RoleExpert, PasswordHash: "h"}
		err := s.CreateUserRecorded(ctx(), u, fail)
		_, readErr := s.UserByName(ctx(), "rec-user-2")
		rolledBack(t, "user", err, u.ID, readErr)
	})

	u := &riskmap.User{Name: "rec-user-3", Role: riskmap.RoleDepartment, Department: "住建局",
		Categories: []string{"construction"}, Regions: []string{"530481"}, PasswordHash: "h1"}
	must(t, s.CreateUserRecorded(ctx(), u, nil))
	uid := strconv.FormatInt(u.ID, 10)

	t.Run("ErrUpdateUserRecordRollsBack", func(t *testing.T) {
		session(t, "rec-s-1", u.ID)
		v := *u
		v.Disabled, v.PasswordHash = true, "h2"
		_, err := s.UpdateUserRecorded(ctx(), &v, true, fail)
		wantRefused(t, err)
		got, err := s.UserByID(ctx(), u.ID)
		must(t, err)
		if got.Disabled || got.PasswordHash != "h1" {
			t.Fatalf("a rolled back update changes nothing: %+v", got)
		}
		if !sessionExists(t, "rec-s-1") {
			t.Fatal("a rolled back update ends no session")
		}
		if n := rows(t, "user.update", uid); n != 0 {
			t.Fatalf("a rolled back update leaves no row: %d", n)
		}
	})
	t.Run("UpdateUserRecordedEndsSessionsOK", func(t *testing.T) {
		session(t, "rec-s-2", u.ID)
		v := *u
		v.Disabled = true
		n, err := s.UpdateUserRecorded(ctx(), &v, true, row("user.update", "user", uid, nil))
		must(t, err)
		if n != 2 || sessionExists(t, "rec-s-1") || sessionExists(t, "rec-s-2") {
			t.Fatalf("the user's 2 sessions end with the update: %d ended", n)
		}
		got, err := s.UserByID(ctx(), u.ID)
		must(t, err)
		if !got.Disabled {
			t.Fatal("the update commits")
		}
		if n := rows(t, "user.update", uid); n != 1 {
			t.Fatalf("the audit row commits with the update: %d rows", n)
		}
		// Without endSessions the sessions stay.
		session(t, "rec-s-3", u.ID)
		v.Disabled = false
		n, err = s.UpdateUserRecorded(ctx(), &v, false, nil)
		must(t, err)
		if n != 0 || !sessionExists(t, "rec-s-3") {
			t.Fatalf("an update without endSessions ends no session: %d", n)
		}
		_, err = s.UpdateUserRecorded(ctx(), &riskmap.User{ID: 1 << 40, Role: riskmap.RoleAdmin}, true, fail)
		wantCode(t, err, riskmap.ENOTFOUND)
	})

	t.Run("ErrCreateSessionRecordRollsBack", func(t *testing.T) {
		session(t, "rec-old", u.ID)
		x := &riskmap.Session{TokenHash: "rec-new", UserID: u.ID, CSRF: "c", ExpiresAt: now.Add(time.Hour)}
		wantRefused(t, s.CreateSessionRecorded(ctx(), x, "rec-old", fail))
		if sessionExists(t, "rec-new") || !sessionExists(t, "rec-old") {
			t.Fatal("a rolled back login neither starts a session nor ends the one it replaces")
		}
	})
	t.Run("CreateSessionRecordedOK", func(t *testing.T) {
		x := &riskmap.Session{TokenHash: "rec-new", UserID: u.ID, CSRF: "c", ExpiresAt: now.Add(time.Hour)}
		must(t, s.CreateSessionRecorded(ctx(), x, "rec-old", row("session.login", "user", "rec-user-3", func() error {
			if x.CreatedAt.IsZero() || x.LastSeenAt.IsZero() {
				return errors.New("the record function must see the session as written")
			}
			return nil
		})))
		if !sessionExists(t, "rec-new") || sessionExists(t, "rec-old") {
			t.Fatal("a login starts its session and ends the one it replaces")
		}
		if n := rows(t, "session.login", "rec-user-3"); n != 1 {
			t.Fatalf("the audit row commits with the session: %d rows", n)
		}
		// Replacing a session that has ended already is no error.
		y := &riskmap.Session{TokenHash: "rec-newer", UserID: u.ID, CSRF: "c", ExpiresAt: now.Add(time.Hour)}
		must(t, s.CreateSessionRecorded(ctx(), y, "rec-gone", nil))
	})
	t.Run("ErrDeleteSessionRecordRollsBack", func(t *testing.T) {
		wantRefused(t, s.DeleteSessionRecorded(ctx(), "rec-new", fail))
		if !sessionExists(t, "rec-new") {
			t.Fatal("a rolled back logout ends no session")
		}
	})
	t.Run("DeleteSessionRecordedOK", func(t *testing.T) {
		must(t, s.DeleteSessionRecorded(ctx(), "rec-new", row("session.logout", "", "rec-logout", nil)))
		if sessionExists(t, "rec-new") {
			t.Fatal("a logout ends its session")
		}
		if n := rows(t, "session.logout", "rec-logout"); n != 1 {
			t.Fatalf("the audit row commits with the logout: %d rows", n)
		}
	})

	t.Run("ErrCreateAPITokenRecordRollsBack", func(t *testing.T) {
		tk := &riskmap.APIToken{Name: "rec", UserID: u.ID, TokenHash: "rec-t-1", CreatedBy: "admin"}
		err := s.CreateAPITokenRecorded(ctx(), tk, fail)
		_, readErr := s.APITokenByHash(ctx(), "rec-t-1")
		rolledBack(t, "token", err, tk.ID, readErr)
	})
	var tokenID int64
	t.Run("CreateAPITokenRecordedOK", func(t *testing.T) {
		tk := &riskmap.APIToken{Name: "rec", UserID: u.ID, TokenHash: "rec-t-1", CreatedBy: "admin"}
		var seenID string
		must(t, s.CreateAPITokenRecorded(ctx(), tk, func() (*riskmap.WriteRecords, error) {
			if tk.ID == 0 || tk.CreatedAt.IsZero() {
				return nil, errors.New("the record function must see the token as written")
			}
			seenID = strconv.FormatInt(tk.ID, 10)
			return row("token.create", "token", seenID, nil)()
		}))
		if _, err := s.APITokenByHash(ctx(), "rec-t-1"); err != nil {
			t.Fatal(err)
		}
		if n := rows(t, "token.create", seenID); n != 1 {
			t.Fatalf("the audit row commits with the token: %d rows", n)
		}
		tokenID = tk.ID
	})
	t.Run("ErrRevokeAPITokenRecordRollsBack", func(t *testing.T) {
		wantRefused(t, s.RevokeAPITokenRecorded(ctx(), tokenID, now, fail))
		tk, err := s.APITokenByHash(ctx(), "rec-t-1")
		must(t, err)
		if tk.RevokedAt != nil {
			t.Fatal("a rolled back revocation revokes nothing")
		}
		wantCode(t, s.RevokeAPITokenRecorded(ctx(), 1<<40, now, fail), riskmap.ENOTFOUND)
	})
	t.Run("RevokeAPITokenRecordedOK", func(t *testing.T) {
		id := strconv.FormatInt(tokenID, 10)
		must(t, s.RevokeAPITokenRecorded(ctx(), tokenID, now, row("token.revoke", "token", id, nil)))
		tk, err := s.APITokenByHash(ctx(), "rec-t-1")
		must(t, err)
		if tk.RevokedAt == nil {
			t.Fatal("the revocation commits")
		}
		if n := rows(t, "token.revoke", id); n != 1 {
			t.Fatalf("the audit row commits with the revocation: %d rows", n)
		}
	})
}
