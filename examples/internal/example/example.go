// Package example wires the runnable examples of this directory, so that
// each main.go reads as its story: an embedded sandbox bank, an Initiator
// on SQLite in a temporary directory, one manual clock for both, and a
// printer that tells what happens.
//
// Start wires, in order:
//
//   - the bank: sandbox.New on a sandbox.ManualClock set to StartTime.
//     Nothing at the bank moves on its own: payments settle, fail and are
//     retried only when the example moves the clock (RunUntil, or
//     Bank.AdvanceTo), which keeps every run the same and needs no sleeps;
//   - the ITP's security client: fapi.New(bank.FAPIConfig(bank.ITP)).
//     The sandbox registered an ITP at start-up and hands over what a real
//     one would hold. A real ITP fills fapi.Config itself: its BRCAC
//     transport certificate, its signing and encryption keys published in
//     the directory, the client id it got by DCR, the redirect URI it
//     registered, the bank's issuer and organisation id from the directory,
//     the directory keystore, and the ICP-Brasil roots;
//   - the store: the SQLite store (pixauto/store/sqlite) in a temporary
//     directory that Close removes. A real ITP keeps its file, or uses the
//     PostgreSQL store;
//   - the Initiator: pixauto.New with the ITP's CNPJ and ISPB, the bank as
//     its only Holder, a SecretKey sealing refresh tokens at rest (random
//     here, so nothing outlives the run; a real ITP loads a fixed key from
//     its secret manager), the bank's clock (a real ITP leaves Clock nil:
//     the system clock), and an OnEvent that prints every state change.
//
// Events are printed as "<time>  <subject> <STATUS>", with the
// receiver-safe reason of failures (pixauto.Event.Reason and ReasonText):
// the bank's rejection codes, such as an insufficient balance, are never
// shown as such. Charges are named "charge 1", "charge 2"… in the order the
// Initiator first reports them.
package example

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/ofb-go/pixauto/pixauto/store/sqlite"
)

// The parties of every example.
const (
	// HolderID is the Initiator's name for the sandbox bank.
	HolderID = "sandbox"
	// ITPISPB is the ITP's ISPB, the first part of every E2EID it creates.
	ITPISPB = "12345678"
	// ReceiverID is the receiver (recebedor) as the ITP knows it.
	ReceiverID = "academia-forma"
	// CreditorCNPJ and CreditorName are the receiver as the consent names it.
	CreditorCNPJ = "11222333000181"
	CreditorName = "Academia Forma Ltda"
	// PayerCPF is the payer: the one the sandbox logs in by default.
	PayerCPF = sandbox.DefaultPayerCPF
	// PayerName is the payer's name in the receiver's contract.
	PayerName = "Ana Souza"
)

// CreditorAccount is the receiver's account, where charges settle.
var CreditorAccount = consent.Account{ISPB: "87654321", Issuer: "0001", Number: "1234567890", AccountType: consent.AccountCACC}

// StartTime is when every example starts: Monday 23 November 2026, 09:00
// in Brasília.
var StartTime = time.Date(2026, 11, 23, 9, 0, 0, 0, consent.Brasilia)

// Env is a sandbox bank and an Initiator working with it.
type Env struct {
	// Bank is the embedded sandbox bank.
	Bank *sandbox.Bank
	// Clock is the time of the bank and of the Initiator.
	Clock *sandbox.ManualClock
	// Initiator runs the agreements.
	Initiator *pixauto.Initiator

	out   io.Writer
	dir   string
	store *sqlite.Store

	mu     sync.Mutex
	labels map[string]string // charge id → "charge 1"

	// secretKey, when set, is the Initiator's SecretKey instead of a
	// random one; onEvent, when set, returns its OnEvent instead of the
	// printer, once the store is open (StartServer).
	secretKey []byte
	onEvent   func(pixauto.Store) (func(pixauto.Event), error)
}

// Option adjusts the bank's configuration before Start starts it, for
// instance to register the ITP's webhook URIs (sandbox.ITPConfig). The
// clock and the processing delay are Start's.
type Option func(*sandbox.Config)

// Start starts the bank and the Initiator; out receives the story. Close
// the Env when done.
func Start(ctx context.Context, out io.Writer, opts ...Option) (*Env, error) {
	env := &Env{Clock: sandbox.NewClock(StartTime), out: out, labels: map[string]string{}}
	if err := env.start(ctx, opts); err != nil {
		env.Close()
		return nil, err
	}
	return env, nil
}

