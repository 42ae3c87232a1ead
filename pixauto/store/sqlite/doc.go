// Package sqlite is a [pixauto.Store] on SQLite, through the pure-Go driver
// modernc.org/sqlite (no cgo). It is the embedded default: one file, no
// server.
//
// # Connections
//
// SQLite allows one writer at a time, so [Open] makes two pools on the
// file:
//
//   - a write pool of exactly one connection, whose transactions begin with
//     BEGIN IMMEDIATE (_txlock=immediate): writers of this process queue in
//     database/sql (honouring their contexts) instead of failing with
//     SQLITE_BUSY, and a transaction never has to upgrade a read lock to a
//     write lock, which WAL refuses when another connection committed in
//     between;
//   - a read pool of several query-only connections: in WAL mode readers do
//     not block the writer nor each other, and an open iterator from
//     [Store.ListCharges] does not stop the loop body from updating the
//     charges it reads.
//
// Every connection sets busy_timeout (other processes on the same file wait
// for the lock instead of failing) and foreign_keys. The write connection
// sets journal_mode=WAL and synchronous=FULL: a commit is on disk before
// the store returns, because the Initiator sends a payment only after its
// E2EID and idempotency key are stored. It also keeps a page cache of up
// to 64 MiB ([WithCacheSize]) and checkpoints the WAL every 10,000 pages:
// a billing run's batches insert random keys (UUIDs, E2EIDs) all over the
// indexes, and SQLite's defaults (2 MiB, 1,000 pages) made every commit
// read index pages back and copy them to the database again.
//
// [Store.DB] is the write pool, for sharing with River's SQLite driver.
//
// # Schema
//
// The migrations in migrations/ are embedded and applied by [Open] in one
// immediate transaction, so two processes opening the same file apply each
// migration once. Timestamps are stored as UTC text with microsecond
// precision (finer fractions are truncated, as PostgreSQL does), dates as
// YYYY-MM-DD, amounts as integer centavos; a zero time or date is NULL.
// Uniqueness rules live in the schema, and their violations are reported as
// [pixauto.ErrConflict].
package sqlite
