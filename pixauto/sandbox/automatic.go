package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
)

// The automatic-payments API v2 (Pix Automático) of the bank: recurring
// consents and recurring payments under MTLSURL + AutomaticPaymentsBase,
// with the holder's synchronous validations (automatic_consents.go,
// automatic_payments.go, automatic_retry.go), its asynchronous state machine
// driven by the clock (settlement.go), scripted settlement outcomes
// (script.go) and webhooks (webhooks.go).

// AutomaticPaymentsBase is the path of the automatic-payments API on the
// mTLS host: MTLSURL + AutomaticPaymentsBase + "/recurring-consents", …
const AutomaticPaymentsBase = "/open-banking/automatic-payments/v2"

// Lifetimes of the automatic-payments API.
const (
	// RecurringConsentAuthorisationWindow is how long a recurring consent
	// waits in AWAITING_AUTHORISATION before it is REJECTED with
	// TEMPO_EXPIRADO_AUTORIZACAO.
	RecurringConsentAuthorisationWindow = 60 * time.Minute
)

// automatic is the automatic-payments API. Its state is guarded by mu; the
// bank's own mutex (b.mu) may be taken while mu is held, never the other
// way round.
type automatic struct {
	b       *Bank
	version payments.Version
	// idemp remembers the POSTs, idempPatch the PATCHes (whose 422 enums
	// have no ERRO_IDEMPOTENCIA).
	idemp      idempotency
	idempPatch idempotency

	mu          sync.Mutex
	consents    map[string]*apConsent
	consentList []*apConsent // creation order
	payments    map[string]*apPayment
	paymentList []*apPayment      // creation order
	e2eids      map[string]string // endToEndId → recurringPaymentId
	scripts     map[string][]Outcome
	seq         int
}

func newAutomatic(b *Bank) *automatic {
	return &automatic{
		b:        b,
		version:  payments.Version(b.cfg.APIVersion),
		consents: map[string]*apConsent{},
		payments: map[string]*apPayment{},
		e2eids:   map[string]string{},
		scripts:  map[string][]Outcome{},

		idempPatch: idempotency{conflictCode: "PARAMETRO_INVALIDO"},
	}
}

// legacy reports whether the bank speaks 2.0/2.1 (no /retry endpoint, MANU
// only, "M09-2024" references, CONSENTIMENTO_REVOGADO).
func (a *automatic) legacy() bool { return !a.version.HasRetryEndpoint() }

func (a *automatic) routes(mux *http.ServeMux) {
	base := AutomaticPaymentsBase
	a.route(mux, base+"/recurring-consents", map[string]op{
		http.MethodPost: {OpCreateConsent, a.handleCreateConsent},
	})
	a.route(mux, base+"/recurring-consents/{recurringConsentId}", map[string]op{
		http.MethodGet:   {OpGetConsent, a.handleGetConsent},
		http.MethodPatch: {OpPatchConsent, a.handlePatchConsent},
	})
	a.route(mux, base+"/pix/recurring-payments", map[string]op{
		http.MethodPost: {OpCreatePayment, a.handleCreatePayment},
		http.MethodGet:  {OpListPayments, a.handleListPayments},
	})
	a.route(mux, base+"/pix/recurring-payments/{recurringPaymentId}", map[string]op{
		http.MethodGet:   {OpGetPayment, a.handleGetPayment},
		http.MethodPatch: {OpPatchPayment, a.handlePatchPayment},
	})
	if a.version.HasRetryEndpoint() {
		a.route(mux, base+"/pix/recurring-payments/{originalRecurringPaymentId}/retry", map[string]op{
			http.MethodPost: {OpRetryPayment, a.handleRetry},
		})
	}
	mux.HandleFunc(base+"/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-v", string(a.version))
		iid, _ := interactionID(r)
		a.b.refuseAPI(w, r, iid, apiErr(http.StatusNotFound, "NAO_ENCONTRADO", "Não encontrado", "%s is not an endpoint of the automatic-payments API %s", r.URL.Path, a.version))
	})
}

type op struct {
	name    Operation
	handler http.HandlerFunc
}

// route registers the methods of one path, and a 405 for the others.
func (a *automatic) route(mux *http.ServeMux, path string, methods map[string]op) {
	var allow []string
	for m, o := range methods {
		allow = append(allow, m)
		mux.HandleFunc(m+" "+path, a.prelude(o.name, o.handler))
	}
	slices.Sort(allow)
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-v", string(a.version))
		w.Header().Set("Allow", strings.Join(allow, ", "))
		iid, _ := interactionID(r)
		a.b.refuseAPI(w, r, iid, apiErr(http.StatusMethodNotAllowed, "METODO_NAO_PERMITIDO", "Método não permitido", "%s is not allowed on %s", r.Method, r.URL.Path))
	})
}

