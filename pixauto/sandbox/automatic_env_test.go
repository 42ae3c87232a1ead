package sandbox_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// The automatic-payments tests drive the bank with the SDK's own FAPI
// client (fapi), each on its own bank whose ManualClock starts at start.

// start is Monday 2 March 2026, 10:00 in Brasília.
var start = time.Date(2026, time.March, 2, 10, 0, 0, 0, consent.Brasilia)

// Test data.
const (
	creditorCNPJ = "58764789000137"
	otherCNPJ    = "11222333000181"
	payerCPF     = sandbox.DefaultPayerCPF
	otherCPF     = "11144477735"
)

var creditorAccount = map[string]any{"ispb": "12345678", "issuer": "0001", "number": "1234567890", "accountType": "CACC"}

type env struct {
	t       *testing.T
	b       *sandbox.Bank
	c       *fapi.Client
	cc      fapi.TokenSource
	store   *fapi.MemoryRefreshTokenStore
	version string
	gen     *payments.Generator

	rec *recorder

	mu     sync.Mutex
	decide func(sandbox.AuthorizationRequest) sandbox.AuthorizationDecision
}

// recorder keeps the last resource response a client received.
type recorder struct {
	next http.RoundTripper

	mu          sync.Mutex
	status      int
	contentType string
	body        []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil || !strings.Contains(req.URL.Path, sandbox.AutomaticPaymentsBase) {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status, r.contentType, r.body = resp.StatusCode, resp.Header.Get("Content-Type"), body
	return resp, nil
}

// last returns the last response's status and JSON document: the payload
// of a signed body (not verified here; fapi verified it), the body of a
// plain one.
func (r *recorder) last(t *testing.T) (int, []byte) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !strings.HasPrefix(r.contentType, "application/jwt") {
		return r.status, r.body
	}
	parts := strings.Split(string(r.body), ".")
	if len(parts) != 3 {
		t.Fatalf("signed body is not a compact JWS: %s", r.body)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return r.status, payload
}

func newEnv(t *testing.T, cfg sandbox.Config) *env {
	t.Helper()
	e := &env{t: t, store: &fapi.MemoryRefreshTokenStore{}, gen: &payments.Generator{ISPB: "87654321", Remember: 1024}}
	if cfg.Clock == nil {
		cfg.Clock = sandbox.NewClock(start)
	}
	cfg.OnAuthorize = func(_ context.Context, req sandbox.AuthorizationRequest) sandbox.AuthorizationDecision {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.decide != nil {
			return e.decide(req)
		}
		return sandbox.AuthorizationDecision{}
	}
	e.b = sandbox.NewTest(t, cfg)
	e.version = e.b.APIVersion
	e.c = e.client(e.b.ITP, 0)
	e.cc = e.c.ClientCredentialsSource(fapi.ScopeRecurringPayments)
	return e
}

// client returns a fapi client of itp, with a timeout (0 → 30 s).
func (e *env) client(itp *sandbox.ITP, timeout time.Duration) *fapi.Client {
	e.t.Helper()
	hc, err := fapi.NewMTLSClient(itp.Certificate, e.b.RootCAs, timeout)
	if err != nil {
		e.t.Fatal(err)
	}
	rec := &recorder{next: hc.Transport}
	hc.Transport = rec
	if e.rec == nil {
		e.rec = rec
	}
	cfg := e.b.FAPIConfig(itp)
	cfg.HTTPClient, cfg.Timeout = hc, timeout
	// These tests look at the bank's raw answers: no resends, no breaker.
	cfg.Resend = fapi.ResendPolicy{MaxAttempts: 1}
	cfg.Breaker = fapi.BreakerPolicy{Failures: -1}
	c, err := fapi.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) setDecision(f func(sandbox.AuthorizationRequest) sandbox.AuthorizationDecision) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.decide = f
}

// scheduled creates an authorised consent and a recurrence for its first
// cycle due on that cycle's start (created at 09:00 three days before, or
// now if that is later), and runs the clock until it is SCHD.
func (e *env) scheduled(data obj, amount string) (consentID string, ts fapi.TokenSource, p wirePayment) {
	e.t.Helper()
	consentID, ts = e.authorised(data)
	cycle := consent.MustDate(auto(data)["referenceStartDate"].(string))
	if t := at(cycle.AddDays(-3), 9, 0); t.After(e.b.Clock.Now()) {
		e.advanceTo(t)
	}
	p = e.pay(ts, e.recurrenceData(cycle, cycle, amount))
	e.advance(time.Second)
	if s := e.status(p.ID); s != "SCHD" {
		e.t.Fatalf("recurrence is %s, want SCHD", s)
	}
	return consentID, ts, p
}

func (e *env) url(path string) string { return e.b.MTLSURL + sandbox.AutomaticPaymentsBase + path }

func (e *env) today() consent.Date { return consent.Today(e.b.Clock.Now()) }

