package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/ofb-go/pixauto/pixauto/server"
)

// hookReceiver is a receiver's webhook endpoint that verifies every
// signature and records the events.
type hookReceiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret []byte
	now    func() time.Time
	mu     sync.Mutex
	events []server.EventPayload
	ids    map[string]bool
	// fail answers 503 to the first fail requests.
	fail int
	hits int
}

func newHookReceiver(t *testing.T, now func() time.Time) *hookReceiver {
	h := &hookReceiver{t: t, now: now, ids: map[string]bool{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.hits++
		if h.hits <= h.fail {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if err := server.VerifySignature(h.secret, r.Header.Get(server.HeaderSignature), body, h.now(), time.Minute); err != nil {
			t.Errorf("signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev server.EventPayload
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("event: %v", err)
		}
		assert.Equal(t, ev.ID, r.Header.Get(server.HeaderEventID))
		assert.Equal(t, ev.Type, r.Header.Get(server.HeaderEventType))
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		if !h.ids[ev.ID] {
			h.ids[ev.ID] = true
			h.events = append(h.events, ev)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) types() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, e := range h.events {
		out = append(out, e.Type)
	}
	return out
}

func (e *env) subscribe(key string, h *hookReceiver) string {
	e.t.Helper()
	sub := e.ok(http.StatusCreated, e.do("POST", "/v1/webhook-subscriptions", key, map[string]any{"url": h.srv.URL + "/hooks", "description": "test"}))
	secret, ok := sub["secret"].(string)
	require.True(e.t, ok, "a generated secret is returned once")
	require.True(e.t, strings.HasPrefix(secret, "whsec_"))
	h.secret = []byte(secret)
	return sub["id"].(string)
}

func (e *env) deliver() server.DeliverResult {
	e.t.Helper()
	res, err := e.deliverer.DeliverDue(context.Background())
	require.NoError(e.t, err)
	return res
}

// The whole story over HTTP: subscribe, enrol, the payer approves at the
// bank, the callback completes it, a charge is created, the bank's clock
// moves and Sync settles it; every state change reaches the receiver as a
// signed webhook, and the deliveries are listed.
func TestJourneyEnrolChargeSettle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hooks := newHookReceiver(t, e.Clock.Now)
	subID := e.subscribe(e.keyA, hooks)

	me := e.ok(http.StatusOK, e.do("GET", "/v1/receiver", e.keyA, nil))
	assert.Equal(t, e.rcvA.ID, me["id"])
	assert.Equal(t, sandboxtest.CreditorCNPJ, me["cnpj"])

	en := e.ok(http.StatusCreated, e.do("POST", "/v1/consents", e.keyA, e.consentBody()))
	c := en["consent"].(map[string]any)
	consentID := c["id"].(string)
	assert.Equal(t, "AWAITING_AUTHORISATION", c["status"])
	assert.Equal(t, "MONTHLY", c["interval"])
	assert.Equal(t, sandboxtest.CreditorName, c["creditor_name"])
	assert.NotContains(t, c, "maximum_amount", "the payer's maximum is never shown to the receiver")
	assert.Regexp(t, `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`, c["created_at"])
	redirect := en["redirect_url"].(string)
	assert.True(t, strings.HasPrefix(redirect, e.Bank.PublicURL+"/authorize?"), redirect)

	page := e.do("GET", "/callback", "", nil)
	require.Equal(t, http.StatusOK, page.Status)
	assert.Contains(t, page.Header.Get("Content-Type"), "text/html")
	assert.Contains(t, string(page.Body), "location.hash")
	assert.Contains(t, page.Header.Get("Content-Security-Policy"), "script-src 'sha256-")

	location, err := e.Bank.Authorize(context.Background(), redirect)
	require.NoError(t, err)
	res := e.ok(http.StatusOK, e.do("POST", "/callback", "", map[string]any{"response": location}))
	assert.Equal(t, "authorised", res["outcome"])
	assert.Equal(t, consentID, res["consent_id"])
	e.problemOf(http.StatusBadRequest, server.CodeCallbackInvalid, e.do("POST", "/callback", "", map[string]any{"response": location}))

	c = e.ok(http.StatusOK, e.do("GET", "/v1/consents/"+consentID, e.keyA, nil))
	assert.Equal(t, "AUTHORISED", c["status"])
	assert.NotEmpty(t, c["authorised_at"])
	c = e.ok(http.StatusOK, e.do("GET", "/v1/consents/"+consentID+"?refresh=true", e.keyA, nil))
	assert.Equal(t, "AUTHORISED", c["status"])

	due := e.Today().AddDays(3)
	ch := e.ok(http.StatusCreated, e.do("POST", "/v1/charges", e.keyA, map[string]any{
		"consent_id": consentID, "amount": "150.00", "due_date": due.String(), "description": "mensalidade dezembro", "external_id": "INV-1",
	}))
	chargeID := ch["id"].(string)
	attempts := ch["attempts"].([]any)
	require.Len(t, attempts, 1)
	assert.Equal(t, "SUBMITTED", attempts[0].(map[string]any)["state"], "due within the lead days: sent at once")
	assert.Equal(t, "150.00", ch["amount"])
	assert.Equal(t, due.String(), ch["due_date"])

	again := e.ok(http.StatusCreated, e.do("POST", "/v1/charges", e.keyA, map[string]any{
		"consent_id": consentID, "amount": "150.00", "due_date": due.String(), "external_id": "INV-1",
	}))
	assert.Equal(t, chargeID, again["id"], "the same external_id returns the charge already created")
	p := e.problemOf(http.StatusConflict, server.CodeConflict, e.do("POST", "/v1/charges", e.keyA, map[string]any{
		"consent_id": consentID, "amount": "99.00", "due_date": due.String(), "external_id": "INV-1",
	}))
	assert.Equal(t, []string{"external_id"}, fieldsOf(p))

	e.runUntil(sandboxtest.At(due, 12, 0), 2*time.Hour)
	ch = e.ok(http.StatusOK, e.do("GET", "/v1/charges/"+chargeID, e.keyA, nil))
	assert.Equal(t, "SETTLED", ch["status"])
	a0 := ch["attempts"].([]any)[0].(map[string]any)
	assert.Equal(t, "ACSC", a0["bank_status"])
	assert.Equal(t, "original", a0["kind"])
	assert.Len(t, a0["end_to_end_id"], 32)
	ch = e.ok(http.StatusOK, e.do("GET", "/v1/charges/"+chargeID+"?refresh=true", e.keyA, nil))
	assert.Equal(t, "SETTLED", ch["status"])

	list := e.ok(http.StatusOK, e.do("GET", "/v1/charges?status=SETTLED&consent_id="+consentID+"&due_from="+due.String()+"&due_to="+due.String(), e.keyA, nil))
	require.Len(t, list["data"], 1)
	assert.NotContains(t, list["data"].([]any)[0], "attempts", "lists carry no attempts")
	list = e.ok(http.StatusOK, e.do("GET", "/v1/charges?status=FAILED", e.keyA, nil))
	assert.Empty(t, list["data"])
	list = e.ok(http.StatusOK, e.do("GET", "/v1/charges?due_from="+due.AddDays(1).String(), e.keyA, nil))
	assert.Empty(t, list["data"])
	consents := e.ok(http.StatusOK, e.do("GET", "/v1/consents?status=AUTHORISED", e.keyA, nil))
	require.Len(t, consents["data"], 1)

	res2 := e.deliver()
	assert.Zero(t, res2.Failed)
	assert.Equal(t, []string{"consent.created", "consent.authorised", "charge.planned", "charge.scheduled", "charge.settled"}, hooks.types())
	for _, ev := range hooks.events {
		assert.Equal(t, consentID, ev.Data.ConsentID)
	}
	ds := e.ok(http.StatusOK, e.do("GET", "/v1/webhook-subscriptions/"+subID+"/deliveries", e.keyA, nil))
	data := ds["data"].([]any)
	require.Len(t, data, 5)
	for _, d := range data {
		d := d.(map[string]any)
		assert.Equal(t, "DELIVERED", d["status"])
		as := d["attempts"].([]any)
		require.Len(t, as, 1)
		assert.Equal(t, float64(204), as[0].(map[string]any)["status_code"])
		assert.NotNil(t, d["payload"])
	}
	one := e.ok(http.StatusOK, e.do("GET", "/v1/webhook-subscriptions/"+subID+"/deliveries/"+data[0].(map[string]any)["id"].(string), e.keyA, nil))
	assert.Equal(t, data[0].(map[string]any)["id"], one["id"])

	assert.Len(t, e.Bank.Payments(consentID), 1, "the bank holds exactly one payment")
}

// A payer who refuses at the bank: the callback says so, the consent is
// REJECTED with a receiver-safe reason, and no charge is possible.
func TestJourneyPayerRefuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{bank: func(c *sandbox.Config) {
		c.OnAuthorize = func(context.Context, sandbox.AuthorizationRequest) sandbox.AuthorizationDecision {
			return sandbox.AuthorizationDecision{Deny: true}
		}
	}})
	en := e.ok(http.StatusCreated, e.do("POST", "/v1/consents", e.keyA, e.consentBody()))
	consentID := en["consent"].(map[string]any)["id"].(string)
	location, err := e.Bank.Authorize(context.Background(), en["redirect_url"].(string))
	require.NoError(t, err)
	assert.Contains(t, location, "error=access_denied")
	res := e.ok(http.StatusOK, e.do("POST", "/callback", "", map[string]any{"response": location}))
	assert.Equal(t, "refused", res["outcome"])

	c := e.ok(http.StatusOK, e.do("GET", "/v1/consents/"+consentID, e.keyA, nil))
	assert.Equal(t, "REJECTED", c["status"])
	assert.Equal(t, "NOT_AUTHORISED_BY_PAYER", c["status_reason"].(map[string]any)["code"])
	e.problemOf(http.StatusConflict, server.CodeConsentState, e.do("POST", "/v1/charges", e.keyA, map[string]any{
		"consent_id": consentID, "amount": "10.00", "due_date": e.Today().AddDays(4).String(),
	}))
	list := e.ok(http.StatusOK, e.do("GET", "/v1/charges", e.keyA, nil))
	assert.Empty(t, list["data"], "a refused charge stores nothing")
}

// Cancel, edit, revoke and retry over HTTP.
func TestJourneyCancelEditRevokeRetry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	consentID := e.enrol(e.keyA)

	later := e.charge(e.keyA, consentID, e.Today().AddDays(9), "150.00")
	assert.Equal(t, "PLANNED", later["status"], "submitted five days before its date")
	p := e.problemOf(http.StatusConflict, server.CodeChargeState, e.do("POST", "/v1/charges/"+later["id"].(string)+"/retry", e.keyA, nil))
	assert.Contains(t, p["detail"], "PLANNED")
	cancelled := e.ok(http.StatusOK, e.do("POST", "/v1/charges/"+later["id"].(string)+"/cancel", e.keyA, map[string]any{"by": "receiver"}))
	assert.Equal(t, "CANCELLED", cancelled["status"])
	e.problemOf(http.StatusConflict, server.CodeChargeState, e.do("POST", "/v1/charges/"+later["id"].(string)+"/cancel", e.keyA, nil))

	scheduled := e.charge(e.keyA, consentID, e.Today().AddDays(5), "150.00")
	e.runUntil(e.Clock.Now().Add(10*time.Minute), 5*time.Minute)
	got := e.ok(http.StatusOK, e.do("GET", "/v1/charges/"+scheduled["id"].(string), e.keyA, nil))
	require.Equal(t, "SCHEDULED", got["status"])
	cancelled = e.ok(http.StatusOK, e.do("POST", "/v1/charges/"+scheduled["id"].(string)+"/cancel", e.keyA, nil))
	assert.Equal(t, "CANCELLED", cancelled["status"], "cancelled at the bank")

	edited := e.ok(http.StatusOK, e.do("PATCH", "/v1/consents/"+consentID, e.keyA, map[string]any{"creditor_name": "Academia Forma Fitness Ltda"}))
	assert.Equal(t, "Academia Forma Fitness Ltda", edited["creditor_name"])
	p = e.problemOf(http.StatusUnprocessableEntity, server.CodeValidationFailed, e.do("PATCH", "/v1/consents/"+consentID, e.keyA, map[string]any{"maximum_amount": "500.00"}))
	assert.Contains(t, fieldsOf(p), "risk_signals", "a new maximum needs the payer's device signals")
	edited = e.ok(http.StatusOK, e.do("PATCH", "/v1/consents/"+consentID, e.keyA, map[string]any{
		"maximum_amount": "500.00", "payer_document": sandbox.DefaultPayerCPF,
		"risk_signals": map[string]any{"device_id": "dev-1", "os_version": "17.1", "user_time_zone_offset": "-03", "language": "pt",
			"screen_height": 1920, "screen_width": 1080, "account_tenure": "2020-01-01"},
	}))
	assert.NotContains(t, edited, "maximum_amount")
	stored, err := e.in.GetConsent(context.Background(), consentID)
	require.NoError(t, err)
	assert.Equal(t, "500.00", stored.Consent.Automatic().MaximumVariableAmount.String(), "the bank has the payer's new maximum")

	// No funds in the morning nor in the evening (the bank's own second
	// attempt): the Initiator plans a next-day retry, the charge is
	// RETRYING with a receiver-safe reason, and an on-demand retry is
	// refused while that one is in flight.
	failing := e.charge(e.keyA, consentID, e.Today().AddDays(3), "150.00")
	due := e.Today().AddDays(3)
	require.NoError(t, e.Bank.ScriptConsentSettlement(consentID,
		sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Morning),
		sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Evening)))
	e.runUntil(sandboxtest.At(due, 22, 0), time.Hour)
	got = e.ok(http.StatusOK, e.do("GET", "/v1/charges/"+failing["id"].(string), e.keyA, nil))
	require.Equal(t, "RETRYING", got["status"])
	reason := got["status_reason"].(map[string]any)
	assert.Equal(t, "PAYER_BANK_REFUSED", reason["code"], "balance reasons are never shown as such")
	assert.NotContains(t, string(e.do("GET", "/v1/charges/"+failing["id"].(string), e.keyA, nil).Body), "SALDO")
	as := got["attempts"].([]any)
	require.Len(t, as, 2)
	assert.Equal(t, "next_day_retry", as[1].(map[string]any)["kind"])
	e.problemOf(http.StatusConflict, server.CodeRetryNotAllowed, e.do("POST", "/v1/charges/"+failing["id"].(string)+"/retry", e.keyA, nil))
	e.runUntil(sandboxtest.At(due.AddDays(1), 12, 0), time.Hour)
	got = e.ok(http.StatusOK, e.do("GET", "/v1/charges/"+failing["id"].(string), e.keyA, nil))
	assert.Equal(t, "SETTLED", got["status"], "the next-day retry settled it")

	revoked := e.ok(http.StatusOK, e.do("POST", "/v1/consents/"+consentID+"/revoke", e.keyA, map[string]any{"detail": "contract ended"}))
	assert.Equal(t, "REVOKED", revoked["status"])
	assert.Equal(t, "REVOKED_BY_RECEIVER", revoked["status_reason"].(map[string]any)["code"])
	e.problemOf(http.StatusConflict, server.CodeConsentState, e.do("POST", "/v1/consents/"+consentID+"/reauthorize", e.keyA, nil))
	e.problemOf(http.StatusConflict, server.CodeConsentState, e.do("POST", "/v1/charges", e.keyA, map[string]any{
		"consent_id": consentID, "amount": "10.00", "due_date": e.Today().AddDays(4).String(),
	}))
}

