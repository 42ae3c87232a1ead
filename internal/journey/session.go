package journey

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// ----- checks -----

// failf returns a *CheckError.
func failf(format string, args ...any) error {
	return &CheckError{Msg: fmt.Sprintf(format, args...)}
}

// expect returns a *CheckError unless ok.
func expect(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return failf(format, args...)
}

// equal checks that what is want.
func equal[T comparable](what string, got, want T) error {
	if got == want {
		return nil
	}
	return failf("%s is %v, want %v", what, show(got), show(want))
}

func show(v any) any {
	if s, ok := v.(fmt.Stringer); ok {
		v = s.String()
	}
	if fmt.Sprint(v) == "" {
		return `""`
	}
	return v
}

// checks joins the failed checks (nil if none failed).
func checks(errs ...error) error { return errors.Join(errs...) }

// isAPIError checks that err is the bank's answer status with code.
func isAPIError(err error, status int, code string) error {
	var ae *fapi.APIError
	switch {
	case err == nil:
		return failf("the bank accepted it, want HTTP %d %s", status, code)
	case !errors.As(err, &ae):
		return fmt.Errorf("want HTTP %d %s from the bank, got: %w", status, code, err)
	}
	return checks(
		equal("the HTTP status", ae.StatusCode, status),
		expect(ae.HasCode(code), "the bank answered %v, want the code %s", ae, code),
		expect(status != http.StatusUnprocessableEntity || ae.Signed, "the %d answer was not a signed message", status),
	)
}

// noCall checks that the running step made no method call to a path ending
// in suffix: the SDK refused before sending.
func noCall(ctx context.Context, method, suffix string) error {
	col, _ := ctx.Value(collectorKey{}).(*collector)
	if col == nil {
		return nil
	}
	for _, c := range col.snapshot() {
		if c.Method == method && strings.HasSuffix(c.Path, suffix) {
			return failf("the bank was sent %s %s; the SDK should have refused before sending", c.Method, c.Path)
		}
	}
	return nil
}

// ----- a journey's consent and payments -----

// session is one journey's consent and what it sent under it.
type session struct {
	e     *Env
	c     *consent.Consent
	token fapi.TokenSource             // the consent's (POST /pix/recurring-payments)
	sent  map[string]*payments.Request // by payment id
}

func (e *Env) session() *session {
	return &session{e: e, sent: map[string]*payments.Request{}}
}

// consentRequest is a monthly variable consent (at most R$ 300,00, retries
// accepted) starting in three days and expiring in 400; mods adjust it.
func (e *Env) consentRequest(mods ...func(*consent.CreateRequest)) *consent.CreateRequest {
	p := e.Parties
	today := e.Today()
	r := consent.NewCreateRequest(
		consent.NewLoggedUser(p.PayerCPF),
		consent.NewCreditor(p.CreditorCNPJ, p.CreditorName),
		consent.NewAutomatic("JRN"+strings.ReplaceAll(today.String(), "-", ""), consent.IntervalMensal, today.AddDays(3),
			consent.ContractDebtor{Name: p.PayerName, Document: consent.DocumentFor(p.PayerCPF)},
			consent.Variable(consent.MustAmount("300.00"), 0),
			consent.WithRetries()),
		consent.WithExpiration(today.AddDays(400)),
	)
	for _, m := range mods {
		m(r)
	}
	return r
}

func withReferenceStart(d consent.Date) func(*consent.CreateRequest) {
	return func(r *consent.CreateRequest) { r.RecurringConfiguration.Automatic.ReferenceStartDate = d }
}

func (e *Env) withFirstPayment(d consent.Date, amount string) func(*consent.CreateRequest) {
	return func(r *consent.CreateRequest) {
		consent.WithFirstPayment(d, consent.MustAmount(amount), e.Parties.CreditorAccount, "adesao")(r.RecurringConfiguration.Automatic)
	}
}

// receiver is the creditor's document (cancellations by the receiver).
func (s *session) receiver() consent.Document { return consent.DocumentFor(s.e.Parties.CreditorCNPJ) }

// create creates the consent, AWAITING_AUTHORISATION.
func (s *session) create(ctx context.Context, req *consent.CreateRequest) (*consent.Consent, error) {
	c, err := step(ctx, s.e, "create the consent (POST /recurring-consents)", func(ctx context.Context) (*consent.Consent, error) {
		c, err := s.e.Consents.Create(ctx, req, fapi.NewIdempotencyKey(nil))
		if err != nil {
			return nil, err
		}
		return c, checks(
			equal("the new consent's status", c.Status, consent.StatusAwaitingAuthorisation),
			expect(consent.ValidateID(c.RecurringConsentID) == nil, "the recurringConsentId %q is not valid", c.RecurringConsentID),
		)
	})
	if err == nil {
		s.c = c
	}
	return c, err
}

