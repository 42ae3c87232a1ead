package sandbox_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// isTimeout reports whether err is a client-side timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// TestCallFaults: the call faults of the automatic-payments API, on one
// bank (faults are bank-wide, so the parts run in turn).
func TestCallFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Config{})
	t.Run("matrix", func(t *testing.T) { callFaultMatrix(t, e) })
	t.Run("writes", func(t *testing.T) { callFaultsOnWrites(t, e) })
}

// callFaultMatrix: every fault kind on a read visibly changes what the
// SDK's client sees, and the next call is served normally.
func callFaultMatrix(t *testing.T, e *env) {
	id := e.createConsent(e.consentData())
	short := e.client(e.b.ITP, 300*time.Millisecond)
	shortCC := short.ClientCredentialsSource(fapi.ScopeRecurringPayments)
	signature := func(check string) func(t *testing.T, err error) {
		return func(t *testing.T, err error) {
			var se *fapi.SignatureError
			if !errors.As(err, &se) || se.Check != check {
				t.Fatalf("want a %s signature error, got %v", check, err)
			}
		}
	}
	checks := map[sandbox.FaultKind]struct {
		fault  sandbox.CallFault
		client *fapi.Client
		check  func(t *testing.T, err error)
	}{
		sandbox.FaultStatus: {sandbox.CallFault{Status: 529, RetryAfter: "7"}, e.c, func(t *testing.T, err error) {
			ae := apiError(t, err, 529)
			if ae.RetryAfter != "7" || ae.Signed || ae.Errors[0].Code != "SITE_SOBRECARREGADO" {
				t.Fatalf("529: %+v", ae)
			}
		}},
		sandbox.FaultDelay: {sandbox.CallFault{}, short, func(t *testing.T, err error) {
			if !isTimeout(err) {
				t.Fatalf("want a timeout, got %v", err)
			}
		}},
		sandbox.FaultDrop: {sandbox.CallFault{}, e.c, func(t *testing.T, err error) {
			var ae *fapi.APIError
			var se *fapi.SignatureError
			if err == nil || errors.As(err, &ae) || errors.As(err, &se) || isTimeout(err) {
				t.Fatalf("want a dropped connection, got %v", err)
			}
		}},
		sandbox.FaultBadSignature:  {sandbox.CallFault{}, e.c, signature("signature")},
		sandbox.FaultWrongAudience: {sandbox.CallFault{}, e.c, signature("aud")},
		sandbox.FaultWrongIssuer:   {sandbox.CallFault{}, e.c, signature("iss")},
		sandbox.FaultStaleIat:      {sandbox.CallFault{}, e.c, signature("iat")},
		sandbox.FaultReplayedJTI:   {sandbox.CallFault{}, e.c, signature("jti")},
		sandbox.FaultUnknownKID:    {sandbox.CallFault{}, e.c, signature("kid")},
	}
	for _, kind := range sandbox.FaultKinds() {
		t.Run(kind.String(), func(t *testing.T) {
			tt, ok := checks[kind]
			if !ok {
				t.Fatalf("no check for %s", kind)
			}
			ts := e.cc
			if tt.client == short {
				ts = shortCC
				e.do(short, http.MethodGet, "/recurring-consents/"+id, nil, ts) // a token first, outside the fault
			}
			e.call(http.MethodGet, "/recurring-consents/"+id, nil, e.cc) // a normal answer first (its jti is replayed)
			f := tt.fault
			f.Kind, f.Op = kind, sandbox.OpGetConsent
			e.b.InjectFault(f)
			_, err := e.do(tt.client, http.MethodGet, "/recurring-consents/"+id, nil, ts)
			tt.check(t, err)
			if left := e.b.Faults().Resource.Calls; len(left) != 0 {
				t.Fatalf("fault not consumed: %+v", left)
			}
			e.must(http.StatusOK)(e.call(http.MethodGet, "/recurring-consents/"+id, nil, e.cc))
		})
	}
}

