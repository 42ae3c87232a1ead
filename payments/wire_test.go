package payments_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
)

func TestParseVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		xv    string
		want  payments.Version
		exact bool
	}{
		{name: "2.2.0", xv: "2.2.0", want: payments.V220, exact: true},
		{name: "2.1.0", xv: "2.1.0", want: payments.V210, exact: true},
		{name: "2.0.0", xv: "2.0.0", want: payments.V200, exact: true},
		{name: "early draft", xv: "2.0.0-beta.1", want: payments.V200Beta1, exact: true},
		{name: "spaces around", xv: " 2.1.0 ", want: payments.V210, exact: true},
		{name: "2.2 patch", xv: "2.2.3", want: payments.V220, exact: true},
		{name: "2.1 patch", xv: "2.1.1", want: payments.V210, exact: true},
		{name: "2.0 patch", xv: "2.0.2", want: payments.V200, exact: true},
		{name: "2.2.0-rc.1", xv: "2.2.0-rc.1", want: payments.V220},
		{name: "2.1.0-rc.1", xv: "2.1.0-rc.1", want: payments.V210},
		{name: "2.0.0-beta.2 has originalRecurringPaymentId", xv: "2.0.0-beta.2", want: payments.V200},
		{name: "2.0.0-rc.1", xv: "2.0.0-rc.1", want: payments.V200},
		{name: "newer minor", xv: "2.3.0", want: payments.V220},
		{name: "major 1", xv: "1.0.0", want: payments.DefaultVersion},
		{name: "major 3", xv: "3.0.0", want: payments.DefaultVersion},
		{name: "empty", xv: "", want: payments.DefaultVersion},
		{name: "garbage", xv: "v2", want: payments.DefaultVersion},
		{name: "two parts", xv: "2.2", want: payments.DefaultVersion},
		{name: "huge minor", xv: "2.99999999999999999999.0", want: payments.DefaultVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, exact := payments.ParseVersion(tt.xv)
			require.Equal(t, tt.want, v)
			require.Equal(t, tt.exact, exact)
			require.True(t, v.Known())
		})
	}
}

func TestVersionTraits(t *testing.T) {
	t.Parallel()
	first := payments.FirstPaymentReference()
	rec := cycleRef(consent.IntervalMensal, cycleStart)
	tests := []struct {
		name                        string
		v                           payments.Version
		retryEndpoint, alnum        bool
		style                       payments.ReferenceStyle
		firstInstrument, recurrence payments.LocalInstrument
	}{
		{name: "2.2.0", v: payments.V220, retryEndpoint: true, alnum: true, style: payments.ReferenceISO,
			firstInstrument: payments.InstrumentMANU, recurrence: payments.InstrumentAUTO},
		{name: "2.1.0", v: payments.V210, style: payments.ReferenceLegacy,
			firstInstrument: payments.InstrumentMANU, recurrence: payments.InstrumentMANU},
		{name: "2.0.0", v: payments.V200, style: payments.ReferenceLegacy,
			firstInstrument: payments.InstrumentMANU, recurrence: payments.InstrumentMANU},
		{name: "2.0.0-beta.1", v: payments.V200Beta1, style: payments.ReferenceNone,
			firstInstrument: payments.InstrumentMANU, recurrence: payments.InstrumentMANU},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.retryEndpoint, tt.v.HasRetryEndpoint())
			require.Equal(t, tt.alnum, tt.v.AlphanumericIDs())
			require.Equal(t, tt.style, tt.v.ReferenceStyle())
			require.Equal(t, tt.firstInstrument, payments.InstrumentFor(tt.v, first))
			require.Equal(t, tt.recurrence, payments.InstrumentFor(tt.v, rec))
		})
	}
	require.False(t, payments.Version("9.9.9").Known())
}

// encodeFixture is a recurrence with every optional field set.
func encodeFixture() *payments.Request {
	r := recurrence(cycleStart, payDay)
	r.RemittanceInformation = "Mensalidade agosto"
	r.IBGETownCode = "3550308"
	return r
}

