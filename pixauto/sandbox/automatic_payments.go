package sandbox

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
)

// Recurring payments: POST and GET /pix/recurring-payments, GET and PATCH
// /pix/recurring-payments/{id}, with the holder's validations of spec
// digest §3.5–3.8, §4.5 and §5.3–5.8.

// Maximum number of errors of each 422 body.
const (
	maxPaymentErrors = 9
	maxPatchErrors   = 3
)

// SPI accepts an endToEndId timestamp within 12 h of the order's
// processing; an immediate payment's must be that close to now.
const e2eTolerance = 12 * time.Hour

// paymentRequest is CreateRecurringPixPaymentData as read from a request.
type paymentRequest struct {
	consentID       string
	e2eid           string
	date            consent.Date
	amount          consent.Amount
	currency        string
	creditor        consent.Account
	remittance      string
	cnpjInitiator   string
	ibgeTownCode    string
	flow            string
	localInstrument string
	hasProxy        bool
	hasTxID         bool
	document        consent.Document
	reference       string
	hasReference    bool
	original        string // originalRecurringPaymentId (2.0/2.1 retries)
	hasOriginal     bool
}

func (a *automatic) handleCreatePayment(w http.ResponseWriter, r *http.Request) {
	b := a.b
	call, ok := b.beginCall(w, r)
	if !ok {
		return
	}
	if !consentGrant(call.grant) {
		b.refuseAPI(w, r, call.iid, forbidden("POST /pix/recurring-payments needs the token of the consent's authorization (authorization_code or refresh_token with scopes recurring-payments and recurring-consent:<id>)"))
		return
	}
	key, sr, ok := b.beginWrite(w, r, call, a.idempotencyOf(r))
	if !ok {
		return
	}
	a.answer(w, r, call, key, sr, a.createPayment(call, sr.Data))
}

func (a *automatic) parsePayment(raw json.RawMessage) (*paymentRequest, []failure) {
	m, ok := decodeData(raw)
	if !ok {
		return nil, []failure{{"PARAMETRO_INVALIDO", "Parâmetro data não obedece as regras de formatação esperadas: must be an object"}}
	}
	ch := &checker{}
	d := ch.root("data", m)
	p := &paymentRequest{}
	pat := a.patterns()
	p.consentID, _ = d.str("recurringConsentId", false, consentIDPattern, 256)
	p.e2eid, _ = d.str("endToEndId", true, pat.e2eid, 32)
	p.date, _ = d.date("date", true)
	if pay, ok := d.object("payment", true); ok {
		p.amount, _ = pay.amount("amount", true)
		p.currency, _ = pay.str("currency", true, currencyPattern, 3)
	}
	p.creditor, _ = a.account(d, "creditorAccount", true)
	p.remittance, _ = d.str("remittanceInformation", false, nil, 140)
	p.cnpjInitiator, _ = d.str("cnpjInitiator", true, pat.cnpj, 14)
	p.ibgeTownCode, _ = d.str("ibgeTownCode", false, townPattern, 7)
	p.flow, _ = d.enum("authorisationFlow", false, "HYBRID_FLOW", "CIBA_FLOW", "FIDO_FLOW")
	d.object("riskSignals", false)
	instruments := []string{"MANU", "DICT", "INIC", "AUTO"}
	if a.legacy() {
		instruments = instruments[:3]
	}
	p.localInstrument, _ = d.enum("localInstrument", true, instruments...)
	p.hasProxy = d.has("proxy")
	d.str("proxy", false, nil, 0)
	p.hasTxID = d.has("transactionIdentification")
	d.str("transactionIdentification", false, txIDPattern, 35)
	p.document, _ = a.document(d, "document", true)
	refLen := 0
	if a.legacy() {
		refLen = 10
	}
	p.hasReference = d.has("paymentReference")
	p.reference, _ = d.str("paymentReference", false, nil, refLen)
	p.hasOriginal = d.has("originalRecurringPaymentId")
	if a.legacy() {
		p.original, _ = d.str("originalRecurringPaymentId", false, paymentIDPattern, 100)
	}
	return p, ch.fails
}

