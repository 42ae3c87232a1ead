package sandbox

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Payments v4 mock: the resource server the OpenID conformance suite's
// client tests use (open-banking/payments/v4), with the same checks. It is
// deliberately minimal: consents are created AWAITING_AUTHORISATION,
// authorised or rejected at the authorization endpoint, and consumed by a
// payment; payment data is echoed back with ids and status RCVD.

const paymentsV4Base = "/open-banking/payments/v4"

// Consent statuses of payments v4.
const (
	statusAwaiting   = "AWAITING_AUTHORISATION"
	statusAuthorised = "AUTHORISED"
	statusRejected   = "REJECTED"
	statusConsumed   = "CONSUMED"
)

// consentAuthorisationWindow is how long a payments v4 consent waits for
// authorisation before it is rejected.
const consentAuthorisationWindow = 5 * time.Minute

type paymentsV4 struct {
	bank  *Bank
	idemp idempotency

	mu       sync.Mutex
	consents map[string]*v4Consent
	payments map[string]*v4Payment
}

type v4Consent struct {
	ID       string
	ClientID string
	OrgID    string
	// Product is the product scope of the token that created the consent:
	// "payments" (authorised with consent:<id>, consumed by one payment) or
	// "recurring-payments" (recurring-consent:<id>, never consumed).
	Product       string
	Status        string
	Data          map[string]any
	Created       time.Time
	StatusUpdated time.Time
	Subject       string
	RejectionCode string
}

type v4Payment struct {
	ID        string
	ClientID  string
	ConsentID string
	Data      any
}

func newPaymentsV4(b *Bank) *paymentsV4 {
	return &paymentsV4{bank: b, consents: map[string]*v4Consent{}, payments: map[string]*v4Payment{}}
}

func (p *paymentsV4) routes(mux *http.ServeMux) {
	mux.HandleFunc("POST "+paymentsV4Base+"/consents", p.handleCreateConsent)
	mux.HandleFunc("GET "+paymentsV4Base+"/consents/{consentID}", p.handleGetConsent)
	mux.HandleFunc("POST "+paymentsV4Base+"/pix/payments", p.handleCreatePayment)
	mux.HandleFunc("GET "+paymentsV4Base+"/pix/payments/{paymentID}", p.handleGetPayment)
}

// refreshLocked applies time-driven transitions: an unauthorised consent
// expires after consentAuthorisationWindow.
func (p *paymentsV4) refreshLocked(c *v4Consent) {
	now := p.bank.now()
	if c.Status == statusAwaiting && now.Sub(c.Created) >= consentAuthorisationWindow {
		c.Status, c.StatusUpdated, c.RejectionCode = statusRejected, c.Created.Add(consentAuthorisationWindow), "TEMPO_EXPIRADO_AUTORIZACAO"
	}
}

func productOf(prefix string) string { return consentScopes[prefix] }

// lookupConsent implements consentAPI.
func (p *paymentsV4) lookupConsent(scope consentScope) (consentInfo, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.consents[scope.ID]
	if c == nil || c.Product != productOf(scope.Prefix) {
		return consentInfo{}, false
	}
	p.refreshLocked(c)
	return consentInfo{ClientID: c.ClientID, Awaiting: c.Status == statusAwaiting, Active: c.Status == statusAuthorised}, true
}

// decideConsent implements consentAPI.
func (p *paymentsV4) decideConsent(_ context.Context, scope consentScope, _ AuthorizationRequest, d AuthorizationDecision) AuthorizationDecision {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.consents[scope.ID]
	if c == nil || c.Status != statusAwaiting {
		return d
	}
	c.StatusUpdated = p.bank.now()
	if d.Deny {
		c.Status, c.RejectionCode = statusRejected, d.RejectionCode
		return d
	}
	c.Status, c.Subject = statusAuthorised, d.Subject
	return d
}

func forbidden(format string, args ...any) *apiError {
	return apiErr(http.StatusForbidden, "FORBIDDEN", "Forbidden", format, args...)
}

