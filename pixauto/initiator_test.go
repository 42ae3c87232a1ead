package pixauto_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/ofb-go/pixauto/pixauto/store/sqlite"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var bg = context.Background()

const receiver = "receiver-1"

// env is an Initiator on a sandbox bank and a SQLite store.
type env struct {
	*sandboxtest.Env
	t      testing.TB
	store  pixauto.Store
	in     *pixauto.Initiator
	mu     sync.Mutex
	events []pixauto.Event
	// policy is the retry policy of the Initiators built by initiator().
	policy payments.RetryPolicy
}

var secretKey = []byte("0123456789abcdef0123456789abcdef")

func newEnv(t testing.TB, o sandboxtest.Options) *env {
	t.Helper()
	e := &env{Env: sandboxtest.New(t, o), t: t}
	st, err := sqlite.Open(bg, filepath.Join(t.TempDir(), "pixauto.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	e.store = st
	e.in = e.initiator(st)
	return e
}

// initiator builds an Initiator on store: a "restart" is a new one on the
// same store.
func (e *env) initiator(store pixauto.Store) *pixauto.Initiator {
	in, err := pixauto.New(pixauto.Config{
		CNPJ: e.ITPCNPJ, ISPB: sandboxtest.ITPISPB, Store: store, SecretKey: secretKey, Clock: e.Clock, RetryPolicy: e.policy,
		Holders: []pixauto.Holder{{ID: "bank", FAPI: e.FAPI, BaseURL: e.Bank.MTLSURL + sandbox.AutomaticPaymentsBase}},
		OnEvent: func(ev pixauto.Event) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.events = append(e.events, ev)
		},
	})
	require.NoError(e.t, err)
	return in
}

func (e *env) eventTypes(chargeID string) []pixauto.EventType {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []pixauto.EventType
	for _, ev := range e.events {
		if ev.ChargeID == chargeID {
			out = append(out, ev.Type)
		}
	}
	return out
}

// enrol runs Enrol, the payer's approval at the bank and Complete.
func (e *env) enrol(req *consent.CreateRequest) *pixauto.ConsentRecord {
	e.t.Helper()
	en, err := e.in.Enrol(bg, pixauto.EnrolRequest{ReceiverID: receiver, HolderID: "bank", Consent: req})
	require.NoError(e.t, err)
	redirect, err := e.Bank.Authorize(bg, en.RedirectURL)
	require.NoError(e.t, err)
	rec, err := e.in.Complete(bg, redirect)
	require.NoError(e.t, err)
	require.Equal(e.t, consent.StatusAuthorised, rec.Status)
	return rec
}

// runUntil moves the clock in steps, running Sync after each, until until.
func (e *env) runUntil(until time.Time, step time.Duration) {
	e.t.Helper()
	for e.Clock.Now().Before(until) {
		next := e.Clock.Now().Add(step)
		if next.After(until) {
			next = until
		}
		e.AdvanceTo(e.t, next)
		_, err := e.in.Sync(bg)
		require.NoError(e.t, err)
	}
}

func (e *env) charge(id string) *pixauto.ChargeRecord {
	e.t.Helper()
	ch, err := e.in.GetCharge(bg, id)
	require.NoError(e.t, err)
	return ch
}

func (e *env) attempts(chargeID string) []*pixauto.AttemptRecord {
	e.t.Helper()
	as, err := e.in.Attempts(bg, chargeID)
	require.NoError(e.t, err)
	return as
}

func (e *env) newCharge(consentID string, due consent.Date, amount string) *pixauto.ChargeRecord {
	e.t.Helper()
	ch, err := e.in.Charge(bg, pixauto.ChargeRequest{ConsentID: consentID, DueDate: due, Amount: consent.MustAmount(amount), CreditorAccount: sandboxtest.CreditorAccount, Description: "mensalidade"})
	require.NoError(e.t, err)
	return ch
}

func TestInitiatorJourney1NoFirstPayment(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandboxtest.Options{})
	rec := e.enrol(e.ConsentRequest())
	due := e.Today().AddDays(3)
	ch := e.newCharge(rec.ID, due, "150.00")
	as := e.attempts(ch.ID)
	require.Len(t, as, 1)
	assert.Equal(t, pixauto.AttemptSubmitted, as[0].State, "due within LeadDays: submitted at once")
	assert.NotEmpty(t, as[0].PaymentID)
	assert.Len(t, as[0].EndToEndID, 32)

	e.runUntil(sandboxtest.At(due, 12, 0), time.Hour)
	ch = e.charge(ch.ID)
	assert.Equal(t, pixauto.ChargeSettled, ch.Status)
	assert.Equal(t, []pixauto.EventType{pixauto.EventChargePlanned, pixauto.EventChargeScheduled, pixauto.EventChargeSettled}, e.eventTypes(ch.ID))
	assert.Len(t, e.Bank.Payments(rec.ID), 1)
}

