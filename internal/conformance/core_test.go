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

// coreJourney is the flow of the five "<interval>-core" modules: a consent
// with an immediate firstPayment, authorised by redirect; the firstPayment
// ("zero", MANU) settles; the first cycle's recurrence (AUTO) is scheduled
// and settles; the second cycle's is scheduled and then cancelled by the
// receiver. nextCycle is the start of the second cycle, computed here
// independently of the SDK, and duration the ISO 8601 period of the
// interval.
func coreJourney(t *testing.T, interval consent.Interval, nextCycle func(consent.Date) consent.Date, duration string) {
	t.Parallel()
	s := newEnv(t, sandboxtest.Options{})
	today := s.Today()
	ref := today.AddDays(3)
	s.authorise(withInterval(interval), withReferenceStart(ref), withFirstPayment(today, "49.90", sandboxtest.CreditorAccount))
	require.Equal(t, interval, s.c.Automatic().Interval)

	// firstPayment: immediate, "zero", MANU.
	fp := s.firstPayment()
	assert.Equal(t, payments.ReferenceZero, fp.PaymentReference)
	assert.Equal(t, payments.InstrumentMANU, fp.LocalInstrument)
	assert.Equal(t, today, fp.Date)
	fp = s.awaitStatus(fp.ID, payments.StatusACSC, time.Minute, s.Clock.Now().Add(time.Hour))
	assert.Equal(t, consent.MustAmount("49.90"), fp.Amount)

	// Cycle 0, due on referenceStartDate: scheduled, then settled.
	r0 := s.charge(0, ref, "150.00")
	r0 = s.awaitStatus(r0.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))
	assert.Equal(t, payments.InstrumentAUTO, r0.LocalInstrument)
	assert.Equal(t, "R/"+ref.String()+"/"+duration, r0.PaymentReference)
	s.AdvanceTo(t, sandboxtest.At(ref, 8, 0))
	assert.Equal(t, payments.StatusACSC, s.get(r0.ID).Status)

	// Cycle 1: scheduled five days ahead, then cancelled by the receiver.
	next := nextCycle(ref)
	require.Equal(t, next, s.cycle(1).Start, "the SDK's cycle 1")
	s.AdvanceTo(t, sandboxtest.At(next.AddDays(-5), 10, 0))
	r1 := s.charge(1, next, "150.00")
	r1 = s.awaitStatus(r1.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))
	assert.Equal(t, "R/"+next.String()+"/"+duration, r1.PaymentReference)
	assert.Equal(t, payments.InstrumentAUTO, r1.LocalInstrument)
	cancelled, err := s.Payments.Cancel(bg, payments.CancelParams{Payment: r1, Consent: s.c, CancelledBy: receiver(), IdempotencyKey: fapi.NewIdempotencyKey(nil)})
	require.NoError(t, err)
	assert.Equal(t, payments.StatusCANC, cancelled.Status)

	s.AdvanceTo(t, sandboxtest.At(next, 22, 0))
	r1 = s.get(r1.ID)
	assert.Equal(t, payments.StatusCANC, r1.Status, "a cancelled payment is never attempted")
	require.NotNil(t, r1.Cancellation)
	assert.Equal(t, payments.CancelledScheduled, r1.Cancellation.Reason)
	assert.Equal(t, receiver(), r1.Cancellation.CancelledBy)
	assert.Equal(t, consent.FromIniciadora, r1.Cancellation.CancelledFrom)
	assert.Equal(t, payments.StatusACSC, s.get(r0.ID).Status)
	assert.Equal(t, consent.StatusAuthorised, s.refresh().Status)
}

func addMonths(n int) func(consent.Date) consent.Date {
	return func(d consent.Date) consent.Date {
		return consent.DateOf(d.In(time.UTC).AddDate(0, n, 0), time.UTC)
	}
}

// automatic-payments_api_automatic-pix-semanal-core_test-module_v2-2
//
// SEMANAL consent end to end: firstPayment ACSC, a recurrence ACSC, a later
// scheduled recurrence cancelled (CANC). The ITP must run consent →
// redirect → token → firstPayment ("zero", MANU) → schedule (AUTO) → PATCH
// cancel, polling to the final states, with paymentReference R/…/P1W.
func TestAutomaticPix_SemanalCore(t *testing.T) {
	coreJourney(t, consent.IntervalSemanal, func(d consent.Date) consent.Date { return d.AddDays(7) }, "P1W")
}

