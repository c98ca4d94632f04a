package storetest

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"riskmap/pkg/riskmap"
)

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
		if err := s.CreateUserRecorded(ctx(), u, fail); !errors.Is(err, refused) {
			t.Fatalf("want the record function's error, got %v", err)
		}
		_, err := s.UserByName(ctx(), "rec-user-2")
		wantCode(t, err, riskmap.ENOTFOUND)
		if u.ID != 0 {
			t.Fatalf("a user rolled back has no id: %d", u.ID)
		}
	})

	u := &riskmap.User{Name: "rec-user-3", Role: riskmap.RoleDepartment, Department: "住建局",
		Categories: []string{"construction"}, Regions: []string{"530481"}, PasswordHash: "h1"}
	must(t, s.CreateUser(ctx(), u))
	uid := strconv.FormatInt(u.ID, 10)

	t.Run("ErrUpdateUserRecordRollsBack", func(t *testing.T) {
		session(t, "rec-s-1", u.ID)
		v := *u
		v.Disabled, v.PasswordHash = true, "h2"
		if _, err := s.UpdateUserRecorded(ctx(), &v, true, fail); !errors.Is(err, refused) {
			t.Fatalf("want the record function's error, got %v", err)
		}
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
		if err := s.CreateSessionRecorded(ctx(), x, "rec-old", fail); !errors.Is(err, refused) {
			t.Fatalf("want the record function's error, got %v", err)
		}
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
		if err := s.DeleteSessionRecorded(ctx(), "rec-new", fail); !errors.Is(err, refused) {
			t.Fatalf("want the record function's error, got %v", err)
		}
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
		if err := s.CreateAPITokenRecorded(ctx(), tk, fail); !errors.Is(err, refused) {
			t.Fatalf("want the record function's error, got %v", err)
		}
		_, err := s.APITokenByHash(ctx(), "rec-t-1")
		wantCode(t, err, riskmap.ENOTFOUND)
		if tk.ID != 0 {
			t.Fatalf("a token rolled back has no id: %d", tk.ID)
		}
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
		if err := s.RevokeAPITokenRecorded(ctx(), tokenID, now, fail); !errors.Is(err, refused) {
			t.Fatalf("want the record function's error, got %v", err)
		}
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
