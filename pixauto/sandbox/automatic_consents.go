package sandbox

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/ofb-go/pixauto/consent"
)

// Recurring consents: POST, GET and PATCH /recurring-consents[/{id}], with
// the holder's validations of spec digest §3.1–3.4, §4.5 and §5.1–5.2,
// §5.10 (see the package documentation for the code of each rule).

// Maximum number of errors of each 422 body.
const (
	maxCreateConsentErrors = 3
	maxPatchConsentErrors  = 3
)

func (a *automatic) handleCreateConsent(w http.ResponseWriter, r *http.Request) {
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
	a.answer(w, r, call, key, sr, a.createConsent(call, sr.Data))
}

func (a *automatic) createConsent(call *apiCall, raw json.RawMessage) result {
	now := a.b.now()
	c, fails := a.parseCreateConsent(raw)
	if len(fails) == 0 {
		fails = a.consentCreationRules(c, now)
	}
	if len(fails) > 0 {
		return a.unprocessable(fails, maxCreateConsentErrors)
	}
	c.RecurringConsentID = "urn:sandboxbank:" + uuid.NewString()
	c.Status = consent.StatusAwaitingAuthorisation
	c.CreationDateTime = consent.NewDateTime(now)
	c.StatusUpdateDateTime = c.CreationDateTime
	yes := true
	c.RecurringConfiguration.Automatic.UseOverdraftLimit = &yes

	tx := a.begin()
	defer tx.end()
	rec := &apConsent{c: *c, clientID: call.grant.ClientID, orgID: call.org, seq: a.nextSeq()}
	a.consents[c.RecurringConsentID] = rec
	a.consentList = append(a.consentList, rec)
	return result{status: http.StatusCreated, body: a.consentBody(rec, false), render: a.consentRenderer(rec.c.RecurringConsentID, false)}
}

// parseCreateConsent reads CreateRecurringConsent.data, reporting every
// missing or malformed member.
func (a *automatic) parseCreateConsent(raw json.RawMessage) (*consent.Consent, []failure) {
	m, ok := decodeData(raw)
	if !ok {
		return nil, []failure{{"PARAMETRO_INVALIDO", "Parâmetro data não obedece as regras de formatação esperadas: must be an object"}}
	}
	ch := &checker{}
	d := ch.root("data", m)
	out := &consent.Consent{}

	if u, ok := d.object("loggedUser", true); ok {
		if doc, ok := u.object("document", true); ok {
			id, _ := doc.str("identification", true, cpfPattern, 11)
			rel, _ := doc.str("rel", true, relCPFPattern, 3)
			if rel != "" && rel != "CPF" {
				ch.invalid(doc.at("rel"), "must be CPF")
			}
			out.LoggedUser = &consent.LoggedUser{Document: consent.Document{Identification: id, Rel: consent.RelCPF}}
		}
	}
	out.BusinessEntity = a.parseBusinessEntity(d)
	if cs, ok := d.array("creditors", true); ok {
		for i := range cs {
			item, ok := d.item("creditors", cs, i)
			if !ok {
				continue
			}
			pt, _ := item.enum("personType", true, string(consent.PessoaNatural), string(consent.PessoaJuridica))
			doc, _ := item.str("cpfCnpj", true, a.patterns().cpfCnpj, 14)
			name, _ := item.str("name", true, namePattern, 120)
			out.Creditors = append(out.Creditors, consent.Creditor{PersonType: consent.PersonType(pt), CpfCnpj: doc, Name: name})
		}
	}
	if exp, ok := d.dateTime("expirationDateTime", false); ok {
		out.ExpirationDateTime = &exp
	}
	out.AdditionalInformation, _ = d.str("additionalInformation", false, nil, 140)
	if d.has("debtorAccount") {
		if acct, ok := a.account(d, "debtorAccount", false); ok {
			out.DebtorAccount = &acct
		}
	}
	if rc, ok := d.object("recurringConfiguration", true); ok {
		out.RecurringConfiguration = a.parseConfiguration(rc)
	}
	if j, ok := d.object("journey", false); ok {
		linked, _ := j.boolean("isLinked", true)
		link, _ := j.str("linkId", true, consentIDPattern, 256)
		out.Journey = &consent.Journey{IsLinked: linked, LinkID: link}
	}
	return out, ch.fails
}

