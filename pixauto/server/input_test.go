package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/pixauto/server"
)

// Every secured endpoint refuses a missing, malformed, unknown, forged or
// revoked key with a 401 problem, and stores nothing.
func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	forged := e.keyA[:20] + strings.Repeat("a", len(e.keyA)-20) // the right ID, another secret
	_, k2, err := server.NewAPIKey(e.rcvA.ID, time.Now(), nil)
	require.NoError(t, err)
	require.NoError(t, e.store.InsertAPIKey(context.Background(), k2))
	require.NoError(t, e.store.RevokeAPIKey(context.Background(), k2.ID, time.Now()))
	revoked, err := server.IssueAPIKey(context.Background(), e.store, e.rcvA.ID, time.Now(), nil)
	require.NoError(t, err)
	require.NoError(t, e.store.RevokeAPIKey(context.Background(), revoked[:16], time.Now()))

	endpoints := []struct{ method, path string }{
		{"GET", "/v1/receiver"}, {"POST", "/v1/consents"}, {"GET", "/v1/consents"}, {"GET", "/v1/consents/urn:x:y"},
		{"PATCH", "/v1/consents/urn:x:y"}, {"POST", "/v1/consents/urn:x:y/revoke"}, {"POST", "/v1/consents/urn:x:y/reauthorize"},
		{"POST", "/v1/charges"}, {"GET", "/v1/charges"}, {"GET", "/v1/charges/0192f5e4-5c2a-7000-8000-000000000000"},
		{"POST", "/v1/charges/0192f5e4-5c2a-7000-8000-000000000000/cancel"}, {"POST", "/v1/charges/0192f5e4-5c2a-7000-8000-000000000000/retry"},
		{"POST", "/v1/webhook-subscriptions"}, {"GET", "/v1/webhook-subscriptions"},
		{"GET", "/v1/webhook-subscriptions/0192f5e4-5c2a-7000-8000-000000000000"},
		{"DELETE", "/v1/webhook-subscriptions/0192f5e4-5c2a-7000-8000-000000000000"},
		{"GET", "/v1/webhook-subscriptions/0192f5e4-5c2a-7000-8000-000000000000/deliveries"},
	}
	for _, ep := range endpoints {
		for name, header := range map[string]string{
			"none": "", "basic": "Basic " + e.keyA, "malformed": "Bearer pxa_short", "unknown": "Bearer pxa_" + strings.Repeat("b", 52),
			"forged": "Bearer " + forged, "revoked": "Bearer " + revoked, "empty": "Bearer ",
		} {
			req, err := http.NewRequest(ep.method, e.api.URL+ep.path, strings.NewReader(`{"url":"http://x"}`))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			if header != "" {
				req.Header.Set("Authorization", header)
			}
			res, err := e.api.Client().Do(req)
			require.NoError(t, err)
			res.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "%s %s with %s key", ep.method, ep.path, name)
			assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
			assert.Contains(t, res.Header.Get("WWW-Authenticate"), "Bearer")
		}
	}
	p := e.problemOf(http.StatusUnauthorized, server.CodeUnauthorized, e.do("GET", "/v1/receiver", "", nil))
	assert.NotContains(t, p, "errors")

	subs, err := e.store.ListSubscriptions(context.Background(), e.rcvA.ID)
	require.NoError(t, err)
	assert.Empty(t, subs, "nothing was stored")
	assert.Empty(t, e.Bank.Requests(), "the bank saw nothing")
	logs := e.logs.String()
	assert.NotContains(t, logs, e.keyA[16:], "keys are never logged")
	assert.NotContains(t, logs, forged[16:])
}

