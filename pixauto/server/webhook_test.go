package server_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/server"
)

func TestSignature(t *testing.T) {
	t.Parallel()
	secret, body := []byte("whsec_test"), []byte(`{"id":"e1"}`)
	at := time.Unix(1795000000, 0)
	h := server.Sign(secret, at, body)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(at.Unix(), 10) + "." + string(body)))
	assert.Equal(t, "t=1795000000,v1="+hex.EncodeToString(mac.Sum(nil)), h, "the documented scheme")

	require.NoError(t, server.VerifySignature(secret, h, body, at.Add(time.Minute), 0))
	require.NoError(t, server.VerifySignature(secret, "t=1795000000,v1=00,"+h[len("t=1795000000,"):], body, at, 0), "any v1 may match (secret rotation)")
	assert.ErrorIs(t, server.VerifySignature([]byte("other"), h, body, at, 0), server.ErrSignatureMismatch)
	assert.ErrorIs(t, server.VerifySignature(secret, h, []byte(`{"id":"e2"}`), at, 0), server.ErrSignatureMismatch)
	assert.ErrorIs(t, server.VerifySignature(secret, h, body, at.Add(6*time.Minute), 0), server.ErrSignatureExpired)
	assert.ErrorIs(t, server.VerifySignature(secret, h, body, at.Add(-6*time.Minute), 0), server.ErrSignatureExpired)
	for _, bad := range []string{"", "t=x,v1=00", "v1=00", "t=1795000000", "garbage"} {
		assert.ErrorIs(t, server.VerifySignature(secret, bad, body, at, 0), server.ErrSignatureMalformed, bad)
	}
}

func TestDefaultBackoff(t *testing.T) {
	t.Parallel()
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute,
		32 * time.Minute, 64 * time.Minute, 128 * time.Minute, 256 * time.Minute, 6 * time.Hour, 6 * time.Hour}
	var total time.Duration
	for i, w := range want {
		assert.Equal(t, w, server.DefaultBackoff(i+1), "after attempt %d", i+1)
	}
	for n := 1; n < server.DefaultMaxAttempts; n++ {
		total += server.DefaultBackoff(n)
	}
	assert.InDelta(t, 32.5, total.Hours(), 0.1, "about a day and a half of retries")
	assert.Equal(t, 6*time.Hour, server.DefaultBackoff(100))
}

