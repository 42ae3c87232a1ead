package payments_test

// End-to-end journeys of the SDK's consent and payments clients against the
// sandbox bank, on a controlled clock.

import (
	"context"
	"errors"
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

type journey struct {
	*sandboxtest.Env
	t     *testing.T
	c     *consent.Consent
	token fapi.TokenSource
	gen   *payments.Generator
	sent  map[string]*payments.Request // by payment id: what was asked
}

func newJourney(t *testing.T, o sandboxtest.Options, mods ...func(*consent.CreateRequest)) *journey {
	t.Helper()
	e := sandboxtest.New(t, o)
	j := &journey{Env: e, t: t, gen: &payments.Generator{ISPB: sandboxtest.ITPISPB}, sent: map[string]*payments.Request{}}
	j.c, j.token = e.Authorised(t, e.ConsentRequest(mods...))
	return j
}

func (j *journey) planner() *payments.Planner {
	v := j.Payments.Version()
	if v == "" {
		v = payments.DefaultVersion
	}
	return &payments.Planner{Version: v, Generator: j.gen, CNPJInitiator: j.ITPCNPJ}
}

func (j *journey) existing() []payments.Payment {
	ps, err := j.Payments.List(bg, payments.ListFilter{ConsentID: j.c.RecurringConsentID})
	require.NoError(j.t, err)
	return ps
}

// charge plans and creates a recurrence due on due.
func (j *journey) charge(due consent.Date, amount string) *payments.Payment {
	j.t.Helper()
	billing, err := payments.BillingOf(j.c)
	require.NoError(j.t, err)
	cycle, err := billing.CycleContaining(due)
	require.NoError(j.t, err)
	existing := j.existing()
	req, err := j.planner().Recurrence(j.c, payments.Charge{Cycle: cycle.Index, Due: due, Amount: consent.MustAmount(amount), CreditorAccount: sandboxtest.CreditorAccount}, j.Clock.Now(), existing)
	require.NoError(j.t, err)
	p, err := j.Payments.Create(bg, payments.CreateParams{Consent: j.c, Existing: existing, Request: req, Token: j.token, IdempotencyKey: fapi.NewIdempotencyKey(nil)})
	require.NoError(j.t, err)
	j.sent[p.ID] = req
	return p
}

func (j *journey) status(id string) *payments.Payment {
	j.t.Helper()
	p, err := j.Payments.Get(bg, id)
	require.NoError(j.t, err)
	return p
}

// retry runs the decision function on the recurrence of originalID and, if
// it says so, creates the retry.
func (j *journey) retry(originalID string, policy payments.RetryPolicy) (payments.Decision, *payments.Payment, error) {
	j.t.Helper()
	ps, err := j.Payments.List(bg, payments.ListFilter{ConsentID: j.c.RecurringConsentID, OriginalID: originalID})
	require.NoError(j.t, err)
	chain, err := payments.ChainFromPayments(originalID, ps)
	require.NoError(j.t, err)
	d := payments.Decide(chain, j.c, j.Clock.Now(), policy)
	if !d.IsRetry() {
		return d, nil, nil
	}
	rt, err := payments.PlanRetry(chain, d, j.sent[originalID], j.gen)
	require.NoError(j.t, err)
	p, err := j.Payments.Retry(bg, payments.RetryParams{Consent: j.c, Chain: chain, Retry: &rt, ConsentToken: j.token, IdempotencyKey: fapi.NewIdempotencyKey(nil)})
	return d, p, err
}

// Journey 1: consent without a first payment, then a scheduled recurrence.
func TestJourney1_NoFirstPayment(t *testing.T) {
	t.Parallel()
	j := newJourney(t, sandboxtest.Options{})
	due := j.Today().AddDays(3)
	p := j.charge(due, "150.00")
	assert.Equal(t, payments.StatusRCVD, p.Status)
	assert.Equal(t, payments.V220, j.Payments.Version(), "learned from x-v")

	j.Advance(t, time.Minute)
	p = j.status(p.ID)
	assert.Equal(t, payments.StatusSCHD, p.Status)
	assert.Equal(t, payments.InstrumentAUTO, p.LocalInstrument)
	assert.Equal(t, "R/"+due.String()+"/P1M", p.PaymentReference)

	j.AdvanceTo(t, sandboxtest.At(due, 8, 0))
	assert.Equal(t, payments.StatusACSC, j.status(p.ID).Status)
}

func withFirstPayment(d consent.Date, amount string) func(*consent.CreateRequest) {
	return func(r *consent.CreateRequest) {
		consent.WithFirstPayment(d, consent.MustAmount(amount), sandboxtest.CreditorAccount, "adesao")(r.RecurringConfiguration.Automatic)
	}
}

func withReferenceStart(d consent.Date) func(*consent.CreateRequest) {
	return func(r *consent.CreateRequest) { r.RecurringConfiguration.Automatic.ReferenceStartDate = d }
}

// firstPayment plans and creates the consent's first payment.
func (j *journey) firstPayment() *payments.Payment {
	j.t.Helper()
	req, err := j.planner().FirstPayment(j.c, j.Clock.Now(), nil)
	require.NoError(j.t, err)
	p, err := j.Payments.Create(bg, payments.CreateParams{Consent: j.c, Request: req, Token: j.token, IdempotencyKey: fapi.NewIdempotencyKey(nil)})
	require.NoError(j.t, err)
	return p
}

// Journey 2: the first payment is immediate, then recurrences follow.
func TestJourney2_ImmediateFirstPayment(t *testing.T) {
	t.Parallel()
	today := sandboxtest.New(t, sandboxtest.Options{}).Today()
	j := newJourney(t, sandboxtest.Options{}, withFirstPayment(today, "99.90"))
	p := j.firstPayment()
	assert.Equal(t, "zero", p.PaymentReference)
	assert.Equal(t, payments.InstrumentMANU, p.LocalInstrument)
	j.Advance(t, time.Minute)
	assert.Equal(t, payments.StatusACSC, j.status(p.ID).Status)

	r := j.charge(j.Today().AddDays(3), "150.00")
	j.Advance(t, time.Minute)
	assert.Equal(t, payments.StatusSCHD, j.status(r.ID).Status)
}

// Journey 3: the first payment is scheduled.
func TestJourney3_ScheduledFirstPayment(t *testing.T) {
	t.Parallel()
	today := sandboxtest.New(t, sandboxtest.Options{}).Today()
	j := newJourney(t, sandboxtest.Options{}, withFirstPayment(today.AddDays(4), "99.90"), withReferenceStart(today.AddDays(10)))
	p := j.firstPayment()
	j.Advance(t, time.Minute)
	p = j.status(p.ID)
	assert.Equal(t, payments.StatusSCHD, p.Status)
	assert.Equal(t, today.AddDays(4), p.Date)
	assert.NotNil(t, j.c.DebtorAccount, "the bank fills the debtor account on authorisation")

	j.AdvanceTo(t, sandboxtest.At(today.AddDays(4), 8, 0))
	assert.Equal(t, payments.StatusACSC, j.status(p.ID).Status)
}

func TestEditConsent(t *testing.T) {
	t.Parallel()
	j := newJourney(t, sandboxtest.Options{})
	user := consent.NewLoggedUser(sandbox.DefaultPayerCPF)
	signals := &consent.RiskSignals{DeviceID: "dev-1", OsVersion: "17", UserTimeZoneOffset: "-03", Language: "pt-BR", ScreenDimensions: consent.ScreenDimensions{Height: 800, Width: 400}, AccountTenure: consent.NewDate(2020, 1, 1)}
	e, err := consent.NewEdit(j.c, consent.EditChange{MaximumVariableAmount: consent.SetMaximum(consent.MustAmount("500.00"))}, user, signals, j.Clock.Now())
	require.NoError(t, err)
	c, err := j.Consents.Edit(bg, j.c.RecurringConsentID, e, fapi.NewIdempotencyKey(nil))
	require.NoError(t, err)
	require.NotNil(t, c.Automatic().MaximumVariableAmount)
	assert.Equal(t, consent.MustAmount("500.00"), *c.Automatic().MaximumVariableAmount)
	assert.Equal(t, j.c.ExpirationDateTime, c.ExpirationDateTime, "the unchanged expiry was sent and kept")
	assert.NotNil(t, c.UpdatedAtDateTime)
}

func TestRevokeCancelsScheduledPayments(t *testing.T) {
	t.Parallel()
	j := newJourney(t, sandboxtest.Options{})
	p := j.charge(j.Today().AddDays(5), "150.00")
	j.Advance(t, time.Minute)
	require.Equal(t, payments.StatusSCHD, j.status(p.ID).Status)

	r, err := consent.NewRevocation(j.c, consent.ByIniciadora, consent.FromIniciadora, consent.RevocationRecebedor, "contract ended")
	require.NoError(t, err)
	c, err := j.Consents.Revoke(bg, j.c.RecurringConsentID, r, fapi.NewIdempotencyKey(nil))
	require.NoError(t, err)
	assert.Equal(t, consent.StatusRevoked, c.Status)
	p = j.status(p.ID)
	assert.Equal(t, payments.StatusCANC, p.Status)
	require.NotNil(t, p.Cancellation)
	assert.Equal(t, payments.CancelledScheduled, p.Cancellation.Reason)

	_, err = consent.NewRevocation(c, consent.ByIniciadora, consent.FromIniciadora, consent.RevocationRecebedor, "again")
	assert.ErrorIs(t, err, consent.ErrInvalidState, "a revoked consent cannot be revoked again")
}

func TestRejectBeforeAuthorisation(t *testing.T) {
	t.Parallel()
	e := sandboxtest.New(t, sandboxtest.Options{})
	c, err := e.Consents.Create(bg, e.ConsentRequest(), fapi.NewIdempotencyKey(nil))
	require.NoError(t, err)
	r, err := consent.NewRejection(c, consent.ByIniciadora, consent.FromIniciadora, consent.RejectionNaoInformado, "the receiver withdrew the offer")
	require.NoError(t, err)
	c, err = e.Consents.Reject(bg, c.RecurringConsentID, r, fapi.NewIdempotencyKey(nil))
	require.NoError(t, err)
	assert.Equal(t, consent.StatusRejected, c.Status)
	require.NotNil(t, c.Rejection)
	assert.Equal(t, consent.RejectionNaoInformado, c.Rejection.Reason.Code)
}

func TestCancelScheduledPayment(t *testing.T) {
	t.Parallel()
	j := newJourney(t, sandboxtest.Options{})
	p := j.charge(j.Today().AddDays(5), "150.00")
	j.Advance(t, time.Minute)
	p = j.status(p.ID)
	c, err := j.Payments.Cancel(bg, payments.CancelParams{Payment: p, Consent: j.c, CancelledBy: consent.DocumentFor(sandboxtest.CreditorCNPJ), IdempotencyKey: fapi.NewIdempotencyKey(nil)})
	require.NoError(t, err)
	assert.Equal(t, payments.StatusCANC, c.Status)

	_, err = j.Payments.Cancel(bg, payments.CancelParams{Payment: c, Consent: j.c, CancelledBy: consent.DocumentFor(sandboxtest.CreditorCNPJ), IdempotencyKey: fapi.NewIdempotencyKey(nil)})
	assert.ErrorIs(t, err, payments.ErrNotCancellable, "checked before the bank is called")
}

// Intraday: an SPI failure in the morning needs a new E2EID; the ITP sends a
// retry dated today before 12:00, which settles in the evening window.
func TestRetryIntraday(t *testing.T) {
	t.Parallel()
	j := newJourney(t, sandboxtest.Options{})
	require.NoError(t, j.Bank.ScriptSettlement(sandbox.DefaultPayerCPF, sandbox.Reject(payments.RejectionFalhaInfraestruturaSPI).In(sandbox.Morning)))
	due := j.Today().AddDays(3)
	p := j.charge(due, "150.00")
	j.AdvanceTo(t, sandboxtest.At(due, 9, 0))
	require.Equal(t, payments.StatusRJCT, j.status(p.ID).Status)

	d, retry, err := j.retry(p.ID, payments.RetryPolicy{})
	require.NoError(t, err)
	assert.Equal(t, payments.RetryIntraday, d.Action)
	require.NotNil(t, retry)
	assert.Equal(t, due, retry.Date)
	assert.NotEqual(t, p.EndToEndID, retry.EndToEndID, "a new E2EID")

	j.AdvanceTo(t, sandboxtest.At(due, 18, 30))
	got := j.status(retry.ID)
	assert.Equal(t, payments.StatusACSC, got.Status)
	assert.Equal(t, p.ID, got.OriginalRecurringPaymentID)
}

// After 12:00 the intraday retry is refused before the bank sees it.
func TestRetryIntradayAfterNoonRefused(t *testing.T) {
	t.Parallel()
	j := newJourney(t, sandboxtest.Options{})
	require.NoError(t, j.Bank.ScriptSettlement(sandbox.DefaultPayerCPF, sandbox.Reject(payments.RejectionFalhaInfraestruturaSPI).In(sandbox.Morning)))
	due := j.Today().AddDays(3)
	p := j.charge(due, "150.00")
	j.AdvanceTo(t, sandboxtest.At(due, 12, 0))
	d, retry, err := j.retry(p.ID, payments.RetryPolicy{NoNextDay: true})
	require.NoError(t, err)
	assert.Nil(t, retry)
	assert.Equal(t, payments.GiveUp, d.Action)
}

// Next day: insufficient funds in both of the bank's windows; the ITP
// retries dated D+1, which settles.
func TestRetryNextDay(t *testing.T) {
	t.Parallel()
	j := newJourney(t, sandboxtest.Options{})
	require.NoError(t, j.Bank.ScriptSettlement(sandbox.DefaultPayerCPF,
		sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Morning),
		sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Evening)))
	due := j.Today().AddDays(3)
	p := j.charge(due, "150.00")

	j.AdvanceTo(t, sandboxtest.At(due, 9, 0))
	d, retry, err := j.retry(p.ID, payments.RetryPolicy{})
	require.NoError(t, err)
	require.Nil(t, retry, "the bank retries by itself in the evening")
	assert.Equal(t, payments.Wait, d.Action)

	j.AdvanceTo(t, sandboxtest.At(due, 21, 30))
	require.Equal(t, payments.StatusRJCT, j.status(p.ID).Status)
	d, retry, err = j.retry(p.ID, payments.RetryPolicy{})
	require.NoError(t, err)
	assert.Equal(t, payments.RetryNextDay, d.Action)
	require.NotNil(t, retry)
	assert.Equal(t, due.AddDays(1), retry.Date)

	j.AdvanceTo(t, sandboxtest.At(due.AddDays(1), 8, 0))
	assert.Equal(t, payments.StatusACSC, j.status(retry.ID).Status)
}

