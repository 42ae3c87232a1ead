package conformance

import (
	"net/http"
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

// decideAndRetry runs the SDK's decision on a recurrence and, when it says
// retry, plans and sends the retry; it returns the decision and the retry
// as read back with GET.
func (s *scenario) decideAndRetry(originalID string, policy payments.RetryPolicy) (payments.Decision, *payments.Payment) {
	s.t.Helper()
	ch, d := s.decide(originalID, policy)
	if !d.IsRetry() {
		return d, nil
	}
	rt, err := payments.PlanRetry(ch, d, s.sent[originalID], s.gen)
	require.NoError(s.t, err)
	p, err := s.retry(ch, &rt)
	require.NoError(s.t, err, "%s", d.Message)
	assert.Equal(s.t, rt.EndToEndID, p.EndToEndID)
	return d, s.get(p.ID)
}

// refusedRetry is the dual check of a retry the module expects refused.
func (s *scenario) refusedRetry(rt *payments.Retry, sentinel error, code string) {
	s.t.Helper()
	m := s.mark()
	_, err := s.retry(s.chain(rt.OriginalID), rt)
	isPaymentsValidation(s.t, err, sentinel)
	s.noCall(m, http.MethodPost, "/retry")
	call, err := payments.EncodeRetry(payments.V220, rt)
	require.NoError(s.t, err)
	_, err = s.sendCall(call, nil, s.cc())
	want422(s.t, err, code)
}

// failTwice scripts insufficient funds in both of the bank's windows.
func (s *scenario) failTwice() {
	s.t.Helper()
	require.NoError(s.t, s.Bank.ScriptConsentSettlement(s.c.RecurringConsentID,
		sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Morning),
		sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Evening)))
}

// automatic-payments_api_automatic-pix-intraday-core_test-module_v2-2
//
// A payment rejected in the morning for a reason that needs a new
// endToEndId is retried the same day (new E2EID, date D+0) before 12:00
// Brasília: the retry is SCHD and settles in the evening window. The ITP
// needs the intraday retry builder (same payload, new E2EID) and a clock in
// Brasília time.
func TestAutomaticPixRetry_IntradayCore(t *testing.T) {
	t.Parallel()
	s := newScenario(t, sandboxtest.Options{})
	require.NoError(t, s.Bank.ScriptConsentSettlement(s.c.RecurringConsentID, sandbox.Reject(payments.RejectionPagamentoRecusadoSPI).In(sandbox.Morning)))
	due := s.c.Automatic().ReferenceStartDate
	p := s.charge(0, due, "150.00")

	s.AdvanceTo(t, sandboxtest.At(due, 9, 0))
	orig := s.get(p.ID)
	require.Equal(t, payments.StatusRJCT, orig.Status)
	require.Equal(t, payments.RejectionPagamentoRecusadoSPI, orig.RejectionCode())
	require.True(t, orig.RejectionCode().NeedsNewE2EID())

	d, rt := s.decideAndRetry(p.ID, payments.RetryPolicy{})
	require.Equal(t, payments.RetryIntraday, d.Action, d.Message)
	require.NotNil(t, rt)
	assert.Equal(t, due, rt.Date, "intraday: dated today")
	assert.Equal(t, p.ID, rt.OriginalRecurringPaymentID)
	assert.NotEqual(t, orig.EndToEndID, rt.EndToEndID, "a new endToEndId")
	e2e, err := payments.ParseE2EID(rt.EndToEndID)
	require.NoError(t, err)
	assert.Equal(t, due, e2e.Date())
	assert.True(t, e2e.IsScheduled())
	assert.Equal(t, orig.Amount, rt.Amount, "same payload")
	assert.Equal(t, orig.PaymentReference, rt.PaymentReference)
	rt = s.awaitStatus(rt.ID, payments.StatusSCHD, time.Minute, sandboxtest.At(due, 12, 0))

	s.AdvanceTo(t, sandboxtest.At(due, 18, 30))
	assert.Equal(t, payments.StatusACSC, s.get(rt.ID).Status)
	_, d = s.decide(p.ID, payments.RetryPolicy{})
	assert.Equal(t, payments.Done, d.Action)
	assert.Len(t, s.chain(p.ID).Attempts, 2, "the list by originalRecurringPaymentId holds the original and its retry")
}

