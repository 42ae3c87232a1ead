package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/store/internal/migration"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a [pixauto.Store] on a PostgreSQL pool. It is safe for
// concurrent use, also by several processes sharing the database.
type Store struct {
	pool  *pgxpool.Pool
	owned bool // Close closes the pool
	// afterCheck, if set, runs in InsertCharges between the check against
	// the stored records and the insert (tests commit a conflicting record
	// there).
	afterCheck func()
}

var _ pixauto.Store = (*Store)(nil)

// Open connects to the database at url (a pgx connection string: URL or
// key=value; pool settings such as pool_max_conns are read from it) and
// applies the pending migrations.
func Open(ctx context.Context, url string) (*Store, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	s := &Store{pool: pool, owned: true}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return s, nil
}

// New returns a store on a pool the caller owns: Close leaves it open, and
// the schema is not touched until [Store.Migrate] is called.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool}
}

// Pool returns the store's pool, for sharing with River's pgx driver.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close closes the pool if Open made it; a pool given to New is left to
// its owner.
func (s *Store) Close() error {
	if s.owned {
		s.pool.Close()
	}
	return nil
}

// Migrate applies the migrations the database does not have yet, in one
// transaction under an advisory lock keyed on the current schema. It is
// idempotent, and refuses a database migrated by a newer program.
func (s *Store) Migrate(ctx context.Context) error {
	if err := s.migrate(ctx); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	ms, err := migration.Load(migrations, "migrations")
	if err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	steps := []string{
		`SELECT pg_advisory_xact_lock(hashtextextended('pixauto:migrate:' || current_schema(), 0))`,
		`CREATE TABLE IF NOT EXISTS pixauto_migration (
			version    integer PRIMARY KEY,
			name       text        NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`,
	}
	for _, q := range steps {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM pixauto_migration`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("migrate: the database is at version %d, newer than this program's %d", current, len(ms))
	}
	for _, m := range ms[current:] {
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return fmt.Errorf("migrate: %s: %w", m.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO pixauto_migration (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			return fmt.Errorf("migrate: %s: %w", m.Name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}