func TestInitiatorJourney2ImmediateFirstPayment(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandboxtest.Options{})
	rec := e.enrol(e.ConsentRequest(func(r *consent.CreateRequest) {
		consent.WithFirstPayment(e.Today(), consent.MustAmount("49.90"), sandboxtest.CreditorAccount, "adesao")(r.RecurringConfiguration.Automatic)
	}))
	var first *pixauto.ChargeRecord
	for ch, err := range e.in.ListCharges(bg, pixauto.ChargeFilter{ConsentID: rec.ID}) {
		require.NoError(t, err)
		first = ch
	}
	require.NotNil(t, first, "Complete created the first payment")
	assert.Equal(t, "zero", first.Reference)
	e.runUntil(e.Clock.Now().Add(30*time.Minute), 10*time.Minute)
	assert.Equal(t, pixauto.ChargeSettled, e.charge(first.ID).Status)
}

func TestInitiatorJourney3ScheduledFirstPayment(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandboxtest.Options{})
	fp := e.Today().AddDays(4)
	rec := e.enrol(e.ConsentRequest(func(r *consent.CreateRequest) {
		consent.WithFirstPayment(fp, consent.MustAmount("49.90"), sandboxtest.CreditorAccount, "adesao")(r.RecurringConfiguration.Automatic)
		r.RecurringConfiguration.Automatic.ReferenceStartDate = e.Today().AddDays(10)
	}))
	e.runUntil(e.Clock.Now().Add(time.Hour), 10*time.Minute)
	var first *pixauto.ChargeRecord
	for ch, err := range e.in.ListCharges(bg, pixauto.ChargeFilter{ConsentID: rec.ID}) {
		require.NoError(t, err)
		first = ch
	}
	require.NotNil(t, first)
	assert.Equal(t, pixauto.ChargeScheduled, first.Status)
	e.runUntil(sandboxtest.At(fp, 12, 0), 3*time.Hour)
	assert.Equal(t, pixauto.ChargeSettled, e.charge(first.ID).Status)
}

