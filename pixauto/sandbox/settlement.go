package sandbox

import (
	"errors"
	"fmt"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
)

// The asynchronous side of the automatic-payments API: what happens to
// consents and payments as time passes. Every transition has a due time
// computed from the resource's state; runLocked applies, in time order,
// every transition due up to a given instant, stamping each with its own
// due time (statusUpdateDateTime, webhook timestamp). Nothing reads the
// clock here: the instant comes from the caller, so a test that moves a
// ManualClock sees exactly the transitions due in between.
//
// Consents: AWAITING_AUTHORISATION → REJECTED (TEMPO_EXPIRADO_AUTORIZACAO)
// RecurringConsentAuthorisationWindow after creation; PARTIALLY_ACCEPTED →
// REJECTED at the end of approvalDueDate; AUTHORISED → CONSUMED one second
// after expirationDateTime.
//
// Payments: RCVD → ACCP → SCHD, each step Config.ProcessingDelay after the
// previous one; an immediate first payment (date = today) goes from ACCP
// straight to its one settlement attempt. A scheduled payment is attempted
// on its date at 00:00 Brasília (the 00:00–08:00 window) and, when needed,
// at 18:00 (the 18:00–21:00 window) — or when it is scheduled, if that is
// later within the window. A failure in the morning whose reason lets the
// holder try again itself (SALDO_INSUFICIENTE, VALOR_ACIMA_LIMITE,
// PAGAMENTO_RECUSADO_DETENTORA) leaves the payment SCHD for the evening
// attempt; any other failure rejects it (RJCT) at once, so that the ITP
// can send an intraday retry with a new endToEndId before 12:00. A payment
// whose windows have all passed unattempted is rejected with
// FORA_PRAZO_PERMITIDO.

// maxSteps bounds one run of the state machine.
const maxSteps = 1 << 20

// Settlement windows, in Brasília hours.
const (
	morningOpens  = 0
	morningCloses = 8
	eveningOpens  = 18
	eveningCloses = 21
)

// apConsent is the bank's record of a recurring consent.
type apConsent struct {
	c        consent.Consent
	clientID string
	orgID    string
	// subject is the payer who authorised it (the id_token sub).
	subject string
	seq     int
}

type paymentKind int

const (
	kindFirst      paymentKind = iota + 1 // paymentReference "zero"
	kindRecurrence                        // an original of a cycle
	kindIntraday                          // a retry dated the day it was asked for
	kindExtraday                          // a retry dated the next day
)

// attemptWindow is when a settlement attempt happens.
type attemptWindow int

const (
	attemptImmediate attemptWindow = iota + 1
	attemptMorning
	attemptEvening
)

// apPayment is the bank's record of one recurring payment resource.
type apPayment struct {
	p        payments.Payment
	clientID string
	orgID    string
	kind     paymentKind
	// immediate: a first payment dated the day it was created.
	immediate bool
	// cycle is the start of the cycle a recurrence (or retry) pays.
	cycle        consent.Date
	ibgeTownCode string
	// flowSent: authorisationFlow was in the request and is echoed.
	flowSent bool
	// stepAt is when the current status was entered.
	stepAt time.Time
	// morning and evening record the attempts made on p.Date.
	morning, evening bool
	// rejectedIn is the window of the attempt that rejected the payment.
	rejectedIn attemptWindow
	seq        int
}

func (p *apPayment) isRetry() bool { return p.kind == kindIntraday || p.kind == kindExtraday }

// notice is a webhook to send: a status change or a data change.
type notice struct {
	clientID string
	// path is the resource path under the webhook base, e.g.
	// "/recurring-consents/urn:…" or "/pix/recurring-payments/…".
	path      string
	eventType string // STATE_CHANGED or DATA_CHANGED for consents, "" for payments
	at        time.Time
}

func (tx *apTx) consentChanged(c *apConsent, eventType string, at time.Time) {
	tx.notices = append(tx.notices, notice{clientID: c.clientID, path: "/recurring-consents/" + c.c.RecurringConsentID, eventType: eventType, at: at})
}

func (tx *apTx) paymentChanged(p *apPayment, at time.Time) {
	tx.notices = append(tx.notices, notice{clientID: p.clientID, path: "/pix/recurring-payments/" + p.p.ID, at: at})
}

// atBrasilia returns hour h of date d in Brasília.
func atBrasilia(d consent.Date, h int) time.Time {
	return time.Date(d.Year, d.Month, d.Day, h, 0, 0, 0, consent.Brasilia)
}

// runLocked applies every transition due up to until, in time order.
func (a *automatic) runLocked(tx *apTx, until time.Time) {
	for range maxSteps {
		at, step := a.nextDueLocked(tx, until)
		if step == nil {
			return
		}
		step(at)
	}
	a.b.log.Error("sandbox: state machine did not settle", "until", until)
}