func (a *automatic) createPayment(call *apiCall, raw json.RawMessage) result {
	req, fails := a.parsePayment(raw)
	if len(fails) > 0 {
		return a.unprocessable(fails, maxPaymentErrors)
	}
	tx := a.begin()
	defer tx.end()
	c := a.consents[call.grant.Consent.ID]
	if c == nil || c.clientID != call.grant.ClientID {
		return result{err: forbidden("the token's consent %s is not a recurring consent of the automatic-payments API", call.grant.Consent.ID)}
	}
	now := a.b.now()
	if req.hasOriginal {
		if !a.legacy() {
			return a.fail("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro originalRecurringPaymentId não obedece às regras de negócio: na versão "+string(a.version)+" novas tentativas usam POST /pix/recurring-payments/{originalRecurringPaymentId}/retry.", maxPaymentErrors)
		}
		return a.legacyRetryLocked(tx, call, c, req, now)
	}
	if f := a.consentUsable(c); f != nil {
		return a.unprocessable([]failure{*f}, maxPaymentErrors)
	}
	kind, cycle, f := a.paymentRulesLocked(call, c, req, now)
	if f != nil {
		return a.unprocessable([]failure{*f}, maxPaymentErrors)
	}
	p := a.newPaymentLocked(call, c, req, now)
	p.kind, p.cycle = kind, cycle
	p.immediate = kind == kindFirst && req.date == consent.Today(now)
	return result{status: http.StatusCreated, body: a.paymentBody(p, shapeFull), render: a.paymentRenderer(p.p.ID, shapeFull)}
}

// consentUsable is the consent-status check of a new payment or retry.
func (a *automatic) consentUsable(c *apConsent) *failure {
	switch c.c.Status {
	case consent.StatusAuthorised:
		return nil
	case consent.StatusPartiallyAccepted:
		return &failure{"CONSENTIMENTO_PENDENTE_AUTORIZACAO", "O consentimento aguarda a autorização de múltiplas alçadas (PARTIALLY_ACCEPTED)."}
	}
	return &failure{"CONSENTIMENTO_INVALIDO", "O consentimento " + c.c.RecurringConsentID + " está em " + string(c.c.Status) + "."}
}

// newPaymentLocked records a payment (RCVD) from a request.
func (a *automatic) newPaymentLocked(call *apiCall, c *apConsent, req *paymentRequest, now time.Time) *apPayment {
	acct := req.creditor
	p := &apPayment{
		p: payments.Payment{
			ID:                    uuid.NewString(),
			ConsentID:             c.c.RecurringConsentID,
			EndToEndID:            req.e2eid,
			Date:                  req.date,
			Status:                payments.StatusRCVD,
			Amount:                req.amount,
			Currency:              req.currency,
			CNPJInitiator:         req.cnpjInitiator,
			CreditorAccount:       &acct,
			Document:              req.document,
			LocalInstrument:       payments.LocalInstrument(req.localInstrument),
			AuthorisationFlow:     payments.AuthorisationFlow(req.flow),
			RemittanceInformation: req.remittance,
			PaymentReference:      req.reference,
			CreationDateTime:      consent.NewDateTime(now),
			StatusUpdateDateTime:  consent.NewDateTime(now),
		},
		clientID:     call.grant.ClientID,
		orgID:        call.org,
		ibgeTownCode: req.ibgeTownCode,
		flowSent:     req.flow != "",
		stepAt:       now,
		seq:          a.nextSeq(),
	}
	if d := c.c.DebtorAccount; d != nil {
		debtor := *d
		debtor.IBGETownCode = ""
		p.p.DebtorAccount = &debtor
	}
	a.payments[p.p.ID] = p
	a.paymentList = append(a.paymentList, p)
	a.e2eids[p.p.EndToEndID] = p.p.ID
	return p
}