// automatic-payments_api_automatic-pix-intraday-timezone_test-module_v2-2
//
// On a consent with two rejected payments, an intraday retry asked after
// 12:00 Brasília is refused with FORA_PRAZO_PERMITIDO. The ITP must enforce
// the 12:00 Brasília cut-off locally (12:00 Brasília is 15:00 UTC).
func TestAutomaticPixRetry_IntradayTimezone(t *testing.T) {
	t.Parallel()
	s := newEnv(t, sandboxtest.Options{})
	today := s.Today()
	ref := today.AddDays(2)
	s.authorise(withInterval(consent.IntervalSemanal), withReferenceStart(ref))
	require.NoError(t, s.Bank.ScriptConsentSettlement(s.c.RecurringConsentID,
		sandbox.Reject(payments.RejectionFalhaInfraestruturaSPI).In(sandbox.Morning),
		sandbox.Reject(payments.RejectionFalhaInfraestruturaSPI).In(sandbox.Morning)))
	a := s.charge(0, ref.AddDays(6), "150.00") // last day of cycle 0
	b := s.charge(1, ref.AddDays(7), "150.00") // first day of cycle 1

	// A: rejected in the morning, retried at 11:59 (14:59 UTC): accepted.
	s.AdvanceTo(t, sandboxtest.At(a.Date, 11, 59))
	require.Equal(t, payments.StatusRJCT, s.get(a.ID).Status)
	d, rt := s.decideAndRetry(a.ID, payments.RetryPolicy{})
	require.Equal(t, payments.RetryIntraday, d.Action, d.Message)
	s.awaitStatus(rt.ID, payments.StatusSCHD, time.Minute, sandboxtest.At(a.Date, 12, 0))

	// B: rejected in the morning, retry asked at 12:00 (15:00 UTC): refused.
	s.AdvanceTo(t, sandboxtest.At(b.Date, 12, 0))
	require.Equal(t, 15, s.Clock.Now().UTC().Hour())
	assert.Equal(t, payments.StatusACSC, s.get(rt.ID).Status, "A's retry settled in the evening")
	rejected := 0
	for _, p := range s.existing() {
		if p.Status == payments.StatusRJCT {
			rejected++
		}
	}
	assert.Equal(t, 2, rejected, "two rejected payments on the consent")
	_, d = s.decide(b.ID, payments.RetryPolicy{})
	assert.NotEqual(t, payments.RetryIntraday, d.Action, "past the cut-off the SDK plans no intraday retry")
	s.refusedRetry(&payments.Retry{OriginalID: b.ID, EndToEndID: s.scheduledE2EID(b.Date), Date: b.Date}, payments.ErrRetryWindow, "FORA_PRAZO_PERMITIDO")
}

