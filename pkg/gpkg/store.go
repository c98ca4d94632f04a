// Package gpkg is the embedded store: one GeoPackage file (SQLite), which QGIS and GDAL open
// directly. It implements riskmap.Store with the same table and column names as the PostGIS
// store, writes GeoPackage geometry blobs itself, and keeps the gpkg_rtree_index spatial
// indexes that desktop GIS use.
package gpkg

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"riskmap/pkg/riskmap"
	schema "riskmap/sql"
)

// applicationID is "GPKG", the SQLite application_id of a GeoPackage 1.2+ file.
const applicationID = 0x47504B47

// Options tune a store. The zero value is the default.
type Options struct {
	// BusyTimeout is how long a statement waits for a lock held by another program (QGIS
	// editing the file, say) before it fails. Default 5 s.
	BusyTimeout time.Duration
	// Readers is the most concurrent read connections. Default 4.
	Readers int
}

// Store is the GeoPackage store. It is safe for concurrent use.
//
// SQLite lets one connection write at a time. The store therefore writes through a pool of
// exactly one connection, so writers queue in Go (honouring their contexts) instead of
// spinning on SQLITE_BUSY, and reads through a separate pool that WAL mode lets run beside
// the writer, each on a consistent snapshot.
type Store struct {
	path string
	w    *sql.DB
	r    *sql.DB
}

var _ riskmap.Store = (*Store)(nil)

// Open opens the GeoPackage at path, creating the file and its directory if missing. It does
// not migrate; call Migrate. A SQLite file that is not a GeoPackage is refused, so that a
// mistyped --db does not write riskmap tables into someone else's database.
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, path string, opt Options) (*Store, error) {
	if path == "" {
		return nil, riskmap.Errorf(riskmap.EINVALID, "GeoPackage 路径为空")
	}
	if opt.BusyTimeout <= 0 {
		opt.BusyTimeout = 5 * time.Second
	}
	if opt.Readers <= 0 {
		opt.Readers = 4
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("gpkg: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, fmt.Errorf("gpkg: create the directory of %s: %w", path, err)
	}
	drv, err := newDriver()
	if err != nil {
		return nil, err
	}
	// A file: URI, so that any character in the path (?, #, %) is taken literally.
	dsn := func(txlock string, pragmas ...string) string {
		q := url.Values{}
		for _, p := range append([]string{
			fmt.Sprintf("busy_timeout(%d)", opt.BusyTimeout.Milliseconds()),
			"foreign_keys(1)",
			// NORMAL is durable in WAL mode but for the last transactions before a power cut.
			"synchronous(NORMAL)",
			// Statement journals in memory: every insert fires the R-tree trigger, so SQLite
			// keeps a statement journal for it, and on disk that costs a write per statement.
			"temp_store(MEMORY)",
		}, pragmas...) {
			q.Add("_pragma", p)
		}
		if txlock != "" {
			q.Set("_txlock", txlock)
		}
		u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
		return u.String()
	}
	// IMMEDIATE takes the write lock at BEGIN, so a transaction never fails half-way on a
	// lock another program holds.
	w := sql.OpenDB(connector{drv: drv, dsn: dsn("immediate", fmt.Sprintf("cache_size(%d)", writerCacheKiB))})
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	s := &Store{path: abs, w: w}

	if err := s.checkFile(ctx); err != nil {
		w.Close()
		return nil, err
	}
	s.r = sql.OpenDB(connector{drv: drv, dsn: dsn("", "query_only(1)")})
	s.r.SetMaxOpenConns(opt.Readers)
	s.r.SetMaxIdleConns(opt.Readers)
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// checkFile refuses a file that is some other application's database and turns on WAL.
func (s *Store) checkFile(ctx context.Context) error {
	var appID int64
	if err := s.w.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		var se *sqlite.Error
		if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_NOTADB {
			return riskmap.Errorf(riskmap.EINVALID, "%s 不是 GeoPackage（也不是 SQLite 文件）", s.path)
		}
		return s.dbErr(err, "open %s", s.path)
	}
	if appID != 0 && appID != applicationID {
		return riskmap.Errorf(riskmap.EINVALID, "%s 是其他程序的 SQLite 文件（application_id %#x），不是 GeoPackage", s.path, appID)
	}
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return s.dbErr(err, "set WAL mode")
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("gpkg: %s: journal mode is %q, want wal", s.path, mode)
	}
	return nil
}