const createBody220 = `{
	"endToEndId": "E12345678202508251500abcdefghijk",
	"date": "2025-08-25",
	"payment": {"amount": "150.00", "currency": "BRL"},
	"creditorAccount": {"ispb": "87654321", "issuer": "0001", "number": "1234567890", "accountType": "CACC"},
	"remittanceInformation": "Mensalidade agosto",
	"cnpjInitiator": "50685362000135",
	"ibgeTownCode": "3550308",
	"localInstrument": "AUTO",
	"document": {"identification": "11222333000181", "rel": "CNPJ"},
	"paymentReference": "R/2025-08-23/P1M"
}`

func TestEncodeCreate(t *testing.T) {
	t.Parallel()
	legacy := strings.NewReplacer(`"AUTO"`, `"MANU"`, `"R/2025-08-23/P1M"`, `"M08-2025"`).Replace(createBody220)
	beta := strings.NewReplacer(`"AUTO"`, `"MANU"`, `,
	"paymentReference": "R/2025-08-23/P1M"`, ``).Replace(createBody220)
	tests := []struct {
		name string
		v    payments.Version
		req  func(*payments.Request)
		want string
	}{
		{name: "2.2.0 recurrence", v: payments.V220, want: createBody220},
		{name: "2.1.0 recurrence", v: payments.V210, want: legacy},
		{name: "2.0.0 recurrence", v: payments.V200, want: legacy},
		{name: "early draft recurrence", v: payments.V200Beta1, want: beta},
		{name: "2.2.0 first payment is MANU and zero", v: payments.V220,
			req:  func(r *payments.Request) { r.Reference = payments.FirstPaymentReference() },
			want: strings.NewReplacer(`"AUTO"`, `"MANU"`, `"R/2025-08-23/P1M"`, `"zero"`).Replace(createBody220)},
		{name: "hybrid flow is omitted", v: payments.V220,
			req: func(r *payments.Request) { r.AuthorisationFlow = payments.FlowHybrid }, want: createBody220},
		{name: "FIDO flow carries the consent id", v: payments.V220,
			req:  func(r *payments.Request) { r.AuthorisationFlow, r.ConsentID = payments.FlowFIDO, consentID },
			want: strings.Replace(createBody220, `"date"`, `"authorisationFlow": "FIDO_FLOW", "recurringConsentId": "`+consentID+`", "date"`, 1)},
		{name: "ibgeTownCode of the account is never sent", v: payments.V220,
			req: func(r *payments.Request) { r.CreditorAccount.IBGETownCode = "1234567" }, want: createBody220},
		{name: "TRAN without issuer", v: payments.V220,
			req: func(r *payments.Request) {
				r.CreditorAccount.Issuer, r.CreditorAccount.AccountType = "", consent.AccountTRAN
			},
			want: strings.Replace(createBody220, `"issuer": "0001", "number": "1234567890", "accountType": "CACC"`,
				`"number": "1234567890", "accountType": "TRAN"`, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := encodeFixture()
			if tt.req != nil {
				tt.req(r)
			}
			call, err := payments.EncodeCreate(tt.v, r)
			require.NoError(t, err)
			require.Equal(t, http.MethodPost, call.Method)
			require.Equal(t, "/pix/recurring-payments", call.Path)
			require.Equal(t, "automaticPaymentsPostPixRecurringPayments", call.OperationID)
			require.JSONEq(t, tt.want, string(call.Body))
			require.NotContains(t, string(call.Body), "originalRecurringPaymentId")
			require.NotContains(t, string(call.Body), "proxy")
			require.NotContains(t, string(call.Body), "transactionIdentification")
		})
	}
}

func TestEncodeCreateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    payments.Version
		req  *payments.Request
		is   error
	}{
		{name: "nil request", v: payments.V220},
		{name: "unknown version", v: "3.0.0", req: encodeFixture()},
		{name: "legacy reference to 2.2.0", v: payments.V220, is: payments.ErrInvalidPaymentReference,
			req: func() *payments.Request {
				r := encodeFixture()
				r.Reference = legacyRef(consent.IntervalMensal, 2025, 8)
				return r
			}()},
		{name: "zero date", v: payments.V220, req: func() *payments.Request {
			r := encodeFixture()
			r.Date = consent.Date{}
			return r
		}()},
		{name: "negative amount", v: payments.V220, req: func() *payments.Request {
			r := encodeFixture()
			r.Amount = -5
			return r
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := payments.EncodeCreate(tt.v, tt.req)
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), "payments: ") || strings.Contains(err.Error(), "payments: "), err.Error())
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
		})
	}
}