func (a *automatic) parseBusinessEntity(d node) *consent.BusinessEntity {
	be, ok := d.object("businessEntity", false)
	if !ok {
		return nil
	}
	doc, ok := be.object("document", true)
	if !ok {
		return nil
	}
	id, _ := doc.str("identification", true, a.patterns().cnpj, 14)
	rel, _ := doc.str("rel", true, relCNPJPattern, 4)
	if rel != "" && rel != "CNPJ" {
		d.c.invalid(doc.at("rel"), "must be CNPJ")
	}
	return &consent.BusinessEntity{Document: consent.Document{Identification: id, Rel: consent.RelCNPJ}}
}

// parseConfiguration reads recurringConfiguration: exactly one of
// automatic, sweeping and vrp. Only automatic is read; the others are kept
// raw so that the rules can refuse them.
func (a *automatic) parseConfiguration(rc node) consent.RecurringConfiguration {
	var out consent.RecurringConfiguration
	n := 0
	for _, k := range []string{"automatic", "sweeping", "vrp"} {
		if rc.has(k) {
			n++
		}
	}
	switch {
	case n == 0:
		rc.c.missing(rc.at("automatic"))
		return out
	case n > 1:
		rc.c.invalid(rc.path, "must hold exactly one of automatic, sweeping and vrp")
		return out
	}
	if rc.has("sweeping") {
		out.Sweeping = json.RawMessage(`{}`)
		return out
	}
	if rc.has("vrp") {
		out.Vrp = json.RawMessage(`{}`)
		return out
	}
	auto, ok := rc.object("automatic", true)
	if !ok {
		return out
	}
	am := &consent.Automatic{}
	am.ContractID, _ = auto.str("contractId", true, contractPattern, 35)
	for _, f := range []struct {
		name string
		dst  **consent.Amount
	}{{"fixedAmount", &am.FixedAmount}, {"maximumVariableAmount", &am.MaximumVariableAmount}, {"minimumVariableAmount", &am.MinimumVariableAmount}} {
		if v, ok := auto.amount(f.name, false); ok {
			*f.dst = &v
		}
	}
	interval, _ := auto.enum("interval", true, "SEMANAL", "MENSAL", "TRIMESTRAL", "SEMESTRAL", "ANUAL")
	am.Interval = consent.Interval(interval)
	if cd, ok := auto.object("contractDebtor", true); ok {
		am.ContractDebtor.Name, _ = cd.str("name", true, namePattern, 120)
		am.ContractDebtor.Document, _ = a.document(cd, "document", true)
	}
	am.IsRetryAccepted, _ = auto.boolean("isRetryAccepted", true)
	am.ReferenceStartDate, _ = auto.date("referenceStartDate", true)
	if fp, ok := auto.object("firstPayment", false); ok {
		p := &consent.FirstPayment{}
		p.Type, _ = fp.enum("type", true, "PIX")
		p.Date, _ = fp.date("date", true)
		p.Currency, _ = fp.str("currency", true, currencyPattern, 3)
		p.Amount, _ = fp.amount("amount", true)
		p.RemittanceInformation, _ = fp.str("remittanceInformation", false, nil, 140)
		p.CreditorAccount, _ = a.account(fp, "creditorAccount", true)
		am.FirstPayment = p
	}
	out.Automatic = am
	return out
}