// nextDueLocked finds the earliest transition due at or before until
// (ties: the older resource first, consents before payments).
func (a *automatic) nextDueLocked(tx *apTx, until time.Time) (time.Time, func(time.Time)) {
	var best time.Time
	var step func(time.Time)
	consider := func(t time.Time, ok bool, f func(time.Time)) {
		if ok && !t.After(until) && (step == nil || t.Before(best)) {
			best, step = t, f
		}
	}
	for _, c := range a.consentList {
		t, ok := a.consentDue(c)
		consider(t, ok, func(at time.Time) { a.consentStepLocked(tx, c, at) })
	}
	for _, p := range a.paymentList {
		t, ok := a.paymentDue(p)
		consider(t, ok, func(at time.Time) { a.paymentStepLocked(tx, p, at) })
	}
	return best, step
}

func (a *automatic) consentDue(c *apConsent) (time.Time, bool) {
	switch c.c.Status {
	case consent.StatusAwaitingAuthorisation:
		return c.c.CreationDateTime.Add(RecurringConsentAuthorisationWindow), true
	case consent.StatusPartiallyAccepted:
		if c.c.ApprovalDueDate != nil {
			return atBrasilia(c.c.ApprovalDueDate.AddDays(1), 0), true
		}
	case consent.StatusAuthorised:
		if c.c.ExpirationDateTime != nil {
			return c.c.ExpirationDateTime.Add(time.Second), true
		}
	}
	return time.Time{}, false
}

func (a *automatic) consentStepLocked(tx *apTx, c *apConsent, at time.Time) {
	switch c.c.Status {
	case consent.StatusAwaitingAuthorisation, consent.StatusPartiallyAccepted:
		a.rejectLocked(tx, c, at, consent.ByDetentora, consent.FromDetentora, consent.RejectionTempoExpiradoAutorizacao, "the consent was not authorised in time")
	case consent.StatusAuthorised:
		a.setConsentStatusLocked(tx, c, consent.StatusConsumed, at)
	}
}

func (a *automatic) paymentDue(p *apPayment) (time.Time, bool) {
	delay := a.b.cfg.ProcessingDelay
	switch p.p.Status {
	case payments.StatusRCVD, payments.StatusACCP:
		return p.stepAt.Add(delay), true
	case payments.StatusSCHD:
		t, _ := a.nextAttempt(p)
		return t, true
	}
	return time.Time{}, false
}

// nextAttempt returns when a scheduled payment is next attempted and in
// which window; window 0 means its windows are over.
func (a *automatic) nextAttempt(p *apPayment) (time.Time, attemptWindow) {
	for _, w := range []struct {
		done        bool
		opens, ends int
		window      attemptWindow
	}{
		{p.morning, morningOpens, morningCloses, attemptMorning},
		{p.evening, eveningOpens, eveningCloses, attemptEvening},
	} {
		if w.done {
			continue
		}
		t := atBrasilia(p.p.Date, w.opens)
		if p.stepAt.After(t) {
			t = p.stepAt
		}
		if t.Before(atBrasilia(p.p.Date, w.ends)) {
			return t, w.window
		}
	}
	end := atBrasilia(p.p.Date, eveningCloses)
	if p.stepAt.After(end) {
		end = p.stepAt
	}
	return end, 0
}

func (a *automatic) paymentStepLocked(tx *apTx, p *apPayment, at time.Time) {
	switch p.p.Status {
	case payments.StatusRCVD:
		a.setPaymentStatusLocked(tx, p, payments.StatusACCP, at)
	case payments.StatusACCP:
		if p.immediate {
			a.attemptLocked(tx, p, attemptImmediate, at)
			return
		}
		a.setPaymentStatusLocked(tx, p, payments.StatusSCHD, at)
	case payments.StatusSCHD:
		_, w := a.nextAttempt(p)
		if w == 0 {
			p.morning, p.evening = true, true
			a.rejectPaymentLocked(tx, p, payments.RejectionForaPrazoPermitido, "the payment could not be attempted within its settlement windows", at)
			return
		}
		a.attemptLocked(tx, p, w, at)
	}
}

// holderRetries are the rejection reasons after which the holder makes the
// evening attempt itself, with the same endToEndId (Table 1 of the retry
// rules: counts as an attempt, intraday allowed, no new E2EID).
var holderRetries = map[payments.RejectionCode]bool{
	payments.RejectionSaldoInsuficiente:          true,
	payments.RejectionValorAcimaLimite:           true,
	payments.RejectionPagamentoRecusadoDetentora: true,
}

