package sandbox

import (
	"encoding/json"
	"fmt"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
)

// Test helpers: the bank's own record of the automatic-payments API, and
// the holder-side actions a test plays (the payer at the bank's app, the
// bank's back office). Each first applies what is due at the clock's time.

// Consent returns a copy of the bank's record of a recurring consent, with
// debtorAccount.ibgeTownCode as GET returns it.
func (b *Bank) Consent(recurringConsentID string) (*consent.Consent, error) {
	tx := b.auto.begin()
	defer tx.end()
	c := b.auto.consents[recurringConsentID]
	if c == nil {
		return nil, unknown("recurring consent", recurringConsentID)
	}
	return copyConsent(&c.c)
}

func copyConsent(c *consent.Consent) (*consent.Consent, error) {
	raw, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("sandbox: copy consent: %w", err)
	}
	var out consent.Consent
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("sandbox: copy consent: %w", err)
	}
	return &out, nil
}

// ConsentPayer returns the CPF of the payer who authorised a consent ("" if
// nobody has).
func (b *Bank) ConsentPayer(recurringConsentID string) (string, error) {
	tx := b.auto.begin()
	defer tx.end()
	c := b.auto.consents[recurringConsentID]
	if c == nil {
		return "", unknown("recurring consent", recurringConsentID)
	}
	return c.subject, nil
}

// Payments returns copies of the payments of a consent, retries included,
// in creation order (nil for an unknown consent).
func (b *Bank) Payments(recurringConsentID string) []payments.Payment {
	tx := b.auto.begin()
	defer tx.end()
	var out []payments.Payment
	for _, p := range b.auto.paymentList {
		if p.p.ConsentID == recurringConsentID {
			out = append(out, copyPayment(p))
		}
	}
	return out
}

// Payment returns a copy of the bank's record of a recurring payment.
func (b *Bank) Payment(recurringPaymentID string) (payments.Payment, error) {
	tx := b.auto.begin()
	defer tx.end()
	p := b.auto.payments[recurringPaymentID]
	if p == nil {
		return payments.Payment{}, unknown("recurring payment", recurringPaymentID)
	}
	return copyPayment(p), nil
}

func copyPayment(p *apPayment) payments.Payment {
	out := p.p
	if r := p.p.RejectionReason; r != nil {
		rr := *r
		out.RejectionReason = &rr
	}
	if a := p.p.CreditorAccount; a != nil {
		aa := *a
		out.CreditorAccount = &aa
	}
	if a := p.p.DebtorAccount; a != nil {
		aa := *a
		out.DebtorAccount = &aa
	}
	if c := p.p.Cancellation; c != nil {
		cc := *c
		out.Cancellation = &cc
	}
	if !p.flowSent {
		out.AuthorisationFlow = ""
	}
	return out
}

// SetConsentStatus forces a consent into status, as the holder's back
// office would, and notifies the ITP (STATE_CHANGED):
//
//   - AUTHORISED: authorised by its logged user, with the payer's account;
//   - PARTIALLY_ACCEPTED: waiting for more approvers until approvalDueDate,
//     30 days from now (then REJECTED); payments get
//     CONSENTIMENTO_PENDENTE_AUTORIZACAO;
//   - REJECTED: rejected by the holder (NAO_INFORMADO);
//   - REVOKED: revoked by the holder (NAO_INFORMADO), with the revocation's
//     effect on scheduled payments;
//   - CONSUMED, AWAITING_AUTHORISATION: just set.
//
// A status other than REJECTED or REVOKED drops the consent's rejection and
// revocation objects.
func (b *Bank) SetConsentStatus(recurringConsentID string, status consent.Status) error {
	a := b.auto
	tx := a.begin()
	defer tx.end()
	c := a.consents[recurringConsentID]
	if c == nil {
		return unknown("recurring consent", recurringConsentID)
	}
	now := b.now()
	if status != consent.StatusRejected && status != consent.StatusRevoked {
		c.c.Rejection, c.c.Revocation = nil, nil
	}
	switch status {
	case consent.StatusAuthorised:
		subject := c.subject
		if subject == "" && c.c.LoggedUser != nil {
			subject = c.c.LoggedUser.Document.Identification
		}
		a.authoriseLocked(tx, c, now, subject, nil)
	case consent.StatusPartiallyAccepted:
		due := consent.Today(now).AddDays(30)
		c.c.ApprovalDueDate = &due
		a.setConsentStatusLocked(tx, c, status, now)
	case consent.StatusRejected:
		a.rejectLocked(tx, c, now, consent.ByDetentora, consent.FromDetentora, consent.RejectionNaoInformado, "rejected by the holder")
	case consent.StatusRevoked:
		a.revokeLocked(tx, c, now, consent.Revocation{RevokedBy: consent.ByDetentora, RevokedFrom: consent.FromDetentora,
			Reason: consent.RevocationReason{Code: consent.RevocationNaoInformado, Detail: "revoked by the holder"}})
	case consent.StatusConsumed, consent.StatusAwaitingAuthorisation:
		a.setConsentStatusLocked(tx, c, status, now)
	default:
		return fmt.Errorf("sandbox: SetConsentStatus: unknown status %q", status)
	}
	return nil
}