// clientCredentialsProduct returns the product scope of a
// client_credentials token ("payments" or "recurring-payments").
func clientCredentialsProduct(g *grant) (string, *apiError) {
	if g.GrantType != "client_credentials" {
		return "", forbidden("this endpoint needs a client_credentials token")
	}
	for _, s := range []string{"payments", "recurring-payments"} {
		if g.hasScope(s) {
			return s, nil
		}
	}
	return "", forbidden("the token has neither the payments nor the recurring-payments scope")
}

func (p *paymentsV4) handleCreateConsent(w http.ResponseWriter, r *http.Request) {
	b := p.bank
	call, ok := b.beginCall(w, r)
	if !ok {
		return
	}
	product, ae := clientCredentialsProduct(call.grant)
	if ae != nil {
		b.refuseAPI(w, r, call.iid, ae)
		return
	}
	key, sr, ok := b.beginWrite(w, r, call, &p.idemp)
	if !ok {
		return
	}
	var data map[string]any
	if err := json.Unmarshal(sr.Data, &data); err != nil {
		b.refuseAPI(w, r, call.iid, apiErr(http.StatusBadRequest, "PARAMETRO_INVALIDO", "Invalid data", "data must be an object"))
		return
	}
	now := b.now()
	c := &v4Consent{
		ID: "urn:sandbox:" + uuid.NewString(), ClientID: call.grant.ClientID, OrgID: call.org, Product: product,
		Status: statusAwaiting, Data: data, Created: now, StatusUpdated: now,
	}
	p.mu.Lock()
	p.consents[c.ID] = c
	body := p.consentBodyLocked(c)
	p.mu.Unlock()
	p.idemp.store(now, r.URL.Path, key, call.org, sr.Data, http.StatusCreated, func() map[string]any {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.consentBodyLocked(c)
	})
	b.writeSigned(w, r, http.StatusCreated, call.iid, call.org, body)
}

