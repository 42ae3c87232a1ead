package consent_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/internal/spectest"
	"github.com/stretchr/testify/require"
)

// authorisedJSON is the data of a GET 200 for an AUTHORISED Pix Automático
// consent.
const authorisedJSON = `{
  "recurringConsentId": "urn:bancoex:C1DD33123",
  "statusUpdateDateTime": "2026-03-01T10:00:00Z",
  "status": "AUTHORISED",
  "creationDateTime": "2026-03-01T09:50:00Z",
  "loggedUser": {"document": {"identification": "12345678901", "rel": "CPF"}},
  "creditors": [{"personType": "PESSOA_JURIDICA", "cpfCnpj": "12345678000195", "name": "Academia Forma Ltda"}],
  "recurringConfiguration": {"automatic": {
    "contractId": "CTR2026001",
    "maximumVariableAmount": "300.00",
    "minimumVariableAmount": "50.00",
    "interval": "MENSAL",
    "referenceStartDate": "2026-03-10",
    "isRetryAccepted": true,
    "useOverdraftLimit": true,
    "contractDebtor": {"name": "Ana Souza", "document": {"identification": "98765432100", "rel": "CPF"}}
  }},
  "expirationDateTime": "2027-03-01T23:59:59Z",
  "debtorAccount": {"ispb": "87654321", "issuer": "1774", "number": "99887766", "accountType": "CACC", "ibgeTownCode": "3550308"},
  "authorisedAtDateTime": "2026-03-01T10:00:00Z"
}`

// jsonDoc is a decoded JSON object that tests edit by path.
type jsonDoc map[string]any

func parseDoc(t *testing.T, s string) jsonDoc {
	t.Helper()
	var d jsonDoc
	require.NoError(t, json.Unmarshal([]byte(s), &d))
	return d
}

// walk returns the parent container of the last element of path
// ("a.b[0].c") and that element's key.
func (d jsonDoc) walk(path string) (map[string]any, string) {
	parts := strings.Split(path, ".")
	var cur any = map[string]any(d)
	for _, p := range parts[:len(parts)-1] {
		name, idx, hasIdx := strings.Cut(strings.TrimSuffix(p, "]"), "[")
		cur = cur.(map[string]any)[name]
		if hasIdx {
			i, _ := strconv.Atoi(idx)
			cur = cur.([]any)[i]
		}
	}
	return cur.(map[string]any), parts[len(parts)-1]
}

func (d jsonDoc) set(path string, v any) jsonDoc {
	m, k := d.walk(path)
	m[k] = v
	return d
}

func (d jsonDoc) del(path string) jsonDoc {
	m, k := d.walk(path)
	delete(m, k)
	return d
}

func (d jsonDoc) bytes(t *testing.T) []byte {
	t.Helper()
	b, err := json.Marshal(d)
	require.NoError(t, err)
	return b
}

// envelope wraps data as ResponseRecurringConsent.
func envelope(t *testing.T, data []byte) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"data":  json.RawMessage(data),
		"links": map[string]string{"self": "https://api.banco.com.br/open-banking/automatic-payments/v2/recurring-consents/urn:bancoex:C1DD33123"},
		"meta":  map[string]string{"requestDateTime": "2026-03-02T15:00:00Z"},
	})
	require.NoError(t, err)
	return b
}

