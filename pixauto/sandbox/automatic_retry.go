package sandbox

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
)

// Retries of a failed recurrence (spec digest §5.7): on 2.2.0 POST
// /pix/recurring-payments/{originalRecurringPaymentId}/retry with only
// endToEndId and date; on 2.0/2.1 POST /pix/recurring-payments with a copy
// of the original body and originalRecurringPaymentId.

// MaxExtradayRetries is how many extraday retries (each on its own date) a
// recurrence may have.
const MaxExtradayRetries = 3

// RetryWindowDays is how many days after the original's date an extraday
// retry may be dated (the guide's 7 days; the bank does not apply the
// 5-day reading for weekly consents).
const RetryWindowDays = 7

// neverRetry are the rejection reasons after which no retry is accepted
// (Table 1, last rows, and DETALHE_PAGAMENTO_INVALIDO).
var neverRetry = map[payments.RejectionCode]bool{
	payments.RejectionValorInvalido:                         true,
	payments.RejectionPagamentoDivergenteConsentimento:      true,
	payments.RejectionConsentimentoInvalido:                 true,
	payments.RejectionTitularidadeInconsistente:             true,
	payments.RejectionLimitePeriodoValorExcedido:            true,
	payments.RejectionLimitePeriodoQuantidadeExcedido:       true,
	payments.RejectionLimiteValorTotalConsentimentoExcedido: true,
	payments.RejectionLimiteTentativasExcedido:              true,
	payments.RejectionConsentimentoRevogado:                 true,
	payments.RejectionForaPrazoPermitido:                    true,
	payments.RejectionDetalhePagamentoInvalido:              true,
}

// newE2EIDReasons are the rejection reasons after which the ITP may send
// an intraday retry with a new endToEndId (Table 1, first row).
var newE2EIDReasons = map[payments.RejectionCode]bool{
	payments.RejectionNaoInformado:                    true,
	payments.RejectionPagamentoRecusadoSPI:            true,
	payments.RejectionFalhaInfraestruturaSPI:          true,
	payments.RejectionFalhaInfraestruturaICP:          true,
	payments.RejectionFalhaInfraestruturaPSPRecebedor: true,
}

// notAnAttempt are the rejection reasons of a retry that do not use up one
// of the extraday attempts (Table 1: "não conta como tentativa").
var notAnAttempt = map[payments.RejectionCode]bool{
	payments.RejectionDetalheTentativaInvalido:         true,
	payments.RejectionValorInvalido:                    true,
	payments.RejectionPagamentoDivergenteConsentimento: true,
}

func (a *automatic) handleRetry(w http.ResponseWriter, r *http.Request) {
	b := a.b
	call, ok := b.beginCall(w, r)
	if !ok {
		return
	}
	limit, ae := readGrant(call.grant)
	if ae != nil {
		b.refuseAPI(w, r, call.iid, ae)
		return
	}
	origID := r.PathValue("originalRecurringPaymentId")
	if !paymentIDPattern.MatchString(origID) {
		b.refuseAPI(w, r, call.iid, apiErr(http.StatusBadRequest, "PARAMETRO_INVALIDO", "Parâmetro inválido", "originalRecurringPaymentId %q is malformed", origID))
		return
	}
	key, sr, ok := b.beginWrite(w, r, call, a.idempotencyOf(r))
	if !ok {
		return
	}
	a.answer(w, r, call, key, sr, a.retry(call, limit, origID, sr.Data))
}

func (a *automatic) retry(call *apiCall, limit, origID string, raw json.RawMessage) result {
	m, ok := decodeData(raw)
	if !ok {
		return a.fail("PARAMETRO_INVALIDO", "Parâmetro data não obedece as regras de formatação esperadas: must be an object", maxPaymentErrors)
	}
	ch := &checker{}
	d := ch.root("data", m)
	e2e, _ := d.str("endToEndId", true, a.patterns().e2eid, 32)
	date, _ := d.date("date", true)
	if !ch.ok() {
		return a.unprocessable(ch.fails, maxPaymentErrors)
	}
	tx := a.begin()
	defer tx.end()
	orig, ae := a.ownPaymentLocked(call, origID, limit)
	if ae != nil {
		return result{err: ae}
	}
	now := a.b.now()
	kind, f := a.retryRulesLocked(orig, e2e, date, now)
	if f != nil {
		return a.unprocessable([]failure{*f}, maxPaymentErrors)
	}
	p := a.newRetryLocked(call, orig, e2e, date, kind, now)
	return result{status: http.StatusCreated, body: a.paymentBody(p, shapeRetry), render: a.paymentRenderer(p.p.ID, shapeRetry)}
}

