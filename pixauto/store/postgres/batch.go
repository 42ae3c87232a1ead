package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/store/internal/record"
)

// InsertCharges stores the plans in one transaction, as InsertCharge would
// one by one in order: a plan that breaks a uniqueness rule (of the stored
// charges and attempts, or of the plans stored before it in the batch) or
// names a consent that is not stored is skipped whole, and its index
// returned. A malformed plan (see InsertCharge) fails the call before
// anything is stored; any other error rolls the transaction back, so
// nothing of the batch is stored.
//
// The batch takes four statements, whatever its size, each with one array
// per column (no savepoint per plan):
//
//  1. one query finds the plans that break a rule against the stored rows;
//  2. the others are checked against each other in plan order, in Go;
//  3. the remaining charges, then their first attempts, are inserted with
//     ON CONFLICT DO NOTHING RETURNING, which catches what a concurrent
//     writer committed since step 1;
//  4. a charge whose first attempt was not inserted is deleted again, so
//     that no charge is stored without its attempt (only after such a
//     race).
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
	var skipped []int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		stored, err := storedConflicts(ctx, tx, plans)
		if err != nil {
			return fmt.Errorf("check: %w", err)
		}
		keep := make([]bool, len(plans))
		var batch batchKeys
		for i, p := range plans {
			keep[i] = !stored[i] && batch.take(p)
		}
		if err := insertPlans(ctx, tx, plans, keep); err != nil {
			return err
		}
		for i, k := range keep {
			if !k {
				skipped = append(skipped, i)
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap(ctx, op, err)
	}
	return skipped, nil
}

// storedConflicts reports, for each plan, whether it breaks a rule against
// the stored rows: its consent is missing, or one of its keys is taken.
// The conditions mirror the schema's unique indexes.
func storedConflicts(ctx context.Context, tx pgx.Tx, plans []pixauto.ChargePlan) ([]bool, error) {
	n := len(plans)
	var (
		chargeID, consentID, reference, receiverID, externalID = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		attemptID, e2e, idem, paymentID                        = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		live                                                   = make([]bool, n)
	)
	for i, p := range plans {
		c, a := p.Charge, p.First
		chargeID[i], consentID[i], reference[i], receiverID[i], externalID[i] = c.ID, c.ConsentID, c.Reference, c.ReceiverID, c.ExternalID
		live[i] = liveStatus(c.Status)
		attemptID[i], e2e[i], idem[i], paymentID[i] = a.ID, a.EndToEndID, a.IdempotencyKey, a.PaymentID
	}
	rows, err := tx.Query(ctx, `
		SELECT p.ord FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::text[], $6::text[],
			$7::text[], $8::text[], $9::text[], $10::text[])
			WITH ORDINALITY AS p(charge_id, consent_id, reference, live, receiver_id, external_id,
				attempt_id, end_to_end_id, idempotency_key, payment_id, ord)
		WHERE NOT EXISTS (SELECT FROM pixauto_consent k WHERE k.id = p.consent_id)
			OR EXISTS (SELECT FROM pixauto_charge c WHERE c.id = p.charge_id)
			OR (p.live AND EXISTS (SELECT FROM pixauto_charge c
				WHERE c.consent_id = p.consent_id AND c.reference = p.reference
				AND c.status NOT IN ('FAILED', 'CANCELLED')))
			OR (p.external_id <> '' AND EXISTS (SELECT FROM pixauto_charge c
				WHERE c.receiver_id = p.receiver_id AND c.external_id = p.external_id AND c.external_id <> ''))
			OR EXISTS (SELECT FROM pixauto_attempt a WHERE a.id = p.attempt_id)
			OR EXISTS (SELECT FROM pixauto_attempt a WHERE a.end_to_end_id = p.end_to_end_id)
			OR EXISTS (SELECT FROM pixauto_attempt a WHERE a.idempotency_key = p.idempotency_key)
			OR (p.payment_id <> '' AND EXISTS (SELECT FROM pixauto_attempt a WHERE a.payment_id = p.payment_id AND a.payment_id <> ''))`,
		chargeID, consentID, reference, live, receiverID, externalID, attemptID, e2e, idem, paymentID)
	if err != nil {
		return nil, err
	}
	stored := make([]bool, n)
	var ord int64
	_, err = pgx.ForEachRow(rows, []any{&ord}, func() error {
		stored[ord-1] = true
		return nil
	})
	return stored, err
}