type callFaultKey struct{}

// callFaultOf returns the call fault taken for r, nil if none.
func callFaultOf(r *http.Request) *CallFault {
	f, _ := r.Context().Value(callFaultKey{}).(*CallFault)
	return f
}

// prelude runs before every automatic-payments handler: the x-v header,
// the call faults (ResourceFaults.Calls) and the Accept check.
func (a *automatic) prelude(name Operation, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("x-v", string(a.version))
		f, faulty := a.b.takeCallFault(name)
		if !faulty {
			if a.acceptable(w, r) {
				h(w, r)
			}
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), callFaultKey{}, &f))
		switch f.Kind {
		case FaultStatus:
			a.faultStatus(w, r, f)
		case FaultDelay, FaultDrop:
			buf := &bufferedResponse{header: http.Header{}}
			for k, v := range w.Header() {
				buf.header[k] = v
			}
			if a.acceptable(buf, r) {
				h(buf, r)
			}
			a.b.log.Info("sandbox: injected fault", "fault", f.Kind, "method", r.Method, "path", r.URL.Path)
			if f.Kind == FaultDrop || !a.hold(r.Context(), f.Delay) {
				dropConnection(w)
				return
			}
			buf.flush(w)
		default:
			if a.acceptable(w, r) {
				h(w, r)
			}
		}
	}
}

// hold waits for d (0 → forever), the end of the request or the bank's
// closing; it reports whether the answer may still be sent.
func (a *automatic) hold(ctx context.Context, d time.Duration) bool {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-timeout:
		return true
	case <-ctx.Done():
		return false
	case <-a.b.closing:
		return false
	}
}

var faultStatusCodes = map[int][2]string{
	http.StatusInternalServerError: {"ERRO_INTERNO", "Erro interno"},
	http.StatusGatewayTimeout:      {"GATEWAY_TIMEOUT", "Tempo de resposta excedido"},
	529:                            {"SITE_SOBRECARREGADO", "Site sobrecarregado"},
}

func (a *automatic) faultStatus(w http.ResponseWriter, r *http.Request, f CallFault) {
	status := f.Status
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	ct := faultStatusCodes[status]
	if ct[0] == "" {
		ct = [2]string{"ERRO_INJETADO", http.StatusText(status)}
	}
	iid, _ := interactionID(r)
	a.b.refuseAPI(w, r, iid, apiErr(status, ct[0], ct[1], "injected fault: %d", status))
}

// acceptable answers 406 when the Accept header allows neither
// application/jwt nor application/json.
func (a *automatic) acceptable(w http.ResponseWriter, r *http.Request) bool {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return true
	}
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", "application/jwt", "application/json":
			return true
		}
	}
	iid, _ := interactionID(r)
	a.b.refuseAPI(w, r, iid, apiErr(http.StatusNotAcceptable, "FORMATO_NAO_ACEITO", "Formato não aceito", "Accept %q allows neither application/jwt nor application/json", accept))
	return false
}

// bufferedResponse collects an answer that a fault holds back or drops.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedResponse) flush(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	_, _ = io.Copy(w, &b.body)
}

// dropConnection closes the client's connection without an answer. It
// sends the first bytes of a status line before closing: an HTTP client
// that received nothing at all may replay the request on its own (Go's
// transport does, for a request it deems idempotent — any carrying
// X-Idempotency-Key — on a reused connection), whereas a cut-off answer is
// an error it reports.
func dropConnection(w http.ResponseWriter) {
	if sw, ok := w.(*statusWriter); ok {
		sw.status, sw.wroteHeader = 0, true
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2: reset the stream instead
	}
	_, _ = rw.WriteString("HTTP/1.1 2")
	_ = rw.Flush()
	_ = conn.Close()
}

// ----- the consent seam -----

// lookupConsent implements consentAPI for recurring-consent:<id> scopes.
func (a *automatic) lookupConsent(scope consentScope) (consentInfo, bool) {
	if scope.Prefix != "recurring-consent" {
		return consentInfo{}, false
	}
	tx := a.begin()
	defer tx.end()
	c := a.consents[scope.ID]
	if c == nil {
		return consentInfo{}, false
	}
	return consentInfo{
		ClientID: c.clientID,
		Awaiting: c.c.Status == consent.StatusAwaitingAuthorisation,
		Active:   c.c.Status == consent.StatusAuthorised,
	}, true
}

