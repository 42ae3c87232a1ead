package pixauto

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/payments"
)

// ChargeRequest asks for one cycle's payment: "charge this amount, due on
// this date".
type ChargeRequest struct {
	ConsentID string
	// DueDate is the wanted settlement date (Brasília); its billing cycle is
	// the one charged.
	DueDate consent.Date
	Amount  consent.Amount
	// CreditorAccount is the receiver's account.
	CreditorAccount consent.Account
	// Description is sent as remittanceInformation (≤140 characters).
	Description string
	// ExternalID is the receiver's id for the charge (an invoice number);
	// a repeated Charge with the same ExternalID returns the stored charge.
	ExternalID string
}

// ErrChargeState: the charge's status does not allow the operation.
var ErrChargeState = errors.New("pixauto: charge status does not allow this")

// Charge plans a recurrence: it picks the cycle of the due date, builds the
// request (E2EID, paymentReference, amount rules), stores the charge and
// its attempt — E2EID and idempotency key included — and submits it now if
// it is due within LeadDays, else leaves it for Sync (or the jobs) at its
// submission time.
func (in *Initiator) Charge(ctx context.Context, r ChargeRequest) (*ChargeRecord, error) {
	rec, err := in.store.GetConsent(ctx, r.ConsentID)
	if err != nil {
		return nil, err
	}
	if rec.Status != consent.StatusAuthorised {
		return nil, fmt.Errorf("%w: consent %s is %s", ErrConsentState, rec.ID, rec.Status)
	}
	if r.ExternalID != "" {
		if existing, err := in.chargeByExternalID(ctx, rec.ReceiverID, r.ExternalID); err == nil {
			return existing, nil
		}
	}
	billing, err := payments.BillingOf(rec.Consent)
	if err != nil {
		return nil, err
	}
	cycle, err := billing.CycleContaining(r.DueDate)
	if err != nil {
		return nil, err
	}
	h, err := in.holder(rec.HolderID)
	if err != nil {
		return nil, err
	}
	existing, err := in.existingPayments(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	submitAt := in.submitTime(r.DueDate)
	req, err := in.planner(h).Recurrence(rec.Consent, payments.Charge{
		Cycle: cycle.Index, Due: r.DueDate, Amount: r.Amount, CreditorAccount: r.CreditorAccount, RemittanceInformation: r.Description,
	}, submitAt, existing)
	if err != nil {
		return nil, err
	}
	return in.insertCharge(ctx, rec, req, cycle.Start.String(), r.ExternalID, submitAt)
}

// submitTime is 09:00 Brasília LeadDays before the due date, or now if that
// has passed.
func (in *Initiator) submitTime(due consent.Date) time.Time {
	t := due.AddDays(-in.cfg.LeadDays).In(consent.Brasilia).Add(9 * time.Hour).UTC()
	if now := in.now(); t.Before(now) {
		return now
	}
	return t
}

func (in *Initiator) planner(h *holder) *payments.Planner {
	v := h.payments.Version()
	if v == "" {
		v = payments.DefaultVersion
	}
	return &payments.Planner{Version: v, Generator: in.gen, CNPJInitiator: in.cfg.CNPJ, Calendar: in.cfg.Calendar, DueDates: in.cfg.DueDates}
}

func (in *Initiator) insertCharge(ctx context.Context, rec *ConsentRecord, req *payments.Request, reference, externalID string, submitAt time.Time) (*ChargeRecord, error) {
	plan, err := in.newChargePlan(rec, req, reference, externalID, submitAt)
	if err != nil {
		return nil, err
	}
	ch, a := plan.Charge, plan.First
	if err := in.store.InsertCharge(ctx, ch, a); err != nil {
		return nil, err
	}
	in.emit(Event{Type: EventChargePlanned, ReceiverID: ch.ReceiverID, ConsentID: ch.ConsentID, ChargeID: ch.ID, ChargeStatus: ch.Status})
	if !submitAt.After(in.now()) {
		if err := in.Submit(ctx, a.ID); err != nil {
			in.log.WarnContext(ctx, "pixauto: submission deferred to reconciliation", "charge", ch.ID, "err", err)
		}
	}
	return in.store.GetCharge(ctx, ch.ID)
}

// newChargePlan builds the records of a new charge and its first attempt:
// the E2EID is the request's, the idempotency key is new, both stored
// before anything is sent.
func (in *Initiator) newChargePlan(rec *ConsentRecord, req *payments.Request, reference, externalID string, submitAt time.Time) (ChargePlan, error) {
	payload, err := encodePayload(req, "")
	if err != nil {
		return ChargePlan{}, err
	}
	now := in.now()
	ch := &ChargeRecord{
		ID: in.newID(), ReceiverID: rec.ReceiverID, ConsentID: rec.ID, HolderID: rec.HolderID,
		Reference: reference, Amount: req.Amount, DueDate: req.Date, Status: ChargePlanned,
		Description: req.RemittanceInformation, ExternalID: externalID, CreatedAt: now, UpdatedAt: now,
	}
	a := &AttemptRecord{
		ID: in.newID(), ChargeID: ch.ID, ConsentID: rec.ID, Seq: 0, Kind: payments.KindOriginal,
		EndToEndID: req.EndToEndID, IdempotencyKey: in.newID(), Date: req.Date, State: AttemptPlanned,
		SubmitAt: submitAt, Request: payload, CreatedAt: now, UpdatedAt: now,
	}
	return ChargePlan{Charge: ch, First: a}, nil
}

func (in *Initiator) chargeByExternalID(ctx context.Context, receiverID, externalID string) (*ChargeRecord, error) {
	for ch, err := range in.store.ListCharges(ctx, ChargeFilter{ReceiverID: receiverID, ExternalID: externalID, Limit: 1}) {
		if err != nil {
			return nil, err
		}
		return ch, nil
	}
	return nil, ErrNotFound
}

// startFirstPayment creates and submits the consent's firstPayment, once.
func (in *Initiator) startFirstPayment(ctx context.Context, rec *ConsentRecord) error {
	auto := rec.Consent.Automatic()
	if auto == nil || auto.FirstPayment == nil {
		return nil
	}
	for ch, err := range in.store.ListCharges(ctx, ChargeFilter{ConsentID: rec.ID}) {
		if err != nil {
			return err
		}
		if ch.Reference == payments.ReferenceZero {
			return nil // started already
		}
	}
	h, err := in.holder(rec.HolderID)
	if err != nil {
		return err
	}
	existing, err := in.existingPayments(ctx, rec.ID)
	if err != nil {
		return err
	}
	req, err := in.planner(h).FirstPayment(rec.Consent, in.now(), existing)
	if err != nil {
		return err
	}
	ch, err := in.insertCharge(ctx, rec, req, payments.ReferenceZero, "", in.now())
	if errors.Is(err, ErrConflict) {
		return nil // already created by an earlier Complete
	}
	if err != nil {
		return err
	}
	return in.followCharge(ctx, ch.ID)
}

// existingPayments returns the consent's attempts known to the bank, as the
// payments package's validators see them.
func (in *Initiator) existingPayments(ctx context.Context, consentID string) ([]payments.Payment, error) {
	var out []payments.Payment
	for ch, err := range in.store.ListCharges(ctx, ChargeFilter{ConsentID: consentID}) {
		if err != nil {
			return nil, err
		}
		attempts, err := in.store.ListAttempts(ctx, ch.ID)
		if err != nil {
			return nil, err
		}
		for _, a := range attempts {
			if a.State != AttemptSubmitted && a.State != AttemptSending {
				continue
			}
			req, originalID, err := decodePayload(a.Request)
			if err != nil {
				return nil, err
			}
			ref, _ := req.Reference.ISO()
			out = append(out, payments.Payment{
				ID: a.PaymentID, ConsentID: consentID, EndToEndID: a.EndToEndID, Date: a.Date, Status: a.Status,
				PaymentReference: ref, OriginalRecurringPaymentID: originalID,
			})
		}
	}
	return out, nil
}

// Submit sends a planned attempt to the bank. It is the crash-safe step:
// the attempt's E2EID and idempotency key were stored when it was planned;
// Submit marks it SENDING before the request leaves, and an attempt found
// SENDING (a crash or a lost answer) is first looked up at the bank by its
// E2EID, and resent — same key, same data, so the bank answers with the
// same payment — only if the bank does not have it. Submit is idempotent:
// a SUBMITTED or REFUSED attempt is left alone.
func (in *Initiator) Submit(ctx context.Context, attemptID string) error {
	a, err := in.store.GetAttempt(ctx, attemptID)
	if err != nil {
		return err
	}
	if a.State == AttemptSubmitted || a.State == AttemptRefused {
		return nil
	}
	rec, err := in.store.GetConsent(ctx, a.ConsentID)
	if err != nil {
		return err
	}
	h, err := in.holder(rec.HolderID)
	if err != nil {
		return err
	}
	if a.State == AttemptSending {
		p, err := in.findAtBank(ctx, h, a)
		if err != nil {
			return err
		}
		if p != nil {
			return in.recordSubmitted(ctx, a, p)
		}
	} else {
		// SubmitAt moves on by the grace period, so that reconciliation
		// leaves an attempt alone while its sender is still at it.
		a.State, a.UpdatedAt, a.SubmitAt = AttemptSending, in.now(), in.now().Add(sendingGrace)
		if err := in.store.UpdateAttempt(ctx, a); err != nil {
			if errors.Is(err, ErrConflict) {
				return nil // another worker took it
			}
			return err
		}
	}
	p, err := in.send(ctx, h, rec, a)
	switch {
	case err == nil:
		return in.recordSubmitted(ctx, a, p)
	case refusal(err) != "":
		return in.refused(ctx, h, a, err)
	default:
		return err // outcome unknown: the attempt stays SENDING until reconciled
	}
}

// refused records a refused send, unless the bank has the attempt after
// all: another send of it (a sender still at it past the grace period, or
// a job worked twice) may have created the payment while this one was on
// its way, and the bank then refuses this one (its E2EID is taken) without
// replaying the other's answer.
func (in *Initiator) refused(ctx context.Context, h *holder, a *AttemptRecord, cause error) error {
	var ae *fapi.APIError
	if errors.As(cause, &ae) {
		p, err := in.findAtBank(ctx, h, a)
		if err != nil {
			return err
		}
		if p != nil {
			return in.recordSubmitted(ctx, a, p)
		}
	}
	return in.recordRefused(ctx, a, cause)
}

// findAtBank looks an attempt up at the bank by its E2EID.
func (in *Initiator) findAtBank(ctx context.Context, h *holder, a *AttemptRecord) (*payments.Payment, error) {
	if a.PaymentID != "" {
		return h.payments.Get(ctx, a.PaymentID)
	}
	list, err := h.payments.List(ctx, payments.ListFilter{ConsentID: a.ConsentID, StartDate: a.Date, EndDate: a.Date})
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].EndToEndID == a.EndToEndID {
			return &list[i], nil
		}
	}
	return nil, nil
}