// A receiver endpoint that fails gets retries on the back-off schedule,
// computed from the injected clock and driven by DeliverDue; every attempt
// is listed; the delivery succeeds once the endpoint recovers.
func TestWebhookRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hooks := newHookReceiver(t, e.Clock.Now)
	hooks.fail = 3
	subID := e.subscribe(e.keyA, hooks)
	ctx := context.Background()
	require.NoError(t, e.deliverer.Enqueue(ctx, pixauto.Event{Type: pixauto.EventChargeSettled, ReceiverID: e.rcvA.ID, ConsentID: "urn:x:c1", ChargeID: "ch1", ChargeStatus: pixauto.ChargeSettled}))
	require.NoError(t, e.deliverer.Enqueue(ctx, pixauto.Event{Type: pixauto.EventChargePlanned, ReceiverID: e.rcvB.ID, ConsentID: "urn:x:c2"}), "a receiver without subscriptions gets nothing")

	start := e.Clock.Now()
	res := e.deliver()
	assert.Equal(t, server.DeliverResult{Retrying: 1}, res)
	d := e.ok(http.StatusOK, e.do("GET", "/v1/webhook-subscriptions/"+subID+"/deliveries", e.keyA, nil))["data"].([]any)[0].(map[string]any)
	assert.Equal(t, "PENDING", d["status"])
	assert.Equal(t, start.Add(30*time.Second).UTC().Format(time.RFC3339), d["next_attempt_at"])
	as := d["attempts"].([]any)
	require.Len(t, as, 1)
	assert.Equal(t, float64(503), as[0].(map[string]any)["status_code"])
	assert.Equal(t, "HTTP 503", as[0].(map[string]any)["error"])

	assert.Equal(t, server.DeliverResult{}, e.deliver(), "not due before its time")
	e.Clock.Advance(29 * time.Second)
	assert.Equal(t, server.DeliverResult{}, e.deliver())
	e.Clock.Advance(time.Second)
	assert.Equal(t, server.DeliverResult{Retrying: 1}, e.deliver(), "attempt 2 at +30 s")
	e.Clock.Advance(time.Minute)
	assert.Equal(t, server.DeliverResult{Retrying: 1}, e.deliver(), "attempt 3 one minute later")
	e.Clock.Advance(2*time.Minute - time.Second)
	assert.Equal(t, server.DeliverResult{}, e.deliver())
	e.Clock.Advance(time.Second)
	assert.Equal(t, server.DeliverResult{Delivered: 1}, e.deliver(), "attempt 4 two minutes later succeeds")
	e.Clock.Advance(24 * time.Hour)
	assert.Equal(t, server.DeliverResult{}, e.deliver(), "delivered is final")

	d = e.ok(http.StatusOK, e.do("GET", "/v1/webhook-subscriptions/"+subID+"/deliveries?status=DELIVERED", e.keyA, nil))["data"].([]any)[0].(map[string]any)
	assert.Equal(t, "DELIVERED", d["status"])
	assert.NotContains(t, d, "next_attempt_at")
	as = d["attempts"].([]any)
	require.Len(t, as, 4)
	for i, a := range as {
		a := a.(map[string]any)
		assert.Equal(t, float64(i+1), a["seq"])
	}
	assert.Equal(t, start.Add(30*time.Second+time.Minute+2*time.Minute).UTC().Format(time.RFC3339), as[3].(map[string]any)["at"])
	assert.Equal(t, []string{"charge.settled"}, hooks.types())
	ev := hooks.events[0]
	assert.Equal(t, "ch1", ev.Data.ChargeID)
	assert.Equal(t, "SETTLED", ev.Data.ChargeStatus)

	metrics := string(e.do("GET", "/metrics", "", nil).Body)
	assert.Contains(t, metrics, `pixauto_webhook_attempts_total{result="failure"} 3`)
	assert.Contains(t, metrics, `pixauto_webhook_attempts_total{result="success"} 1`)
	assert.Contains(t, metrics, `pixauto_webhook_deliveries_total{outcome="delivered"} 1`)
	assert.NotContains(t, e.logs.String(), string(hooks.secret), "webhook secrets are never logged")
}

// After MaxAttempts the delivery is FAILED; a receiver that never answers
// (connection refused) is recorded without a status code.
func TestWebhookGivesUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{deliverer: func(c *server.DelivererConfig) {
		c.MaxAttempts = 3
		c.Backoff = func(n int) time.Duration { return time.Duration(n) * time.Minute }
	}})
	hooks := newHookReceiver(t, e.Clock.Now)
	subID := e.subscribe(e.keyA, hooks)
	hooks.srv.Close() // nobody listens any more
	require.NoError(t, e.deliverer.Enqueue(context.Background(), pixauto.Event{Type: pixauto.EventConsentRevoked, ReceiverID: e.rcvA.ID, ConsentID: "urn:x:c1", ConsentStatus: "REVOKED", Reason: pixauto.ReasonRevokedByPayer}))
	assert.Equal(t, server.DeliverResult{Retrying: 1}, e.deliver())
	e.Clock.Advance(time.Minute)
	assert.Equal(t, server.DeliverResult{Retrying: 1}, e.deliver())
	e.Clock.Advance(2 * time.Minute)
	assert.Equal(t, server.DeliverResult{Failed: 1}, e.deliver())
	e.Clock.Advance(time.Hour)
	assert.Equal(t, server.DeliverResult{}, e.deliver())

	d := e.ok(http.StatusOK, e.do("GET", "/v1/webhook-subscriptions/"+subID+"/deliveries", e.keyA, nil))["data"].([]any)[0].(map[string]any)
	assert.Equal(t, "FAILED", d["status"])
	payload := d["payload"].(map[string]any)
	assert.Equal(t, "consent.revoked", payload["type"])
	assert.Equal(t, "REVOKED_BY_PAYER", payload["data"].(map[string]any)["reason"].(map[string]any)["code"])
	for _, a := range d["attempts"].([]any) {
		a := a.(map[string]any)
		assert.NotContains(t, a, "status_code")
		assert.NotEmpty(t, a["error"])
		assert.NotContains(t, a["error"], hooks.srv.URL, "the error names what failed, not the URL")
	}
}

