package payments

import (
	"errors"
	"fmt"
	"time"

	"github.com/ofb-go/pixauto/consent"
)

// Planner builds the payment requests of one ITP for holders of one API
// version: it chooses the settlement date (moved off non-business days
// when the receiver wants it), the E2EID and the paymentReference, and runs
// the [Validator] on the result, so that what it returns can be sent.
//
// A Planner is safe for concurrent use if its Generator is (it is).
type Planner struct {
	// Version is the holder's API version; zero means DefaultVersion.
	Version Version
	// Generator issues the E2EIDs; its ISPB is the ITP's. Required.
	Generator *Generator
	// CNPJInitiator is the ITP's CNPJ, sent as cnpjInitiator.
	CNPJInitiator string
	// Calendar is the business-day calendar; nil means the national one.
	Calendar *Calendar
	// DueDates says how a due date that is not a business day moves; the
	// zero value keeps it (Pix Automático settles on any day).
	DueDates DueDatePolicy
}

// Charge is one recurrence a receiver asks for.
type Charge struct {
	// Cycle is the index of the billing cycle paid (0 starts on
	// referenceStartDate); see [Billing].
	Cycle int
	// Due is the wanted settlement date; zero means the cycle's start.
	Due consent.Date
	// Amount is the charge, within the consent's limits.
	Amount consent.Amount
	// CreditorAccount is the receiver's account.
	CreditorAccount consent.Account
	// RemittanceInformation is optional free text (≤140 characters).
	RemittanceInformation string
	// IBGETownCode is optional (7 digits).
	IBGETownCode string
}

var errNoGenerator = fmt.Errorf("payments: planner: nil Generator: %w", ErrMissing)

func (p *Planner) validator() *Validator {
	return &Validator{Version: p.Version, ISPB: p.Generator.ISPB, CNPJInitiator: p.CNPJInitiator}
}

func creditorDocument(c *consent.Consent) consent.Document {
	if c == nil || len(c.Creditors) == 0 {
		return consent.Document{}
	}
	return consent.DocumentFor(c.Creditors[0].CpfCnpj)
}

// Recurrence returns the request that pays ch under consent c, requested at
// now, given the consent's existing payments. The due date is moved by the
// DueDates policy; the E2EID carries the final date at 15:00 UTC. When the
// request breaks a checklist rule (a due date outside [today+2, today+10],
// a cycle already paid, an amount above the cap, …) it returns nil and the
// [ValidationErrors].
func (p *Planner) Recurrence(c *consent.Consent, ch Charge, now time.Time, existing []Payment) (*Request, error) {
	if p.Generator == nil {
		return nil, errNoGenerator
	}
	b, err := BillingOf(c)
	if err != nil {
		return nil, err
	}
	cyc, err := b.Cycle(ch.Cycle)
	if err != nil {
		return nil, err
	}
	due := ch.Due
	if due.IsZero() {
		due = cyc.Start
	}
	due = p.Calendar.Adjust(due, p.DueDates)
	e, err := p.Generator.Scheduled(due)
	if err != nil {
		return nil, err
	}
	r := &Request{
		EndToEndID:            e.String(),
		Date:                  due,
		Amount:                ch.Amount,
		CreditorAccount:       ch.CreditorAccount,
		RemittanceInformation: ch.RemittanceInformation,
		CNPJInitiator:         p.CNPJInitiator,
		IBGETownCode:          ch.IBGETownCode,
		Document:              creditorDocument(c),
		Reference:             CycleReference(b.Interval, cyc),
	}
	if err := p.validator().ValidateCreate(r, c, existing, now); err != nil {
		return nil, err
	}
	return r, nil
}

// FirstPayment returns the request of the consent's firstPayment, with the
// declared amount, creditor account and remittance information. It is
// immediate (E2EID at the current UTC minute) when firstPayment.date is
// today or already past, and scheduled for that date otherwise. Invalid
// requests give nil and the [ValidationErrors].
func (p *Planner) FirstPayment(c *consent.Consent, now time.Time, existing []Payment) (*Request, error) {
	if p.Generator == nil {
		return nil, errNoGenerator
	}
	if c == nil || c.Automatic() == nil {
		return nil, ErrNotAutomatic
	}
	fp := c.Automatic().FirstPayment
	if fp == nil {
		return nil, errors.Join(errors.New("payments: planner: the consent has no firstPayment"), ErrMissing)
	}
	today := consent.Today(now)
	date := fp.Date
	var (
		e   E2EID
		err error
	)
	// The first payment carries exactly the declared values, its date
	// included: immediate when that date is today, scheduled when it is
	// later; a date already past is refused by the validator below.
	if date.After(today) {
		e, err = p.Generator.Scheduled(date)
	} else {
		e, err = p.Generator.Immediate(now)
	}
	if err != nil {
		return nil, err
	}
	r := &Request{
		EndToEndID:            e.String(),
		Date:                  date,
		Amount:                fp.Amount,
		CreditorAccount:       fp.CreditorAccount,
		RemittanceInformation: fp.RemittanceInformation,
		CNPJInitiator:         p.CNPJInitiator,
		Document:              creditorDocument(c),
		Reference:             FirstPaymentReference(),
	}
	if err := p.validator().ValidateCreate(r, c, existing, now); err != nil {
		return nil, err
	}
	return r, nil
}
