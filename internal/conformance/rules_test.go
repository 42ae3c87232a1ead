package conformance

import (
	"net/http"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// request builds a recurrence request by hand, without the planner's
// checks, for the cycle named by ref.
func (s *scenario) request(ref payments.PaymentReference, due consent.Date, amount string) *payments.Request {
	return &payments.Request{EndToEndID: s.scheduledE2EID(due), Date: due, Amount: consent.MustAmount(amount),
		CreditorAccount: sandboxtest.CreditorAccount, CNPJInitiator: s.ITPCNPJ, Document: receiver(), Reference: ref}
}

// cycleRef is the reference of cycle n of the scenario's consent.
func (s *scenario) cycleRef(n int) payments.PaymentReference {
	return payments.CycleReference(s.c.Automatic().Interval, s.cycle(n))
}

// refusedPayment is the dual check of a payment the module expects refused:
// the SDK's client refuses req with sentinel and the bank sees no POST; the
// same request, encoded by the SDK and sent directly, gets the 422 code.
func (s *scenario) refusedPayment(req *payments.Request, sentinel error, code string) {
	s.t.Helper()
	m := s.mark()
	_, err := s.create(req)
	isPaymentsValidation(s.t, err, sentinel)
	s.noCall(m, http.MethodPost, pathPayments)

	call, err := payments.EncodeCreate(payments.V220, req)
	require.NoError(s.t, err)
	_, err = s.sendCall(call, nil, s.token)
	want422(s.t, err, code)
}

// automatic-payments_api_automatic-pix-invalid-dates-sooner_test-module_v2-2
//
// A recurring payment dated earlier than D+2 is refused with
// FORA_PRAZO_PERMITIDO. The ITP must check the scheduling window in
// Brasília time before sending.
func TestAutomaticPix_InvalidDatesSooner(t *testing.T) {
	t.Parallel()
	s := newEnv(t, sandboxtest.Options{})
	today := s.Today()
	s.authorise(withReferenceStart(today))

	for _, due := range []consent.Date{today, today.AddDays(1)} {
		_, err := s.plan(0, due, "150.00", sandboxtest.CreditorAccount)
		isPaymentsValidation(t, err, payments.ErrOutsideWindow)
		s.refusedPayment(s.request(s.cycleRef(0), due, "150.00"), payments.ErrOutsideWindow, "FORA_PRAZO_PERMITIDO")
	}

	// At 22:30 in Brasília it is already tomorrow in UTC; the window is
	// still counted from the Brasília date: D+1 is too soon, D+2 is fine.
	s.AdvanceTo(t, sandboxtest.At(today, 22, 30))
	require.Equal(t, today.AddDays(1), consent.DateOf(s.Clock.Now(), time.UTC))
	s.refusedPayment(s.request(s.cycleRef(0), today.AddDays(1), "150.00"), payments.ErrOutsideWindow, "FORA_PRAZO_PERMITIDO")
	p := s.charge(0, today.AddDays(2), "150.00")
	s.awaitStatus(p.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))
}

// automatic-payments_api_automatic-pix-invalid-dates-later_test-module_v2-2
//
// A recurring payment dated later than D+10 is refused with
// FORA_PRAZO_PERMITIDO. The ITP must check the window.
func TestAutomaticPix_InvalidDatesLater(t *testing.T) {
	t.Parallel()
	s := newScenario(t, sandboxtest.Options{})
	today := s.Today()

	_, err := s.plan(0, today.AddDays(11), "150.00", sandboxtest.CreditorAccount)
	isPaymentsValidation(t, err, payments.ErrOutsideWindow)
	s.refusedPayment(s.request(s.cycleRef(0), today.AddDays(11), "150.00"), payments.ErrOutsideWindow, "FORA_PRAZO_PERMITIDO")

	// At 22:30 in Brasília (tomorrow in UTC) D+11 is still out and D+10 in.
	s.AdvanceTo(t, sandboxtest.At(today, 22, 30))
	s.refusedPayment(s.request(s.cycleRef(0), today.AddDays(11), "150.00"), payments.ErrOutsideWindow, "FORA_PRAZO_PERMITIDO")
	p := s.charge(0, today.AddDays(10), "150.00")
	s.awaitStatus(p.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))
}

// localInstrumentOf returns the localInstrument the SDK's encoder writes.
func localInstrumentOf(t *testing.T, call payments.Call) any {
	t.Helper()
	return asMap(t, call.Body)["localInstrument"]
}

