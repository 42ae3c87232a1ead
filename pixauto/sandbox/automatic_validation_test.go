package sandbox_test

import (
	"net/http"
	"testing"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// The holder's synchronous validations, each answered with its 422 code
// (spec digest §4.5, §5; conformance-scenarios.md).

// TestConsentCreationValidations: POST /recurring-consents.
func TestConsentCreationValidations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Config{})
	today := e.today()
	for _, tt := range []struct {
		name   string
		env    *env
		mutate func(d obj)
		code   string // "" → accepted
	}{
		{"valid", e, func(obj) {}, ""},
		{"two creditors", e, func(d obj) {
			d["creditors"] = append(d["creditors"].([]any), obj{"personType": "PESSOA_JURIDICA", "cpfCnpj": otherCNPJ, "name": "Outra"})
		}, "DETALHE_PAGAMENTO_INVALIDO"},
		{"natural-person creditor", e, func(d obj) {
			d["creditors"] = []any{obj{"personType": "PESSOA_NATURAL", "cpfCnpj": otherCPF, "name": "Fulano"}}
		}, "DETALHE_PAGAMENTO_INVALIDO"},
		{"no creditor", e, func(d obj) { d["creditors"] = []any{} }, "PARAMETRO_NAO_INFORMADO"},
		{"fixedAmount of the wrong JSON type", e, func(d obj) { auto(d)["fixedAmount"] = 100.5 }, "PARAMETRO_INVALIDO"},
		{"fixed and maximum amounts", e, func(d obj) { auto(d)["fixedAmount"] = "100.00"; delete(auto(d), "minimumVariableAmount") }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"fixed and minimum amounts", e, func(d obj) { auto(d)["fixedAmount"] = "100.00"; delete(auto(d), "maximumVariableAmount") }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"minimum above maximum", e, func(d obj) { auto(d)["minimumVariableAmount"] = "600.00" }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"zero maximum", e, func(d obj) { auto(d)["maximumVariableAmount"] = "0.00"; delete(auto(d), "minimumVariableAmount") }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"no amounts at all", e, func(d obj) {
			delete(auto(d), "maximumVariableAmount")
			delete(auto(d), "minimumVariableAmount")
		}, ""},
		{"expiry not at 23:59:59Z", e, func(d obj) { d["expirationDateTime"] = today.AddDays(60).String() + "T20:59:59Z" }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"expiry in the past", e, func(d obj) { d["expirationDateTime"] = today.AddDays(-1).String() + "T23:59:59Z" }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"expiry before referenceStartDate", e, func(d obj) { d["expirationDateTime"] = today.AddDays(5).String() + "T23:59:59Z" }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"expiry at 23:59:59Z", e, func(d obj) { d["expirationDateTime"] = today.AddDays(60).String() + "T23:59:59Z" }, ""},
		{"firstPayment dated yesterday", e, func(d obj) { auto(d)["firstPayment"].(obj)["date"] = today.AddDays(-1).String() }, "DATA_PAGAMENTO_INVALIDA"},
		{"firstPayment not before referenceStartDate", e, func(d obj) { auto(d)["firstPayment"].(obj)["date"] = today.AddDays(10).String() }, "DATA_PAGAMENTO_INVALIDA"},
		{"firstPayment in USD", e, func(d obj) { auto(d)["firstPayment"].(obj)["currency"] = "USD" }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"firstPayment CACC account without issuer", e, func(d obj) {
			auto(d)["firstPayment"].(obj)["creditorAccount"] = obj{"ispb": "12345678", "number": "1", "accountType": "CACC"}
		}, "PARAMETRO_NAO_INFORMADO"},
		{"referenceStartDate in the past", e, func(d obj) {
			auto(d)["referenceStartDate"] = today.AddDays(-1).String()
			delete(auto(d), "firstPayment")
		}, "DATA_PAGAMENTO_INVALIDA"},
		{"referenceStartDate not a date", e, func(d obj) { auto(d)["referenceStartDate"] = "2026-02-30" }, "PARAMETRO_INVALIDO"},
		{"no loggedUser", e, func(d obj) { delete(d, "loggedUser") }, "PARAMETRO_NAO_INFORMADO"},
		{"loggedUser with a CNPJ", e, func(d obj) { d["loggedUser"] = obj{"document": obj{"identification": creditorCNPJ, "rel": "CNPJ"}} }, "PARAMETRO_INVALIDO"},
		{"no contractId", e, func(d obj) { delete(auto(d), "contractId") }, "PARAMETRO_NAO_INFORMADO"},
		{"no isRetryAccepted", e, func(d obj) { delete(auto(d), "isRetryAccepted") }, "PARAMETRO_NAO_INFORMADO"},
		{"isRetryAccepted as a string", e, func(d obj) { auto(d)["isRetryAccepted"] = "true" }, "PARAMETRO_INVALIDO"},
		{"unknown interval", e, func(d obj) { auto(d)["interval"] = "DIARIO" }, "PARAMETRO_INVALIDO"},
		{"contractDebtor rel not matching", e, func(d obj) { auto(d)["contractDebtor"].(obj)["document"].(obj)["rel"] = "CNPJ" }, "PARAMETRO_INVALIDO"},
		{"sweeping", e, func(d obj) { d["recurringConfiguration"] = obj{"sweeping": obj{"totalAllowedAmount": "100.00"}} }, "FUNCIONALIDADE_NAO_HABILITADA"},
		{"two configurations", e, func(d obj) { d["recurringConfiguration"].(obj)["vrp"] = obj{} }, "PARAMETRO_INVALIDO"},
		{"debtorAccount without number", e, func(d obj) { d["debtorAccount"] = obj{"ispb": "99999999", "issuer": "1", "accountType": "CACC"} }, "PARAMETRO_NAO_INFORMADO"},
		{"alphanumeric CNPJ on 2.2.0", e, func(d obj) {
			d["creditors"] = []any{obj{"personType": "PESSOA_JURIDICA", "cpfCnpj": "12ABC34501DE35", "name": "Alfa Ltda"}}
		}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := tt.env.consentData()
			tt.mutate(d)
			_, err := tt.env.call(http.MethodPost, "/recurring-consents", d, tt.env.cc)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			want422(t, err, tt.code)
		})
	}
	_, err := e.call(http.MethodPost, "/recurring-consents", []any{1}, e.cc)
	want422(t, err, "PARAMETRO_INVALIDO")
}

