package sandbox_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// The asynchronous state machine, driven by the ManualClock.

// TestSettlementWindows: a recurrence settles at the opening of its day's
// first window; a scripted morning failure that the holder retries itself
// keeps it SCHD until the evening window, where it settles; a second
// failure rejects it with the evening's reason.
func TestSettlementWindows(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Config{})
	type check struct {
		name     string
		script   []sandbox.Outcome
		noon     string // status at noon of the due day
		evening  string // status after the evening window opened
		reason   string
		updateAt int // hour of the last status change
		consent  string
		payment  string
	}
	checks := []*check{
		{name: "settles in the morning", noon: "ACSC", evening: "ACSC"},
		{name: "insufficient funds in the morning, settled in the evening",
			script: []sandbox.Outcome{sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Morning), sandbox.Settle().In(sandbox.Evening)},
			noon:   "SCHD", evening: "ACSC", updateAt: 18},
		{name: "insufficient funds all day",
			script: []sandbox.Outcome{sandbox.Reject(payments.RejectionSaldoInsuficiente), sandbox.Reject(payments.RejectionValorAcimaLimite)},
			noon:   "SCHD", evening: "RJCT", reason: "VALOR_ACIMA_LIMITE", updateAt: 18},
		{name: "SPI failure in the morning is final for the attempt",
			script: []sandbox.Outcome{sandbox.Reject(payments.RejectionFalhaInfraestruturaSPI).In(sandbox.Morning)},
			noon:   "RJCT", evening: "RJCT", reason: "FALHA_INFRAESTRUTURA_SPI"},
		{name: "an evening outcome waits for the evening",
			script: []sandbox.Outcome{sandbox.Reject(payments.RejectionTitularidadeInconsistente).In(sandbox.Evening)},
			noon:   "ACSC", evening: "ACSC"},
	}
	due := e.today().AddDays(3)
	for _, c := range checks {
		data := e.consentData()
		delete(auto(data), "firstPayment")
		auto(data)["referenceStartDate"] = due.String()
		id, ts := e.authorised(data)
		if err := e.b.ScriptConsentSettlement(id, c.script...); err != nil {
			t.Fatal(err)
		}
		c.consent, c.payment = id, e.pay(ts, e.recurrenceData(due, due, "150.00")).ID
	}
	e.advance(time.Second)
	for _, c := range checks {
		if s := e.status(c.payment); s != "SCHD" {
			t.Fatalf("%s: %s before its day", c.name, s)
		}
	}
	e.advanceTo(at(due, 12, 0))
	for _, c := range checks {
		if s := e.status(c.payment); s != c.noon {
			t.Errorf("%s: at noon %s, want %s", c.name, s, c.noon)
		}
	}
	e.advanceTo(at(due, 18, 30))
	for _, c := range checks {
		got := e.payment(c.payment)
		if got.Status != c.evening || (c.reason != "" && (got.RejectionReason == nil || got.RejectionReason.Code != c.reason || got.RejectionReason.Detail == "")) {
			t.Errorf("%s: in the evening %+v, want %s %s", c.name, got, c.evening, c.reason)
		}
		rec, _ := e.b.Payment(c.payment)
		if want := at(due, c.updateAt, 0); !rec.StatusUpdateDateTime.Equal(want) {
			t.Errorf("%s: statusUpdateDateTime %s, want %s", c.name, rec.StatusUpdateDateTime, want)
		}
	}
	if left := e.b.PendingOutcomes("", checks[4].consent); len(left) != 1 {
		t.Fatalf("pending outcomes %v", left)
	}
	if err := e.b.ScriptConsentSettlement(checks[0].consent, sandbox.Reject(payments.RejectionConsentimentoRevogado)); err == nil {
		t.Fatal("a 2.1.0 rejection code was scripted on a 2.2.0 bank")
	}
}

