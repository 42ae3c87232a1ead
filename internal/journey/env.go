package journey

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// Env is what a journey runs against: one bank, the ITP's clients of it,
// the parties of the consents, and whatever control of the bank's side the
// bank offers. An Env serves one journey at a time.
type Env struct {
	// FAPI is the ITP's security client of the bank.
	FAPI *fapi.Client
	// Consents and Payments are the automatic-payments clients on FAPI.
	Consents *consent.Client
	Payments *payments.Client
	// Tokens keeps the refresh token of every consent a journey
	// authorises.
	Tokens fapi.RefreshTokenStore
	// Clock is the time the journeys plan with: the bank's clock when the
	// journeys control it, else the system clock.
	Clock fapi.Clock
	// Parties are the ITP, the payer and the receiver of the consents.
	Parties Parties

	// Time moves the bank's clock; nil when the bank's time is real.
	Time TimeControl
	// Settlement scripts the outcomes of the bank's settlement attempts;
	// nil when the bank settles as it will.
	Settlement SettlementControl
	// Payer approves a consent at the bank as the payer; nil when nobody
	// can.
	Payer Payer

	// PollInterval and PollTimeout pace the reading of a payment until it
	// reaches a status, when the bank's time is real (Time nil). Zero
	// means 5 s and 3 minutes. With Time, the journeys move the bank's
	// clock a minute between reads instead, for at most an hour.
	PollInterval, PollTimeout time.Duration
	// Sleep waits between reads when the bank's time is real. Nil means a
	// timer that honours the context.
	Sleep func(ctx context.Context, d time.Duration) error

	gen     *payments.Generator
	baseURL string

	mu    sync.Mutex
	steps []StepResult // of the journey running
}

// Parties are who the journeys' consents and payments name.
type Parties struct {
	// ITPISPB is the ITP's ISPB, the start of every endToEndId it creates.
	ITPISPB string
	// ITPCNPJ is the ITP's CNPJ (cnpjInitiator), as in its transport
	// certificate.
	ITPCNPJ string
	// PayerCPF is the payer: the consents' loggedUser, who must be the one
	// authorising them at the bank. PayerName is the contract debtor's name.
	PayerCPF, PayerName string
	// CreditorCNPJ, CreditorName and CreditorAccount are the receiver.
	CreditorCNPJ, CreditorName string
	CreditorAccount            consent.Account
}

// Test identities of the receiver, used when a bank configuration names
// none.
const (
	DefaultCreditorCNPJ = "11222333000181"
	DefaultCreditorName = "Academia Forma Ltda"
	DefaultPayerName    = "Ana Souza"
	// SandboxITPISPB is the ISPB of the embedded bank's ITP.
	SandboxITPISPB = "12345678"
)

// DefaultCreditorAccount is the receiver's account when a bank
// configuration names none.
var DefaultCreditorAccount = consent.Account{ISPB: "87654321", Issuer: "0001", Number: "1234567890", AccountType: consent.AccountCACC}

// TimeControl moves the bank's clock and applies, in time order,
// everything due meanwhile. *sandbox.Bank implements it.
type TimeControl interface {
	Advance(d time.Duration) (time.Time, error)
	AdvanceTo(t time.Time) (time.Time, error)
}

// SettlementControl queues the outcomes of the next settlement attempts of
// a consent's payments. *sandbox.Bank implements it.
type SettlementControl interface {
	ScriptConsentSettlement(recurringConsentID string, outcomes ...sandbox.Outcome) error
}

// Payer plays the payer at the bank: given the authorization URL the ITP
// built, it returns the URL the bank redirected the payer's browser to
// (the ITP's redirect URI with the response in its fragment).
// *sandbox.Bank implements it.
type Payer interface {
	Authorize(ctx context.Context, authURL string) (redirect string, err error)
}

// PayerFunc adapts a function to Payer.
type PayerFunc func(ctx context.Context, authURL string) (string, error)

// Authorize calls f.
func (f PayerFunc) Authorize(ctx context.Context, authURL string) (string, error) {
	return f(ctx, authURL)
}

// Need is a control of the bank's side a journey cannot do without.
type Need uint

// Needs.
const (
	// NeedPayer: a payer authorises consents at the bank.
	NeedPayer Need = 1 << iota
	// NeedTime: the bank's clock can be moved (settlement days, retry
	// windows).
	NeedTime
	// NeedSettlement: the bank's settlement outcomes can be scripted.
	NeedSettlement
)

// Missing returns why e cannot run a journey that needs n, or "" if it
// can.
func (e *Env) Missing(n Need) string {
	switch {
	case n&NeedTime != 0 && e.Time == nil:
		return "needs to move the bank's clock (settlement days, retry windows), which this bank does not offer"
	case n&NeedSettlement != 0 && e.Settlement == nil:
		return "needs to script the bank's settlement failures, which this bank does not offer"
	case n&NeedPayer != 0 && e.Payer == nil:
		return "needs the payer to authorise a consent at the bank, which takes a browser (run with -interactive)"
	}
	return ""
}

