package conformance

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// edit builds an edition of the scenario's consent with the SDK and sends
// it; the edited consent becomes the scenario's.
func (s *scenario) edit(change consent.EditChange) *consent.Consent {
	s.t.Helper()
	e, err := consent.NewEdit(s.c, change, payer(), signals(), s.Clock.Now())
	require.NoError(s.t, err)
	c, err := s.Consents.Edit(bg, s.c.RecurringConsentID, e, fapi.NewIdempotencyKey(nil))
	require.NoError(s.t, err)
	s.c = c
	return c
}

func (s *scenario) consentPath(c *consent.Consent) string {
	return pathConsents + "/" + c.RecurringConsentID
}

// automatic-payments_api_automatic-pix-consent-edition-permissive_test-module_v2-2
//
// Editions that loosen the consent, each alone: the creditor's name, the
// maximum amount, the expiry (and making either indefinite);
// updatedAtDateTime moves every time. The edition builder must send every
// mandatory field and the unchanged values, since an omitted field means
// "indefinite".
func TestAutomaticPix_ConsentEditionPermissive(t *testing.T) {
	t.Parallel()
	s := newScenario(t, sandboxtest.Options{})
	today := s.Today()
	exp0 := *s.c.ExpirationDateTime
	require.Equal(t, consent.MustAmount("300.00"), *s.c.Automatic().MaximumVariableAmount)
	require.Nil(t, s.c.UpdatedAtDateTime)

	newName := "Academia Forma Fitness Ltda"
	newExp := consent.ExpirationOn(today.AddDays(600))
	amount := func(a string) *consent.Amount { v := consent.MustAmount(a); return &v }
	steps := []struct {
		name     string
		change   consent.EditChange
		maximum  *consent.Amount
		expiry   *consent.DateTime
		nameOnly bool
	}{
		{"rename the creditor", consent.EditChange{CreditorName: newName}, amount("300.00"), &exp0, true},
		{"raise the maximum", consent.EditChange{MaximumVariableAmount: consent.SetMaximum(consent.MustAmount("500.00"))}, amount("500.00"), &exp0, false},
		{"extend the expiry", consent.EditChange{Expiration: consent.SetExpiration(today.AddDays(600))}, amount("500.00"), newExp, false},
		{"indefinite expiry", consent.EditChange{Expiration: consent.IndefiniteExpiration()}, amount("500.00"), nil, false},
		{"indefinite maximum", consent.EditChange{MaximumVariableAmount: consent.IndefiniteMaximum()}, nil, nil, false},
	}
	var last time.Time
	for _, step := range steps {
		s.Advance(t, time.Minute)
		e, err := consent.NewEdit(s.c, step.change, payer(), signals(), s.Clock.Now())
		require.NoError(t, err, step.name)
		if step.nameOnly {
			assert.Nil(t, e.RiskSignals, "%s: a name-only edition carries only creditors", step.name)
			assert.Nil(t, e.LoggedUser, step.name)
		} else {
			assert.NotNil(t, e.RiskSignals, step.name)
			assert.NotNil(t, e.LoggedUser, step.name)
		}
		c, err := s.Consents.Edit(bg, s.c.RecurringConsentID, e, fapi.NewIdempotencyKey(nil))
		require.NoError(t, err, step.name)
		got := s.refresh()
		for _, c := range []*consent.Consent{c, got} {
			assert.Equal(t, newName, c.Creditors[0].Name, step.name)
			assert.Equal(t, step.maximum, c.Automatic().MaximumVariableAmount, step.name)
			assert.Equal(t, step.expiry, c.ExpirationDateTime, step.name)
			assert.Equal(t, consent.StatusAuthorised, c.Status, step.name)
			if assert.NotNil(t, c.UpdatedAtDateTime, step.name) {
				assert.True(t, c.UpdatedAtDateTime.After(last), "%s: updatedAtDateTime moves", step.name)
			}
		}
		last = got.UpdatedAtDateTime.Time
	}
}

