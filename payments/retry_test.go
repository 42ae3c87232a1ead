package payments_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
)

// The retry scenarios settle on D = Monday 2025-08-25.
var settlementDay = date(2025, 8, 25)

// on returns the instant h:mi:s Brasília, n days after D.
func on(n, h, mi, s int) time.Time {
	d := settlementDay.AddDays(n)
	return brt(d.Year, d.Month, d.Day, h, mi, s)
}

// original returns the original attempt, rejected with code in the holder's
// 0–8h window of D.
func original(code payments.RejectionCode) payments.Attempt {
	return payments.Attempt{
		ID: "orig", EndToEndID: scheduledE2E(settlementDay, "origAAAAAAA"), Date: settlementDay,
		Status: payments.StatusRJCT, RejectionCode: code,
		Created: on(-5, 10, 0, 0), StatusUpdated: on(0, 6, 0, 0),
	}
}

// extraday returns a retry dated D+n, created the day before, rejected in
// the evening with code.
func extraday(n int, code payments.RejectionCode) payments.Attempt {
	return payments.Attempt{
		ID: fmt.Sprintf("r%d", n), EndToEndID: scheduledE2E(settlementDay.AddDays(n), fmt.Sprintf("retry%06d", n)),
		Date: settlementDay.AddDays(n), Status: payments.StatusRJCT, RejectionCode: code,
		Created: on(n-1, 15, 0, 0), StatusUpdated: on(n, 19, 0, 0),
	}
}

// intraday returns an intraday retry on D+n, created at 10:00, rejected in
// the evening with code.
func intraday(n int, code payments.RejectionCode) payments.Attempt {
	return payments.Attempt{
		ID: fmt.Sprintf("i%d", n), EndToEndID: scheduledE2E(settlementDay.AddDays(n), fmt.Sprintf("intra%06d", n)),
		Date: settlementDay.AddDays(n), Status: payments.StatusRJCT, RejectionCode: code,
		Created: on(n, 10, 0, 0), StatusUpdated: on(n, 19, 0, 0),
	}
}

func with(a payments.Attempt, f func(*payments.Attempt)) payments.Attempt {
	f(&a)
	return a
}

type decideCase struct {
	name     string
	chain    payments.Chain
	consent  *consent.Consent
	now      time.Time
	policy   payments.RetryPolicy
	action   payments.Action
	reason   payments.Reason
	date     consent.Date // for retries
	notAfter time.Time    // for Wait: expected NotBefore
	used     int
}

func runDecide(t *testing.T, tests []decideCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.consent
			if c == nil {
				c = newConsent()
			}
			d := payments.Decide(tt.chain, c, tt.now, tt.policy)
			require.Equal(t, tt.action, d.Action, d.Message)
			require.Equal(t, tt.reason, d.Reason, d.Message)
			require.NotEmpty(t, d.Message)
			if tt.action == payments.RetryIntraday || tt.action == payments.RetryNextDay {
				require.True(t, d.IsRetry())
				require.Equal(t, tt.date, d.Date)
			} else {
				require.False(t, d.IsRetry())
				require.True(t, d.Date.IsZero())
			}
			require.True(t, tt.notAfter.Equal(d.NotBefore), "NotBefore %s", d.NotBefore)
			require.Equal(t, tt.used, d.RetriesUsed)
			if len(tt.chain.Attempts) > 0 {
				require.Equal(t, tt.chain.Attempts[0].ID, d.OriginalID)
			}
		})
	}
}