// HolderEdit is an edit the payer makes at the holder (the bank's app):
// fields left nil are unchanged.
type HolderEdit struct {
	// MaximumVariableAmount is the payer's new cap per payment; a pointer to
	// 0 removes the cap. Refused on a fixed-amount consent and below
	// minimumVariableAmount.
	MaximumVariableAmount *consent.Amount
	// UseOverdraftLimit switches the use of pre-approved credit.
	UseOverdraftLimit *bool
}

// EditConsentAtHolder applies an edit the payer made at the holder to an
// AUTHORISED Pix Automático consent: updatedAtDateTime moves and the ITP is
// notified with DATA_CHANGED.
func (b *Bank) EditConsentAtHolder(recurringConsentID string, e HolderEdit) error {
	a := b.auto
	tx := a.begin()
	defer tx.end()
	c := a.consents[recurringConsentID]
	if c == nil {
		return unknown("recurring consent", recurringConsentID)
	}
	auto := c.c.Automatic()
	if auto == nil || c.c.Status != consent.StatusAuthorised {
		return fmt.Errorf("sandbox: EditConsentAtHolder: consent %s is %s; only AUTHORISED Pix Automático consents can be edited", recurringConsentID, c.c.Status)
	}
	if m := e.MaximumVariableAmount; m != nil {
		switch {
		case auto.FixedAmount != nil:
			return fmt.Errorf("sandbox: EditConsentAtHolder: consent %s has a fixedAmount; its maximum cannot be edited", recurringConsentID)
		case *m < 0:
			return fmt.Errorf("sandbox: EditConsentAtHolder: negative maximum %s", m)
		case *m > 0 && auto.MinimumVariableAmount != nil && *m < *auto.MinimumVariableAmount:
			return fmt.Errorf("sandbox: EditConsentAtHolder: maximum %s is below minimumVariableAmount %s", m, auto.MinimumVariableAmount)
		case *m == 0:
			auto.MaximumVariableAmount = nil
		default:
			v := *m
			auto.MaximumVariableAmount = &v
		}
	}
	if u := e.UseOverdraftLimit; u != nil {
		v := *u
		auto.UseOverdraftLimit = &v
	}
	now := b.now()
	updated := consent.NewDateTime(now)
	c.c.UpdatedAtDateTime = &updated
	tx.consentChanged(c, "DATA_CHANGED", now)
	return nil
}

// HoldPayment puts a scheduled payment on hold for analysis (SCHD → PDNG),
// as the holder's fraud team would; ReleasePayment schedules it again.
func (b *Bank) HoldPayment(recurringPaymentID string) error {
	return b.movePayment(recurringPaymentID, payments.StatusSCHD, payments.StatusPDNG)
}

// ReleasePayment ends a hold (PDNG → SCHD).
func (b *Bank) ReleasePayment(recurringPaymentID string) error {
	return b.movePayment(recurringPaymentID, payments.StatusPDNG, payments.StatusSCHD)
}

func (b *Bank) movePayment(id string, from, to payments.Status) error {
	a := b.auto
	tx := a.begin()
	defer tx.end()
	p := a.payments[id]
	if p == nil {
		return unknown("recurring payment", id)
	}
	if p.p.Status != from {
		return fmt.Errorf("sandbox: payment %s is %s, not %s", id, p.p.Status, from)
	}
	a.setPaymentStatusLocked(tx, p, to, b.now())
	return nil
}
