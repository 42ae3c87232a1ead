package payments_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/internal/spectest"
	"github.com/ofb-go/pixauto/payments"
)

// wrapData returns {"data": body}.
func wrapData(t *testing.T, body json.RawMessage) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]json.RawMessage{"data": body})
	require.NoError(t, err)
	return b
}

// specCase is a request that passes the validator for its consent at now;
// its body is then validated against the official schema.
type specCase struct {
	req     *payments.Request
	consent *consent.Consent
	now     time.Time
}

// specRequests are the requests whose bodies are validated against the
// official schemas: a recurrence of every interval, the first payment, the
// optional fields, and an account without issuer.
func specRequests() map[string]specCase {
	out := map[string]specCase{}
	for _, interval := range allIntervals {
		r := encodeFixture()
		r.Reference = cycleRef(interval, date(2025, 7, 23)) // cycle 0 of every interval
		out["recurrence "+string(interval)] = specCase{r, newConsent(withInterval(interval)), createNow}
	}
	fp := firstPayment(date(2025, 7, 18), "E12345678"+"202507190130"+"imm00000001")
	fpConsent := newConsent()
	fpConsent.Automatic().FirstPayment.Date = fp.Date // the first payment carries the declared date
	out["first payment"] = specCase{fp, fpConsent, brt(2025, 7, 18, 22, 30, 0)}

	fido := encodeFixture()
	fido.AuthorisationFlow, fido.ConsentID = payments.FlowFIDO, consentID
	out["FIDO flow"] = specCase{fido, newConsent(), createNow}

	ciba := encodeFixture()
	ciba.AuthorisationFlow = payments.FlowCIBA
	out["CIBA flow"] = specCase{ciba, newConsent(), createNow}

	tran := encodeFixture()
	tran.CreditorAccount = consent.Account{ISPB: "87654321", Number: "42", AccountType: consent.AccountTRAN}
	tran.RemittanceInformation, tran.IBGETownCode = "", ""
	out["TRAN account, no optional fields"] = specCase{tran, newConsent(), createNow}
	return out
}

// TestCreateBodiesMatchSpec validates every create body, on 2.2.0 and
// 2.1.0, against CreateRecurringPixPayment.
func TestCreateBodiesMatchSpec(t *testing.T) {
	t.Parallel()
	for _, v := range []payments.Version{payments.V220, payments.V210} {
		for name, sc := range specRequests() {
			t.Run(string(v)+"/"+name, func(t *testing.T) {
				t.Parallel()
				require.NoError(t, (&payments.Validator{Version: v}).ValidateCreate(sc.req, sc.consent, nil, sc.now))
				call, err := payments.EncodeCreate(v, sc.req)
				require.NoError(t, err)
				spectest.ValidateSchema(t, string(v), "CreateRecurringPixPayment", wrapData(t, call.Body))
			})
		}
	}
}

// TestAlphanumericBodiesMatchSpec validates 2.2.0 bodies with an
// alphanumeric CNPJ and ISPB, and checks that 2.1.0 rejects them.
func TestAlphanumericBodiesMatchSpec(t *testing.T) {
	t.Parallel()
	r := encodeFixture()
	r.Document = consent.DocumentFor("AB12CD34000195")
	r.CNPJInitiator = "ZX98YW76000110"
	r.CreditorAccount.ISPB = "AB12CD34"
	r.EndToEndID = "EAB12CD34" + r.EndToEndID[9:]
	for _, v := range []payments.Version{payments.V220, payments.V210} {
		call, err := payments.EncodeCreate(v, r)
		require.NoError(t, err)
		err = spectest.CheckSchema(t, string(v), "CreateRecurringPixPayment", wrapData(t, call.Body))
		if v == payments.V220 {
			require.NoError(t, err)
		} else {
			require.Error(t, err, "2.1.0 has numeric identifiers only")
			require.Error(t, (&payments.Validator{Version: v}).ValidateCreate(r, nil, nil, createNow),
				"the validator catches it before the holder does")
		}
	}
}