// TestIntradayRetry: after an SPI failure in the morning the ITP resends
// with a new endToEndId dated today, before 12:00; it is attempted in the
// evening window. After 12:00 the retry is FORA_PRAZO_PERMITIDO.
func TestIntradayRetry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Config{})
	if err := e.b.ScriptSettlement(payerCPF, sandbox.Reject(payments.RejectionPagamentoRecusadoSPI).WithDetail("AB03").In(sandbox.Morning)); err != nil {
		t.Fatal(err)
	}
	data := e.consentData()
	id, ts, p := e.scheduled(data, "150.00")
	due := consent.MustDate(p.Date)
	e.advanceTo(at(due, 9, 0))
	if got := e.payment(p.ID); got.Status != "RJCT" || got.RejectionReason.Detail != "AB03" {
		t.Fatalf("original after the morning: %+v", got)
	}
	retry := func(date consent.Date, e2e string) (*fapi.Response, error) {
		return e.call(http.MethodPost, "/pix/recurring-payments/"+p.ID+"/retry", obj{"endToEndId": e2e, "date": date.String()}, e.cc)
	}
	_, err := retry(due, p.EndToEndID)
	want422(t, err, "DETALHE_TENTATIVA_INVALIDO") // the same endToEndId
	_, err = retry(due, e.e2e(due.AddDays(-1)))
	want422(t, err, "DETALHE_TENTATIVA_INVALIDO") // an endToEndId of D-1
	_, err = e.call(http.MethodPost, "/pix/recurring-payments/"+p.ID+"/retry", obj{"date": due.String()}, e.cc)
	want422(t, err, "PARAMETRO_NAO_INFORMADO")
	_, err = e.call(http.MethodPost, "/pix/recurring-payments/"+p.ID+"/retry", obj{"endToEndId": e.e2e(due), "date": "12/03/2026"}, e.cc)
	want422(t, err, "PARAMETRO_INVALIDO")

	// The consent's own token may also ask for the retry.
	resp := e.must(http.StatusCreated)(e.call(http.MethodPost, "/pix/recurring-payments/"+p.ID+"/retry", obj{"endToEndId": e.e2e(due), "date": due.String()}, ts))
	r := decode[wirePayment](t, resp.Message.Data)
	if r.OriginalID != p.ID || r.Status != "RCVD" || r.ID == p.ID {
		t.Fatalf("retry: %+v", r)
	}
	_, err = retry(due, e.e2e(due))
	want422(t, err, "LIMITE_TENTATIVAS_EXCEDIDO") // one intraday retry a day
	e.advance(time.Second)
	full := e.payment(r.ID)
	if full.Status != "SCHD" || full.Reference != p.Reference || full.LocalInstrument != "AUTO" {
		t.Fatalf("retry as read: %+v", full)
	}
	_, err = e.call(http.MethodPost, "/pix/recurring-payments/"+r.ID+"/retry", obj{"endToEndId": e.e2e(due.AddDays(1)), "date": due.AddDays(1).String()}, e.cc)
	want422(t, err, "DETALHE_TENTATIVA_INVALIDO") // the path must name the original
	e.advanceTo(at(due, 17, 59))
	if s := e.status(r.ID); s != "SCHD" {
		t.Fatalf("retry before the evening window: %s", s)
	}
	e.advanceTo(at(due, 18, 0))
	if s := e.status(r.ID); s != "ACSC" {
		t.Fatalf("retry after the evening window: %s", s)
	}
	list := decode[[]wirePayment](t, e.must(http.StatusOK)(e.call(http.MethodGet, "/pix/recurring-payments?"+url.Values{
		"recurringConsentId": {id}, "originalRecurringPaymentId": {p.ID},
	}.Encode(), nil, e.cc)).Message.Data)
	if len(list) != 2 || list[0].ID != p.ID || list[1].ID != r.ID {
		t.Fatalf("chain: %v", list)
	}
	_, err = retry(due.AddDays(1), e.e2e(due.AddDays(1)))
	want422(t, err, "DETALHE_TENTATIVA_INVALIDO") // already settled

	// A second consent whose morning failure is asked to be retried after 12:00.
	if err := e.b.ScriptSettlement(payerCPF, sandbox.Reject(payments.RejectionFalhaInfraestruturaPSPRecebedor).In(sandbox.Morning)); err != nil {
		t.Fatal(err)
	}
	data2 := e.consentData()
	delete(auto(data2), "firstPayment")
	auto(data2)["referenceStartDate"] = e.today().AddDays(5).String()
	_, _, p2 := e.scheduled(data2, "10.00")
	due2 := consent.MustDate(p2.Date)
	e.advanceTo(at(due2, 12, 0))
	_, err = e.call(http.MethodPost, "/pix/recurring-payments/"+p2.ID+"/retry", obj{"endToEndId": e.e2e(due2), "date": due2.String()}, e.cc)
	want422(t, err, "FORA_PRAZO_PERMITIDO")

	// An intraday retry asked for before the morning window closes is
	// still attempted in the evening.
	data3 := e.consentData()
	delete(auto(data3), "firstPayment")
	auto(data3)["referenceStartDate"] = e.today().AddDays(3).String()
	id3, _, p3 := e.scheduled(data3, "10.00")
	if err := e.b.ScriptConsentSettlement(id3, sandbox.Reject(payments.RejectionNaoInformado).In(sandbox.Morning)); err != nil {
		t.Fatal(err)
	}
	due3 := consent.MustDate(p3.Date)
	e.advanceTo(at(due3, 7, 0))
	resp = e.must(http.StatusCreated)(e.call(http.MethodPost, "/pix/recurring-payments/"+p3.ID+"/retry", obj{"endToEndId": e.e2e(due3), "date": due3.String()}, e.cc))
	r3 := decode[wirePayment](t, resp.Message.Data)
	e.advanceTo(at(due3, 17, 59))
	if s := e.status(r3.ID); s != "SCHD" {
		t.Fatalf("intraday retry before the evening: %s", s)
	}
	e.advance(time.Minute)
	if s := e.status(r3.ID); s != "ACSC" {
		t.Fatalf("intraday retry in the evening: %s", s)
	}
}

