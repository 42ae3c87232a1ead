package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/store/internal/record"
)

// SQLSTATEs the store maps.
const (
	uniqueViolation      = "23505"
	foreignKeyViolation  = "23503"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
)

// timeArg returns t as a timestamptz argument: NULL for the zero time.
// pgx sends microseconds, truncating finer fractions.
func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// dateArg returns d as a date argument: NULL for the zero date.
func dateArg(d consent.Date) any {
	if d.IsZero() {
		return nil
	}
	return pgtype.Date{Time: d.In(time.UTC), Valid: true}
}

// notNullBytes stores a nil slice as an empty bytea.
func notNullBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func consentArg(c *consent.Consent) (any, error) {
	b, err := record.EncodeConsent(c)
	if err != nil || b == nil {
		return nil, err
	}
	return string(b), nil
}

func timeOf(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

func dateOf(d pgtype.Date) consent.Date {
	if !d.Valid {
		return consent.Date{}
	}
	return consent.DateOf(d.Time, time.UTC)
}

// errStale is the conflict of an update whose Version is not the stored
// one.
var errStale = fmt.Errorf("%w: the record changed since it was read (stale version)", pixauto.ErrConflict)

// wrap names the operation and maps driver errors to the store's: no rows
// to ErrNotFound, a unique violation to ErrConflict, a foreign key
// violation to a missing record (ErrNotFound). A cancelled context is kept
// visible to errors.Is whatever the driver reports.
func wrap(ctx context.Context, op string, err error) error {
	err = mapErr(err)
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w (%w)", cerr, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

func mapErr(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return pixauto.ErrNotFound
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	// PgError's message names the constraint, never the values (those are
	// in Detail, which is left out).
	switch pe.Code {
	case uniqueViolation:
		return fmt.Errorf("%w (%w)", pixauto.ErrConflict, err)
	case foreignKeyViolation:
		return fmt.Errorf("%w: the record it refers to (%w)", pixauto.ErrNotFound, err)
	}
	return err
}

// timeValue is timeArg for arrays: the zero time is NULL.
func timeValue(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

// dateValue is dateArg for arrays: the zero date is NULL.
func dateValue(d consent.Date) pgtype.Date {
	if d.IsZero() {
		return pgtype.Date{}
	}
	return pgtype.Date{Time: d.In(time.UTC), Valid: true}
}