// paymentRulesLocked checks a new original payment against its consent
// (first failing rule only). It returns the payment's kind and, for a
// recurrence, the start of the cycle it pays.
func (a *automatic) paymentRulesLocked(call *apiCall, c *apConsent, req *paymentRequest, now time.Time) (paymentKind, consent.Date, *failure) {
	fail := func(code, detail string) (paymentKind, consent.Date, *failure) {
		return 0, consent.Date{}, &failure{code, detail}
	}
	auto := c.c.Automatic()
	today := consent.Today(now)
	switch {
	case req.consentID != "" && req.consentID != c.c.RecurringConsentID:
		return fail("PAGAMENTO_DIVERGENTE_CONSENTIMENTO", "recurringConsentId "+req.consentID+" não é o consentimento do token.")
	case req.flow != "" && req.flow != "HYBRID_FLOW":
		return fail("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro authorisationFlow não obedece às regras de negócio: o consentimento foi autorizado por redirecionamento (HYBRID_FLOW).")
	case req.currency != "BRL":
		return fail("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro payment.currency não obedece às regras de negócio: deve ser BRL.")
	case req.amount <= 0:
		return fail("VALOR_INVALIDO", "O valor do pagamento deve ser maior que zero.")
	case len(c.c.Creditors) == 0 || req.document.Identification != c.c.Creditors[0].CpfCnpj:
		return fail("PAGAMENTO_DIVERGENTE_CONSENTIMENTO", "Parâmetro document.identification diverge do recebedor do consentimento.")
	case req.cnpjInitiator != a.orgCNPJ(call.org):
		return fail("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro cnpjInitiator não é o CNPJ da iniciadora.")
	case req.hasProxy:
		return fail("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro proxy não deve ser informado no Pix Automático.")
	case req.hasTxID:
		return fail("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro transactionIdentification não deve ser informado no Pix Automático.")
	case req.localInstrument == "DICT" || req.localInstrument == "INIC":
		return fail("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro localInstrument "+req.localInstrument+" não é permitido no Pix Automático.")
	case !req.hasReference:
		return fail("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro paymentReference é obrigatório no Pix Automático.")
	}
	e2e, err := payments.ParseE2EID(req.e2eid)
	if err != nil {
		return fail("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro endToEndId não obedece às regras de negócio: "+err.Error())
	}
	if _, used := a.e2eids[req.e2eid]; used {
		return fail("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro endToEndId já foi utilizado.")
	}
	lastDay, bounded := expiryDate(&c.c)
	if req.reference == payments.ReferenceZero {
		fp := auto.FirstPayment
		switch {
		case fp == nil:
			return fail("DETALHE_PAGAMENTO_INVALIDO", "O consentimento não declara um pagamento inicial (firstPayment); paymentReference \"zero\" não é permitido.")
		case a.firstPaymentTakenLocked(c.c.RecurringConsentID):
			return fail("DETALHE_PAGAMENTO_INVALIDO", "O pagamento inicial (paymentReference \"zero\") deste consentimento já foi criado.")
		case req.localInstrument != "MANU":
			return fail("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro localInstrument deve ser MANU no pagamento inicial (paymentReference \"zero\").")
		case req.amount != fp.Amount:
			return fail("PAGAMENTO_DIVERGENTE_CONSENTIMENTO", "O valor do pagamento inicial diverge de firstPayment.amount "+fp.Amount.String()+".")
		case !sameAccount(req.creditor, fp.CreditorAccount):
			return fail("PAGAMENTO_DIVERGENTE_CONSENTIMENTO", "Parâmetro creditorAccount diverge de firstPayment.creditorAccount do consentimento.")
		case req.date != fp.Date:
			return fail("PAGAMENTO_DIVERGENTE_CONSENTIMENTO", "Parâmetro date diverge de firstPayment.date "+fp.Date.String()+".")
		case req.date.Before(today):
			return fail("FORA_PRAZO_PERMITIDO", "A data do pagamento inicial "+req.date.String()+" já passou.")
		case bounded && req.date.After(lastDay):
			return fail("FORA_PRAZO_PERMITIDO", "A data do pagamento é posterior à expiração do consentimento.")
		case req.date == today && absDuration(e2e.Time.Sub(now)) > e2eTolerance:
			return fail("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro endToEndId: o horário de um pagamento imediato deve ser o da submissão (UTC).")
		case req.date != today && !scheduledE2EID(e2e, req.date):
			return fail("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro endToEndId deve trazer a data do pagamento "+req.date.String()+" e o horário 15:00 UTC.")
		}
		return kindFirst, consent.Date{}, nil
	}

	want := "AUTO"
	if a.legacy() {
		want = "MANU"
	}
	if req.localInstrument != want {
		return fail("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro localInstrument deve ser "+want+" nas recorrências do Pix Automático.")
	}
	cycle, f := a.cycleOf(auto, req)
	if f != nil {
		return 0, consent.Date{}, f
	}
	switch {
	case req.date.Before(auto.ReferenceStartDate):
		return fail("PAGAMENTO_DIVERGENTE_CONSENTIMENTO", "A data do pagamento é anterior a referenceStartDate "+auto.ReferenceStartDate.String()+".")
	case auto.FirstPayment != nil && !req.date.After(auto.FirstPayment.Date):
		return fail("PAGAMENTO_DIVERGENTE_CONSENTIMENTO", "A recorrência deve ser posterior à data do pagamento inicial "+auto.FirstPayment.Date.String()+".")
	case auto.FixedAmount != nil && req.amount != *auto.FixedAmount:
		return fail("PAGAMENTO_DIVERGENTE_CONSENTIMENTO", "O valor do pagamento diverge de fixedAmount "+auto.FixedAmount.String()+".")
	case auto.MaximumVariableAmount != nil && req.amount > *auto.MaximumVariableAmount:
		return fail("LIMITE_VALOR_TRANSACAO_CONSENTIMENTO_EXCEDIDO", "O valor da transação ultrapassa o limite de valor por transação do consentimento.")
	case req.date.Before(today.AddDays(2)) || req.date.After(today.AddDays(10)):
		return fail("FORA_PRAZO_PERMITIDO", "Recorrências devem ser agendadas de 2 a 10 dias antes da data de liquidação ("+today.AddDays(2).String()+" a "+today.AddDays(10).String()+").")
	case bounded && req.date.After(lastDay):
		return fail("FORA_PRAZO_PERMITIDO", "A data de liquidação "+req.date.String()+" é posterior à expiração do consentimento.")
	case !scheduledE2EID(e2e, req.date):
		return fail("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro endToEndId deve trazer a data do pagamento "+req.date.String()+" e o horário 15:00 UTC.")
	}
	for _, o := range a.paymentList {
		if o.p.ConsentID == c.c.RecurringConsentID && o.kind == kindRecurrence && o.cycle == cycle && !o.p.Status.Failed() {
			return fail("DETALHE_PAGAMENTO_INVALIDO", "Já existe um pagamento ("+o.p.ID+") para o ciclo "+req.reference+".")
		}
	}
	return kindRecurrence, cycle, nil
}

