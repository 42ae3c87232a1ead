package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/internal/journey"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// JourneyCommand runs the conformance journeys against the embedded sandbox
// bank or a configured one, prints one line per journey, and writes JUnit
// XML and JSON reports.
type JourneyCommand struct {
	Stdout, Stderr io.Writer
	// Stdin is read for the payer's callback URLs with -interactive.
	Stdin io.Reader

	// For tests: an embedded bank to reuse instead of starting one, and,
	// against a configured bank, the journeys' clock (nil: the system
	// clock) and their wait between two reads of a payment (nil: a timer).
	bank  *sandbox.Bank
	clock fapi.Clock
	sleep func(ctx context.Context, d time.Duration) error
}

const journeyUsage = `Usage: pixauto journey [flags]

Runs the Pix Automático conformance journeys — the three adhesions, edit,
revoke, reject, cancel and the retries — and checks every outcome (statuses,
rejection and error codes). One line per journey: ✔ passed, ✘ failed (with
the reason), - skipped (with the reason). The exit status is 1 when a
journey failed.

By default the journeys run against an embedded sandbox bank whose clock
they move. With -bank-config they run against the configured bank: journeys
that need what a real bank does not offer (moving its clock, scripting
settlement failures) are skipped, and so are those needing the payer's
approval unless -interactive is set.

Flags:
`

const journeyUsageMore = `
Examples:

  pixauto journey                                      every journey, embedded sandbox bank
  pixauto journey -run '^retry-' -junit report.xml     the retries, with a JUnit XML report for CI
  pixauto journey -bank-config bank.json -interactive -json report.json

The bank config is a JSON file (paths relative to it) with the keys of a
"holders" entry of pixauto serve — issuer, client_id, base_url,
bank_organisation_id, keystore_url, certificate_file, key_file,
root_cas_file, signing_key_file, signing_key_id, encryption_key_file,
encryption_key_id — plus redirect_uri, payer_cpf (the bank's test payer)
and itp_ispb; optional: public_root_cas_file, itp_cnpj, organisation_id,
payer_name, creditor {cnpj, name, account}.
`

