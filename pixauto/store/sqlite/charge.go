package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"iter"

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
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return wrap(ctx, op, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `INSERT INTO pixauto_charge (`+chargeColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, chargeArgs(c)...); err != nil {
		return wrap(ctx, op, err)
	}
	if err := insertAttempt(ctx, tx, first); err != nil {
		return wrap(ctx, op+": first attempt "+first.ID, err)
	}
	if err := tx.Commit(); err != nil {
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
	args := chargeArgs(c)[1:13] // every column from receiver_id to updated_at
	args = append(args, c.ID, c.Version)
	err := update(ctx, s.write, "pixauto_charge", "update charge "+c.ID, `UPDATE pixauto_charge SET
		receiver_id = ?, consent_id = ?, holder_id = ?, reference = ?, amount = ?, due_date = ?,
		status = ?, failure_code = ?, description = ?, external_id = ?, created_at = ?,
		updated_at = ?, version = version + 1
		WHERE id = ? AND version = ?`, args, c.ID)
	if err != nil {
		return err
	}
	c.Version++
	return nil
}

// GetCharge returns a charge or ErrNotFound.
func (s *Store) GetCharge(ctx context.Context, id string) (*pixauto.ChargeRecord, error) {
	row := s.read.QueryRowContext(ctx, `SELECT `+chargeColumns+` FROM pixauto_charge WHERE id = ?`, id)
	c, err := scanCharge(row)
	if err != nil {
		return nil, wrap(ctx, "get charge "+id, err)
	}
	return c, nil
}

// ListCharges streams the charges matching f in ID order. The iterator
// holds a read connection until its loop ends; the loop body may write.
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
		w.add("updated_at >= ?", timeArg(f.UpdatedSince))
	}
	if f.After != "" {
		w.add("id > ?", f.After)
	}
	q := `SELECT ` + chargeColumns + ` FROM pixauto_charge` + w.String() + ` ORDER BY id` + w.limit(f.Limit)
	return stream(ctx, s.read, "list charges", q, w.args, scanCharge)
}

func scanCharge(sc scanner) (*pixauto.ChargeRecord, error) {
	var (
		c             pixauto.ChargeRecord
		due, crt, upd sql.NullString
	)
	err := sc.Scan(&c.ID, &c.ReceiverID, &c.ConsentID, &c.HolderID, &c.Reference, &c.Amount, &due,
		&c.Status, &c.FailureCode, &c.Description, &c.ExternalID, &crt, &upd, &c.Version)
	if err != nil {
		return nil, err
	}
	var d decoder
	c.DueDate = d.date(due)
	c.CreatedAt, c.UpdatedAt = d.time(crt), d.time(upd)
	if d.err != nil {
		return nil, d.err
	}
	return &c, nil
}

// InsertCharges stores the plans in one transaction, in order, as
// InsertCharge would one by one: a plan that breaks a uniqueness rule (of
// the stored charges and attempts, or of the plans stored before it in the
// batch) or names a consent that is not stored is skipped whole, and its
// index returned. A malformed plan (see InsertCharge) fails the call
// before anything is stored; any other error rolls the transaction back,
// so nothing of the batch is stored.
//
// Each plan costs two prepared INSERTs: a failed statement is undone by
// SQLite itself (the transaction goes on), and a charge whose first
// attempt fails is deleted again before the next plan, so that it holds
// nothing (cycle, external id) a later plan of the batch may need.
func (s *Store) InsertCharges(ctx context.Context, plans []pixauto.ChargePlan) ([]int, error) {
	const op = "insert charges"
	if err := record.CheckPlans(plans); err != nil {
		return nil, wrap(ctx, op, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, wrap(ctx, op, err)
	}
	if len(plans) == 0 {
		return nil, nil
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var stmts [3]*sql.Stmt
	for i, q := range []string{
		`INSERT INTO pixauto_charge (` + chargeColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		`INSERT INTO pixauto_attempt (` + attemptColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		`DELETE FROM pixauto_charge WHERE id = ?`,
	} {
		if stmts[i], err = tx.PrepareContext(ctx, q); err != nil {
			return nil, wrap(ctx, op, err)
		}
		defer stmts[i].Close()
	}
	insertCharge, insertAttempt, deleteCharge := stmts[0], stmts[1], stmts[2]
	var skipped []int
	for i, p := range plans {
		if _, err := insertCharge.ExecContext(ctx, chargeArgs(p.Charge)...); err != nil {
			if !brokenRule(err) {
				return nil, wrap(ctx, op+": charge "+p.Charge.ID, err)
			}
			skipped = append(skipped, i)
			continue
		}
		if _, err := insertAttempt.ExecContext(ctx, attemptArgs(p.First)...); err != nil {
			if !brokenRule(err) {
				return nil, wrap(ctx, op+": first attempt "+p.First.ID, err)
			}
			if _, err := deleteCharge.ExecContext(ctx, p.Charge.ID); err != nil {
				return nil, wrap(ctx, op+": undo charge "+p.Charge.ID, err)
			}
			skipped = append(skipped, i)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, wrap(ctx, op, err)
	}
	return skipped, nil
}

// brokenRule reports whether an INSERT failed on a uniqueness rule or a
// missing parent: the plan is skipped, the batch goes on.
func brokenRule(err error) bool {
	err = mapErr(err)
	return errors.Is(err, pixauto.ErrConflict) || errors.Is(err, pixauto.ErrNotFound)
}
