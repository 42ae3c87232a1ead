// Package migration reads the versioned SQL migrations that the store
// packages embed. It knows nothing of any database: each store applies the
// list in its own transaction, under its own lock.
package migration