// TestExtradayRetries: after a day of failures, up to three retries on
// the following days, within 7 days of the original; none when the payer
// did not accept retries; the payer cannot cancel them.
func TestExtradayRetries(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Config{})
	fail := sandbox.Reject(payments.RejectionSaldoInsuficiente)
	if err := e.b.ScriptSettlement(payerCPF, fail, fail, fail, fail, fail, fail, fail, fail); err != nil {
		t.Fatal(err)
	}
	id, _, p := e.scheduled(e.consentData(), "150.00")
	due := consent.MustDate(p.Date)
	retry := func(date consent.Date) (*fapi.Response, error) {
		return e.call(http.MethodPost, "/pix/recurring-payments/"+p.ID+"/retry", obj{"endToEndId": e.e2e(date), "date": date.String()}, e.cc)
	}
	e.advanceTo(at(due, 10, 0))
	_, err := retry(due.AddDays(1))
	want422(t, err, "DETALHE_TENTATIVA_INVALIDO") // still SCHD for the evening attempt
	_, err = retry(due)
	want422(t, err, "DETALHE_TENTATIVA_INVALIDO") // no intraday retry for SALDO_INSUFICIENTE (it is still SCHD)

	var retries []string
	day := due
	for i := range sandbox.MaxExtradayRetries {
		e.advanceTo(at(day, 21, 0))
		if s := e.status(lastOf(p.ID, retries)); s != "RJCT" {
			t.Fatalf("attempt %d on %s is %s", i, day, s)
		}
		_, err := retry(day.AddDays(2))
		want422(t, err, "FORA_PRAZO_PERMITIDO") // only tomorrow
		resp := e.must(http.StatusCreated)(retry(day.AddDays(1)))
		r := decode[wirePayment](t, resp.Message.Data)
		retries = append(retries, r.ID)
		e.advance(time.Second)
		cancel := obj{"status": "CANC", "cancellation": obj{"cancelledBy": obj{"document": obj{"identification": payerCPF, "rel": "CPF"}}}}
		_, err = e.call(http.MethodPatch, "/pix/recurring-payments/"+r.ID, cancel, e.cc)
		want422(t, err, "PAGAMENTO_NAO_PERMITE_CANCELAMENTO")
		day = day.AddDays(1)
	}
	e.advanceTo(at(day, 21, 0))
	if s := e.status(lastOf(p.ID, retries)); s != "RJCT" {
		t.Fatalf("third retry is %s", s)
	}
	_, err = retry(day.AddDays(1))
	want422(t, err, "LIMITE_TENTATIVAS_EXCEDIDO")
	if got := e.b.Payments(id); len(got) != 1+sandbox.MaxExtradayRetries || got[len(got)-1].OriginalRecurringPaymentID != p.ID {
		t.Fatalf("payments: %d", len(got))
	}

	// isRetryAccepted false: no extraday retry at all.
	noRetry := e.consentData()
	delete(auto(noRetry), "firstPayment")
	auto(noRetry)["isRetryAccepted"] = false
	auto(noRetry)["referenceStartDate"] = e.today().AddDays(5).String()
	if err := e.b.ScriptSettlement(payerCPF, fail, fail); err != nil {
		t.Fatal(err)
	}
	_, _, q := e.scheduled(noRetry, "20.00")
	qdue := consent.MustDate(q.Date)
	e.advanceTo(at(qdue, 21, 0))
	_, err = e.call(http.MethodPost, "/pix/recurring-payments/"+q.ID+"/retry", obj{"endToEndId": e.e2e(qdue.AddDays(1)), "date": qdue.AddDays(1).String()}, e.cc)
	want422(t, err, "LIMITE_TENTATIVAS_EXCEDIDO")

	// A reason that forbids retries.
	data2 := e.consentData()
	delete(auto(data2), "firstPayment")
	auto(data2)["referenceStartDate"] = e.today().AddDays(3).String()
	id2, ts2, p2 := e.scheduled(data2, "150.00")
	if err := e.b.ScriptConsentSettlement(id2, sandbox.Reject(payments.RejectionSaldoInsuficiente), sandbox.Reject(payments.RejectionTitularidadeInconsistente)); err != nil {
		t.Fatal(err)
	}
	due2 := consent.MustDate(p2.Date)
	e.advanceTo(at(due2, 21, 0))
	if got := e.payment(p2.ID); got.RejectionReason == nil || got.RejectionReason.Code != "TITULARIDADE_INCONSISTENTE" {
		t.Fatalf("p2: %+v", got)
	}
	_, err = e.call(http.MethodPost, "/pix/recurring-payments/"+p2.ID+"/retry", obj{"endToEndId": e.e2e(due2.AddDays(1)), "date": due2.AddDays(1).String()}, e.cc)
	want422(t, err, "PAGAMENTO_RECUSADO_DETENTORA")
	e.must(http.StatusOK)(e.call(http.MethodGet, "/pix/recurring-payments/"+p2.ID, nil, ts2))
}