// consentCreationRules are the business rules of a new Pix Automático
// consent (all failures, most significant first).
func (a *automatic) consentCreationRules(c *consent.Consent, now time.Time) []failure {
	if c.RecurringConfiguration.Automatic == nil {
		return []failure{{"FUNCIONALIDADE_NAO_HABILITADA", "A detentora de conta oferece apenas o Pix Automático (recurringConfiguration.automatic); sweeping e vrp não são oferecidos."}}
	}
	var fs []failure
	add := func(code, detail string) { fs = append(fs, failure{code, detail}) }
	today := consent.Today(now)
	auto := c.RecurringConfiguration.Automatic

	switch {
	case len(c.Creditors) != 1:
		add("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro creditors não obedece às regras de negócio: o Pix Automático admite exatamente um recebedor.")
	case c.Creditors[0].PersonType != consent.PessoaJuridica || len(c.Creditors[0].CpfCnpj) != 14:
		add("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro creditors não obedece às regras de negócio: o recebedor do Pix Automático deve ser pessoa jurídica (CNPJ).")
	}
	fixed, maxAmt, minAmt := auto.FixedAmount, auto.MaximumVariableAmount, auto.MinimumVariableAmount
	switch {
	case fixed != nil && maxAmt != nil:
		add("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro fixedAmount não obedece às regras de negócio: fixedAmount e maximumVariableAmount são excludentes.")
	case fixed != nil && minAmt != nil:
		add("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro minimumVariableAmount não obedece às regras de negócio: não pode ser informado com fixedAmount.")
	case maxAmt != nil && minAmt != nil && *maxAmt < *minAmt:
		add("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro maximumVariableAmount não obedece às regras de negócio: é menor que minimumVariableAmount.")
	}
	for _, f := range []struct {
		name string
		v    *consent.Amount
	}{{"fixedAmount", fixed}, {"maximumVariableAmount", maxAmt}, {"minimumVariableAmount", minAmt}} {
		if f.v != nil && *f.v <= 0 {
			add("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro "+f.name+" não obedece às regras de negócio: deve ser maior que zero.")
		}
	}
	if auto.ReferenceStartDate.Before(today) {
		add("DATA_PAGAMENTO_INVALIDA", "Parâmetro referenceStartDate "+auto.ReferenceStartDate.String()+" está no passado.")
	}
	if exp := c.ExpirationDateTime; exp != nil {
		switch {
		case !endOfDayUTC(*exp):
			add("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro expirationDateTime não obedece às regras de negócio: no Pix Automático o horário de expiração deve ser 23:59:59 (UTC).")
		case !exp.After(now):
			add("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro expirationDateTime não obedece às regras de negócio: está no passado.")
		case consent.DateOf(exp.Time, time.UTC).Before(auto.ReferenceStartDate):
			add("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro expirationDateTime não obedece às regras de negócio: é anterior a referenceStartDate.")
		}
	}
	if fp := auto.FirstPayment; fp != nil {
		switch {
		case fp.Date.Before(today):
			add("DATA_PAGAMENTO_INVALIDA", "Data de pagamento inválida: firstPayment.date "+fp.Date.String()+" está no passado.")
		case !fp.Date.Before(auto.ReferenceStartDate):
			add("DATA_PAGAMENTO_INVALIDA", "Data de pagamento inválida: firstPayment.date deve ser anterior a referenceStartDate.")
		case c.ExpirationDateTime != nil && fp.Date.After(consent.DateOf(c.ExpirationDateTime.Time, time.UTC)):
			add("DATA_PAGAMENTO_INVALIDA", "Data de pagamento inválida: firstPayment.date é posterior à expiração do consentimento.")
		}
		if fp.Currency != "BRL" {
			add("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro firstPayment.currency não obedece às regras de negócio: deve ser BRL.")
		}
		if fp.Amount <= 0 {
			add("DETALHE_PAGAMENTO_INVALIDO", "Parâmetro firstPayment.amount não obedece às regras de negócio: deve ser maior que zero.")
		}
	}
	return fs
}

// endOfDayUTC reports whether t is at 23:59:59 UTC.
func endOfDayUTC(t consent.DateTime) bool {
	u := t.UTC()
	return u.Hour() == 23 && u.Minute() == 59 && u.Second() == 59
}

func (a *automatic) handleGetConsent(w http.ResponseWriter, r *http.Request) {
	b := a.b
	call, ok := b.beginCall(w, r)
	if !ok {
		return
	}
	if ae := clientCredentials(call.grant); ae != nil {
		b.refuseAPI(w, r, call.iid, ae)
		return
	}
	id := r.PathValue("recurringConsentId")
	tx := a.begin()
	c, ae := a.ownConsentLocked(call, id)
	var res result
	if ae != nil {
		res.err = ae
	} else {
		res = result{status: http.StatusOK, body: a.consentBody(c, true)}
	}
	tx.end()
	a.answer(w, r, call, "", nil, res)
}

// ownConsentLocked returns the caller's consent id: 400 for a malformed
// id, 404 for one that does not exist for the calling client.
func (a *automatic) ownConsentLocked(call *apiCall, id string) (*apConsent, *apiError) {
	if !validConsentID(id) {
		return nil, apiErr(http.StatusBadRequest, "PARAMETRO_INVALIDO", "Parâmetro inválido", "recurringConsentId %q is not a URN of at most 256 characters", id)
	}
	c := a.consents[id]
	if c == nil || c.clientID != call.grant.ClientID {
		return nil, apiErr(http.StatusNotFound, "NAO_ENCONTRADO", "Não encontrado", "recurring consent %s does not exist for this client", id)
	}
	return c, nil
}