// automatic-payments_api_automatic-pix-invalid-firstPayment-localInstrument_test-module_v2-2
//
// paymentReference "zero" with localInstrument AUTO is refused with
// DETALHE_PAGAMENTO_INVALIDO. The ITP must send the firstPayment as MANU.
//
// The SDK cannot be made to send AUTO: Request has no localInstrument, the
// encoder derives it (payments.InstrumentFor), so there is no client-side
// error to name; the encoded body is checked instead.
func TestAutomaticPix_InvalidFirstPaymentLocalInstrument(t *testing.T) {
	t.Parallel()
	s := newEnv(t, sandboxtest.Options{})
	s.authorise(withFirstPayment(s.Today(), "49.90", sandboxtest.CreditorAccount))
	req, err := s.planner().FirstPayment(s.c, s.Clock.Now(), nil)
	require.NoError(t, err)
	for _, v := range []payments.Version{payments.V220, payments.V210, payments.V200} {
		assert.Equal(t, payments.InstrumentMANU, payments.InstrumentFor(v, req.Reference), "version %s", v)
	}
	call, err := payments.EncodeCreate(payments.V220, req)
	require.NoError(t, err)
	assert.Equal(t, "MANU", localInstrumentOf(t, call))
	assert.Equal(t, payments.ReferenceZero, asMap(t, call.Body)["paymentReference"])

	body := asMap(t, call.Body)
	body["localInstrument"] = "AUTO"
	_, err = s.sendCall(call, body, s.token)
	want422(t, err, "DETALHE_PAGAMENTO_INVALIDO")

	// The SDK's own request, MANU, goes through.
	p, err := s.create(req)
	require.NoError(t, err)
	assert.Equal(t, payments.InstrumentMANU, p.LocalInstrument)
	s.awaitStatus(p.ID, payments.StatusACSC, time.Minute, s.Clock.Now().Add(time.Hour))
}

// automatic-payments_api_automatic-pix-invalid-recurring-localInstrument_test-module_v2-2
//
// A scheduled recurring payment with localInstrument MANU is refused with
// DETALHE_PAGAMENTO_INVALIDO. The ITP must send recurrences as AUTO (on
// 2.2.0). As above, the SDK derives the instrument; there is no error to
// name client-side.
func TestAutomaticPix_InvalidRecurringLocalInstrument(t *testing.T) {
	t.Parallel()
	s := newScenario(t, sandboxtest.Options{})
	due := s.c.Automatic().ReferenceStartDate
	req, err := s.plan(0, due, "150.00", sandboxtest.CreditorAccount)
	require.NoError(t, err)
	assert.Equal(t, payments.InstrumentAUTO, payments.InstrumentFor(payments.V220, req.Reference))
	assert.Equal(t, payments.InstrumentMANU, payments.InstrumentFor(payments.V210, req.Reference), "2.1 has no AUTO")
	call, err := payments.EncodeCreate(payments.V220, req)
	require.NoError(t, err)
	assert.Equal(t, "AUTO", localInstrumentOf(t, call))

	body := asMap(t, call.Body)
	body["localInstrument"] = "MANU"
	_, err = s.sendCall(call, body, s.token)
	want422(t, err, "DETALHE_PAGAMENTO_INVALIDO")

	p, err := s.create(req)
	require.NoError(t, err)
	p = s.awaitStatus(p.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))
	assert.Equal(t, payments.InstrumentAUTO, p.LocalInstrument)
}

// automatic-payments_api_automatic-pix-fixedAmount_test-module_v2-2
//
// A payment whose amount differs from the consent's fixedAmount is refused
// with PAGAMENTO_DIVERGENTE_CONSENTIMENTO. The ITP must check the amount
// against the consent.
func TestAutomaticPix_FixedAmount(t *testing.T) {
	t.Parallel()
	s := newScenario(t, sandboxtest.Options{}, withAmounts(consent.Fixed(consent.MustAmount("100.00"))))
	due := s.c.Automatic().ReferenceStartDate
	for _, amount := range []string{"99.99", "100.01"} {
		_, err := s.plan(0, due, amount, sandboxtest.CreditorAccount)
		isPaymentsValidation(t, err, payments.ErrAmountMismatch)
		s.refusedPayment(s.request(s.cycleRef(0), due, amount), payments.ErrAmountMismatch, "PAGAMENTO_DIVERGENTE_CONSENTIMENTO")
	}
	p := s.charge(0, due, "100.00")
	s.awaitStatus(p.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))
}