// Run parses flags and runs the journeys.
func (c *JourneyCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("journey", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	bankConfig := fs.String("bank-config", "", "run against the bank described by this JSON `file` instead of the embedded sandbox (see README)")
	interactive := fs.Bool("interactive", false, "with -bank-config: print each authorization URL and read the payer's callback URL from stdin")
	junitPath := fs.String("junit", "", "write a JUnit XML report to `file`")
	jsonPath := fs.String("json", "", "write a JSON report to `file`")
	run := fs.String("run", "", "run only the journeys whose name matches this `regexp`")
	list := fs.Bool("list", false, "list the journeys and exit")
	var faults journeyFaults
	fs.Var(&faults, "fault", "embedded sandbox only: make a journey meet a bank fault, as `journey=kind`, where kind is a\nresource fault (BadSignature, WrongAudience, WrongIssuer, StaleIat, ReplayedJTI, UnknownKID, Status, Drop)\nfor the journey's next call, or reject:CODE for its next settlement attempt (repeatable)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), journeyUsage)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), journeyUsageMore)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("journey: unexpected argument %q", fs.Arg(0))
	}
	all := journey.All()
	if *list {
		for _, j := range all {
			fmt.Fprintf(c.Stdout, "%-34s %s\n", j.Name, j.Title)
		}
		return nil
	}
	var re *regexp.Regexp
	if *run != "" {
		var err error
		if re, err = regexp.Compile(*run); err != nil {
			return fmt.Errorf("journey: -run: %w", err)
		}
	}
	js := journey.Select(all, re)
	if len(js) == 0 {
		return fmt.Errorf("journey: no journey matches -run %q (see -list)", *run)
	}
	if err := faults.check(all); err != nil {
		return err
	}
	switch {
	case *interactive && *bankConfig == "":
		return errors.New("journey: -interactive needs -bank-config (the embedded bank approves as the payer itself)")
	case len(faults) > 0 && *bankConfig != "":
		return errors.New("journey: -fault needs the embedded sandbox bank, not -bank-config")
	}

	var (
		env    *journey.Env
		bank   journey.BankInfo
		before func(journey.Journey) error
	)
	if *bankConfig != "" {
		cfg, err := journey.LoadBankConfig(*bankConfig)
		if err != nil {
			return err
		}
		if env, err = cfg.Env(c.clock); err != nil {
			return fmt.Errorf("bank config %s: %w", *bankConfig, err)
		}
		env.Sleep = c.sleep
		if *interactive {
			env.Payer = &journeyPayer{out: c.Stdout, in: bufio.NewReader(c.stdin()), cpf: cfg.PayerCPF}
		}
		bank = journey.BankInfo{Kind: "configured", Issuer: cfg.Issuer, APIBaseURL: cfg.APIBaseURL}
	} else {
		b := c.bank
		if b == nil {
			var err error
			if b, err = sandbox.New(sandbox.Config{Clock: sandbox.NewClock(journeyStart)}); err != nil {
				return err
			}
			defer b.Close()
		}
		var err error
		if env, err = journey.NewSandboxEnv(b); err != nil {
			return err
		}
		bank = journey.BankInfo{Kind: "sandbox", Issuer: b.Issuer, APIBaseURL: b.MTLSURL + sandbox.AutomaticPaymentsBase}
		before = faults.apply(b)
	}

	where := "the embedded sandbox bank"
	if bank.Kind == "configured" {
		where = bank.Issuer
	}
	fmt.Fprintf(c.Stdout, "pixauto journey: %d %s against %s\n\n", len(js), journeyPlural(len(js), "journey", "journeys"), where)
	p := newJourneyProgress(c.Stdout, js, journeyIsTerminal(c.Stdout), *interactive)
	runner := &journey.Runner{Env: env, Before: before, Started: p.started, Done: p.done}
	report := &journey.Report{Suite: "pixauto journey", Start: time.Now()}
	report.Results = runner.Run(ctx, js)
	report.Duration = time.Since(report.Start)
	bank.APIVersion = string(env.Payments.Version())
	report.Bank = bank

	s := report.Summary()
	fmt.Fprintf(c.Stdout, "\n%d %s: %d passed, %d failed, %d skipped in %.2fs\n",
		s.Total, journeyPlural(s.Total, "journey", "journeys"), s.Passed, s.Failed, s.Skipped, report.Duration.Seconds())
	for _, out := range []struct {
		path, kind string
		write      func(io.Writer) error
	}{{*junitPath, "JUnit XML", report.WriteJUnit}, {*jsonPath, "JSON", report.WriteJSON}} {
		if out.path == "" {
			continue
		}
		if err := journeyWriteFile(out.path, out.write); err != nil {
			return fmt.Errorf("journey: %s report: %w", out.kind, err)
		}
		fmt.Fprintf(c.Stdout, "%s report: %s\n", out.kind, out.path)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.Failed > 0 {
		return fmt.Errorf("%d of %d %s failed", s.Failed, s.Total, journeyPlural(s.Total, "journey", "journeys"))
	}
	return nil
}

// journeyStart is the embedded bank's time: a Monday morning in Brasília.
var journeyStart = time.Date(2026, 11, 23, 10, 0, 0, 0, consent.Brasilia)

func (c *JourneyCommand) stdin() io.Reader {
	if c.Stdin != nil {
		return c.Stdin
	}
	return os.Stdin
}

func journeyPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func journeyWriteFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// isTerminal reports whether w is a terminal (a character device).
func journeyIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// ----- progress -----

// journeyProgress prints one line per journey: "[ 3/11] ✔ name  0.04s". On a
// terminal a bar of the journeys done is redrawn, with a carriage return
// only (no ANSI sequences), while each journey runs.
type journeyProgress struct {
	w           io.Writer
	tty         bool
	interactive bool // a line as each journey starts, before its prompts
	width       int  // of the names
	bar         int  // length of the bar line drawn, to blank it
}

func newJourneyProgress(w io.Writer, js []journey.Journey, tty, interactive bool) *journeyProgress {
	p := &journeyProgress{w: w, tty: tty && !interactive, interactive: interactive}
	for _, j := range js {
		p.width = max(p.width, len(j.Name))
	}
	return p
}

func (p *journeyProgress) started(j journey.Journey, i, n int) {
	if p.interactive {
		// Say which journey the approvals that follow are for.
		fmt.Fprintf(p.w, "%s … %s: %s\n", p.prefix(i, n), j.Name, j.Title)
		return
	}
	if !p.tty {
		return
	}
	const cells = 20
	done := (i - 1) * cells / n
	line := fmt.Sprintf("[%s%s] %d/%d %s …", strings.Repeat("#", done), strings.Repeat(".", cells-done), i-1, n, j.Name)
	fmt.Fprintf(p.w, "\r%s", line)
	p.bar = len([]rune(line))
}

func (p *journeyProgress) done(r journey.Result, i, n int) {
	if p.tty && p.bar > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.bar))
		p.bar = 0
	}
	prefix := p.prefix(i, n)
	switch r.Status {
	case journey.Passed:
		fmt.Fprintf(p.w, "%s ✔ %-*s  %6.2fs\n", prefix, p.width, r.Name, r.Duration.Seconds())
	case journey.Failed:
		fmt.Fprintf(p.w, "%s ✘ %-*s  %6.2fs\n%s   %s\n", prefix, p.width, r.Name, r.Duration.Seconds(), strings.Repeat(" ", len(prefix)), r.Message)
	default:
		fmt.Fprintf(p.w, "%s - %-*s  skipped: %s\n", prefix, p.width, r.Name, r.Message)
	}
}