// TestRetryBodiesMatchSpec validates retries: the 2.2.0 /retry body
// against CreateRecurringRetryPixPayment, and the 2.1.0 copy of the original
// against CreateRecurringPixPayment.
func TestRetryBodiesMatchSpec(t *testing.T) {
	t.Parallel()
	t.Run("2.2.0", func(t *testing.T) {
		t.Parallel()
		call, err := payments.EncodeRetry(payments.V220, retryFixture())
		require.NoError(t, err)
		spectest.ValidateSchema(t, "2.2.0", "CreateRecurringRetryPixPayment", wrapData(t, call.Body))
		err = spectest.CheckSchema(t, "2.2.0", "CreateRecurringPixPayment", wrapData(t, call.Body))
		require.Error(t, err, "the /retry body is not a create body")
	})
	t.Run("2.1.0", func(t *testing.T) {
		t.Parallel()
		for name, sc := range specRequests() {
			rt := retryFixture()
			rt.Original = sc.req
			call, err := payments.EncodeRetry(payments.V210, rt)
			require.NoError(t, err, name)
			spectest.ValidateSchema(t, "2.1.0", "CreateRecurringPixPayment", wrapData(t, call.Body))
		}
	})
	t.Run("2.1.0 retry carries originalRecurringPaymentId", func(t *testing.T) {
		t.Parallel()
		// The schemas allow additional properties, so schema validation
		// alone cannot show which version carries which field; check it.
		var m map[string]any
		call, err := payments.EncodeRetry(payments.V210, retryFixture())
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(call.Body, &m))
		require.Equal(t, "TXpRMU9UQTROMWhZV2xSU1FUazJSMDl", m["originalRecurringPaymentId"])
	})
}

// TestCancelBodiesMatchSpec validates PATCH bodies against PatchPixPayment.
func TestCancelBodiesMatchSpec(t *testing.T) {
	t.Parallel()
	docs := map[string]consent.Document{
		"payer CPF":     consent.DocumentFor("12345678901"),
		"receiver CNPJ": consent.DocumentFor(creditorCNPJ),
	}
	for _, v := range []payments.Version{payments.V220, payments.V210} {
		for name, d := range docs {
			t.Run(string(v)+"/"+name, func(t *testing.T) {
				t.Parallel()
				call, err := payments.EncodeCancel(v, "pay-123", d)
				require.NoError(t, err)
				spectest.ValidateSchema(t, string(v), "PatchPixPayment", wrapData(t, call.Body))
			})
		}
	}
	t.Run("2.2.0/alphanumeric CNPJ", func(t *testing.T) {
		t.Parallel()
		call, err := payments.EncodeCancel(payments.V220, "pay-123", consent.DocumentFor("AB12CD34000195"))
		require.NoError(t, err)
		spectest.ValidateSchema(t, "2.2.0", "PatchPixPayment", wrapData(t, call.Body))
	})
}

// TestResponseFixturesMatchSpec makes sure the decoder's fixtures are real
// responses, by validating them against the response schemas.
func TestResponseFixturesMatchSpec(t *testing.T) {
	t.Parallel()
	envelope := func(data string) []byte {
		return []byte(`{"data":` + data + `,"links":{"self":"https://api.banco.com.br/open-banking/automatic-payments/v2/pix/recurring-payments"},` +
			`"meta":{"requestDateTime":"2025-08-18T13:00:00Z"}}`)
	}
	tests := []struct {
		name, schema, data string
	}{
		{name: "POST 201", schema: "ResponseRecurringPaymentsIdPost", data: postResponse220},
		{name: "GET rejected retry", schema: "ResponseRecurringPaymentsIdRead", data: getRejected},
		{name: "PATCH 200 cancelled", schema: "ResponseRecurringPaymentsIdPatch", data: patchCancelled},
		{name: "retry 201", schema: "ResponseRecurringRetryPaymentsIdPost", data: retryResponse220},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spectest.ValidateSchema(t, "2.2.0", tt.schema, envelope(tt.data))
		})
	}
	t.Run("list with an unknown code fails the schema but decodes", func(t *testing.T) {
		t.Parallel()
		err := spectest.CheckSchema(t, "2.2.0", "ResponseRecurringPixPayment", envelope(listResponse))
		require.Error(t, err)
		_, err = payments.DecodePayments([]byte(listResponse))
		require.NoError(t, err)
	})
}

// TestRejectionEnumFromSpec reads EnumRejectionReasonCode of each version
// and checks that every code is known: the 21 of 2.2.0 and the 22 of 2.1.0.
func TestRejectionEnumFromSpec(t *testing.T) {
	t.Parallel()
	for v, n := range map[string]int{"2.2.0": 21, "2.1.0": 22} {
		doc := spectest.Load(t, spectest.AutomaticPayments, v)
		for _, schema := range []string{"EnumRejectionReasonCode", "EnumRejectionReasonCodeGet"} {
			enum := doc.Components.Schemas[schema].Value.Enum
			require.Len(t, enum, n, "%s %s", v, schema)
			for _, c := range enum {
				require.True(t, payments.RejectionCode(c.(string)).Known(), "%s %s %v", v, schema, c)
			}
		}
		statuses := doc.Components.Schemas["EnumPaymentStatusType"].Value.Enum
		require.Len(t, statuses, 8)
		for _, s := range statuses {
			require.True(t, payments.Status(s.(string)).Known(), s)
		}
	}
}