// TestDecideEveryReasonAndTime crosses every rejection code with the
// boundaries of the settlement day.
func TestDecideEveryReasonAndTime(t *testing.T) {
	t.Parallel()
	type class int
	const (
		newE2E class = iota
		holder
		extradayOnly
		never
		unknown
	)
	codes := map[payments.RejectionCode]class{
		payments.RejectionNaoInformado:                              newE2E,
		payments.RejectionPagamentoRecusadoSPI:                      newE2E,
		payments.RejectionFalhaInfraestruturaSPI:                    newE2E,
		payments.RejectionFalhaInfraestruturaICP:                    newE2E,
		payments.RejectionFalhaInfraestruturaPSPRecebedor:           newE2E,
		payments.RejectionSaldoInsuficiente:                         holder,
		payments.RejectionValorAcimaLimite:                          holder,
		payments.RejectionPagamentoRecusadoDetentora:                holder,
		payments.RejectionFalhaInfraestruturaDetentora:              extradayOnly,
		payments.RejectionLimiteValorTransacaoConsentimentoExcedido: extradayOnly,
		payments.RejectionDetalheTentativaInvalido:                  extradayOnly,
		payments.RejectionValorInvalido:                             never,
		payments.RejectionPagamentoDivergenteConsentimento:          never,
		payments.RejectionConsentimentoInvalido:                     never,
		payments.RejectionTitularidadeInconsistente:                 never,
		payments.RejectionLimitePeriodoValorExcedido:                never,
		payments.RejectionLimitePeriodoQuantidadeExcedido:           never,
		payments.RejectionLimiteValorTotalConsentimentoExcedido:     never,
		payments.RejectionLimiteTentativasExcedido:                  never,
		payments.RejectionForaPrazoPermitido:                        never,
		payments.RejectionDetalhePagamentoInvalido:                  never,
		payments.RejectionConsentimentoRevogado:                     never,
		payments.RejectionCode("MOTIVO_FUTURO"):                     unknown,
		payments.RejectionCode(""):                                  unknown,
	}
	times := []struct {
		label string
		now   time.Time
	}{
		{"D 11:59:59", on(0, 11, 59, 59)},
		{"D 12:00:00", on(0, 12, 0, 0)},
		{"D 20:59:59", on(0, 20, 59, 59)},
		{"D 21:00:00", on(0, 21, 0, 0)},
		{"D+1 09:00", on(1, 9, 0, 0)},
	}
	var tests []decideCase
	for code, cl := range codes {
		for i, tm := range times {
			tc := decideCase{
				name:  fmt.Sprintf("%s at %s", code, tm.label),
				chain: payments.NewChain(original(code)),
				now:   tm.now,
			}
			today := consent.Today(tm.now)
			nextDay := func() {
				tc.action, tc.reason, tc.date = payments.RetryNextDay, payments.ReasonNextDay, today.AddDays(1)
			}
			switch cl {
			case newE2E:
				if i == 0 {
					tc.action, tc.reason, tc.date = payments.RetryIntraday, payments.ReasonIntradayNewE2EID, settlementDay
				} else {
					nextDay()
				}
			case holder:
				if i <= 2 {
					tc.action, tc.reason, tc.notAfter = payments.Wait, payments.ReasonHolderSecondWindow, on(0, 21, 0, 0)
				} else {
					nextDay()
				}
			case extradayOnly:
				nextDay()
			case never:
				tc.action, tc.reason = payments.GiveUp, payments.ReasonNeverRetry
			case unknown:
				tc.action, tc.reason = payments.GiveUp, payments.ReasonUnknownRejection
			}
			tests = append(tests, tc)
		}
	}
	runDecide(t, tests)
}