func (p *journeyProgress) prefix(i, n int) string {
	return fmt.Sprintf("[%*d/%d]", len(fmt.Sprint(n)), i, n)
}

// ----- the payer at a configured bank -----

// journeyPayer has the tester approve each consent in a browser: it prints
// the authorization URL and reads back the URL the bank redirected to.
type journeyPayer struct {
	out io.Writer
	in  *bufio.Reader
	cpf string
}

func (p *journeyPayer) Authorize(ctx context.Context, authURL string) (string, error) {
	fmt.Fprintf(p.out, "\n  The payer must approve a consent at the bank. Open this URL, log in as the payer (CPF %s) and approve:\n\n  %s\n\n", p.cpf, authURL)
	fmt.Fprint(p.out, "  Then paste here the whole URL the bank redirected to (your redirect URI, with #code=…):\n  > ")
	line, err := p.in.ReadString('\n')
	fmt.Fprintln(p.out)
	line = strings.TrimSpace(line)
	if line == "" {
		if err == nil || errors.Is(err, io.EOF) {
			return "", errors.New("no callback URL was pasted")
		}
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return line, nil
}

// ----- -fault -----

// journeyFaults is -fault journey=kind, repeatable.
type journeyFaults []journeyFault

type journeyFault struct {
	journey string
	kind    sandbox.FaultKind      // a resource fault, or
	reject  payments.RejectionCode // a settlement rejection
}

func (f *journeyFaults) String() string { return "" }

func (f *journeyFaults) Set(v string) error {
	name, kind, ok := strings.Cut(v, "=")
	if !ok || name == "" || kind == "" {
		return fmt.Errorf("want journey=kind, got %q", v)
	}
	jf := journeyFault{journey: name}
	if code, ok := strings.CutPrefix(kind, "reject:"); ok {
		if code == "" {
			return errors.New("reject: needs a rejection code, e.g. reject:SALDO_INSUFICIENTE")
		}
		jf.reject = payments.RejectionCode(code)
		*f = append(*f, jf)
		return nil
	}
	var names []string
	for _, k := range sandbox.FaultKinds() {
		if k == sandbox.FaultDelay {
			continue // holds the answer until the client's 30 s timeout
		}
		names = append(names, k.String())
		if strings.EqualFold(k.String(), kind) {
			jf.kind = k
		}
	}
	if jf.kind == 0 {
		return fmt.Errorf("unknown fault %q: want one of %s, or reject:CODE", kind, strings.Join(names, ", "))
	}
	*f = append(*f, jf)
	return nil
}

// check refuses faults of unknown journeys.
func (f journeyFaults) check(all []journey.Journey) error {
	for _, jf := range f {
		if !journey.Has(all, jf.journey) {
			return fmt.Errorf("journey: -fault: no journey named %q (see -list)", jf.journey)
		}
	}
	return nil
}

// apply returns the runner's Before hook arming each journey's faults.
func (f journeyFaults) apply(bank *sandbox.Bank) func(journey.Journey) error {
	if len(f) == 0 {
		return nil
	}
	return func(j journey.Journey) error {
		for _, jf := range f {
			switch {
			case jf.journey != j.Name:
			case jf.reject != "":
				if err := bank.ScriptSettlement(bank.PayerCPF, sandbox.Reject(jf.reject)); err != nil {
					return fmt.Errorf("-fault %s=reject:%s: %w", jf.journey, jf.reject, err)
				}
			default:
				bank.InjectFault(sandbox.CallFault{Kind: jf.kind})
			}
		}
		return nil
	}
}
