// Package sandboxtest wires the SDK to a sandbox bank for tests: the bank,
// the ITP's FAPI client and the consent and payments clients, plus the
// payer's side of an authorization.
package sandboxtest

import (
	"context"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/stretchr/testify/require"
)

// Fixed identities of the tests.
const (
	ITPISPB      = "12345678"       // the ITP's ISPB (E2EIDs)
	CreditorCNPJ = "11222333000181" // the receiver
	CreditorName = "Academia Forma Ltda"
)

// CreditorAccount is the receiver's account.
var CreditorAccount = consent.Account{ISPB: "87654321", Issuer: "0001", Number: "1234567890", AccountType: consent.AccountCACC}

// Env is a bank and the clients of its ITP.
type Env struct {
	Bank     *sandbox.Bank
	Clock    *sandbox.ManualClock
	FAPI     *fapi.Client
	Consents *consent.Client
	Payments *payments.Client
	Tokens   *fapi.MemoryRefreshTokenStore
	// ITPCNPJ is the ITP's CNPJ (cnpjInitiator), from its certificate.
	ITPCNPJ string
}

// Options tune New.
type Options struct {
	// Start is the bank's time; zero means Monday 2026-11-23 10:00 Brasília.
	Start time.Time
	// Bank is the bank's configuration; its Clock is replaced.
	Bank sandbox.Config
	// Version forces the payments wire version; empty learns it.
	Version payments.Version
}

// DefaultStart is a Monday morning in Brasília.
var DefaultStart = time.Date(2026, 11, 23, 10, 0, 0, 0, consent.Brasilia)

// New starts a bank and returns the ITP's clients.
func New(t testing.TB, o Options) *Env {
	t.Helper()
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	clock := sandbox.NewClock(o.Start)
	o.Bank.Clock = clock
	bank := sandbox.NewTest(t, o.Bank)
	fc := FAPIClient(t, bank, bank.ITP)
	base := bank.MTLSURL + sandbox.AutomaticPaymentsBase
	cc, err := consent.NewClient(consent.ClientConfig{FAPI: fc, BaseURL: base, Clock: clock})
	require.NoError(t, err)
	pc, err := payments.NewClient(payments.ClientConfig{
		FAPI: fc, BaseURL: base, Clock: clock, Version: o.Version,
		Validator: &payments.Validator{ISPB: ITPISPB, CNPJInitiator: bank.ITP.CNPJ},
	})
	require.NoError(t, err)
	return &Env{Bank: bank, Clock: clock, FAPI: fc, Consents: cc, Payments: pc, Tokens: &fapi.MemoryRefreshTokenStore{}, ITPCNPJ: bank.ITP.CNPJ}
}

// FAPIClient returns a FAPI client of itp at bank, on the bank's clock.
func FAPIClient(t testing.TB, bank *sandbox.Bank, itp *sandbox.ITP) *fapi.Client {
	t.Helper()
	c, err := fapi.New(bank.FAPIConfig(itp))
	require.NoError(t, err)
	return c
}

// Today is the bank's Brasília date.
func (e *Env) Today() consent.Date { return consent.Today(e.Clock.Now()) }

// ConsentRequest returns a valid monthly variable consent starting in three
// days; mods adjust it.
func (e *Env) ConsentRequest(mods ...func(*consent.CreateRequest)) *consent.CreateRequest {
	r := consent.NewCreateRequest(
		consent.NewLoggedUser(sandbox.DefaultPayerCPF),
		consent.NewCreditor(CreditorCNPJ, CreditorName),
		consent.NewAutomatic("CTR2026001", consent.IntervalMensal, e.Today().AddDays(3),
			consent.ContractDebtor{Name: "Ana Souza", Document: consent.DocumentFor(sandbox.DefaultPayerCPF)},
			consent.Variable(consent.MustAmount("300.00"), 0),
			consent.WithRetries()),
		consent.WithExpiration(e.Today().AddDays(400)),
	)
	for _, m := range mods {
		m(r)
	}
	return r
}

// Authorised creates a consent, has the payer approve it and returns it
// with the consent's token source (its refresh token kept in e.Tokens).
func (e *Env) Authorised(t testing.TB, req *consent.CreateRequest) (*consent.Consent, fapi.TokenSource) {
	t.Helper()
	ctx := context.Background()
	c, err := e.Consents.Create(ctx, req, fapi.NewIdempotencyKey(nil))
	require.NoError(t, err)
	require.Equal(t, consent.StatusAwaitingAuthorisation, c.Status)
	a, err := e.FAPI.PushAuthorization(ctx, fapi.RecurringConsentScopes(c.RecurringConsentID), nil)
	require.NoError(t, err)
	redirect, err := e.Bank.Authorize(ctx, a.URL)
	require.NoError(t, err)
	cb, err := fapi.ParseCallback(redirect)
	require.NoError(t, err)
	g, err := e.FAPI.CompleteAuthorization(ctx, a, cb)
	require.NoError(t, err)
	require.NoError(t, fapi.SaveGrant(ctx, e.Tokens, c.RecurringConsentID, g))
	c, err = e.Consents.Get(ctx, c.RecurringConsentID)
	require.NoError(t, err)
	require.Equal(t, consent.StatusAuthorised, c.Status)
	return c, e.FAPI.ConsentTokenSource(c.RecurringConsentID, e.Tokens, g.Token)
}

// Advance moves the bank's clock and runs everything due.
func (e *Env) Advance(t testing.TB, d time.Duration) {
	t.Helper()
	_, err := e.Bank.Advance(d)
	require.NoError(t, err)
}

// AdvanceTo moves the bank's clock to tm (Brasília or any zone).
func (e *Env) AdvanceTo(t testing.TB, tm time.Time) {
	t.Helper()
	_, err := e.Bank.AdvanceTo(tm)
	require.NoError(t, err)
}

// At returns hour:minute Brasília on d.
func At(d consent.Date, hour, minute int) time.Time {
	return d.In(consent.Brasilia).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
}
