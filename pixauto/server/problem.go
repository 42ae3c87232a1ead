package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/server/api"
)

// Problem codes: stable names of what went wrong, in every problem+json
// answer.
const (
	CodeInvalidRequest   = "invalid_request"   // malformed JSON, wrong content type, unknown route
	CodeValidationFailed = "validation_failed" // fields that break a rule; errors lists them
	CodeUnauthorized     = "unauthorized"      // no valid API key
	CodeNotFound         = "not_found"         // no such resource for this receiver
	CodeMethodNotAllowed = "method_not_allowed"
	CodeConflict         = "conflict"          // a concurrent change, or an id already used
	CodeConsentState     = "consent_state"     // the consent's status does not allow it
	CodeChargeState      = "charge_state"      // the charge's status does not allow it
	CodeRetryNotAllowed  = "retry_not_allowed" // Pix Automático allows no retry now
	CodeCallbackInvalid  = "callback_invalid"  // an unknown, used or expired authorization
	CodeBankRejected     = "bank_rejected"     // the bank refused the request (422)
	CodeBankError        = "bank_error"        // the bank failed or could not be reached
	CodeTooLarge         = "request_too_large"
	CodeInternal         = "internal"
)

// problemTypeBase prefixes the problem type URIs.
const problemTypeBase = "https://pixauto.dev/problems/"

// Problem is an RFC 9457 problem, as the server answers every error.
type Problem struct {
	Status   int
	Code     string
	Title    string
	Detail   string
	BankCode string
	Fields   []api.FieldError
	// cause is logged, never shown.
	cause error
}

func (p *Problem) Error() string {
	if p.cause != nil {
		return fmt.Sprintf("%s: %s: %v", p.Code, p.Detail, p.cause)
	}
	return p.Code + ": " + p.Detail
}

func (p *Problem) Unwrap() error { return p.cause }

func problem(status int, code, detail string) *Problem {
	return &Problem{Status: status, Code: code, Title: http.StatusText(status), Detail: detail}
}

// fieldProblem is a validation_failed problem about fields.
func fieldProblem(status int, fields []api.FieldError) *Problem {
	p := problem(status, CodeValidationFailed, "The request has invalid fields; see errors.")
	p.Fields = fields
	return p
}

func notFound(what string) *Problem {
	return problem(http.StatusNotFound, CodeNotFound, "No such "+what+".")
}

// body renders the problem for the request.
func (p *Problem) body(requestID, instance string) api.Problem {
	b := api.Problem{Type: problemTypeBase + strings.ReplaceAll(p.Code, "_", "-"), Title: p.Title, Status: p.Status, Code: p.Code}
	if p.Title == "" {
		b.Title = http.StatusText(p.Status)
	}
	if p.Detail != "" {
		b.Detail = &p.Detail
	}
	if requestID != "" {
		b.RequestId = &requestID
	}
	if instance != "" {
		b.Instance = &instance
	}
	if p.BankCode != "" {
		b.BankCode = &p.BankCode
	}
	if len(p.Fields) > 0 {
		b.Errors = &p.Fields
	}
	return b
}

// writeProblem answers with p as application/problem+json.
func writeProblem(w http.ResponseWriter, r *http.Request, p *Problem) {
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pixauto"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p.body(requestIDFrom(r.Context()), r.URL.Path))
	if rec := recorderFrom(r.Context()); rec != nil {
		rec.problem = p
	}
}