func retryFixture() *payments.Retry {
	d := payDay.AddDays(1)
	return &payments.Retry{
		OriginalID:       "TXpRMU9UQTROMWhZV2xSU1FUazJSMDl",
		EndToEndID:       scheduledE2E(d, "retry000001"),
		Date:             d,
		Original:         encodeFixture(),
		FailedAttemptIDs: []string{"TXpRMU9UQTROMWhZV2xSU1FUazJSMDl"},
	}
}

func TestEncodeRetry(t *testing.T) {
	t.Parallel()
	copyOf := func(ref, extra string) string {
		body := strings.NewReplacer(
			`"E12345678202508251500abcdefghijk"`, `"E12345678202508261500retry000001"`,
			`"2025-08-25"`, `"2025-08-26"`,
			`"AUTO"`, `"MANU"`,
		).Replace(createBody220)
		if ref == "" {
			body = strings.Replace(body, `,
	"paymentReference": "R/2025-08-23/P1M"`, "", 1)
		} else {
			body = strings.Replace(body, `"R/2025-08-23/P1M"`, ref, 1)
		}
		return strings.Replace(body, `"date"`, extra+`, "date"`, 1)
	}
	tests := []struct {
		name       string
		v          payments.Version
		path, op   string
		want       string
		mutate     func(*payments.Retry)
		notContain string
	}{
		{name: "2.2.0 uses the retry endpoint", v: payments.V220,
			path: "/pix/recurring-payments/TXpRMU9UQTROMWhZV2xSU1FUazJSMDl/retry", op: "automaticPaymentsPostPixRecurringPaymentsRetry",
			want: `{"endToEndId": "E12345678202508261500retry000001", "date": "2025-08-26"}`},
		{name: "2.2.0 needs no original request", v: payments.V220,
			mutate: func(rt *payments.Retry) { rt.Original = nil },
			path:   "/pix/recurring-payments/TXpRMU9UQTROMWhZV2xSU1FUazJSMDl/retry", op: "automaticPaymentsPostPixRecurringPaymentsRetry",
			want: `{"endToEndId": "E12345678202508261500retry000001", "date": "2025-08-26"}`},
		{name: "2.1.0 copies the original", v: payments.V210,
			path: "/pix/recurring-payments", op: "automaticPaymentsPostPixRecurringPayments",
			want:       copyOf(`"M08-2025"`, `"originalRecurringPaymentId": "TXpRMU9UQTROMWhZV2xSU1FUazJSMDl"`),
			notContain: "lastRetryRecurringPaymentIds"},
		{name: "2.0.0 copies the original", v: payments.V200,
			path: "/pix/recurring-payments", op: "automaticPaymentsPostPixRecurringPayments",
			want: copyOf(`"M08-2025"`, `"originalRecurringPaymentId": "TXpRMU9UQTROMWhZV2xSU1FUazJSMDl"`)},
		{name: "early draft lists the failed attempts", v: payments.V200Beta1,
			mutate: func(rt *payments.Retry) { rt.FailedAttemptIDs = []string{"a1", "a2"} },
			path:   "/pix/recurring-payments", op: "automaticPaymentsPostPixRecurringPayments",
			want:       copyOf("", `"lastRetryRecurringPaymentIds": ["a1", "a2"]`),
			notContain: "originalRecurringPaymentId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rt := retryFixture()
			if tt.mutate != nil {
				tt.mutate(rt)
			}
			call, err := payments.EncodeRetry(tt.v, rt)
			require.NoError(t, err)
			require.Equal(t, http.MethodPost, call.Method)
			require.Equal(t, tt.path, call.Path)
			require.Equal(t, tt.op, call.OperationID)
			require.JSONEq(t, tt.want, string(call.Body))
			if tt.notContain != "" {
				require.NotContains(t, string(call.Body), tt.notContain)
			}
		})
	}
	t.Run("the original request is not modified", func(t *testing.T) {
		t.Parallel()
		rt := retryFixture()
		_, err := payments.EncodeRetry(payments.V210, rt)
		require.NoError(t, err)
		require.Equal(t, encodeFixture(), rt.Original)
	})
}

func TestEncodeRetryErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		v      payments.Version
		mutate func(*payments.Retry)
		nilRt  bool
		is     error
	}{
		{name: "nil retry", v: payments.V220, nilRt: true},
		{name: "unknown version", v: "", mutate: func(*payments.Retry) {}},
		{name: "path id with a slash", v: payments.V220, is: payments.ErrInvalidFormat,
			mutate: func(rt *payments.Retry) { rt.OriginalID = "../consents" }},
		{name: "empty original id", v: payments.V220, is: payments.ErrInvalidFormat,
			mutate: func(rt *payments.Retry) { rt.OriginalID = "" }},
		{name: "2.1.0 without the original", v: payments.V210, is: payments.ErrMissing,
			mutate: func(rt *payments.Retry) { rt.Original = nil }},
		{name: "2.1.0 with a malformed original id", v: payments.V210, is: payments.ErrInvalidFormat,
			mutate: func(rt *payments.Retry) { rt.OriginalID = "-x" }},
		{name: "early draft without failed attempts", v: payments.V200Beta1, is: payments.ErrInvalidFormat,
			mutate: func(rt *payments.Retry) { rt.FailedAttemptIDs = nil }},
		{name: "early draft with five failed attempts", v: payments.V200Beta1, is: payments.ErrInvalidFormat,
			mutate: func(rt *payments.Retry) { rt.FailedAttemptIDs = []string{"a", "b", "c", "d", "e"} }},
		{name: "2.1.0 with a reference it cannot write", v: payments.V210, is: payments.ErrInvalidPaymentReference,
			mutate: func(rt *payments.Retry) { rt.Original.Reference = cycleRef("DIARIO", cycleStart) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var rt *payments.Retry
			if !tt.nilRt {
				rt = retryFixture()
				tt.mutate(rt)
			}
			_, err := payments.EncodeRetry(tt.v, rt)
			require.Error(t, err)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
		})
	}
}

func TestEncodeCancel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		v       payments.Version
		id      string
		doc     consent.Document
		want    string
		path    string
		wantErr error
	}{
		{name: "payer CPF", v: payments.V220, id: "pay-123", doc: consent.DocumentFor("12345678901"),
			path: "/pix/recurring-payments/pay-123",
			want: `{"status":"CANC","cancellation":{"cancelledBy":{"document":{"identification":"12345678901","rel":"CPF"}}}}`},
		{name: "receiver CNPJ, rel inferred", v: payments.V210, id: "pay-123", doc: consent.Document{Identification: creditorCNPJ},
			path: "/pix/recurring-payments/pay-123",
			want: `{"status":"CANC","cancellation":{"cancelledBy":{"document":{"identification":"11222333000181","rel":"CNPJ"}}}}`},
		{name: "alphanumeric CNPJ on 2.2.0", v: payments.V220, id: "p", doc: consent.DocumentFor("AB12CD34000195"),
			path: "/pix/recurring-payments/p",
			want: `{"status":"CANC","cancellation":{"cancelledBy":{"document":{"identification":"AB12CD34000195","rel":"CNPJ"}}}}`},
		{name: "alphanumeric CNPJ on 2.1.0", v: payments.V210, id: "p", doc: consent.DocumentFor("AB12CD34000195"),
			wantErr: payments.ErrInvalidFormat},
		{name: "CPF with CNPJ rel", v: payments.V220, id: "p", doc: consent.Document{Identification: "12345678901", Rel: consent.RelCNPJ},
			wantErr: payments.ErrInvalidFormat},
		{name: "empty document", v: payments.V220, id: "p", wantErr: payments.ErrInvalidFormat},
		{name: "bad payment id", v: payments.V220, id: "a/b", doc: consent.DocumentFor("12345678901"),
			wantErr: payments.ErrInvalidFormat},
		{name: "101-character id", v: payments.V220, id: strings.Repeat("a", 101), doc: consent.DocumentFor("12345678901"),
			wantErr: payments.ErrInvalidFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			call, err := payments.EncodeCancel(tt.v, tt.id, tt.doc)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, http.MethodPatch, call.Method)
			require.Equal(t, tt.path, call.Path)
			require.Equal(t, "automaticPaymentsPatchPixRecurringPaymentsPaymentId", call.OperationID)
			require.JSONEq(t, tt.want, string(call.Body))
		})
	}
	_, err := payments.EncodeCancel("1.0.0", "p", consent.DocumentFor("12345678901"))
	require.Error(t, err)
}