// cycleOf finds the cycle a recurrence's paymentReference names, in the
// version's form: "R/<cycle start>/P1M" (2.2.0) or "M09-2024" (2.0/2.1).
func (a *automatic) cycleOf(auto *consent.Automatic, req *paymentRequest) (consent.Date, *failure) {
	bad := func(detail string) (consent.Date, *failure) {
		return consent.Date{}, &failure{"DETALHE_PAGAMENTO_INVALIDO", "Parâmetro paymentReference " + req.reference + " não obedece às regras de negócio: " + detail}
	}
	ref, err := payments.ParsePaymentReference(req.reference)
	switch {
	case err != nil:
		return bad(err.Error())
	case ref.First:
		return bad("unexpected")
	case ref.Interval != auto.Interval:
		return bad("a periodicidade não é a do consentimento (" + string(auto.Interval) + ").")
	}
	billing := payments.Billing{Anchor: auto.ReferenceStartDate, Interval: auto.Interval}
	if !a.legacy() {
		if ref.Start.IsZero() {
			return bad("a versão " + string(a.version) + " usa o formato R/<início do ciclo>/<duração>.")
		}
		if ref.Start.Before(auto.ReferenceStartDate) {
			return consent.Date{}, &failure{"PAGAMENTO_DIVERGENTE_CONSENTIMENTO", "O ciclo " + req.reference + " é anterior a referenceStartDate " + auto.ReferenceStartDate.String() + "."}
		}
		cy, ok := billing.CycleStarting(ref.Start)
		if !ok {
			return bad("a data não é o início de um ciclo do consentimento.")
		}
		return cy.Start, nil
	}
	if !ref.Start.IsZero() {
		return bad("a versão " + string(a.version) + " usa o formato W50-2024, M09-2024, Q3-2024, S2-2024 ou Y2024.")
	}
	if req.date.Before(auto.ReferenceStartDate) {
		return consent.Date{}, &failure{"PAGAMENTO_DIVERGENTE_CONSENTIMENTO", "A data do pagamento é anterior a referenceStartDate " + auto.ReferenceStartDate.String() + "."}
	}
	near, err := billing.CycleContaining(req.date)
	if err != nil {
		return bad(err.Error())
	}
	for n := max(near.Index-1, 0); n <= near.Index+1; n++ {
		cy, err := billing.Cycle(n)
		if err != nil {
			break
		}
		if label, err := payments.CycleReference(auto.Interval, cy).Legacy(); err == nil && label == req.reference {
			return cy.Start, nil
		}
	}
	return bad("não corresponde a um ciclo do consentimento próximo à data " + req.date.String() + ".")
}

func (a *automatic) firstPaymentTakenLocked(consentID string) bool {
	for _, p := range a.paymentList {
		if p.p.ConsentID == consentID && p.kind == kindFirst && !p.p.Status.Failed() {
			return true
		}
	}
	return false
}

