// Package postgres is a [pixauto.Store] on PostgreSQL, through
// github.com/jackc/pgx/v5 and its pool. Several processes may share one
// database.
//
// # Schema
//
// The migrations in migrations/ are embedded. [Open] applies the pending
// ones in one transaction that first takes a transaction-level advisory
// lock keyed on the current schema, so two processes starting at once do
// not race: the second waits, then finds nothing left to do. A store made
// with [New] on a caller's pool applies them when [Store.Migrate] is
// called. The tables live in the first schema of the connections'
// search_path.
//
// IDs are compared in byte order (COLLATE "C") whatever the database's
// locale, so that keyset paging agrees with Go and with the SQLite store.
// Timestamps are timestamptz and come back in UTC (microsecond precision,
// finer fractions are truncated), dates are date, amounts are bigint
// centavos; a zero time or date is NULL. Uniqueness rules live in the
// schema (unique and partial unique indexes), and their violations are
// reported as [pixauto.ErrConflict].
//
// # Concurrency
//
// Updates are optimistic: UPDATE … WHERE id = $1 AND version = $2 under
// READ COMMITTED, so of concurrent updates of one version exactly one
// matches. TakeAuthorization is one DELETE … RETURNING. An iterator from
// ListConsents or ListCharges holds a pool connection until its loop ends;
// the loop body may use the store (it takes another connection).
// InsertCharges inserts a whole batch in one statement (one array per
// column); when a concurrent writer commits a conflicting record while it
// runs, the batch's transaction is rolled back and run again, so that
// every plan is still stored whole or skipped whole.
//
// [Store.Pool] is the pool, for sharing with River's pgx driver.
package postgres
