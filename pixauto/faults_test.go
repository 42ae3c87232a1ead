package pixauto_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFaultMatrix states, for each way the bank can misbehave when a
// payment is created, what the SDK does — resend with the same idempotency
// key and a new jti, reconcile by reading, or stop with a typed error — and
// shows that the charge still settles with exactly one payment at the bank.
func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	type outcome int
	const (
		resentAndSucceeded outcome = iota // Submit returns nil: the resend got the answer
		unknownThenRead                   // Submit fails with a transport or 5xx error; reading the bank settles it
		refusedAnswer                     // Submit fails with a *fapi.SignatureError: the answer is not trusted
	)
	for _, tc := range []struct {
		name    string
		fault   sandbox.CallFault
		outcome outcome
		check   string // SignatureError.Check for refusedAnswer
	}{
		{"500 once", sandbox.CallFault{Kind: sandbox.FaultStatus, Status: 500}, resentAndSucceeded, ""},
		{"504 on every send", sandbox.CallFault{Kind: sandbox.FaultStatus, Status: 504, Times: 3}, unknownThenRead, ""},
		{"529 with Retry-After", sandbox.CallFault{Kind: sandbox.FaultStatus, Status: 529, RetryAfter: "1"}, resentAndSucceeded, ""},
		{"529 on every send", sandbox.CallFault{Kind: sandbox.FaultStatus, Status: 529, Times: 3}, unknownThenRead, ""},
		{"connection dropped after the bank acted, once", sandbox.CallFault{Kind: sandbox.FaultDrop}, resentAndSucceeded, ""},
		{"connection dropped on every send", sandbox.CallFault{Kind: sandbox.FaultDrop, Times: 3}, unknownThenRead, ""},
		{"timeout after the bank acted", sandbox.CallFault{Kind: sandbox.FaultDelay, Times: 3}, unknownThenRead, ""},
		{"bad signature", sandbox.CallFault{Kind: sandbox.FaultBadSignature}, refusedAnswer, "signature"},
		{"wrong aud", sandbox.CallFault{Kind: sandbox.FaultWrongAudience}, refusedAnswer, "aud"},
		{"wrong iss", sandbox.CallFault{Kind: sandbox.FaultWrongIssuer}, refusedAnswer, "iss"},
		{"stale iat", sandbox.CallFault{Kind: sandbox.FaultStaleIat}, refusedAnswer, "iat"},
		{"replayed jti", sandbox.CallFault{Kind: sandbox.FaultReplayedJTI}, refusedAnswer, "jti"},
		{"unknown kid", sandbox.CallFault{Kind: sandbox.FaultUnknownKID}, refusedAnswer, "kid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, sandboxtest.Options{})
			if tc.fault.Kind == sandbox.FaultDelay {
				// The bank holds its answer until the client gives up: a
				// short client timeout is what is being tested here.
				cfg := e.Bank.FAPIConfig(e.Bank.ITP)
				cfg.Timeout = time.Second // short, yet ample for the normal calls after the fault on a loaded machine
				fc, err := fapi.New(cfg)
				require.NoError(t, err)
				e.FAPI = fc
				e.in = e.initiator(e.store)
			}
			rec := e.enrol(e.ConsentRequest())
			due := e.Today().AddDays(8) // submitted 5 days before: not at once
			ch := e.newCharge(rec.ID, due, "150.00")
			a := e.attempts(ch.ID)[0]
			require.Equal(t, pixauto.AttemptPlanned, a.State)

			if tc.fault.Kind == sandbox.FaultReplayedJTI {
				// The bank replays the jti of an answer the client has seen.
				_, err := e.Payments.List(bg, payments.ListFilter{ConsentID: rec.ID})
				require.NoError(t, err)
			}
			fault := tc.fault
			fault.Op = sandbox.OpCreatePayment
			e.Bank.InjectFault(fault)
			err := e.in.Submit(bg, a.ID)
			switch tc.outcome {
			case resentAndSucceeded:
				require.NoError(t, err)
				assert.Equal(t, pixauto.AttemptSubmitted, e.attempts(ch.ID)[0].State)
			case unknownThenRead:
				require.Error(t, err)
				var se *fapi.SignatureError
				assert.False(t, errors.As(err, &se))
				assert.Equal(t, pixauto.AttemptSending, e.attempts(ch.ID)[0].State, "the outcome is unknown until the bank is read")
			case refusedAnswer:
				var se *fapi.SignatureError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, tc.check, se.Check)
				assert.Equal(t, pixauto.AttemptSending, e.attempts(ch.ID)[0].State, "an untrusted answer is not recorded")
			}

			e.runUntil(sandboxtest.At(due, 12, 0), 3*time.Hour)
			assert.Len(t, e.Bank.Payments(rec.ID), 1, "exactly one payment at the bank")
			assert.Equal(t, pixauto.ChargeSettled, e.charge(ch.ID).Status)
		})
	}
}

// An idempotency conflict (same key, other data) is a typed error, and
// nothing is resent.
func TestIdempotencyConflictStops(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandboxtest.Options{})
	ctx := bg
	key := fapi.NewIdempotencyKey(nil)
	_, err := e.Consents.Create(ctx, e.ConsentRequest(), key)
	require.NoError(t, err)
	_, err = e.Consents.Create(ctx, e.ConsentRequest(func(r *consent.CreateRequest) { r.AdditionalInformation = "other data" }), key)
	var ae *fapi.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusUnprocessableEntity, ae.StatusCode)
	assert.True(t, ae.HasCode("ERRO_IDEMPOTENCIA"))
	assert.True(t, ae.Signed)
}