// Response data objects, as the spec's schemas describe them.
const (
	postResponse220 = `{
		"recurringPaymentId": "TXpRMU9UQTROMWhZV2xSU1FUazJSMDl",
		"recurringConsentId": "urn:bancoex:C1DD33123",
		"endToEndId": "E12345678202508251500abcdefghijk",
		"date": "2025-08-25",
		"creationDateTime": "2025-08-18T13:00:00Z",
		"statusUpdateDateTime": "2025-08-18T13:00:01Z",
		"status": "RCVD",
		"cnpjInitiator": "50685362000135",
		"payment": {"amount": "150.00", "currency": "BRL"},
		"remittanceInformation": "Mensalidade agosto",
		"creditorAccount": {"ispb": "87654321", "issuer": "0001", "number": "1234567890", "accountType": "CACC"},
		"debtorAccount": {"ispb": "11111111", "issuer": "0002", "number": "998877", "accountType": "SVGS"},
		"localInstrument": "AUTO",
		"document": {"identification": "11222333000181", "rel": "CNPJ"},
		"paymentReference": "R/2025-08-23/P1M"
	}`
	getRejected = `{
		"recurringPaymentId": "r1",
		"endToEndId": "E12345678202508261500retry000001",
		"date": "2025-08-26",
		"creationDateTime": "2025-08-25T23:00:00Z",
		"statusUpdateDateTime": "2025-08-26T22:00:00Z",
		"status": "RJCT",
		"rejectionReason": {"code": "SALDO_INSUFICIENTE", "detail": "Saldo insuficiente"},
		"cnpjInitiator": "50685362000135",
		"payment": {"amount": "150.00", "currency": "BRL"},
		"creditorAccount": {"ispb": "87654321", "issuer": "0001", "number": "1234567890", "accountType": "CACC"},
		"authorisationFlow": "HYBRID_FLOW",
		"localInstrument": "AUTO",
		"document": {"identification": "11222333000181", "rel": "CNPJ"},
		"originalRecurringPaymentId": "TXpRMU9UQTROMWhZV2xSU1FUazJSMDl",
		"paymentReference": "R/2025-08-23/P1M"
	}`
	patchCancelled = `{
		"recurringPaymentId": "p2",
		"endToEndId": "E12345678202509231500abcdefghijk",
		"date": "2025-09-23",
		"creationDateTime": "2025-09-15T13:00:00Z",
		"statusUpdateDateTime": "2025-09-20T13:00:00Z",
		"status": "CANC",
		"cnpjInitiator": "50685362000135",
		"payment": {"amount": "150.00", "currency": "BRL"},
		"creditorAccount": {"ispb": "87654321", "issuer": "0001", "number": "1234567890", "accountType": "CACC"},
		"cancellation": {
			"reason": "CANCELADO_AGENDAMENTO",
			"cancelledFrom": "INICIADORA",
			"cancelledAt": "2025-09-20T13:00:00Z",
			"cancelledBy": {"document": {"identification": "12345678901", "rel": "CPF"}}
		},
		"localInstrument": "AUTO",
		"document": {"identification": "11222333000181", "rel": "CNPJ"},
		"paymentReference": "R/2025-09-23/P1M"
	}`
	retryResponse220 = `{
		"recurringPaymentId": "r1",
		"endToEndId": "E12345678202508261500retry000001",
		"date": "2025-08-26",
		"status": "SCHD",
		"originalRecurringPaymentId": "TXpRMU9UQTROMWhZV2xSU1FUazJSMDl"
	}`
	listResponse = `[
		{
			"recurringPaymentId": "TXpRMU9UQTROMWhZV2xSU1FUazJSMDl",
			"recurringConsentId": "urn:bancoex:C1DD33123",
			"endToEndId": "E12345678202508251500abcdefghijk",
			"date": "2025-08-25",
			"creationDateTime": "2025-08-18T13:00:00Z",
			"statusUpdateDateTime": "2025-08-25T22:00:00Z",
			"status": "RJCT",
			"rejectionReason": {"code": "CODIGO_DO_FUTURO", "detail": "?"},
			"payment": {"amount": "150.00", "currency": "BRL"},
			"document": {"identification": "11222333000181", "rel": "CNPJ"},
			"paymentReference": "M08-2025"
		},
		{
			"recurringPaymentId": "r1",
			"endToEndId": "E12345678202508261500retry000001",
			"date": "2025-08-26",
			"creationDateTime": "2025-08-25T23:00:00Z",
			"statusUpdateDateTime": "2025-08-26T10:00:00Z",
			"status": "SCHD",
			"payment": {"amount": "150.00", "currency": "BRL"},
			"document": {"identification": "11222333000181", "rel": "CNPJ"},
			"originalRecurringPaymentId": "TXpRMU9UQTROMWhZV2xSU1FUazJSMDl",
			"paymentReference": "M08-2025",
			"someFutureField": {"x": 1}
		}
	]`
)