func TestDecideChainState(t *testing.T) {
	t.Parallel()
	rj := original(payments.RejectionSaldoInsuficiente)
	st := func(s payments.Status) payments.Attempt {
		return with(rj, func(a *payments.Attempt) { a.Status, a.RejectionCode = s, "" })
	}
	runDecide(t, []decideCase{
		{name: "empty chain", chain: payments.Chain{}, now: on(0, 9, 0, 0),
			action: payments.GiveUp, reason: payments.ReasonEmptyChain},
		{name: "original settled", chain: payments.NewChain(st(payments.StatusACSC)), now: on(0, 22, 0, 0),
			action: payments.Done, reason: payments.ReasonSettled},
		{name: "retry settled", chain: payments.NewChain(rj, with(extraday(1, ""), func(a *payments.Attempt) { a.Status = payments.StatusACSC })),
			now: on(1, 22, 0, 0), action: payments.Done, reason: payments.ReasonSettled, used: 1},
		{name: "scheduled", chain: payments.NewChain(st(payments.StatusSCHD)), now: on(0, 9, 0, 0),
			action: payments.Wait, reason: payments.ReasonInFlight},
		{name: "received", chain: payments.NewChain(st(payments.StatusRCVD)), now: on(0, 9, 0, 0),
			action: payments.Wait, reason: payments.ReasonInFlight},
		{name: "accepted", chain: payments.NewChain(st(payments.StatusACCP)), now: on(0, 9, 0, 0),
			action: payments.Wait, reason: payments.ReasonInFlight},
		{name: "in clearing", chain: payments.NewChain(st(payments.StatusACPD)), now: on(0, 9, 0, 0),
			action: payments.Wait, reason: payments.ReasonInFlight},
		{name: "pending", chain: payments.NewChain(st(payments.StatusPDNG)), now: on(0, 9, 0, 0),
			action: payments.Wait, reason: payments.ReasonInFlight},
		{name: "unknown status", chain: payments.NewChain(st("HOLD")), now: on(0, 9, 0, 0),
			action: payments.Wait, reason: payments.ReasonInFlight},
		{name: "retry in flight", chain: payments.NewChain(rj, with(extraday(1, ""), func(a *payments.Attempt) { a.Status = payments.StatusSCHD })),
			now: on(0, 22, 0, 0), action: payments.Wait, reason: payments.ReasonInFlight, used: 1},
		{name: "cancelled", chain: payments.NewChain(st(payments.StatusCANC)), now: on(-1, 9, 0, 0),
			action: payments.GiveUp, reason: payments.ReasonCancelled},
		{name: "in flight even when the policy is disabled", chain: payments.NewChain(st(payments.StatusSCHD)), now: on(0, 9, 0, 0),
			policy: payments.RetryPolicy{Disabled: true}, action: payments.Wait, reason: payments.ReasonInFlight},
		{name: "rejected ahead of its settlement date", chain: payments.NewChain(rj), now: on(-3, 9, 0, 0),
			action: payments.Wait, reason: payments.ReasonBeforeSettlementDate, notAfter: on(0, 0, 0, 0)},
		{name: "rejected ahead, the evening before", chain: payments.NewChain(rj), now: on(-1, 23, 59, 59),
			action: payments.Wait, reason: payments.ReasonBeforeSettlementDate, notAfter: on(0, 0, 0, 0)},
	})
}

func TestDecideConsentAndPolicy(t *testing.T) {
	t.Parallel()
	chain := payments.NewChain(original(payments.RejectionFalhaInfraestruturaDetentora))
	noAuto := newConsent()
	noAuto.RecurringConfiguration.Automatic = nil
	runDecide(t, []decideCase{
		{name: "policy disabled", chain: chain, now: on(0, 22, 0, 0), policy: payments.RetryPolicy{Disabled: true},
			action: payments.GiveUp, reason: payments.ReasonPolicyDisabled},
		{name: "next day disabled", chain: chain, now: on(0, 22, 0, 0), policy: payments.RetryPolicy{NoNextDay: true},
			action: payments.GiveUp, reason: payments.ReasonNextDayDisabled},
		{name: "intraday disabled falls to next day", chain: payments.NewChain(original(payments.RejectionFalhaInfraestruturaSPI)),
			now: on(0, 9, 0, 0), policy: payments.RetryPolicy{NoIntraday: true},
			action: payments.RetryNextDay, reason: payments.ReasonNextDay, date: settlementDay.AddDays(1)},
		{name: "intraday and next day disabled", chain: payments.NewChain(original(payments.RejectionFalhaInfraestruturaSPI)),
			now: on(0, 9, 0, 0), policy: payments.RetryPolicy{NoIntraday: true, NoNextDay: true},
			action: payments.GiveUp, reason: payments.ReasonNextDayDisabled},
		{name: "nil consent", chain: chain, now: on(0, 22, 0, 0), consent: &consent.Consent{},
			action: payments.GiveUp, reason: payments.ReasonConsentInvalid},
		{name: "sweeping consent", chain: chain, now: on(0, 22, 0, 0), consent: noAuto,
			action: payments.GiveUp, reason: payments.ReasonConsentInvalid},
		{name: "awaiting authorisation", chain: chain, now: on(0, 22, 0, 0), consent: newConsent(withStatus(consent.StatusAwaitingAuthorisation)),
			action: payments.GiveUp, reason: payments.ReasonConsentNotAuthorised},
		{name: "partially accepted", chain: chain, now: on(0, 22, 0, 0), consent: newConsent(withStatus(consent.StatusPartiallyAccepted)),
			action: payments.GiveUp, reason: payments.ReasonConsentNotAuthorised},
		{name: "revoked", chain: chain, now: on(0, 22, 0, 0), consent: newConsent(withStatus(consent.StatusRevoked)),
			action: payments.GiveUp, reason: payments.ReasonConsentFinal},
		{name: "rejected", chain: chain, now: on(0, 22, 0, 0), consent: newConsent(withStatus(consent.StatusRejected)),
			action: payments.GiveUp, reason: payments.ReasonConsentFinal},
		{name: "consumed", chain: chain, now: on(0, 22, 0, 0), consent: newConsent(withStatus(consent.StatusConsumed)),
			action: payments.GiveUp, reason: payments.ReasonConsentFinal},
		{name: "retries not accepted", chain: chain, now: on(0, 22, 0, 0), consent: newConsent(withRetryAccepted(false)),
			action: payments.GiveUp, reason: payments.ReasonRetryNotAccepted},
		{name: "intraday needs no isRetryAccepted", chain: payments.NewChain(original(payments.RejectionNaoInformado)),
			now: on(0, 11, 0, 0), consent: newConsent(withRetryAccepted(false)),
			action: payments.RetryIntraday, reason: payments.ReasonIntradayNewE2EID, date: settlementDay},
		{name: "after noon, retries not accepted", chain: payments.NewChain(original(payments.RejectionNaoInformado)),
			now: on(0, 12, 0, 0), consent: newConsent(withRetryAccepted(false)),
			action: payments.GiveUp, reason: payments.ReasonRetryNotAccepted},
	})
}

