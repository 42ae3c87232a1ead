package sandbox_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// TestConsentEditValidations: PATCH /recurring-consents/{id} editions.
func TestConsentEditValidations(t *testing.T) {
	t.Parallel()
	e := newPaymentsEnv(t, "2.2.0")
	today := e.today()
	awaiting := e.createConsent(e.consentData())
	for _, tt := range []struct {
		name    string
		consent string
		mut     func(d obj)
		code    string
	}{
		{"maximum below the minimum", e.variable, func(d obj) { d["recurringConfiguration"] = obj{"automatic": obj{"maximumVariableAmount": "49.99"}} }, "DETALHE_EDICAO_INVALIDO"},
		{"maximum on a fixed-amount consent", e.fixed, func(obj) {}, "DETALHE_EDICAO_INVALIDO"},
		{"expiry in the past", e.variable, func(d obj) { d["expirationDateTime"] = today.AddDays(-1).String() + "T23:59:59Z" }, "DETALHE_EDICAO_INVALIDO"},
		{"expiry not at 23:59:59Z", e.variable, func(d obj) { d["expirationDateTime"] = today.AddDays(30).String() + "T12:00:00Z" }, "DETALHE_EDICAO_INVALIDO"},
		{"no loggedUser", e.variable, func(d obj) { delete(d, "loggedUser") }, "PARAMETRO_NAO_INFORMADO"},
		{"no riskSignals", e.variable, func(d obj) { delete(d, "riskSignals") }, "PARAMETRO_NAO_INFORMADO"},
		{"riskSignals without deviceId", e.variable, func(d obj) { delete(d["riskSignals"].(obj), "deviceId") }, "PARAMETRO_NAO_INFORMADO"},
		{"riskSignals of the wrong type", e.variable, func(d obj) { d["riskSignals"].(obj)["screenDimensions"] = "844x390" }, "PARAMETRO_INVALIDO"},
		{"incomplete native-app signals", e.variable, func(d obj) { d["riskSignals"].(obj)["isRootedDevice"] = false }, "FALTAM_SINAIS_OBRIGATORIOS_PLATAFORMA"},
		{"contractId is not editable", e.variable, func(d obj) { d["recurringConfiguration"].(obj)["automatic"].(obj)["contractId"] = "X1" }, "CAMPO_NAO_PERMITIDO"},
		{"debtorAccount is not editable", e.variable, func(d obj) { d["debtorAccount"] = obj{"ispb": "99999999"} }, "CAMPO_NAO_PERMITIDO"},
		{"creditor's document is not editable", e.variable, func(d obj) { d["creditors"] = []any{obj{"name": "X", "cpfCnpj": otherCNPJ}} }, "CAMPO_NAO_PERMITIDO"},
		{"two creditors", e.variable, func(d obj) { d["creditors"] = []any{obj{"name": "X"}, obj{"name": "Y"}} }, "DETALHE_EDICAO_INVALIDO"},
		{"no creditors", e.variable, func(d obj) { delete(d, "creditors") }, "PARAMETRO_NAO_INFORMADO"},
		{"another user", e.variable, func(d obj) { d["loggedUser"] = obj{"document": obj{"identification": otherCPF, "rel": "CPF"}} }, "PERMISSAO_INSUFICIENTE"},
		{"a consent not yet authorised", awaiting, func(obj) {}, "DETALHE_EDICAO_INVALIDO"},
	} {
		d := editData("Escola Exemplo Ltda", "300.00")
		tt.mut(d)
		_, err := e.call(http.MethodPatch, "/recurring-consents/"+tt.consent, d, e.cc)
		t.Run(tt.name, func(t *testing.T) { want422(t, err, tt.code) })
	}

	// A payment scheduled after the new expiry is cancelled by the edit.
	e.advance(time.Minute)
	due := today.AddDays(4)
	p := e.pay(e.soonTS, e.recurrenceData(today, due, "100.00"))
	e.advance(time.Second)
	shorten := editData("Escola Exemplo Ltda", "500.00")
	shorten["expirationDateTime"] = due.AddDays(-1).String() + "T23:59:59Z"
	e.must(http.StatusOK)(e.call(http.MethodPatch, "/recurring-consents/"+e.soon, shorten, e.cc))
	got := e.payment(p.ID)
	if got.Status != "CANC" || got.Cancellation == nil || got.Cancellation.Reason != "CANCELADO_AGENDAMENTO" || got.Cancellation.CancelledBy.Document.Identification != payerCPF {
		t.Fatalf("payment after the expiry was shortened: %+v", got)
	}
	_, err := e.call(http.MethodPost, "/pix/recurring-payments", e.recurrenceData(today, due, "100.00"), e.soonTS)
	want422(t, err, "FORA_PRAZO_PERMITIDO")

	// Permissive editions: name only keeps everything; a full edition
	// omitting the maximum and the expiry makes them indefinite; the
	// maximum may go up; updatedAtDateTime moves every time.
	before := e.consent(e.soon)
	e.advance(time.Minute)
	e.must(http.StatusOK)(e.call(http.MethodPatch, "/recurring-consents/"+e.soon, obj{"creditors": []any{obj{"name": "Escola Renomeada SA"}}}, e.cc))
	renamed := e.consent(e.soon)
	if renamed.Creditors[0].Name != "Escola Renomeada SA" || renamed.ExpirationDateTime == nil || renamed.RecurringConfiguration.Automatic.MaximumVariableAmount == nil ||
		renamed.UpdatedAtDateTime == nil || (before.UpdatedAtDateTime != nil && !renamed.UpdatedAtDateTime.After(before.UpdatedAtDateTime.Time)) {
		t.Fatalf("name-only edition: %+v", renamed)
	}
	e.advance(time.Minute)
	e.must(http.StatusOK)(e.call(http.MethodPatch, "/recurring-consents/"+e.soon, editData("Escola Renomeada SA", ""), e.cc))
	open := e.consent(e.soon)
	if open.ExpirationDateTime != nil || open.RecurringConfiguration.Automatic.MaximumVariableAmount != nil || !open.UpdatedAtDateTime.After(renamed.UpdatedAtDateTime.Time) {
		t.Fatalf("edition to indefinite: %+v", open)
	}
	e.must(http.StatusOK)(e.call(http.MethodPatch, "/recurring-consents/"+e.variable, editData("Escola Exemplo Ltda", "900.00"), e.cc))
	if m := e.consent(e.variable).RecurringConfiguration.Automatic.MaximumVariableAmount; m == nil || *m != consent.MustAmount("900.00") {
		t.Fatalf("raised maximum: %v", m)
	}
}