// consentBody renders a consent response; debtorAccount.ibgeTownCode is
// sent by GET only.
func (a *automatic) consentBody(c *apConsent, get bool) map[string]any {
	data := c.c
	if data.DebtorAccount != nil && !get {
		acct := *data.DebtorAccount
		acct.IBGETownCode = ""
		data.DebtorAccount = &acct
	}
	raw, err := json.Marshal(data)
	if err != nil {
		a.b.log.Error("sandbox: cannot render consent", "error", err)
	}
	return map[string]any{
		"data":  json.RawMessage(raw),
		"links": a.link(AutomaticPaymentsBase + "/recurring-consents/" + c.c.RecurringConsentID),
		"meta":  a.meta(),
	}
}

func (a *automatic) consentRenderer(id string, get bool) func() map[string]any {
	return func() map[string]any {
		tx := a.begin()
		defer tx.end()
		return a.consentBody(a.consents[id], get)
	}
}

func (a *automatic) handlePatchConsent(w http.ResponseWriter, r *http.Request) {
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
	a.answer(w, r, call, key, sr, a.patchConsent(call, r.PathValue("recurringConsentId"), sr.Data))
}

func (a *automatic) patchConsent(call *apiCall, id string, raw json.RawMessage) result {
	m, ok := decodeData(raw)
	if !ok {
		return a.fail("PARAMETRO_INVALIDO", "Parâmetro data não obedece as regras de formatação esperadas: must be an object", maxPatchConsentErrors)
	}
	tx := a.begin()
	defer tx.end()
	c, ae := a.ownConsentLocked(call, id)
	if ae != nil {
		return result{err: ae}
	}
	now := a.b.now()
	var fails []failure
	switch status, has := m["status"]; {
	case !has:
		fails = a.editLocked(tx, c, m, now)
	case status == string(consent.StatusRevoked):
		fails = a.revokeRequestLocked(tx, c, m, now)
	case status == string(consent.StatusRejected):
		fails = a.rejectRequestLocked(tx, c, m, now)
	default:
		fails = []failure{{"PARAMETRO_INVALIDO", "Parâmetro data/status não obedece as regras de formatação esperadas: must be REVOKED or REJECTED (or absent for an edition)"}}
	}
	if len(fails) > 0 {
		return a.unprocessable(fails, maxPatchConsentErrors)
	}
	return result{status: http.StatusOK, body: a.consentBody(c, false), render: a.consentRenderer(id, false)}
}

func (a *automatic) revokeRequestLocked(tx *apTx, c *apConsent, m map[string]any, now time.Time) []failure {
	ch := &checker{}
	rv, ok := ch.root("data", m).object("revocation", true)
	var rev consent.Revocation
	if ok {
		by, _ := rv.enum("revokedBy", true, "INICIADORA", "USUARIO", "DETENTORA")
		from, _ := rv.enum("revokedFrom", true, "INICIADORA", "DETENTORA")
		rev.RevokedBy, rev.RevokedFrom = consent.By(by), consent.From(from)
		if reason, ok := rv.object("reason", true); ok {
			code, _ := reason.enum("code", true, "REVOGADO_RECEBEDOR", "REVOGADO_USUARIO", "NAO_INFORMADO")
			rev.Reason.Code = consent.RevocationCode(code)
			rev.Reason.Detail = nonEmpty(reason, "detail")
		}
	}
	if !ch.ok() {
		return ch.fails
	}
	if c.c.Status != consent.StatusAuthorised {
		return []failure{{"CONSENTIMENTO_NAO_PERMITE_CANCELAMENTO", "O consentimento está em " + string(c.c.Status) + "; apenas consentimentos AUTHORISED podem ser revogados."}}
	}
	a.revokeLocked(tx, c, now, rev)
	return nil
}