// TestDecideExpiry probes expirationDateTime (23:59:59Z = 20:59:59
// Brasília) around the retry date.
func TestDecideExpiry(t *testing.T) {
	t.Parallel()
	chain := payments.NewChain(original(payments.RejectionFalhaInfraestruturaDetentora))
	runDecide(t, []decideCase{
		{name: "retry dated on the expiry date", chain: chain, consent: newConsent(withExpiry(settlementDay.AddDays(1))),
			now: on(0, 22, 0, 0), action: payments.RetryNextDay, reason: payments.ReasonNextDay, date: settlementDay.AddDays(1)},
		{name: "retry dated the day after expiry", chain: chain, consent: newConsent(withExpiry(settlementDay)),
			now: on(0, 15, 0, 0), action: payments.GiveUp, reason: payments.ReasonExpiresBeforeRetry},
		{name: "last second before expiry (20:59:59 Brasília)", chain: chain, consent: newConsent(withExpiry(settlementDay)),
			now: on(0, 20, 59, 59), action: payments.GiveUp, reason: payments.ReasonExpiresBeforeRetry},
		{name: "one second after expiry (21:00:00 Brasília)", chain: chain, consent: newConsent(withExpiry(settlementDay)),
			now: on(0, 21, 0, 0), action: payments.GiveUp, reason: payments.ReasonConsentExpired},
		{name: "holder window still open on the expiry day", chain: payments.NewChain(original(payments.RejectionSaldoInsuficiente)),
			consent: newConsent(withExpiry(settlementDay)), now: on(0, 20, 59, 59),
			action: payments.Wait, reason: payments.ReasonHolderSecondWindow, notAfter: on(0, 21, 0, 0)},
	})
}