func (in *Initiator) send(ctx context.Context, h *holder, rec *ConsentRecord, a *AttemptRecord) (*payments.Payment, error) {
	req, originalID, err := decodePayload(a.Request)
	if err != nil {
		return nil, err
	}
	existing, err := in.existingPayments(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	existing = withoutE2EID(existing, a.EndToEndID)
	token := in.consentToken(h, rec.ID)
	if originalID == "" {
		return h.payments.Create(ctx, payments.CreateParams{Consent: rec.Consent, Existing: existing, Request: req, Token: token, IdempotencyKey: a.IdempotencyKey})
	}
	chain, err := in.chain(ctx, a.ChargeID, a.ID)
	if err != nil {
		return nil, err
	}
	rt := &payments.Retry{OriginalID: originalID, EndToEndID: req.EndToEndID, Date: req.Date, Original: req, FailedAttemptIDs: chain.FailedAttemptIDs()}
	return h.payments.Retry(ctx, payments.RetryParams{Consent: rec.Consent, Chain: chain, Retry: rt, ConsentToken: token, IdempotencyKey: a.IdempotencyKey})
}

func withoutE2EID(ps []payments.Payment, e2e string) []payments.Payment {
	out := ps[:0:0]
	for _, p := range ps {
		if p.EndToEndID != e2e {
			out = append(out, p)
		}
	}
	return out
}

// refusal returns the code of an error that proves nothing was created at
// the bank (a 422, or the SDK's own checks), or "".
func refusal(err error) payments.RejectionCode {
	var ae *fapi.APIError
	if errors.As(err, &ae) && ae.StatusCode == 422 {
		if len(ae.Errors) > 0 {
			return payments.RejectionCode(ae.Errors[0].Code)
		}
		return payments.RejectionNaoInformado
	}
	var pv payments.ValidationErrors
	if errors.As(err, &pv) {
		return payments.RejectionDetalhePagamentoInvalido
	}
	return ""
}

func (in *Initiator) recordRefused(ctx context.Context, a *AttemptRecord, cause error) error {
	code := refusal(cause)
	a.State, a.RejectionCode, a.UpdatedAt = AttemptRefused, code, in.now()
	if err := in.store.UpdateAttempt(ctx, a); err != nil {
		return err
	}
	in.log.InfoContext(ctx, "pixauto: attempt refused", "attempt", a.ID, "code", code, "err", cause)
	if a.Seq == 0 {
		return in.setCharge(ctx, a.ChargeID, ChargeFailed, code)
	}
	return in.decideRetry(ctx, a.ChargeID) // a refused retry: is there another way?
}

func (in *Initiator) recordSubmitted(ctx context.Context, a *AttemptRecord, p *payments.Payment) error {
	a.State, a.PaymentID, a.UpdatedAt = AttemptSubmitted, p.ID, in.now()
	in.applyStatus(a, p)
	if err := in.store.UpdateAttempt(ctx, a); err != nil {
		return err
	}
	return in.chargeFromAttempt(ctx, a)
}

// applyStatus copies the bank's view into the attempt and schedules the
// next read.
func (in *Initiator) applyStatus(a *AttemptRecord, p *payments.Payment) {
	if p.Status != "" {
		a.Status = p.Status
	}
	a.RejectionCode = p.RejectionCode()
	a.NextCheckAt = in.nextPaymentCheck(a)
}

// nextPaymentCheck says when a payment should be read again: within
// minutes while the bank processes it, after each settlement window of its
// date while scheduled, never once final.
func (in *Initiator) nextPaymentCheck(a *AttemptRecord) time.Time {
	now := in.now()
	switch a.Status {
	case payments.StatusACSC, payments.StatusRJCT, payments.StatusCANC:
		return time.Time{}
	case payments.StatusSCHD, payments.StatusACCP:
		day := a.Date.In(consent.Brasilia)
		for _, t := range []time.Time{day.Add(8*time.Hour + 5*time.Minute), day.Add(21*time.Hour + 5*time.Minute)} {
			if t.After(now) {
				return t.UTC()
			}
		}
		return now.Add(time.Hour)
	case payments.StatusACPD:
		return now.Add(15 * time.Minute)
	default:
		return now.Add(5 * time.Minute)
	}
}

// Follow reads an attempt's payment from the bank and moves the charge on:
// settled, scheduled, cancelled, or failed — in which case the retry policy
// decides whether to try again.
func (in *Initiator) Follow(ctx context.Context, attemptID string) error {
	a, err := in.store.GetAttempt(ctx, attemptID)
	if err != nil {
		return err
	}
	if a.PaymentID == "" {
		return in.Submit(ctx, attemptID)
	}
	rec, err := in.store.GetConsent(ctx, a.ConsentID)
	if err != nil {
		return err
	}
	h, err := in.holder(rec.HolderID)
	if err != nil {
		return err
	}
	p, err := h.payments.Get(ctx, a.PaymentID)
	if err != nil {
		return err
	}
	old := a.Status
	in.applyStatus(a, p)
	a.UpdatedAt = in.now()
	if err := in.store.UpdateAttempt(ctx, a); err != nil {
		return err
	}
	// A rejection is decided on every read, not only on the change: a
	// decision to wait (for the bank's evening window, for the retry day)
	// comes back here when it is due.
	if old == a.Status && a.Status != payments.StatusRJCT {
		return nil
	}
	return in.chargeFromAttempt(ctx, a)
}

func (in *Initiator) followCharge(ctx context.Context, chargeID string) error {
	attempts, err := in.store.ListAttempts(ctx, chargeID)
	if err != nil || len(attempts) == 0 {
		return err
	}
	last := attempts[len(attempts)-1]
	if last.State != AttemptSubmitted || last.Status.Final() {
		return nil
	}
	return in.Follow(ctx, last.ID)
}

// chargeFromAttempt moves the charge after its latest attempt changed.
func (in *Initiator) chargeFromAttempt(ctx context.Context, a *AttemptRecord) error {
	switch a.Status {
	case payments.StatusACSC:
		return in.setCharge(ctx, a.ChargeID, ChargeSettled, "")
	case payments.StatusCANC:
		return in.setCharge(ctx, a.ChargeID, ChargeCancelled, "")
	case payments.StatusRJCT:
		return in.decideRetry(ctx, a.ChargeID)
	case payments.StatusSCHD:
		if a.Seq > 0 {
			return in.setCharge(ctx, a.ChargeID, ChargeRetrying, "")
		}
		return in.setCharge(ctx, a.ChargeID, ChargeScheduled, "")
	}
	return nil
}

// setCharge stores a charge status (retrying on concurrent updates) and
// emits the change.
func (in *Initiator) setCharge(ctx context.Context, chargeID string, s ChargeStatus, code payments.RejectionCode) error {
	for range 3 {
		ch, err := in.store.GetCharge(ctx, chargeID)
		if err != nil {
			return err
		}
		if ch.Status == s && (code == "" || ch.FailureCode == code) {
			return nil // no change ("" keeps the failure code)
		}
		if ch.Status.Final() && s != ch.Status {
			return nil // a final charge does not move
		}
		ch.Status, ch.UpdatedAt = s, in.now()
		if code != "" {
			ch.FailureCode = code
		}
		err = in.store.UpdateCharge(ctx, ch)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return err
		}
		in.emitCharge(ch)
		return nil
	}
	return fmt.Errorf("%w: charge %s kept changing", ErrConflict, chargeID)
}

var chargeEvents = map[ChargeStatus]EventType{
	ChargePlanned: EventChargePlanned, ChargeScheduled: EventChargeScheduled, ChargeRetrying: EventChargeRetrying,
	ChargeSettled: EventChargeSettled, ChargeFailed: EventChargeFailed, ChargeCancelled: EventChargeCancelled,
}

func (in *Initiator) emitCharge(ch *ChargeRecord) {
	e := Event{Type: chargeEvents[ch.Status], ReceiverID: ch.ReceiverID, ConsentID: ch.ConsentID, ChargeID: ch.ID, ChargeStatus: ch.Status}
	if ch.Status == ChargeFailed || ch.Status == ChargeRetrying {
		e.Reason = ReasonForRejection(ch.FailureCode)
	}
	in.emit(e)
}