func (a *automatic) rejectRequestLocked(tx *apTx, c *apConsent, m map[string]any, now time.Time) []failure {
	ch := &checker{}
	rj, ok := ch.root("data", m).object("rejection", true)
	var by, from, code, detail string
	if ok {
		by, _ = rj.enum("rejectedBy", true, "INICIADORA", "USUARIO", "DETENTORA")
		from, _ = rj.enum("rejectedFrom", true, "INICIADORA", "DETENTORA")
		if reason, ok := rj.object("reason", true); ok {
			code, _ = reason.enum("code", true, "NAO_INFORMADO", "FALHA_INFRAESTRUTURA", "TEMPO_EXPIRADO_AUTORIZACAO", "REJEITADO_USUARIO",
				"CONTAS_ORIGEM_DESTINO_IGUAIS", "CONTA_NAO_PERMITE_PAGAMENTO", "AUTENTICACAO_DIVERGENTE", "FLUXO_NAO_SUPORTADO_PRODUTO")
			detail = nonEmpty(reason, "detail")
		}
	}
	if !ch.ok() {
		return ch.fails
	}
	if s := c.c.Status; s != consent.StatusAwaitingAuthorisation && s != consent.StatusPartiallyAccepted {
		return []failure{{"CONSENTIMENTO_NAO_PERMITE_CANCELAMENTO", "O consentimento está em " + string(s) + "; apenas consentimentos aguardando autorização podem ser rejeitados."}}
	}
	a.rejectLocked(tx, c, now, consent.By(by), consent.From(from), consent.RejectionCode(code), detail)
	return nil
}

// nonEmpty reads a required free-text member that must not be empty.
func nonEmpty(n node, name string) string {
	s, ok := n.str(name, true, nil, 2048)
	if ok && s == "" {
		n.c.missing(n.at(name))
	}
	return s
}

// editLocked applies a ConsentEdition (spec digest §3.4, §5.10).
func (a *automatic) editLocked(tx *apTx, c *apConsent, m map[string]any, now time.Time) []failure {
	ch := &checker{}
	d := ch.root("data", m)
	var notAllowed []failure
	refuse := func(path string) {
		notAllowed = append(notAllowed, failure{"CAMPO_NAO_PERMITIDO", "O campo " + path + " não pode ser editado."})
	}
	for k := range m {
		if !slices.Contains([]string{"riskSignals", "creditors", "expirationDateTime", "recurringConfiguration", "loggedUser", "businessEntity"}, k) {
			refuse(d.at(k))
		}
	}
	// creditors: the name of the one creditor; cpfCnpj and personType may
	// be repeated but not changed.
	var name string
	if cs, ok := d.array("creditors", true); ok {
		for i := range cs {
			item, ok := d.item("creditors", cs, i)
			if !ok {
				continue
			}
			name, _ = item.str("name", true, namePattern, 120)
			for k, v := range item.m {
				switch {
				case k == "name":
				case k == "cpfCnpj" && len(c.c.Creditors) > 0 && v == c.c.Creditors[0].CpfCnpj:
				case k == "personType" && len(c.c.Creditors) > 0 && v == string(c.c.Creditors[0].PersonType):
				default:
					refuse(item.at(k))
				}
			}
		}
		if len(cs) != 1 {
			notAllowed = append(notAllowed, failure{"DETALHE_EDICAO_INVALIDO", "O Pix Automático admite exatamente um recebedor em creditors."})
		}
	}
	nameOnly := !d.has("riskSignals") && !d.has("loggedUser") && !d.has("expirationDateTime") && !d.has("recurringConfiguration") && !d.has("businessEntity")
	platform := 0
	if rs, ok := d.object("riskSignals", !nameOnly); ok {
		platform = checkRiskSignals(rs)
	}
	var user string
	if u, ok := d.object("loggedUser", !nameOnly); ok {
		if doc, ok := u.object("document", true); ok {
			user, _ = doc.str("identification", true, cpfPattern, 11)
			doc.enum("rel", true, "CPF")
		}
	}
	a.parseBusinessEntity(d)
	newExp, hasExp := d.dateTime("expirationDateTime", false)
	var newMax *consent.Amount
	if rc, ok := d.object("recurringConfiguration", false); ok {
		for k := range rc.m {
			if k != "automatic" {
				refuse(rc.at(k))
			}
		}
		if auto, ok := rc.object("automatic", false); ok {
			for k := range auto.m {
				if k != "maximumVariableAmount" {
					refuse(auto.at(k))
				}
			}
			if v, ok := auto.amount("maximumVariableAmount", false); ok {
				newMax = &v
			}
		}
	}
	if !ch.ok() {
		return ch.fails
	}
	if len(notAllowed) > 0 {
		return notAllowed
	}
	if platform > 0 && platform < 3 {
		return []failure{{"FALTAM_SINAIS_OBRIGATORIOS_PLATAFORMA", "Os sinais isRootedDevice, screenBrightness e elapsedTimeSinceBoot são obrigatórios em aplicativos nativos e devem ser enviados juntos."}}
	}

	auto := c.c.Automatic()
	if auto == nil || c.c.Status != consent.StatusAuthorised {
		return []failure{{"DETALHE_EDICAO_INVALIDO", "Apenas consentimentos de Pix Automático AUTHORISED podem ser editados; este está em " + string(c.c.Status) + "."}}
	}
	if !nameOnly && user != "" && c.c.LoggedUser != nil && user != c.c.LoggedUser.Document.Identification && user != c.subject {
		return []failure{{"PERMISSAO_INSUFICIENTE", "O usuário " + user + " não possui poderes plenos sobre o consentimento."}}
	}
	var fs []failure
	if newMax != nil {
		switch {
		case auto.FixedAmount != nil:
			fs = append(fs, failure{"DETALHE_EDICAO_INVALIDO", "maximumVariableAmount não pode ser editado em um consentimento de valor fixo (fixedAmount)."})
		case *newMax <= 0:
			fs = append(fs, failure{"DETALHE_EDICAO_INVALIDO", "maximumVariableAmount deve ser maior que zero."})
		case auto.MinimumVariableAmount != nil && *newMax < *auto.MinimumVariableAmount:
			fs = append(fs, failure{"DETALHE_EDICAO_INVALIDO", "maximumVariableAmount não pode ser inferior a minimumVariableAmount " + auto.MinimumVariableAmount.String() + "."})
		}
	}
	if hasExp {
		switch {
		case !endOfDayUTC(newExp):
			fs = append(fs, failure{"DETALHE_EDICAO_INVALIDO", "expirationDateTime deve ser às 23:59:59 (UTC)."})
		case consent.DateOf(newExp.Time, time.UTC).Before(consent.Today(now)) || !newExp.After(now):
			fs = append(fs, failure{"DETALHE_EDICAO_INVALIDO", "expirationDateTime deve ser no mínimo o dia da requisição e no futuro."})
		}
	}
	if len(fs) > 0 {
		return fs
	}

	for i := range c.c.Creditors {
		c.c.Creditors[i].Name = name
	}
	if !nameOnly {
		if hasExp {
			c.c.ExpirationDateTime = &newExp
		} else {
			c.c.ExpirationDateTime = nil
		}
		if auto.FixedAmount == nil {
			auto.MaximumVariableAmount = newMax
		}
	}
	updated := consent.NewDateTime(now)
	c.c.UpdatedAtDateTime = &updated
	tx.consentChanged(c, "DATA_CHANGED", now)
	if c.c.ExpirationDateTime != nil {
		last := consent.DateOf(c.c.ExpirationDateTime.Time, time.UTC)
		by := consent.Document{Identification: user, Rel: consent.RelCPF}
		for _, p := range a.paymentList {
			if p.p.ConsentID == c.c.RecurringConsentID && pending(p.p.Status) && p.p.Date.After(last) {
				a.cancelPaymentLocked(tx, p, consent.FromIniciadora, by, now)
			}
		}
	}
	return nil
}