// attemptLocked makes one settlement attempt of p in window w.
func (a *automatic) attemptLocked(tx *apTx, p *apPayment, w attemptWindow, at time.Time) {
	o := a.takeOutcomeLocked(p, w)
	switch w {
	case attemptMorning:
		p.morning = true
	case attemptEvening:
		p.evening = true
	}
	if o.settle {
		a.setPaymentStatusLocked(tx, p, payments.StatusACSC, at)
		return
	}
	if w == attemptMorning && holderRetries[o.code] {
		a.b.log.Info("sandbox: settlement failed in the morning window; the holder retries in the evening", "recurringPaymentId", p.p.ID, "code", o.code)
		return // stays SCHD for the evening attempt
	}
	p.rejectedIn = w
	a.rejectPaymentLocked(tx, p, o.code, o.detail, at)
}

func (a *automatic) setPaymentStatusLocked(tx *apTx, p *apPayment, s payments.Status, at time.Time) {
	p.p.Status = s
	p.p.StatusUpdateDateTime = consent.NewDateTime(at)
	p.stepAt = at
	tx.paymentChanged(p, at)
}

func (a *automatic) rejectPaymentLocked(tx *apTx, p *apPayment, code payments.RejectionCode, detail string, at time.Time) {
	if detail == "" {
		detail = defaultRejectionDetail(code)
	}
	p.p.RejectionReason = &payments.RejectionReason{Code: code, Detail: detail}
	a.setPaymentStatusLocked(tx, p, payments.StatusRJCT, at)
}

// cancelPaymentLocked cancels a payment that has not been settled or
// rejected, as its payer, receiver or the holder asked.
func (a *automatic) cancelPaymentLocked(tx *apTx, p *apPayment, from consent.From, by consent.Document, at time.Time) {
	reason := payments.CancelledScheduled
	if p.p.Status == payments.StatusPDNG {
		reason = payments.CancelledPending
	}
	p.p.Cancellation = &payments.Cancellation{Reason: reason, CancelledFrom: from, CancelledAt: consent.NewDateTime(at), CancelledBy: by}
	a.setPaymentStatusLocked(tx, p, payments.StatusCANC, at)
}

// pending reports whether a payment may still settle: RCVD, ACCP, SCHD or
// PDNG.
func pending(s payments.Status) bool {
	switch s {
	case payments.StatusRCVD, payments.StatusACCP, payments.StatusSCHD, payments.StatusPDNG:
		return true
	}
	return false
}

func (a *automatic) setConsentStatusLocked(tx *apTx, c *apConsent, s consent.Status, at time.Time) {
	c.c.Status = s
	c.c.StatusUpdateDateTime = consent.NewDateTime(at)
	tx.consentChanged(c, "STATE_CHANGED", at)
}

func (a *automatic) rejectLocked(tx *apTx, c *apConsent, at time.Time, by consent.By, from consent.From, code consent.RejectionCode, detail string) {
	if code == "" {
		code = consent.RejectionRejeitadoUsuario
	}
	if detail == "" {
		detail = string(code)
	}
	rejectedAt := consent.NewDateTime(at)
	c.c.Rejection = &consent.Rejection{RejectedBy: by, RejectedFrom: from, RejectedAt: &rejectedAt, Reason: consent.RejectionReason{Code: code, Detail: detail}}
	a.setConsentStatusLocked(tx, c, consent.StatusRejected, at)
}

// authoriseLocked moves a consent to AUTHORISED for the payer subject,
// with the debtor account the payer picked (nil → the one the ITP sent, or
// the payer's account at this bank), completed with the payer's town.
func (a *automatic) authoriseLocked(tx *apTx, c *apConsent, at time.Time, subject string, account *consent.Account) {
	acct := a.b.PayerAccount(subject)
	switch {
	case account != nil:
		town := acct.IBGETownCode
		acct = *account
		if acct.IBGETownCode == "" {
			acct.IBGETownCode = town
		}
	case c.c.DebtorAccount != nil:
		town := acct.IBGETownCode
		acct = *c.c.DebtorAccount
		acct.IBGETownCode = town
	}
	authorisedAt := consent.NewDateTime(at)
	c.c.DebtorAccount = &acct
	c.c.AuthorisedAtDateTime = &authorisedAt
	c.c.ApprovalDueDate = nil
	c.subject = subject
	a.setConsentStatusLocked(tx, c, consent.StatusAuthorised, at)
}