// TestDecideWindow probes the 7-day window (5 for SEMANAL when chosen).
func TestDecideWindow(t *testing.T) {
	t.Parallel()
	chain := payments.NewChain(with(original(payments.RejectionSaldoInsuficiente), func(a *payments.Attempt) {
		a.StatusUpdated = on(0, 19, 0, 0)
	}))
	weekly := newConsent(withInterval(consent.IntervalSemanal))
	five := payments.RetryPolicy{WeeklyFiveDays: true}
	next := func(n int) consent.Date { return settlementDay.AddDays(n) }
	runDecide(t, []decideCase{
		{name: "monthly: retry on day 7", chain: chain, now: on(6, 10, 0, 0),
			action: payments.RetryNextDay, reason: payments.ReasonNextDay, date: next(7)},
		{name: "monthly: day 7 at the last second of day 6", chain: chain, now: on(6, 23, 59, 59),
			action: payments.RetryNextDay, reason: payments.ReasonNextDay, date: next(7)},
		{name: "monthly: day 8 refused", chain: chain, now: on(7, 0, 0, 0),
			action: payments.GiveUp, reason: payments.ReasonWindowPassed},
		{name: "monthly ignores the weekly option", chain: chain, now: on(6, 10, 0, 0), policy: five,
			action: payments.RetryNextDay, reason: payments.ReasonNextDay, date: next(7)},
		{name: "weekly, 7-day reading: day 7", chain: chain, consent: weekly, now: on(6, 10, 0, 0),
			action: payments.RetryNextDay, reason: payments.ReasonNextDay, date: next(7)},
		{name: "weekly, 7-day reading: day 8 refused", chain: chain, consent: weekly, now: on(7, 10, 0, 0),
			action: payments.GiveUp, reason: payments.ReasonWindowPassed},
		{name: "weekly, 5-day reading: day 5", chain: chain, consent: weekly, now: on(4, 10, 0, 0), policy: five,
			action: payments.RetryNextDay, reason: payments.ReasonNextDay, date: next(5)},
		{name: "weekly, 5-day reading: day 6 refused", chain: chain, consent: weekly, now: on(5, 10, 0, 0), policy: five,
			action: payments.GiveUp, reason: payments.ReasonWindowPassed},
		{name: "second window failed: retry at once", chain: chain, now: on(0, 19, 30, 0),
			action: payments.RetryNextDay, reason: payments.ReasonNextDay, date: next(1)},
		{name: "failure at exactly 18:00 is the second window", now: on(0, 18, 30, 0),
			chain: payments.NewChain(with(original(payments.RejectionSaldoInsuficiente), func(a *payments.Attempt) {
				a.StatusUpdated = on(0, 18, 0, 0)
			})),
			action: payments.RetryNextDay, reason: payments.ReasonNextDay, date: next(1)},
		{name: "failure at 17:59:59 waits for the second window", now: on(0, 18, 30, 0),
			chain: payments.NewChain(with(original(payments.RejectionSaldoInsuficiente), func(a *payments.Attempt) {
				a.StatusUpdated = on(0, 17, 59, 59)
			})),
			action: payments.Wait, reason: payments.ReasonHolderSecondWindow, notAfter: on(0, 21, 0, 0)},
		{name: "unknown failure time waits for the second window", now: on(0, 19, 30, 0),
			chain: payments.NewChain(with(original(payments.RejectionSaldoInsuficiente), func(a *payments.Attempt) {
				a.StatusUpdated = time.Time{}
			})),
			action: payments.Wait, reason: payments.ReasonHolderSecondWindow, notAfter: on(0, 21, 0, 0)},
	})
}

// TestDecideRetryCount probes the three extraday retries (item 55).
func TestDecideRetryCount(t *testing.T) {
	t.Parallel()
	o := original(payments.RejectionSaldoInsuficiente)
	saldo := payments.RejectionSaldoInsuficiente
	runDecide(t, []decideCase{
		{name: "one used", chain: payments.NewChain(o, extraday(1, saldo)), now: on(1, 21, 30, 0),
			action: payments.RetryNextDay, reason: payments.ReasonNextDay, date: settlementDay.AddDays(2), used: 1},
		{name: "two used: third allowed", chain: payments.NewChain(o, extraday(1, saldo), extraday(2, saldo)), now: on(2, 21, 30, 0),
			action: payments.RetryNextDay, reason: payments.ReasonNextDay, date: settlementDay.AddDays(3), used: 2},
		{name: "three used: give up", chain: payments.NewChain(o, extraday(1, saldo), extraday(2, saldo), extraday(3, saldo)),
			now: on(3, 21, 30, 0), action: payments.GiveUp, reason: payments.ReasonRetryLimit, used: 3},
		{name: "policy max 2 with two used", chain: payments.NewChain(o, extraday(1, saldo), extraday(2, saldo)), now: on(2, 21, 30, 0),
			policy: payments.RetryPolicy{MaxRetries: 2}, action: payments.GiveUp, reason: payments.ReasonRetryLimit, used: 2},
		{name: "policy max 1 with none used", chain: payments.NewChain(o), now: on(0, 21, 30, 0),
			policy: payments.RetryPolicy{MaxRetries: 1}, action: payments.RetryNextDay, reason: payments.ReasonNextDay, date: settlementDay.AddDays(1)},
		{name: "policy max above 3 is clamped", chain: payments.NewChain(o, extraday(1, saldo), extraday(2, saldo), extraday(3, saldo)),
			now: on(3, 21, 30, 0), policy: payments.RetryPolicy{MaxRetries: 9}, action: payments.GiveUp, reason: payments.ReasonRetryLimit, used: 3},
		{name: "a retry rejected with a non-counting code is not counted",
			chain: payments.NewChain(o, extraday(1, saldo), extraday(2, payments.RejectionDetalheTentativaInvalido), extraday(3, saldo)),
			now:   on(3, 21, 30, 0), action: payments.RetryNextDay, reason: payments.ReasonNextDay, date: settlementDay.AddDays(4), used: 2},
		{name: "intraday retries are not counted",
			chain: payments.NewChain(original(payments.RejectionFalhaInfraestruturaSPI), intraday(0, payments.RejectionFalhaInfraestruturaSPI),
				extraday(1, saldo), extraday(2, saldo)),
			now: on(2, 21, 30, 0), action: payments.RetryNextDay, reason: payments.ReasonNextDay, date: settlementDay.AddDays(3), used: 2},
		{name: "a retry with unknown creation time counts as extraday",
			chain: payments.NewChain(o, extraday(1, saldo), extraday(2, saldo),
				with(intraday(2, saldo), func(a *payments.Attempt) { a.ID, a.Created = "x", time.Time{} })),
			now: on(2, 21, 30, 0), action: payments.GiveUp, reason: payments.ReasonRetryLimit, used: 3},
	})
}

