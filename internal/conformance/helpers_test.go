package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
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

var bg = context.Background()

// Paths of the automatic-payments API, relative to its base.
const (
	pathConsents = "/recurring-consents"
	pathPayments = "/pix/recurring-payments"
)

// otherCPF is a syntactically valid CPF that is not the consent's payer.
const otherCPF = "11144477735"

// foreignAccount is an account the receiver does not own (SPI answers
// TITULARIDADE_INCONSISTENTE when money is sent to it in the receiver's
// name).
var foreignAccount = consent.Account{ISPB: "11111111", Issuer: "0002", Number: "99887766", AccountType: consent.AccountCACC}

// scenario is one ITP with an authorised consent at a sandbox bank.
type scenario struct {
	*sandboxtest.Env
	t     *testing.T
	c     *consent.Consent
	token fapi.TokenSource // the consent's token (POST /pix/recurring-payments)
	gen   *payments.Generator
	sent  map[string]*payments.Request // by payment id
}

// newEnv starts a bank and the ITP's clients, with no consent yet.
func newEnv(t *testing.T, o sandboxtest.Options) *scenario {
	t.Helper()
	e := sandboxtest.New(t, o)
	return &scenario{Env: e, t: t, gen: &payments.Generator{ISPB: sandboxtest.ITPISPB}, sent: map[string]*payments.Request{}}
}

// newScenario starts a bank and authorises e.ConsentRequest(mods...).
func newScenario(t *testing.T, o sandboxtest.Options, mods ...func(*consent.CreateRequest)) *scenario {
	t.Helper()
	s := newEnv(t, o)
	s.authorise(mods...)
	return s
}

// authorise creates and authorises a consent, which becomes the scenario's.
func (s *scenario) authorise(mods ...func(*consent.CreateRequest)) *consent.Consent {
	s.t.Helper()
	s.c, s.token = s.Authorised(s.t, s.ConsentRequest(mods...))
	return s.c
}

// authoriseConsent has the payer approve a consent created by the test,
// which becomes the scenario's.
func (s *scenario) authoriseConsent(c *consent.Consent) {
	s.t.Helper()
	a, err := s.FAPI.PushAuthorization(bg, fapi.RecurringConsentScopes(c.RecurringConsentID), nil)
	require.NoError(s.t, err)
	redirect, err := s.Bank.Authorize(bg, a.URL)
	require.NoError(s.t, err)
	cb, err := fapi.ParseCallback(redirect)
	require.NoError(s.t, err)
	g, err := s.FAPI.CompleteAuthorization(bg, a, cb)
	require.NoError(s.t, err)
	require.NoError(s.t, fapi.SaveGrant(bg, s.Tokens, c.RecurringConsentID, g))
	s.token = s.FAPI.ConsentTokenSource(c.RecurringConsentID, s.Tokens, g.Token)
	s.c = c
	s.refresh()
	require.Equal(s.t, consent.StatusAuthorised, s.c.Status)
}

// cc is the ITP's client_credentials token (consents, reads, PATCH, retry).
func (s *scenario) cc() fapi.TokenSource {
	return s.FAPI.ClientCredentialsSource(fapi.ScopeRecurringPayments)
}

func (s *scenario) planner() *payments.Planner {
	v := s.Payments.Version()
	if v == "" {
		v = payments.DefaultVersion
	}
	return &payments.Planner{Version: v, Generator: s.gen, CNPJInitiator: s.ITPCNPJ}
}

func (s *scenario) existing() []payments.Payment {
	s.t.Helper()
	ps, err := s.Payments.List(bg, payments.ListFilter{ConsentID: s.c.RecurringConsentID})
	require.NoError(s.t, err)
	return ps
}

// refresh re-reads the scenario's consent.
func (s *scenario) refresh() *consent.Consent {
	s.t.Helper()
	c, err := s.Consents.Get(bg, s.c.RecurringConsentID)
	require.NoError(s.t, err)
	s.c = c
	return c
}

// cycle returns cycle n of the scenario's consent.
func (s *scenario) cycle(n int) payments.Cycle {
	s.t.Helper()
	b, err := payments.BillingOf(s.c)
	require.NoError(s.t, err)
	cy, err := b.Cycle(n)
	require.NoError(s.t, err)
	return cy
}

// plan asks the SDK's planner for a recurrence of cycle n due on due.
func (s *scenario) plan(n int, due consent.Date, amount string, account consent.Account) (*payments.Request, error) {
	return s.planner().Recurrence(s.c, payments.Charge{Cycle: n, Due: due, Amount: consent.MustAmount(amount), CreditorAccount: account}, s.Clock.Now(), s.existing())
}