// orgCNPJ is the CNPJ of an organisation in the directory.
func (a *automatic) orgCNPJ(orgID string) string {
	o, _ := a.b.dir.Organisation(orgID)
	return o.CNPJ
}

// expiryDate is the last day a consent's payments may be dated (the UTC
// date of its 23:59:59Z expiry), false for an indefinite consent.
func expiryDate(c *consent.Consent) (consent.Date, bool) {
	if c.ExpirationDateTime == nil {
		return consent.Date{}, false
	}
	return consent.DateOf(c.ExpirationDateTime.Time, time.UTC), true
}

// scheduledE2EID reports whether an endToEndId is that of a payment
// scheduled for d: d at 15:00 UTC.
func scheduledE2EID(e payments.E2EID, d consent.Date) bool {
	return e.Date() == d && e.IsScheduled()
}

func sameAccount(x, y consent.Account) bool {
	return x.ISPB == y.ISPB && x.Issuer == y.Issuer && x.Number == y.Number && x.AccountType == y.AccountType
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// ----- reads -----

func (a *automatic) handleListPayments(w http.ResponseWriter, r *http.Request) {
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
	q := r.URL.Query()
	id := q.Get("recurringConsentId")
	bad := func(format string, args ...any) {
		b.refuseAPI(w, r, call.iid, apiErr(http.StatusBadRequest, "PARAMETRO_INVALIDO", "Parâmetro inválido", format, args...))
	}
	if id == "" {
		b.refuseAPI(w, r, call.iid, apiErr(http.StatusBadRequest, "PARAMETRO_NAO_INFORMADO", "Parâmetro não informado", "the query parameter recurringConsentId is required"))
		return
	}
	if !validConsentID(id) {
		bad("recurringConsentId %q is not a URN of at most 256 characters", id)
		return
	}
	var from, to consent.Date
	for _, p := range []struct {
		name string
		dst  *consent.Date
	}{{"startDate", &from}, {"endDate", &to}} {
		if v := q.Get(p.name); v != "" {
			d, err := consent.ParseDate(v)
			if err != nil {
				bad("%s %q is not a YYYY-MM-DD date", p.name, v)
				return
			}
			*p.dst = d
		}
	}
	if !from.IsZero() && !to.IsZero() && from.After(to) {
		bad("startDate %s is after endDate %s", from, to)
		return
	}
	orig := q.Get("originalRecurringPaymentId")
	if orig != "" && !paymentIDPattern.MatchString(orig) {
		bad("originalRecurringPaymentId %q is malformed", orig)
		return
	}
	tx := a.begin()
	var res result
	switch c := a.consents[id]; {
	case c == nil:
		res.err = apiErr(http.StatusNotFound, "NAO_ENCONTRADO", "Não encontrado", "recurring consent %s does not exist", id)
	case c.clientID != call.grant.ClientID:
		res.err = apiErr(http.StatusBadRequest, "PARAMETRO_INVALIDO", "Parâmetro inválido", "recurring consent %s was not created by this client", id)
	case limit != "" && limit != id:
		res.err = forbidden("the token is limited to consent %s", limit)
	default:
		items := []json.RawMessage{}
		for _, p := range a.paymentList {
			if p.p.ConsentID != id || (!from.IsZero() && p.p.Date.Before(from)) || (!to.IsZero() && p.p.Date.After(to)) {
				continue
			}
			if orig != "" && p.p.ID != orig && p.p.OriginalRecurringPaymentID != orig {
				continue
			}
			items = append(items, a.paymentData(p, shapeListItem))
		}
		res = result{status: http.StatusOK, body: map[string]any{"data": items, "links": a.link(r.URL.RequestURI()), "meta": a.meta()}}
	}
	tx.end()
	a.answer(w, r, call, "", nil, res)
}

// ownPaymentLocked returns a payment of the caller: 400 for a malformed id
// or a payment created by another client, 404 for an unknown one, 403 when
// a consent's token reads another consent's payment.
func (a *automatic) ownPaymentLocked(call *apiCall, id, limit string) (*apPayment, *apiError) {
	if !paymentIDPattern.MatchString(id) {
		return nil, apiErr(http.StatusBadRequest, "PARAMETRO_INVALIDO", "Parâmetro inválido", "recurringPaymentId %q is malformed", id)
	}
	p := a.payments[id]
	switch {
	case p == nil:
		return nil, apiErr(http.StatusNotFound, "NAO_ENCONTRADO", "Não encontrado", "recurring payment %s does not exist", id)
	case p.clientID != call.grant.ClientID:
		return nil, apiErr(http.StatusBadRequest, "PARAMETRO_INVALIDO", "Parâmetro inválido", "recurring payment %s was not created by this client", id)
	case limit != "" && limit != p.p.ConsentID:
		return nil, forbidden("the token is limited to consent %s", limit)
	}
	return p, nil
}

func (a *automatic) handleGetPayment(w http.ResponseWriter, r *http.Request) {
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
	tx := a.begin()
	p, ae := a.ownPaymentLocked(call, r.PathValue("recurringPaymentId"), limit)
	res := result{err: ae}
	if ae == nil {
		res = result{status: http.StatusOK, body: a.paymentBody(p, shapeFull)}
	}
	tx.end()
	a.answer(w, r, call, "", nil, res)
}

// ----- cancellation -----

func (a *automatic) handlePatchPayment(w http.ResponseWriter, r *http.Request) {
	b := a.b
	call, ok := b.beginCall(w, r)
	if !ok {
		return
	}
	if ae := clientCredentials(call.grant); ae != nil {
		b.refuseAPI(w, r, call.iid, ae)
		return
	}
	key, sr, ok := b.beginWrite(w, r, call, a.idempotencyOf(r))
	if !ok {
		return
	}
	a.answer(w, r, call, key, sr, a.cancelPayment(call, r.PathValue("recurringPaymentId"), sr.Data))
}

func (a *automatic) cancelPayment(call *apiCall, id string, raw json.RawMessage) result {
	m, ok := decodeData(raw)
	if !ok {
		return a.fail("PARAMETRO_INVALIDO", "Parâmetro data não obedece as regras de formatação esperadas: must be an object", maxPatchErrors)
	}
	ch := &checker{}
	d := ch.root("data", m)
	d.enum("status", true, "CANC")
	var by consent.Document
	if cn, ok := d.object("cancellation", true); ok {
		if cb, ok := cn.object("cancelledBy", true); ok {
			by, _ = a.document(cb, "document", true)
		}
	}
	if !ch.ok() {
		return a.unprocessable(ch.fails, maxPatchErrors)
	}
	tx := a.begin()
	defer tx.end()
	p, ae := a.ownPaymentLocked(call, id, "")
	if ae != nil {
		return result{err: ae}
	}
	now := a.b.now()
	if f := a.cancellationRulesLocked(p, by, now); f != nil {
		return a.unprocessable([]failure{*f}, maxPatchErrors)
	}
	a.cancelPaymentLocked(tx, p, consent.FromIniciadora, by, now)
	return result{status: http.StatusOK, body: a.paymentBody(p, shapeFull), render: a.paymentRenderer(p.p.ID, shapeFull)}
}

// cancellationRulesLocked: only SCHD and PDNG payments; the receiver until
// 22:00 and the payer until 23:59 (Brasília) of the day before the date;
// retries only by the receiver.
func (a *automatic) cancellationRulesLocked(p *apPayment, by consent.Document, now time.Time) *failure {
	if p.p.Status != payments.StatusSCHD && p.p.Status != payments.StatusPDNG {
		return &failure{"PAGAMENTO_NAO_PERMITE_CANCELAMENTO", "O pagamento está em " + string(p.p.Status) + "; apenas pagamentos SCHD ou PDNG podem ser cancelados."}
	}
	c := a.consents[p.p.ConsentID]
	receiver := len(c.c.Creditors) > 0 && by.Identification == c.c.Creditors[0].CpfCnpj
	payer := by.Identification == c.subject ||
		(c.c.LoggedUser != nil && by.Identification == c.c.LoggedUser.Document.Identification) ||
		(c.c.BusinessEntity != nil && by.Identification == c.c.BusinessEntity.Document.Identification)
	deadline := atBrasilia(p.p.Date, 0) // 23:59:59 of the day before
	switch {
	case receiver:
		deadline = atBrasilia(p.p.Date.AddDays(-1), 22)
	case !payer:
		return &failure{"PAGAMENTO_NAO_PERMITE_CANCELAMENTO", "cancelledBy " + by.Identification + " não é o pagador nem o recebedor do consentimento."}
	case p.isRetry():
		return &failure{"PAGAMENTO_NAO_PERMITE_CANCELAMENTO", "O pagador não pode cancelar uma nova tentativa de pagamento."}
	}
	if !now.Before(deadline) {
		return &failure{"CANCELAMENTO_FORA_PERIODO_PERMITIDO", "O cancelamento era permitido até " + deadline.Format("2006-01-02 15:04") + " (horário de Brasília)."}
	}
	return nil
}
