package conformance

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refusedConsent is the dual check of a consent the module expects refused:
// the SDK refuses it (field, sentinel) without calling the bank, and the
// bank, sent the same request (or body, when not nil) directly, answers code.
func (s *scenario) refusedConsent(req *consent.CreateRequest, body any, field string, sentinel error, code string) {
	s.t.Helper()
	m := s.mark()
	_, err := s.Consents.Create(bg, req, fapi.NewIdempotencyKey(nil))
	isConsentValidation(s.t, err, field, sentinel)
	s.noCall(m, http.MethodPost, pathConsents)

	if body == nil {
		body = req
	}
	_, err = s.send(http.MethodPost, pathConsents, body, s.cc())
	want422(s.t, err, code)
}

// automatic-payments_api_automatic-pix-invalid-creditor_test-module_v2-2
//
// A consent with two PESSOA_JURIDICA creditors, or with one PESSOA_NATURAL
// creditor, is refused with 422 DETALHE_PAGAMENTO_INVALIDO. The ITP must
// validate client-side: exactly one PESSOA_JURIDICA creditor.
func TestAutomaticPix_InvalidCreditor(t *testing.T) {
	t.Parallel()
	s := newEnv(t, sandboxtest.Options{})

	two := s.ConsentRequest(func(r *consent.CreateRequest) {
		r.Creditors = append(r.Creditors, consent.NewCreditor("11222333000262", "Outra Academia Ltda"))
	})
	s.refusedConsent(two, nil, "creditors", consent.ErrNotAllowed, "DETALHE_PAGAMENTO_INVALIDO")

	natural := s.ConsentRequest(func(r *consent.CreateRequest) {
		r.Creditors = []consent.Creditor{{PersonType: consent.PessoaNatural, CpfCnpj: otherCPF, Name: "Joao Personal"}}
	})
	s.refusedConsent(natural, nil, "creditors[0].personType", consent.ErrNotAllowed, "DETALHE_PAGAMENTO_INVALIDO")

	// The builder's one PESSOA_JURIDICA creditor passes both sides.
	c, err := s.Consents.Create(bg, s.ConsentRequest(), fapi.NewIdempotencyKey(nil))
	require.NoError(t, err)
	require.Len(t, c.Creditors, 1)
	assert.Equal(t, consent.PessoaJuridica, c.Creditors[0].PersonType)
}

// automatic-payments_api_automatic-pix-invalid-parameters_test-module_v2-2
//
// fixedAmount sent with the wrong JSON type is refused with 422
// PARAMETRO_INVALIDO; a firstPayment dated yesterday with 422
// DATA_PAGAMENTO_INVALIDA. The ITP must map both codes to typed errors.
func TestAutomaticPix_InvalidParameters(t *testing.T) {
	t.Parallel()
	s := newEnv(t, sandboxtest.Options{})
	today := s.Today()

	// fixedAmount as a JSON number. The SDK cannot send one: consent.Amount
	// always travels as the spec's decimal string, and a number is refused
	// when read back.
	fixed := s.ConsentRequest(withAmounts(consent.Fixed(consent.MustAmount("100.50"))))
	body := asMap(t, fixed)
	auto := body["recurringConfiguration"].(map[string]any)["automatic"].(map[string]any)
	assert.Equal(t, "100.50", auto["fixedAmount"], "the SDK encodes amounts as strings")
	var a consent.Amount
	assert.ErrorIs(t, json.Unmarshal([]byte(`100.5`), &a), consent.ErrInvalidValue, "a numeric amount is not an Amount")
	auto["fixedAmount"] = 100.5
	_, err := s.send(http.MethodPost, pathConsents, body, s.cc())
	ae := want422(t, err, "PARAMETRO_INVALIDO")
	assert.Contains(t, ae.Error(), "fixedAmount", "the error names the member")

	// firstPayment dated yesterday.
	past := s.ConsentRequest(withFirstPayment(today.AddDays(-1), "50.00", sandboxtest.CreditorAccount))
	s.refusedConsent(past, nil, "recurringConfiguration.automatic.firstPayment.date", consent.ErrOutOfRange, "DATA_PAGAMENTO_INVALIDA")
}