func (p *paymentsV4) consentBodyLocked(c *v4Consent) map[string]any {
	p.refreshLocked(c)
	data := maps.Clone(c.Data)
	data["consentId"] = c.ID
	data["creationDateTime"] = rfc3339(c.Created)
	data["expirationDateTime"] = rfc3339(c.Created.Add(consentAuthorisationWindow))
	data["statusUpdateDateTime"] = rfc3339(c.StatusUpdated)
	data["status"] = c.Status
	if c.RejectionCode != "" {
		data["rejectionReason"] = map[string]string{"code": c.RejectionCode, "detail": "consent rejected"}
	}
	return map[string]any{
		"data":  data,
		"links": map[string]string{"self": p.bank.MTLSURL + paymentsV4Base + "/consents/" + c.ID},
		"meta":  p.bank.meta(),
	}
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (p *paymentsV4) handleGetConsent(w http.ResponseWriter, r *http.Request) {
	b := p.bank
	call, ok := b.beginCall(w, r)
	if !ok {
		return
	}
	if _, ae := clientCredentialsProduct(call.grant); ae != nil {
		b.refuseAPI(w, r, call.iid, ae)
		return
	}
	p.mu.Lock()
	c := p.consents[r.PathValue("consentID")]
	var body map[string]any
	if c != nil && c.ClientID == call.grant.ClientID {
		body = p.consentBodyLocked(c)
	}
	p.mu.Unlock()
	if body == nil {
		b.refuseAPI(w, r, call.iid, apiErr(http.StatusNotFound, "NAO_ENCONTRADO", "Not found", "consent %s does not exist for this client", r.PathValue("consentID")))
		return
	}
	b.writeSigned(w, r, http.StatusOK, call.iid, call.org, body)
}

func (p *paymentsV4) handleCreatePayment(w http.ResponseWriter, r *http.Request) {
	b := p.bank
	call, ok := b.beginCall(w, r)
	if !ok {
		return
	}
	g := call.grant
	if g.Consent == nil || !g.hasScope(productOf(g.Consent.Prefix)) || !g.hasScope(g.Consent.String()) {
		b.refuseAPI(w, r, call.iid, forbidden("this endpoint needs a token from the authorization code flow with scopes payments and consent:<id> (or recurring-payments and recurring-consent:<id>)"))
		return
	}
	key, sr, ok := b.beginWrite(w, r, call, &p.idemp)
	if !ok {
		return
	}
	body, code, detail := p.createPayment(g, sr.Data)
	if code != "" {
		b.writeSignedError(w, r, call.iid, call.org, http.StatusUnprocessableEntity, code, "Payment refused", detail)
		return
	}
	p.idemp.store(b.now(), r.URL.Path, key, call.org, sr.Data, http.StatusCreated, func() map[string]any { return body })
	b.writeSigned(w, r, http.StatusCreated, call.iid, call.org, body)
}

// createPayment creates the payment(s) in data (an object, or an array as
// in payments v4) against the token's consent. It returns a 422 code and
// detail when the consent cannot be used.
func (p *paymentsV4) createPayment(g *grant, raw json.RawMessage) (body map[string]any, code, detail string) {
	var items []map[string]any
	var single map[string]any
	if err := json.Unmarshal(raw, &single); err == nil {
		items = []map[string]any{single}
	} else if err := json.Unmarshal(raw, &items); err != nil || len(items) == 0 {
		return nil, "PARAMETRO_INVALIDO", "data must be a payment object or a non-empty array of them"
	}
	now := p.bank.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.consents[g.Consent.ID]
	if c == nil {
		return nil, "CONSENTIMENTO_INVALIDO", "the token's consent does not exist"
	}
	p.refreshLocked(c)
	if c.Status != statusAuthorised {
		return nil, "CONSENTIMENTO_INVALIDO", "consent " + c.ID + " is " + c.Status
	}
	for _, it := range items {
		if id, ok := it["consentId"].(string); ok && id != c.ID {
			return nil, "CONSENTIMENTO_INVALIDO", "data.consentId is not the consent of the token"
		}
	}
	out := make([]any, 0, len(items))
	for _, it := range items {
		d := maps.Clone(it)
		d["paymentId"] = uuid.NewString()
		d["consentId"] = c.ID
		d["creationDateTime"] = rfc3339(now)
		d["statusUpdateDateTime"] = rfc3339(now)
		d["status"] = "RCVD"
		p.payments[d["paymentId"].(string)] = &v4Payment{ID: d["paymentId"].(string), ClientID: g.ClientID, ConsentID: c.ID, Data: d}
		out = append(out, d)
	}
	if c.Product == "payments" {
		c.Status, c.StatusUpdated = statusConsumed, now
	}
	var data any = out
	if single != nil {
		data = out[0]
	}
	return map[string]any{
		"data":  data,
		"links": map[string]string{"self": p.bank.MTLSURL + paymentsV4Base + "/pix/payments"},
		"meta":  p.bank.meta(),
	}, "", ""
}

func (p *paymentsV4) handleGetPayment(w http.ResponseWriter, r *http.Request) {
	b := p.bank
	call, ok := b.beginCall(w, r)
	if !ok {
		return
	}
	if !call.grant.hasScope("payments") && !call.grant.hasScope("recurring-payments") {
		b.refuseAPI(w, r, call.iid, forbidden("the token has neither the payments nor the recurring-payments scope"))
		return
	}
	p.mu.Lock()
	pay := p.payments[r.PathValue("paymentID")]
	p.mu.Unlock()
	if pay == nil || pay.ClientID != call.grant.ClientID {
		b.refuseAPI(w, r, call.iid, apiErr(http.StatusNotFound, "NAO_ENCONTRADO", "Not found", "payment %s does not exist for this client", r.PathValue("paymentID")))
		return
	}
	b.writeSigned(w, r, http.StatusOK, call.iid, call.org, map[string]any{
		"data":  pay.Data,
		"links": map[string]string{"self": b.MTLSURL + paymentsV4Base + "/pix/payments/" + pay.ID},
		"meta":  b.meta(),
	})
}