// A year of monthly charges: settled months, an insufficient-funds month
// recovered by a next-day retry, an SPI-failure month recovered intraday,
// and a month that exhausts its retries.
func TestInitiatorYearOfMonthlyCharges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandboxtest.Options{})
	rec := e.enrol(e.ConsentRequest())
	billing, err := payments.BillingOf(rec.Consent)
	require.NoError(t, err)
	var charges []*pixauto.ChargeRecord
	for m := range 12 {
		cycle, err := billing.Cycle(m)
		require.NoError(t, err)
		due := cycle.Start
		e.runUntil(sandboxtest.At(due.AddDays(-7), 9, 0), 6*time.Hour)
		switch m {
		case 3:
			require.NoError(t, e.Bank.ScriptConsentSettlement(rec.ID,
				sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Morning),
				sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Evening)))
		case 6:
			require.NoError(t, e.Bank.ScriptConsentSettlement(rec.ID, sandbox.Reject(payments.RejectionFalhaInfraestruturaSPI).In(sandbox.Morning)))
		case 9:
			var all []sandbox.Outcome
			for range 8 {
				all = append(all, sandbox.Reject(payments.RejectionSaldoInsuficiente))
			}
			require.NoError(t, e.Bank.ScriptConsentSettlement(rec.ID, all...))
		}
		ch := e.newCharge(rec.ID, due, "129.90")
		assert.Equal(t, pixauto.ChargePlanned, ch.Status, "month %d: planned, submitted LeadDays before the due date", m)
		e.runUntil(sandboxtest.At(due.AddDays(9), 12, 0), time.Hour)
		charges = append(charges, e.charge(ch.ID))
	}
	for m, ch := range charges {
		as := e.attempts(ch.ID)
		switch m {
		case 3:
			assert.Equal(t, pixauto.ChargeSettled, ch.Status, "month 3")
			require.Len(t, as, 2, "month 3: original + next-day retry")
			assert.Equal(t, payments.KindExtraday, as[1].Kind)
			assert.Equal(t, as[0].Date.AddDays(1), as[1].Date)
		case 6:
			assert.Equal(t, pixauto.ChargeSettled, ch.Status, "month 6")
			require.Len(t, as, 2, "month 6: original + intraday retry")
			assert.Equal(t, payments.KindIntraday, as[1].Kind)
			assert.Equal(t, as[0].Date, as[1].Date)
		case 9:
			assert.Equal(t, pixauto.ChargeFailed, ch.Status, "month 9")
			assert.Len(t, as, 4, "month 9: original + 3 retries")
			assert.Equal(t, payments.RejectionSaldoInsuficiente, ch.FailureCode)
			types := e.eventTypes(ch.ID)
			assert.Equal(t, pixauto.EventChargeFailed, types[len(types)-1])
		default:
			assert.Equal(t, pixauto.ChargeSettled, ch.Status, "month %d", m)
			assert.Len(t, as, 1, "month %d", m)
		}
		seen := map[string]bool{}
		for _, a := range as {
			assert.False(t, seen[a.EndToEndID], "E2EID reused")
			seen[a.EndToEndID] = true
			assert.Equal(t, pixauto.AttemptSubmitted, a.State)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.events {
		if ev.Type == pixauto.EventChargeFailed {
			assert.Equal(t, pixauto.ReasonPayerBankRefused, ev.Reason, "balance reasons are not forwarded as such")
		}
	}
	total := 0
	for _, ch := range charges {
		total += len(e.attempts(ch.ID))
	}
	assert.Len(t, e.Bank.Payments(rec.ID), total, "the bank holds exactly the attempts the Initiator recorded")
}

func TestInitiatorWeeklyConsent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandboxtest.Options{})
	rec := e.enrol(e.ConsentRequest(func(r *consent.CreateRequest) {
		r.RecurringConfiguration.Automatic.Interval = consent.IntervalSemanal
	}))
	billing, err := payments.BillingOf(rec.Consent)
	require.NoError(t, err)
	for w := range 5 {
		cycle, err := billing.Cycle(w)
		require.NoError(t, err)
		e.runUntil(sandboxtest.At(cycle.Start.AddDays(-3), 9, 0), 6*time.Hour)
		ch := e.newCharge(rec.ID, cycle.Start, "35.00")
		e.runUntil(sandboxtest.At(cycle.Start, 12, 0), 3*time.Hour)
		assert.Equal(t, pixauto.ChargeSettled, e.charge(ch.ID).Status, "week %d", w)
	}
	for _, p := range e.Bank.Payments(rec.ID) {
		assert.Regexp(t, `^R/\d{4}-\d{2}-\d{2}/P1W$`, p.PaymentReference)
	}
}

func mustAmount(s string) consent.Amount { return consent.MustAmount(s) }

func (e *env) eventsOf(t pixauto.EventType) []pixauto.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []pixauto.Event
	for _, ev := range e.events {
		if ev.Type == t {
			out = append(out, ev)
		}
	}
	return out
}
