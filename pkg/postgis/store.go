// Package postgis is the PostGIS store of the register: riskmap.Store over a pgx pool.
//
// Geometry travels as (E)WKB: EWKB with SRID 4326 on the way in (ST_GeomFromEWKB, or the
// geometry type's own binary input in COPY), WKB from ST_AsBinary on the way out. Every
// query is static text with bound values and runs through the extended protocol.
//
// Every write of a unit is announced on Channel when it commits, so that several processes
// can serve one database: see Listen, ChangeMark and ChangesSince.
package postgis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"riskmap/pkg/riskmap"
	schema "riskmap/sql"
)

// Config says how to reach and use the database. The zero values of the optional fields
// are replaced by the defaults below.
type Config struct {
	// DSN is a postgres:// URL or a keyword=value string.
	DSN string
	// StatementTimeout bounds every statement on the server (default 30s). It is set as a
	// connection parameter so that it also covers statements a context does not end.
	StatementTimeout time.Duration
	// BulkTimeout bounds the statements of BulkInsertUnits, which load millions of rows in
	// one COPY (default 30 minutes).
	BulkTimeout time.Duration
	// MigrateTimeout bounds each migration, which may rebuild indexes (default 30 minutes).
	MigrateTimeout time.Duration
	// MaxConns is the size of the pool: the DSN's pool_max_conns when it gives one, else
	// DefaultMaxConns.
	MaxConns int32
	// ApplicationName shows in pg_stat_activity (default "riskmap").
	ApplicationName string
}

// Defaults of Config.
const (
	DefaultStatementTimeout = 30 * time.Second
	DefaultBulkTimeout      = 30 * time.Minute
	DefaultMigrateTimeout   = 30 * time.Minute
	DefaultApplicationName  = "riskmap"
)

func (c Config) withDefaults() Config {
	if c.StatementTimeout <= 0 {
		c.StatementTimeout = DefaultStatementTimeout
	}
	if c.BulkTimeout <= 0 {
		c.BulkTimeout = DefaultBulkTimeout
	}
	if c.MigrateTimeout <= 0 {
		c.MigrateTimeout = DefaultMigrateTimeout
	}
	if c.ApplicationName == "" {
		c.ApplicationName = DefaultApplicationName
	}
	return c
}

// Store is the PostGIS implementation of riskmap.Store.
type Store struct {
	pool *pgxpool.Pool
	// origin names this process in the login attempts it announces.
	origin string
	cfg    Config
	// now is the clock; tests may replace it.
	now func() time.Time
	// months holds the months (time.Time, UTC) whose readings partition is known to exist.
	months sync.Map
}

var _ riskmap.Store = (*Store)(nil)

// Open connects to the database at dsn with the default Config. It does not migrate.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return OpenConfig(ctx, Config{DSN: dsn})
}

// OpenConfig connects with cfg and checks that the server answers. It does not migrate.
func OpenConfig(ctx context.Context, cfg Config) (*Store, error) {
	cfg = cfg.withDefaults()
	pc, err := pgxpool.ParseConfig(cfg.DSN)
	if err != nil {
		// The parse error may quote the DSN, password included: say only what is wrong.
		return nil, riskmap.Errorf(riskmap.EINVALID, "无法解析 PostgreSQL 连接串；格式如 postgres://user@host:port/dbname?sslmode=disable")
	}
	cc := pc.ConnConfig
	// Values are always bound through the extended protocol, never interpolated.
	if cc.DefaultQueryExecMode == pgx.QueryExecModeSimpleProtocol {
		cc.DefaultQueryExecMode = pgx.QueryExecModeCacheStatement
	}
	cc.RuntimeParams["statement_timeout"] = strconv.FormatInt(cfg.StatementTimeout.Milliseconds(), 10)
	if _, set := cc.RuntimeParams["application_name"]; !set {
		cc.RuntimeParams["application_name"] = cfg.ApplicationName
	}
	// Timestamps come back as instants; UTC keeps both stores' output identical.
	cc.RuntimeParams["timezone"] = "UTC"
	// Prepared statements would otherwise switch to a generic plan after five runs, and a
	// generic plan can use neither the region-code prefix index (LIKE $1) nor the bbox's
	// real size to choose between the GiST index and a scan. Planning is cheap here.
	cc.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	} else if !strings.Contains(cfg.DSN, "pool_max_conns") {
		pc.MaxConns = DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, riskmap.Errorf(riskmap.EINVALID, "PostgreSQL 连接串不可用：%s", safeMessage(err))
	}
	s := &Store{pool: pool, cfg: cfg, now: time.Now, origin: riskmap.NewToken()[:12]}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// DefaultMaxConns is the pool's size unless the DSN says pool_max_conns=N. Measured with
// scripts/benchload (make bench: 64 clients, a tenth of the requests writes, pools of 4 to
// 32 on 2 cores), the server's CPU was the limit and the pool's size moved the waiting, not
// the throughput: a small pool (pgxpool's default, max(4, cores), is 4 here) queues writes
// for a connection (PUT p50 0.7–1.0 s) and leaves the CPU to reads (p50 2–12 ms), a large
// one shortens writes (32: 0.35–0.54 s) and slows every read (p50 28–47 ms). 16 is the
// middle and leaves room for the listener, the readings' group commit and bursts; two
// replicas stay far below PostgreSQL's default max_connections of 100.
const DefaultMaxConns = 16