// automatic-payments_api_automatic-pix-consent-edition-restrictive_test-module_v2-2
//
// Shortening the expiry cancels the payments scheduled after it (CANC); a
// new payment beyond it is refused with FORA_PRAZO_PERMITIDO. The ITP must
// re-sync its payments after the edition.
func TestAutomaticPix_ConsentEditionRestrictive(t *testing.T) {
	t.Parallel()
	s := newScenario(t, sandboxtest.Options{})
	today := s.Today()
	late := s.charge(0, today.AddDays(8), "150.00")
	s.awaitStatus(late.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))

	c := s.edit(consent.EditChange{Expiration: consent.SetExpiration(today.AddDays(5))})
	assert.Equal(t, consent.ExpirationOn(today.AddDays(5)), c.ExpirationDateTime)

	// Re-sync: the payment dated after the new expiry was cancelled.
	var found bool
	for _, p := range s.existing() {
		if p.ID == late.ID {
			found = true
			assert.Equal(t, payments.StatusCANC, p.Status)
		}
	}
	require.True(t, found)
	got := s.get(late.ID)
	require.NotNil(t, got.Cancellation)
	assert.Equal(t, payments.CancelledScheduled, got.Cancellation.Reason)

	// Beyond the new expiry: refused on both sides.
	_, err := s.plan(0, today.AddDays(7), "150.00", sandboxtest.CreditorAccount)
	isPaymentsValidation(t, err, payments.ErrAfterExpiry)
	s.refusedPayment(s.request(s.cycleRef(0), today.AddDays(7), "150.00"), payments.ErrAfterExpiry, "FORA_PRAZO_PERMITIDO")

	// The last day still works (the cancelled payment freed its cycle).
	p := s.charge(0, today.AddDays(5), "150.00")
	s.awaitStatus(p.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))
}

// webhookLog is an ITP webhook receiver that records every call and
// answers 202, echoing x-webhook-interaction-id.
type webhookLog struct {
	mu    sync.Mutex
	calls []webhookCall
}

type webhookCall struct {
	Path          string
	InteractionID string
	ContentType   string
	Body          []byte
}

func (l *webhookLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	iid := r.Header.Get("x-webhook-interaction-id")
	l.mu.Lock()
	l.calls = append(l.calls, webhookCall{Path: r.URL.Path, InteractionID: iid, ContentType: r.Header.Get("Content-Type"), Body: body})
	l.mu.Unlock()
	w.Header().Set("x-webhook-interaction-id", iid)
	w.WriteHeader(http.StatusAccepted)
}

func (l *webhookLog) snapshot() []webhookCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]webhookCall(nil), l.calls...)
}