// One receiver never sees another's data: every id of receiver A answers
// 404 to receiver B, exactly like an id that does not exist, and B's lists
// are empty.
func TestIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hooks := newHookReceiver(t, e.Clock.Now)
	subID := e.subscribe(e.keyA, hooks)
	consentID := e.enrol(e.keyA)
	ch := e.charge(e.keyA, consentID, e.Today().AddDays(4), "99.90")
	chargeID := ch["id"].(string)
	e.deliver()
	ds := e.ok(http.StatusOK, e.do("GET", "/v1/webhook-subscriptions/"+subID+"/deliveries", e.keyA, nil))
	deliveryID := ds["data"].([]any)[0].(map[string]any)["id"].(string)

	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/consents/" + consentID, nil},
		{"PATCH", "/v1/consents/" + consentID, map[string]any{"creditor_name": "Outra"}},
		{"POST", "/v1/consents/" + consentID + "/revoke", nil},
		{"POST", "/v1/consents/" + consentID + "/reauthorize", nil},
		{"POST", "/v1/charges", map[string]any{"consent_id": consentID, "amount": "10.00", "due_date": e.Today().AddDays(5).String()}},
		{"GET", "/v1/charges/" + chargeID, nil},
		{"POST", "/v1/charges/" + chargeID + "/cancel", nil},
		{"POST", "/v1/charges/" + chargeID + "/retry", nil},
		{"GET", "/v1/webhook-subscriptions/" + subID, nil},
		{"DELETE", "/v1/webhook-subscriptions/" + subID, nil},
		{"GET", "/v1/webhook-subscriptions/" + subID + "/deliveries", nil},
		{"GET", "/v1/webhook-subscriptions/" + subID + "/deliveries/" + deliveryID, nil},
	} {
		other := e.do(c.method, c.path, e.keyB, c.body)
		p := e.problemOf(http.StatusNotFound, server.CodeNotFound, other)
		assert.NotContains(t, string(other.Body), e.rcvA.ID, "%s %s", c.method, c.path)
		_ = p
	}
	missing := e.do("GET", "/v1/charges/0192f5e4-5c2a-7000-8000-000000000000", e.keyB, nil)
	e.problemOf(http.StatusNotFound, server.CodeNotFound, missing)
	theirs := e.do("GET", "/v1/charges/"+chargeID, e.keyB, nil)
	assert.JSONEq(t, withoutVolatile(t, missing), withoutVolatile(t, theirs), "another receiver's id looks like a missing one")

	for _, path := range []string{"/v1/consents", "/v1/charges", "/v1/charges?consent_id=" + consentID, "/v1/webhook-subscriptions"} {
		list := e.ok(http.StatusOK, e.do("GET", path, e.keyB, nil))
		assert.Empty(t, list["data"], path)
	}
	// Receiver A's things are untouched.
	assert.Equal(t, "AUTHORISED", e.ok(http.StatusOK, e.do("GET", "/v1/consents/"+consentID, e.keyA, nil))["status"])
	assert.NotEqual(t, "CANCELLED", e.ok(http.StatusOK, e.do("GET", "/v1/charges/"+chargeID, e.keyA, nil))["status"])
	e.ok(http.StatusOK, e.do("GET", "/v1/webhook-subscriptions/"+subID, e.keyA, nil))
	charges := e.ok(http.StatusOK, e.do("GET", "/v1/charges", e.keyA, nil))
	assert.Len(t, charges["data"], 1, "B's refused charge was not stored")
}

func withoutVolatile(t *testing.T, r resp) string {
	m := r.json(t)
	delete(m, "request_id")
	delete(m, "instance")
	return mustJSON(t, m)
}

