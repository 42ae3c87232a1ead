package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/internal/spectest"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

func riskSignals() obj {
	return obj{
		"deviceId": "5ad82a8f-2dd3-4ab4-a6e5-4e5f7f6a7b21", "osVersion": "17.1", "userTimeZoneOffset": "-03:00",
		"language": "pt", "screenDimensions": obj{"height": 844, "width": 390}, "accountTenure": "2020-01-01",
	}
}

// editData is a full consent edition by the payer.
func editData(name, maximum string) obj {
	d := obj{
		"creditors":   []any{obj{"name": name}},
		"riskSignals": riskSignals(),
		"loggedUser":  obj{"document": obj{"identification": payerCPF, "rel": "CPF"}},
	}
	if maximum != "" {
		d["recurringConfiguration"] = obj{"automatic": obj{"maximumVariableAmount": maximum}}
	}
	return d
}

// TestAutomaticResponsesMatchTheSpec plays every endpoint and outcome on a
// 2.2.0 and a 2.1.0 bank and validates each body against the official
// schema of its version: consents in every status, payments in every
// status and shape, retries, 422s of every endpoint, plain errors and the
// webhook bodies.
func TestAutomaticResponsesMatchTheSpec(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"2.2.0", "2.1.0"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			srv, hits := webhookReceiver(t)
			e := newEnv(t, sandbox.Config{APIVersion: v, ITP: sandbox.ITPConfig{WebhookURIs: []string{srv.URL}}})
			seen := map[string]int{}
			check := func(schema string, wantStatus int) {
				t.Helper()
				status, body := e.rec.last(t)
				if status != wantStatus {
					t.Fatalf("%s: status %d, want %d: %s", schema, status, wantStatus, body)
				}
				spectest.ValidateSchema(t, v, schema, body)
				seen[schema]++
			}
			cc := e.cc
			data := e.consentData()
			id := e.createConsent(data)
			check("ResponsePostRecurringConsent", http.StatusCreated)
			e.consent(id)
			check("ResponseRecurringConsent", http.StatusOK)

			ts, _ := e.authorize(id)
			e.consent(id)
			check("ResponseRecurringConsent", http.StatusOK)
			e.must(http.StatusOK)(e.call(http.MethodPatch, "/recurring-consents/"+id, editData("Escola Nova Ltda", "600.00"), cc))
			check("ResponseRecurringConsentPatch", http.StatusOK)

			first := e.pay(ts, e.firstPaymentData())
			check("ResponseRecurringPaymentsIdPost", http.StatusCreated)
			e.payment(first.ID)
			check("ResponseRecurringPaymentsIdRead", http.StatusOK)
			e.advance(time.Second)
			if e.payment(first.ID).Status != "ACSC" {
				t.Fatal("first payment not settled")
			}
			check("ResponseRecurringPaymentsIdRead", http.StatusOK)

			cycle := consent.MustDate(auto(data)["referenceStartDate"].(string))
			e.advanceTo(at(cycle.AddDays(-3), 9, 0))
			r0 := e.pay(ts, e.recurrenceData(cycle, cycle, "100.00"))
			e.advance(time.Second)
			e.payment(r0.ID)
			check("ResponseRecurringPaymentsIdRead", http.StatusOK)
			cancel := obj{"status": "CANC", "cancellation": obj{"cancelledBy": obj{"document": obj{"identification": payerCPF, "rel": "CPF"}}}}
			e.must(http.StatusOK)(e.call(http.MethodPatch, "/pix/recurring-payments/"+r0.ID, cancel, cc))
			check("ResponseRecurringPaymentsIdPatch", http.StatusOK)
			_, err := e.call(http.MethodPatch, "/pix/recurring-payments/"+r0.ID, cancel, cc)
			want422(t, err, "PAGAMENTO_NAO_PERMITE_CANCELAMENTO")
			check("422ResponseErrorCreateRecurringPaymentsPaymentId", http.StatusUnprocessableEntity)

			// Idempotency: the same key and data replay the answer; other
			// data get the endpoint's conflict code.
			keyed := func(method, path, key string, data any) (*fapi.Response, error) {
				return e.c.Do(t.Context(), fapi.Call{Method: method, URL: e.url(path), Data: data, Token: cc, IdempotencyKey: key})
			}
			key := uuid.NewString()
			created := e.must(http.StatusCreated)(keyed(http.MethodPost, "/recurring-consents", key, e.consentData()))
			check("ResponsePostRecurringConsent", http.StatusCreated)
			again := e.must(http.StatusCreated)(keyed(http.MethodPost, "/recurring-consents", key, e.consentData()))
			check("ResponsePostRecurringConsent", http.StatusCreated)
			if decode[consent.Consent](t, again.Message.Data).RecurringConsentID != decode[consent.Consent](t, created.Message.Data).RecurringConsentID {
				t.Fatal("a replay created another consent")
			}
			_, err = keyed(http.MethodPost, "/recurring-consents", key, editData("x", ""))
			want422(t, err, "ERRO_IDEMPOTENCIA")
			check("ResponseErrorCreateConsent", http.StatusUnprocessableEntity)
			key = uuid.NewString()
			for range 2 { // a refusal is replayed too
				_, err = keyed(http.MethodPatch, "/pix/recurring-payments/"+first.ID, key, cancel)
				want422(t, err, "PAGAMENTO_NAO_PERMITE_CANCELAMENTO")
				check("422ResponseErrorCreateRecurringPaymentsPaymentId", http.StatusUnprocessableEntity)
			}
			_, err = keyed(http.MethodPatch, "/pix/recurring-payments/"+first.ID, key, obj{"status": "CANC"})
			want422(t, err, "PARAMETRO_INVALIDO")
			check("422ResponseErrorCreateRecurringPaymentsPaymentId", http.StatusUnprocessableEntity)

			// A recurrence refused by SPI in the morning, then an extraday retry.
			if err := e.b.ScriptSettlement(payerCPF, sandbox.Reject(payments.RejectionFalhaInfraestruturaSPI).In(sandbox.Morning)); err != nil {
				t.Fatal(err)
			}
			r1 := e.pay(ts, e.recurrenceData(cycle, cycle, "100.00"))
			e.advanceTo(at(cycle, 10, 0))
			if got := e.payment(r1.ID); got.Status != "RJCT" || got.RejectionReason == nil || got.RejectionReason.Code != "FALHA_INFRAESTRUTURA_SPI" {
				t.Fatalf("r1: %+v", got)
			}
			check("ResponseRecurringPaymentsIdRead", http.StatusOK)
			next := cycle.AddDays(1)
			var retryID string
			if v == "2.2.0" {
				_, err := e.call(http.MethodPost, "/pix/recurring-payments/"+r1.ID+"/retry", obj{"endToEndId": e.e2e(next.AddDays(1)), "date": next.String()}, cc)
				want422(t, err, "DETALHE_TENTATIVA_INVALIDO")
				check("422ResponseErrorCreateRetryPixRecurringPayment", http.StatusUnprocessableEntity)
				resp := e.must(http.StatusCreated)(e.call(http.MethodPost, "/pix/recurring-payments/"+r1.ID+"/retry", obj{"endToEndId": e.e2e(next), "date": next.String()}, cc))
				check("ResponseRecurringRetryPaymentsIdPost", http.StatusCreated)
				retryID = decode[wirePayment](t, resp.Message.Data).ID
			} else {
				body := e.recurrenceData(cycle, next, "100.00")
				body["originalRecurringPaymentId"] = r1.ID
				retryID = e.pay(ts, body).ID
				check("ResponseRecurringPaymentsIdPost", http.StatusCreated)
			}
			e.advance(time.Second)
			if got := e.payment(retryID); got.Status != "SCHD" || got.OriginalID != r1.ID {
				t.Fatalf("retry: %+v", got)
			}
			check("ResponseRecurringPaymentsIdRead", http.StatusOK)
			e.must(http.StatusOK)(e.call(http.MethodGet, "/pix/recurring-payments?recurringConsentId="+id, nil, cc))
			check("ResponseRecurringPixPayment", http.StatusOK)
			resp := e.must(http.StatusOK)(e.call(http.MethodGet, "/pix/recurring-payments?recurringConsentId="+id+"&originalRecurringPaymentId="+r1.ID, nil, ts))
			check("ResponseRecurringPixPayment", http.StatusOK)
			if items := decode[[]wirePayment](t, resp.Message.Data); len(items) != 2 {
				t.Fatalf("original and its retry: %+v", items)
			}

			// 422s of the consent endpoints, and of payment creation.
			bad := e.consentData()
			auto(bad)["fixedAmount"] = 100
			_, err = e.call(http.MethodPost, "/recurring-consents", bad, cc)
			want422(t, err, "PARAMETRO_INVALIDO")
			check("ResponseErrorCreateConsent", http.StatusUnprocessableEntity)
			reject := obj{"status": "REJECTED", "rejection": obj{"rejectedBy": "USUARIO", "rejectedFrom": "INICIADORA", "reason": obj{"code": "REJEITADO_USUARIO", "detail": "não quero"}}}
			_, err = e.call(http.MethodPatch, "/recurring-consents/"+id, reject, cc)
			want422(t, err, "CONSENTIMENTO_NAO_PERMITE_CANCELAMENTO")
			check("422ResponseErrorRecurringConsents", http.StatusUnprocessableEntity)
			_, err = e.call(http.MethodPost, "/pix/recurring-payments", e.recurrenceData(cycle.AddDays(31), e.today().AddDays(1), "100.00"), ts)
			want422(t, err, "FORA_PRAZO_PERMITIDO")
			check("422ResponseErrorCreatePixRecurringPayment", http.StatusUnprocessableEntity)

			// Plain errors.
			_, err = e.call(http.MethodGet, "/recurring-consents/urn:sandboxbank:nope", nil, cc)
			apiError(t, err, http.StatusNotFound)
			check("ResponseError", http.StatusNotFound)
			_, err = e.call(http.MethodPost, "/pix/recurring-payments", e.recurrenceData(cycle, cycle, "1.00"), cc)
			apiError(t, err, http.StatusForbidden)
			check("ResponseError", http.StatusForbidden)
			_, err = e.call(http.MethodGet, "/pix/recurring-payments", nil, cc)
			apiError(t, err, http.StatusBadRequest)
			check("ResponseError", http.StatusBadRequest)
			_, err = e.call(http.MethodPut, "/pix/recurring-payments/"+r1.ID, obj{}, cc)
			apiError(t, err, http.StatusMethodNotAllowed)
			check("ResponseError", http.StatusMethodNotAllowed)

			// REVOKED through PATCH, REJECTED through PATCH and by time,
			// CONSUMED at expiry.
			revoke := obj{"status": "REVOKED", "revocation": obj{"revokedBy": "USUARIO", "revokedFrom": "INICIADORA", "reason": obj{"code": "REVOGADO_USUARIO", "detail": "cancelei"}}}
			e.must(http.StatusOK)(e.call(http.MethodPatch, "/recurring-consents/"+id, revoke, cc))
			check("ResponseRecurringConsentPatch", http.StatusOK)
			if e.consent(id).Status != consent.StatusRevoked {
				t.Fatal("not revoked")
			}
			check("ResponseRecurringConsent", http.StatusOK)
			e.payment(retryID)
			check("ResponseRecurringPaymentsIdRead", http.StatusOK)

			other := e.consentData()
			delete(auto(other), "firstPayment")
			auto(other)["referenceStartDate"] = e.today().AddDays(3).String()
			rejected := e.createConsent(other)
			e.must(http.StatusOK)(e.call(http.MethodPatch, "/recurring-consents/"+rejected, reject, cc))
			check("ResponseRecurringConsentPatch", http.StatusOK)
			e.consent(rejected)
			check("ResponseRecurringConsent", http.StatusOK)
			late := e.createConsent(other)
			exp := e.consentData()
			delete(auto(exp), "firstPayment")
			auto(exp)["referenceStartDate"] = e.today().AddDays(3).String()
			exp["expirationDateTime"] = e.today().AddDays(5).String() + "T23:59:59Z"
			consumed, _ := e.authorised(exp)
			e.advance(7 * 24 * time.Hour)
			if c := e.consent(late); c.Status != consent.StatusRejected || c.Rejection.Reason.Code != consent.RejectionTempoExpiradoAutorizacao {
				t.Fatalf("late consent: %+v", c)
			}
			check("ResponseRecurringConsent", http.StatusOK)
			if c := e.consent(consumed); c.Status != consent.StatusConsumed {
				t.Fatalf("expired consent: %+v", c)
			}
			check("ResponseRecurringConsent", http.StatusOK)

			for _, s := range []string{"ResponsePostRecurringConsent", "ResponseRecurringConsent", "ResponseRecurringConsentPatch",
				"ResponseRecurringPaymentsIdPost", "ResponseRecurringPaymentsIdRead", "ResponseRecurringPaymentsIdPatch",
				"ResponseRecurringPixPayment", "ResponseErrorCreateConsent", "422ResponseErrorRecurringConsents",
				"422ResponseErrorCreatePixRecurringPayment", "422ResponseErrorCreateRecurringPaymentsPaymentId", "ResponseError"} {
				if seen[s] == 0 {
					t.Errorf("no %s body was checked", s)
				}
			}

			// Webhooks: every body matches the webhook spec.
			if err := e.b.FlushWebhooks(t.Context()); err != nil {
				t.Fatal(err)
			}
			hooks := e.b.Webhooks()
			if len(hooks) < 10 || len(hits()) != len(hooks) {
				t.Fatalf("%d webhooks, %d received", len(hooks), len(hits()))
			}
			for _, h := range hooks {
				schema := "RequestBodyWebhook"
				if h.EventType != "" {
					schema = "RequestBodyWebhookEvents"
				}
				spectest.ValidateWebhookSchema(t, "1.3.0", schema, h.Body)
			}
		})
	}
}

// webhookReceived is one notification an ITP's webhook server received.
type webhookReceived struct {
	Path, InteractionID, ServerID string
	Body                          json.RawMessage
	ClientOrg                     string
}

// webhookReceiver starts an ITP webhook server that answers 202 echoing
// x-webhook-interaction-id, and returns what it received so far.
func webhookReceiver(t *testing.T) (*httptest.Server, func() []webhookReceived) {
	t.Helper()
	var mu sync.Mutex
	var got []webhookReceived
	srv, err := sandbox.NewWebhookServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := webhookReceived{Path: r.URL.Path, InteractionID: r.Header.Get("x-webhook-interaction-id"), ServerID: r.Header.Get("x-authorization-server-id"), Body: body}
		if len(r.TLS.PeerCertificates) > 0 {
			rec.ClientOrg = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		mu.Lock()
		got = append(got, rec)
		mu.Unlock()
		w.Header().Set("x-webhook-interaction-id", rec.InteractionID)
		w.WriteHeader(http.StatusAccepted)
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv, func() []webhookReceived {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}