// problemFor maps an error of the Initiator, the SDK or the store to the
// problem the receiver sees. Bank details that are not the receiver's to
// see (balance and limit reasons, the payer's maximum) never appear.
func problemFor(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var (
		cv consent.ValidationErrors
		pv payments.ValidationErrors
		re *pixauto.RetryError
		ae *fapi.APIError
		oe *fapi.OAuthError
	)
	switch {
	case errors.Is(err, context.Canceled):
		p = problem(499, CodeInvalidRequest, "The request was cancelled.")
	case errors.As(err, &cv):
		p = fieldProblem(http.StatusUnprocessableEntity, consentFields(cv))
	case errors.As(err, &pv):
		p = fieldProblem(http.StatusUnprocessableEntity, paymentFields(pv))
	case errors.Is(err, payments.ErrCycleOutOfRange):
		p = fieldProblem(http.StatusUnprocessableEntity, []api.FieldError{{Field: "due_date", Message: "is not in a billing cycle of the consent (before its reference start date?)"}})
	case errors.As(err, &re):
		p = problem(http.StatusConflict, CodeRetryNotAllowed, "No retry is allowed now: "+re.Decision.Message+".")
	case errors.Is(err, pixauto.ErrConsentState):
		p = problem(http.StatusConflict, CodeConsentState, "The consent's status does not allow this.")
	case errors.Is(err, pixauto.ErrChargeState):
		p = problem(http.StatusConflict, CodeChargeState, "The charge's status does not allow this.")
	case errors.Is(err, pixauto.ErrUnknownAuthorization):
		p = problem(http.StatusBadRequest, CodeCallbackInvalid, "No authorization is in progress for this response: it was already used, it expired, or it is not ours.")
	case errors.Is(err, pixauto.ErrNotFound):
		p = problem(http.StatusNotFound, CodeNotFound, "No such resource.")
	case errors.Is(err, pixauto.ErrConflict):
		p = problem(http.StatusConflict, CodeConflict, "A concurrent change or a repeated id; read the resource and try again.")
	case errors.As(err, &ae) && ae.StatusCode == http.StatusUnprocessableEntity:
		p = problem(http.StatusUnprocessableEntity, CodeBankRejected, "The bank refused the request.")
		if len(ae.Errors) > 0 {
			p.BankCode = ae.Errors[0].Code
		}
	case errors.As(err, &ae):
		p = problem(http.StatusBadGateway, CodeBankError, fmt.Sprintf("The bank answered HTTP %d.", ae.StatusCode))
	case errors.As(err, &oe):
		p = problem(http.StatusBadGateway, CodeBankError, "The bank's authorization server refused: "+oe.Code+".")
	case isBankFailure(err):
		p = problem(http.StatusBadGateway, CodeBankError, "The bank could not be reached or its answer could not be trusted.")
	default:
		p = problem(http.StatusInternalServerError, CodeInternal, "An internal error; the request id identifies it in the logs.")
	}
	p.cause = err
	return p
}

// isBankFailure tells the failures of a bank call (transport, signature,
// interaction-id echo) from the server's own.
func isBankFailure(err error) bool {
	var (
		ue *url.Error
		ne net.Error
	)
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, fapi.ErrInteractionIDMismatch) || strings.Contains(err.Error(), "fapi: ")
}

// consentFields maps the SDK's consent paths to the API's field names.
func consentFields(es consent.ValidationErrors) []api.FieldError {
	out := make([]api.FieldError, 0, len(es))
	for _, e := range es {
		out = append(out, api.FieldError{Field: apiField(consentPaths, e.Field), Message: e.Rule})
	}
	return out
}

func paymentFields(es payments.ValidationErrors) []api.FieldError {
	out := make([]api.FieldError, 0, len(es))
	for _, e := range es {
		out = append(out, api.FieldError{Field: apiField(paymentPaths, e.Field), Message: e.Rule})
	}
	return out
}

type pathMap []struct{ wire, api string }

// consentPaths: longest prefixes first.
var consentPaths = pathMap{
	{"recurringConfiguration.automatic.firstPayment.remittanceInformation", "first_payment.description"},
	{"recurringConfiguration.automatic.firstPayment.creditorAccount", "receiver.account"},
	{"recurringConfiguration.automatic.firstPayment.amount", "first_payment.amount"},
	{"recurringConfiguration.automatic.firstPayment.date", "first_payment.date"},
	{"recurringConfiguration.automatic.firstPayment", "first_payment"},
	{"recurringConfiguration.automatic.contractDebtor.name", "debtor.name"},
	{"recurringConfiguration.automatic.contractDebtor.document", "debtor.document"},
	{"recurringConfiguration.automatic.contractDebtor", "debtor"},
	{"recurringConfiguration.automatic.fixedAmount", "fixed_amount"},
	{"recurringConfiguration.automatic.maximumVariableAmount", "maximum_amount"},
	{"recurringConfiguration.automatic.minimumVariableAmount", "minimum_amount"},
	{"recurringConfiguration.automatic.referenceStartDate", "reference_start_date"},
	{"recurringConfiguration.automatic.contractId", "contract_id"},
	{"recurringConfiguration.automatic.interval", "interval"},
	{"recurringConfiguration.automatic.isRetryAccepted", "retries_accepted"},
	{"recurringConfiguration", "consent"},
	{"loggedUser", "payer_document"},
	{"expirationDateTime", "expires_on"},
	{"creditors[0].name", "creditor_name"},
	{"creditors", "receiver"},
	{"riskSignals", "risk_signals"},
}

var paymentPaths = pathMap{
	{"payment.amount", "amount"},
	{"remittanceInformation", "description"},
	{"creditorAccount", "receiver.account"},
	{"date", "due_date"},
}

// apiField names a wire path in the API's terms; an unknown path is kept.
func apiField(m pathMap, wire string) string {
	for _, p := range m {
		if wire == p.wire || strings.HasPrefix(wire, p.wire+".") || strings.HasPrefix(wire, p.wire+"[") {
			return p.api
		}
	}
	for _, p := range m {
		if strings.HasSuffix(wire, p.wire) {
			return p.api
		}
	}
	if wire == "" {
		return "body"
	}
	return wire
}
