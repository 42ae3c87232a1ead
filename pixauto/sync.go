package pixauto

import (
	"context"
	"errors"
	"time"
)

// SyncBatch bounds how many records of each kind one Sync handles.
const SyncBatch = 500

// sendingGrace is how long an attempt marked SENDING is left to its sender
// before reconciliation looks it up at the bank.
const sendingGrace = time.Minute

// SyncResult counts what one Sync did.
type SyncResult struct {
	Submitted, Followed, Consents int
	// Errors are the per-record failures; the records stay due and are
	// tried again by the next Sync.
	Errors []error
}

// Sync brings due work up to date, the periodic reconciliation of the
// Initiator: it submits planned attempts whose time has come, reconciles
// attempts whose answer was lost (looking them up at the bank before
// anything is resent), reads payments and consents whose next check is due,
// and lets the retry policy act on failures. Each kind is handled in
// batches of SyncBatch; call it periodically (the jobs package does) or
// after moving a test clock.
func (in *Initiator) Sync(ctx context.Context) (SyncResult, error) {
	var res SyncResult
	now := in.now()
	due, err := in.store.DueAttempts(ctx, AttemptFilter{States: []AttemptState{AttemptPlanned, AttemptSending}, SubmitBefore: now, Limit: SyncBatch})
	if err != nil {
		return res, err
	}
	for _, a := range due {
		if err := in.Submit(ctx, a.ID); err != nil {
			res.Errors = append(res.Errors, err)
			continue
		}
		res.Submitted++
	}
	checks, err := in.store.DueAttempts(ctx, AttemptFilter{States: []AttemptState{AttemptSubmitted}, CheckDueBefore: now, Limit: SyncBatch})
	if err != nil {
		return res, err
	}
	for _, a := range checks {
		if err := in.Follow(ctx, a.ID); err != nil {
			res.Errors = append(res.Errors, err)
			continue
		}
		res.Followed++
	}
	for rec, err := range in.store.ListConsents(ctx, ConsentFilter{CheckDueBefore: now, Limit: SyncBatch}) {
		if err != nil {
			return res, err
		}
		if _, err := in.SyncConsent(ctx, rec.ID); err != nil {
			res.Errors = append(res.Errors, err)
			continue
		}
		res.Consents++
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, errors.Join(res.Errors...)
}

// SyncCharge reads a charge's latest attempt from the bank now ("check this
// one now").
func (in *Initiator) SyncCharge(ctx context.Context, chargeID string) (*ChargeRecord, error) {
	attempts, err := in.store.ListAttempts(ctx, chargeID)
	if err != nil {
		return nil, err
	}
	if len(attempts) > 0 {
		last := attempts[len(attempts)-1]
		if last.PaymentID == "" {
			err = in.Submit(ctx, last.ID)
		} else {
			err = in.Follow(ctx, last.ID)
		}
		if err != nil {
			return nil, err
		}
	}
	return in.store.GetCharge(ctx, chargeID)
}