// Deleting a subscription cancels its pending deliveries, which stay
// listed; new events no longer go to it.
func TestWebhookSubscriptionDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hooks := newHookReceiver(t, e.Clock.Now)
	hooks.fail = 100
	subID := e.subscribe(e.keyA, hooks)
	given := e.ok(http.StatusCreated, e.do("POST", "/v1/webhook-subscriptions", e.keyA, map[string]any{"url": "https://example.com/h", "secret": "a-receiver-chosen-secret-0123456789"}))
	assert.NotContains(t, given, "secret", "a secret the receiver chose is never echoed")
	subs := e.ok(http.StatusOK, e.do("GET", "/v1/webhook-subscriptions", e.keyA, nil))["data"].([]any)
	require.Len(t, subs, 2)
	for _, s := range subs {
		assert.NotContains(t, s, "secret")
	}
	// The second subscription is deleted before anything is sent to it.
	e.ok(http.StatusNoContent, e.do("DELETE", "/v1/webhook-subscriptions/"+given["id"].(string), e.keyA, nil))

	require.NoError(t, e.deliverer.Enqueue(context.Background(), pixauto.Event{Type: pixauto.EventConsentCreated, ReceiverID: e.rcvA.ID, ConsentID: "urn:x:c1"}))
	assert.Equal(t, server.DeliverResult{Retrying: 1}, e.deliver())
	e.ok(http.StatusNoContent, e.do("DELETE", "/v1/webhook-subscriptions/"+subID, e.keyA, nil))
	e.problemOf(http.StatusNotFound, server.CodeNotFound, e.do("DELETE", "/v1/webhook-subscriptions/"+subID, e.keyA, nil))
	e.problemOf(http.StatusNotFound, server.CodeNotFound, e.do("GET", "/v1/webhook-subscriptions/"+subID, e.keyA, nil))
	e.Clock.Advance(time.Hour)
	assert.Equal(t, server.DeliverResult{}, e.deliver(), "nothing is sent to a deleted subscription")

	d := e.ok(http.StatusOK, e.do("GET", "/v1/webhook-subscriptions/"+subID+"/deliveries", e.keyA, nil))["data"].([]any)
	require.Len(t, d, 1, "the deliveries of a deleted subscription stay listed")
	assert.Equal(t, "CANCELLED", d[0].(map[string]any)["status"])
	assert.Len(t, d[0].(map[string]any)["attempts"], 1)

	require.NoError(t, e.deliverer.Enqueue(context.Background(), pixauto.Event{Type: pixauto.EventConsentAuthorised, ReceiverID: e.rcvA.ID, ConsentID: "urn:x:c1"}))
	d = e.ok(http.StatusOK, e.do("GET", "/v1/webhook-subscriptions/"+subID+"/deliveries", e.keyA, nil))["data"].([]any)
	assert.Len(t, d, 1, "new events skip deleted subscriptions")
	assert.Empty(t, e.ok(http.StatusOK, e.do("GET", "/v1/webhook-subscriptions", e.keyA, nil))["data"])
}

// Run delivers as soon as an event is stored and stops with its context.
func TestDelivererRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hooks := newHookReceiver(t, e.Clock.Now)
	e.subscribe(e.keyA, hooks)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.deliverer.Run(ctx, time.Hour); close(done) }()
	e.enrol(e.keyA)
	require.Eventually(t, func() bool { return len(hooks.types()) == 2 }, 10*time.Second, 5*time.Millisecond, "delivered without waiting for the hourly tick")
	cancel()
	<-done
	assert.Equal(t, []string{"consent.created", "consent.authorised"}, hooks.types())
}