func lastOf(original string, retries []string) string {
	if len(retries) == 0 {
		return original
	}
	return retries[len(retries)-1]
}

// TestRetryRefusals: the retry endpoint's other refusals.
func TestRetryRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Config{})
	if err := e.b.ScriptSettlement(payerCPF, sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.AnyWindow)); err != nil {
		t.Fatal(err)
	}
	data := e.consentData()
	id, ts := e.authorised(data)
	first := e.pay(ts, e.firstPaymentData())
	e.advance(time.Second)
	if s := e.status(first.ID); s != "RJCT" {
		t.Fatalf("first payment is %s", s)
	}
	// A failed first payment does not change the consent.
	if c := e.consent(id); c.Status != consent.StatusAuthorised {
		t.Fatalf("consent after a failed first payment: %s", c.Status)
	}
	tomorrow := e.today().AddDays(1)
	_, err := e.call(http.MethodPost, "/pix/recurring-payments/"+first.ID+"/retry", obj{"endToEndId": e.e2e(tomorrow), "date": tomorrow.String()}, e.cc)
	want422(t, err, "NAO_PERMITIDO")
	_, err = e.call(http.MethodPost, "/pix/recurring-payments/unknown/retry", obj{"endToEndId": e.e2e(tomorrow), "date": tomorrow.String()}, e.cc)
	apiError(t, err, http.StatusNotFound)
	// The next recurrence is scheduled as usual.
	cycle := consent.MustDate(auto(data)["referenceStartDate"].(string))
	e.advanceTo(at(cycle.AddDays(-7), 9, 0))
	p := e.pay(ts, e.recurrenceData(cycle, cycle, "150.00"))
	e.advance(time.Second)
	if s := e.status(p.ID); s != "SCHD" {
		t.Fatalf("recurrence after a failed first payment: %s", s)
	}
	// Too far from the original's date.
	if err := e.b.ScriptSettlement(payerCPF, sandbox.Reject(payments.RejectionSaldoInsuficiente), sandbox.Reject(payments.RejectionSaldoInsuficiente)); err != nil {
		t.Fatal(err)
	}
	e.advanceTo(at(cycle.AddDays(7), 12, 0))
	late := cycle.AddDays(8)
	_, err = e.call(http.MethodPost, "/pix/recurring-payments/"+p.ID+"/retry", obj{"endToEndId": e.e2e(late), "date": late.String()}, e.cc)
	want422(t, err, "FORA_PRAZO_PERMITIDO")
	// A revoked consent: CONSENTIMENTO_INVALIDO.
	if err := e.b.SetConsentStatus(id, consent.StatusRevoked); err != nil {
		t.Fatal(err)
	}
	next := e.today().AddDays(1)
	_, err = e.call(http.MethodPost, "/pix/recurring-payments/"+p.ID+"/retry", obj{"endToEndId": e.e2e(next), "date": next.String()}, e.cc)
	want422(t, err, "CONSENTIMENTO_INVALIDO")
}