// automatic-payments_api_automatic-pix-minimumVariableAmount_test-module_v2-2
//
// A payment below minimumVariableAmount is still accepted (SCHD); editing
// maximumVariableAmount below the minimum is refused with
// DETALHE_EDICAO_INVALIDO. minimumVariableAmount is not a payment floor,
// and the ITP must validate editions.
func TestAutomaticPix_MinimumVariableAmount(t *testing.T) {
	t.Parallel()
	s := newScenario(t, sandboxtest.Options{}, withAmounts(consent.Variable(consent.MustAmount("300.00"), consent.MustAmount("50.00"))))
	require.Equal(t, consent.MustAmount("50.00"), *s.c.Automatic().MinimumVariableAmount)
	p := s.charge(0, s.c.Automatic().ReferenceStartDate, "10.00")
	p = s.awaitStatus(p.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))
	assert.Equal(t, consent.MustAmount("10.00"), p.Amount)

	m := s.mark()
	_, err := consent.NewEdit(s.c, consent.EditChange{MaximumVariableAmount: consent.SetMaximum(consent.MustAmount("40.00"))}, payer(), signals(), s.Clock.Now())
	isConsentValidation(t, err, "recurringConfiguration.automatic.maximumVariableAmount", consent.ErrOutOfRange)
	s.noCall(m, http.MethodPatch, pathConsents+"/"+s.c.RecurringConsentID)

	ok, err := consent.NewEdit(s.c, consent.EditChange{MaximumVariableAmount: consent.SetMaximum(consent.MustAmount("250.00"))}, payer(), signals(), s.Clock.Now())
	require.NoError(t, err)
	body := asMap(t, ok)
	body["recurringConfiguration"].(map[string]any)["automatic"].(map[string]any)["maximumVariableAmount"] = "40.00"
	_, err = s.send(http.MethodPatch, pathConsents+"/"+s.c.RecurringConsentID, body, s.cc())
	want422(t, err, "DETALHE_EDICAO_INVALIDO")
	c := s.refresh()
	assert.Equal(t, consent.MustAmount("300.00"), *c.Automatic().MaximumVariableAmount, "the consent is unchanged")
	assert.Nil(t, c.UpdatedAtDateTime)
}

// automatic-payments_api_automatic-pix-maximumVariableAmount_test-module_v2-2
//
// A payment above maximumVariableAmount is refused with
// LIMITE_VALOR_TRANSACAO_CONSENTIMENTO_EXCEDIDO. The ITP must map it to a
// typed error; the code counts as a settlement attempt.
func TestAutomaticPix_MaximumVariableAmount(t *testing.T) {
	t.Parallel()
	s := newScenario(t, sandboxtest.Options{})
	due := s.c.Automatic().ReferenceStartDate
	_, err := s.plan(0, due, "300.01", sandboxtest.CreditorAccount)
	isPaymentsValidation(t, err, payments.ErrAmountAboveMaximum)
	s.refusedPayment(s.request(s.cycleRef(0), due, "300.01"), payments.ErrAmountAboveMaximum, "LIMITE_VALOR_TRANSACAO_CONSENTIMENTO_EXCEDIDO")
	code := payments.RejectionLimiteValorTransacaoConsentimentoExcedido
	assert.True(t, code.Known())
	assert.True(t, code.CountsAsAttempt(), "Table 1: counts as an attempt")
	assert.False(t, code.IntradayRetryAllowed())

	p := s.charge(0, due, "300.00")
	s.awaitStatus(p.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))
}

// automatic-payments_api_automatic-pix-referenceStartDate_test-module_v2-2
//
// A payment dated, or paying a cycle, before referenceStartDate is refused
// with PAGAMENTO_DIVERGENTE_CONSENTIMENTO. The ITP must compute cycles from
// referenceStartDate.
func TestAutomaticPix_ReferenceStartDate(t *testing.T) {
	t.Parallel()
	s := newEnv(t, sandboxtest.Options{})
	today := s.Today()
	ref := today.AddDays(6)
	s.authorise(withReferenceStart(ref))

	// Dated before referenceStartDate (its cycle is the first one).
	_, err := s.plan(0, today.AddDays(4), "150.00", sandboxtest.CreditorAccount)
	isPaymentsValidation(t, err, payments.ErrBeforeReferenceStart)
	s.refusedPayment(s.request(s.cycleRef(0), today.AddDays(4), "150.00"), payments.ErrBeforeReferenceStart, "PAGAMENTO_DIVERGENTE_CONSENTIMENTO")

	// Paying the cycle before referenceStartDate: the planner has no such
	// cycle, and a hand-made reference is refused.
	_, err = s.planner().Recurrence(s.c, payments.Charge{Cycle: -1, Due: today.AddDays(7), Amount: consent.MustAmount("150.00"), CreditorAccount: sandboxtest.CreditorAccount}, s.Clock.Now(), nil)
	assert.ErrorIs(t, err, payments.ErrCycleOutOfRange)
	before := payments.CycleReference(consent.IntervalMensal, payments.Cycle{Start: addMonths(-1)(ref), End: ref.AddDays(-1)})
	s.refusedPayment(s.request(before, today.AddDays(7), "150.00"), payments.ErrPaymentReference, "PAGAMENTO_DIVERGENTE_CONSENTIMENTO")

	p := s.charge(0, ref, "150.00")
	s.awaitStatus(p.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))
}