// automatic-payments_api_automatic-pix-mensal-core_test-module_v2-2
//
// The same flow on a MENSAL consent; paymentReference R/…/P1M.
func TestAutomaticPix_MensalCore(t *testing.T) {
	coreJourney(t, consent.IntervalMensal, addMonths(1), "P1M")
}

// automatic-payments_api_automatic-pix-trimestral-core_test-module_v2-2
//
// The same flow on a TRIMESTRAL consent; paymentReference R/…/P3M.
func TestAutomaticPix_TrimestralCore(t *testing.T) {
	coreJourney(t, consent.IntervalTrimestral, addMonths(3), "P3M")
}

// automatic-payments_api_automatic-pix-semestral-core_test-module_v2-2
//
// The same flow on a SEMESTRAL consent; paymentReference R/…/P6M.
func TestAutomaticPix_SemestralCore(t *testing.T) {
	coreJourney(t, consent.IntervalSemestral, addMonths(6), "P6M")
}

// automatic-payments_api_automatic-pix-anual-core_test-module_v2-2
//
// The same flow on an ANUAL consent; paymentReference R/…/P1Y.
func TestAutomaticPix_AnualCore(t *testing.T) {
	coreJourney(t, consent.IntervalAnual, addMonths(12), "P1Y")
}

// automatic-payments_api_automatic-pix-no-limits_test-module_v2-2
//
// A consent without amount limits and without firstPayment; two recurring
// payments both end SCHD. The ITP must allow "no limits" consents and
// several scheduled payments per consent.
func TestAutomaticPix_NoLimits(t *testing.T) {
	t.Parallel()
	s := newEnv(t, sandboxtest.Options{})
	today := s.Today()
	ref := today.AddDays(2)
	s.authorise(withInterval(consent.IntervalSemanal), withReferenceStart(ref), withAmounts(consent.Variable(0, 0)))
	auto := s.c.Automatic()
	require.Nil(t, auto.FixedAmount)
	require.Nil(t, auto.MaximumVariableAmount)
	require.Nil(t, auto.MinimumVariableAmount)
	require.Nil(t, auto.FirstPayment)

	// Two cycles within the 2–10 day window, with amounts no cap would let
	// through.
	p0 := s.charge(0, ref, "98765.43")
	p1 := s.charge(1, ref.AddDays(7), "123456.78")
	for _, p := range []*payments.Payment{p0, p1} {
		got := s.awaitStatus(p.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))
		assert.Equal(t, payments.InstrumentAUTO, got.LocalInstrument)
	}
	list := s.existing()
	require.Len(t, list, 2)
	for _, p := range list {
		assert.Equal(t, payments.StatusSCHD, p.Status)
	}
}