// automatic-payments_api_automatic-pix-negative-consent_test-module_v2-2
//
// fixedAmount together with maximumVariableAmount or minimumVariableAmount,
// or minimumVariableAmount above maximumVariableAmount, is refused with 422
// DETALHE_PAGAMENTO_INVALIDO. The ITP must enforce amount exclusivity in its
// builders.
func TestAutomaticPix_NegativeConsent(t *testing.T) {
	t.Parallel()
	s := newEnv(t, sandboxtest.Options{})

	// The builders cannot mix the two kinds.
	f := consent.NewAutomatic("C1", consent.IntervalMensal, s.Today().AddDays(3), consent.ContractDebtor{}, consent.Fixed(consent.MustAmount("100.00")))
	assert.NotNil(t, f.FixedAmount)
	assert.Nil(t, f.MaximumVariableAmount)
	assert.Nil(t, f.MinimumVariableAmount)

	fixedWith := func(maximum, minimum *consent.Amount) *consent.CreateRequest {
		return s.ConsentRequest(withAmounts(consent.Fixed(consent.MustAmount("100.00"))), func(r *consent.CreateRequest) {
			r.RecurringConfiguration.Automatic.MaximumVariableAmount = maximum
			r.RecurringConfiguration.Automatic.MinimumVariableAmount = minimum
		})
	}
	amount := func(s string) *consent.Amount { a := consent.MustAmount(s); return &a }
	s.refusedConsent(fixedWith(amount("300.00"), nil), nil, "recurringConfiguration.automatic.maximumVariableAmount", consent.ErrConflict, "DETALHE_PAGAMENTO_INVALIDO")
	s.refusedConsent(fixedWith(nil, amount("50.00")), nil, "recurringConfiguration.automatic.minimumVariableAmount", consent.ErrConflict, "DETALHE_PAGAMENTO_INVALIDO")

	inverted := s.ConsentRequest(withAmounts(consent.Variable(consent.MustAmount("100.00"), consent.MustAmount("200.00"))))
	s.refusedConsent(inverted, nil, "recurringConfiguration.automatic.maximumVariableAmount", consent.ErrOutOfRange, "DETALHE_PAGAMENTO_INVALIDO")
}

// automatic-payments_api_automatic-pix-unmatching-loggedUser_test-module_v2-2
//
// The consent is authorised at the holder by a user other than its
// loggedUser: it ends REJECTED with AUTENTICACAO_DIVERGENTE. The ITP must
// handle REJECTED after the redirect: read the consent and its rejection.
func TestAutomaticPix_UnmatchingLoggedUser(t *testing.T) {
	t.Parallel()
	s := newEnv(t, sandboxtest.Options{Bank: sandbox.Config{
		OnAuthorize: func(context.Context, sandbox.AuthorizationRequest) sandbox.AuthorizationDecision {
			return sandbox.AuthorizationDecision{Subject: otherCPF} // someone else logs in at the holder
		},
	}})
	c, err := s.Consents.Create(bg, s.ConsentRequest(), fapi.NewIdempotencyKey(nil))
	require.NoError(t, err)
	require.Equal(t, sandbox.DefaultPayerCPF, c.LoggedUser.Document.Identification)

	a, err := s.FAPI.PushAuthorization(bg, fapi.RecurringConsentScopes(c.RecurringConsentID), nil)
	require.NoError(t, err)
	redirect, err := s.Bank.Authorize(bg, a.URL)
	require.NoError(t, err)
	cb, err := fapi.ParseCallback(redirect)
	require.NoError(t, err)
	m := s.mark()
	_, err = s.FAPI.CompleteAuthorization(bg, a, cb)
	var oe *fapi.OAuthError
	require.ErrorAs(t, err, &oe, "the redirect carries an error, not a code")
	assert.Equal(t, "access_denied", oe.Code)
	s.noCall(m, http.MethodPost, "/token")

	got, err := s.Consents.Get(bg, c.RecurringConsentID)
	require.NoError(t, err)
	require.Equal(t, consent.StatusRejected, got.Status)
	require.NotNil(t, got.Rejection, "a REJECTED consent carries its rejection")
	assert.Equal(t, consent.RejectionAutenticacaoDivergente, got.Rejection.Reason.Code)
	assert.Equal(t, consent.FromDetentora, got.Rejection.RejectedFrom)

	// Nothing can be paid under it: the SDK refuses, and so does the bank.
	req := &payments.Request{Date: s.Today().AddDays(3), Amount: consent.MustAmount("10.00"), EndToEndID: s.scheduledE2EID(s.Today().AddDays(3)),
		CreditorAccount: sandboxtest.CreditorAccount, CNPJInitiator: s.ITPCNPJ, Document: receiver(),
		Reference: payments.CycleReference(consent.IntervalMensal, payments.Cycle{Start: s.Today().AddDays(3)})}
	err = (&payments.Validator{}).ValidateCreate(req, got, nil, s.Clock.Now())
	isPaymentsValidation(t, err, payments.ErrConsentNotAuthorised)
}
