package pixauto

import (
	"context"
	"errors"
	"fmt"

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
	_, err := in.retry(ctx, chargeID, in.cfg.RetryPolicy)
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
	return fmt.Sprintf("pixauto: no retry: %s (%s)", e.Decision.Message, e.Decision.Reason)
}

// Retry retries a failed charge on demand, whatever the automatic policy
// says, within what the spec allows (intraday before 12:00 when the reason
// needs a new E2EID; next day within 7 days when the consent accepts
// retries; at most 3). It returns the new attempt, or a *RetryError saying
// why not.
func (in *Initiator) Retry(ctx context.Context, chargeID string) (*AttemptRecord, error) {
	a, err := in.retry(ctx, chargeID, payments.RetryPolicy{WeeklyFiveDays: in.cfg.RetryPolicy.WeeklyFiveDays})
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, errors.New("pixauto: no retry was made")
	}
	return a, nil
}

func (in *Initiator) retry(ctx context.Context, chargeID string, policy payments.RetryPolicy) (*AttemptRecord, error) {
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
		last.NextCheckAt = d.NotBefore
		if last.NextCheckAt.IsZero() {
			last.NextCheckAt = in.nextPaymentCheck(last)
		}
		if err := in.store.UpdateAttempt(ctx, last); err != nil && !errors.Is(err, ErrConflict) {
			return nil, err
		}
		return nil, in.setCharge(ctx, chargeID, ChargeRetrying, code)
	case payments.Done:
		return nil, in.setCharge(ctx, chargeID, ChargeSettled, "")
	default:
		if err := in.setCharge(ctx, chargeID, ChargeFailed, code); err != nil {
			return nil, err
		}
		return nil, &RetryError{Decision: d}
	}
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
		if errors.Is(err, ErrConflict) {
			return nil, nil // another worker planned this retry
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
