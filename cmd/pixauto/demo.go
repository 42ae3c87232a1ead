package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/ofb-go/pixauto/pixauto/store/sqlite"
)

// DemoCommand tells the whole story in one command: a receiver, a payer,
// an enrolment, and months of charges with failures and retries, against
// the embedded sandbox bank on an accelerated clock, stored in SQLite.
type DemoCommand struct {
	Stdout, Stderr io.Writer
}

// Run parses flags and runs the demo.
func (c *DemoCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	months := fs.Int("months", 12, "number of monthly charges (1–24)")
	dbPath := fs.String("db", "", "SQLite file to keep (default: a temporary file, removed at the end)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *months < 1 || *months > 24 {
		return fmt.Errorf("demo: -months must be 1–24, got %d", *months)
	}
	path := *dbPath
	if path == "" {
		dir, err := os.MkdirTemp("", "pixauto-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "pixauto.db")
	}
	d, err := newDemo(ctx, c.Stdout, path)
	if err != nil {
		return err
	}
	defer d.close()
	return d.run(ctx, *months)
}

// demoStart is a Monday morning in Brasília.
var demoStart = time.Date(2026, 11, 23, 9, 0, 0, 0, consent.Brasilia)

const (
	demoReceiver     = "academia-forma"
	demoCreditorCNPJ = "11222333000181"
	demoCreditorName = "Academia Forma Ltda"
	demoISPB         = "12345678"
)

var demoAccount = consent.Account{ISPB: "87654321", Issuer: "0001", Number: "1234567890", AccountType: consent.AccountCACC}

type demo struct {
	out   io.Writer
	bank  *sandbox.Bank
	clock *sandbox.ManualClock
	store *sqlite.Store
	in    *pixauto.Initiator

	mu     sync.Mutex
	labels map[string]string // charge id → "charge 3"
}

func newDemo(ctx context.Context, out io.Writer, path string) (*demo, error) {
	d := &demo{out: out, clock: sandbox.NewClock(demoStart), labels: map[string]string{}}
	bank, err := sandbox.New(sandbox.Config{Clock: d.clock})
	if err != nil {
		return nil, err
	}
	d.bank = bank
	if d.store, err = sqlite.Open(ctx, path); err != nil {
		bank.Close()
		return nil, err
	}
	fc, err := fapi.New(bank.FAPIConfig(bank.ITP))
	if err != nil {
		d.close()
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		d.close()
		return nil, err
	}
	d.in, err = pixauto.New(pixauto.Config{
		CNPJ: bank.ITP.CNPJ, ISPB: demoISPB, Store: d.store, SecretKey: key, Clock: d.clock,
		Holders: []pixauto.Holder{{ID: "sandbox", FAPI: fc, BaseURL: bank.MTLSURL + sandbox.AutomaticPaymentsBase}},
		OnEvent: d.event,
	})
	if err != nil {
		d.close()
		return nil, err
	}
	return d, nil
}

func (d *demo) close() {
	if d.store != nil {
		d.store.Close()
	}
	d.bank.Close()
}

func (d *demo) printf(format string, args ...any) {
	t := d.clock.Now().In(consent.Brasilia).Format("2006-01-02 15:04")
	fmt.Fprintf(d.out, "%s  %s\n", t, fmt.Sprintf(format, args...))
}

func (d *demo) event(e pixauto.Event) {
	d.mu.Lock()
	label := d.labels[e.ChargeID]
	d.mu.Unlock()
	switch {
	case e.ChargeID != "" && label == "":
		// The charge being created: month() prints it with its label.
	case e.ChargeID != "":
		line := fmt.Sprintf("%-9s %s", label, strings.ToUpper(string(e.ChargeStatus)))
		if e.Reason != "" {
			line += fmt.Sprintf(" — %s", e.ReasonText)
		}
		d.printf("%s", line)
	default:
		d.printf("consent   %s", e.ConsentStatus)
	}
}

func (d *demo) run(ctx context.Context, months int) error {
	fmt.Fprintf(d.out, "pixauto demo: %s charges a monthly membership by Pix Automático.\nBank: the embedded sandbox (%s); store: SQLite; clock: accelerated.\n\n", demoCreditorName, d.bank.Issuer)
	rec, err := d.enrol(ctx)
	if err != nil {
		return err
	}
	billing, err := payments.BillingOf(rec.Consent)
	if err != nil {
		return err
	}
	for m := range months {
		if err := d.month(ctx, rec, billing, m); err != nil {
			return err
		}
	}
	return d.summary(ctx, rec)
}

func (d *demo) enrol(ctx context.Context) (*pixauto.ConsentRecord, error) {
	today := consent.Today(d.clock.Now())
	req := consent.NewCreateRequest(
		consent.NewLoggedUser(sandbox.DefaultPayerCPF),
		consent.NewCreditor(demoCreditorCNPJ, demoCreditorName),
		consent.NewAutomatic("FORMA2026ANA", consent.IntervalMensal, today.AddDays(10),
			consent.ContractDebtor{Name: "Ana Souza", Document: consent.DocumentFor(sandbox.DefaultPayerCPF)},
			consent.Variable(consent.MustAmount("300.00"), 0), consent.WithRetries()),
		consent.WithExpiration(today.AddDays(800)),
	)
	en, err := d.in.Enrol(ctx, pixauto.EnrolRequest{ReceiverID: demoReceiver, HolderID: "sandbox", Consent: req})
	if err != nil {
		return nil, err
	}
	d.printf("enrol     the payer is sent to %s…", cut(en.RedirectURL, 60))
	redirect, err := d.bank.Authorize(ctx, en.RedirectURL)
	if err != nil {
		return nil, err
	}
	rec, err := d.in.Complete(ctx, redirect)
	if err != nil {
		return nil, err
	}
	d.printf("complete  id_token checked, tokens stored; consent %s", rec.ID)
	return rec, nil
}

// script is what goes wrong in the demo, by month.
var script = map[int]struct {
	note     string
	outcomes []sandbox.Outcome
}{
	2: {"insufficient funds on the due day; the ITP retries the next day", []sandbox.Outcome{
		sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Morning),
		sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Evening)}},
	5: {"an SPI failure in the morning; the ITP retries the same day with a new E2EID", []sandbox.Outcome{
		sandbox.Reject(payments.RejectionFalhaInfraestruturaSPI).In(sandbox.Morning)}},
	8: {"no funds for a week: three retries, then the charge fails", repeat(sandbox.Reject(payments.RejectionSaldoInsuficiente), 8)},
}