// decideConsent implements consentAPI: the payer's decision at /authorize.
// An approval by someone other than the consent's logged user rejects the
// consent with AUTENTICACAO_DIVERGENTE and is answered as a denial.
func (a *automatic) decideConsent(_ context.Context, scope consentScope, _ AuthorizationRequest, d AuthorizationDecision) AuthorizationDecision {
	tx := a.begin()
	defer tx.end()
	c := a.consents[scope.ID]
	if c == nil || c.c.Status != consent.StatusAwaitingAuthorisation {
		return d
	}
	now := a.b.now()
	if d.Deny {
		a.rejectLocked(tx, c, now, consent.ByUsuario, consent.FromDetentora, consent.RejectionCode(d.RejectionCode), d.Description)
		return d
	}
	if user := c.c.LoggedUser; user != nil && user.Document.Identification != d.Subject {
		detail := "the payer authenticated at the holder is not the user logged in at the ITP"
		a.rejectLocked(tx, c, now, consent.ByDetentora, consent.FromDetentora, consent.RejectionAutenticacaoDivergente, detail)
		return AuthorizationDecision{Deny: true, Description: detail, RejectionCode: string(consent.RejectionAutenticacaoDivergente), Subject: d.Subject, ACR: d.ACR}
	}
	a.authoriseLocked(tx, c, now, d.Subject, d.DebtorAccount)
	return d
}

// ----- transactions -----

// apTx is a locked section of the API: it runs the state machine up to now
// on entry and collects the webhooks to send, which end enqueues after
// unlocking.
type apTx struct {
	a       *automatic
	notices []notice
}

func (a *automatic) begin() *apTx {
	a.mu.Lock()
	tx := &apTx{a: a}
	a.runLocked(tx, a.b.now())
	return tx
}

func (tx *apTx) end() {
	notices := tx.notices
	tx.notices = nil
	tx.a.mu.Unlock()
	tx.a.b.hooks.enqueue(notices)
}

// ----- grants -----

const scopeRecurringPayments = "recurring-payments"

// clientCredentials requires a client_credentials token with scope
// recurring-payments.
func clientCredentials(g *grant) *apiError {
	if g.GrantType != "client_credentials" || !g.hasScope(scopeRecurringPayments) {
		return forbidden("this endpoint needs a client_credentials token with scope recurring-payments")
	}
	return nil
}

// consentGrant reports whether g comes from the authorization of a
// recurring consent (authorization_code or refresh_token, with scopes
// recurring-payments and recurring-consent:<id>).
func consentGrant(g *grant) bool {
	return g.Consent != nil && g.Consent.Prefix == "recurring-consent" &&
		(g.GrantType == "authorization_code" || g.GrantType == "refresh_token") &&
		g.hasScope(scopeRecurringPayments) && g.hasScope(g.Consent.String())
}

// readGrant accepts a client_credentials token or, for the reads and the
// retry, the token of a consent's authorization; it returns the consent id
// such a token is limited to ("" for client_credentials).
func readGrant(g *grant) (string, *apiError) {
	if consentGrant(g) {
		return g.Consent.ID, nil
	}
	if ae := clientCredentials(g); ae != nil {
		return "", forbidden("this endpoint needs a client_credentials token with scope recurring-payments, or the token of the consent's authorization")
	}
	return "", nil
}

// ----- identifiers -----