// The writer's page cache, in KiB (negative cache_size). A bulk load raises it so that the
// index pages of a million units stay in memory; SQLite gives the memory back when it is
// lowered again.
const (
	writerCacheKiB = -64 << 10
	bulkCacheKiB   = -512 << 10
)

// connector hands database/sql the store's private driver.
type connector struct {
	drv *sqlite.Driver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.drv }

// Path returns the absolute path of the file.
func (s *Store) Path() string { return s.path }

// Ping reports whether both pools answer.
func (s *Store) Ping(ctx context.Context) error {
	for _, db := range []*sql.DB{s.w, s.r} {
		var one int
		if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			return s.dbErr(err, "ping")
		}
	}
	return nil
}

// Close closes the file. The last connection to close checkpoints the WAL into the main
// file and removes it, so the .gpkg alone is complete afterwards.
func (s *Store) Close() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		// Cheap statistics upkeep for the query planner; failure only costs speed.
		_, _ = s.w.Exec("PRAGMA optimize")
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}

// Migrate applies the migrations of sql/gpkg that the file has not seen, each in its own
// transaction, and records them in schema_migrations.
func (s *Store) Migrate(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    TEXT PRIMARY KEY,
    applied_at DATETIME NOT NULL
)`); err != nil {
		return s.dbErr(err, "create schema_migrations")
	}
	names, err := fs.Glob(schema.GeoPackage, "gpkg/*.sql")
	if err != nil {
		return fmt.Errorf("gpkg: list migrations: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(filepath.Base(name), ".sql")
		if err := s.migrate(ctx, name, version); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) migrate(ctx context.Context, name, version string) error {
	text, err := fs.ReadFile(schema.GeoPackage, name)
	if err != nil {
		return fmt.Errorf("gpkg: read migration %s: %w", name, err)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", version).Scan(&n); err != nil {
			return s.dbErr(err, "migration %s", version)
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, string(text)); err != nil {
			return s.dbErr(err, "migration %s", version)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
			version, formatTime(now())); err != nil {
			return s.dbErr(err, "record migration %s", version)
		}
		return nil
	})
}

// beginner is what *sql.DB and *sql.Conn have in common.
type beginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// inTx runs fn in a write transaction and commits it if fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.inTxOn(ctx, s.w, fn)
}

// inTxOn is inTx on a given connection or pool.
func (s *Store) inTxOn(ctx context.Context, db beginner, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return s.dbErr(err, "begin")
	}
	// Also when fn panics: a transaction left open would hold the only write connection.
	// After Commit, Rollback is a no-op.
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.dbErr(err, "commit")
	}
	return nil
}

// dbErr turns a driver error into the error the caller sees. A lock held by another program
// is EUNAVAILABLE; a cancelled context stays recognisable with errors.Is; anything else is an
// internal error whose text never reaches a user.
func (s *Store) dbErr(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	var re *riskmap.Error
	if errors.As(err, &re) {
		return err
	}
	if full := diskFull(err); full != nil {
		return full
	}
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY {
		return riskmap.Errorf(riskmap.EUNAVAILABLE, "GeoPackage 文件被其他程序锁定，请稍后再试")
	}
	return fmt.Errorf("gpkg: %s: %w", fmt.Sprintf(format, args...), err)
}

// diskFull is the error of a write that found no room (SQLITE_FULL: the disk or the
// file's size limit), or nil. SQLite rolls the transaction back and the file stays
// consistent: nothing is written, and writes succeed again once there is room.
func diskFull(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL {
		return riskmap.Errorf(riskmap.EUNAVAILABLE, "磁盘空间不足，GeoPackage 文件无法写入；未保存任何更改，请清理磁盘后重试")
	}
	return nil
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY constraint violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// now is the store's clock: UTC, truncated to the millisecond that a GeoPackage DATETIME
// holds, so that what a write returns equals what a read returns.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// timeLayout is the GeoPackage DATETIME format.
const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// parseTimes reads the DATETIMEs src into dst, in order.
func parseTimes(src []string, dst ...*time.Time) error {
	for i, text := range src {
		t, err := parseTime(text)
		if err != nil {
			return err
		}
		*dst[i] = t
	}
	return nil
}

// parseTime reads a DATETIME. Besides the GeoPackage form it accepts any RFC 3339 time, as
// QGIS or a script may have written one.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		t, err = time.Parse(time.RFC3339Nano, s)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("gpkg: bad DATETIME %q", s)
	}
	return t.UTC(), nil
}

// dateLayout is the GeoPackage DATE format.
const dateLayout = "2006-01-02"
