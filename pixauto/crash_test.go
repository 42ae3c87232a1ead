package pixauto_test

import (
	"context"
	"errors"
	"iter"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// errKilled stands for the process dying at that point: the step fails and
// nothing after it runs.
var errKilled = errors.New("killed")

// crashingStore fails one chosen store call once, as if the process died
// there; what was written before stays written.
type crashingStore struct {
	pixauto.Store
	// killUpdateTo kills the UpdateAttempt that moves an attempt to this
	// state.
	killUpdateTo pixauto.AttemptState
	// killListAfterSending kills the first ListCharges made while an
	// attempt is SENDING (between the claim and the request).
	killListAfterSending bool
	sending              atomic.Bool
	fired                atomic.Bool
}

func (s *crashingStore) UpdateAttempt(ctx context.Context, a *pixauto.AttemptRecord) error {
	if a.State == s.killUpdateTo && s.fired.CompareAndSwap(false, true) {
		return errKilled
	}
	err := s.Store.UpdateAttempt(ctx, a)
	if err == nil && a.State == pixauto.AttemptSending {
		s.sending.Store(true)
	}
	return err
}

func (s *crashingStore) ListCharges(ctx context.Context, f pixauto.ChargeFilter) iter.Seq2[*pixauto.ChargeRecord, error] {
	if s.killListAfterSending && s.sending.Load() && s.fired.CompareAndSwap(false, true) {
		return func(yield func(*pixauto.ChargeRecord, error) bool) { yield(nil, errKilled) }
	}
	return s.Store.ListCharges(ctx, f)
}

// TestCrashSafety kills the submission of a charge at each step and shows
// that the next start neither loses the charge nor sends it twice: the
// bank's own record is the judge.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(e *env, cs *crashingStore)
	}{
		{"before send (claim never stored)", func(_ *env, cs *crashingStore) { cs.killUpdateTo = pixauto.AttemptSending }},
		{"after the claim, before the request left", func(_ *env, cs *crashingStore) { cs.killListAfterSending = true }},
		{"after send, before the answer (connection dropped)", func(e *env, _ *crashingStore) {
			// Every send of the call (the SDK resends up to 3 times) is cut off.
			e.Bank.InjectFault(sandbox.CallFault{Op: sandbox.OpCreatePayment, Kind: sandbox.FaultDrop, Times: 3})
		}},
		{"after send, bank failed before acting (500)", func(e *env, _ *crashingStore) {
			e.Bank.InjectFault(sandbox.CallFault{Op: sandbox.OpCreatePayment, Kind: sandbox.FaultStatus, Status: 500, Times: 3})
		}},
		{"after the answer, before storing it", func(_ *env, cs *crashingStore) { cs.killUpdateTo = pixauto.AttemptSubmitted }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, sandboxtest.Options{})
			rec := e.enrol(e.ConsentRequest())
			cs := &crashingStore{Store: e.store}
			tc.setup(e, cs)
			crashing := e.initiator(cs)

			due := e.Today().AddDays(3)
			ch, err := crashing.Charge(bg, pixauto.ChargeRequest{ConsentID: rec.ID, DueDate: due, Amount: mustAmount("150.00"), CreditorAccount: sandboxtest.CreditorAccount})
			require.NoError(t, err, "the charge is stored even when its submission dies")
			before := e.attempts(ch.ID)
			require.Len(t, before, 1)
			require.NotEqual(t, pixauto.AttemptSubmitted, before[0].State, "the crash happened before the outcome was stored")

			// The process restarts: a new Initiator on the same database.
			e.in = e.initiator(e.store)
			e.runUntil(sandboxtest.At(due, 12, 0), time.Hour)

			assert.Len(t, e.Bank.Payments(rec.ID), 1, "submitted exactly once")
			as := e.attempts(ch.ID)
			require.Len(t, as, 1)
			assert.Equal(t, pixauto.AttemptSubmitted, as[0].State)
			assert.Equal(t, pixauto.ChargeSettled, e.charge(ch.ID).Status)
		})
	}
}

// An Enrol repeated with the same idempotency key (the caller's resend after
// a timeout) creates the consent once.
func TestEnrolIsIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandboxtest.Options{})
	req := pixauto.EnrolRequest{ReceiverID: receiver, HolderID: "bank", Consent: e.ConsentRequest(), IdempotencyKey: "enrol-1"}
	a, err := e.in.Enrol(bg, req)
	require.NoError(t, err)
	b, err := e.in.Enrol(bg, req)
	require.NoError(t, err)
	assert.Equal(t, a.ConsentID, b.ConsentID)
	assert.NotEqual(t, a.State, b.State, "each call starts its own authorization")
}

// A callback is single use, and a forged state is refused.
func TestCompleteRefusesUnknownOrReusedState(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandboxtest.Options{})
	en, err := e.in.Enrol(bg, pixauto.EnrolRequest{ReceiverID: receiver, HolderID: "bank", Consent: e.ConsentRequest()})
	require.NoError(t, err)
	redirect, err := e.Bank.Authorize(bg, en.RedirectURL)
	require.NoError(t, err)
	_, err = e.in.Complete(bg, redirect)
	require.NoError(t, err)
	_, err = e.in.Complete(bg, redirect)
	assert.ErrorIs(t, err, pixauto.ErrUnknownAuthorization)
	_, err = e.in.Complete(bg, "#code=x&id_token=y&state=forged")
	assert.ErrorIs(t, err, pixauto.ErrUnknownAuthorization)
}

// Refresh tokens are sealed at rest: the store never holds them in clear.
func TestRefreshTokensAreSealedAtRest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandboxtest.Options{})
	rec := e.enrol(e.ConsentRequest())
	sealed, err := e.store.GetSecret(bg, "refresh_token:"+rec.ID)
	require.NoError(t, err)
	assert.Greater(t, len(sealed), 28, "nonce + ciphertext + tag")

	wrongKey, err := pixauto.New(pixauto.Config{
		CNPJ: e.ITPCNPJ, ISPB: sandboxtest.ITPISPB, Store: e.store, SecretKey: []byte("ffffffffffffffffffffffffffffffff"), Clock: e.Clock,
		Holders: []pixauto.Holder{{ID: "bank", FAPI: e.FAPI, BaseURL: e.Bank.MTLSURL + sandbox.AutomaticPaymentsBase}},
	})
	require.NoError(t, err)
	_, err = wrongKey.Charge(bg, pixauto.ChargeRequest{ConsentID: rec.ID, DueDate: e.Today().AddDays(3), Amount: mustAmount("10.00"), CreditorAccount: sandboxtest.CreditorAccount})
	require.NoError(t, err, "the charge is stored")
	assert.Empty(t, e.Bank.Payments(rec.ID), "without the key the refresh token does not open, and nothing is sent")

	e.runUntil(e.Clock.Now().Add(5*time.Minute), time.Minute) // past the SENDING grace
	assert.Len(t, e.Bank.Payments(rec.ID), 1, "with the key, the stored charge goes out")
}