// byPath returns the calls made to path.
func (l *webhookLog) byPath(path string) []webhookCall {
	var out []webhookCall
	for _, c := range l.snapshot() {
		if c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

// startWebhooks starts the ITP's webhook receiver; the bank must be started
// after it, with its URL as the ITP's webhook URI.
func startWebhooks(t *testing.T) (*webhookLog, *httptest.Server) {
	t.Helper()
	log := &webhookLog{}
	srv, err := sandbox.NewWebhookServer(log)
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	return log, srv
}

// automatic-payments_api_automatic-pix-consent-edition-account-holder_test-module_v2-2
//
// The payer edits the consent at the holder (a new maximum, overdraft off);
// the edition reaches the consent, and a payment above the new maximum is
// refused. The ITP must re-read the consent when notified and never cache
// limits.
func TestAutomaticPix_ConsentEditionAccountHolder(t *testing.T) {
	t.Parallel()
	hooks, srv := startWebhooks(t)
	s := newScenario(t, sandboxtest.Options{Bank: sandbox.Config{ITP: sandbox.ITPConfig{WebhookURIs: []string{srv.URL}}}})
	stale := s.c
	due := stale.Automatic().ReferenceStartDate

	newMax := consent.MustAmount("120.00")
	off := false
	require.NoError(t, s.Bank.EditConsentAtHolder(s.c.RecurringConsentID, sandbox.HolderEdit{MaximumVariableAmount: &newMax, UseOverdraftLimit: &off}))
	require.NoError(t, s.Bank.FlushWebhooks(bg))

	// With the cached consent the SDK lets 200.00 through and the bank
	// refuses it: limits must not be cached.
	req, err := s.plan(0, due, "200.00", sandboxtest.CreditorAccount)
	require.NoError(t, err, "the stale consent still says 300.00")
	_, err = s.create(req)
	want422(t, err, "LIMITE_VALOR_TRANSACAO_CONSENTIMENTO_EXCEDIDO")

	// The notification says the consent's data changed; the ITP re-reads it.
	var changed bool
	for _, c := range hooks.byPath(sandbox.WebhookPathPrefix + s.consentPath(s.c)) {
		var body struct{ Data struct{ EventType string } }
		require.NoError(t, json.Unmarshal(c.Body, &body))
		changed = changed || body.Data.EventType == "DATA_CHANGED"
	}
	require.True(t, changed, "a DATA_CHANGED notification for the consent")
	c := s.refresh()
	assert.Equal(t, newMax, *c.Automatic().MaximumVariableAmount)
	require.NotNil(t, c.Automatic().UseOverdraftLimit)
	assert.False(t, *c.Automatic().UseOverdraftLimit)
	assert.NotNil(t, c.UpdatedAtDateTime)

	_, err = s.plan(0, due, "200.00", sandboxtest.CreditorAccount)
	isPaymentsValidation(t, err, payments.ErrAmountAboveMaximum)
	m := s.mark()
	_, err = s.create(req)
	isPaymentsValidation(t, err, payments.ErrAmountAboveMaximum)
	s.noCall(m, http.MethodPost, pathPayments)

	p := s.charge(0, due, "120.00")
	s.awaitStatus(p.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))
}

// automatic-payments_api_automatic-pix-consent-edition-negative_test-module_v2-2
//
// Editions with an expiry in the past, a maximum on a fixed-amount consent,
// or without loggedUser or riskSignals are refused with 422
// (DETALHE_EDICAO_INVALIDO, PARAMETRO_NAO_INFORMADO). riskSignals and
// loggedUser are mandatory on a PATCH edition.
func TestAutomaticPix_ConsentEditionNegative(t *testing.T) {
	t.Parallel()
	s := newScenario(t, sandboxtest.Options{})
	variable := s.c
	fixed, _ := s.Authorised(t, s.ConsentRequest(withAmounts(consent.Fixed(consent.MustAmount("100.00")))))
	today := s.Today()
	now := s.Clock.Now()

	// refused: the SDK refuses the edition (field, sentinel) and the bank,
	// sent body directly, answers code.
	refused := func(c *consent.Consent, sdk func() error, field string, sentinel error, body map[string]any, code string) {
		t.Helper()
		m := s.mark()
		isConsentValidation(t, sdk(), field, sentinel)
		s.noCall(m, http.MethodPatch, s.consentPath(c))
		_, err := s.send(http.MethodPatch, s.consentPath(c), body, s.cc())
		want422(t, err, code)
	}
	valid := func(c *consent.Consent, change consent.EditChange) map[string]any {
		e, err := consent.NewEdit(c, change, payer(), signals(), now)
		require.NoError(t, err)
		return asMap(t, e)
	}

	// An expiry in the past.
	sdk := func() error {
		_, err := consent.NewEdit(variable, consent.EditChange{Expiration: consent.SetExpiration(today.AddDays(-1))}, payer(), signals(), now)
		return err
	}
	body := valid(variable, consent.EditChange{Expiration: consent.SetExpiration(today.AddDays(100))})
	body["expirationDateTime"] = consent.ExpirationOn(today.AddDays(-1)).String()
	refused(variable, sdk, "expirationDateTime", consent.ErrOutOfRange, body, "DETALHE_EDICAO_INVALIDO")

	// A maximum on a fixed-amount consent.
	sdk = func() error {
		_, err := consent.NewEdit(fixed, consent.EditChange{MaximumVariableAmount: consent.SetMaximum(consent.MustAmount("500.00"))}, payer(), signals(), now)
		return err
	}
	body = valid(fixed, consent.EditChange{Expiration: consent.SetExpiration(today.AddDays(100))})
	body["recurringConfiguration"] = map[string]any{"automatic": map[string]any{"maximumVariableAmount": "500.00"}}
	refused(fixed, sdk, "recurringConfiguration.automatic.maximumVariableAmount", consent.ErrNotAllowed, body, "DETALHE_EDICAO_INVALIDO")

	raise := consent.EditChange{MaximumVariableAmount: consent.SetMaximum(consent.MustAmount("500.00"))}
	// Without loggedUser.
	sdk = func() error {
		_, err := consent.NewEdit(variable, raise, consent.LoggedUser{}, signals(), now)
		return err
	}
	body = valid(variable, raise)
	delete(body, "loggedUser")
	refused(variable, sdk, "loggedUser.document.identification", consent.ErrRequired, body, "PARAMETRO_NAO_INFORMADO")

	// Without riskSignals.
	sdk = func() error { _, err := consent.NewEdit(variable, raise, payer(), nil, now); return err }
	body = valid(variable, raise)
	delete(body, "riskSignals")
	refused(variable, sdk, "riskSignals", consent.ErrRequired, body, "PARAMETRO_NAO_INFORMADO")

	// Nothing was applied.
	for _, c := range []*consent.Consent{variable, fixed} {
		got, err := s.Consents.Get(bg, c.RecurringConsentID)
		require.NoError(t, err)
		assert.Nil(t, got.UpdatedAtDateTime)
		assert.Equal(t, c.ExpirationDateTime, got.ExpirationDateTime)
		assert.Equal(t, c.Automatic().MaximumVariableAmount, got.Automatic().MaximumVariableAmount)
	}
}