// authorise creates the consent and has the payer approve it at the bank:
// PAR, the payer's redirect, the callback's id_token, the code exchange.
func (s *session) authorise(ctx context.Context, req *consent.CreateRequest) error {
	if s.e.Payer == nil {
		return Skip(s.e.Missing(NeedPayer))
	}
	c, err := s.create(ctx, req)
	if err != nil {
		return err
	}
	id := c.RecurringConsentID
	err = s.e.Step(ctx, "the payer authorises it at the bank (PAR, redirect, id_token, code exchange)", func(ctx context.Context) error {
		a, err := s.e.FAPI.PushAuthorization(ctx, fapi.RecurringConsentScopes(id), nil)
		if err != nil {
			return err
		}
		redirect, err := s.e.Payer.Authorize(ctx, a.URL)
		if err != nil {
			return fmt.Errorf("the payer's authorization: %w", err)
		}
		cb, err := fapi.ParseCallback(redirect)
		if err != nil {
			return err
		}
		g, err := s.e.FAPI.CompleteAuthorization(ctx, a, cb)
		if err != nil {
			return err
		}
		if err := fapi.SaveGrant(ctx, s.e.Tokens, id, g); err != nil {
			return err
		}
		s.token = s.e.FAPI.ConsentTokenSource(id, s.e.Tokens, g.Token)
		return nil
	})
	if err != nil {
		return err
	}
	return s.e.Step(ctx, "the consent is AUTHORISED, with the payer's debtorAccount", func(ctx context.Context) error {
		c, err := s.e.Consents.Get(ctx, id)
		if err != nil {
			return err
		}
		s.c = c
		return checks(
			equal("the consent's status", c.Status, consent.StatusAuthorised),
			expect(c.DebtorAccount != nil, "the bank filled no debtorAccount on authorisation"),
			expect(c.AuthorisedAtDateTime != nil, "the consent has no authorisedAtDateTime"),
		)
	})
}

// refresh re-reads the consent.
func (s *session) refresh(ctx context.Context) error {
	c, err := s.e.Consents.Get(ctx, s.c.RecurringConsentID)
	if err != nil {
		return err
	}
	s.c = c
	return nil
}

func (s *session) planner() *payments.Planner {
	v := s.e.Payments.Version()
	if v == "" {
		v = payments.DefaultVersion
	}
	return &payments.Planner{Version: v, Generator: s.e.gen, CNPJInitiator: s.e.Parties.ITPCNPJ}
}

func (s *session) existing(ctx context.Context) ([]payments.Payment, error) {
	return s.e.Payments.List(ctx, payments.ListFilter{ConsentID: s.c.RecurringConsentID})
}

// send creates a planned payment.
func (s *session) send(ctx context.Context, req *payments.Request, existing []payments.Payment) (*payments.Payment, error) {
	p, err := s.e.Payments.Create(ctx, payments.CreateParams{Consent: s.c, Existing: existing, Request: req, Token: s.token, IdempotencyKey: fapi.NewIdempotencyKey(nil)})
	if err != nil {
		return nil, err
	}
	s.sent[p.ID] = req
	return p, expect(!p.Status.Final(), "the new payment %s is already %s%s", p.ID, p.Status, rejection(p))
}

// charge plans and creates the recurrence of cycle n due on due.
func (s *session) charge(ctx context.Context, n int, due consent.Date, amount string) (*payments.Payment, error) {
	name := fmt.Sprintf("schedule cycle %d: R$ %s due %s (POST /pix/recurring-payments)", n, amount, due)
	return step(ctx, s.e, name, func(ctx context.Context) (*payments.Payment, error) {
		existing, err := s.existing(ctx)
		if err != nil {
			return nil, err
		}
		req, err := s.planner().Recurrence(s.c, payments.Charge{Cycle: n, Due: due, Amount: consent.MustAmount(amount), CreditorAccount: s.e.Parties.CreditorAccount}, s.e.Now(), existing)
		if err != nil {
			return nil, err
		}
		return s.send(ctx, req, existing)
	})
}