// revokeLocked revokes an AUTHORISED consent and deals with its pending
// payments (spec digest §5.9). On 2.2.0, a payment dated the revocation
// day (Brasília) is kept and settles normally; one dated the next day is
// kept only when the receiver revoked (REVOGADO_RECEBEDOR) at or after
// 22:00; every other pending payment is cancelled (CANC,
// CANCELADO_AGENDAMENTO, cancelledBy the receiver's CNPJ for a receiver's
// revocation, else the logged user's CPF). On 2.0/2.1 payments dated up to
// the next day are kept and later ones are rejected with
// CONSENTIMENTO_REVOGADO.
func (a *automatic) revokeLocked(tx *apTx, c *apConsent, at time.Time, rev consent.Revocation) {
	revokedAt := consent.NewDateTime(at)
	rev.RevokedAt = &revokedAt
	c.c.Revocation = &rev
	a.setConsentStatusLocked(tx, c, consent.StatusRevoked, at)

	local := at.In(consent.Brasilia)
	today := consent.DateOf(at, consent.Brasilia)
	receiver := rev.Reason.Code == consent.RevocationRecebedor
	keepUntil := today
	if a.legacy() || (receiver && local.Hour() >= 22) {
		keepUntil = today.AddDays(1)
	}
	by := consent.Document{}
	if receiver && len(c.c.Creditors) > 0 {
		by = consent.DocumentFor(c.c.Creditors[0].CpfCnpj)
	} else if c.c.LoggedUser != nil {
		by = c.c.LoggedUser.Document
	}
	for _, p := range a.paymentList {
		if p.p.ConsentID != c.c.RecurringConsentID || !pending(p.p.Status) || !p.p.Date.After(keepUntil) {
			continue
		}
		if a.legacy() {
			a.rejectPaymentLocked(tx, p, payments.RejectionConsentimentoRevogado, "the consent was revoked", at)
			continue
		}
		a.cancelPaymentLocked(tx, p, rev.RevokedFrom, by, at)
	}
}

// PayerAccount returns the account a payer holds at this bank: the debtor
// account of the consents the payer authorises without picking another.
// It is derived from the CPF (or any id): ispb Bank.ISPB, branch 0001, a
// current account (CACC) numbered after the CPF's digits, in São Paulo
// (ibgeTownCode 3550308).
func (b *Bank) PayerAccount(cpf string) consent.Account {
	number := consent.NormaliseAccountNumber(cpf)
	if number == "" {
		number = "0"
	}
	if len(number) > 20 {
		number = number[:20]
	}
	return consent.Account{ISPB: b.ISPB, Issuer: "0001", Number: number, AccountType: consent.AccountCACC, IBGETownCode: "3550308"}
}

var rejectionDetails = map[payments.RejectionCode]string{
	payments.RejectionSaldoInsuficiente:                         "A conta selecionada não possui saldo suficiente para realizar o pagamento.",
	payments.RejectionValorAcimaLimite:                          "O valor ultrapassa o limite estabelecido para permitir a realização de transações pelo cliente.",
	payments.RejectionValorInvalido:                             "O valor enviado não é válido para o consentimento associado ao pagamento.",
	payments.RejectionNaoInformado:                              "Não reportado/identificado pela instituição detentora de conta.",
	payments.RejectionPagamentoDivergenteConsentimento:          "Dados do pagamento divergentes dos dados do consentimento.",
	payments.RejectionPagamentoRecusadoDetentora:                "Pagamento recusado pela detentora de conta.",
	payments.RejectionPagamentoRecusadoSPI:                      "AM04",
	payments.RejectionFalhaInfraestruturaSPI:                    "Indica uma falha no Sistema de Pagamentos Instantâneos (SPI).",
	payments.RejectionFalhaInfraestruturaICP:                    "Indica uma falha na Infraestrutura de Chaves Públicas (ICP).",
	payments.RejectionFalhaInfraestruturaPSPRecebedor:           "Indica uma falha na infraestrutura do PSP que recebe o pagamento.",
	payments.RejectionFalhaInfraestruturaDetentora:              "Indica uma falha na infraestrutura da instituição detentora.",
	payments.RejectionConsentimentoInvalido:                     "Consentimento inválido (em status final).",
	payments.RejectionTitularidadeInconsistente:                 "Conta atualmente não associada ao CPF/CNPJ do consentimento de longa duração.",
	payments.RejectionLimiteValorTransacaoConsentimentoExcedido: "O valor da transação ultrapassa o limite de valor por transação.",
	payments.RejectionLimiteTentativasExcedido:                  "O máximo de tentativas de liquidação permitidas pelo arranjo foi atingido.",
	payments.RejectionForaPrazoPermitido:                        "O horário ou período da requisição não permite o agendamento pelo detentor.",
	payments.RejectionConsentimentoRevogado:                     "O pagamento estava associado a um consentimento que foi revogado.",
}

func defaultRejectionDetail(c payments.RejectionCode) string {
	if d, ok := rejectionDetails[c]; ok {
		return d
	}
	return string(c)
}

// errUnknownResource is returned by the inspection helpers for an id the
// bank does not know.
var errUnknownResource = errors.New("sandbox: unknown resource")

func unknown(kind, id string) error { return fmt.Errorf("%w: %s %q", errUnknownResource, kind, id) }