// automatic-payments_api_automatic-pix-extraday-core_test-module_v2-2
//
// On a consent with isRetryAccepted=true, a payment that failed both of the
// day's attempts is retried for D+1 (SCHD); the payer's cancellation of that
// retry is refused with PAGAMENTO_NAO_PERMITE_CANCELAMENTO. Retries are not
// cancellable by the payer.
func TestAutomaticPixRetry_ExtradayCore(t *testing.T) {
	t.Parallel()
	s := newScenario(t, sandboxtest.Options{})
	require.True(t, s.c.Automatic().IsRetryAccepted)
	s.failTwice()
	due := s.c.Automatic().ReferenceStartDate
	p := s.charge(0, due, "150.00")

	s.AdvanceTo(t, sandboxtest.At(due, 9, 0))
	d, rt := s.decideAndRetry(p.ID, payments.RetryPolicy{})
	require.Nil(t, rt)
	assert.Equal(t, payments.Wait, d.Action, "the bank tries again in the evening")

	s.AdvanceTo(t, sandboxtest.At(due, 21, 30))
	require.Equal(t, payments.StatusRJCT, s.get(p.ID).Status)
	d, rt = s.decideAndRetry(p.ID, payments.RetryPolicy{})
	require.Equal(t, payments.RetryNextDay, d.Action, d.Message)
	assert.Equal(t, due.AddDays(1), rt.Date)
	rt = s.awaitStatus(rt.ID, payments.StatusSCHD, time.Minute, sandboxtest.At(due, 23, 0))
	require.True(t, rt.IsRetry())

	payerDoc := consent.DocumentFor(sandbox.DefaultPayerCPF)
	m := s.mark()
	_, err := s.Payments.Cancel(bg, payments.CancelParams{Payment: rt, Consent: s.c, CancelledBy: payerDoc, IdempotencyKey: fapi.NewIdempotencyKey(nil)})
	isPaymentsValidation(t, err, payments.ErrPayerCannotCancelRetry)
	s.noCall(m, http.MethodPatch, pathPayments+"/"+rt.ID)
	call, err := payments.EncodeCancel(payments.V220, rt.ID, payerDoc)
	require.NoError(t, err)
	_, err = s.sendCall(call, nil, s.cc())
	want422(t, err, "PAGAMENTO_NAO_PERMITE_CANCELAMENTO")

	s.AdvanceTo(t, sandboxtest.At(due.AddDays(1), 8, 0))
	assert.Equal(t, payments.StatusACSC, s.get(rt.ID).Status)
}

// automatic-payments_api_automatic-pix-extraday-retry-unaccepted_test-module_v2-2
//
// On a consent with isRetryAccepted=false an extraday retry is refused with
// LIMITE_TENTATIVAS_EXCEDIDO. The ITP must check the consent's flag before
// retrying.
func TestAutomaticPixRetry_ExtradayRetryUnaccepted(t *testing.T) {
	t.Parallel()
	s := newScenario(t, sandboxtest.Options{}, withoutRetries)
	require.False(t, s.c.Automatic().IsRetryAccepted)
	s.failTwice()
	due := s.c.Automatic().ReferenceStartDate
	p := s.charge(0, due, "150.00")

	s.AdvanceTo(t, sandboxtest.At(due, 21, 30))
	require.Equal(t, payments.StatusRJCT, s.get(p.ID).Status)
	d, rt := s.decideAndRetry(p.ID, payments.RetryPolicy{})
	assert.Nil(t, rt)
	assert.Equal(t, payments.GiveUp, d.Action)
	assert.Equal(t, payments.ReasonRetryNotAccepted, d.Reason)
	s.refusedRetry(&payments.Retry{OriginalID: p.ID, EndToEndID: s.scheduledE2EID(due.AddDays(1)), Date: due.AddDays(1)}, payments.ErrRetryNotAccepted, "LIMITE_TENTATIVAS_EXCEDIDO")
}