// firstPayment plans and creates the consent's first payment.
func (s *session) firstPayment(ctx context.Context, name string) (*payments.Payment, error) {
	return step(ctx, s.e, name, func(ctx context.Context) (*payments.Payment, error) {
		existing, err := s.existing(ctx)
		if err != nil {
			return nil, err
		}
		req, err := s.planner().FirstPayment(s.c, s.e.Now(), existing)
		if err != nil {
			return nil, err
		}
		p, err := s.send(ctx, req, existing)
		if err != nil {
			return nil, err
		}
		return p, checks(
			equal("the first payment's paymentReference", p.PaymentReference, payments.ReferenceZero),
			equal("the first payment's localInstrument", p.LocalInstrument, payments.InstrumentMANU),
		)
	})
}

func rejection(p *payments.Payment) string {
	if p.RejectionReason == nil {
		return ""
	}
	return " (" + string(p.RejectionReason.Code) + ")"
}

// await reads a payment until its status is want, failing on any other
// final status or when time is up. With control of the bank's clock it
// moves the clock by a minute between reads, for at most an hour; else it
// waits PollInterval of real time, for at most PollTimeout.
func (s *session) await(ctx context.Context, id string, want payments.Status) (*payments.Payment, error) {
	return s.poll(ctx, id, func(p *payments.Payment) bool { return p.Status == want }, string(want))
}

// awaitFinal reads a payment until its status is final.
func (s *session) awaitFinal(ctx context.Context, id string) (*payments.Payment, error) {
	return s.poll(ctx, id, func(p *payments.Payment) bool { return p.Status.Final() }, "a final status")
}

func (s *session) poll(ctx context.Context, id string, done func(*payments.Payment) bool, want string) (*payments.Payment, error) {
	e := s.e
	step, limit := e.pollInterval(), e.pollTimeout()
	if e.Time != nil {
		step, limit = time.Minute, time.Hour
	}
	var waited time.Duration
	for {
		p, err := e.Payments.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if done(p) {
			return p, nil
		}
		if p.Status.Final() {
			return p, failf("payment %s is %s%s, want %s", id, p.Status, rejection(p), want)
		}
		if waited >= limit {
			return p, failf("payment %s is still %s after %s, want %s", id, p.Status, limit, want)
		}
		if e.Time != nil {
			_, err = e.Time.Advance(step)
		} else {
			err = e.sleep(ctx, step)
		}
		if err != nil {
			return nil, err
		}
		waited += step
	}
}

// scheduled waits for a recurrence to be SCHD and checks its reference and
// instrument against its cycle n and the bank's version.
func (s *session) scheduled(ctx context.Context, p *payments.Payment, n int) (*payments.Payment, error) {
	return step(ctx, s.e, fmt.Sprintf("the bank schedules payment %s (SCHD)", p.ID), func(ctx context.Context) (*payments.Payment, error) {
		p, err := s.await(ctx, p.ID, payments.StatusSCHD)
		if err != nil {
			return nil, err
		}
		return p, s.checkRecurrence(p, n)
	})
}

func (s *session) checkRecurrence(p *payments.Payment, n int) error {
	b, err := payments.BillingOf(s.c)
	if err != nil {
		return err
	}
	cy, err := b.Cycle(n)
	if err != nil {
		return err
	}
	v := s.e.Payments.Version()
	ref := payments.CycleReference(b.Interval, cy)
	wantRef, err := ref.Format(v)
	if err != nil {
		return err
	}
	return checks(
		equal("the paymentReference", p.PaymentReference, wantRef),
		equal("the localInstrument", p.LocalInstrument, payments.InstrumentFor(v, ref)),
	)
}

// settles moves the bank's clock to 08:00 of the payment's date and checks
// it settled; without control of the bank's clock the step is recorded as
// skipped.
func (s *session) settles(ctx context.Context, p *payments.Payment) error {
	name := fmt.Sprintf("payment %s settles on %s (ACSC)", p.ID, p.Date)
	if s.e.Time == nil {
		s.e.SkipStep(name, s.e.Missing(NeedTime))
		return nil
	}
	return s.e.Step(ctx, name, func(ctx context.Context) error {
		if err := s.e.advanceTo(at(p.Date, 8, 0)); err != nil {
			return err
		}
		return s.status(ctx, p.ID, payments.StatusACSC, "")
	})
}

// status reads a payment and checks its status and rejection code.
func (s *session) status(ctx context.Context, id string, want payments.Status, code payments.RejectionCode) error {
	p, err := s.e.Payments.Get(ctx, id)
	if err != nil {
		return err
	}
	if p.Status != want {
		return failf("payment %s is %s%s, want %s", id, p.Status, rejection(p), want)
	}
	return equal("the rejection code", p.RejectionCode(), code)
}