// Three extraday retries fail: the decision gives up, and a fourth is
// refused by the SDK before the bank sees it.
func TestRetryLimitReached(t *testing.T) {
	t.Parallel()
	j := newJourney(t, sandboxtest.Options{})
	var script []sandbox.Outcome
	for range 8 {
		script = append(script, sandbox.Reject(payments.RejectionSaldoInsuficiente))
	}
	require.NoError(t, j.Bank.ScriptSettlement(sandbox.DefaultPayerCPF, script...))
	due := j.Today().AddDays(3)
	p := j.charge(due, "150.00")
	day := due
	for i := range 3 {
		j.AdvanceTo(t, sandboxtest.At(day, 21, 30))
		d, retry, err := j.retry(p.ID, payments.RetryPolicy{})
		require.NoError(t, err, "retry %d", i+1)
		require.Equal(t, payments.RetryNextDay, d.Action, "retry %d: %s", i+1, d.Message)
		require.NotNil(t, retry)
		day = retry.Date
	}
	j.AdvanceTo(t, sandboxtest.At(day, 21, 30))
	d, retry, err := j.retry(p.ID, payments.RetryPolicy{})
	require.NoError(t, err)
	assert.Nil(t, retry)
	assert.Equal(t, payments.GiveUp, d.Action)
	assert.Equal(t, 3, d.RetriesUsed)

	ps, err := j.Payments.List(bg, payments.ListFilter{ConsentID: j.c.RecurringConsentID, OriginalID: p.ID})
	require.NoError(t, err)
	chain, err := payments.ChainFromPayments(p.ID, ps)
	require.NoError(t, err)
	e2e, err := j.gen.Scheduled(day.AddDays(1))
	require.NoError(t, err)
	forced := &payments.Retry{OriginalID: p.ID, EndToEndID: e2e.String(), Date: day.AddDays(1)}
	_, err = j.Payments.Retry(bg, payments.RetryParams{Consent: j.c, Chain: chain, Retry: forced, IdempotencyKey: fapi.NewIdempotencyKey(nil)})
	assert.True(t, errors.Is(err, payments.ErrRetryLimit), "%v", err)
}

