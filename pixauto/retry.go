package pixauto

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ofb-go/pixauto/payments"
)

// chain builds a charge's retry chain from its submitted attempts, leaving
// out skipID (the attempt being sent).
func (in *Initiator) chain(ctx context.Context, chargeID, skipID string) (payments.Chain, error) {
	attempts, err := in.store.ListAttempts(ctx, chargeID)
	if err != nil {
		return payments.Chain{}, err
	}
	var c payments.Chain
	for _, a := range attempts {
		if a.ID == skipID || a.State != AttemptSubmitted {
			continue
		}
		c = c.Append(payments.Attempt{
			ID: a.PaymentID, EndToEndID: a.EndToEndID, Date: a.Date, Status: a.Status,
			// StatusUpdated (the bank's statusUpdateDateTime) is left unknown:
			// Decide then waits for the bank's evening window to pass.
			RejectionCode: a.RejectionCode, Created: a.CreatedAt,
		})
	}
	return c, nil
}

// decideRetry runs the retry state machine on a charge whose latest attempt
// failed, with the configured policy: it plans and submits a retry, waits
// (the bank will retry itself, or a date must come), or gives up.
func (in *Initiator) decideRetry(ctx context.Context, chargeID string) error {
	_, err := in.retry(ctx, chargeID, in.cfg.RetryPolicy, true)
	var re *RetryError
	if errors.As(err, &re) {
		return nil // giving up is a decision, stored and emitted as charge.failed
	}
	return err
}

// RetryError reports why an on-demand retry cannot be made now.
type RetryError struct {
	Decision payments.Decision
}

func (e *RetryError) Error() string {
	if e.Decision.Action == payments.Wait {
		return fmt.Sprintf("pixauto: no retry yet: %s (%s)", e.Decision.Message, e.Decision.Reason)
	}
	return fmt.Sprintf("pixauto: no retry: %s (%s)", e.Decision.Message, e.Decision.Reason)
}

// Retry retries a failed charge on demand, whatever the automatic policy
// says, within what the spec allows (intraday before 12:00 when the reason
// needs a new E2EID; next day within 7 days when the consent accepts
// retries; at most 3). It returns the new attempt, or a *RetryError saying
// why not.
//
// A charge whose automatic policy would not retry (retries switched off, or
// fewer than the spec allows) stays RETRYING while the spec still allows a
// retry, so that the receiver can ask for one.
func (in *Initiator) Retry(ctx context.Context, chargeID string) (*AttemptRecord, error) {
	return in.retry(ctx, chargeID, in.permissive(), false)
}

// permissive is everything the spec allows, with the configured reading of
// the weekly window.
func (in *Initiator) permissive() payments.RetryPolicy {
	return payments.RetryPolicy{WeeklyFiveDays: in.cfg.RetryPolicy.WeeklyFiveDays}
}

func (in *Initiator) retry(ctx context.Context, chargeID string, policy payments.RetryPolicy, automatic bool) (*AttemptRecord, error) {
	ch, err := in.store.GetCharge(ctx, chargeID)
	if err != nil {
		return nil, err
	}
	rec, err := in.store.GetConsent(ctx, ch.ConsentID)
	if err != nil {
		return nil, err
	}
	attempts, err := in.store.ListAttempts(ctx, chargeID)
	if err != nil {
		return nil, err
	}
	if len(attempts) == 0 {
		return nil, fmt.Errorf("%w: charge %s has no attempt", ErrChargeState, chargeID)
	}
	last := attempts[len(attempts)-1]
	if last.State == AttemptPlanned || last.State == AttemptSending {
		return last, nil // a retry is already on its way
	}
	chain, err := in.chain(ctx, chargeID, "")
	if err != nil {
		return nil, err
	}
	d := payments.Decide(chain, rec.Consent, in.now(), policy)
	code := lastFailure(attempts)
	switch d.Action {
	case payments.RetryIntraday, payments.RetryNextDay:
		return in.planRetry(ctx, ch, rec, attempts, chain, d)
	case payments.Wait:
		return nil, in.waitForRetry(ctx, last, d, d.NotBefore, code)
	case payments.Done:
		return nil, in.setCharge(ctx, chargeID, ChargeSettled, "")
	}
	if automatic {
		// The receiver's policy gives up; if the spec still allows a
		// retry, the charge waits for the receiver to ask for one.
		if p := payments.Decide(chain, rec.Consent, in.now(), in.permissive()); p.IsRetry() || p.Action == payments.Wait {
			return nil, in.waitForRetry(ctx, last, d, in.now().Add(time.Hour), code)
		}
	}
	if err := in.setCharge(ctx, chargeID, ChargeFailed, code); err != nil {
		return nil, err
	}
	return nil, &RetryError{Decision: d}
}

// waitForRetry keeps a failed charge RETRYING and its latest attempt due
// for another look at next.
func (in *Initiator) waitForRetry(ctx context.Context, last *AttemptRecord, d payments.Decision, next time.Time, code payments.RejectionCode) error {
	last.NextCheckAt = next
	if next.IsZero() {
		last.NextCheckAt = in.nextPaymentCheck(last)
	}
	if err := in.store.UpdateAttempt(ctx, last); err != nil && !errors.Is(err, ErrConflict) {
		return err
	}
	if err := in.setCharge(ctx, last.ChargeID, ChargeRetrying, code); err != nil {
		return err
	}
	return &RetryError{Decision: d}
}

func lastFailure(attempts []*AttemptRecord) payments.RejectionCode {
	for i := len(attempts) - 1; i >= 0; i-- {
		if c := attempts[i].RejectionCode; c != "" {
			return c
		}
	}
	return ""
}

func (in *Initiator) planRetry(ctx context.Context, ch *ChargeRecord, rec *ConsentRecord, attempts []*AttemptRecord, chain payments.Chain, d payments.Decision) (*AttemptRecord, error) {
	original, _, err := decodePayload(attempts[0].Request)
	if err != nil {
		return nil, err
	}
	rt, err := payments.PlanRetry(chain, d, original, in.gen)
	if err != nil {
		return nil, err
	}
	retryReq := *original
	retryReq.EndToEndID, retryReq.Date = rt.EndToEndID, rt.Date
	payload, err := encodePayload(&retryReq, rt.OriginalID)
	if err != nil {
		return nil, err
	}
	now := in.now()
	kind := payments.KindExtraday
	if d.Action == payments.RetryIntraday {
		kind = payments.KindIntraday
	}
	a := &AttemptRecord{
		ID: in.newID(), ChargeID: ch.ID, ConsentID: rec.ID, Seq: len(attempts), Kind: kind,
		EndToEndID: rt.EndToEndID, IdempotencyKey: in.newID(), Date: rt.Date, State: AttemptPlanned,
		SubmitAt: now, Request: payload, CreatedAt: now, UpdatedAt: now,
	}
	if err := in.store.InsertAttempt(ctx, a); err != nil {
		if errors.Is(err, ErrConflict) { // another worker planned this retry
			attempts, err := in.store.ListAttempts(ctx, ch.ID)
			if err != nil {
				return nil, err
			}
			return attempts[len(attempts)-1], nil
		}
		return nil, err
	}
	if err := in.setCharge(ctx, ch.ID, ChargeRetrying, lastFailure(attempts)); err != nil {
		return nil, err
	}
	if err := in.Submit(ctx, a.ID); err != nil {
		in.log.WarnContext(ctx, "pixauto: retry submission deferred to reconciliation", "attempt", a.ID, "err", err)
	}
	return in.store.GetAttempt(ctx, a.ID)
}
