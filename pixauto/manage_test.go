package pixauto_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCancelPlannedReturnsTheStoredCharge(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandboxtest.Options{})
	rec := e.enrol(e.ConsentRequest())
	ch := e.newCharge(rec.ID, e.Today().AddDays(8), "150.00")
	require.Equal(t, pixauto.ChargePlanned, ch.Status)
	got, err := e.in.Cancel(bg, ch.ID, consent.DocumentFor(sandboxtest.CreditorCNPJ))
	require.NoError(t, err)
	assert.Equal(t, pixauto.ChargeCancelled, got.Status)
	assert.Equal(t, e.charge(ch.ID).Version, got.Version)
}

// A consent that can no longer pay withdraws its charges not yet sent,
// whether the ITP revoked it or the bank did.
func TestFinalConsentWithdrawsPlannedCharges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		revoke func(e *env, id string)
		reason pixauto.ReceiverReason
	}{
		{"revoked by the receiver through the ITP", func(e *env, id string) {
			_, err := e.in.Revoke(bg, id, consent.RevocationRecebedor, "contract ended")
			require.NoError(e.t, err)
		}, pixauto.ReasonRevokedByReceiver},
		{"revoked by the bank, learnt by reading it", func(e *env, id string) {
			require.NoError(e.t, e.Bank.SetConsentStatus(id, consent.StatusRevoked))
			_, err := e.in.SyncConsent(bg, id)
			require.NoError(e.t, err)
		}, pixauto.ReasonConsentInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, sandboxtest.Options{})
			rec := e.enrol(e.ConsentRequest())
			planned := e.newCharge(rec.ID, e.Today().AddDays(8), "150.00")
			tc.revoke(e, rec.ID)
			assert.Equal(t, pixauto.ChargeCancelled, e.charge(planned.ID).Status)
			e.runUntil(e.Clock.Now().Add(10*24*time.Hour), 12*time.Hour)
			assert.Empty(t, e.Bank.Payments(rec.ID), "nothing was sent")
			revoked := e.eventsOf(pixauto.EventConsentRevoked)
			require.Len(t, revoked, 1)
			assert.Equal(t, tc.reason, revoked[0].Reason)
		})
	}
}

// An edit made by the payer at the bank reaches the receiver as an event.
func TestEditAtTheBankEmitsConsentUpdated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandboxtest.Options{})
	rec := e.enrol(e.ConsentRequest())
	max := consent.MustAmount("200.00")
	require.NoError(t, e.Bank.EditConsentAtHolder(rec.ID, sandbox.HolderEdit{MaximumVariableAmount: &max}))
	e.Advance(t, time.Minute)
	got, err := e.in.SyncConsent(bg, rec.ID)
	require.NoError(t, err)
	assert.Equal(t, max, *got.Consent.Automatic().MaximumVariableAmount)
	assert.Len(t, e.eventsOf(pixauto.EventConsentUpdated), 1)
	_, err = e.in.SyncConsent(bg, rec.ID)
	require.NoError(t, err)
	assert.Len(t, e.eventsOf(pixauto.EventConsentUpdated), 1, "reading an unchanged consent emits nothing")
}

// With automatic retries off, a failed charge waits for the receiver, who
// can ask for the retry the spec allows.
func TestOnDemandRetryWithAutomaticRetriesOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandboxtest.Options{})
	e.policy = payments.RetryPolicy{Disabled: true}
	e.in = e.initiator(e.store)
	rec := e.enrol(e.ConsentRequest())
	require.NoError(t, e.Bank.ScriptConsentSettlement(rec.ID,
		sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Morning),
		sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Evening)))
	due := e.Today().AddDays(3)
	ch := e.newCharge(rec.ID, due, "150.00")
	e.runUntil(sandboxtest.At(due, 22, 0), time.Hour)
	assert.Equal(t, pixauto.ChargeRetrying, e.charge(ch.ID).Status, "waiting for the receiver, not failed")
	assert.Len(t, e.attempts(ch.ID), 1, "no automatic retry")

	a, err := e.in.Retry(bg, ch.ID)
	require.NoError(t, err)
	assert.Equal(t, payments.KindExtraday, a.Kind)
	e.runUntil(sandboxtest.At(due.AddDays(1), 12, 0), time.Hour)
	assert.Equal(t, pixauto.ChargeSettled, e.charge(ch.ID).Status)
}

// Asking for a retry while the bank will still retry by itself says so.
func TestOnDemandRetryWhileWaiting(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandboxtest.Options{})
	rec := e.enrol(e.ConsentRequest())
	require.NoError(t, e.Bank.ScriptConsentSettlement(rec.ID, sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Morning)))
	due := e.Today().AddDays(3)
	ch := e.newCharge(rec.ID, due, "150.00")
	e.runUntil(sandboxtest.At(due, 10, 0), time.Hour)
	_, err := e.in.Retry(bg, ch.ID)
	var re *pixauto.RetryError
	if errors.As(err, &re) {
		assert.Equal(t, payments.Wait, re.Decision.Action)
		return
	}
	t.Fatalf("want a RetryError saying to wait, got %v", err)
}
