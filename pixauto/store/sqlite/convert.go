package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/store/internal/record"
)

// timeLayout is fixed width, so that stored times sort as text.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// timeArg returns t as stored: UTC text truncated to the microsecond, or
// NULL for the zero time.
func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeLayout)
}

// dateArg returns d as stored: YYYY-MM-DD, or NULL for the zero date.
func dateArg(d consent.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.String()
}

// blobArg keeps nil as NULL and an empty slice as an empty blob.
func blobArg(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// notNullBlob stores a nil slice as an empty blob.
func notNullBlob(b []byte) []byte {
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

// decoder converts stored columns back, keeping the first error.
type decoder struct{ err error }

func (d *decoder) time(s sql.NullString) time.Time {
	if !s.Valid || d.err != nil {
		return time.Time{}
	}
	t, err := time.Parse(timeLayout, s.String)
	if err != nil {
		d.err = fmt.Errorf("stored time %q: %w", s.String, err)
	}
	return t
}

func (d *decoder) date(s sql.NullString) consent.Date {
	if !s.Valid || d.err != nil {
		return consent.Date{}
	}
	v, err := consent.ParseDate(s.String)
	if err != nil {
		d.err = fmt.Errorf("stored date: %w", err)
	}
	return v
}

func (d *decoder) consent(s sql.NullString) *consent.Consent {
	if !s.Valid || d.err != nil {
		return nil
	}
	c, err := record.DecodeConsent([]byte(s.String))
	if err != nil {
		d.err = err
	}
	return c
}

// errStale is the conflict of an update whose Version is not the stored
// one.
var errStale = fmt.Errorf("%w: the record changed since it was read (stale version)", pixauto.ErrConflict)

// wrap names the operation and maps driver errors to the store's: no rows
// to ErrNotFound, a broken uniqueness rule to ErrConflict, a foreign key to
// a missing record (ErrNotFound). A cancelled context is kept visible to
// errors.Is even when the driver reports only an interruption.
func wrap(ctx context.Context, op string, err error) error {
	err = mapErr(err)
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w (%w)", cerr, err)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

func mapErr(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return pixauto.ErrNotFound
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w (%w)", pixauto.ErrConflict, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w: the record it refers to (%w)", pixauto.ErrNotFound, err)
	}
	return err
}
