package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/store/internal/record"
)

const authorizationColumns = `state, consent_id, holder_id, sealed, expires_at, created_at`

// PutAuthorization stores a pending authorization; ErrConflict if one with
// the same state exists (a state is never reused).
func (s *Store) PutAuthorization(ctx context.Context, a *pixauto.AuthorizationRecord) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO pixauto_authorization (`+authorizationColumns+`)
		VALUES (?, ?, ?, ?, ?, ?)`,
		a.State, a.ConsentID, a.HolderID, notNullBlob(a.Sealed), timeArg(a.ExpiresAt), timeArg(a.CreatedAt))
	if err != nil {
		return wrap(ctx, "put authorization", err)
	}
	return nil
}

// TakeAuthorization returns and deletes the authorization with that state,
// in one statement: of two concurrent takers, one gets it and the other
// ErrNotFound. Expiry is the caller's to check.
func (s *Store) TakeAuthorization(ctx context.Context, state string) (*pixauto.AuthorizationRecord, error) {
	row := s.write.QueryRowContext(ctx, `DELETE FROM pixauto_authorization WHERE state = ?
		RETURNING `+authorizationColumns, state)
	var (
		a        pixauto.AuthorizationRecord
		exp, crt sql.NullString
	)
	if err := row.Scan(&a.State, &a.ConsentID, &a.HolderID, &a.Sealed, &exp, &crt); err != nil {
		return nil, wrap(ctx, "take authorization", err)
	}
	var d decoder
	a.ExpiresAt, a.CreatedAt = d.time(exp), d.time(crt)
	if d.err != nil {
		return nil, wrap(ctx, "take authorization", d.err)
	}
	return &a, nil
}

// PutSecret stores an opaque value under key, replacing any older one.
func (s *Store) PutSecret(ctx context.Context, key string, value []byte) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO pixauto_secret (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, notNullBlob(value))
	if err != nil {
		return wrap(ctx, "put secret "+key, err)
	}
	return nil
}

// GetSecret returns the value stored under key, or ErrNotFound.
func (s *Store) GetSecret(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.read.QueryRowContext(ctx, `SELECT value FROM pixauto_secret WHERE key = ?`, key).Scan(&v)
	if err != nil {
		return nil, wrap(ctx, "get secret "+key, err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// DeleteExpiredAuthorizations deletes the authorizations whose ExpiresAt
// is before before (a zero ExpiresAt counts as the zero time), and returns
// how many it deleted.
func (s *Store) DeleteExpiredAuthorizations(ctx context.Context, before time.Time) (int, error) {
	const op = "delete expired authorizations"
	bound, ok := record.ExpiryBound(before)
	if !ok {
		if err := ctx.Err(); err != nil {
			return 0, wrap(ctx, op, err)
		}
		return 0, nil
	}
	res, err := s.write.ExecContext(ctx, `DELETE FROM pixauto_authorization
		WHERE expires_at IS NULL OR expires_at < ?`, timeArg(bound))
	if err != nil {
		return 0, wrap(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, wrap(ctx, op, err)
	}
	return int(n), nil
}