// paymentsEnv is a 2.2.0 bank with three authorised monthly consents:
// variable (max 500.00, min 50.00, a first payment today of 120.00, cycles
// from today+10), soon (max 500.00, no first payment, cycles from today,
// expiring today+5) and fixed (99.90, cycles from today).
type paymentsEnv struct {
	*env
	variable, soon, fixed       string
	variableTS, soonTS, fixedTS fapi.TokenSource
}

func newPaymentsEnv(t *testing.T, version string) *paymentsEnv {
	e := &paymentsEnv{env: newEnv(t, sandbox.Config{APIVersion: version})}
	today := e.today()
	e.variable, e.variableTS = e.authorised(e.consentData())
	soon := e.consentData()
	delete(auto(soon), "firstPayment")
	auto(soon)["referenceStartDate"] = today.String()
	soon["expirationDateTime"] = today.AddDays(5).String() + "T23:59:59Z"
	e.soon, e.soonTS = e.authorised(soon)
	fixed := e.consentData()
	delete(auto(fixed), "firstPayment")
	delete(auto(fixed), "maximumVariableAmount")
	delete(auto(fixed), "minimumVariableAmount")
	auto(fixed)["fixedAmount"] = "99.90"
	auto(fixed)["referenceStartDate"] = today.String()
	e.fixed, e.fixedTS = e.authorised(fixed)
	return e
}

