package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// Driver is the database River keeps its jobs in: the store's own, so that
// one backup holds both. Make one with [SQLite] or [Postgres].
type Driver struct {
	name      string
	newClient func(*river.Config) (riverClient, error)
	migrate   func(ctx context.Context, log *slog.Logger) error
}

// SQLite keeps the jobs in the SQLite store's database: db is the store's
// write pool (sqlite.Store.DB), one connection whose transactions begin
// IMMEDIATE, which is how River's SQLite driver wants it (a single
// connection, so that River's concurrent operations queue instead of
// failing with SQLITE_BUSY). The store's writes and River's share it.
func SQLite(db *sql.DB) Driver {
	d := riversqlite.New(db)
	return Driver{
		name:      "sqlite",
		newClient: func(c *river.Config) (riverClient, error) { return river.NewClient(d, c) },
		migrate:   func(ctx context.Context, log *slog.Logger) error { return migrateUp(ctx, d, log) },
	}
}

// Postgres keeps the jobs in the PostgreSQL store's database: pool is the
// store's (postgres.Store.Pool). River's tables are created in the pool's
// current schema (search_path), beside the store's.
func Postgres(pool *pgxpool.Pool) Driver {
	d := riverpgxv5.New(pool)
	return Driver{
		name:      "postgres",
		newClient: func(c *river.Config) (riverClient, error) { return river.NewClient(d, c) },
		migrate: func(ctx context.Context, log *slog.Logger) error {
			return withAdvisoryLock(ctx, pool, func() error { return migrateUp(ctx, d, log) })
		},
	}
}

func (d Driver) valid() bool { return d.newClient != nil }

// riverClient is what the Runner uses of a *river.Client, whatever its
// transaction type.
type riverClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	InsertMany(ctx context.Context, params []river.InsertManyParams) ([]*rivertype.JobInsertResult, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	SubscribeConfig(config *river.SubscribeConfig) (<-chan *river.Event, func())
}

func migrateUp[TTx any](ctx context.Context, d riverdriver.Driver[TTx], log *slog.Logger) error {
	m, err := rivermigrate.New(d, &rivermigrate.Config{Logger: log})
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// withAdvisoryLock runs f holding a session advisory lock keyed on the
// current schema, so that processes starting together apply River's
// migrations one after the other (River's migrator does not lock). The lock
// is held on a connection of its own: the pool needs at least two.
func withAdvisoryLock(ctx context.Context, pool *pgxpool.Pool, f func() error) (err error) {
	const key = `hashtextextended('pixauto:river:migrate:' || current_schema(), 0)`
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(`+key+`)`); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	defer func() {
		var unlocked bool
		uerr := conn.QueryRow(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`).Scan(&unlocked)
		if uerr == nil && !unlocked {
			uerr = errors.New("the lock was not held")
		}
		if uerr != nil {
			// A connection that may still hold the lock must not go back
			// to the pool.
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
			err = errors.Join(err, fmt.Errorf("unlock: %w", uerr))
		}
	}()
	return f()
}
