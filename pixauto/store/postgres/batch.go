package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
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
// There is no savepoint per plan. The plans are first checked against
// each other in Go, in order; then one statement inserts every charge and
// first attempt left, from one array per column. If that breaks a rule (a
// plan conflicts with a stored record: a repeated billing run, an unknown
// consent), it is rolled back to a savepoint and the plans are checked
// against the stored records by one query before the statement runs
// again without the plans that conflict. A rule broken even then means
// that a concurrent writer committed a conflicting record in between: the
// whole transaction is run again (so are deadlocks), a few times at most.
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
	for try := 1; ; try++ {
		skipped, err := s.insertCharges(ctx, plans)
		if err == nil {
			return skipped, nil
		}
		if try == maxBatchTries || !raced(err) || ctx.Err() != nil {
			return nil, wrap(ctx, op, err)
		}
	}
}

// maxBatchTries bounds the transactions of one InsertCharges call that
// lose a race with concurrent writers.
const maxBatchTries = 4

func (s *Store) insertCharges(ctx context.Context, plans []pixauto.ChargePlan) ([]int, error) {
	var keep []bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		keep = keepPlans(plans, nil)
		err := pgx.BeginFunc(ctx, tx, func(sp pgx.Tx) error { return insertPlans(ctx, sp, plans, keep) })
		if err == nil || !brokenRule(err) {
			return err
		}
		stored, err := storedConflicts(ctx, tx, plans)
		if err != nil {
			return fmt.Errorf("check: %w", err)
		}
		if s.afterCheck != nil {
			s.afterCheck()
		}
		keep = keepPlans(plans, stored)
		return insertPlans(ctx, tx, plans, keep)
	})
	if err != nil {
		return nil, err
	}
	var skipped []int
	for i, k := range keep {
		if !k {
			skipped = append(skipped, i)
		}
	}
	return skipped, nil
}

// brokenRule reports whether err is a broken uniqueness rule or a missing
// parent.
func brokenRule(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == uniqueViolation || pe.Code == foreignKeyViolation)
}

// raced reports whether a batch transaction failed for a concurrent
// writer's doing, so that running it again may succeed.
func raced(err error) bool {
	var pe *pgconn.PgError
	return brokenRule(err) || errors.As(err, &pe) && (pe.Code == deadlockDetected || pe.Code == serializationFailure)
}

// keepPlans returns which plans to insert: those that break no rule
// against the stored records (stored[i] is false; nil: none does) nor
// against a plan kept before them.
func keepPlans(plans []pixauto.ChargePlan, stored []bool) []bool {
	keep := make([]bool, len(plans))
	var batch batchKeys
	for i, p := range plans {
		keep[i] = (stored == nil || !stored[i]) && batch.take(p)
	}
	return keep
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

// insertPlans inserts the kept plans' charges and first attempts in one
// statement.
func insertPlans(ctx context.Context, tx pgx.Tx, plans []pixauto.ChargePlan, keep []bool) error {
	var cs chargeArrays
	var as attemptArrays
	for i, p := range plans {
		if keep[i] {
			cs.add(p.Charge)
			as.add(p.First)
		}
	}
	if len(cs.id) == 0 {
		return nil
	}
	args := append(cs.args(), as.args()...)
	_, err := tx.Exec(ctx, `
		WITH charge AS (
			INSERT INTO pixauto_charge (`+chargeColumns+`)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[],
				$7::date[], $8::text[], $9::text[], $10::text[], $11::text[], $12::timestamptz[],
				$13::timestamptz[], $14::bigint[])
		)
		INSERT INTO pixauto_attempt (`+attemptColumns+`)
		SELECT * FROM unnest($15::text[], $16::text[], $17::text[], $18::bigint[], $19::bigint[], $20::text[],
			$21::text[], $22::date[], $23::text[], $24::timestamptz[], $25::text[], $26::text[], $27::text[],
			$28::bytea[], $29::timestamptz[], $30::timestamptz[], $31::timestamptz[], $32::bigint[])`,
		args...)
	return err
}

// chargeArrays are charges as one array per column, in chargeColumns
// order.
type chargeArrays struct {
	id, receiver, consentID, holder, reference []string
	amount                                     []int64
	due                                        []pgtype.Date
	status, failure, description, external     []string
	created, updated                           []pgtype.Timestamptz
	version                                    []int64
}

func (a *chargeArrays) add(c *pixauto.ChargeRecord) {
	a.id, a.receiver, a.consentID = append(a.id, c.ID), append(a.receiver, c.ReceiverID), append(a.consentID, c.ConsentID)
	a.holder, a.reference = append(a.holder, c.HolderID), append(a.reference, c.Reference)
	a.amount, a.due = append(a.amount, int64(c.Amount)), append(a.due, dateValue(c.DueDate))
	a.status, a.failure = append(a.status, string(c.Status)), append(a.failure, string(c.FailureCode))
	a.description, a.external = append(a.description, c.Description), append(a.external, c.ExternalID)
	a.created, a.updated = append(a.created, timeValue(c.CreatedAt)), append(a.updated, timeValue(c.UpdatedAt))
	a.version = append(a.version, c.Version)
}

func (a *chargeArrays) args() []any {
	return []any{a.id, a.receiver, a.consentID, a.holder, a.reference, a.amount, a.due, a.status,
		a.failure, a.description, a.external, a.created, a.updated, a.version}
}

// attemptArrays are attempts as one array per column, in attemptColumns
// order.
type attemptArrays struct {
	id, charge, consentID      []string
	seq, kind                  []int64
	e2e, idem                  []string
	date                       []pgtype.Date
	state                      []string
	submit                     []pgtype.Timestamptz
	payment, status, rejection []string
	request                    [][]byte
	next, created, updated     []pgtype.Timestamptz
	version                    []int64
}

func (a *attemptArrays) add(r *pixauto.AttemptRecord) {
	a.id, a.charge, a.consentID = append(a.id, r.ID), append(a.charge, r.ChargeID), append(a.consentID, r.ConsentID)
	a.seq, a.kind = append(a.seq, int64(r.Seq)), append(a.kind, int64(r.Kind))
	a.e2e, a.idem = append(a.e2e, r.EndToEndID), append(a.idem, r.IdempotencyKey)
	a.date, a.state = append(a.date, dateValue(r.Date)), append(a.state, string(r.State))
	a.submit, a.payment = append(a.submit, timeValue(r.SubmitAt)), append(a.payment, r.PaymentID)
	a.status, a.rejection = append(a.status, string(r.Status)), append(a.rejection, string(r.RejectionCode))
	a.request, a.next = append(a.request, r.Request), append(a.next, timeValue(r.NextCheckAt))
	a.created, a.updated = append(a.created, timeValue(r.CreatedAt)), append(a.updated, timeValue(r.UpdatedAt))
	a.version = append(a.version, r.Version)
}

func (a *attemptArrays) args() []any {
	return []any{a.id, a.charge, a.consentID, a.seq, a.kind, a.e2e, a.idem, a.date, a.state, a.submit,
		a.payment, a.status, a.rejection, a.request, a.next, a.created, a.updated, a.version}
}