// TestLegacyRetry: on 2.1.0 a retry is POST /pix/recurring-payments with a
// copy of the original and originalRecurringPaymentId.
func TestLegacyRetry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Config{APIVersion: "2.1.0"})
	fail := sandbox.Reject(payments.RejectionSaldoInsuficiente)
	if err := e.b.ScriptSettlement(payerCPF, fail, fail); err != nil {
		t.Fatal(err)
	}
	data := e.consentData()
	_, ts, p := e.scheduled(data, "150.00")
	due := consent.MustDate(p.Date)
	e.advanceTo(at(due, 21, 0))
	cycle := consent.MustDate(auto(data)["referenceStartDate"].(string))
	body := e.recurrenceData(cycle, due.AddDays(1), "151.00")
	body["originalRecurringPaymentId"] = p.ID
	_, err := e.call(http.MethodPost, "/pix/recurring-payments", body, ts)
	want422(t, err, "DETALHE_TENTATIVA_INVALIDO") // another amount
	body = e.recurrenceData(cycle, due.AddDays(1), "150.00")
	body["originalRecurringPaymentId"] = p.ID
	r := e.pay(ts, body)
	if r.OriginalID != p.ID || r.Reference != p.Reference {
		t.Fatalf("legacy retry: %+v", r)
	}
	e.advanceTo(at(due.AddDays(1), 0, 1))
	if s := e.status(r.ID); s != "ACSC" {
		t.Fatalf("legacy retry is %s", s)
	}
}