// Bad input gets a 400 problem naming the fields, and nothing is stored
// and nothing reaches the bank.
func TestBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	consentID := e.enrol(e.keyA)
	bankCalls := len(e.Bank.Requests())
	due := e.Today().AddDays(4).String()

	cases := []struct {
		name, method, path string
		body               any
		status             int
		code               string
		fields             []string
	}{
		{"malformed JSON", "POST", "/v1/consents", `{"payer": {`, 400, server.CodeInvalidRequest, nil},
		{"not an object", "POST", "/v1/charges", `[1,2]`, 400, server.CodeValidationFailed, []string{"body"}},
		{"empty body", "POST", "/v1/charges", ``, 400, server.CodeInvalidRequest, nil},
		{"trailing garbage", "POST", "/v1/charges", `{"consent_id":"` + consentID + `","amount":"1.00","due_date":"` + due + `"} x`, 400, server.CodeInvalidRequest, nil},
		{"unknown member", "POST", "/v1/charges", map[string]any{"consent_id": consentID, "amount": "10.00", "due_date": due, "colour": "blue"}, 400, server.CodeValidationFailed, []string{"colour"}},
		{"unknown nested member", "POST", "/v1/consents", e.consentBody(func(b map[string]any) { b["payer"].(map[string]any)["age"] = 30 }), 400, server.CodeValidationFailed, []string{"payer.age"}},
		{"wrong type", "POST", "/v1/charges", map[string]any{"consent_id": consentID, "amount": 10, "due_date": due}, 400, server.CodeValidationFailed, []string{"amount"}},
		{"wrong type bool", "POST", "/v1/consents", e.consentBody(func(b map[string]any) { b["retries_accepted"] = "yes" }), 400, server.CodeValidationFailed, []string{"retries_accepted"}},
		{"money without cents", "POST", "/v1/charges", map[string]any{"consent_id": consentID, "amount": "10.5", "due_date": due}, 400, server.CodeValidationFailed, []string{"amount"}},
		{"money with comma", "POST", "/v1/charges", map[string]any{"consent_id": consentID, "amount": "10,50", "due_date": due}, 400, server.CodeValidationFailed, []string{"amount"}},
		{"money zero", "POST", "/v1/charges", map[string]any{"consent_id": consentID, "amount": "0.00", "due_date": due}, 400, server.CodeValidationFailed, []string{"amount"}},
		{"negative money", "POST", "/v1/charges", map[string]any{"consent_id": consentID, "amount": "-1.00", "due_date": due}, 400, server.CodeValidationFailed, []string{"amount"}},
		{"date format", "POST", "/v1/charges", map[string]any{"consent_id": consentID, "amount": "10.00", "due_date": "27/11/2026"}, 400, server.CodeValidationFailed, []string{"due_date"}},
		{"date not in calendar", "POST", "/v1/charges", map[string]any{"consent_id": consentID, "amount": "10.00", "due_date": "2026-02-30"}, 400, server.CodeValidationFailed, []string{"due_date"}},
		{"missing members", "POST", "/v1/charges", map[string]any{"amount": "10.00"}, 400, server.CodeValidationFailed, []string{"consent_id", "due_date"}},
		{"several fields", "POST", "/v1/consents", e.consentBody(func(b map[string]any) {
			b["reference_start_date"] = "26-01-01"
			b["maximum_amount"] = "1"
			b["interval"] = "DAILY"
			b["payer"].(map[string]any)["document"] = "123"
		}), 400, server.CodeValidationFailed, []string{"reference_start_date", "maximum_amount", "interval", "payer.document"}},
		{"bad first payment", "POST", "/v1/consents", e.consentBody(func(b map[string]any) { b["first_payment"] = map[string]any{"date": "2026-11-31", "amount": "49.90"} }), 400, server.CodeValidationFailed, []string{"first_payment.date"}},
		{"unknown holder", "POST", "/v1/consents", e.consentBody(func(b map[string]any) { b["holder_id"] = "nubank" }), 400, server.CodeValidationFailed, []string{"holder_id"}},
		{"rule: fixed and maximum", "POST", "/v1/consents", e.consentBody(func(b map[string]any) { b["fixed_amount"] = "100.00" }), 422, server.CodeValidationFailed, []string{"maximum_amount"}},
		{"rule: start in the past", "POST", "/v1/consents", e.consentBody(func(b map[string]any) { b["reference_start_date"] = "2020-01-01" }), 422, server.CodeValidationFailed, []string{"reference_start_date"}},
		{"rule: charge above the payer's maximum", "POST", "/v1/charges", map[string]any{"consent_id": consentID, "amount": "300.01", "due_date": due}, 422, server.CodeValidationFailed, []string{"amount"}},
		{"rule: charge outside the window", "POST", "/v1/charges", map[string]any{"consent_id": consentID, "amount": "10.00", "due_date": e.Today().String()}, 422, server.CodeValidationFailed, nil},
		{"bad edit", "PATCH", "/v1/consents/" + consentID, map[string]any{"expires_on": "2027-01-01", "remove_expiry": true}, 400, server.CodeValidationFailed, []string{"remove_expiry"}},
		{"bad revoke", "POST", "/v1/consents/" + consentID + "/revoke", map[string]any{"by": "bank"}, 400, server.CodeValidationFailed, []string{"by"}},
		{"bad subscription URL", "POST", "/v1/webhook-subscriptions", map[string]any{"url": "ftp://example.com/x"}, 400, server.CodeValidationFailed, []string{"url"}},
		{"relative subscription URL", "POST", "/v1/webhook-subscriptions", map[string]any{"url": "/hooks"}, 400, server.CodeValidationFailed, []string{"url"}},
		{"short secret", "POST", "/v1/webhook-subscriptions", map[string]any{"url": "https://example.com/x", "secret": "tooShortSecretXYZ"}, 400, server.CodeValidationFailed, []string{"secret"}},
		{"bad limit", "GET", "/v1/charges?limit=0", nil, 400, server.CodeValidationFailed, []string{"limit"}},
		{"limit not a number", "GET", "/v1/charges?limit=ten", nil, 400, server.CodeValidationFailed, []string{"limit"}},
		{"bad status", "GET", "/v1/charges?status=PAID", nil, 400, server.CodeValidationFailed, []string{"status[0]"}},
		{"bad date filter", "GET", "/v1/charges?due_from=2026-02-30", nil, 400, server.CodeValidationFailed, []string{"due_from"}},
		{"reversed date filter", "GET", "/v1/charges?due_from=2026-12-02&due_to=2026-12-01", nil, 400, server.CodeValidationFailed, []string{"due_to"}},
		{"bad cursor", "GET", "/v1/charges?cursor=***", nil, 400, server.CodeValidationFailed, []string{"cursor"}},
		{"empty cursor", "GET", "/v1/consents?cursor=", nil, 400, server.CodeValidationFailed, []string{"cursor"}},
		{"cursor not ours", "GET", "/v1/consents?cursor=AAAA_", nil, 400, server.CodeValidationFailed, []string{"cursor"}},
		{"bad charge id", "GET", "/v1/charges/42", nil, 400, server.CodeValidationFailed, []string{"charge_id"}},
		{"bad consent id", "GET", "/v1/consents/not-a-urn", nil, 400, server.CodeValidationFailed, []string{"consent_id"}},
		{"unknown route", "GET", "/v1/invoices", nil, 404, server.CodeNotFound, nil},
		{"wrong method", "PUT", "/v1/charges", nil, 405, server.CodeMethodNotAllowed, nil},
	}
	for _, c := range cases {
		r := e.do(c.method, c.path, e.keyA, c.body)
		if c.code == "" {
			assert.Equal(t, c.status, r.Status, c.name)
			continue
		}
		p := e.problemOf(c.status, c.code, r)
		if c.fields != nil {
			assert.ElementsMatch(t, c.fields, fieldsOf(p), "%s: %s", c.name, r.Body)
		}
		errs, _ := p["errors"].([]any)
		for _, f := range errs {
			assert.NotEmpty(t, f.(map[string]any)["message"], c.name)
		}
	}

	// Headers and content types.
	req, _ := http.NewRequest("POST", e.api.URL+"/v1/consents", strings.NewReader(mustJSON(t, e.consentBody())))
	req.Header.Set("Authorization", "Bearer "+e.keyA)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "bad key with spaces")
	res, err := e.api.Client().Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	req, _ = http.NewRequest("POST", e.api.URL+"/v1/charges", strings.NewReader(`consent_id=x`))
	req.Header.Set("Authorization", "Bearer "+e.keyA)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err = e.api.Client().Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusUnsupportedMediaType, res.StatusCode)
	big := e.do("POST", "/v1/webhook-subscriptions", e.keyA, map[string]any{"url": "https://example.com/" + strings.Repeat("a", 70<<10)})
	e.problemOf(http.StatusRequestEntityTooLarge, server.CodeTooLarge, big)
	e.problemOf(http.StatusBadRequest, server.CodeCallbackInvalid, e.do("POST", "/callback", "", map[string]any{"response": "#nothing=here"}))
	e.problemOf(http.StatusBadRequest, server.CodeValidationFailed, e.do("POST", "/callback", "", map[string]any{"response": ""}))

	// Nothing was stored, nothing reached the bank.
	assert.Len(t, e.ok(http.StatusOK, e.do("GET", "/v1/consents", e.keyA, nil))["data"], 1, "only the consent enrolled first")
	assert.Empty(t, e.ok(http.StatusOK, e.do("GET", "/v1/charges", e.keyA, nil))["data"])
	assert.Empty(t, e.ok(http.StatusOK, e.do("GET", "/v1/webhook-subscriptions", e.keyA, nil))["data"])
	assert.Len(t, e.Bank.Requests(), bankCalls, "no refused request reached the bank")
	logs := e.logs.String()
	assert.NotContains(t, logs, "panic")
	assert.NotContains(t, logs, "tooShortSecretXYZ", "request values are never logged")
	assert.NotContains(t, logs, "2026-02-30")
}