// TestDecideIntraday covers the one intraday retry of a settlement day.
func TestDecideIntraday(t *testing.T) {
	t.Parallel()
	spi := payments.RejectionFalhaInfraestruturaSPI
	saldo := payments.RejectionSaldoInsuficiente
	runDecide(t, []decideCase{
		{name: "intraday on an extraday retry's settlement day", chain: payments.NewChain(original(saldo),
			with(extraday(1, spi), func(a *payments.Attempt) { a.StatusUpdated = on(1, 6, 0, 0) })),
			now: on(1, 9, 0, 0), action: payments.RetryIntraday, reason: payments.ReasonIntradayNewE2EID, date: settlementDay.AddDays(1), used: 1},
		{name: "only one intraday retry per day", chain: payments.NewChain(original(spi),
			with(intraday(0, spi), func(a *payments.Attempt) { a.StatusUpdated = on(0, 10, 30, 0) })),
			now: on(0, 11, 0, 0), action: payments.RetryNextDay, reason: payments.ReasonNextDay, date: settlementDay.AddDays(1)},
		{name: "failed intraday retry does not wait for the holder", chain: payments.NewChain(original(spi), intraday(0, saldo)),
			now: on(0, 19, 30, 0), action: payments.RetryNextDay, reason: payments.ReasonNextDay, date: settlementDay.AddDays(1)},
		{name: "tomorrow already has an attempt", chain: payments.NewChain(original(saldo),
			with(extraday(2, saldo), func(a *payments.Attempt) { a.ID = "early" }), extraday(1, payments.RejectionFalhaInfraestruturaDetentora)),
			now: on(1, 22, 0, 0), action: payments.Wait, reason: payments.ReasonDateTaken, notAfter: on(2, 0, 0, 0), used: 2},
	})
}

func TestDecideIsPure(t *testing.T) {
	t.Parallel()
	chain := payments.NewChain(original(payments.RejectionSaldoInsuficiente), extraday(1, payments.RejectionSaldoInsuficiente))
	before := fmt.Sprintf("%+v", chain)
	c := newConsent()
	d1 := payments.Decide(chain, c, on(1, 22, 0, 0), payments.RetryPolicy{})
	d2 := payments.Decide(chain, c, on(1, 22, 0, 0), payments.RetryPolicy{})
	require.Equal(t, d1, d2)
	require.Equal(t, before, fmt.Sprintf("%+v", chain))
	require.Equal(t, newConsent(), c)
}

func TestChain(t *testing.T) {
	t.Parallel()
	saldo := payments.RejectionSaldoInsuficiente
	ch := payments.NewChain(original(payments.RejectionFalhaInfraestruturaSPI), intraday(0, saldo), extraday(1, saldo),
		with(extraday(2, ""), func(a *payments.Attempt) { a.Status = payments.StatusSCHD }))
	require.Equal(t, []string{"orig", "i0", "r1"}, ch.FailedAttemptIDs())
	require.Equal(t, payments.KindOriginal, ch.Kind(0))
	require.Equal(t, payments.KindIntraday, ch.Kind(1))
	require.Equal(t, payments.KindExtraday, ch.Kind(2))
	require.Equal(t, "extraday", ch.Kind(3).String())
	require.Equal(t, "AttemptKind(9)", payments.AttemptKind(9).String())
	require.Equal(t, 2, ch.ExtradayRetries())
	require.True(t, ch.HasDate(settlementDay.AddDays(2)))
	require.False(t, ch.HasDate(settlementDay.AddDays(3)))
	require.True(t, ch.HasEndToEndID(original("").EndToEndID))
	require.False(t, ch.Settled())
	last, ok := ch.Last()
	require.True(t, ok)
	require.Equal(t, "r2", last.ID)

	grown := ch.Append(extraday(3, saldo))
	require.Len(t, grown.Attempts, 5)
	require.Len(t, ch.Attempts, 4, "Append copies")
	alias := ch.Append(extraday(4, saldo))
	require.Equal(t, "r3", grown.Attempts[4].ID, "appends do not clobber each other")
	require.Equal(t, "r4", alias.Attempts[4].ID)

	_, ok = payments.Chain{}.Original()
	require.False(t, ok)
	_, ok = payments.Chain{}.Last()
	require.False(t, ok)
	require.Empty(t, payments.Chain{}.FailedAttemptIDs())
}