// TestRevocationCancelsScheduledPayments: spec digest §5.9 on 2.2.0 (payer,
// receiver before and after 22:00) and on 2.1.0.
func TestRevocationCancelsScheduledPayments(t *testing.T) {
	t.Parallel()
	type revocation struct {
		name      string
		code      string
		hour      int       // of the revocation, Brasília
		want      [3]string // payments dated R, R+1, R+3
		canceller string    // cancelledBy of the cancelled ones
		id        string
		payments  [3]string
	}
	for _, version := range []string{"2.2.0", "2.1.0"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, sandbox.Config{APIVersion: version})
			cases := []*revocation{
				{name: "payer", code: "REVOGADO_USUARIO", hour: 10, want: [3]string{"ACSC", "CANC", "CANC"}, canceller: payerCPF},
				{name: "receiver before 22:00", code: "REVOGADO_RECEBEDOR", hour: 21, want: [3]string{"ACSC", "CANC", "CANC"}, canceller: creditorCNPJ},
				{name: "receiver at 22:30", code: "REVOGADO_RECEBEDOR", hour: 22, want: [3]string{"ACSC", "ACSC", "CANC"}, canceller: creditorCNPJ},
			}
			if version == "2.1.0" {
				cases = []*revocation{{name: "payer", code: "REVOGADO_USUARIO", hour: 10, want: [3]string{"ACSC", "ACSC", "RJCT"}}}
			}
			today := e.today()
			r := today.AddDays(4)
			for _, c := range cases {
				data := e.consentData()
				delete(auto(data), "firstPayment")
				auto(data)["interval"] = "SEMANAL"
				auto(data)["referenceStartDate"] = today.String()
				var ts fapi.TokenSource
				c.id, ts = e.authorised(data)
				for i, d := range []consent.Date{r, r.AddDays(1), r.AddDays(3)} {
					c.payments[i] = e.pay(ts, e.recurrenceDataFor(consent.IntervalSemanal, today.AddDays(7*i), d, "30.00")).ID
				}
				// The payment due on the revocation day fails in the morning
				// and is still SCHD when the payer revokes.
				if err := e.b.ScriptConsentSettlement(c.id, sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Morning)); err != nil {
					t.Fatal(err)
				}
			}
			for _, c := range cases {
				e.advanceTo(at(r, c.hour, 30))
				if s := e.status(c.payments[0]); c.hour < 18 && s != "SCHD" {
					t.Fatalf("%s: payment due today is %s before the revocation", c.name, s)
				}
				by := "USUARIO"
				if c.code == "REVOGADO_RECEBEDOR" {
					by = "INICIADORA"
				}
				revoke := obj{"status": "REVOKED", "revocation": obj{"revokedBy": by, "revokedFrom": "INICIADORA", "reason": obj{"code": c.code, "detail": "fim"}}}
				e.must(http.StatusOK)(e.call(http.MethodPatch, "/recurring-consents/"+c.id, revoke, e.cc))
			}
			e.advanceTo(at(r.AddDays(4), 0, 0))
			for _, c := range cases {
				for i, want := range c.want {
					got := e.payment(c.payments[i])
					switch {
					case got.Status != want:
						t.Errorf("%s: payment %d is %s, want %s", c.name, i, got.Status, want)
					case want == "CANC" && (got.Cancellation.Reason != "CANCELADO_AGENDAMENTO" || got.Cancellation.CancelledBy.Document.Identification != c.canceller):
						t.Errorf("%s: cancellation %d: %+v", c.name, i, got.Cancellation)
					case want == "RJCT" && got.RejectionReason.Code != "CONSENTIMENTO_REVOGADO":
						t.Errorf("%s: rejection %d: %+v", c.name, i, got.RejectionReason)
					}
				}
			}
		})
	}
}