// TestConsentRevocationAndRejection: PATCH with REVOKED or REJECTED.
func TestConsentRevocationAndRejection(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Config{})
	authorised, _ := e.authorised(e.consentData())
	awaiting := e.createConsent(e.consentData())
	revoke := func() obj {
		return obj{"status": "REVOKED", "revocation": obj{"revokedBy": "USUARIO", "revokedFrom": "INICIADORA", "reason": obj{"code": "REVOGADO_USUARIO", "detail": "não quero mais"}}}
	}
	reject := func() obj {
		return obj{"status": "REJECTED", "rejection": obj{"rejectedBy": "USUARIO", "rejectedFrom": "INICIADORA", "reason": obj{"code": "REJEITADO_USUARIO", "detail": "desisti"}}}
	}
	for _, tt := range []struct {
		name    string
		consent string
		body    obj
		mut     func(obj)
		code    string
	}{
		{"revoke a consent awaiting authorisation", awaiting, revoke(), func(obj) {}, "CONSENTIMENTO_NAO_PERMITE_CANCELAMENTO"},
		{"reject an authorised consent", authorised, reject(), func(obj) {}, "CONSENTIMENTO_NAO_PERMITE_CANCELAMENTO"},
		{"revocation without detail", authorised, revoke(), func(d obj) { d["revocation"].(obj)["reason"].(obj)["detail"] = "" }, "PARAMETRO_NAO_INFORMADO"},
		{"revocation with an unknown code", authorised, revoke(), func(d obj) { d["revocation"].(obj)["reason"].(obj)["code"] = "CANSEI" }, "PARAMETRO_INVALIDO"},
		{"rejection without rejectedBy", awaiting, reject(), func(d obj) { delete(d["rejection"].(obj), "rejectedBy") }, "PARAMETRO_NAO_INFORMADO"},
		{"status CONSUMED", authorised, obj{"status": "CONSUMED"}, func(obj) {}, "PARAMETRO_INVALIDO"},
	} {
		tt.mut(tt.body)
		_, err := e.call(http.MethodPatch, "/recurring-consents/"+tt.consent, tt.body, e.cc)
		t.Run(tt.name, func(t *testing.T) { want422(t, err, tt.code) })
	}
	e.must(http.StatusOK)(e.call(http.MethodPatch, "/recurring-consents/"+awaiting, reject(), e.cc))
	if c := e.consent(awaiting); c.Status != consent.StatusRejected || c.Rejection.RejectedBy != consent.ByUsuario || c.Rejection.RejectedFrom != consent.FromIniciadora || c.Rejection.Reason.Code != consent.RejectionRejeitadoUsuario {
		t.Fatalf("rejected: %+v", c.Rejection)
	}
	e.must(http.StatusOK)(e.call(http.MethodPatch, "/recurring-consents/"+authorised, revoke(), e.cc))
	if c := e.consent(authorised); c.Status != consent.StatusRevoked || c.Revocation.RevokedAt == nil {
		t.Fatalf("revoked: %+v", c.Revocation)
	}
	_, err := e.call(http.MethodPatch, "/recurring-consents/"+authorised, revoke(), e.cc)
	want422(t, err, "CONSENTIMENTO_NAO_PERMITE_CANCELAMENTO")
	// Another ITP cannot see the consent.
	other := e.client(newITPOf(t, e.b), 0)
	_, err = e.do(other, http.MethodGet, "/recurring-consents/"+authorised, nil, other.ClientCredentialsSource("recurring-payments"))
	apiError(t, err, http.StatusNotFound)
}

