package postgres

import (
	"context"
	"iter"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// where builds a WHERE clause from the set fields of a filter, numbering
// the placeholders.
type where struct {
	conds []string
	args  []any
}

// add adds a condition; each "?" in cond becomes the next $n.
func (w *where) add(cond string, arg any) {
	w.args = append(w.args, arg)
	w.conds = append(w.conds, strings.Replace(cond, "?", "$"+strconv.Itoa(len(w.args)), 1))
}

// in adds "col = ANY($n)" unless vals is empty.
func in[S ~string](w *where, col string, vals []S) {
	if len(vals) == 0 {
		return
	}
	ss := make([]string, len(vals))
	for i, v := range vals {
		ss[i] = string(v)
	}
	w.add(col+" = ANY(?)", ss)
}

// String returns the WHERE clause, or "" when no field is set.
func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// limit returns a LIMIT clause for a positive n.
func (w *where) limit(n int) string {
	if n <= 0 {
		return ""
	}
	w.args = append(w.args, n)
	return " LIMIT $" + strconv.Itoa(len(w.args))
}

// stream runs a query and yields its rows one by one. The rows (and their
// connection) are released when the loop ends, early or not; the context is
// checked before every row, so a cancelled context stops the loop at the
// next row.
func stream[T any](ctx context.Context, pool *pgxpool.Pool, op, query string, args []any, scan func(pgx.Row) (T, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		rows, err := pool.Query(ctx, query, args...)
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

// collect runs a query and returns all its rows.
func collect[T any](ctx context.Context, pool *pgxpool.Pool, op, query string, args []any, scan func(pgx.Row) (T, error)) ([]T, error) {
	out := []T{}
	for v, err := range stream(ctx, pool, op, query, args, scan) {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// update runs an optimistic UPDATE (… WHERE id = $a AND version = $b) and
// tells a lost race (ErrConflict) from a missing record (ErrNotFound).
func update(ctx context.Context, pool *pgxpool.Pool, table, op, query string, args []any, id string) error {
	tag, err := pool.Exec(ctx, query, args...)
	if err != nil {
		return wrap(ctx, op, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var one int
	err = pool.QueryRow(ctx, "SELECT 1 FROM "+table+" WHERE id = $1", id).Scan(&one)
	if err != nil {
		return wrap(ctx, op, err) // ErrNotFound if it does not exist
	}
	return wrap(ctx, op, errStale)
}
