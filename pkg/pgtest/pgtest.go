// Package pgtest gives tests a fresh PostGIS database of their own.
//
// The server comes from RISKMAP_TEST_PG (an admin DSN, default
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). When the server cannot be
// reached or has no PostGIS, tests skip, except in CI (CI set) or with RISKMAP_REQUIRE_PG=1,
// where a PostGIS test that does not run is a failure.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultAdminDSN is used when RISKMAP_TEST_PG is not set.
const DefaultAdminDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// templateName is the database every test database is cloned from: it holds the PostGIS
// extension only, so it never goes stale when the schema changes. It is shared by all test
// processes and kept between runs, because CREATE EXTENSION postgis takes about a second and
// cloning takes a fraction of that.
const templateName = "riskmap_pgtest_template"

// templateLockKey serialises template creation across test processes (an advisory lock id).
const templateLockKey = 7_260_443_001

// The template is checked once per process and admin DSN; later calls only clone it. This
// is test plumbing, not application state.
var templates sync.Map // admin DSN → *templateState

type templateState struct {
	once sync.Once
	err  error
}

// AdminDSN returns the DSN of the server's admin database.
func AdminDSN() string {
	if s := os.Getenv("RISKMAP_TEST_PG"); s != "" {
		return s
	}
	return DefaultAdminDSN
}

// Required reports whether a missing database fails tests instead of skipping them.
func Required() bool {
	return os.Getenv("CI") != "" || os.Getenv("RISKMAP_REQUIRE_PG") == "1"
}

// NewDatabase creates a uniquely named database with PostGIS installed and returns its DSN.
// The database is dropped when the test ends; close every pool on it in an earlier cleanup
// (cleanups run last-in first-out, so a store opened after this call is closed first).
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	return newDatabase(tb, AdminDSN(), "set RISKMAP_TEST_PG to an admin DSN of a PostgreSQL server with PostGIS installed")
}

// NewDatabaseOn is NewDatabase on another server than RISKMAP_TEST_PG's: admin is an admin
// DSN of it (a cluster a test makes of its own). The server gets its own template.
func NewDatabaseOn(tb testing.TB, admin string) string {
	tb.Helper()
	return newDatabase(tb, admin, "a server of the test's own")
}

func newDatabase(tb testing.TB, admin, hint string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	v, _ := templates.LoadOrStore(admin, &templateState{})
	ts := v.(*templateState)
	ts.once.Do(func() { ts.err = ensureTemplate(ctx, admin) })
	if ts.err != nil {
		unavailable(tb, admin, hint, ts.err)
	}

	conn, err := connect(ctx, admin)
	if err != nil {
		unavailable(tb, admin, hint, err)
	}
	defer conn.Close(context.Background())

	name := "riskmap_test_" + randomSuffix()
	// Identifiers cannot be bound; both names are made here from a fixed alphabet.
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+templateName); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := connect(ctx, admin)
		if err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(admin, name)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// unavailable skips the test, or fails it when a database is required.
func unavailable(tb testing.TB, admin, hint string, err error) {
	tb.Helper()
	msg := fmt.Sprintf("pgtest: no PostGIS server at %s (%s): %v", redact(admin), hint, err)
	if Required() {
		tb.Fatal(msg + " [required because CI or RISKMAP_REQUIRE_PG=1 is set]")
	}
	tb.Skip(msg)
}

func connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse RISKMAP_TEST_PG: %w", err)
	}
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > 5*time.Second {
		cfg.ConnectTimeout = 5 * time.Second
	}
	cfg.RuntimeParams["application_name"] = "riskmap-pgtest"
	return pgx.ConnectConfig(ctx, cfg)
}

// ensureTemplate makes sure the template database exists and is complete. It is marked
// is_template only after PostGIS is in, so a half-built template left by a crashed run is
// rebuilt.
func ensureTemplate(ctx context.Context, admin string) error {
	conn, err := connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())

	var available bool
	if err := conn.QueryRow(ctx,
		"SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis')").Scan(&available); err != nil {
		return err
	}
	if !available {
		return errors.New("the postgis extension is not installed on the server (apt-get install postgresql-15-postgis-3)")
	}

	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(templateLockKey)); err != nil {
		return err
	}
	// The session ends right after; closing it would release the lock anyway.
	defer func() {
		_, _ = conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", int64(templateLockKey))
	}()

	var exists, isTemplate bool
	err = conn.QueryRow(ctx, "SELECT true, datistemplate FROM pg_database WHERE datname = $1", templateName).
		Scan(&exists, &isTemplate)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if exists && isTemplate {
		return nil
	}
	if exists {
		if _, err := conn.Exec(ctx, "DROP DATABASE "+templateName+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop incomplete template: %w", err)
		}
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+templateName+" TEMPLATE template0 ENCODING 'UTF8'"); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	tdsn, err := withDatabase(admin, templateName)
	if err != nil {
		return err
	}
	tconn, err := connect(ctx, tdsn)
	if err != nil {
		return err
	}
	_, err = tconn.Exec(ctx, "CREATE EXTENSION postgis")
	tconn.Close(context.Background())
	if err != nil {
		return fmt.Errorf("create extension postgis: %w", err)
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+templateName+" WITH is_template true"); err != nil {
		return fmt.Errorf("mark template: %w", err)
	}
	return nil
}

// withDatabase returns the DSN with its database replaced by name. It understands both the
// URL and the keyword=value forms.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse RISKMAP_TEST_PG: %w", err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	// In the keyword=value form the last setting of a keyword wins.
	return dsn + " dbname=" + name, nil
}

// redact hides a password in a DSN shown in a skip message.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		return u.String()
	}
	if strings.Contains(dsn, "password") {
		return "(keyword/value DSN)"
	}
	return dsn
}

func randomSuffix() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return fmt.Sprintf("%d_%s", os.Getpid(), hex.EncodeToString(b[:]))
}
