package pgtest

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestNewDatabase(t *testing.T) {
	var dsn string
	t.Run("OK", func(t *testing.T) {
		dsn = NewDatabase(t)
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var version, db string
		if err := conn.QueryRow(context.Background(), "SELECT postgis_lib_version(), current_database()").Scan(&version, &db); err != nil {
			t.Fatalf("postgis must be installed: %v", err)
		}
		if !strings.HasPrefix(db, "riskmap_test_") {
			t.Fatalf("database %q", db)
		}
		if other := NewDatabase(t); other == dsn {
			t.Fatal("two calls must give two databases")
		}
	})
	if dsn == "" {
		return // skipped: no server
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), AdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(context.Background(), "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", cfg.Database).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatalf("database %s must be dropped when its test ends", cfg.Database)
	}
}

// fakeTB records how NewDatabase gives up. Skip and Fatal stop the call as the real ones
// do, by unwinding.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

type stop struct{}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Cleanup(func())        {}
func (f *fakeTB) Skip(args ...any)      { f.skipped, f.msg = true, args[0].(string); panic(stop{}) }
func (f *fakeTB) Fatal(args ...any)     { f.failed, f.msg = true, args[0].(string); panic(stop{}) }
func (f *fakeTB) Fatalf(string, ...any) { f.failed = true; panic(stop{}) }

func run(f *fakeTB) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stop); !ok {
				panic(r)
			}
		}
	}()
	NewDatabase(f)
}

func TestUnreachableServer(t *testing.T) {
	t.Setenv("RISKMAP_TEST_PG", "postgres://postgres:secret@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2")
	cases := []struct {
		name, ci, require string
		wantFail          bool
	}{
		{"SkipsLocally", "", "", false},
		{"FailsInCI", "true", "", true},
		{"FailsWhenRequired", "", "1", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv("RISKMAP_REQUIRE_PG", tc.require)
			f := &fakeTB{TB: t}
			run(f)
			if f.failed != tc.wantFail || f.skipped == tc.wantFail {
				t.Fatalf("failed=%v skipped=%v, want failed=%v", f.failed, f.skipped, tc.wantFail)
			}
			if !strings.Contains(f.msg, "RISKMAP_TEST_PG") || strings.Contains(f.msg, "secret") {
				t.Fatalf("the message must say what to set and hide the password: %s", f.msg)
			}
		})
	}
}

func TestWithDatabase(t *testing.T) {
	cases := []struct{ in, want string }{
		{"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "postgres://postgres@127.0.0.1:5432/x?sslmode=disable"},
		{"postgresql://u:p@h/db", "postgresql://u:p@h/x"},
		{"host=127.0.0.1 user=postgres dbname=postgres", "host=127.0.0.1 user=postgres dbname=postgres dbname=x"},
	}
	for _, tc := range cases {
		got, err := withDatabase(tc.in, "x")
		if err != nil || got != tc.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