func TestDecodeConsentValid(t *testing.T) {
	t.Parallel()
	rejectedAt := "2026-03-01T11:00:00Z"
	tests := []struct {
		name   string
		mutate func(d jsonDoc)
		check  func(t *testing.T, c *consent.Consent)
		// schema is the response schema the fixture conforms to
		// (default ResponseRecurringConsent).
		schema string
		// lenient marks input the spec forbids but DecodeConsent accepts.
		lenient bool
	}{
		{name: "authorised", check: func(t *testing.T, c *consent.Consent) {
			require.Equal(t, authorised(), c)
		}},
		{name: "awaiting authorisation without debtor account", mutate: func(d jsonDoc) {
			d.set("status", "AWAITING_AUTHORISATION").del("debtorAccount").del("authorisedAtDateTime")
		}, check: func(t *testing.T, c *consent.Consent) {
			require.Equal(t, consent.StatusAwaitingAuthorisation, c.Status)
			require.Nil(t, c.DebtorAccount)
		}},
		{name: "partially accepted with approval due date", mutate: func(d jsonDoc) {
			d.set("status", "PARTIALLY_ACCEPTED").set("approvalDueDate", "2026-03-31").del("authorisedAtDateTime")
		}, check: func(t *testing.T, c *consent.Consent) {
			require.Equal(t, consent.NewDate(2026, 3, 31), *c.ApprovalDueDate)
		}},
		{name: "rejected with its rejection", mutate: func(d jsonDoc) {
			d.set("status", "REJECTED").del("authorisedAtDateTime").del("debtorAccount").set("rejection", map[string]any{
				"rejectedBy": "USUARIO", "rejectedFrom": "DETENTORA", "rejectedAt": rejectedAt,
				"reason": map[string]any{"code": "AUTENTICACAO_DIVERGENTE", "detail": "Usuário diferente"},
			})
		}, check: func(t *testing.T, c *consent.Consent) {
			require.Equal(t, consent.RejectionAutenticacaoDivergente, c.Rejection.Reason.Code)
			require.Equal(t, rejectedAt, c.Rejection.RejectedAt.String())
		}},
		{name: "revoked with its revocation", mutate: func(d jsonDoc) {
			d.set("status", "REVOKED").set("revocation", map[string]any{
				"revokedBy": "USUARIO", "revokedFrom": "INICIADORA", "revokedAt": "2026-03-02T10:00:00Z",
				"reason": map[string]any{"code": "REVOGADO_USUARIO", "detail": "Pedido do pagador"},
			})
		}, check: func(t *testing.T, c *consent.Consent) {
			require.Equal(t, consent.RevocationUsuario, c.Revocation.Reason.Code)
		}},
		{name: "consumed", mutate: func(d jsonDoc) { d.set("status", "CONSUMED") },
			check: func(t *testing.T, c *consent.Consent) { require.True(t, c.Status.Final()) }},
		{name: "fixed amount with first payment", mutate: func(d jsonDoc) {
			d.del("recurringConfiguration.automatic.maximumVariableAmount").
				del("recurringConfiguration.automatic.minimumVariableAmount").
				set("recurringConfiguration.automatic.fixedAmount", "120.00").
				set("recurringConfiguration.automatic.firstPayment", map[string]any{
					"type": "PIX", "date": "2026-03-05", "currency": "BRL", "amount": "99.90",
					"creditorAccount": map[string]any{"ispb": "12345678", "issuer": "0001", "number": "1234567890", "accountType": "CACC"},
				})
		}, check: func(t *testing.T, c *consent.Consent) {
			require.Equal(t, consent.MustAmount("120.00"), *c.Automatic().FixedAmount)
			require.Equal(t, consent.MustAmount("99.90"), c.Automatic().FirstPayment.Amount)
		}},
		{name: "edited to indefinite: no expiry, no maximum", mutate: func(d jsonDoc) {
			d.del("expirationDateTime").del("recurringConfiguration.automatic.maximumVariableAmount").
				set("updatedAtDateTime", "2026-03-02T12:00:00Z")
		}, check: func(t *testing.T, c *consent.Consent) {
			require.Nil(t, c.ExpirationDateTime)
			require.Nil(t, c.Automatic().MaximumVariableAmount)
			require.NotNil(t, c.UpdatedAtDateTime)
		}},
		{name: "PATCH response without loggedUser", schema: "ResponseRecurringConsentPatch",
			mutate: func(d jsonDoc) { d.del("loggedUser") },
			check:  func(t *testing.T, c *consent.Consent) { require.Nil(t, c.LoggedUser) }},
		{name: "useOverdraftLimit missing (spec default true)", lenient: true,
			mutate: func(d jsonDoc) { d.del("recurringConfiguration.automatic.useOverdraftLimit") },
			check:  func(t *testing.T, c *consent.Consent) { require.Nil(t, c.Automatic().UseOverdraftLimit) }},
		{name: "unknown fields and a future rejection code are tolerated", lenient: true, mutate: func(d jsonDoc) {
			d.set("status", "REJECTED").del("authorisedAtDateTime").set("somethingNew", []any{1, "x"}).set("rejection", map[string]any{
				"rejectedBy": "DETENTORA", "rejectedFrom": "DETENTORA", "rejectedAt": rejectedAt,
				"reason": map[string]any{"code": "MOTIVO_FUTURO", "detail": "x"},
			})
		}, check: func(t *testing.T, c *consent.Consent) {
			require.Equal(t, consent.RejectionCode("MOTIVO_FUTURO"), c.Rejection.Reason.Code)
		}},
		{name: "sweeping consent is kept raw", mutate: func(d jsonDoc) {
			d.set("recurringConfiguration", map[string]any{"sweeping": map[string]any{
				"useOverdraftLimit": true, "startDateTime": "2026-03-01T00:00:00Z",
			}})
		}, check: func(t *testing.T, c *consent.Consent) {
			require.Nil(t, c.Automatic())
			require.JSONEq(t, `{"useOverdraftLimit":true,"startDateTime":"2026-03-01T00:00:00Z"}`, string(c.RecurringConfiguration.Sweeping))
		}},
		{name: "alphanumeric CNPJ", mutate: func(d jsonDoc) { d.set("creditors[0].cpfCnpj", "12ABC34501DE35") },
			check: func(t *testing.T, c *consent.Consent) { require.Equal(t, "12ABC34501DE35", c.Creditors[0].CpfCnpj) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := parseDoc(t, authorisedJSON)
			if tt.mutate != nil {
				tt.mutate(d)
			}
			data := d.bytes(t)
			schema := tt.schema
			if schema == "" {
				schema = "ResponseRecurringConsent"
			}
			if tt.lenient {
				require.Error(t, spectest.CheckSchema(t, "2.2.0", schema, envelope(t, data)), "the spec forbids this input")
			} else {
				// The fixtures are real responses: they conform to the spec.
				spectest.ValidateSchema(t, "2.2.0", schema, envelope(t, data))
			}
			c, err := consent.DecodeConsent(data)
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestDecodeConsentRejects(t *testing.T) {
	t.Parallel()
	const a = "recurringConfiguration.automatic."
	tests := []struct {
		name string
		raw  string // used as is when set
		edit func(d jsonDoc)
		want []violation
	}{
		// Malformed input.
		{name: "empty input", raw: ``, want: []violation{{"", 0, consent.ErrFormat}}},
		{name: "truncated JSON", raw: authorisedJSON[:100], want: []violation{{"", 0, consent.ErrFormat}}},
		{name: "an array", raw: `[]`, want: []violation{{"", 0, consent.ErrFormat}}},
		{name: "null", raw: `null`, want: []violation{{"", 0, consent.ErrFormat}}},
		{name: "trailing data", raw: authorisedJSON + `{}`, want: []violation{{"", 0, consent.ErrFormat}}},
		{name: "amount as a JSON number", edit: func(d jsonDoc) { d.set(a+"maximumVariableAmount", 300) },
			want: []violation{{a + "maximumVariableAmount", 0, consent.ErrFormat}}},
		{name: "amount with one decimal", edit: func(d jsonDoc) { d.set(a+"maximumVariableAmount", "300.0") },
			want: []violation{{a + "maximumVariableAmount", 0, consent.ErrFormat}}},
		{name: "date-time with an offset", edit: func(d jsonDoc) { d.set("creationDateTime", "2026-03-01T09:50:00-03:00") },
			want: []violation{{"creationDateTime", 0, consent.ErrFormat}}},
		{name: "date that does not exist", edit: func(d jsonDoc) { d.set(a+"referenceStartDate", "2026-02-30") },
			want: []violation{{a + "referenceStartDate", 0, consent.ErrFormat}}},
		{name: "null date", edit: func(d jsonDoc) { d.set(a+"referenceStartDate", nil) },
			want: []violation{{a + "referenceStartDate", 0, consent.ErrFormat}}},
		{name: "boolean as a string", edit: func(d jsonDoc) { d.set(a+"isRetryAccepted", "true") },
			want: []violation{{a + "isRetryAccepted", 0, consent.ErrFormat}}},
		{name: "creditors as an object", edit: func(d jsonDoc) { d.set("creditors", map[string]any{}) },
			want: []violation{{"creditors", 0, consent.ErrFormat}}},
		{name: "creditor name as a number", edit: func(d jsonDoc) { d.set("creditors[0].name", 7) },
			want: []violation{{"creditors[0].name", 0, consent.ErrFormat}}},
		{name: "status as an object", edit: func(d jsonDoc) { d.set("status", map[string]any{}) },
			want: []violation{{"status", 0, consent.ErrFormat}}},
		{name: "several type errors at once", edit: func(d jsonDoc) {
			d.set("recurringConsentId", 1).set("expirationDateTime", "amanhã")
		}, want: []violation{{"recurringConsentId", 0, consent.ErrFormat}, {"expirationDateTime", 0, consent.ErrFormat}}},

		{name: "the zero instant cannot be carried", edit: func(d jsonDoc) {
			d.set("updatedAtDateTime", "0001-01-01T00:00:00Z").set("rejection", map[string]any{
				"rejectedBy": "USUARIO", "rejectedFrom": "DETENTORA", "rejectedAt": "0001-01-01T00:00:00Z",
				"reason": map[string]any{"code": "NAO_INFORMADO"},
			})
		}, want: []violation{{"updatedAtDateTime", 0, consent.ErrOutOfRange}, {"rejection.rejectedAt", 0, consent.ErrOutOfRange}}},
		{name: "zero creation instant", edit: func(d jsonDoc) { d.set("creationDateTime", "0001-01-01T00:00:00Z") },
			want: []violation{{"creationDateTime", 0, consent.ErrRequired}}},

		// Required fields.
		{name: "no id", edit: func(d jsonDoc) { d.del("recurringConsentId") },
			want: []violation{{"recurringConsentId", 0, consent.ErrRequired}}},
		{name: "id not a URN", edit: func(d jsonDoc) { d.set("recurringConsentId", "C1DD33123") },
			want: []violation{{"recurringConsentId", 0, consent.ErrFormat}}},
		{name: "no status", edit: func(d jsonDoc) { d.del("status") }, want: []violation{{"status", 0, consent.ErrRequired}}},
		{name: "no statusUpdateDateTime", edit: func(d jsonDoc) { d.del("statusUpdateDateTime") },
			want: []violation{{"statusUpdateDateTime", 0, consent.ErrRequired}}},
		{name: "no creationDateTime", edit: func(d jsonDoc) { d.del("creationDateTime") },
			want: []violation{{"creationDateTime", 0, consent.ErrRequired}}},
		{name: "no creditors", edit: func(d jsonDoc) { d.set("creditors", []any{}) },
			want: []violation{{"creditors", 0, consent.ErrRequired}}},
		{name: "creditor incomplete", edit: func(d jsonDoc) { d.set("creditors", []any{map[string]any{"personType": "PESSOA_FISICA"}}) },
			want: []violation{
				{"creditors[0].personType", 0, consent.ErrNotAllowed}, {"creditors[0].cpfCnpj", 0, consent.ErrRequired},
				{"creditors[0].name", 0, consent.ErrRequired},
			}},
		{name: "no configuration", edit: func(d jsonDoc) { d.set("recurringConfiguration", map[string]any{}) },
			want: []violation{{"recurringConfiguration", 0, consent.ErrRequired}}},
		{name: "two configurations", edit: func(d jsonDoc) { d.set("recurringConfiguration.vrp", map[string]any{}) },
			want: []violation{{"recurringConfiguration", 0, consent.ErrConflict}}},
		{name: "automatic without its required fields", edit: func(d jsonDoc) { d.set("recurringConfiguration.automatic", map[string]any{}) },
			want: []violation{
				{a + "contractId", 0, consent.ErrRequired}, {a + "interval", 0, consent.ErrRequired},
				{a + "referenceStartDate", 0, consent.ErrRequired}, {a + "isRetryAccepted", 0, consent.ErrRequired},
				{a + "contractDebtor.name", 0, consent.ErrRequired}, {a + "contractDebtor.document.identification", 0, consent.ErrRequired},
			}},
		{name: "unknown interval", edit: func(d jsonDoc) { d.set(a+"interval", "QUINZENAL") },
			want: []violation{{a + "interval", 0, consent.ErrNotAllowed}}},
		{name: "fixed and maximum together", edit: func(d jsonDoc) { d.set(a+"fixedAmount", "120.00") },
			want: []violation{{a + "maximumVariableAmount", 0, consent.ErrConflict}}},
		{name: "zero maximum", edit: func(d jsonDoc) { d.set(a+"maximumVariableAmount", "0.00") },
			want: []violation{{a + "maximumVariableAmount", 0, consent.ErrOutOfRange}}},
		{name: "first payment incomplete", edit: func(d jsonDoc) { d.set(a+"firstPayment", map[string]any{"type": "PIX"}) },
			want: []violation{
				{a + "firstPayment.amount", 0, consent.ErrRequired}, {a + "firstPayment.date", 0, consent.ErrRequired},
				{a + "firstPayment.creditorAccount.ispb", 0, consent.ErrRequired},
			}},
		{name: "debtor account incomplete", edit: func(d jsonDoc) {
			d.set("debtorAccount", map[string]any{"accountType": "CONTA", "ibgeTownCode": "355030"})
		}, want: []violation{
			{"debtorAccount.ispb", 0, consent.ErrRequired}, {"debtorAccount.number", 0, consent.ErrRequired},
			{"debtorAccount.accountType", 0, consent.ErrNotAllowed}, {"debtorAccount.ibgeTownCode", 0, consent.ErrFormat},
		}},

		// Status.
		{name: "unknown status", edit: func(d jsonDoc) { d.set("status", "SUSPENDED") },
			want: []violation{{"status", 0, consent.ErrUnknownStatus}}},
		{name: "lowercase status", edit: func(d jsonDoc) { d.set("status", "authorised") },
			want: []violation{{"status", 0, consent.ErrUnknownStatus}}},
		{name: "rejected without rejection", edit: func(d jsonDoc) { d.set("status", "REJECTED") },
			want: []violation{{"rejection", 0, consent.ErrInvalidState}}},
		{name: "rejection incomplete", edit: func(d jsonDoc) {
			d.set("status", "REJECTED").set("rejection", map[string]any{"rejectedBy": "BANCO", "reason": map[string]any{}})
		}, want: []violation{
			{"rejection.rejectedBy", 0, consent.ErrNotAllowed}, {"rejection.rejectedFrom", 0, consent.ErrRequired},
			{"rejection.rejectedAt", 0, consent.ErrRequired}, {"rejection.reason.code", 0, consent.ErrRequired},
		}},
		{name: "revoked without revocation", edit: func(d jsonDoc) { d.set("status", "REVOKED") },
			want: []violation{{"revocation", 0, consent.ErrInvalidState}}},
		{name: "revocation incomplete", edit: func(d jsonDoc) {
			d.set("status", "REVOKED").set("revocation", map[string]any{"revokedBy": "USUARIO", "revokedFrom": "APP", "reason": map[string]any{}})
		}, want: []violation{
			{"revocation.revokedFrom", 0, consent.ErrNotAllowed}, {"revocation.revokedAt", 0, consent.ErrRequired},
			{"revocation.reason.code", 0, consent.ErrRequired},
		}},
		{name: "authorised without authorisedAtDateTime", edit: func(d jsonDoc) { d.del("authorisedAtDateTime") },
			want: []violation{{"authorisedAtDateTime", 0, consent.ErrInvalidState}}},
		{name: "authorised without debtor account", edit: func(d jsonDoc) { d.del("debtorAccount") },
			want: []violation{{"debtorAccount", 0, consent.ErrInvalidState}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.raw)
			if tt.edit != nil {
				d := parseDoc(t, authorisedJSON)
				tt.edit(d)
				data = d.bytes(t)
			}
			var c *consent.Consent
			var err error
			require.NotPanics(t, func() { c, err = consent.DecodeConsent(data) })
			require.Nil(t, c)
			requireViolations(t, err, tt.want...)
		})
	}
}

// Keys match case-insensitively, as encoding/json matches them.
func TestDecodeConsentCaseInsensitiveKeys(t *testing.T) {
	t.Parallel()
	d := parseDoc(t, authorisedJSON)
	auto := d["recurringConfiguration"].(map[string]any)["automatic"].(map[string]any)
	auto["IsRetryAccepted"] = auto["isRetryAccepted"]
	delete(auto, "isRetryAccepted")
	c, err := consent.DecodeConsent(d.bytes(t))
	require.NoError(t, err)
	require.True(t, c.Automatic().IsRetryAccepted)

	auto["MaximumVariableAmount"] = 5
	_, err = consent.DecodeConsent(d.bytes(t))
	requireViolations(t, err, violation{"recurringConfiguration.automatic.MaximumVariableAmount", 0, consent.ErrFormat})
}

func TestDecodeConsentRoundTrip(t *testing.T) {
	t.Parallel()
	c, err := consent.DecodeConsent([]byte(authorisedJSON))
	require.NoError(t, err)
	b, err := json.Marshal(c)
	require.NoError(t, err)
	require.JSONEq(t, authorisedJSON, string(b))
	require.Equal(t, time.UTC, c.CreationDateTime.Location())
}