// script queues settlement outcomes for the session's consent.
func (s *session) script(ctx context.Context, name string, outcomes ...sandbox.Outcome) error {
	return s.e.Step(ctx, "script the bank: "+name, func(context.Context) error {
		return s.e.Settlement.ScriptConsentSettlement(s.c.RecurringConsentID, outcomes...)
	})
}

// chain reads the retry chain of a recurrence.
func (s *session) chain(ctx context.Context, originalID string) (payments.Chain, error) {
	ps, err := s.e.Payments.List(ctx, payments.ListFilter{ConsentID: s.c.RecurringConsentID, OriginalID: originalID})
	if err != nil {
		return payments.Chain{}, err
	}
	return payments.ChainFromPayments(originalID, ps)
}

// decide runs the SDK's retry decision on a recurrence and checks it is
// want.
func (s *session) decide(ctx context.Context, originalID string, want payments.Action) (payments.Chain, payments.Decision, error) {
	ch, err := s.chain(ctx, originalID)
	if err != nil {
		return ch, payments.Decision{}, err
	}
	d := payments.Decide(ch, s.c, s.e.Now(), payments.RetryPolicy{})
	if d.Action != want {
		return ch, d, failf("the SDK decides %s (%s: %s), want %s", d.Action, d.Reason, d.Message, want)
	}
	return ch, d, nil
}

// retry decides, plans and sends the retry the SDK wants (want), and
// returns it as sent.
func (s *session) retry(ctx context.Context, originalID string, want payments.Action) (*payments.Payment, error) {
	ch, d, err := s.decide(ctx, originalID, want)
	if err != nil {
		return nil, err
	}
	rt, err := payments.PlanRetry(ch, d, s.sent[originalID], s.e.gen)
	if err != nil {
		return nil, err
	}
	p, err := s.e.Payments.Retry(ctx, payments.RetryParams{Consent: s.c, Chain: ch, Retry: &rt, ConsentToken: s.token, IdempotencyKey: fapi.NewIdempotencyKey(nil)})
	if err != nil {
		return nil, err
	}
	last, _ := ch.Last()
	return p, checks(
		equal("the retry's date", p.Date, d.Date),
		equal("the retry's endToEndId", p.EndToEndID, rt.EndToEndID),
		expect(p.EndToEndID != last.EndToEndID, "the retry reuses the endToEndId %s", p.EndToEndID),
		expect(p.OriginalRecurringPaymentID == "" || p.OriginalRecurringPaymentID == originalID,
			"the retry names %s as its original, want %s", p.OriginalRecurringPaymentID, originalID),
	)
}

// forcedRetry is a retry of originalID dated date that the SDK did not
// plan.
func (s *session) forcedRetry(originalID string, date consent.Date) (*payments.Retry, error) {
	e2e, err := s.e.gen.Scheduled(date)
	if err != nil {
		return nil, err
	}
	return &payments.Retry{OriginalID: originalID, EndToEndID: e2e.String(), Date: date, Original: s.sent[originalID]}, nil
}

// refusedRetry checks that the SDK refuses rt with sentinel before sending
// it.
func (s *session) refusedRetry(ctx context.Context, rt *payments.Retry, sentinel error) error {
	ch, err := s.chain(ctx, rt.OriginalID)
	if err != nil {
		return err
	}
	_, err = s.e.Payments.Retry(ctx, payments.RetryParams{Consent: s.c, Chain: ch, Retry: rt, ConsentToken: s.token, IdempotencyKey: fapi.NewIdempotencyKey(nil)})
	if !errors.Is(err, sentinel) {
		return failf("the SDK answered %v, want a refusal: %v", err, sentinel)
	}
	return noCall(ctx, http.MethodPost, "/retry")
}

// sendRetry sends rt past the SDK's checks, in the bank's wire form.
func (s *session) sendRetry(ctx context.Context, rt *payments.Retry) error {
	v := s.e.Payments.Version()
	call, err := payments.EncodeRetry(v, rt)
	if err != nil {
		return err
	}
	token := s.token
	if v == payments.V220 {
		token = s.e.FAPI.ClientCredentialsSource(fapi.ScopeRecurringPayments)
	}
	_, err = s.e.FAPI.Do(ctx, fapi.Call{Method: call.Method, URL: s.e.baseURL + call.Path, Data: call.Body, Token: token, IdempotencyKey: fapi.NewIdempotencyKey(nil)})
	return err
}