// do makes one call with client c; writes get a fresh idempotency key.
func (e *env) do(c *fapi.Client, method, path string, data any, ts fapi.TokenSource) (*fapi.Response, error) {
	call := fapi.Call{Method: method, URL: e.url(path), Data: data, Token: ts}
	if method != http.MethodGet {
		call.IdempotencyKey = uuid.NewString()
	}
	return c.Do(context.Background(), call)
}

func (e *env) call(method, path string, data any, ts fapi.TokenSource) (*fapi.Response, error) {
	return e.do(e.c, method, path, data, ts)
}

// must returns a check that fails the test unless a call succeeded with
// status: e.must(http.StatusOK)(e.call(…)).
func (e *env) must(status int) func(*fapi.Response, error) *fapi.Response {
	return func(resp *fapi.Response, err error) *fapi.Response {
		e.t.Helper()
		if err != nil {
			e.t.Fatalf("want %d, got %v", status, err)
		}
		if resp.StatusCode != status {
			e.t.Fatalf("want %d, got %d", status, resp.StatusCode)
		}
		if resp.Version != e.version {
			e.t.Fatalf("x-v %q, want %q", resp.Version, e.version)
		}
		return resp
	}
}

// apiError returns the *fapi.APIError of err, failing the test otherwise.
func apiError(t *testing.T, err error, status int) *fapi.APIError {
	t.Helper()
	var ae *fapi.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an HTTP %d API error, got %v", status, err)
	}
	if ae.StatusCode != status {
		t.Fatalf("want HTTP %d, got %v", status, ae)
	}
	return ae
}

// want422 checks that err is a signed 422 whose first error has code.
func want422(t *testing.T, err error, code string) {
	t.Helper()
	ae := apiError(t, err, http.StatusUnprocessableEntity)
	if !ae.Signed || len(ae.Errors) == 0 || ae.Errors[0].Code != code {
		t.Fatalf("want 422 %s, got %v", code, ae)
	}
}

func decode[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return v
}

// obj is a loosely typed JSON object, for bodies tests mutate.
type obj = map[string]any

// consentData is a valid monthly Pix Automático consent: variable amount
// up to 500.00, references starting in 10 days, a first payment today.
func (e *env) consentData() obj {
	today := e.today()
	return obj{
		"loggedUser": obj{"document": obj{"identification": payerCPF, "rel": "CPF"}},
		"creditors":  []any{obj{"personType": "PESSOA_JURIDICA", "cpfCnpj": creditorCNPJ, "name": "Escola Exemplo Ltda"}},
		"recurringConfiguration": obj{"automatic": obj{
			"contractId":            "CONTRATO123",
			"interval":              "MENSAL",
			"referenceStartDate":    today.AddDays(10).String(),
			"isRetryAccepted":       true,
			"maximumVariableAmount": "500.00",
			"minimumVariableAmount": "50.00",
			"contractDebtor":        obj{"name": "Aluno Exemplo", "document": obj{"identification": otherCPF, "rel": "CPF"}},
			"firstPayment": obj{
				"type": "PIX", "date": today.String(), "currency": "BRL", "amount": "120.00",
				"creditorAccount": creditorAccount,
			},
		}},
	}
}

// auto returns the automatic object of a consent body.
func auto(data obj) obj { return data["recurringConfiguration"].(obj)["automatic"].(obj) }

// createConsent posts data and returns the new consent's id.
func (e *env) createConsent(data obj) string {
	e.t.Helper()
	resp := e.must(http.StatusCreated)(e.call(http.MethodPost, "/recurring-consents", data, e.cc))
	c := decode[consent.Consent](e.t, resp.Message.Data)
	if c.Status != consent.StatusAwaitingAuthorisation {
		e.t.Fatalf("new consent is %s", c.Status)
	}
	return c.RecurringConsentID
}

