package pixauto

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
)

// BillingRun plans one charge for each authorised consent of a receiver,
// all due on the same date: a receiver's monthly billing, in one call.
type BillingRun struct {
	ReceiverID string
	// DueDate is the settlement date of every charge.
	DueDate consent.Date
	// Amount is charged, except on fixed-amount consents, which are charged
	// their fixedAmount. AmountFor, if set, decides per consent instead
	// (false skips the consent).
	Amount    consent.Amount
	AmountFor func(*ConsentRecord) (consent.Amount, bool)
	// CreditorAccount is the receiver's account.
	CreditorAccount consent.Account
	// Description is sent as remittanceInformation.
	Description string
	// BatchSize is how many consents are read and charges stored at a
	// time. Zero means 500.
	BatchSize int
}

// BillingResult counts what a billing run did.
type BillingResult struct {
	// Planned charges were stored, to be submitted at their time.
	Planned int
	// Existing consents already had a live charge for the cycle.
	Existing int
	// Skipped consents were left out by AmountFor.
	Skipped int
	// Refused consents broke a rule of the checklist for this charge
	// (the first errors are kept in Errors).
	Refused int
	Errors  []error
}

const maxBillingErrors = 100

// Bill runs a billing run. It streams the receiver's consents a batch at a
// time (memory does not grow with their number), plans each charge with its
// E2EID and idempotency key, and stores each batch in one call; charges
// are then submitted at their submission time by Sync or the jobs. A
// consent that already has a live charge for the cycle keeps it, so a run
// can be repeated after a crash.
func (in *Initiator) Bill(ctx context.Context, run BillingRun) (BillingResult, error) {
	var res BillingResult
	if run.ReceiverID == "" || run.DueDate.IsZero() {
		return res, errors.New("pixauto: BillingRun needs ReceiverID and DueDate")
	}
	batch := run.BatchSize
	if batch <= 0 {
		batch = 500
	}
	submitAt := in.submitTime(run.DueDate)
	after := ""
	for {
		page, err := in.consentPage(ctx, run.ReceiverID, after, batch)
		if err != nil || len(page) == 0 {
			return res, err
		}
		after = page[len(page)-1].ID
		plans := make([]ChargePlan, 0, len(page))
		for _, rec := range page {
			if plan, ok := in.billOne(rec, run, submitAt, &res); ok {
				plans = append(plans, plan)
			}
		}
		if len(plans) > 0 {
			skipped, err := in.store.InsertCharges(ctx, plans)
			if err != nil {
				return res, err
			}
			res.Existing += len(skipped)
			res.Planned += len(plans) - len(skipped)
		}
		if len(page) < batch {
			return res, nil
		}
	}
}

func (in *Initiator) consentPage(ctx context.Context, receiverID, after string, limit int) ([]*ConsentRecord, error) {
	page := make([]*ConsentRecord, 0, limit)
	f := ConsentFilter{ReceiverID: receiverID, Statuses: []consent.Status{consent.StatusAuthorised}, After: after, Limit: limit}
	for rec, err := range in.store.ListConsents(ctx, f) {
		if err != nil {
			return nil, err
		}
		page = append(page, rec)
	}
	return page, nil
}

// billOne plans the charge of one consent, or counts why not.
func (in *Initiator) billOne(rec *ConsentRecord, run BillingRun, submitAt time.Time, res *BillingResult) (ChargePlan, bool) {
	amount := run.Amount
	if auto := rec.Consent.Automatic(); auto != nil && auto.FixedAmount != nil {
		amount = *auto.FixedAmount
	}
	if run.AmountFor != nil {
		a, ok := run.AmountFor(rec)
		if !ok {
			res.Skipped++
			return ChargePlan{}, false
		}
		amount = a
	}
	plan, err := in.planCharge(rec, run.DueDate, amount, run.CreditorAccount, run.Description, submitAt)
	if err != nil {
		res.Refused++
		if len(res.Errors) < maxBillingErrors {
			res.Errors = append(res.Errors, fmt.Errorf("consent %s: %w", rec.ID, err))
		}
		return ChargePlan{}, false
	}
	return plan, true
}

// planCharge builds a charge and its first attempt, without storing them.
// Duplicate cycles are left to the store's uniqueness rule.
func (in *Initiator) planCharge(rec *ConsentRecord, due consent.Date, amount consent.Amount, account consent.Account, description string, submitAt time.Time) (ChargePlan, error) {
	h, err := in.holder(rec.HolderID)
	if err != nil {
		return ChargePlan{}, err
	}
	billing, err := payments.BillingOf(rec.Consent)
	if err != nil {
		return ChargePlan{}, err
	}
	cycle, err := billing.CycleContaining(due)
	if err != nil {
		return ChargePlan{}, err
	}
	req, err := in.planner(h).Recurrence(rec.Consent, payments.Charge{
		Cycle: cycle.Index, Due: due, Amount: amount, CreditorAccount: account, RemittanceInformation: description,
	}, submitAt, nil)
	if err != nil {
		return ChargePlan{}, err
	}
	return in.newChargePlan(rec, req, cycle.Start.String(), "", submitAt)
}