// querier is what a pool and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// inTx runs fn in a transaction and commits it if fn returns nil.
func (s *Store) inTx(ctx context.Context, op string, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return dbError(op, err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // after Commit a no-op
	if err := fn(tx); err != nil {
		return err
	}
	return dbError(op+": commit", tx.Commit(ctx))
}

// Pool returns the connection pool, for tools that need raw access (benchmarks, QGIS
// checks). The store owns it: do not close it.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return riskmap.Errorf(riskmap.EUNAVAILABLE, "数据库没有响应：%s", safeMessage(err))
	}
	return nil
}

// Close closes the pool. It waits for connections in use to be released.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// timestamp is the store's clock: UTC, truncated to microseconds, the resolution both
// stores keep, so that what CreateUnit returns equals what GetUnit reads back.
func (s *Store) timestamp() time.Time {
	return s.now().UTC().Truncate(time.Microsecond)
}

// migrationLockKey is the pg_advisory_xact_lock key that serialises migrations of one
// database, so that two processes starting together do not both apply a file.
const migrationLockKey = 0x7269736b6d6170 // "riskmap"

// Migrate applies the migrations of sql/postgis that are not yet recorded in
// schema_migrations, in file-name order, each in its own transaction.
func (s *Store) Migrate(ctx context.Context) error {
	files, err := fs.Glob(schema.PostGIS, "postgis/*.sql")
	if err != nil {
		return fmt.Errorf("postgis: list migrations: %w", err)
	}
	sort.Strings(files)
	for _, f := range files {
		body, err := fs.ReadFile(schema.PostGIS, f)
		if err != nil {
			return fmt.Errorf("postgis: read migration %s: %w", f, err)
		}
		version := strings.TrimSuffix(path.Base(f), ".sql")
		if err := s.migrate(ctx, version, string(body)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) migrate(ctx context.Context, version, body string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT set_config('statement_timeout', $1, true)",
			strconv.FormatInt(s.cfg.MigrateTimeout.Milliseconds(), 10)); err != nil {
			return dbError("migrate", err)
		}
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLockKey)); err != nil {
			return dbError("migrate: lock", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version text PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return dbError("migrate: schema_migrations", err)
		}
		var done bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)", version).Scan(&done); err != nil {
			return dbError("migrate: check "+version, err)
		}
		if done {
			return nil
		}
		// A migration file holds several statements, so it goes through the simple
		// protocol; it is our own embedded text and has no values bound into it.
		if _, err := tx.Exec(ctx, body); err != nil {
			return fmt.Errorf("postgis: migration %s: %w", version, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", version); err != nil {
			return dbError("migrate: record "+version, err)
		}
		return nil
	})
}

// SQLSTATE codes the store tells apart.
const (
	sqlUniqueViolation = "23505"
	sqlCheckViolation  = "23514"
	sqlNotNull         = "23502"
	sqlQueryCanceled   = "57014"
	sqlAdminShutdown   = "57P01"
	sqlCrashShutdown   = "57P02"
	sqlCannotConnect   = "57P03"
	sqlTooManyConns    = "53300"
)

// dbError turns a database error into an application error where it has a meaning a user
// can act on. Anything else is wrapped as is: riskmap.ErrorCode reports it as EINTERNAL
// and riskmap.ErrorMessage as "internal error", and the full text is only for the log.
func dbError(op string, err error) error {
	if err == nil {
		return nil
	}
	var re *riskmap.Error
	if errors.As(err, &re) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("postgis: %s: %w", op, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case sqlQueryCanceled:
			return riskmap.Errorf(riskmap.EUNAVAILABLE, "数据库未能及时响应；请缩小查询范围或稍后再试")
		case sqlAdminShutdown, sqlCrashShutdown, sqlCannotConnect, sqlTooManyConns:
			return riskmap.Errorf(riskmap.EUNAVAILABLE, "数据库暂不可用，请稍后再试")
		case sqlCheckViolation, sqlNotNull:
			return riskmap.Errorf(riskmap.EINVALID, "有值超出风险清单允许的范围（%s）", columnOf(pe))
		}
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || connectionLost(err) {
		return riskmap.Errorf(riskmap.EUNAVAILABLE, "数据库暂不可用，请稍后再试")
	}
	return fmt.Errorf("postgis: %s: %w", op, err)
}

// connectionLost reports whether err says the connection to the server broke (the server
// stopped, or the network between): the client may try again later, with the same
// Idempotency-Key when the write's answer was lost.
func connectionLost(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "conn closed")
}

// columnOf names the column or constraint of a constraint error, never the SQL.
func columnOf(pe *pgconn.PgError) string {
	if pe.ColumnName != "" {
		return pe.ColumnName
	}
	return pe.ConstraintName
}

// safeMessage is the text of a connection error without a DSN in it. pgconn's connect
// errors name the host and user but never the password.
func safeMessage(err error) string {
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return ce.Unwrap().Error()
	}
	return err.Error()
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == sqlUniqueViolation
}

// constraintOf is the name of the constraint (or unique index) err violated, "" if none.
func constraintOf(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.ConstraintName
	}
	return ""
}