func dt(s string) consent.DateTime {
	v, err := consent.ParseDateTime(s)
	if err != nil {
		panic(err)
	}
	return v
}

func TestDecodePayment(t *testing.T) {
	t.Parallel()
	acct := creditorAccount()
	tests := []struct {
		name string
		data string
		want payments.Payment
	}{
		{name: "POST 201", data: postResponse220, want: payments.Payment{
			ID: "TXpRMU9UQTROMWhZV2xSU1FUazJSMDl", ConsentID: consentID,
			EndToEndID: "E12345678202508251500abcdefghijk", Date: payDay, Status: payments.StatusRCVD,
			Amount: amount("150.00"), Currency: "BRL", CNPJInitiator: itpCNPJ, CreditorAccount: &acct,
			DebtorAccount: &consent.Account{ISPB: "11111111", Issuer: "0002", Number: "998877", AccountType: consent.AccountSVGS},
			Document:      consent.DocumentFor(creditorCNPJ), LocalInstrument: payments.InstrumentAUTO,
			RemittanceInformation: "Mensalidade agosto", PaymentReference: "R/2025-08-23/P1M",
			CreationDateTime: dt("2025-08-18T13:00:00Z"), StatusUpdateDateTime: dt("2025-08-18T13:00:01Z"),
		}},
		{name: "GET rejected retry", data: getRejected, want: payments.Payment{
			ID: "r1", EndToEndID: "E12345678202508261500retry000001", Date: payDay.AddDays(1), Status: payments.StatusRJCT,
			RejectionReason: &payments.RejectionReason{Code: payments.RejectionSaldoInsuficiente, Detail: "Saldo insuficiente"},
			Amount:          amount("150.00"), Currency: "BRL", CNPJInitiator: itpCNPJ, CreditorAccount: &acct,
			AuthorisationFlow: payments.FlowHybrid, LocalInstrument: payments.InstrumentAUTO,
			Document: consent.DocumentFor(creditorCNPJ), OriginalRecurringPaymentID: "TXpRMU9UQTROMWhZV2xSU1FUazJSMDl",
			PaymentReference: "R/2025-08-23/P1M",
			CreationDateTime: dt("2025-08-25T23:00:00Z"), StatusUpdateDateTime: dt("2025-08-26T22:00:00Z"),
		}},
		{name: "PATCH 200 cancelled", data: patchCancelled, want: payments.Payment{
			ID: "p2", EndToEndID: "E12345678202509231500abcdefghijk", Date: date(2025, 9, 23), Status: payments.StatusCANC,
			Amount: amount("150.00"), Currency: "BRL", CNPJInitiator: itpCNPJ, CreditorAccount: &acct,
			Cancellation: &payments.Cancellation{
				Reason: payments.CancelledScheduled, CancelledFrom: consent.FromIniciadora,
				CancelledAt: dt("2025-09-20T13:00:00Z"), CancelledBy: consent.DocumentFor("12345678901"),
			},
			LocalInstrument: payments.InstrumentAUTO, Document: consent.DocumentFor(creditorCNPJ),
			PaymentReference: "R/2025-09-23/P1M",
			CreationDateTime: dt("2025-09-15T13:00:00Z"), StatusUpdateDateTime: dt("2025-09-20T13:00:00Z"),
		}},
		{name: "2.2.0 retry 201 has five fields", data: retryResponse220, want: payments.Payment{
			ID: "r1", EndToEndID: "E12345678202508261500retry000001", Date: payDay.AddDays(1), Status: payments.StatusSCHD,
			OriginalRecurringPaymentID: "TXpRMU9UQTROMWhZV2xSU1FUazJSMDl",
		}},
		{name: "early draft lists previous attempts", data: `{"recurringPaymentId":"x","status":"RJCT","lastRetryRecurringPaymentIds":["a","b"]}`,
			want: payments.Payment{ID: "x", Status: payments.StatusRJCT, LastRetryRecurringPaymentIDs: []string{"a", "b"}}},
		{name: "unknown status and code are kept", data: `{"recurringPaymentId":"x","status":"HOLD","rejectionReason":{"code":"NOVO"}}`,
			want: payments.Payment{ID: "x", Status: "HOLD", RejectionReason: &payments.RejectionReason{Code: "NOVO"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := payments.DecodePayment([]byte(tt.data))
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestDecodePaymentErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data string
		is   error
	}{
		{name: "no id", data: `{"status":"SCHD"}`, is: payments.ErrMissing},
		{name: "not JSON", data: `{`},
		{name: "array", data: `[]`},
		{name: "amount as a number", data: `{"recurringPaymentId":"x","payment":{"amount":150.0,"currency":"BRL"}}`, is: consent.ErrInvalidValue},
		{name: "impossible date", data: `{"recurringPaymentId":"x","date":"2025-02-30"}`, is: consent.ErrInvalidValue},
		{name: "date-time with offset", data: `{"recurringPaymentId":"x","creationDateTime":"2025-08-18T13:00:00-03:00"}`, is: consent.ErrInvalidValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := payments.DecodePayment([]byte(tt.data))
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), "payments: "), err.Error())
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
		})
	}
}