// liveStatus reports whether a charge in status st holds its cycle
// (pixauto_charge_live).
func liveStatus(st pixauto.ChargeStatus) bool {
	return st != pixauto.ChargeFailed && st != pixauto.ChargeCancelled
}

// batchKeys are the unique keys taken by the plans of a batch kept so far.
type batchKeys struct {
	charges, cycles, externals, attempts, e2es, idems, payments map[string]bool
}

// take keeps p unless one of its keys is taken by a plan kept before it,
// and then takes its keys.
func (k *batchKeys) take(p pixauto.ChargePlan) bool {
	if k.charges == nil {
		k.charges, k.cycles, k.externals = map[string]bool{}, map[string]bool{}, map[string]bool{}
		k.attempts, k.e2es, k.idems, k.payments = map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	}
	c, a := p.Charge, p.First
	type key struct {
		set map[string]bool
		key string
		on  bool
	}
	keys := [...]key{
		{k.charges, c.ID, true},
		{k.cycles, c.ConsentID + "\x00" + c.Reference, liveStatus(c.Status)},
		{k.externals, c.ReceiverID + "\x00" + c.ExternalID, c.ExternalID != ""},
		{k.attempts, a.ID, true},
		{k.e2es, a.EndToEndID, true},
		{k.idems, a.IdempotencyKey, true},
		{k.payments, a.PaymentID, a.PaymentID != ""},
	}
	for _, key := range keys {
		if key.on && key.set[key.key] {
			return false
		}
	}
	for _, key := range keys {
		if key.on {
			key.set[key.key] = true
		}
	}
	return true
}