// TestConsentLifecycle: REJECTED after 60 minutes without authorisation,
// by the payer's refusal and for a payer who is not the logged user;
// AUTHORISED with the payer's chosen account; CONSUMED at expiry, after
// which payments and refresh are refused.
func TestConsentLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Config{})
	timeout := e.createConsent(e.consentData())
	e.advance(sandbox.RecurringConsentAuthorisationWindow - time.Second)
	if c := e.consent(timeout); c.Status != consent.StatusAwaitingAuthorisation {
		t.Fatalf("after 59:59 %s", c.Status)
	}
	e.advance(time.Second)
	c := e.consent(timeout)
	if c.Status != consent.StatusRejected || c.Rejection.Reason.Code != consent.RejectionTempoExpiradoAutorizacao || c.Rejection.RejectedBy != consent.ByDetentora {
		t.Fatalf("after 60 minutes: %+v", c)
	}
	if _, err := e.c.PushAuthorization(t.Context(), fapi.RecurringConsentScopes(timeout), nil); err == nil {
		t.Fatal("PAR accepted an expired consent")
	}
	// The back office can force it through; the rejection goes.
	if err := e.b.SetConsentStatus(timeout, consent.StatusAuthorised); err != nil {
		t.Fatal(err)
	}
	if c, err := e.b.Consent(timeout); err != nil || c.Status != consent.StatusAuthorised || c.Rejection != nil || c.DebtorAccount == nil || c.AuthorisedAtDateTime == nil {
		t.Fatalf("forced consent: %+v %v", c, err)
	}
	if err := e.b.SetConsentStatus(timeout, "PAUSED"); err == nil {
		t.Fatal("SetConsentStatus accepted an unknown status")
	}
	for _, err := range []error{
		e.b.SetConsentStatus("urn:x:y", consent.StatusRevoked),
		e.b.EditConsentAtHolder("urn:x:y", sandbox.HolderEdit{}),
		e.b.HoldPayment("nope"),
	} {
		if err == nil {
			t.Fatal("a helper accepted an unknown resource")
		}
	}
	if _, err := e.b.Consent("urn:x:y"); err == nil {
		t.Fatal("Consent of an unknown id")
	}
	if _, err := e.b.Payment("nope"); err == nil {
		t.Fatal("Payment of an unknown id")
	}

	denied := e.createConsent(e.consentData())
	e.setDecision(func(sandbox.AuthorizationRequest) sandbox.AuthorizationDecision {
		return sandbox.AuthorizationDecision{Deny: true}
	})
	if _, cb := e.authorize(denied); cb.Error != "access_denied" {
		t.Fatalf("denial: %+v", cb)
	}
	if c := e.consent(denied); c.Status != consent.StatusRejected || c.Rejection.Reason.Code != consent.RejectionRejeitadoUsuario || c.Rejection.RejectedBy != consent.ByUsuario {
		t.Fatalf("denied consent: %+v", c.Rejection)
	}

	stranger := e.createConsent(e.consentData())
	e.setDecision(func(sandbox.AuthorizationRequest) sandbox.AuthorizationDecision {
		return sandbox.AuthorizationDecision{Subject: otherCPF}
	})
	if _, cb := e.authorize(stranger); cb.Error != "access_denied" {
		t.Fatalf("another payer: %+v", cb)
	}
	if c := e.consent(stranger); c.Status != consent.StatusRejected || c.Rejection.Reason.Code != consent.RejectionAutenticacaoDivergente {
		t.Fatalf("consent authorised by another payer: %+v", c.Rejection)
	}

	pick := consent.Account{ISPB: "99999999", Issuer: "0002", Number: "777", AccountType: consent.AccountSVGS}
	e.setDecision(func(sandbox.AuthorizationRequest) sandbox.AuthorizationDecision {
		return sandbox.AuthorizationDecision{DebtorAccount: &pick}
	})
	data := e.consentData()
	data["expirationDateTime"] = e.today().AddDays(40).String() + "T23:59:59Z"
	id, ts := e.authorised(data)
	got := e.consent(id)
	if d := got.DebtorAccount; d == nil || d.Number != "777" || d.IBGETownCode == "" {
		t.Fatalf("debtor account: %+v", d)
	}
	e.setDecision(nil)

	// CONSUMED one second after the expiry (23:59:59 UTC = 20:59:59 in Brasília).
	last := e.today().AddDays(40)
	e.advanceTo(time.Date(last.Year, last.Month, last.Day, 23, 59, 59, 0, time.UTC))
	if s := e.consent(id).Status; s != consent.StatusAuthorised {
		t.Fatalf("at the expiry %s", s)
	}
	e.advance(time.Second)
	if s := e.consent(id).Status; s != consent.StatusConsumed {
		t.Fatalf("after the expiry %s", s)
	}
	_, err := e.call(http.MethodPost, "/pix/recurring-payments", e.firstPaymentData(), ts)
	var oe *fapi.OAuthError
	if !errors.As(err, &oe) || oe.Code != "invalid_grant" {
		t.Fatalf("refresh for a consumed consent: %v", err)
	}
}