// create sends a request through the SDK's client.
func (s *scenario) create(req *payments.Request) (*payments.Payment, error) {
	p, err := s.Payments.Create(bg, payments.CreateParams{Consent: s.c, Existing: s.existing(), Request: req, Token: s.token, IdempotencyKey: fapi.NewIdempotencyKey(nil)})
	if err == nil {
		s.sent[p.ID] = req
	}
	return p, err
}

// charge plans and creates a recurrence of cycle n due on due.
func (s *scenario) charge(n int, due consent.Date, amount string) *payments.Payment {
	s.t.Helper()
	req, err := s.plan(n, due, amount, sandboxtest.CreditorAccount)
	require.NoError(s.t, err)
	p, err := s.create(req)
	require.NoError(s.t, err)
	return p
}

// firstPayment plans and creates the consent's first payment.
func (s *scenario) firstPayment() *payments.Payment {
	s.t.Helper()
	req, err := s.planner().FirstPayment(s.c, s.Clock.Now(), s.existing())
	require.NoError(s.t, err)
	p, err := s.create(req)
	require.NoError(s.t, err)
	return p
}

func (s *scenario) get(id string) *payments.Payment {
	s.t.Helper()
	p, err := s.Payments.Get(bg, id)
	require.NoError(s.t, err)
	return p
}

// awaitFinal polls a payment through the SDK, moving the clock by step
// between reads, until its status is final or the clock passes deadline.
// It returns the payment and the number of reads.
func (s *scenario) awaitFinal(id string, step time.Duration, deadline time.Time) (*payments.Payment, int) {
	s.t.Helper()
	for reads := 1; ; reads++ {
		p := s.get(id)
		if p.Status.Final() {
			return p, reads
		}
		require.True(s.t, s.Clock.Now().Before(deadline), "payment %s still %s at %s", id, p.Status, s.Clock.Now())
		s.Advance(s.t, step)
	}
}

// awaitStatus polls a payment, moving the clock by step, until it reaches
// want (failing on any other final status or after deadline).
func (s *scenario) awaitStatus(id string, want payments.Status, step time.Duration, deadline time.Time) *payments.Payment {
	s.t.Helper()
	for {
		p := s.get(id)
		if p.Status == want {
			return p
		}
		require.False(s.t, p.Status.Final(), "payment %s reached %s (%v) waiting for %s", id, p.Status, p.RejectionReason, want)
		require.True(s.t, s.Clock.Now().Before(deadline), "payment %s still %s at %s", id, p.Status, s.Clock.Now())
		s.Advance(s.t, step)
	}
}

// chain reads the retry chain of an original payment.
func (s *scenario) chain(originalID string) payments.Chain {
	s.t.Helper()
	ps, err := s.Payments.List(bg, payments.ListFilter{ConsentID: s.c.RecurringConsentID, OriginalID: originalID})
	require.NoError(s.t, err)
	ch, err := payments.ChainFromPayments(originalID, ps)
	require.NoError(s.t, err)
	return ch
}

// decide runs the SDK's retry decision on a recurrence.
func (s *scenario) decide(originalID string, policy payments.RetryPolicy) (payments.Chain, payments.Decision) {
	s.t.Helper()
	ch := s.chain(originalID)
	return ch, payments.Decide(ch, s.c, s.Clock.Now(), policy)
}

// retry sends a retry through the SDK's client.
func (s *scenario) retry(ch payments.Chain, rt *payments.Retry) (*payments.Payment, error) {
	return s.Payments.Retry(bg, payments.RetryParams{Consent: s.c, Chain: ch, Retry: rt, ConsentToken: s.token, IdempotencyKey: fapi.NewIdempotencyKey(nil)})
}

// scheduledE2EID returns a new E2EID of a payment due on d.
func (s *scenario) scheduledE2EID(d consent.Date) string {
	s.t.Helper()
	e, err := s.gen.Scheduled(d)
	require.NoError(s.t, err)
	return e.String()
}

// ----- past the SDK's checks -----

// send calls the automatic-payments API directly (path relative to its
// base), bypassing the SDK's client-side checks.
func (s *scenario) send(method, path string, data any, token fapi.TokenSource) (*fapi.Response, error) {
	call := fapi.Call{Method: method, URL: s.Bank.MTLSURL + sandbox.AutomaticPaymentsBase + path, Data: data, Token: token}
	if method != http.MethodGet {
		call.IdempotencyKey = fapi.NewIdempotencyKey(nil)
	}
	return s.FAPI.Do(bg, call)
}