// callFaultsOnWrites: what the bank did when the client saw a fault, and
// how a resend with the same idempotency key finds out.
func callFaultsOnWrites(t *testing.T, e *env) {
	revoke := obj{"status": "REVOKED", "revocation": obj{"revokedBy": "USUARIO", "revokedFrom": "INICIADORA", "reason": obj{"code": "REVOGADO_USUARIO", "detail": "fim"}}}
	patch := func(c *fapi.Client, ts fapi.TokenSource, id, key string) (*fapi.Response, error) {
		return c.Do(context.Background(), fapi.Call{Method: http.MethodPatch, URL: e.url("/recurring-consents/" + id), Data: revoke, Token: ts, IdempotencyKey: key})
	}

	// 500 before acting: nothing happened.
	id, _ := e.authorised(e.consentData())
	e.b.InjectFault(sandbox.CallFault{Op: sandbox.OpPatchConsent, Kind: sandbox.FaultStatus, Status: http.StatusInternalServerError, Times: 2})
	for range 2 {
		_, err := patch(e.c, e.cc, id, uuid.NewString())
		if ae := apiError(t, err, http.StatusInternalServerError); ae.Errors[0].Code != "ERRO_INTERNO" {
			t.Fatalf("500: %+v", ae)
		}
	}
	if s := e.consent(id).Status; s != consent.StatusAuthorised {
		t.Fatalf("after two 500s the consent is %s", s)
	}

	// A dropped connection after acting: the resend replays the result.
	key := uuid.NewString()
	e.b.InjectFault(sandbox.CallFault{Op: sandbox.OpPatchConsent, Kind: sandbox.FaultDrop})
	if _, err := patch(e.c, e.cc, id, key); err == nil {
		t.Fatal("the dropped call succeeded")
	}
	if s := e.consent(id).Status; s != consent.StatusRevoked {
		t.Fatalf("after the dropped call the consent is %s, want REVOKED", s)
	}
	resp := e.must(http.StatusOK)(patch(e.c, e.cc, id, key))
	if c := decode[consent.Consent](t, resp.Message.Data); c.Status != consent.StatusRevoked {
		t.Fatalf("replay: %s", c.Status)
	}
	last := e.b.Requests()
	if dropped := last[len(last)-3]; dropped.Status != 0 || dropped.Method != http.MethodPatch {
		t.Fatalf("the dropped call in the log: %+v", dropped)
	}

	// A delay longer than the client's timeout: the bank acted.
	short := e.client(e.b.ITP, 300*time.Millisecond)
	shortCC := short.ClientCredentialsSource(fapi.ScopeRecurringPayments)
	id2, _ := e.authorised(e.consentData())
	e.b.InjectFault(sandbox.CallFault{Op: sandbox.OpPatchConsent, Kind: sandbox.FaultDelay})
	key = uuid.NewString()
	if _, err := patch(short, shortCC, id2, key); !isTimeout(err) {
		t.Fatalf("want a timeout, got %v", err)
	}
	e.must(http.StatusOK)(patch(e.c, e.cc, id2, key))
	if s := e.consent(id2).Status; s != consent.StatusRevoked {
		t.Fatalf("after the timed-out call the consent is %s", s)
	}

	// A short delay within the client's timeout: the answer comes, late.
	id3 := e.createConsent(e.consentData())
	e.b.InjectFault(sandbox.CallFault{Op: sandbox.OpGetConsent, Kind: sandbox.FaultDelay, Delay: 50 * time.Millisecond})
	began := time.Now()
	e.must(http.StatusOK)(e.call(http.MethodGet, "/recurring-consents/"+id3, nil, e.cc))
	if took := time.Since(began); took < 50*time.Millisecond {
		t.Fatalf("the delayed answer took %s", took)
	}

	// A signature fault on a 422: the client must not trust the refusal.
	e.b.InjectFault(sandbox.CallFault{Kind: sandbox.FaultBadSignature})
	_, err := patch(e.c, e.cc, id3, uuid.NewString())
	var se *fapi.SignatureError
	if !errors.As(err, &se) {
		t.Fatalf("badly signed 422: %v", err)
	}
	_, err = patch(e.c, e.cc, id3, uuid.NewString())
	want422(t, err, "CONSENTIMENTO_NAO_PERMITE_CANCELAMENTO")

	// Faults count down per operation and SetFaults replaces them.
	e.b.SetFaults(sandbox.Faults{Resource: sandbox.ResourceFaults{Calls: []sandbox.CallFault{
		{Op: sandbox.OpGetPayment, Kind: sandbox.FaultStatus, Status: http.StatusGatewayTimeout, Times: 3},
	}}})
	e.must(http.StatusOK)(e.call(http.MethodGet, "/recurring-consents/"+id3, nil, e.cc))
	_, err = e.call(http.MethodGet, "/pix/recurring-payments/any", nil, e.cc)
	apiError(t, err, http.StatusGatewayTimeout)
	if left := e.b.Faults().Resource.Calls; len(left) != 1 || left[0].Times != 2 {
		t.Fatalf("left: %+v", left)
	}
	e.b.SetFaults(sandbox.Faults{})
	_, err = e.call(http.MethodGet, "/pix/recurring-payments/any", nil, e.cc)
	apiError(t, err, http.StatusNotFound)
}