// automatic-payments_api_automatic-pix-revoked_test-module_v2-2
//
// The consent is revoked: the scheduled payment becomes CANC
// (CANCELADO_AGENDAMENTO) and the settled one stays ACSC. The ITP must
// PATCH the revocation and re-read the payments afterwards.
func TestAutomaticPix_Revoked(t *testing.T) {
	t.Parallel()
	s := newEnv(t, sandboxtest.Options{})
	today := s.Today()
	s.authorise(withFirstPayment(today, "49.90", sandboxtest.CreditorAccount))
	fp := s.firstPayment()
	s.awaitStatus(fp.ID, payments.StatusACSC, time.Minute, s.Clock.Now().Add(time.Hour))
	rec := s.charge(0, s.c.Automatic().ReferenceStartDate, "150.00")
	s.awaitStatus(rec.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))

	r, err := consent.NewRevocation(s.c, consent.ByIniciadora, consent.FromIniciadora, consent.RevocationRecebedor, "fim do contrato")
	require.NoError(t, err)
	c, err := s.Consents.Revoke(bg, s.c.RecurringConsentID, r, fapi.NewIdempotencyKey(nil))
	require.NoError(t, err)
	require.Equal(t, consent.StatusRevoked, c.Status)
	require.NotNil(t, c.Revocation)
	assert.Equal(t, consent.RevocationRecebedor, c.Revocation.Reason.Code)
	s.c = c

	got := s.get(rec.ID)
	assert.Equal(t, payments.StatusCANC, got.Status)
	require.NotNil(t, got.Cancellation)
	assert.Equal(t, payments.CancelledScheduled, got.Cancellation.Reason)
	assert.Equal(t, payments.StatusACSC, s.get(fp.ID).Status, "the settled payment is untouched")

	// No new payment under a revoked consent: the SDK refuses it, and so
	// does the bank.
	due := s.Today().AddDays(5)
	req := &payments.Request{EndToEndID: s.scheduledE2EID(due), Date: due, Amount: consent.MustAmount("150.00"),
		CreditorAccount: sandboxtest.CreditorAccount, CNPJInitiator: s.ITPCNPJ, Document: receiver(),
		Reference: payments.CycleReference(consent.IntervalMensal, s.cycle(1))}
	m := s.mark()
	_, err = s.create(req)
	isPaymentsValidation(t, err, payments.ErrConsentNotAuthorised)
	s.noCall(m, http.MethodPost, pathPayments)
	call, err := payments.EncodeCreate(payments.V220, req)
	require.NoError(t, err)
	_, err = s.sendCall(call, nil, s.token) // the access token issued before the revocation
	want422(t, err, "CONSENTIMENTO_INVALIDO")

	// Days later the payment is still CANC, and the consent's refresh token
	// no longer yields access tokens.
	s.AdvanceTo(t, sandboxtest.At(got.Date, 22, 0))
	assert.Equal(t, payments.StatusCANC, s.get(rec.ID).Status)
	_, err = s.token.Token(bg)
	var oe *fapi.OAuthError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "invalid_grant", oe.Code)
}

// automatic-payments_api_automatic-pix-failed-firstPayment_test-module_v2-2
//
// The firstPayment is rejected; the consent stays usable and the next
// recurring payment is SCHD. The ITP must not treat a firstPayment RJCT as
// a consent failure.
func TestAutomaticPix_FailedFirstPayment(t *testing.T) {
	t.Parallel()
	s := newEnv(t, sandboxtest.Options{})
	today := s.Today()
	s.authorise(withFirstPayment(today, "49.90", sandboxtest.CreditorAccount))
	require.NoError(t, s.Bank.ScriptConsentSettlement(s.c.RecurringConsentID, sandbox.Reject(payments.RejectionSaldoInsuficiente)))

	fp := s.firstPayment()
	fp, _ = s.awaitFinal(fp.ID, time.Minute, s.Clock.Now().Add(time.Hour))
	require.Equal(t, payments.StatusRJCT, fp.Status)
	assert.Equal(t, payments.RejectionSaldoInsuficiente, fp.RejectionCode())

	c := s.refresh()
	assert.Equal(t, consent.StatusAuthorised, c.Status, "a failed firstPayment does not touch the consent")
	rec := s.charge(0, c.Automatic().ReferenceStartDate, "150.00")
	rec = s.awaitStatus(rec.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))
	assert.Equal(t, payments.InstrumentAUTO, rec.LocalInstrument)
	s.AdvanceTo(t, sandboxtest.At(rec.Date, 8, 0))
	assert.Equal(t, payments.StatusACSC, s.get(rec.ID).Status)
}

// automatic-payments_api_automatic-pix-wrong-creditor_test-module_v2-2
//
// The firstPayment goes to an account the creditor does not own: it ends
// RJCT with TITULARIDADE_INCONSISTENTE (or PAGAMENTO_RECUSADO_SPI). The ITP
// must poll until the final status (polling once was the suite's own bug,
// issue #2343) and must not retry.
//
// The sandbox has no account registry, so SPI's ownership check is played
// by a scripted settlement outcome of this consent.
func TestAutomaticPix_WrongCreditor(t *testing.T) {
	t.Parallel()
	s := newEnv(t, sandboxtest.Options{Bank: sandbox.Config{ProcessingDelay: 30 * time.Second}})
	today := s.Today()
	s.authorise(withFirstPayment(today, "49.90", foreignAccount))
	require.NoError(t, s.Bank.ScriptConsentSettlement(s.c.RecurringConsentID, sandbox.Reject(payments.RejectionTitularidadeInconsistente)))

	fp := s.firstPayment()
	assert.Equal(t, payments.StatusRCVD, fp.Status, "the answer to the POST is not final")
	got, reads := s.awaitFinal(fp.ID, 15*time.Second, s.Clock.Now().Add(10*time.Minute))
	assert.Greater(t, reads, 1, "the final status needed more than one read")
	require.Equal(t, payments.StatusRJCT, got.Status)
	assert.Contains(t, []payments.RejectionCode{payments.RejectionTitularidadeInconsistente, payments.RejectionPagamentoRecusadoSPI}, got.RejectionCode())
	assert.True(t, got.RejectionCode().NeverRetry(), "TITULARIDADE_INCONSISTENTE is never retried")
	assert.Equal(t, consent.StatusAuthorised, s.refresh().Status)
}

