package sqlite

import (
	"context"
	"database/sql"
	"iter"
	"strings"
)

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// where builds a WHERE clause from the set fields of a filter.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// in adds "col IN (…)" unless vals is empty.
func in[S ~string](w *where, col string, vals []S) {
	if len(vals) == 0 {
		return
	}
	marks := strings.Repeat(", ?", len(vals))[2:]
	w.conds = append(w.conds, col+" IN ("+marks+")")
	for _, v := range vals {
		w.args = append(w.args, string(v))
	}
}

// String returns the WHERE clause, or "" when no field is set.
func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// limit adds a LIMIT clause for a positive n.
func (w *where) limit(n int) string {
	if n <= 0 {
		return ""
	}
	w.args = append(w.args, n)
	return " LIMIT ?"
}

// stream runs a query and yields its rows one by one. The
// rows are closed when the loop ends, early or not; the context is checked
// before every row, so a cancelled context stops the loop at the next row.
func stream[T any](ctx context.Context, db *sql.DB, op, query string, args []any, scan func(scanner) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		rows, err := db.QueryContext(ctx, query, args...)
		if err != nil {
			yield(zero, wrap(ctx, op, err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			if err := ctx.Err(); err != nil {
				yield(zero, wrap(ctx, op, err))
				return
			}
			v, err := scan(rows)
			if err != nil {
				yield(zero, wrap(ctx, op, err))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(zero, wrap(ctx, op, err))
		}
	}
}

// collect runs a query on db and returns all its rows.
func collect[T any](ctx context.Context, db *sql.DB, op, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	out := []T{}
	for v, err := range stream(ctx, db, op, query, args, scan) {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// update runs an optimistic UPDATE (… WHERE id = ? AND version = ?) and
// tells a lost race (ErrConflict) from a missing record (ErrNotFound).
func update(ctx context.Context, db *sql.DB, table, op, query string, args []any, id string) error {
	res, err := db.ExecContext(ctx, query, args...)
	if err != nil {
		return wrap(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(ctx, op, err)
	}
	if n == 1 {
		return nil
	}
	var one int
	err = db.QueryRowContext(ctx, "SELECT 1 FROM "+table+" WHERE id = ?", id).Scan(&one)
	if err != nil {
		return wrap(ctx, op, err) // ErrNotFound if it does not exist
	}
	return wrap(ctx, op, errStale)
}