var (
	consentIDPattern = regexp.MustCompile(`^urn:[a-zA-Z0-9][a-zA-Z0-9\-]{0,31}:[a-zA-Z0-9()+,\-.:=@;$_!*'%\/?#]+$`)
	paymentIDPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9\-]{0,99}$`)
)

func validConsentID(id string) bool { return len(id) <= 256 && consentIDPattern.MatchString(id) }

func (a *automatic) nextSeq() int {
	a.seq++
	return a.seq
}

// ----- answers -----

// result is what a handler computed under the lock: a signed body (2xx or
// 422) or a plain error.
type result struct {
	status int
	body   map[string]any
	err    *apiError
	// render, for a success, renders the resource's current state for
	// idempotent replays.
	render func() map[string]any
}

func (a *automatic) meta() map[string]any {
	return map[string]any{"requestDateTime": rfc3339(a.b.now())}
}

func (a *automatic) link(path string) map[string]string {
	return map[string]string{"self": a.b.MTLSURL + path}
}

// failure is one entry of a 422 (or of a syntax check that becomes one).
type failure struct {
	Code   string
	Detail string
}

var errorTitles = map[string]string{
	"DATA_PAGAMENTO_INVALIDA":                       "Data de pagamento inválida.",
	"DETALHE_PAGAMENTO_INVALIDO":                    "Detalhe do pagamento inválido.",
	"PARAMETRO_NAO_INFORMADO":                       "Parâmetro não informado.",
	"PARAMETRO_INVALIDO":                            "Parâmetro inválido.",
	"ERRO_IDEMPOTENCIA":                             "Erro idempotência.",
	"NAO_INFORMADO":                                 "Não informado.",
	"FUNCIONALIDADE_NAO_HABILITADA":                 "Funcionalidade não habilitada.",
	"CONSENTIMENTO_NAO_PERMITE_CANCELAMENTO":        "Consentimento não permite cancelamento.",
	"CAMPO_NAO_PERMITIDO":                           "Campo não permitido.",
	"PERMISSAO_INSUFICIENTE":                        "Permissão insuficiente.",
	"DETALHE_EDICAO_INVALIDO":                       "Detalhe da edição inválido.",
	"FALTAM_SINAIS_OBRIGATORIOS_PLATAFORMA":         "Faltam sinais obrigatórios da plataforma.",
	"CONSENTIMENTO_INVALIDO":                        "Consentimento inválido.",
	"CONSENTIMENTO_PENDENTE_AUTORIZACAO":            "Consentimento pendente de autorização.",
	"PAGAMENTO_DIVERGENTE_CONSENTIMENTO":            "Pagamento divergente do consentimento.",
	"LIMITE_VALOR_TRANSACAO_CONSENTIMENTO_EXCEDIDO": "Limite de transação excedido.",
	"FORA_PRAZO_PERMITIDO":                          "Fora do prazo permitido.",
	"VALOR_INVALIDO":                                "Valor inválido.",
	"PAGAMENTO_RECUSADO_DETENTORA":                  "Pagamento recusado pela detentora.",
	"LIMITE_TENTATIVAS_EXCEDIDO":                    "Limite de tentativas excedido.",
	"DETALHE_TENTATIVA_INVALIDO":                    "Nova tentativa inválida.",
	"NAO_PERMITIDO":                                 "Não permitido.",
	"PAGAMENTO_NAO_PERMITE_CANCELAMENTO":            "Pagamento não permite cancelamento.",
	"CANCELAMENTO_FORA_PERIODO_PERMITIDO":           "Cancelamento fora do período permitido.",
}

// unprocessable returns a 422 result of at most max failures.
func (a *automatic) unprocessable(fs []failure, max int) result {
	if len(fs) > max {
		fs = fs[:max]
	}
	items := make([]map[string]string, 0, len(fs))
	for _, f := range fs {
		title := errorTitles[f.Code]
		if title == "" {
			title = f.Code
		}
		items = append(items, map[string]string{"code": f.Code, "title": title, "detail": truncateDetail(f.Detail)})
	}
	return result{status: http.StatusUnprocessableEntity, body: map[string]any{"errors": items, "meta": a.meta()}}
}

func truncateDetail(s string) string {
	if len(s) > 2048 {
		return s[:2048]
	}
	return s
}

func (a *automatic) fail(code, detail string, max int) result {
	return a.unprocessable([]failure{{code, detail}}, max)
}

// answer writes a result; for a write (key != "") it stores the outcome for
// idempotent replays first: a success replays the resource's current
// state, a 422 the same errors.
func (a *automatic) answer(w http.ResponseWriter, r *http.Request, call *apiCall, key string, sr *signedRequest, res result) {
	if res.err != nil {
		a.b.refuseAPI(w, r, call.iid, res.err)
		return
	}
	if key != "" {
		render := res.render
		if render == nil {
			body := res.body
			render = func() map[string]any { return body }
		}
		a.idempotencyOf(r).store(a.b.now(), r.URL.Path, key, call.org, sr.Data, res.status, render)
	}
	if res.status == http.StatusUnprocessableEntity {
		a.b.log.Info("sandbox: refused", "method", r.Method, "path", r.URL.Path, "status", res.status, "errors", res.body["errors"])
	}
	a.b.writeSigned(w, r, res.status, call.iid, call.org, res.body)
}

// idempotencyOf returns the idempotency store of a write.
func (a *automatic) idempotencyOf(r *http.Request) *idempotency {
	if r.Method == http.MethodPatch {
		return &a.idempPatch
	}
	return &a.idemp
}

// decodeData decodes a request's data claim as a JSON object.
func decodeData(raw json.RawMessage) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	m, ok := v.(map[string]any)
	return m, ok
}