func TestDecodePayments(t *testing.T) {
	t.Parallel()
	ps, err := payments.DecodePayments([]byte(listResponse))
	require.NoError(t, err)
	require.Len(t, ps, 2)
	require.Equal(t, payments.RejectionCode("CODIGO_DO_FUTURO"), ps[0].RejectionCode())
	require.False(t, ps[0].RejectionCode().Known())
	require.Nil(t, ps[0].CreditorAccount, "list items have no creditorAccount")
	require.Empty(t, ps[0].CNPJInitiator)
	require.Empty(t, ps[0].LocalInstrument)
	require.True(t, ps[1].IsRetry())
	require.Equal(t, payments.RejectionCode(""), ps[1].RejectionCode())

	ch, err := payments.ChainFromPayments(ps[0].ID, ps)
	require.NoError(t, err)
	require.Len(t, ch.Attempts, 2)
	_, taken := payments.CycleTaken(ps, consentID, cycleRef(consent.IntervalMensal, cycleStart))
	require.False(t, taken, "the original was rejected; its retry does not occupy the cycle")

	empty, err := payments.DecodePayments([]byte(`[]`))
	require.NoError(t, err)
	require.Empty(t, empty)
	_, err = payments.DecodePayments([]byte(`[{"status":"SCHD"}]`))
	require.ErrorIs(t, err, payments.ErrMissing)
	_, err = payments.DecodePayments([]byte(`{}`))
	require.Error(t, err)
}

func TestListFilterQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    payments.ListFilter
		want url.Values
		errs []failure
	}{
		{name: "consent only", f: payments.ListFilter{ConsentID: consentID},
			want: url.Values{"recurringConsentId": {consentID}}},
		{name: "all parameters", f: payments.ListFilter{ConsentID: consentID, StartDate: date(2025, 8, 1), EndDate: date(2025, 8, 31), OriginalID: "orig-1"},
			want: url.Values{"recurringConsentId": {consentID}, "startDate": {"2025-08-01"}, "endDate": {"2025-08-31"},
				"originalRecurringPaymentId": {"orig-1"}}},
		{name: "same start and end", f: payments.ListFilter{ConsentID: consentID, StartDate: date(2025, 8, 1), EndDate: date(2025, 8, 1)},
			want: url.Values{"recurringConsentId": {consentID}, "startDate": {"2025-08-01"}, "endDate": {"2025-08-01"}}},
		{name: "open end", f: payments.ListFilter{ConsentID: consentID, StartDate: date(2025, 8, 1)},
			want: url.Values{"recurringConsentId": {consentID}, "startDate": {"2025-08-01"}}},
		{name: "no consent", f: payments.ListFilter{},
			errs: []failure{{67, "recurringConsentId", payments.ErrMissing}}},
		{name: "consent id not a URN", f: payments.ListFilter{ConsentID: "C1DD33123"},
			errs: []failure{{67, "recurringConsentId", payments.ErrInvalidFormat}}},
		{name: "start after end", f: payments.ListFilter{ConsentID: consentID, StartDate: date(2025, 8, 2), EndDate: date(2025, 8, 1)},
			errs: []failure{{67, "startDate", payments.ErrDateRange}}},
		{name: "everything wrong", f: payments.ListFilter{StartDate: consent.Date{Year: 2025, Month: 2, Day: 30},
			EndDate: consent.Date{Year: 12025, Month: 1, Day: 1}, OriginalID: "a b"},
			errs: []failure{{67, "recurringConsentId", payments.ErrMissing}, {67, "startDate", payments.ErrInvalidFormat},
				{67, "endDate", payments.ErrInvalidFormat}, {67, "originalRecurringPaymentId", payments.ErrInvalidFormat}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q, err := tt.f.Query()
			if tt.errs != nil {
				requireFailures(t, err, tt.errs)
				require.Nil(t, q)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, q)
		})
	}
}

// TestRoundTrip encodes a request, lets a fake holder echo it as a POST 201
// response, and decodes it back.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, v := range []payments.Version{payments.V220, payments.V210} {
		t.Run(string(v), func(t *testing.T) {
			t.Parallel()
			r := encodeFixture()
			call, err := payments.EncodeCreate(v, r)
			require.NoError(t, err)
			var m map[string]any
			require.NoError(t, json.Unmarshal(call.Body, &m))
			m["recurringPaymentId"] = "p1"
			m["status"] = "SCHD"
			m["creationDateTime"] = "2025-08-18T13:00:00Z"
			m["statusUpdateDateTime"] = "2025-08-18T13:00:00Z"
			resp, err := json.Marshal(m)
			require.NoError(t, err)
			p, err := payments.DecodePayment(resp)
			require.NoError(t, err)
			require.Equal(t, r.EndToEndID, p.EndToEndID)
			require.Equal(t, r.Date, p.Date)
			require.Equal(t, r.Amount, p.Amount)
			require.Equal(t, &r.CreditorAccount, p.CreditorAccount)
			require.Equal(t, r.Document, p.Document)
			require.True(t, r.Reference.SameCycle(p.PaymentReference))
			require.Equal(t, payments.InstrumentFor(v, r.Reference), p.LocalInstrument)
			require.Equal(t, time.Date(2025, 8, 18, 13, 0, 0, 0, time.UTC), p.CreationDateTime.Time)
		})
	}
}