func TestChainFromPayments(t *testing.T) {
	t.Parallel()
	mk := func(id, orig string, created time.Time, d consent.Date, s payments.Status) payments.Payment {
		return payments.Payment{ID: id, OriginalRecurringPaymentID: orig, Date: d, Status: s,
			CreationDateTime: consent.NewDateTime(created), EndToEndID: "E" + id,
			RejectionReason: &payments.RejectionReason{Code: payments.RejectionSaldoInsuficiente}}
	}
	list := []payments.Payment{
		mk("r2", "orig", on(1, 15, 0, 0), settlementDay.AddDays(2), payments.StatusSCHD),
		mk("other", "", on(-9, 9, 0, 0), settlementDay.AddDays(-30), payments.StatusACSC),
		mk("orig", "", on(-5, 10, 0, 0), settlementDay, payments.StatusRJCT),
		mk("r1", "orig", on(0, 15, 0, 0), settlementDay.AddDays(1), payments.StatusRJCT),
		mk("foreign", "other", on(0, 15, 0, 0), settlementDay.AddDays(1), payments.StatusRJCT),
	}
	ch, err := payments.ChainFromPayments("orig", list)
	require.NoError(t, err)
	ids := []string{}
	for _, a := range ch.Attempts {
		ids = append(ids, a.ID)
	}
	require.Equal(t, []string{"orig", "r1", "r2"}, ids)
	require.Equal(t, payments.RejectionSaldoInsuficiente, ch.Attempts[1].RejectionCode)
	require.Equal(t, on(0, 15, 0, 0).UTC(), ch.Attempts[1].Created.UTC())

	_, err = payments.ChainFromPayments("missing", list)
	require.ErrorIs(t, err, payments.ErrMissing)
	_, err = payments.ChainFromPayments("r1", list)
	require.ErrorIs(t, err, payments.ErrMissing, "a retry is not an original")
}

func TestPlanRetry(t *testing.T) {
	t.Parallel()
	chain := payments.NewChain(original(payments.RejectionSaldoInsuficiente), extraday(1, payments.RejectionSaldoInsuficiente))
	d := payments.Decide(chain, newConsent(), on(1, 21, 30, 0), payments.RetryPolicy{})
	require.Equal(t, payments.RetryNextDay, d.Action)
	orig := recurrence(date(2025, 8, 23), settlementDay)

	rt, err := payments.PlanRetry(chain, d, orig, newGen())
	require.NoError(t, err)
	require.Equal(t, "orig", rt.OriginalID)
	require.Equal(t, settlementDay.AddDays(2), rt.Date)
	require.Equal(t, "E12345678202508271500", rt.EndToEndID[:21])
	require.Equal(t, []string{"orig", "r1"}, rt.FailedAttemptIDs)
	require.Same(t, orig, rt.Original)

	_, err = payments.PlanRetry(chain, payments.Decision{Action: payments.Wait}, orig, newGen())
	require.ErrorIs(t, err, payments.ErrNotRetryable)
	_, err = payments.PlanRetry(payments.Chain{}, d, orig, newGen())
	require.ErrorIs(t, err, payments.ErrMissing)
	_, err = payments.PlanRetry(chain, d, orig, nil)
	require.ErrorIs(t, err, payments.ErrMissing)
	_, err = payments.PlanRetry(chain, d, orig, &payments.Generator{ISPB: "bad"})
	require.ErrorIs(t, err, payments.ErrInvalidE2EID)
}