// insertPlans inserts the kept plans' charges, then the first attempts of
// the charges that were inserted, then deletes the charges whose attempt
// was not, clearing keep for every plan not stored.
func insertPlans(ctx context.Context, tx pgx.Tx, plans []pixauto.ChargePlan, keep []bool) error {
	var charges []*pixauto.ChargeRecord
	index := map[string]int{} // charge ID → plan index
	for i, p := range plans {
		if keep[i] {
			charges = append(charges, p.Charge)
			index[p.Charge.ID] = i
		}
	}
	if len(charges) == 0 {
		return nil
	}
	inserted, err := insertChargeRows(ctx, tx, charges)
	if err != nil {
		return fmt.Errorf("charges: %w", err)
	}
	attempts := make([]*pixauto.AttemptRecord, 0, len(inserted))
	for i, p := range plans {
		if keep[i] && !inserted[p.Charge.ID] {
			keep[i] = false // taken by a concurrent writer since the check
		} else if keep[i] {
			attempts = append(attempts, p.First)
		}
	}
	if len(attempts) == 0 {
		return nil
	}
	withAttempt, err := insertAttemptRows(ctx, tx, attempts)
	if err != nil {
		return fmt.Errorf("first attempts: %w", err)
	}
	var orphans []string
	for _, a := range attempts {
		if !withAttempt[a.ChargeID] {
			orphans = append(orphans, a.ChargeID)
			keep[index[a.ChargeID]] = false
		}
	}
	if len(orphans) > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM pixauto_charge WHERE id = ANY($1)`, orphans); err != nil {
			return fmt.Errorf("undo charges without their attempt: %w", err)
		}
	}
	return nil
}

// insertChargeRows inserts charges whose keys are distinct, skipping the
// ones that conflict, and returns the IDs inserted.
func insertChargeRows(ctx context.Context, tx pgx.Tx, cs []*pixauto.ChargeRecord) (map[string]bool, error) {
	n := len(cs)
	var (
		id, receiver, consentID, holder, reference = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		status, failure, description, external     = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		amount, version                            = make([]int64, n), make([]int64, n)
		due                                        = make([]pgtype.Date, n)
		created, updated                           = make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n)
	)
	for i, c := range cs {
		id[i], receiver[i], consentID[i], holder[i], reference[i] = c.ID, c.ReceiverID, c.ConsentID, c.HolderID, c.Reference
		status[i], failure[i], description[i], external[i] = string(c.Status), string(c.FailureCode), c.Description, c.ExternalID
		amount[i], version[i] = int64(c.Amount), c.Version
		due[i] = dateValue(c.DueDate)
		created[i], updated[i] = timeValue(c.CreatedAt), timeValue(c.UpdatedAt)
	}
	rows, err := tx.Query(ctx, `INSERT INTO pixauto_charge (`+chargeColumns+`)
		SELECT id, receiver_id, consent_id, holder_id, reference, amount, due_date, status,
			failure_code, description, external_id, created_at, updated_at, version
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::date[],
			$8::text[], $9::text[], $10::text[], $11::text[], $12::timestamptz[], $13::timestamptz[], $14::bigint[])
			WITH ORDINALITY AS p(id, receiver_id, consent_id, holder_id, reference, amount, due_date, status,
				failure_code, description, external_id, created_at, updated_at, version, ord)
		ORDER BY ord
		ON CONFLICT DO NOTHING
		RETURNING id`,
		id, receiver, consentID, holder, reference, amount, due, status, failure, description, external,
		created, updated, version)
	if err != nil {
		return nil, err
	}
	return returnedIDs(rows, n)
}

// insertAttemptRows inserts attempts, skipping the ones that conflict, and
// returns the charge IDs of those inserted.
func insertAttemptRows(ctx context.Context, tx pgx.Tx, as []*pixauto.AttemptRecord) (map[string]bool, error) {
	n := len(as)
	var (
		id, charge, consentID, e2e, idem  = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		state, payment, status, rejection = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		seq, kind, version                = make([]int64, n), make([]int64, n), make([]int64, n)
		date                              = make([]pgtype.Date, n)
		submit, next, created, updated    = make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n), make([]pgtype.Timestamptz, n)
		request                           = make([][]byte, n)
	)
	for i, a := range as {
		id[i], charge[i], consentID[i], e2e[i], idem[i] = a.ID, a.ChargeID, a.ConsentID, a.EndToEndID, a.IdempotencyKey
		state[i], payment[i], status[i], rejection[i] = string(a.State), a.PaymentID, string(a.Status), string(a.RejectionCode)
		seq[i], kind[i], version[i] = int64(a.Seq), int64(a.Kind), a.Version
		date[i] = dateValue(a.Date)
		submit[i], next[i] = timeValue(a.SubmitAt), timeValue(a.NextCheckAt)
		created[i], updated[i] = timeValue(a.CreatedAt), timeValue(a.UpdatedAt)
		request[i] = a.Request
	}
	rows, err := tx.Query(ctx, `INSERT INTO pixauto_attempt (`+attemptColumns+`)
		SELECT id, charge_id, consent_id, seq, kind, end_to_end_id, idempotency_key, date, state,
			submit_at, payment_id, status, rejection_code, request, next_check_at, created_at,
			updated_at, version
		FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[],
			$8::date[], $9::text[], $10::timestamptz[], $11::text[], $12::text[], $13::text[], $14::bytea[],
			$15::timestamptz[], $16::timestamptz[], $17::timestamptz[], $18::bigint[])
			WITH ORDINALITY AS p(id, charge_id, consent_id, seq, kind, end_to_end_id, idempotency_key, date,
				state, submit_at, payment_id, status, rejection_code, request, next_check_at, created_at,
				updated_at, version, ord)
		ORDER BY ord
		ON CONFLICT DO NOTHING
		RETURNING charge_id`,
		id, charge, consentID, seq, kind, e2e, idem, date, state, submit, payment, status, rejection,
		request, next, created, updated, version)
	if err != nil {
		return nil, err
	}
	return returnedIDs(rows, n)
}

func returnedIDs(rows pgx.Rows, n int) (map[string]bool, error) {
	ids := make(map[string]bool, n)
	var id string
	_, err := pgx.ForEachRow(rows, []any{&id}, func() error {
		ids[id] = true
		return nil
	})
	return ids, err
}