func (e *Env) start(ctx context.Context, opts []Option) error {
	// A payment spends a minute in RCVD and another in ACCP, as at a real
	// bank, so that the Initiator reads its progress instead of finding it
	// already done.
	var cfg sandbox.Config
	for _, o := range opts {
		o(&cfg)
	}
	cfg.Clock, cfg.ProcessingDelay = e.Clock, time.Minute
	var err error
	if e.Bank, err = sandbox.New(cfg); err != nil {
		return err
	}
	if e.dir, err = os.MkdirTemp("", "pixauto-example-"); err != nil {
		return err
	}
	if e.store, err = sqlite.Open(ctx, filepath.Join(e.dir, "pixauto.db")); err != nil {
		return err
	}
	fc, err := fapi.New(e.Bank.FAPIConfig(e.Bank.ITP))
	if err != nil {
		return err
	}
	key := e.secretKey
	if key == nil {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return err
		}
	}
	onEvent := e.event
	if e.onEvent != nil {
		if onEvent, err = e.onEvent(e.store); err != nil {
			return err
		}
	}
	e.Initiator, err = pixauto.New(pixauto.Config{
		CNPJ:      e.Bank.ITP.CNPJ, // the ITP's CNPJ, as in its certificate
		ISPB:      ITPISPB,
		Holders:   []pixauto.Holder{{ID: HolderID, FAPI: fc, BaseURL: e.Bank.MTLSURL + sandbox.AutomaticPaymentsBase}},
		Store:     e.store,
		SecretKey: key,
		Clock:     e.Clock,
		OnEvent:   onEvent,
	})
	return err
}

// Close stops the bank and removes the store.
func (e *Env) Close() {
	if e.store != nil {
		e.store.Close()
	}
	if e.Bank != nil {
		e.Bank.Close()
	}
	if e.dir != "" {
		os.RemoveAll(e.dir)
	}
}

// Today is the Brasília date on the clock.
func (e *Env) Today() consent.Date { return consent.Today(e.Clock.Now()) }

// At is hour:minute in Brasília on d.
func At(d consent.Date, hour, minute int) time.Time {
	return d.In(consent.Brasilia).Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
}

// Printf prints a line of the story, stamped with the clock's time in
// Brasília.
func (e *Env) Printf(format string, args ...any) {
	e.line(e.Clock.Now(), fmt.Sprintf(format, args...))
}

// Note prints an unstamped line: what the example is about to do.
func (e *Env) Note(format string, args ...any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	fmt.Fprintf(e.out, "%18s%s\n", "", fmt.Sprintf(format, args...))
}

func (e *Env) line(t time.Time, s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	fmt.Fprintf(e.out, "%s  %s\n", t.In(consent.Brasilia).Format("2006-01-02 15:04"), s)
}

// event is the Initiator's OnEvent: it prints the change with its
// receiver-safe reason.
func (e *Env) event(ev pixauto.Event) {
	subject, status := "consent", string(ev.ConsentStatus)
	if ev.ChargeID != "" {
		subject, status = e.Label(ev.ChargeID), string(ev.ChargeStatus)
	} else if ev.Type == pixauto.EventConsentUpdated {
		status += " (updated)"
	}
	s := fmt.Sprintf("%-9s %s", subject, status)
	if ev.Reason != "" {
		s += fmt.Sprintf(" — %s [%s]", ev.ReasonText, ev.Reason)
	}
	e.line(ev.Time, s)
}

// Label names a charge in the story: "charge 1" for the first the
// Initiator reported, and so on.
func (e *Env) Label(chargeID string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	l, ok := e.labels[chargeID]
	if !ok {
		l = fmt.Sprintf("charge %d", len(e.labels)+1)
		e.labels[chargeID] = l
	}
	return l
}

// RunUntil is the ITP's scheduler, fast-forwarded: it moves the clock to
// until in steps, and after each one lets the bank do what is due
// (settlement attempts at 00:00 and 18:00 of a payment's date) and runs
// Initiator.Sync, which submits the charges whose time has come, reads the
// payments due a check and retries failures. A real ITP runs Sync
// periodically (or the jobs package) and lets the bank's clock be real time.
func (e *Env) RunUntil(ctx context.Context, until time.Time, step time.Duration) error {
	for e.Clock.Now().Before(until) {
		next := e.Clock.Now().Add(step)
		if next.After(until) {
			next = until
		}
		if _, err := e.Bank.AdvanceTo(next); err != nil {
			return err
		}
		if _, err := e.Initiator.Sync(ctx); err != nil {
			return err
		}
	}
	return nil
}