// authorize runs PAR, the payer's visit and the code exchange for a
// consent, and returns the consent's token source and the redirect.
func (e *env) authorize(consentID string) (fapi.TokenSource, *fapi.Callback) {
	e.t.Helper()
	ctx := context.Background()
	a, err := e.c.PushAuthorization(ctx, fapi.RecurringConsentScopes(consentID), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	loc, err := e.b.Authorize(ctx, a.URL)
	if err != nil {
		e.t.Fatal(err)
	}
	cb, err := fapi.ParseCallback(loc)
	if err != nil {
		e.t.Fatal(err)
	}
	if cb.Error != "" {
		return nil, cb
	}
	g, err := e.c.CompleteAuthorization(ctx, a, cb)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := fapi.SaveGrant(ctx, e.store, consentID, g); err != nil {
		e.t.Fatal(err)
	}
	return e.c.ConsentTokenSource(consentID, e.store, g.Token), cb
}

// authorised creates and authorises a consent.
func (e *env) authorised(data obj) (string, fapi.TokenSource) {
	e.t.Helper()
	id := e.createConsent(data)
	ts, cb := e.authorize(id)
	if ts == nil {
		e.t.Fatalf("authorization denied: %s %s", cb.Error, cb.ErrorDescription)
	}
	return id, ts
}

// e2e returns a new endToEndId for a payment scheduled on d.
func (e *env) e2e(d consent.Date) string {
	e.t.Helper()
	id, err := e.gen.Scheduled(d)
	if err != nil {
		e.t.Fatal(err)
	}
	return id.String()
}

// reference returns the paymentReference of the cycle starting on start,
// in the bank's version's form.
func (e *env) reference(interval consent.Interval, start consent.Date) string {
	e.t.Helper()
	ref, err := payments.CycleReference(interval, payments.Cycle{Start: start}).Format(payments.Version(e.version))
	if err != nil {
		e.t.Fatal(err)
	}
	return ref
}

func (e *env) recurrenceInstrument() string {
	if e.version == "2.2.0" {
		return "AUTO"
	}
	return "MANU"
}

// firstPaymentData is the first payment of consentData, immediate.
func (e *env) firstPaymentData() obj {
	now := e.b.Clock.Now()
	id, err := e.gen.Immediate(now)
	if err != nil {
		e.t.Fatal(err)
	}
	return obj{
		"endToEndId":       id.String(),
		"date":             e.today().String(),
		"payment":          obj{"amount": "120.00", "currency": "BRL"},
		"creditorAccount":  creditorAccount,
		"cnpjInitiator":    e.b.ITP.CNPJ,
		"localInstrument":  "MANU",
		"document":         obj{"identification": creditorCNPJ, "rel": "CNPJ"},
		"paymentReference": "zero",
	}
}

// recurrenceData is a recurrence of a monthly consent for the cycle
// starting on cycle, due on date.
func (e *env) recurrenceData(cycle, date consent.Date, amount string) obj {
	return e.recurrenceDataFor(consent.IntervalMensal, cycle, date, amount)
}

// recurrenceDataFor is recurrenceData for a consent of another interval.
func (e *env) recurrenceDataFor(interval consent.Interval, cycle, date consent.Date, amount string) obj {
	return obj{
		"endToEndId":       e.e2e(date),
		"date":             date.String(),
		"payment":          obj{"amount": amount, "currency": "BRL"},
		"creditorAccount":  creditorAccount,
		"cnpjInitiator":    e.b.ITP.CNPJ,
		"localInstrument":  e.recurrenceInstrument(),
		"document":         obj{"identification": creditorCNPJ, "rel": "CNPJ"},
		"paymentReference": e.reference(interval, cycle),
	}
}

// wirePayment is a payment response's data, as tests read it.
type wirePayment struct {
	ID              string `json:"recurringPaymentId"`
	ConsentID       string `json:"recurringConsentId"`
	EndToEndID      string `json:"endToEndId"`
	Date            string `json:"date"`
	Status          string `json:"status"`
	RejectionReason *struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
	} `json:"rejectionReason"`
	Cancellation *struct {
		Reason        string `json:"reason"`
		CancelledFrom string `json:"cancelledFrom"`
		CancelledBy   struct {
			Document consent.Document `json:"document"`
		} `json:"cancelledBy"`
	} `json:"cancellation"`
	OriginalID      string `json:"originalRecurringPaymentId"`
	LocalInstrument string `json:"localInstrument"`
	Reference       string `json:"paymentReference"`
}

// pay creates a payment and returns its response data.
func (e *env) pay(ts fapi.TokenSource, data obj) wirePayment {
	e.t.Helper()
	resp := e.must(http.StatusCreated)(e.call(http.MethodPost, "/pix/recurring-payments", data, ts))
	return decode[wirePayment](e.t, resp.Message.Data)
}

// payment reads a payment with a client_credentials token.
func (e *env) payment(id string) wirePayment {
	e.t.Helper()
	resp := e.must(http.StatusOK)(e.call(http.MethodGet, "/pix/recurring-payments/"+id, nil, e.cc))
	return decode[wirePayment](e.t, resp.Message.Data)
}

func (e *env) status(id string) string { return e.payment(id).Status }

// consent reads a consent.
func (e *env) consent(id string) consent.Consent {
	e.t.Helper()
	resp := e.must(http.StatusOK)(e.call(http.MethodGet, "/recurring-consents/"+id, nil, e.cc))
	return decode[consent.Consent](e.t, resp.Message.Data)
}

// advanceTo moves the clock to t (Brasília wall time in the tests).
func (e *env) advanceTo(t time.Time) {
	e.t.Helper()
	if _, err := e.b.AdvanceTo(t); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) advance(d time.Duration) {
	e.t.Helper()
	if _, err := e.b.Advance(d); err != nil {
		e.t.Fatal(err)
	}
}

// at returns hour:minute of date in Brasília.
func at(d consent.Date, hour, minute int) time.Time {
	return time.Date(d.Year, d.Month, d.Day, hour, minute, 0, 0, consent.Brasilia)
}

func (m wirePayment) String() string {
	return fmt.Sprintf("%s %s %s", m.ID, m.Status, strings.TrimSpace(fmt.Sprint(m.RejectionReason)))
}
