package postgres

import (
	"context"
	"fmt"
	"iter"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/store/internal/record"
)

const chargeColumns = `id, receiver_id, consent_id, holder_id, reference, amount, due_date,
	status, failure_code, description, external_id, created_at, updated_at, version`

// InsertCharge stores a new charge with its first attempt in one
// transaction: if either breaks a rule, neither is stored. ErrConflict if
// the consent has a live charge for the Reference, or the E2EID, idempotency
// key or (ReceiverID, ExternalID) is taken; ErrNotFound if the consent is
// not stored. first must name c and c's consent.
func (s *Store) InsertCharge(ctx context.Context, c *pixauto.ChargeRecord, first *pixauto.AttemptRecord) error {
	op := "insert charge " + c.ID
	if err := record.CheckFirstAttempt(c, first); err != nil {
		return wrap(ctx, op, err)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO pixauto_charge (`+chargeColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, chargeArgs(c)...); err != nil {
			return err
		}
		if err := insertAttempt(ctx, tx, first); err != nil {
			return fmt.Errorf("first attempt %s: %w", first.ID, err)
		}
		return nil
	})
	if err != nil {
		return wrap(ctx, op, err)
	}
	return nil
}

func chargeArgs(c *pixauto.ChargeRecord) []any {
	return []any{c.ID, c.ReceiverID, c.ConsentID, c.HolderID, c.Reference, int64(c.Amount),
		dateArg(c.DueDate), string(c.Status), string(c.FailureCode), c.Description, c.ExternalID,
		timeArg(c.CreatedAt), timeArg(c.UpdatedAt), c.Version}
}

// UpdateCharge replaces every field of a charge but its ID if c.Version is
// the stored version (else ErrConflict; ErrNotFound if there is no such
// charge), and increments c.Version. A change that breaks a uniqueness rule
// (reviving a failed charge while another is live) is ErrConflict too.
func (s *Store) UpdateCharge(ctx context.Context, c *pixauto.ChargeRecord) error {
	args := chargeArgs(c)
	args = append(args[1:13:13], c.ID, c.Version) // receiver_id … updated_at, then the key
	err := update(ctx, s.pool, "pixauto_charge", "update charge "+c.ID, `UPDATE pixauto_charge SET
		receiver_id = $1, consent_id = $2, holder_id = $3, reference = $4, amount = $5, due_date = $6,
		status = $7, failure_code = $8, description = $9, external_id = $10, created_at = $11,
		updated_at = $12, version = version + 1
		WHERE id = $13 AND version = $14`, args, c.ID)
	if err != nil {
		return err
	}
	c.Version++
	return nil
}

// GetCharge returns a charge or ErrNotFound.
func (s *Store) GetCharge(ctx context.Context, id string) (*pixauto.ChargeRecord, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+chargeColumns+` FROM pixauto_charge WHERE id = $1`, id)
	c, err := scanCharge(row)
	if err != nil {
		return nil, wrap(ctx, "get charge "+id, err)
	}
	return c, nil
}

// ListCharges streams the charges matching f in ID order. The iterator
// holds a pool connection until its loop ends; the loop body may use the
// store.
func (s *Store) ListCharges(ctx context.Context, f pixauto.ChargeFilter) iter.Seq2[*pixauto.ChargeRecord, error] {
	var w where
	if f.ReceiverID != "" {
		w.add("receiver_id = ?", f.ReceiverID)
	}
	if f.ConsentID != "" {
		w.add("consent_id = ?", f.ConsentID)
	}
	if f.ExternalID != "" {
		w.add("external_id = ?", f.ExternalID)
	}
	in(&w, "status", f.Statuses)
	if !f.DueFrom.IsZero() {
		w.add("due_date >= ?", dateArg(f.DueFrom))
	}
	if !f.DueTo.IsZero() {
		w.add("due_date <= ?", dateArg(f.DueTo))
	}
	if !f.UpdatedSince.IsZero() {
		w.add("updated_at >= ?", f.UpdatedSince)
	}
	if f.After != "" {
		w.add("id > ?", f.After)
	}
	q := `SELECT ` + chargeColumns + ` FROM pixauto_charge` + w.String() + ` ORDER BY id` + w.limit(f.Limit)
	return stream(ctx, s.pool, "list charges", q, w.args, scanCharge)
}

func scanCharge(row pgx.Row) (*pixauto.ChargeRecord, error) {
	var (
		c        pixauto.ChargeRecord
		due      pgtype.Date
		crt, upd pgtype.Timestamptz
	)
	err := row.Scan(&c.ID, &c.ReceiverID, &c.ConsentID, &c.HolderID, &c.Reference, &c.Amount, &due,
		&c.Status, &c.FailureCode, &c.Description, &c.ExternalID, &crt, &upd, &c.Version)
	if err != nil {
		return nil, err
	}
	c.DueDate = dateOf(due)
	c.CreatedAt, c.UpdatedAt = timeOf(crt), timeOf(upd)
	return &c, nil
}
