package httpapi_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // a second connection to the GeoPackage file, to add a trigger

	"riskmap/pkg/gpkg"
	"riskmap/pkg/postgis"
	"riskmap/pkg/riskmap"
)

// auditSwitch lets a test make the store refuse every audit row, as a full disk or a
// broken audit table would: a trigger on audit_log raises while test_audit_refusal has a
// row. No mock: the store's own transaction meets the refusal.
type auditSwitch struct {
	exec  func(t *testing.T, q string)
	query func(t *testing.T, q string) string
}

func (a auditSwitch) set(t *testing.T, refuse bool) {
	t.Helper()
	if refuse {
		a.exec(t, "INSERT INTO test_audit_refusal (refuse) VALUES (1)")
	} else {
		a.exec(t, "DELETE FROM test_audit_refusal")
	}
}

func newAuditSwitch(t *testing.T, store riskmap.Store) auditSwitch {
	t.Helper()
	ctx := context.Background()
	var a auditSwitch
	switch s := store.(type) {
	case *postgis.Store:
		a.exec = func(t *testing.T, q string) {
			t.Helper()
			if _, err := s.Pool().Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		a.query = func(t *testing.T, q string) string {
			t.Helper()
			var v string
			if err := s.Pool().QueryRow(ctx, "SELECT ("+q+")::text").Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		a.exec(t, "CREATE TABLE test_audit_refusal (refuse integer)")
		a.exec(t, `CREATE FUNCTION test_refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM test_audit_refusal) THEN
		RAISE EXCEPTION 'the audit log refuses the row';
	END IF;
	RETURN NEW;
END $$`)
		a.exec(t, "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION test_refuse_audit()")
	case *gpkg.Store:
		db, err := sql.Open("sqlite", "file:"+s.Path()+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		a.exec = func(t *testing.T, q string) {
			t.Helper()
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		a.query = func(t *testing.T, q string) string {
			t.Helper()
			var v string
			if err := db.QueryRowContext(ctx, "SELECT CAST(("+q+") AS TEXT)").Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		a.exec(t, "CREATE TABLE test_audit_refusal (refuse INTEGER)")
		a.exec(t, `CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_log
WHEN EXISTS (SELECT 1 FROM test_audit_refusal)
BEGIN
	SELECT RAISE(ABORT, 'the audit log refuses the row');
END`)
	default:
		t.Fatalf("no raw access to a %T", store)
	}
	return a
}

// TestAdminWritesAudited checks that every login, logout and user and token
// administration leaves exactly one audit row, written in the change's own transaction: a
// change whose row the store refuses is not made.
func TestAdminWritesAudited(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			sw := newAuditSwitch(t, e.store)
			// state is everything these writes change: users, their flags and passwords,
			// sessions and tokens.
			state := func(t *testing.T) string {
				t.Helper()
				return strings.Join([]string{
					sw.query(t, "SELECT count(*) FROM users"),
					sw.query(t, "SELECT count(*) FROM users WHERE disabled"),
					sw.query(t, "SELECT coalesce(max(password_hash), '') FROM users WHERE name = 'victim'"),
					sw.query(t, "SELECT count(*) FROM sessions"),
					sw.query(t, "SELECT count(*) FROM api_tokens"),
					sw.query(t, "SELECT count(*) FROM api_tokens WHERE revoked_at IS NOT NULL"),
				}, " ")
			}
			rows := func(t *testing.T) string { return sw.query(t, "SELECT count(*) FROM audit_log") }
			var cookie, csrf, tokenID string
			login := func() resp {
				r := e.do("POST", "/api/v1/session", `{"username":"victim","password":"`+testPassword+`"}`, "Authorization", "")
				if r.code == 200 {
					ck := r.header.Get("Set-Cookie")
					cookie, csrf = ck[:strings.IndexByte(ck, ';')], r.json(t)["csrf_token"].(string)
				}
				return r
			}
			cases := []struct {
				name, action, target string
				status               int
				do                   func() resp
				// done checks what the write changed.
				done func(t *testing.T)
			}{
				{"CreateUser", "user.create", "victim", 201, func() resp {
					return e.do("POST", "/api/v1/users", `{"name":"victim","role":"expert","password":"`+testPassword+`"}`)
				}, nil},
				{"Login", "session.login", "victim", 200, login, nil},
				{"Logout", "session.logout", "", 204, func() resp {
					return e.do("DELETE", "/api/v1/session", "", "Authorization", "", "Cookie", cookie, "X-CSRF-Token", csrf)
				}, func(t *testing.T) {
					if r := e.do("GET", "/api/v1/session", "", "Authorization", "", "Cookie", cookie); r.code != 401 {
						t.Fatalf("the session survives its logout: %d", r.code)
					}
				}},
				{"LoginAgain", "session.login", "victim", 200, login, nil},
				{"Disable", "user.update", "victim", 200, func() resp {
					return e.do("PATCH", "/api/v1/users/victim", `{"disabled":true}`)
				}, func(t *testing.T) {
					if n := sw.query(t, "SELECT count(*) FROM sessions"); n != "0" {
						t.Fatalf("disabling a user ends its sessions: %s left", n)
					}
				}},
				{"Enable", "user.update", "victim", 200, func() resp {
					return e.do("PATCH", "/api/v1/users/victim", `{"disabled":false,"role":"admin"}`)
				}, nil},
				{"LoginOnceMore", "session.login", "victim", 200, login, nil},
				{"ResetPassword", "user.password", "victim", 200, func() resp {
					return e.do("POST", "/api/v1/users/victim/password", `{"password":"another horse battery"}`)
				}, func(t *testing.T) {
					if n := sw.query(t, "SELECT count(*) FROM sessions"); n != "0" {
						t.Fatalf("a password reset ends the user's sessions: %s left", n)
					}
				}},
				{"CreateToken", "token.create", "", 201, func() resp {
					r := e.do("POST", "/api/v1/tokens", `{"name":"脚本","user":"victim"}`)
					if r.code == 201 {
						tokenID = fmt.Sprint(r.json(t)["token"].(map[string]any)["id"])
					}
					return r
				}, nil},
				{"RevokeToken", "token.revoke", "", 204, func() resp {
					return e.do("DELETE", "/api/v1/tokens/"+tokenID, "")
				}, nil},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					e.t = t
					before, n := state(t), rows(t)
					sw.set(t, true)
					r := c.do()
					sw.set(t, false)
					if r.code != 500 {
						t.Fatalf("a write whose audit row is refused must fail: %d %s", r.code, r.body)
					}
					if got := state(t); got != before {
						t.Fatalf("a write whose audit row is refused changes nothing: %s, was %s", got, before)
					}
					if got := rows(t); got != n {
						t.Fatalf("the refused write leaves no row: %s rows, was %s", got, n)
					}
					r = c.do()
					if r.code != c.status {
						t.Fatalf("want %d, got %d %s", c.status, r.code, r.body)
					}
					if c.done != nil {
						c.done(t)
					}
					if got, want := rows(t), fmt.Sprint(mustAtoi(t, n)+1); got != want {
						t.Fatalf("the write leaves exactly one audit row: %s rows, want %s", got, want)
					}
					es, err := e.store.AuditEntries(context.Background(), riskmap.AuditFilter{Limit: 1})
					if err != nil {
						t.Fatal(err)
					}
					want := c.target
					if c.action == "token.create" || c.action == "token.revoke" {
						want = tokenID
					}
					if len(es) != 1 || es[0].Action != c.action || es[0].Outcome != riskmap.OutcomeOK || es[0].Status != c.status ||
						es[0].TargetID != want {
						t.Fatalf("the write's row: %+v", es)
					}
				})
			}
		})
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}
