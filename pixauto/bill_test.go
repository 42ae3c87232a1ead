package pixauto_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// billConsent is a monthly consent of receiverID from anchor, stored
// directly (Bill reads the store only; the bank never sees it).
func billConsent(id, receiverID string, status consent.Status, anchor consent.Date, amounts consent.Amounts, now time.Time) *pixauto.ConsentRecord {
	auto := consent.NewAutomatic("CT-"+id, consent.IntervalMensal, anchor,
		consent.ContractDebtor{Name: "Ana Souza", Document: consent.DocumentFor(sandbox.DefaultPayerCPF)}, amounts, consent.WithRetries())
	at := consent.NewDateTime(now)
	return &pixauto.ConsentRecord{
		ID: id, ReceiverID: receiverID, HolderID: "bank", Status: status, IdempotencyKey: "idem-" + id,
		CreatedAt: now, UpdatedAt: now, Version: 1,
		Consent: &consent.Consent{
			RecurringConsentID: id, Status: status, StatusUpdateDateTime: at, CreationDateTime: at,
			LoggedUser:             &consent.LoggedUser{Document: consent.DocumentFor(sandbox.DefaultPayerCPF)},
			Creditors:              []consent.Creditor{consent.NewCreditor(sandboxtest.CreditorCNPJ, sandboxtest.CreditorName)},
			RecurringConfiguration: consent.RecurringConfiguration{Automatic: auto},
			ExpirationDateTime:     consent.ExpirationOn(anchor.AddDays(400)),
		},
	}
}

func TestBill(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandboxtest.Options{})
	now := e.Clock.Now()
	anchor := e.Today().AddDays(5)
	due := consent.NewDate(anchor.Year, anchor.Month+1, anchor.Day) // the second cycle's start
	variable := consent.Variable(consent.MustAmount("300.00"), 0)
	fixed := consent.MustAmount("89.90")

	// 300 consents to bill (every seventh of a fixed amount), one whose
	// cap is below the run's amount, and three Bill must not read.
	const n = 300
	wantAmount := map[string]consent.Amount{}
	for i := range n {
		id := fmt.Sprintf("urn:bank:bill-%04d", i)
		amounts, amount := variable, consent.MustAmount("149.90")
		if i%7 == 0 {
			amounts, amount = consent.Fixed(fixed), fixed
		}
		require.NoError(t, e.store.InsertConsent(bg, billConsent(id, receiver, consent.StatusAuthorised, anchor, amounts, now)))
		wantAmount[id] = amount
	}
	capped := billConsent("urn:bank:bill-capped", receiver, consent.StatusAuthorised, anchor, consent.Variable(consent.MustAmount("100.00"), 0), now)
	for _, rec := range []*pixauto.ConsentRecord{
		capped,
		billConsent("urn:bank:bill-revoked", receiver, consent.StatusRevoked, anchor, variable, now),
		billConsent("urn:bank:bill-pending", receiver, consent.StatusAwaitingAuthorisation, anchor, variable, now),
		billConsent("urn:bank:bill-other", "receiver-2", consent.StatusAuthorised, anchor, variable, now),
	} {
		require.NoError(t, e.store.InsertConsent(bg, rec))
	}

	run := pixauto.BillingRun{
		ReceiverID: receiver, DueDate: due, Amount: consent.MustAmount("149.90"),
		CreditorAccount: sandboxtest.CreditorAccount, Description: "Mensalidade", BatchSize: 50,
	}
	res, err := e.in.Bill(bg, run)
	require.NoError(t, err)
	require.Equal(t, n, res.Planned)
	require.Zero(t, res.Existing)
	require.Zero(t, res.Skipped)
	require.Equal(t, 1, res.Refused, "the capped consent")
	require.Len(t, res.Errors, 1)
	require.ErrorIs(t, res.Errors[0], payments.ErrAmountAboveMaximum)
	require.ErrorContains(t, res.Errors[0], capped.ID)

	// Exactly one charge per consent, with its first attempt planned for
	// LeadDays (5) before the due date, and nothing sent.
	e2eids := map[string]bool{}
	byConsent := map[string]*pixauto.ChargeRecord{}
	for ch, err := range e.in.ListCharges(bg, pixauto.ChargeFilter{}) {
		require.NoError(t, err)
		require.NotContains(t, byConsent, ch.ConsentID, "a second charge for %s", ch.ConsentID)
		byConsent[ch.ConsentID] = ch
		want, ok := wantAmount[ch.ConsentID]
		require.True(t, ok, "consent %s must not be billed", ch.ConsentID)
		require.Equal(t, want, ch.Amount, ch.ConsentID)
		require.Equal(t, receiver, ch.ReceiverID)
		require.Equal(t, due, ch.DueDate)
		require.Equal(t, due.String(), ch.Reference, "the cycle's start")
		require.Equal(t, pixauto.ChargePlanned, ch.Status)
		require.Equal(t, "Mensalidade", ch.Description)

		as := e.attempts(ch.ID)
		require.Len(t, as, 1)
		a := as[0]
		require.Equal(t, pixauto.AttemptPlanned, a.State)
		require.Equal(t, payments.KindOriginal, a.Kind)
		require.Equal(t, due, a.Date)
		require.Equal(t, due.AddDays(-5).In(consent.Brasilia).Add(9*time.Hour), a.SubmitAt.In(consent.Brasilia))
		require.Empty(t, a.PaymentID)
		require.False(t, e2eids[a.EndToEndID], "E2EID %s reused", a.EndToEndID)
		e2eids[a.EndToEndID] = true
		var req struct {
			EndToEndID string         `json:"endToEndId"`
			Amount     consent.Amount `json:"amount"`
		}
		require.NoError(t, json.Unmarshal(a.Request, &req))
		require.Equal(t, a.EndToEndID, req.EndToEndID)
		require.Equal(t, want, req.Amount, "the stored request carries the charge's amount")
	}
	require.Len(t, byConsent, n)
	require.Empty(t, e.Bank.Payments(capped.ID), "Bill sends nothing")

	// The same run again (after a crash, say) plans nothing new.
	res, err = e.in.Bill(bg, run)
	require.NoError(t, err)
	require.Zero(t, res.Planned)
	require.Equal(t, n, res.Existing)
	require.Equal(t, 1, res.Refused)
	require.Len(t, chargeIDs(t, e), n)

	// The next cycle is another charge per consent.
	run.DueDate = consent.NewDate(anchor.Year, anchor.Month+2, anchor.Day)
	run.BatchSize = 0 // 500: one page
	res, err = e.in.Bill(bg, run)
	require.NoError(t, err)
	require.Equal(t, n, res.Planned)
	require.Zero(t, res.Existing)
	require.Len(t, chargeIDs(t, e), 2*n)
}