// legacyRetryLocked is a 2.0/2.1 retry: POST /pix/recurring-payments with
// originalRecurringPaymentId and an exact copy of the original otherwise.
func (a *automatic) legacyRetryLocked(tx *apTx, call *apiCall, c *apConsent, req *paymentRequest, now time.Time) result {
	fail := func(code, detail string) result { return a.fail(code, detail, maxPaymentErrors) }
	orig := a.payments[req.original]
	if orig == nil || orig.clientID != call.grant.ClientID || orig.p.ConsentID != c.c.RecurringConsentID {
		return fail("DETALHE_TENTATIVA_INVALIDO", "originalRecurringPaymentId "+req.original+" não é um pagamento deste consentimento.")
	}
	for _, diff := range []struct {
		field string
		same  bool
	}{
		{"payment.amount", req.amount == orig.p.Amount},
		{"payment.currency", req.currency == orig.p.Currency},
		{"creditorAccount", sameAccount(req.creditor, *orig.p.CreditorAccount)},
		{"document", req.document == orig.p.Document},
		{"cnpjInitiator", req.cnpjInitiator == orig.p.CNPJInitiator},
		{"localInstrument", req.localInstrument == string(orig.p.LocalInstrument)},
		{"paymentReference", req.reference == orig.p.PaymentReference},
		{"remittanceInformation", req.remittance == orig.p.RemittanceInformation},
		{"recurringConsentId", req.consentID == "" || req.consentID == c.c.RecurringConsentID},
	} {
		if !diff.same {
			return fail("DETALHE_TENTATIVA_INVALIDO", "O parâmetro "+diff.field+" da nova tentativa não condiz com o pagamento original que falhou.")
		}
	}
	kind, f := a.retryRulesLocked(orig, req.e2eid, req.date, now)
	if f != nil {
		if f.Code == "NAO_PERMITIDO" { // not in the 2.0/2.1 enum of this endpoint
			f.Code = "DETALHE_TENTATIVA_INVALIDO"
		}
		return a.unprocessable([]failure{*f}, maxPaymentErrors)
	}
	p := a.newRetryLocked(call, orig, req.e2eid, req.date, kind, now)
	return result{status: http.StatusCreated, body: a.paymentBody(p, shapeFull), render: a.paymentRenderer(p.p.ID, shapeFull)}
}

// chainLocked returns the attempts of a recurrence: the original, then its
// retries in creation order.
func (a *automatic) chainLocked(orig *apPayment) []*apPayment {
	chain := []*apPayment{orig}
	for _, p := range a.paymentList {
		if p.p.OriginalRecurringPaymentID == orig.p.ID {
			chain = append(chain, p)
		}
	}
	return chain
}