// newITPOf registers a second ITP at b.
func newITPOf(t *testing.T, b *sandbox.Bank) *sandbox.ITP {
	t.Helper()
	itp, err := b.NewITP(sandbox.ITPConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return itp
}

// TestPaymentCancellation: PATCH /pix/recurring-payments/{id}, with the
// payer's and the receiver's deadlines.
func TestPaymentCancellation(t *testing.T) {
	t.Parallel()
	e := newPaymentsEnv(t, "2.2.0")
	today := e.today()
	due := today.AddDays(3)
	p := e.pay(e.soonTS, e.recurrenceData(today, due, "100.00"))
	q := e.pay(e.fixedTS, e.recurrenceData(today, due, "99.90"))
	e.advance(time.Second)
	by := func(doc, rel string) obj {
		return obj{"status": "CANC", "cancellation": obj{"cancelledBy": obj{"document": obj{"identification": doc, "rel": rel}}}}
	}
	for _, tt := range []struct {
		name string
		body obj
		code string
	}{
		{"status other than CANC", obj{"status": "ACSC", "cancellation": by(payerCPF, "CPF")["cancellation"]}, "PARAMETRO_INVALIDO"},
		{"no cancellation", obj{"status": "CANC"}, "PARAMETRO_NAO_INFORMADO"},
		{"neither payer nor receiver", by(otherCPF, "CPF"), "PAGAMENTO_NAO_PERMITE_CANCELAMENTO"},
	} {
		_, err := e.call(http.MethodPatch, "/pix/recurring-payments/"+p.ID, tt.body, e.cc)
		t.Run(tt.name, func(t *testing.T) { want422(t, err, tt.code) })
	}
	// At 22:30 the day before, the receiver is too late, the payer is not.
	e.advanceTo(at(due.AddDays(-1), 22, 30))
	_, err := e.call(http.MethodPatch, "/pix/recurring-payments/"+p.ID, by(creditorCNPJ, "CNPJ"), e.cc)
	want422(t, err, "CANCELAMENTO_FORA_PERIODO_PERMITIDO")
	resp := e.must(http.StatusOK)(e.call(http.MethodPatch, "/pix/recurring-payments/"+p.ID, by(payerCPF, "CPF"), e.cc))
	got := decode[wirePayment](t, resp.Message.Data)
	if got.Status != "CANC" || got.Cancellation.Reason != "CANCELADO_AGENDAMENTO" || got.Cancellation.CancelledFrom != "INICIADORA" {
		t.Fatalf("cancelled: %+v", got)
	}
	// On the day itself even the payer is too late; once settled, nobody.
	e.advanceTo(at(due, 0, 0).Add(-time.Second))
	if err := e.b.HoldPayment(q.ID); err != nil {
		t.Fatal(err)
	}
	e.advanceTo(at(due, 0, 30))
	_, err = e.call(http.MethodPatch, "/pix/recurring-payments/"+q.ID, by(payerCPF, "CPF"), e.cc)
	want422(t, err, "CANCELAMENTO_FORA_PERIODO_PERMITIDO")
	if err := e.b.ReleasePayment(q.ID); err != nil {
		t.Fatal(err)
	}
	e.advance(time.Second)
	if s := e.status(q.ID); s != "ACSC" {
		t.Fatalf("released payment is %s", s)
	}
	_, err = e.call(http.MethodPatch, "/pix/recurring-payments/"+q.ID, by(payerCPF, "CPF"), e.cc)
	want422(t, err, "PAGAMENTO_NAO_PERMITE_CANCELAMENTO")
	// A held payment is cancelled with CANCELADO_PENDENCIA.
	cycle := today.AddDays(10)
	r := e.pay(e.variableTS, e.recurrenceData(cycle, cycle, "100.00"))
	e.advance(time.Second)
	if err := e.b.HoldPayment(r.ID); err != nil {
		t.Fatal(err)
	}
	resp = e.must(http.StatusOK)(e.call(http.MethodPatch, "/pix/recurring-payments/"+r.ID, by(creditorCNPJ, "CNPJ"), e.cc))
	if got := decode[wirePayment](t, resp.Message.Data); got.Cancellation.Reason != "CANCELADO_PENDENCIA" || got.Cancellation.CancelledBy.Document.Rel != consent.RelCNPJ {
		t.Fatalf("cancelled while held: %+v", got)
	}
	_, err = e.call(http.MethodPatch, "/pix/recurring-payments/nope-"+q.ID, by(payerCPF, "CPF"), e.cc)
	apiError(t, err, http.StatusNotFound)
	_, err = e.call(http.MethodPatch, "/pix/recurring-payments/a%20b", by(payerCPF, "CPF"), e.cc)
	apiError(t, err, http.StatusBadRequest)
	if err := e.b.HoldPayment(q.ID); err == nil {
		t.Fatal("a settled payment was put on hold")
	}
}