// SandboxParties are the parties of the journeys against an embedded
// sandbox bank.
func SandboxParties(bank *sandbox.Bank) Parties {
	return Parties{
		ITPISPB: SandboxITPISPB, ITPCNPJ: bank.ITP.CNPJ,
		PayerCPF: bank.PayerCPF, PayerName: DefaultPayerName,
		CreditorCNPJ: DefaultCreditorCNPJ, CreditorName: DefaultCreditorName, CreditorAccount: DefaultCreditorAccount,
	}
}

// NewSandboxEnv returns the environment of the journeys against an embedded
// sandbox bank, as its registered ITP, with every control: the bank's
// clock (when it is a *sandbox.ManualClock), its settlement script, and its
// payer.
func NewSandboxEnv(bank *sandbox.Bank) (*Env, error) {
	cfg := bank.FAPIConfig(bank.ITP)
	hc, err := fapi.NewMTLSClient(bank.ITP.Certificate, bank.RootCAs, 0)
	if err != nil {
		return nil, err
	}
	cfg.HTTPClient = recordCalls(hc)
	e, err := NewEnv(cfg, bank.MTLSURL+sandbox.AutomaticPaymentsBase, SandboxParties(bank))
	if err != nil {
		return nil, err
	}
	if _, ok := bank.Clock.(*sandbox.ManualClock); ok {
		e.Time = bank
	}
	e.Settlement, e.Payer = bank, bank
	return e, nil
}

// NewEnv returns an environment without any control of the bank's side:
// cfg configures the ITP's FAPI client (its Clock, if set, is the journeys'
// clock; cfg.HTTPClient, if nil, is built from the certificate and roots),
// and baseURL is the bank's automatic-payments base on its mTLS host. The
// calls of every step are recorded with their x-fapi-interaction-id.
func NewEnv(cfg fapi.Config, baseURL string, parties Parties) (*Env, error) {
	if cfg.HTTPClient == nil {
		hc, err := fapi.NewMTLSClient(cfg.Certificate, cfg.RootCAs, cfg.Timeout)
		if err != nil {
			return nil, err
		}
		cfg.HTTPClient = hc
	}
	if _, ok := cfg.HTTPClient.Transport.(*recorder); !ok {
		cfg.HTTPClient = recordCalls(cfg.HTTPClient)
	}
	if cfg.Clock == nil {
		cfg.Clock = fapi.ClockFunc(time.Now)
	}
	fc, err := fapi.New(cfg)
	if err != nil {
		return nil, err
	}
	cc, err := consent.NewClient(consent.ClientConfig{FAPI: fc, BaseURL: baseURL, Clock: cfg.Clock})
	if err != nil {
		return nil, err
	}
	pc, err := payments.NewClient(payments.ClientConfig{
		FAPI: fc, BaseURL: baseURL, Clock: cfg.Clock,
		Validator: &payments.Validator{ISPB: parties.ITPISPB, CNPJInitiator: parties.ITPCNPJ},
	})
	if err != nil {
		return nil, err
	}
	return &Env{
		FAPI: fc, Consents: cc, Payments: pc, Tokens: &fapi.MemoryRefreshTokenStore{}, Clock: cfg.Clock,
		Parties: parties, gen: &payments.Generator{ISPB: parties.ITPISPB}, baseURL: baseURL,
	}, nil
}

// Now is the journeys' time.
func (e *Env) Now() time.Time { return e.Clock.Now() }

// Today is the journeys' Brasília date.
func (e *Env) Today() consent.Date { return consent.Today(e.Now()) }

// Generator issues the ITP's endToEndIds.
func (e *Env) Generator() *payments.Generator { return e.gen }

// at returns hour:minute in Brasília on d.
func at(d consent.Date, hour, minute int) time.Time {
	return d.In(consent.Brasilia).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
}

// advanceTo moves the bank's clock to t (Time must be set).
func (e *Env) advanceTo(t time.Time) error {
	if _, err := e.Time.AdvanceTo(t); err != nil {
		return fmt.Errorf("moving the bank's clock to %s: %w", t.In(consent.Brasilia).Format("2006-01-02 15:04"), err)
	}
	return nil
}

func (e *Env) pollInterval() time.Duration {
	if e.PollInterval > 0 {
		return e.PollInterval
	}
	return 5 * time.Second
}

func (e *Env) pollTimeout() time.Duration {
	if e.PollTimeout > 0 {
		return e.PollTimeout
	}
	return 3 * time.Minute
}

func (e *Env) sleep(ctx context.Context, d time.Duration) error {
	if e.Sleep != nil {
		return e.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