// TestScheduledFirstPaymentAndTimezone: a future first payment is SCHD and
// settles on its day; an immediate one created at 22:00 in Brasília (the
// next day in UTC) is dated the Brasília day and settles at once.
func TestScheduledFirstPaymentAndTimezone(t *testing.T) {
	t.Parallel()
	late := time.Date(2026, time.March, 2, 22, 0, 0, 0, consent.Brasilia)
	e := newEnv(t, sandbox.Config{Clock: sandbox.NewClock(late), ProcessingDelay: time.Minute})
	today := e.today()
	if today != consent.MustDate("2026-03-02") || consent.DateOf(late, time.UTC) != consent.MustDate("2026-03-03") {
		t.Fatalf("today %s", today)
	}
	data := e.consentData()
	_, ts := e.authorised(data)
	first := e.pay(ts, e.firstPaymentData())
	e.advance(time.Minute)
	if s := e.status(first.ID); s != "ACCP" {
		t.Fatalf("after one processing delay %s", s)
	}
	e.advance(time.Minute)
	if s := e.status(first.ID); s != "ACSC" {
		t.Fatalf("after two processing delays %s", s)
	}

	sched := e.consentData()
	fpDate := today.AddDays(3)
	auto(sched)["firstPayment"].(obj)["date"] = fpDate.String()
	_, ts2 := e.authorised(sched)
	fp := e.firstPaymentData()
	fp["date"], fp["endToEndId"] = fpDate.String(), e.e2e(fpDate)
	p := e.pay(ts2, fp)
	e.advance(2 * time.Minute)
	if s := e.status(p.ID); s != "SCHD" {
		t.Fatalf("scheduled first payment %s", s)
	}
	e.advanceTo(at(fpDate, 0, 0))
	if s := e.status(p.ID); s != "ACSC" {
		t.Fatalf("scheduled first payment on its day %s", s)
	}
}

// TestClockDriving: Advance and AdvanceTo need a ManualClock and refuse to
// go back; with another clock the background loop moves payments on.
func TestClockDriving(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Config{})
	if _, err := e.b.Advance(-time.Second); err == nil {
		t.Fatal("Advance accepted a negative duration")
	}
	if _, err := e.b.AdvanceTo(start.Add(-time.Hour)); err == nil {
		t.Fatal("AdvanceTo went back in time")
	}
	if now, err := e.b.AdvanceTo(start.Add(time.Hour)); err != nil || !now.Equal(start.Add(time.Hour)) {
		t.Fatalf("AdvanceTo: %v %v", now, err)
	}

	// On the system clock the background loop applies the transitions: an
	// immediate first payment is settled without anyone moving the clock.
	sys := newEnv(t, sandbox.Config{Clock: sandbox.SystemClock{}, TickInterval: 5 * time.Millisecond, ProcessingDelay: 10 * time.Millisecond})
	if _, err := sys.b.Advance(time.Second); !errors.Is(err, sandbox.ErrNotManualClock) {
		t.Fatalf("Advance on the system clock: %v", err)
	}
	_, ts := sys.authorised(sys.consentData())
	first := sys.pay(ts, sys.firstPaymentData())
	deadline := time.Now().Add(5 * time.Second)
	for {
		p, err := sys.b.Payment(first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status == payments.StatusACSC {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the background loop left the payment %s", p.Status)
		}
		time.Sleep(5 * time.Millisecond) // real time is what is under test
	}
	if err := sys.b.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []sandbox.Config{{APIVersion: "3.0.0"}, {ProcessingDelay: -1}, {ISPB: "ABC"}} {
		if _, err := sandbox.New(cfg); err == nil {
			t.Fatalf("New accepted %+v", cfg)
		}
	}
}