// MonthlyConsent is the consent of most examples: the payer agrees to
// monthly charges of up to R$ 300,00 into the receiver's account from
// start (its referenceStartDate), for about a year, and accepts next-day
// retries.
func (e *Env) MonthlyConsent(start consent.Date) *consent.CreateRequest {
	return consent.NewCreateRequest(
		consent.NewLoggedUser(PayerCPF),
		consent.NewCreditor(CreditorCNPJ, CreditorName),
		consent.NewAutomatic("FORMA20260042", consent.IntervalMensal, start,
			consent.ContractDebtor{Name: PayerName, Document: consent.DocumentFor(PayerCPF)},
			consent.Variable(consent.MustAmount("300.00"), 0),
			consent.WithRetries()),
		consent.WithExpiration(e.Today().AddDays(400)),
	)
}

// Enrol runs the adhesion the journey examples show step by step:
// Initiator.Enrol, the payer's approval at the bank (Bank.Authorize plays
// the browser) and Initiator.Complete. The consent must come back
// AUTHORISED.
func (e *Env) Enrol(ctx context.Context, req *consent.CreateRequest) (*pixauto.ConsentRecord, error) {
	en, err := e.Initiator.Enrol(ctx, pixauto.EnrolRequest{ReceiverID: ReceiverID, HolderID: HolderID, Consent: req})
	if err != nil {
		return nil, fmt.Errorf("enrol: %w", err)
	}
	callback, err := e.Bank.Authorize(ctx, en.RedirectURL)
	if err != nil {
		return nil, fmt.Errorf("authorize: %w", err)
	}
	rec, err := e.Initiator.Complete(ctx, callback)
	if err != nil {
		return nil, fmt.Errorf("complete: %w", err)
	}
	if rec.Status != consent.StatusAuthorised {
		return nil, fmt.Errorf("consent %s is %s, want AUTHORISED", rec.ID, rec.Status)
	}
	return rec, nil
}

// ExpectCharge reads a charge and reports an error unless it is in status
// want: the examples stop, and exit non-zero, when the story goes wrong.
func (e *Env) ExpectCharge(ctx context.Context, chargeID string, want pixauto.ChargeStatus) (*pixauto.ChargeRecord, error) {
	ch, err := e.Initiator.GetCharge(ctx, chargeID)
	if err != nil {
		return nil, err
	}
	if ch.Status != want {
		return nil, fmt.Errorf("%s is %s, want %s", e.Label(chargeID), ch.Status, want)
	}
	return ch, nil
}

// CheckExactlyOnce compares the payments the bank holds for a consent
// with the attempts the Initiator submitted: every attempt reached the bank
// exactly once. It returns their number.
func (e *Env) CheckExactlyOnce(ctx context.Context, consentID string) (int, error) {
	byE2E := map[string]int{}
	for _, p := range e.Bank.Payments(consentID) {
		byE2E[p.EndToEndID]++
	}
	n := 0
	for ch, err := range e.Initiator.ListCharges(ctx, pixauto.ChargeFilter{ConsentID: consentID}) {
		if err != nil {
			return 0, err
		}
		attempts, err := e.Initiator.Attempts(ctx, ch.ID)
		if err != nil {
			return 0, err
		}
		for _, a := range attempts {
			if a.State != pixauto.AttemptSubmitted {
				continue
			}
			if byE2E[a.EndToEndID] != 1 {
				return 0, fmt.Errorf("the bank holds %d payments with E2EID %s, want 1", byE2E[a.EndToEndID], a.EndToEndID)
			}
			n++
		}
	}
	if held := len(e.Bank.Payments(consentID)); held != n {
		return 0, fmt.Errorf("the bank holds %d payments, the Initiator submitted %d", held, n)
	}
	return n, nil
}

// BRL formats an amount the Brazilian way: R$ 1.234,56.
func BRL(a consent.Amount) string {
	intPart, frac, _ := strings.Cut(a.String(), ".")
	var b strings.Builder
	b.WriteString("R$ ")
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	return b.String() + "," + frac
}

// InOrder reports an error unless out holds each of want, in that order
// (each after the previous one): the examples' tests check the story with
// it.
func InOrder(out string, want ...string) error {
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			if strings.Contains(out, w) {
				return fmt.Errorf("%q is out of order in:\n%s", w, out)
			}
			return fmt.Errorf("%q is missing from:\n%s", w, out)
		}
		rest = rest[i+len(w):]
	}
	return nil
}
