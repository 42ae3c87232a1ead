package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/ofb-go/pixauto/pixauto"
)

const attemptColumns = `id, charge_id, consent_id, seq, kind, end_to_end_id, idempotency_key,
	date, state, submit_at, payment_id, status, rejection_code, request, next_check_at,
	created_at, updated_at, version`

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func attemptArgs(a *pixauto.AttemptRecord) []any {
	return []any{a.ID, a.ChargeID, a.ConsentID, a.Seq, int64(a.Kind), a.EndToEndID, a.IdempotencyKey,
		dateArg(a.Date), string(a.State), timeArg(a.SubmitAt), a.PaymentID, string(a.Status),
		string(a.RejectionCode), a.Request, timeArg(a.NextCheckAt),
		timeArg(a.CreatedAt), timeArg(a.UpdatedAt), a.Version}
}

func insertAttempt(ctx context.Context, db execer, a *pixauto.AttemptRecord) error {
	_, err := db.Exec(ctx, `INSERT INTO pixauto_attempt (`+attemptColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
		attemptArgs(a)...)
	return err
}

// InsertAttempt stores a new attempt (a retry). ErrConflict if its E2EID
// or idempotency key is taken, or (ChargeID, Seq) exists; ErrNotFound if its
// charge or consent is not stored.
func (s *Store) InsertAttempt(ctx context.Context, a *pixauto.AttemptRecord) error {
	if err := insertAttempt(ctx, s.pool, a); err != nil {
		return wrap(ctx, "insert attempt "+a.ID, err)
	}
	return nil
}

// UpdateAttempt replaces every field of an attempt but its ID if a.Version
// is the stored version (else ErrConflict; ErrNotFound if there is no such
// attempt), and increments a.Version. A PaymentID already held by another
// attempt is ErrConflict too.
func (s *Store) UpdateAttempt(ctx context.Context, a *pixauto.AttemptRecord) error {
	args := attemptArgs(a)
	args = append(args[1:17:17], a.ID, a.Version) // charge_id … updated_at, then the key
	err := update(ctx, s.pool, "pixauto_attempt", "update attempt "+a.ID, `UPDATE pixauto_attempt SET
		charge_id = $1, consent_id = $2, seq = $3, kind = $4, end_to_end_id = $5, idempotency_key = $6,
		date = $7, state = $8, submit_at = $9, payment_id = $10, status = $11, rejection_code = $12,
		request = $13, next_check_at = $14, created_at = $15, updated_at = $16, version = version + 1
		WHERE id = $17 AND version = $18`, args, a.ID)
	if err != nil {
		return err
	}
	a.Version++
	return nil
}

// GetAttempt returns an attempt or ErrNotFound.
func (s *Store) GetAttempt(ctx context.Context, id string) (*pixauto.AttemptRecord, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+attemptColumns+` FROM pixauto_attempt WHERE id = $1`, id)
	a, err := scanAttempt(row)
	if err != nil {
		return nil, wrap(ctx, "get attempt "+id, err)
	}
	return a, nil
}

// AttemptByPaymentID returns the attempt the bank knows by paymentID, or
// ErrNotFound (always, for the empty paymentID).
func (s *Store) AttemptByPaymentID(ctx context.Context, paymentID string) (*pixauto.AttemptRecord, error) {
	op := "attempt by payment id " + paymentID
	if paymentID == "" {
		return nil, wrap(ctx, op, pixauto.ErrNotFound)
	}
	row := s.pool.QueryRow(ctx, `SELECT `+attemptColumns+` FROM pixauto_attempt WHERE payment_id = $1`, paymentID)
	a, err := scanAttempt(row)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	return a, nil
}

// ListAttempts returns a charge's attempts in Seq order; none (and no
// error) for an unknown charge.
func (s *Store) ListAttempts(ctx context.Context, chargeID string) ([]*pixauto.AttemptRecord, error) {
	return collect(ctx, s.pool, "list attempts of charge "+chargeID,
		`SELECT `+attemptColumns+` FROM pixauto_attempt WHERE charge_id = $1 ORDER BY seq`,
		[]any{chargeID}, scanAttempt)
}

// DueAttempts returns the attempts matching every set field of f, oldest
// SubmitAt first (attempts without one last), then by ID.
func (s *Store) DueAttempts(ctx context.Context, f pixauto.AttemptFilter) ([]*pixauto.AttemptRecord, error) {
	var w where
	in(&w, "state", f.States)
	if !f.SubmitBefore.IsZero() {
		w.add("submit_at <= ?", f.SubmitBefore)
	}
	if !f.CheckDueBefore.IsZero() {
		w.add("next_check_at <= ?", f.CheckDueBefore)
	}
	q := `SELECT ` + attemptColumns + ` FROM pixauto_attempt` + w.String() +
		` ORDER BY submit_at NULLS LAST, id` + w.limit(f.Limit)
	return collect(ctx, s.pool, "due attempts", q, w.args, scanAttempt)
}

func scanAttempt(row pgx.Row) (*pixauto.AttemptRecord, error) {
	var (
		a                      pixauto.AttemptRecord
		date                   pgtype.Date
		submit, next, crt, upd pgtype.Timestamptz
	)
	err := row.Scan(&a.ID, &a.ChargeID, &a.ConsentID, &a.Seq, &a.Kind, &a.EndToEndID, &a.IdempotencyKey,
		&date, &a.State, &submit, &a.PaymentID, &a.Status, &a.RejectionCode, &a.Request, &next,
		&crt, &upd, &a.Version)
	if err != nil {
		return nil, err
	}
	a.Date = dateOf(date)
	a.SubmitAt, a.NextCheckAt = timeOf(submit), timeOf(next)
	a.CreatedAt, a.UpdatedAt = timeOf(crt), timeOf(upd)
	return &a, nil
}