// automatic-payments_api_automatic-pix-unmatching-creditor_test-module_v2-2
//
// Scheduling to a creditorAccount the creditor does not own is accepted
// (SCHD): ownership fails only at SPI settlement. The ITP must not
// pre-reject, and must expect the later RJCT (which is never retried).
//
// SPI's ownership check is played by a scripted settlement outcome.
func TestAutomaticPix_UnmatchingCreditor(t *testing.T) {
	t.Parallel()
	s := newScenario(t, sandboxtest.Options{})
	require.NoError(t, s.Bank.ScriptConsentSettlement(s.c.RecurringConsentID, sandbox.Reject(payments.RejectionTitularidadeInconsistente)))
	due := s.c.Automatic().ReferenceStartDate
	req, err := s.plan(0, due, "150.00", foreignAccount)
	require.NoError(t, err, "the SDK does not pre-reject an account it cannot know")
	p, err := s.create(req)
	require.NoError(t, err)
	p = s.awaitStatus(p.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))
	assert.Equal(t, foreignAccount.Number, p.CreditorAccount.Number)

	s.AdvanceTo(t, sandboxtest.At(due, 9, 0))
	p, _ = s.awaitFinal(p.ID, time.Hour, sandboxtest.At(due, 22, 0))
	require.Equal(t, payments.StatusRJCT, p.Status)
	assert.Equal(t, payments.RejectionTitularidadeInconsistente, p.RejectionCode())

	// Not retried: the SDK gives up and refuses a forced retry; the bank
	// refuses it too.
	ch, d := s.decide(p.ID, payments.RetryPolicy{})
	assert.Equal(t, payments.GiveUp, d.Action)
	assert.Equal(t, payments.ReasonNeverRetry, d.Reason)
	rt := &payments.Retry{OriginalID: p.ID, EndToEndID: s.scheduledE2EID(due), Date: due}
	m := s.mark()
	_, err = s.retry(ch, rt)
	isPaymentsValidation(t, err, payments.ErrNotRetryable)
	s.noCall(m, http.MethodPost, "/retry")
	call, err := payments.EncodeRetry(payments.V220, rt)
	require.NoError(t, err)
	_, err = s.sendCall(call, nil, s.cc())
	want422(t, err, "PAGAMENTO_RECUSADO_DETENTORA")
}

// automatic-payments_api_automatic-pix-scheduling-before-firstPayment_test-module_v2-2
//
// A recurring payment dated before (or on) the firstPayment's date is
// refused with PAGAMENTO_DIVERGENTE_CONSENTIMENTO. Recurrences come only
// after the firstPayment's settlement date.
func TestAutomaticPix_SchedulingBeforeFirstPayment(t *testing.T) {
	t.Parallel()
	s := newEnv(t, sandboxtest.Options{})
	today := s.Today()
	fpDate := today.AddDays(5)
	s.authorise(withFirstPayment(fpDate, "49.90", sandboxtest.CreditorAccount), withReferenceStart(today.AddDays(7)))
	fp := s.firstPayment()
	s.awaitStatus(fp.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))

	for _, due := range []consent.Date{fpDate.AddDays(-1), fpDate} {
		_, err := s.plan(0, due, "150.00", sandboxtest.CreditorAccount)
		isPaymentsValidation(t, err, payments.ErrBeforeFirstPayment)
		s.refusedPayment(s.request(s.cycleRef(0), due, "150.00"), payments.ErrBeforeFirstPayment, "PAGAMENTO_DIVERGENTE_CONSENTIMENTO")
	}
	p := s.charge(0, today.AddDays(7), "150.00")
	s.awaitStatus(p.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))
}