func TestBillAmountFor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandboxtest.Options{})
	now := e.Clock.Now()
	anchor := e.Today().AddDays(5)
	for i := range 5 {
		id := fmt.Sprintf("urn:bank:bill-%d", i)
		require.NoError(t, e.store.InsertConsent(bg, billConsent(id, receiver, consent.StatusAuthorised, anchor, consent.Variable(consent.MustAmount("300.00"), 0), now)))
	}
	res, err := e.in.Bill(bg, pixauto.BillingRun{
		ReceiverID: receiver, DueDate: consent.NewDate(anchor.Year, anchor.Month+1, anchor.Day),
		CreditorAccount: sandboxtest.CreditorAccount, BatchSize: 2,
		AmountFor: func(rec *pixauto.ConsentRecord) (consent.Amount, bool) {
			if rec.ID == "urn:bank:bill-3" {
				return 0, false
			}
			return consent.Amount(10000 + len(rec.ID)), true
		},
	})
	require.NoError(t, err)
	require.Equal(t, pixauto.BillingResult{Planned: 4, Skipped: 1}, res)
	for ch, err := range e.in.ListCharges(bg, pixauto.ChargeFilter{}) {
		require.NoError(t, err)
		require.NotEqual(t, "urn:bank:bill-3", ch.ConsentID)
		require.Equal(t, consent.Amount(10000+len(ch.ConsentID)), ch.Amount)
	}

	_, err = e.in.Bill(bg, pixauto.BillingRun{ReceiverID: receiver})
	require.Error(t, err, "a run needs a due date")
}

func chargeIDs(t *testing.T, e *env) []string {
	t.Helper()
	var ids []string
	for ch, err := range e.in.ListCharges(bg, pixauto.ChargeFilter{ReceiverID: receiver}) {
		require.NoError(t, err)
		ids = append(ids, ch.ID)
	}
	return ids
}