func repeat(o sandbox.Outcome, n int) []sandbox.Outcome {
	out := make([]sandbox.Outcome, n)
	for i := range out {
		out[i] = o
	}
	return out
}

func (d *demo) month(ctx context.Context, rec *pixauto.ConsentRecord, billing payments.Billing, m int) error {
	cycle, err := billing.Cycle(m)
	if err != nil {
		return err
	}
	due := cycle.Start
	if err := d.runUntil(ctx, due.AddDays(-7).In(consent.Brasilia).Add(9*time.Hour), 12*time.Hour); err != nil {
		return err
	}
	if s, ok := script[m]; ok {
		fmt.Fprintf(d.out, "%18s(script: %s)\n", "", s.note)
		if err := d.bank.ScriptConsentSettlement(rec.ID, s.outcomes...); err != nil {
			return err
		}
	}
	amount := consent.MustAmount("129.90")
	d.mu.Lock()
	label := fmt.Sprintf("charge %d", m+1)
	d.mu.Unlock()
	ch, err := d.in.Charge(ctx, pixauto.ChargeRequest{ConsentID: rec.ID, DueDate: due, Amount: amount, CreditorAccount: demoAccount, Description: "mensalidade " + due.String()[:7]})
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.labels[ch.ID] = label
	d.mu.Unlock()
	d.printf("%-9s R$ %s due %s, submitted 5 days before", label, brl(amount), due)
	return d.runUntil(ctx, due.AddDays(9).In(consent.Brasilia).Add(12*time.Hour), time.Hour)
}

// runUntil advances the bank's clock in steps and runs the Initiator's
// reconciliation after each, as a scheduler would.
func (d *demo) runUntil(ctx context.Context, until time.Time, step time.Duration) error {
	for d.clock.Now().Before(until) {
		next := d.clock.Now().Add(step)
		if next.After(until) {
			next = until
		}
		if _, err := d.bank.AdvanceTo(next); err != nil {
			return err
		}
		if _, err := d.in.Sync(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (d *demo) summary(ctx context.Context, rec *pixauto.ConsentRecord) error {
	var settled, failed, attempts int
	var total consent.Amount
	for ch, err := range d.in.ListCharges(ctx, pixauto.ChargeFilter{ConsentID: rec.ID}) {
		if err != nil {
			return err
		}
		as, err := d.in.Attempts(ctx, ch.ID)
		if err != nil {
			return err
		}
		attempts += len(as)
		switch ch.Status {
		case pixauto.ChargeSettled:
			settled++
			total += ch.Amount
		case pixauto.ChargeFailed:
			failed++
		}
	}
	fmt.Fprintf(d.out, "\nSummary: %d charges settled (R$ %s), %d failed; %d payments sent, %d held by the bank — each exactly once.\n",
		settled, brl(total), failed, attempts, len(d.bank.Payments(rec.ID)))
	return nil
}

// brl formats an amount the Brazilian way: 1.234,56.
func brl(a consent.Amount) string {
	s := a.String()
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	return b.String() + "," + frac
}