// automatic-payments_api_automatic-pix-retry-422-validation_test-module_v2-2
//
// Field validation of POST …/{originalRecurringPaymentId}/retry: a missing
// endToEndId, a malformed date and an endToEndId encoding the day before
// the date each get their own 422 code. The ITP must map the 2.2.0 retry
// endpoint's errors.
func TestAutomaticPixRetry_Retry422Validation(t *testing.T) {
	t.Parallel()
	s := newScenario(t, sandboxtest.Options{})
	s.failTwice()
	due := s.c.Automatic().ReferenceStartDate
	p := s.charge(0, due, "150.00")
	s.AdvanceTo(t, sandboxtest.At(due, 21, 30))
	require.Equal(t, payments.StatusRJCT, s.get(p.ID).Status)
	tomorrow := due.AddDays(1)
	retryPath := pathPayments + "/" + p.ID + "/retry"
	codes := map[string]bool{}

	// Missing endToEndId.
	m := s.mark()
	_, err := s.retry(s.chain(p.ID), &payments.Retry{OriginalID: p.ID, Date: tomorrow})
	isPaymentsValidation(t, err, payments.ErrMissing)
	s.noCall(m, http.MethodPost, "/retry")
	_, err = s.send(http.MethodPost, retryPath, map[string]any{"date": tomorrow.String()}, s.cc())
	codes[firstCode(want422(t, err, "PARAMETRO_NAO_INFORMADO"))] = true

	// Malformed date: a Retry cannot carry one (consent.Date is a calendar
	// date, and parsing refuses other layouts).
	_, err = consent.ParseDate(tomorrow.In(time.UTC).Format("02/01/2006"))
	assert.ErrorIs(t, err, consent.ErrInvalidValue)
	_, err = s.send(http.MethodPost, retryPath, map[string]any{"endToEndId": s.scheduledE2EID(tomorrow), "date": tomorrow.In(time.UTC).Format("02-01-2006")}, s.cc())
	codes[firstCode(want422(t, err, "PARAMETRO_INVALIDO"))] = true

	// An endToEndId of the day before the date.
	s.refusedRetry(&payments.Retry{OriginalID: p.ID, EndToEndID: s.scheduledE2EID(due), Date: tomorrow}, payments.ErrE2EIDMismatch, "DETALHE_TENTATIVA_INVALIDO")
	codes["DETALHE_TENTATIVA_INVALIDO"] = true
	assert.Len(t, codes, 3, "three distinct codes")

	// None of them used up an attempt: the SDK's own retry goes through.
	d, rt := s.decideAndRetry(p.ID, payments.RetryPolicy{})
	require.Equal(t, payments.RetryNextDay, d.Action, d.Message)
	s.awaitStatus(rt.ID, payments.StatusSCHD, time.Minute, sandboxtest.At(due, 23, 0))
	assert.Len(t, s.chain(p.ID).Attempts, 2)
}

func firstCode(ae *fapi.APIError) string {
	if ae == nil || len(ae.Errors) == 0 {
		return ""
	}
	return ae.Errors[0].Code
}

// automatic-payments_api_automatic-pix_auxiliary-one-payment_test-module_v2-2
//
// Helper module of the retry plan: authorises a consent from configuration,
// creates one payment and records the ids the plan's modules use.
func TestAutomaticPixRetry_AuxiliaryOnePayment(t *testing.T) {
	t.Parallel()
	s := newScenario(t, sandboxtest.Options{})
	require.NoError(t, consent.ValidateID(s.c.RecurringConsentID))
	p := s.charge(0, s.c.Automatic().ReferenceStartDate, "150.00")
	p = s.awaitStatus(p.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))
	t.Logf("recurringConsentId=%s recurringPaymentId=%s", s.c.RecurringConsentID, p.ID)
	list := s.existing()
	require.Len(t, list, 1)
	assert.Equal(t, p.ID, list[0].ID)
	assert.Equal(t, s.c.RecurringConsentID, p.ConsentID)
}

// automatic-payments_api_automatic-pix_auxiliary-two-payments_test-module_v2-2
//
// The same helper with two payments.
func TestAutomaticPixRetry_AuxiliaryTwoPayments(t *testing.T) {
	t.Parallel()
	s := newEnv(t, sandboxtest.Options{})
	ref := s.Today().AddDays(2)
	s.authorise(withInterval(consent.IntervalSemanal), withReferenceStart(ref))
	ids := map[string]bool{}
	for n := range 2 {
		p := s.charge(n, ref.AddDays(7*n), "150.00")
		p = s.awaitStatus(p.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))
		assert.Equal(t, s.c.RecurringConsentID, p.ConsentID)
		ids[p.ID] = true
		t.Logf("recurringConsentId=%s recurringPaymentId[%d]=%s", s.c.RecurringConsentID, n, p.ID)
	}
	require.Len(t, ids, 2)
	for _, p := range s.existing() {
		assert.True(t, ids[p.ID], "unexpected payment %s", p.ID)
	}
}