// Pages of consents and charges follow the keyset cursor to the end.
func TestPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	consentID := e.enrol(e.keyA)
	var ids []string
	for i := range 5 {
		ch := e.charge(e.keyA, consentID, e.Today().AddDays(3).AddDays(31*i), "10.00")
		ids = append(ids, ch["id"].(string))
	}
	var seen []string
	path := "/v1/charges?limit=2"
	for range 10 {
		page := e.ok(http.StatusOK, e.do("GET", path, e.keyA, nil))
		for _, c := range page["data"].([]any) {
			seen = append(seen, c.(map[string]any)["id"].(string))
		}
		next, ok := page["next_cursor"].(string)
		if !ok {
			break
		}
		path = "/v1/charges?limit=2&cursor=" + next
	}
	assert.ElementsMatch(t, ids, seen)
	assert.IsIncreasing(t, seen)
	page := e.ok(http.StatusOK, e.do("GET", "/v1/consents?limit=1", e.keyA, nil))
	assert.Len(t, page["data"], 1)
	assert.NotContains(t, page, "next_cursor")
}

// /healthz, /readyz and /metrics.
func TestOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	assert.Equal(t, "ok", e.ok(http.StatusOK, e.do("GET", "/healthz", "", nil))["status"])
	ready := e.ok(http.StatusOK, e.do("GET", "/readyz", "", nil))
	assert.Equal(t, map[string]any{"database": "ok", "bank": "ok"}, ready["checks"])

	e.enrol(e.keyA)
	metrics := e.do("GET", "/metrics", "", nil)
	require.Equal(t, http.StatusOK, metrics.Status)
	m := string(metrics.Body)
	for _, want := range []string{
		`pixauto_http_requests_total{code="201",route="POST /v1/consents"} 1`,
		`pixauto_consents_total{status="AUTHORISED"} 1`,
		`pixauto_bank_request_duration_seconds_count{code="201",holder="bank",method="POST"}`,
		"go_goroutines",
	} {
		assert.Contains(t, m, want)
	}
	logs := e.logs.String()
	assert.Contains(t, logs, `"x-fapi-interaction-id":"`)
	assert.Contains(t, logs, `"request_id":"`)
	assert.NotContains(t, logs, e.keyA[16:])
	assert.NotContains(t, strings.ToLower(logs), "refresh_token\":\"")

	e.store.Close()
	notReady := e.do("GET", "/readyz", "", nil)
	assert.Equal(t, http.StatusServiceUnavailable, notReady.Status)
	assert.Equal(t, "failed", notReady.json(t)["checks"].(map[string]any)["database"])
	assert.Equal(t, http.StatusOK, e.do("GET", "/healthz", "", nil).Status)
}