// A consent waiting for the payer gets a fresh redirect URL.
func TestReauthorize(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	en := e.ok(http.StatusCreated, e.do("POST", "/v1/consents", e.keyA, e.consentBody()))
	id := en["consent"].(map[string]any)["id"].(string)
	again := e.ok(http.StatusOK, e.do("POST", "/v1/consents/"+id+"/reauthorize", e.keyA, nil))
	assert.NotEqual(t, en["redirect_url"], again["redirect_url"])
	location, err := e.Bank.Authorize(context.Background(), again["redirect_url"].(string))
	require.NoError(t, err)
	res := e.ok(http.StatusOK, e.do("POST", "/callback", "", map[string]any{"response": location}))
	assert.Equal(t, "authorised", res["outcome"])
}

// Idempotency-Key: a repeated creation returns the same consent; the same
// key from another receiver is another consent.
func TestCreateConsentIdempotency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	send := func(key string) map[string]any {
		req, err := http.NewRequest("POST", e.api.URL+"/v1/consents", strings.NewReader(mustJSON(t, e.consentBody())))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "order-42")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		require.Equal(t, http.StatusCreated, res.StatusCode, "%s", b)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		return m["consent"].(map[string]any)
	}
	a1, a2, b1 := send(e.keyA), send(e.keyA), send(e.keyB)
	assert.Equal(t, a1["id"], a2["id"])
	assert.NotEqual(t, a1["id"], b1["id"])
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