// TestPaymentCreationValidations: POST /pix/recurring-payments on 2.2.0.
func TestPaymentCreationValidations(t *testing.T) {
	t.Parallel()
	e := newPaymentsEnv(t, "2.2.0")
	today := e.today()
	first := func(mutate func(d obj)) (fapi.TokenSource, obj) {
		d := e.firstPaymentData()
		mutate(d)
		return e.variableTS, d
	}
	// A recurrence of "soon" (cycle today, due in 3 days), mutated.
	soon := func(mutate func(d obj)) (fapi.TokenSource, obj) {
		d := e.recurrenceData(today, today.AddDays(3), "100.00")
		mutate(d)
		return e.soonTS, d
	}
	dated := func(ts fapi.TokenSource, cycle, date consent.Date, amount string) func(func(obj)) (fapi.TokenSource, obj) {
		return func(mutate func(d obj)) (fapi.TokenSource, obj) {
			d := e.recurrenceData(cycle, date, amount)
			mutate(d)
			return ts, d
		}
	}
	none := func(obj) {}
	for _, tt := range []struct {
		name string
		req  func(func(obj)) (fapi.TokenSource, obj)
		mut  func(obj)
		code string
	}{
		{"first payment with AUTO", first, func(d obj) { d["localInstrument"] = "AUTO" }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"first payment with another amount", first, func(d obj) { d["payment"] = obj{"amount": "100.00", "currency": "BRL"} }, "PAGAMENTO_DIVERGENTE_CONSENTIMENTO"},
		{"first payment to another account", first, func(d obj) {
			d["creditorAccount"] = obj{"ispb": "12345678", "issuer": "0001", "number": "999", "accountType": "CACC"}
		}, "PAGAMENTO_DIVERGENTE_CONSENTIMENTO"},
		{"first payment on another date", first, func(d obj) { d["date"] = today.AddDays(1).String(); d["endToEndId"] = e.e2e(today.AddDays(1)) }, "PAGAMENTO_DIVERGENTE_CONSENTIMENTO"},
		{"first payment with a stale endToEndId", first, func(d obj) { d["endToEndId"] = e.e2e(today.AddDays(-2)) }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"no paymentReference", first, func(d obj) { delete(d, "paymentReference") }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"zero on a consent without firstPayment", soon, func(d obj) { d["paymentReference"] = "zero"; d["localInstrument"] = "MANU" }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"another receiver's document", first, func(d obj) { d["document"] = obj{"identification": otherCNPJ, "rel": "CNPJ"} }, "PAGAMENTO_DIVERGENTE_CONSENTIMENTO"},
		{"document rel not matching", first, func(d obj) { d["document"] = obj{"identification": creditorCNPJ, "rel": "CPF"} }, "PARAMETRO_INVALIDO"},
		{"cnpjInitiator of another ITP", first, func(d obj) { d["cnpjInitiator"] = otherCNPJ }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"proxy with MANU", first, func(d obj) { d["proxy"] = "12345678901" }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"transactionIdentification", first, func(d obj) { d["transactionIdentification"] = "abc" }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"FIDO flow on a redirect consent", first, func(d obj) { d["authorisationFlow"] = "FIDO_FLOW" }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"another consent in the body", first, func(d obj) { d["recurringConsentId"] = e.soon }, "PAGAMENTO_DIVERGENTE_CONSENTIMENTO"},
		{"originalRecurringPaymentId in the body", first, func(d obj) { d["originalRecurringPaymentId"] = "abc" }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"no endToEndId", first, func(d obj) { delete(d, "endToEndId") }, "PARAMETRO_NAO_INFORMADO"},
		{"amount as a JSON number", first, func(d obj) { d["payment"] = obj{"amount": 120, "currency": "BRL"} }, "PARAMETRO_INVALIDO"},
		{"endToEndId of 30 February", first, func(d obj) { d["endToEndId"] = "E8765432120260230150012345678901" }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"unknown localInstrument", first, func(d obj) { d["localInstrument"] = "PIX" }, "PARAMETRO_INVALIDO"},
		{"recurrence with MANU", soon, func(d obj) { d["localInstrument"] = "MANU" }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"recurrence due tomorrow (D+1)", dated(e.soonTS, today, today.AddDays(1), "100.00"), none, "FORA_PRAZO_PERMITIDO"},
		{"recurrence due in 11 days", dated(e.fixedTS, today, today.AddDays(11), "99.90"), none, "FORA_PRAZO_PERMITIDO"},
		{"recurrence after the consent's expiry", dated(e.soonTS, today, today.AddDays(6), "100.00"), none, "FORA_PRAZO_PERMITIDO"},
		{"recurrence before referenceStartDate", dated(e.variableTS, today.AddDays(10), today.AddDays(5), "100.00"), none, "PAGAMENTO_DIVERGENTE_CONSENTIMENTO"},
		{"cycle before referenceStartDate", dated(e.variableTS, today.AddDays(10).AddDays(-28), today.AddDays(5), "100.00"), none, "PAGAMENTO_DIVERGENTE_CONSENTIMENTO"},
		{"reference not a cycle start", dated(e.soonTS, today.AddDays(1), today.AddDays(3), "100.00"), none, "DETALHE_PAGAMENTO_INVALIDO"},
		{"weekly reference on a monthly consent", soon, func(d obj) { d["paymentReference"] = "R/" + today.String() + "/P1W" }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"2.1 reference on 2.2.0", soon, func(d obj) { d["paymentReference"] = "M03-2026" }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"above maximumVariableAmount", soon, func(d obj) { d["payment"] = obj{"amount": "500.01", "currency": "BRL"} }, "LIMITE_VALOR_TRANSACAO_CONSENTIMENTO_EXCEDIDO"},
		{"not the fixedAmount", dated(e.fixedTS, today, today.AddDays(3), "100.00"), none, "PAGAMENTO_DIVERGENTE_CONSENTIMENTO"},
		{"endToEndId of another date", soon, func(d obj) { d["endToEndId"] = e.e2e(today.AddDays(4)) }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"endToEndId not at 15:00 UTC", soon, func(d obj) {
			d["endToEndId"] = "E87654321" + today.AddDays(3).In(consent.Brasilia).Format("20060102") + "1200" + "abcdefghijk"
		}, "DETALHE_PAGAMENTO_INVALIDO"},
		{"in USD", soon, func(d obj) { d["payment"] = obj{"amount": "100.00", "currency": "USD"} }, "DETALHE_PAGAMENTO_INVALIDO"},
	} {
		ts, d := tt.req(tt.mut)
		_, err := e.call(http.MethodPost, "/pix/recurring-payments", d, ts)
		t.Run(tt.name, func(t *testing.T) { want422(t, err, tt.code) })
	}

	// Accepted: below minimumVariableAmount (not a floor), D+2 and D+10.
	low := e.pay(e.soonTS, e.recurrenceData(today, today.AddDays(2), "10.00"))
	if low.Status != "RCVD" {
		t.Fatalf("payment below the minimum: %+v", low)
	}
	e.pay(e.fixedTS, e.recurrenceData(today, today.AddDays(10), "99.90"))
	// One non-failed original per cycle, and no endToEndId twice.
	_, err := e.call(http.MethodPost, "/pix/recurring-payments", e.recurrenceData(today, today.AddDays(4), "10.00"), e.soonTS)
	want422(t, err, "DETALHE_PAGAMENTO_INVALIDO")
	dup := e.firstPaymentData()
	dup["endToEndId"] = e.payment(low.ID).EndToEndID
	_, err = e.call(http.MethodPost, "/pix/recurring-payments", dup, e.variableTS)
	want422(t, err, "DETALHE_PAGAMENTO_INVALIDO")
	// The first payment once only.
	e.pay(e.variableTS, e.firstPaymentData())
	_, err = e.call(http.MethodPost, "/pix/recurring-payments", e.firstPaymentData(), e.variableTS)
	want422(t, err, "DETALHE_PAGAMENTO_INVALIDO")

	// Consent status: pending multiple approval, then revoked.
	if err := e.b.SetConsentStatus(e.fixed, consent.StatusPartiallyAccepted); err != nil {
		t.Fatal(err)
	}
	_, err = e.call(http.MethodPost, "/pix/recurring-payments", e.recurrenceData(today, today.AddDays(3), "99.90"), e.fixedTS)
	want422(t, err, "CONSENTIMENTO_PENDENTE_AUTORIZACAO")
	if err := e.b.SetConsentStatus(e.fixed, consent.StatusRevoked); err != nil {
		t.Fatal(err)
	}
	_, err = e.call(http.MethodPost, "/pix/recurring-payments", e.recurrenceData(today, today.AddDays(3), "99.90"), e.fixedTS)
	want422(t, err, "CONSENTIMENTO_INVALIDO")

	// Grants: client_credentials cannot create a payment, and a consent's
	// token cannot read another consent's payments.
	_, err = e.call(http.MethodPost, "/pix/recurring-payments", e.firstPaymentData(), e.cc)
	apiError(t, err, http.StatusForbidden)
	_, err = e.call(http.MethodGet, "/pix/recurring-payments/"+low.ID, nil, e.variableTS)
	apiError(t, err, http.StatusForbidden)
	_, err = e.call(http.MethodGet, "/pix/recurring-payments?recurringConsentId="+e.soon, nil, e.variableTS)
	apiError(t, err, http.StatusForbidden)
	e.must(http.StatusOK)(e.call(http.MethodGet, "/pix/recurring-payments/"+low.ID, nil, e.soonTS))
}

