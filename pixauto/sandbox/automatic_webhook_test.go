package sandbox_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// TestWebhooks: one notification per status change of a payment and of a
// consent, DATA_CHANGED for editions, posted over mTLS to the registered
// base + /open-banking/webhook/v1/automatic-payments/v2/…, with a new
// x-webhook-interaction-id per attempt; failed deliveries are retried.
func TestWebhooks(t *testing.T) {
	t.Parallel()
	srv, hits := webhookReceiver(t)
	e := newEnv(t, sandbox.Config{ITP: sandbox.ITPConfig{WebhookURIs: []string{srv.URL}}})
	data := e.consentData()
	id, ts, p := e.scheduled(data, "150.00")
	due := consent.MustDate(p.Date)
	e.advanceTo(at(due, 0, 0))
	if err := e.b.EditConsentAtHolder(id, sandbox.HolderEdit{MaximumVariableAmount: new(consent.MustAmount("200.00"))}); err != nil {
		t.Fatal(err)
	}
	if err := e.b.FlushWebhooks(t.Context()); err != nil {
		t.Fatal(err)
	}
	consentPath := sandbox.WebhookPathPrefix + "/recurring-consents/" + id
	paymentPath := sandbox.WebhookPathPrefix + "/pix/recurring-payments/" + p.ID
	type event struct{ path, eventType, timestamp string }
	var got []event
	ids := map[string]bool{}
	for _, h := range hits() {
		var body struct {
			Data struct{ Timestamp, EventType string }
		}
		if err := json.Unmarshal(h.Body, &body); err != nil {
			t.Fatal(err)
		}
		if h.ServerID != e.b.AuthorisationServerID || h.InteractionID == "" || ids[h.InteractionID] || h.ClientOrg != "sandbox-bank.example" {
			t.Fatalf("headers of %+v", h)
		}
		ids[h.InteractionID] = true
		got = append(got, event{h.Path, body.Data.EventType, body.Data.Timestamp})
	}
	cycle := consent.MustDate(auto(data)["referenceStartDate"].(string))
	created := at(cycle.AddDays(-3), 9, 0).UTC().Format(time.RFC3339)
	want := []event{
		{consentPath, "STATE_CHANGED", start.UTC().Format(time.RFC3339)}, // AUTHORISED
		{paymentPath, "", created},                                       // ACCP
		{paymentPath, "", created},                                       // SCHD
		{paymentPath, "", at(due, 0, 0).UTC().Format(time.RFC3339)},      // ACSC
		{consentPath, "DATA_CHANGED", at(due, 0, 0).UTC().Format(time.RFC3339)},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("webhooks\n got %v\nwant %v", got, want)
	}
	if c := e.consent(id); c.RecurringConfiguration.Automatic.MaximumVariableAmount.String() != "200.00" || c.UpdatedAtDateTime == nil {
		t.Fatalf("holder edit: %+v", c.RecurringConfiguration.Automatic)
	}
	// The payment above the payer's new maximum is refused.
	next := cycle.AddDays(31)
	_, err := e.call(http.MethodPost, "/pix/recurring-payments", e.recurrenceData(next, due.AddDays(5), "250.00"), ts)
	want422(t, err, "LIMITE_VALOR_TRANSACAO_CONSENTIMENTO_EXCEDIDO")
	for _, h := range e.b.Webhooks() {
		if !h.Delivered || h.Attempt != 1 || !strings.HasPrefix(h.URL, srv.URL+sandbox.WebhookPathPrefix) {
			t.Fatalf("delivery %+v", h)
		}
	}

	// A receiver that fails: four attempts, each with its own id.
	var calls atomic.Int32
	failing, err := sandbox.NewWebhookServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer failing.Close()
	before := len(e.b.Webhooks())
	loud, err := e.b.NewITP(sandbox.ITPConfig{WebhookURIs: []string{failing.URL}})
	if err != nil {
		t.Fatal(err)
	}
	fc := e.client(loud, 0)
	fcc := fc.ClientCredentialsSource(fapi.ScopeRecurringPayments)
	resp := e.must(http.StatusCreated)(e.do(fc, http.MethodPost, "/recurring-consents", e.consentData(), fcc))
	fid := decode[consent.Consent](t, resp.Message.Data).RecurringConsentID
	reject := obj{"status": "REJECTED", "rejection": obj{"rejectedBy": "USUARIO", "rejectedFrom": "INICIADORA", "reason": obj{"code": "REJEITADO_USUARIO", "detail": "x"}}}
	e.must(http.StatusOK)(e.do(fc, http.MethodPatch, "/recurring-consents/"+fid, reject, fcc))
	if err := e.b.FlushWebhooks(t.Context()); err != nil {
		t.Fatal(err)
	}
	hooks := e.b.Webhooks()[before:]
	if calls.Load() != sandbox.WebhookAttempts || len(hooks) != sandbox.WebhookAttempts {
		t.Fatalf("%d calls, %d logged", calls.Load(), len(hooks))
	}
	seen := map[string]bool{}
	for i, h := range hooks {
		if h.Attempt != i+1 || h.Status != http.StatusServiceUnavailable || h.Delivered || seen[h.InteractionID] || h.EventType != "STATE_CHANGED" {
			t.Fatalf("attempt %d: %+v", i, h)
		}
		seen[h.InteractionID] = true
	}

	// An ITP without webhook_uris is not notified.
	quiet := e.client(newITPOf(t, e.b), 0)
	_, err = e.do(quiet, http.MethodPost, "/recurring-consents", e.consentData(), quiet.ClientCredentialsSource("recurring-payments"))
	if err != nil {
		t.Fatal(err)
	}
	n := len(e.b.Webhooks())
	e.advance(2 * time.Hour) // the consent times out: a status change nobody hears of
	if got := len(e.b.Webhooks()); got != n {
		t.Fatalf("%d deliveries after a change of a quiet ITP's consent, want %d", got, n)
	}
}