// checkRiskSignals checks RiskSignalsConsentEdition and returns how many of
// the three native-app signals are present.
func checkRiskSignals(rs node) int {
	for _, k := range []string{"deviceId", "osVersion", "userTimeZoneOffset", "language"} {
		rs.str(k, true, nil, 0)
	}
	if sd, ok := rs.object("screenDimensions", true); ok {
		sd.number("height", true, true)
		sd.number("width", true, true)
	}
	rs.date("accountTenure", true)
	platform := 0
	if _, ok := rs.boolean("isRootedDevice", false); ok {
		platform++
	}
	if rs.number("screenBrightness", false, false) {
		platform++
	}
	if rs.number("elapsedTimeSinceBoot", false, true) {
		platform++
	}
	for _, k := range []string{"isCallInProgress", "isDevModeEnabled", "isMockGPS", "isEmulated", "isMonkeyRunner", "isCharging", "isUsbConnected"} {
		rs.boolean(k, false)
	}
	rs.str("antennaInformation", false, nil, 0)
	if g, ok := rs.object("geolocation", false); ok {
		g.number("latitude", false, false)
		g.number("longitude", false, false)
		g.enum("type", false, "COARSE", "FINE", "INFERRED")
	}
	if in, ok := rs.object("integrity", false); ok {
		in.str("appRecognitionVerdict", false, nil, 0)
		in.str("deviceRecognitionVerdict", false, nil, 0)
	}
	return platform
}