// TestPaymentCreationValidations21: the 2.0/2.1 wire form.
func TestPaymentCreationValidations21(t *testing.T) {
	t.Parallel()
	e := newPaymentsEnv(t, "2.1.0")
	today := e.today()
	d := e.recurrenceData(today, today.AddDays(3), "100.00")
	if d["localInstrument"] != "MANU" || d["paymentReference"] != "M03-2026" {
		t.Fatalf("2.1.0 recurrence %v", d)
	}
	for _, tt := range []struct {
		name string
		mut  func(obj)
		code string
	}{
		{"AUTO is not a 2.1.0 instrument", func(d obj) { d["localInstrument"] = "AUTO" }, "PARAMETRO_INVALIDO"},
		{"2.2 reference", func(d obj) { d["paymentReference"] = "R/" + today.String() + "/P1M" }, "PARAMETRO_INVALIDO"},
		{"reference of another month", func(d obj) { d["paymentReference"] = "M06-2026" }, "DETALHE_PAGAMENTO_INVALIDO"},
		{"alphanumeric ISPB", func(d obj) { d["endToEndId"] = "E8765432A" + d["endToEndId"].(string)[9:] }, "PARAMETRO_INVALIDO"},
		{"unknown original", func(d obj) { d["originalRecurringPaymentId"] = "nope" }, "DETALHE_TENTATIVA_INVALIDO"},
	} {
		d := e.recurrenceData(today, today.AddDays(3), "100.00")
		tt.mut(d)
		_, err := e.call(http.MethodPost, "/pix/recurring-payments", d, e.soonTS)
		t.Run(tt.name, func(t *testing.T) { want422(t, err, tt.code) })
	}
	// Consents on 2.1.0: numeric CNPJs only.
	alpha := e.consentData()
	alpha["creditors"] = []any{obj{"personType": "PESSOA_JURIDICA", "cpfCnpj": "12ABC34501DE35", "name": "Alfa Ltda"}}
	_, err := e.call(http.MethodPost, "/recurring-consents", alpha, e.cc)
	want422(t, err, "PARAMETRO_INVALIDO")
	if p := e.pay(e.soonTS, d); p.Reference != "M03-2026" || p.LocalInstrument != "MANU" {
		t.Fatalf("2.1.0 recurrence: %+v", p)
	}
	// No /retry endpoint before 2.2.0.
	_, err = e.call(http.MethodPost, "/pix/recurring-payments/abc/retry", obj{"endToEndId": e.e2e(today), "date": today.String()}, e.cc)
	apiError(t, err, http.StatusNotFound)
}
