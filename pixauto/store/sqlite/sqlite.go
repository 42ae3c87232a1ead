package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/store/internal/migration"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a [pixauto.Store] on one SQLite file. It is safe for concurrent
// use, also by several processes sharing the file.
type Store struct {
	write *sql.DB // one connection, BEGIN IMMEDIATE
	read  *sql.DB // query-only connections
}

var _ pixauto.Store = (*Store)(nil)

// Option configures [Open].
type Option func(*config)

type config struct {
	busyTimeout time.Duration
	readConns   int
	cacheSize   int64
}

// Write connection settings for batches (InsertCharges): random keys (UUIDs,
// E2EIDs) spread every batch over most index pages, so the write
// connection keeps a page cache that holds the indexes of a large table
// (SQLite's default is 2 MiB), and checkpoints the WAL every 10,000 pages
// (about 40 MiB) instead of 1,000, so that an index page written by
// several commits in a row is copied back to the database once.
const (
	defaultCacheSize  = 64 << 20
	walAutoCheckpoint = 10_000
)

// WithBusyTimeout sets how long a connection waits for a lock held by
// another process before failing with SQLITE_BUSY (default 5s).
func WithBusyTimeout(d time.Duration) Option {
	return func(c *config) { c.busyTimeout = d }
}

// WithReadConns sets the number of read connections (default 4). Each open
// iterator from ListConsents or ListCharges holds one until its loop ends,
// so a loop body that reads needs a second one: with a single read
// connection, a Get inside a List loop waits forever (or until its context
// ends).
func WithReadConns(n int) Option {
	return func(c *config) { c.readConns = n }
}

// WithCacheSize sets the most memory, in bytes, the write connection's
// page cache may take (default 64 MiB; it grows only as pages are read).
// It is SQLite's memory, not Go's heap. Read connections keep SQLite's
// default of 2 MiB each.
func WithCacheSize(bytes int64) Option {
	return func(c *config) { c.cacheSize = bytes }
}

// Open opens (creating it if needed) the database file at path and applies
// the pending migrations. The path must name a file: an in-memory database
// cannot be shared by the read and write pools (tests use t.TempDir()).
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	cfg := config{busyTimeout: 5 * time.Second, readConns: 4, cacheSize: defaultCacheSize}
	for _, o := range opts {
		o(&cfg)
	}
	if err := checkPath(path); err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	if cfg.readConns < 1 {
		return nil, fmt.Errorf("sqlite: open: %d read connections; want at least 1", cfg.readConns)
	}
	if cfg.cacheSize < 1024 {
		return nil, fmt.Errorf("sqlite: open: a cache of %d bytes; want at least 1 KiB", cfg.cacheSize)
	}
	s, err := open(ctx, path, cfg)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	return s, nil
}

func checkPath(path string) error {
	p := strings.TrimPrefix(path, "file:")
	switch {
	case p == "":
		return errors.New("empty path")
	case p == ":memory:":
		return errors.New("an in-memory database cannot be shared by the read and write pools; use a file")
	case strings.HasPrefix(path, "file:"):
		return errors.New("give a file path, not a URI: Open sets the connection parameters itself")
	}
	return nil
}

func open(ctx context.Context, path string, cfg config) (*Store, error) {
	write, err := sql.Open("sqlite", dsn(path, cfg, true))
	if err != nil {
		return nil, err
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)
	s := &Store{write: write}
	if err := s.setUp(ctx, path, cfg); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

func (s *Store) setUp(ctx context.Context, path string, cfg config) error {
	var mode string
	if err := s.write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode is %q, not wal (is the file on a filesystem without shared memory?)", mode)
	}
	if err := migrate(ctx, s.write); err != nil {
		return err
	}
	read, err := sql.Open("sqlite", dsn(path, cfg, false))
	if err != nil {
		return err
	}
	read.SetMaxOpenConns(cfg.readConns)
	read.SetMaxIdleConns(cfg.readConns)
	s.read = read
	return read.PingContext(ctx)
}

// dsn returns the modernc.org/sqlite data source name of a pool. The path is
// given as a file: URI (escaped, so that '?' or '#' in a file name cannot be
// read as parameters); the driver runs the _pragma values on every new
// connection, busy_timeout first.
func dsn(path string, cfg config, write bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", cfg.busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	if write {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(FULL)")
		q.Add("_pragma", fmt.Sprintf("cache_size(%d)", -cfg.cacheSize/1024)) // negative: KiB
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walAutoCheckpoint))
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	u := url.URL{Path: path}
	return "file:" + u.EscapedPath() + "?" + q.Encode()
}

func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := migration.Load(migrations, "migrations")
	if err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: other processes wait
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS pixauto_migration (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_at TEXT    NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM pixauto_migration`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("migrate: the database is at version %d, newer than this program's %d", current, len(ms))
	}
	for _, m := range ms[current:] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate: %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO pixauto_migration (version, name, applied_at)
			VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`, m.Version, m.Name); err != nil {
			return fmt.Errorf("migrate: %s: %w", m.Name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// DB returns the write pool (one connection, immediate transactions), for
// sharing with River's SQLite driver. Do not change its pool settings.
func (s *Store) DB() *sql.DB { return s.write }

// Close closes both pools. Iterators still open fail.
func (s *Store) Close() error {
	var errs []error
	if s.read != nil {
		errs = append(errs, s.read.Close())
	}
	errs = append(errs, s.write.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}
