package conformance

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/internal/spectest"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// automatic-payments_api_automatic-pix-webhook_test-module_v2-2
//
// The ITP's webhook endpoint is called once per payment status change
// (SCHD, ACSC, CANC among them), at
// {webhook_uri}/open-banking/webhook/v1/automatic-payments/v2/pix/recurring-payments/{id}
// (and …/recurring-consents/{id} for the consent); the ITP answers 202
// echoing x-webhook-interaction-id, then GETs the resource.
//
// The receiver here is a small recording handler, not the SDK's
// pixauto.Initiator (tested elsewhere).
func TestAutomaticPixWebhook(t *testing.T) {
	t.Parallel()
	hooks, srv := startWebhooks(t)
	s := newEnv(t, sandboxtest.Options{Bank: sandbox.Config{
		ITP:             sandbox.ITPConfig{WebhookURIs: []string{srv.URL}},
		ProcessingDelay: time.Minute, // one status change per minute
	}})
	today := s.Today()
	ref := today.AddDays(2)
	s.authorise(withInterval(consent.IntervalSemanal), withReferenceStart(ref), withFirstPayment(today, "49.90", sandboxtest.CreditorAccount))
	require.NoError(t, s.Bank.FlushWebhooks(bg))

	// The consent's authorisation was notified as STATE_CHANGED.
	consentCalls := hooks.byPath(sandbox.WebhookPathPrefix + s.consentPath(s.c))
	require.NotEmpty(t, consentCalls)
	for _, c := range consentCalls {
		spectest.ValidateWebhookSchema(t, "1.3.0", "RequestBodyWebhookEvents", c.Body)
	}
	var ev struct{ Data struct{ EventType string } }
	require.NoError(t, json.Unmarshal(consentCalls[0].Body, &ev))
	assert.Equal(t, "STATE_CHANGED", ev.Data.EventType)

	// step runs action and checks that it caused exactly one notification
	// of payment id, whose GET then shows want.
	seen := map[string][]payments.Status{}
	step := func(id string, want payments.Status, action func()) {
		t.Helper()
		path := sandbox.WebhookPathPrefix + pathPayments + "/" + id
		before := len(hooks.byPath(path))
		action()
		require.NoError(t, s.Bank.FlushWebhooks(bg))
		calls := hooks.byPath(path)
		require.Len(t, calls, before+1, "one notification for the change to %s", want)
		call := calls[before]
		assert.Equal(t, "application/json", strings.Split(call.ContentType, ";")[0])
		assert.NotEmpty(t, call.InteractionID)
		spectest.ValidateWebhookSchema(t, "1.3.0", "RequestBodyWebhook", call.Body)

		// The notification carries no data: the ITP reads the payment.
		p := s.get(id)
		require.Equal(t, want, p.Status)
		var body struct {
			Data struct{ Timestamp consent.DateTime }
		}
		require.NoError(t, json.Unmarshal(call.Body, &body))
		assert.Equal(t, p.StatusUpdateDateTime, body.Data.Timestamp, "data.timestamp is the change's time")
		seen[id] = append(seen[id], want)
	}
	tick := func() { s.Advance(t, time.Minute) }

	// firstPayment, immediate: ACCP, then ACSC.
	fp := s.firstPayment()
	step(fp.ID, payments.StatusACCP, tick)
	step(fp.ID, payments.StatusACSC, tick)

	// Cycle 0: ACCP, SCHD, then ACSC on its date.
	r0 := s.charge(0, ref, "150.00")
	step(r0.ID, payments.StatusACCP, tick)
	step(r0.ID, payments.StatusSCHD, tick)

	// Cycle 1: ACCP, SCHD, then CANC by the receiver.
	r1 := s.charge(1, ref.AddDays(7), "150.00")
	step(r1.ID, payments.StatusACCP, tick)
	step(r1.ID, payments.StatusSCHD, tick)
	step(r1.ID, payments.StatusCANC, func() {
		_, err := s.Payments.Cancel(bg, payments.CancelParams{Payment: s.get(r1.ID), Consent: s.c, CancelledBy: receiver(), IdempotencyKey: fapi.NewIdempotencyKey(nil)})
		require.NoError(t, err)
	})
	step(r0.ID, payments.StatusACSC, func() { s.AdvanceTo(t, sandboxtest.At(ref, 9, 0)) })
	s.AdvanceTo(t, sandboxtest.At(ref.AddDays(7), 22, 0))
	require.NoError(t, s.Bank.FlushWebhooks(bg))

	// Exactly one call per change, every one answered 202 at the first
	// attempt, echoing the interaction id the bank sent.
	ids := map[string]bool{}
	for _, c := range hooks.snapshot() {
		ids[c.InteractionID] = true
	}
	for id, changes := range seen {
		assert.Len(t, hooks.byPath(sandbox.WebhookPathPrefix+pathPayments+"/"+id), len(changes), "payment %s: %v", id, changes)
	}
	deliveries := s.Bank.Webhooks()
	assert.Len(t, deliveries, len(hooks.snapshot()))
	for _, d := range deliveries {
		assert.Equal(t, http.StatusAccepted, d.Status)
		assert.True(t, d.Delivered)
		assert.Equal(t, 1, d.Attempt, "no redelivery")
		assert.True(t, ids[d.InteractionID], "the handler saw %s", d.InteractionID)
		assert.True(t, strings.HasPrefix(d.URL, srv.URL+sandbox.WebhookPathPrefix), d.URL)
	}
	assert.Equal(t, []payments.Status{payments.StatusACCP, payments.StatusSCHD, payments.StatusCANC}, seen[r1.ID])
}