// automatic-payments_api_automatic-pix-firstPayment-invalid-creditor_test-module_v2-2
//
// A firstPayment whose creditorAccount differs from the consent's
// firstPayment.creditorAccount is refused with PAGAMENTO_DIVERGENTE_CONSENTIMENTO.
// The ITP must copy the firstPayment's creditor data from the consent.
func TestAutomaticPix_FirstPaymentInvalidCreditor(t *testing.T) {
	t.Parallel()
	s := newEnv(t, sandboxtest.Options{})
	s.authorise(withFirstPayment(s.Today(), "49.90", sandboxtest.CreditorAccount))

	req, err := s.planner().FirstPayment(s.c, s.Clock.Now(), nil)
	require.NoError(t, err)
	assert.Equal(t, sandboxtest.CreditorAccount, req.CreditorAccount, "the planner copies the consent's account")
	req.CreditorAccount = foreignAccount

	m := s.mark()
	_, err = s.create(req)
	isPaymentsValidation(t, err, payments.ErrCreditorAccountMismatch)
	s.noCall(m, http.MethodPost, pathPayments)

	call, err := payments.EncodeCreate(payments.V220, req)
	require.NoError(t, err)
	_, err = s.sendCall(call, nil, s.token)
	want422(t, err, "PAGAMENTO_DIVERGENTE_CONSENTIMENTO")
	assert.Empty(t, s.existing(), "nothing was created")
}

// automatic-payments_api_automatic-pix-scheduled-firstPayment_test-module_v2-2
//
// A future-dated firstPayment is SCHD (then settles on its date); a consent
// created without debtorAccount returns one after authorisation. The ITP
// must handle the debtorAccount appearing only after authorisation.
func TestAutomaticPix_ScheduledFirstPayment(t *testing.T) {
	t.Parallel()
	s := newEnv(t, sandboxtest.Options{})
	today := s.Today()
	fpDate := today.AddDays(4)
	req := s.ConsentRequest(withFirstPayment(fpDate, "49.90", sandboxtest.CreditorAccount), withReferenceStart(today.AddDays(10)))
	require.Nil(t, req.DebtorAccount)
	created, err := s.Consents.Create(bg, req, fapi.NewIdempotencyKey(nil))
	require.NoError(t, err)
	assert.Nil(t, created.DebtorAccount, "no debtorAccount before authorisation")
	s.authoriseConsent(created)
	require.NotNil(t, s.c.DebtorAccount, "the holder fills debtorAccount on authorisation")
	assert.NotEmpty(t, s.c.DebtorAccount.Number)
	assert.Equal(t, s.Bank.PayerAccount(sandbox.DefaultPayerCPF).Number, s.c.DebtorAccount.Number)

	fp := s.firstPayment()
	e2e, err := payments.ParseE2EID(fp.EndToEndID)
	require.NoError(t, err)
	assert.True(t, e2e.IsScheduled())
	assert.Equal(t, fpDate, e2e.Date())
	fp = s.awaitStatus(fp.ID, payments.StatusSCHD, time.Minute, s.Clock.Now().Add(time.Hour))
	assert.Equal(t, fpDate, fp.Date)
	assert.Equal(t, payments.ReferenceZero, fp.PaymentReference)

	s.AdvanceTo(t, sandboxtest.At(fpDate.AddDays(-1), 23, 0))
	assert.Equal(t, payments.StatusSCHD, s.get(fp.ID).Status, "not before its date")
	s.AdvanceTo(t, sandboxtest.At(fpDate, 8, 0))
	assert.Equal(t, payments.StatusACSC, s.get(fp.ID).Status)
}