// A reason that must never be retried.
func TestRetryNeverRetryReason(t *testing.T) {
	t.Parallel()
	j := newJourney(t, sandboxtest.Options{})
	require.NoError(t, j.Bank.ScriptSettlement(sandbox.DefaultPayerCPF, sandbox.Reject(payments.RejectionTitularidadeInconsistente)))
	due := j.Today().AddDays(3)
	p := j.charge(due, "150.00")
	j.AdvanceTo(t, sandboxtest.At(due, 21, 30))
	require.Equal(t, payments.RejectionTitularidadeInconsistente, j.status(p.ID).RejectionCode())
	d, retry, err := j.retry(p.ID, payments.RetryPolicy{})
	require.NoError(t, err)
	assert.Nil(t, retry)
	assert.Equal(t, payments.GiveUp, d.Action)
}

// A 2.1.0 bank: the same code, the 2.1 wire form (retry as a POST with
// originalRecurringPaymentId, MANU, the M09-2024 reference).
func TestJourneyOnAPI210(t *testing.T) {
	t.Parallel()
	j := newJourney(t, sandboxtest.Options{Bank: sandbox.Config{APIVersion: "2.1.0"}})
	require.NoError(t, j.Bank.ScriptSettlement(sandbox.DefaultPayerCPF,
		sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Morning),
		sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Evening)))
	_ = j.existing() // learn the version from x-v
	require.Equal(t, payments.V210, j.Payments.Version())
	due := j.Today().AddDays(3)
	p := j.charge(due, "150.00")
	j.Advance(t, time.Minute)
	got := j.status(p.ID)
	assert.Equal(t, payments.InstrumentMANU, got.LocalInstrument)
	assert.Regexp(t, `^M\d{2}-\d{4}$`, got.PaymentReference)

	j.AdvanceTo(t, sandboxtest.At(due, 21, 30))
	d, retry, err := j.retry(p.ID, payments.RetryPolicy{})
	require.NoError(t, err, "%s", d.Message)
	require.NotNil(t, retry)
	j.AdvanceTo(t, sandboxtest.At(due.AddDays(1), 8, 0))
	got = j.status(retry.ID)
	assert.Equal(t, payments.StatusACSC, got.Status)
	assert.Equal(t, p.ID, got.OriginalRecurringPaymentID)
}