// sendCall sends a payments.Call produced by the SDK's wire encoders.
func (s *scenario) sendCall(call payments.Call, body any, token fapi.TokenSource) (*fapi.Response, error) {
	if body == nil {
		body = call.Body
	}
	return s.send(call.Method, call.Path, body, token)
}

// want422 asserts that err is the bank's signed 422 carrying code.
func want422(t *testing.T, err error, code string) *fapi.APIError {
	t.Helper()
	var ae *fapi.APIError
	require.ErrorAs(t, err, &ae, "want a 422 %s", code)
	assert.Equal(t, http.StatusUnprocessableEntity, ae.StatusCode, "%v", ae)
	assert.True(t, ae.Signed, "a 422 is a signed message")
	assert.True(t, ae.HasCode(code), "want %s, got %v", code, ae)
	return ae
}

// asMap turns a JSON-encodable value into a generic object to tamper with.
func asMap(t *testing.T, v any) map[string]any {
	t.Helper()
	b, ok := v.(json.RawMessage)
	if !ok {
		var err error
		b, err = json.Marshal(v)
		require.NoError(t, err)
	}
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// mark returns the position in the bank's request log, for noCall.
func (s *scenario) mark() int { return len(s.Bank.Requests()) }

// noCall asserts that the bank served no method request on a path ending
// in suffix since mark.
func (s *scenario) noCall(since int, method, suffix string) {
	s.t.Helper()
	for _, r := range s.Bank.Requests()[since:] {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			s.t.Errorf("the bank saw %s %s; the SDK should have refused before sending", r.Method, r.Path)
		}
	}
}

// ----- consent helpers -----

func withFirstPayment(d consent.Date, amount string, account consent.Account) func(*consent.CreateRequest) {
	return func(r *consent.CreateRequest) {
		consent.WithFirstPayment(d, consent.MustAmount(amount), account, "adesao")(r.RecurringConfiguration.Automatic)
	}
}

func withReferenceStart(d consent.Date) func(*consent.CreateRequest) {
	return func(r *consent.CreateRequest) { r.RecurringConfiguration.Automatic.ReferenceStartDate = d }
}

func withInterval(i consent.Interval) func(*consent.CreateRequest) {
	return func(r *consent.CreateRequest) { r.RecurringConfiguration.Automatic.Interval = i }
}

func withAmounts(a consent.Amounts) func(*consent.CreateRequest) {
	return func(r *consent.CreateRequest) {
		old := r.RecurringConfiguration.Automatic
		n := consent.NewAutomatic(old.ContractID, old.Interval, old.ReferenceStartDate, old.ContractDebtor, a)
		n.IsRetryAccepted, n.FirstPayment = old.IsRetryAccepted, old.FirstPayment
		r.RecurringConfiguration.Automatic = n
	}
}

func withoutRetries(r *consent.CreateRequest) {
	r.RecurringConfiguration.Automatic.IsRetryAccepted = false
}

// signals are the payer's device signals of a consent edition.
func signals() *consent.RiskSignals {
	return &consent.RiskSignals{DeviceID: "dev-1", OsVersion: "17.4", UserTimeZoneOffset: "-03", Language: "pt-BR",
		ScreenDimensions: consent.ScreenDimensions{Height: 844, Width: 390}, AccountTenure: consent.NewDate(2020, 1, 15)}
}

func payer() consent.LoggedUser { return consent.NewLoggedUser(sandbox.DefaultPayerCPF) }

// receiver is the creditor's document (cancellations by the receiver).
func receiver() consent.Document { return consent.DocumentFor(sandboxtest.CreditorCNPJ) }

// isValidation asserts that err is a payments.ValidationErrors wrapping
// sentinel.
func isPaymentsValidation(t *testing.T, err error, sentinel error) {
	t.Helper()
	var ve payments.ValidationErrors
	require.ErrorAs(t, err, &ve, "want a client-side refusal (%v)", sentinel)
	assert.True(t, errors.Is(err, sentinel), "want %v in %v", sentinel, err)
}

// isConsentValidation asserts that err is a consent.ValidationErrors with a
// failure of field wrapping sentinel.
func isConsentValidation(t *testing.T, err error, field string, sentinel error) {
	t.Helper()
	var ve consent.ValidationErrors
	require.ErrorAs(t, err, &ve, "want a client-side refusal of %s (%v)", field, sentinel)
	f := ve.Field(field)
	if assert.NotNil(t, f, "no failure about %s in %v", field, err) {
		assert.ErrorIs(t, f, sentinel)
	}
}