// retryRulesLocked checks a new attempt of orig dated date with endToEndId
// e2e, and classifies it as intraday (date = today, before 12:00 Brasília,
// after a morning failure that needs a new endToEndId) or extraday (date =
// tomorrow, isRetryAccepted, at most MaxExtradayRetries, within
// RetryWindowDays of the original's date and the consent's expiry).
func (a *automatic) retryRulesLocked(orig *apPayment, e2e string, date consent.Date, now time.Time) (paymentKind, *failure) {
	fail := func(code, detail string) (paymentKind, *failure) { return 0, &failure{code, detail} }
	switch {
	case orig.isRetry():
		return fail("DETALHE_TENTATIVA_INVALIDO", orig.p.ID+" é uma nova tentativa; informe a tentativa original "+orig.p.OriginalRecurringPaymentID+".")
	case orig.kind != kindRecurrence:
		return fail("NAO_PERMITIDO", orig.p.ID+" não é uma recorrência de Pix Automático (é o pagamento inicial).")
	}
	c := a.consents[orig.p.ConsentID]
	if c.c.Status != consent.StatusAuthorised {
		return fail("CONSENTIMENTO_INVALIDO", "O consentimento "+c.c.RecurringConsentID+" está em "+string(c.c.Status)+".")
	}
	chain := a.chainLocked(orig)
	last := chain[len(chain)-1]
	today := consent.Today(now)
	if date == today {
		for _, p := range chain[1:] {
			if p.kind == kindIntraday && p.p.Date == today {
				return fail("LIMITE_TENTATIVAS_EXCEDIDO", "Já houve uma tentativa intradia hoje ("+p.p.ID+").")
			}
		}
	}
	for _, p := range chain {
		if p.p.Status == payments.StatusACSC {
			return fail("DETALHE_TENTATIVA_INVALIDO", "A recorrência já foi liquidada pela tentativa "+p.p.ID+".")
		}
	}
	switch {
	case pending(last.p.Status):
		return fail("DETALHE_TENTATIVA_INVALIDO", "A tentativa "+last.p.ID+" ainda está em "+string(last.p.Status)+".")
	case last.p.Status != payments.StatusRJCT:
		return fail("DETALHE_TENTATIVA_INVALIDO", "A tentativa "+last.p.ID+" foi cancelada.")
	case neverRetry[last.p.RejectionCode()]:
		return fail("PAGAMENTO_RECUSADO_DETENTORA", "O motivo de rejeição "+string(last.p.RejectionCode())+" não permite nova tentativa.")
	}
	parsed, err := payments.ParseE2EID(e2e)
	switch {
	case err != nil:
		return fail("DETALHE_TENTATIVA_INVALIDO", "Parâmetro endToEndId inválido: "+err.Error())
	case !scheduledE2EID(parsed, date):
		return fail("DETALHE_TENTATIVA_INVALIDO", "Parâmetro endToEndId deve trazer a data da nova tentativa "+date.String()+" e o horário 15:00 UTC.")
	}
	if _, used := a.e2eids[e2e]; used {
		return fail("DETALHE_TENTATIVA_INVALIDO", "Parâmetro endToEndId já foi utilizado; cada tentativa exige um novo endToEndId.")
	}
	switch date {
	case today:
		switch {
		case !now.Before(atBrasilia(today, 12)):
			return fail("FORA_PRAZO_PERMITIDO", "Tentativas intradia são aceitas até as 12:00 (horário de Brasília).")
		case last.p.Date != today || last.rejectedIn != attemptMorning:
			return fail("DETALHE_TENTATIVA_INVALIDO", "Nenhuma tentativa desta recorrência falhou hoje na janela da manhã.")
		case !newE2EIDReasons[last.p.RejectionCode()]:
			return fail("DETALHE_TENTATIVA_INVALIDO", "O motivo "+string(last.p.RejectionCode())+" não exige novo endToEndId; a detentora faz a segunda tentativa do dia.")
		}
		return kindIntraday, nil
	case today.AddDays(1):
		auto := c.c.Automatic()
		extraday := 0
		for _, p := range chain[1:] {
			if p.kind == kindExtraday && !(p.p.Status == payments.StatusRJCT && notAnAttempt[p.p.RejectionCode()]) {
				extraday++
			}
		}
		lastDay, bounded := expiryDate(&c.c)
		switch {
		case !auto.IsRetryAccepted:
			return fail("LIMITE_TENTATIVAS_EXCEDIDO", "O consentimento não permite novas tentativas em dias subsequentes (isRetryAccepted false).")
		case extraday >= MaxExtradayRetries:
			return fail("LIMITE_TENTATIVAS_EXCEDIDO", "A recorrência já teve o máximo de novas tentativas em dias subsequentes.")
		case date.After(orig.p.Date.AddDays(RetryWindowDays)):
			return fail("FORA_PRAZO_PERMITIDO", "Novas tentativas devem ocorrer em até 7 dias da data original "+orig.p.Date.String()+".")
		case bounded && date.After(lastDay):
			return fail("FORA_PRAZO_PERMITIDO", "A nova tentativa é posterior à expiração do consentimento.")
		}
		return kindExtraday, nil
	}
	return fail("FORA_PRAZO_PERMITIDO", "A data de uma nova tentativa deve ser hoje (intradia, até 12:00) ou amanhã (dias subsequentes): "+today.String()+" ou "+today.AddDays(1).String()+".")
}

// newRetryLocked records a retry: a copy of the original with a new id,
// endToEndId and date.
func (a *automatic) newRetryLocked(call *apiCall, orig *apPayment, e2e string, date consent.Date, kind paymentKind, now time.Time) *apPayment {
	c := a.consents[orig.p.ConsentID]
	acct := *orig.p.CreditorAccount
	req := &paymentRequest{
		e2eid: e2e, date: date, amount: orig.p.Amount, currency: orig.p.Currency, creditor: acct,
		remittance: orig.p.RemittanceInformation, cnpjInitiator: orig.p.CNPJInitiator, ibgeTownCode: orig.ibgeTownCode,
		flow: string(orig.p.AuthorisationFlow), localInstrument: string(orig.p.LocalInstrument),
		document: orig.p.Document, reference: orig.p.PaymentReference,
	}
	p := a.newPaymentLocked(call, c, req, now)
	p.flowSent = orig.flowSent
	p.kind, p.cycle = kind, orig.cycle
	p.p.OriginalRecurringPaymentID = orig.p.ID
	// An intraday retry is the holder's evening attempt, even when it was
	// asked for before the morning window closed.
	p.morning = kind == kindIntraday
	return p
}
