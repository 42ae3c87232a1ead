package payments

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/ofb-go/pixauto/consent"
)

// Version is an automatic-payments API version whose wire form this package
// speaks. A holder announces its version in the x-v response header; see
// [ParseVersion].
type Version string

// Versions.
const (
	// V220 (2.2.0): retries go to POST …/{originalRecurringPaymentId}/retry
	// with only endToEndId and date; recurrences use localInstrument AUTO
	// and paymentReference "R/<start>/<duration>"; CNPJ and ISPB may be
	// alphanumeric.
	V220 Version = "2.2.0"
	// V210 (2.1.0): retries are a copy of the original POST body plus
	// originalRecurringPaymentId; MANU only; "M09-2024"-style references;
	// numeric CNPJ and ISPB.
	V210 Version = "2.1.0"
	// V200 (2.0.0): as 2.1.0 on everything this package touches.
	V200 Version = "2.0.0"
	// V200Beta1 (2.0.0-beta.1, an early draft): like 2.0.0 but retries list
	// every previous failed attempt in lastRetryRecurringPaymentIds, and
	// there is no paymentReference.
	V200Beta1 Version = "2.0.0-beta.1"
)

// DefaultVersion is assumed when a holder's x-v is missing or unusable.
const DefaultVersion = V220

var semverRE = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$`)

// ParseVersion maps a holder's x-v header to the version whose wire form to
// use, and reports whether the mapping is exact. It is exact for the four
// versions above and for later patch releases of 2.0, 2.1 and 2.2 (2.2.1 →
// 2.2.0). Anything else gets a sensible default and false: a newer 2.x
// minor or a 2.2 pre-release is spoken to as 2.2.0, a 2.1 pre-release as
// 2.1.0, another 2.0 pre-release (beta.2, rc.1) as 2.0.0, and an empty,
// malformed or non-2.x value as [DefaultVersion]. Callers should log a
// false result.
func ParseVersion(xv string) (Version, bool) {
	xv = strings.TrimSpace(xv)
	if Version(xv).Known() {
		return Version(xv), true
	}
	m := semverRE.FindStringSubmatch(xv)
	if m == nil || m[1] != "2" {
		return DefaultVersion, false
	}
	minor, err := strconv.Atoi(m[2])
	if err != nil {
		return DefaultVersion, false
	}
	exact := m[4] == ""
	switch {
	case minor == 0:
		return V200, exact
	case minor == 1:
		return V210, exact
	case minor == 2:
		return V220, exact
	}
	return V220, false
}

// Known reports whether v is one of the four versions above.
func (v Version) Known() bool {
	switch v {
	case V220, V210, V200, V200Beta1:
		return true
	}
	return false
}

// HasRetryEndpoint reports whether retries use the dedicated 2.2.0
// endpoint POST /pix/recurring-payments/{originalRecurringPaymentId}/retry.
func (v Version) HasRetryEndpoint() bool { return v == V220 }

// AlphanumericIDs reports whether the version accepts alphanumeric CNPJs
// and ISPBs (2.2.0); older versions accept digits only.
func (v Version) AlphanumericIDs() bool { return v == V220 }

// ReferenceStyle is the paymentReference format of a version.
type ReferenceStyle int

// Reference styles.
const (
	// ReferenceNone: the early draft has no paymentReference.
	ReferenceNone ReferenceStyle = iota
	// ReferenceLegacy: 2.0.0 and 2.1.0, "M09-2024".
	ReferenceLegacy
	// ReferenceISO: 2.2.0, "R/2025-09-23/P1M".
	ReferenceISO
)

// ReferenceStyle returns the paymentReference format of v. Unknown versions
// get the 2.2.0 style.
func (v Version) ReferenceStyle() ReferenceStyle {
	switch v {
	case V210, V200:
		return ReferenceLegacy
	case V200Beta1:
		return ReferenceNone
	}
	return ReferenceISO
}

// InstrumentFor returns the localInstrument for a payment with reference
// ref sent to a holder of version v (checklist item 36): MANU for the first
// payment, AUTO for recurrences on 2.2.0, MANU for everything before.
func InstrumentFor(v Version, ref PaymentReference) LocalInstrument {
	if ref.First || v.ReferenceStyle() != ReferenceISO {
		return InstrumentMANU
	}
	return InstrumentAUTO
}

// Call is one version-specific HTTP call: what the API client must send.
// Body is the JSON of the request's data object; the client wraps it in the
// signed JWT's "data" claim.
type Call struct {
	Method      string          // http.MethodPost or http.MethodPatch
	Path        string          // relative to the API base …/automatic-payments/v2
	OperationID string          // the spec's operationId, for logs
	Body        json.RawMessage // the data object
}

// API paths and operation ids.
const (
	PathPayments          = "/pix/recurring-payments"
	opCreate              = "automaticPaymentsPostPixRecurringPayments"
	opRetry               = "automaticPaymentsPostPixRecurringPaymentsRetry"
	opPatch               = "automaticPaymentsPatchPixRecurringPaymentsPaymentId"
	maxLastRetryIDs       = 4
	maxLastRetryIDsReason = "lastRetryRecurringPaymentIds holds at most 4 ids"
)

var paymentIDRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9\-]{0,99}$`)

type wireAmount struct {
	Amount   consent.Amount `json:"amount"`
	Currency string         `json:"currency"`
}

type wireAccount struct {
	ISPB        string              `json:"ispb"`
	Issuer      string              `json:"issuer,omitempty"`
	Number      string              `json:"number"`
	AccountType consent.AccountType `json:"accountType"`
}

func toWireAccount(a consent.Account) wireAccount {
	return wireAccount{ISPB: a.ISPB, Issuer: a.Issuer, Number: a.Number, AccountType: a.AccountType}
}

func (a *wireAccount) model() *consent.Account {
	if a == nil {
		return nil
	}
	return &consent.Account{ISPB: a.ISPB, Issuer: a.Issuer, Number: a.Number, AccountType: a.AccountType}
}

// wireCreate is CreateRecurringPixPaymentData of every version; fields a
// version does not have are left empty and omitted.
type wireCreate struct {
	RecurringConsentID           string           `json:"recurringConsentId,omitempty"`
	EndToEndID                   string           `json:"endToEndId"`
	Date                         consent.Date     `json:"date"`
	Payment                      wireAmount       `json:"payment"`
	CreditorAccount              wireAccount      `json:"creditorAccount"`
	RemittanceInformation        string           `json:"remittanceInformation,omitempty"`
	CNPJInitiator                string           `json:"cnpjInitiator"`
	IBGETownCode                 string           `json:"ibgeTownCode,omitempty"`
	AuthorisationFlow            string           `json:"authorisationFlow,omitempty"`
	LocalInstrument              LocalInstrument  `json:"localInstrument"`
	Document                     consent.Document `json:"document"`
	OriginalRecurringPaymentID   string           `json:"originalRecurringPaymentId,omitempty"`
	LastRetryRecurringPaymentIDs []string         `json:"lastRetryRecurringPaymentIds,omitempty"`
	PaymentReference             string           `json:"paymentReference,omitempty"`
}

func buildCreate(v Version, r *Request) (wireCreate, error) {
	ref, err := r.Reference.Format(v)
	if err != nil {
		return wireCreate{}, err
	}
	flow := string(r.AuthorisationFlow)
	if r.AuthorisationFlow == FlowHybrid {
		flow = "" // the default; omitted (checklist item 44)
	}
	return wireCreate{
		RecurringConsentID:    r.ConsentID,
		EndToEndID:            r.EndToEndID,
		Date:                  r.Date,
		Payment:               wireAmount{Amount: r.Amount, Currency: "BRL"},
		CreditorAccount:       toWireAccount(r.CreditorAccount),
		RemittanceInformation: r.RemittanceInformation,
		CNPJInitiator:         r.CNPJInitiator,
		IBGETownCode:          r.IBGETownCode,
		AuthorisationFlow:     flow,
		LocalInstrument:       InstrumentFor(v, r.Reference),
		Document:              r.Document,
		PaymentReference:      ref,
	}, nil
}

func checkVersion(v Version) error {
	if !v.Known() {
		return fmt.Errorf("payments: unsupported API version %q", string(v))
	}
	return nil
}

func marshalCall(method, path, op string, body any) (Call, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return Call{}, fmt.Errorf("payments: encode %s: %w", op, err)
	}
	return Call{Method: method, Path: path, OperationID: op, Body: b}, nil
}

// EncodeCreate returns POST /pix/recurring-payments for r in the wire form
// of version v: paymentReference formatted for v, localInstrument chosen by
// [InstrumentFor], currency BRL, authorisationFlow omitted for HYBRID_FLOW,
// and never originalRecurringPaymentId (checklist item 50). It does not
// validate r beyond what encoding needs; run [Validator.ValidateCreate]
// first.
func EncodeCreate(v Version, r *Request) (Call, error) {
	if err := checkVersion(v); err != nil {
		return Call{}, err
	}
	if r == nil {
		return Call{}, errors.New("payments: encode create: nil request")
	}
	w, err := buildCreate(v, r)
	if err != nil {
		return Call{}, err
	}
	return marshalCall(http.MethodPost, PathPayments, opCreate, w)
}

type wireRetry struct {
	EndToEndID string       `json:"endToEndId"`
	Date       consent.Date `json:"date"`
}

// EncodeRetry returns the call that creates retry rt on a holder of version
// v. The caller's code is the same for every version:
//
//   - 2.2.0: POST /pix/recurring-payments/{OriginalID}/retry with
//     {endToEndId, date};
//   - 2.0.0 and 2.1.0: POST /pix/recurring-payments with a copy of the
//     original body, changing only endToEndId, date and
//     originalRecurringPaymentId (checklist item 58);
//   - 2.0.0-beta.1: the same copy, with lastRetryRecurringPaymentIds
//     (rt.FailedAttemptIDs) instead of originalRecurringPaymentId.
func EncodeRetry(v Version, rt *Retry) (Call, error) {
	if err := checkVersion(v); err != nil {
		return Call{}, err
	}
	if rt == nil {
		return Call{}, errors.New("payments: encode retry: nil retry")
	}
	if v.HasRetryEndpoint() {
		if !paymentIDRE.MatchString(rt.OriginalID) {
			return Call{}, fmt.Errorf("payments: encode retry: originalRecurringPaymentId %q: %w", rt.OriginalID, ErrInvalidFormat)
		}
		path := PathPayments + "/" + url.PathEscape(rt.OriginalID) + "/retry"
		return marshalCall(http.MethodPost, path, opRetry, wireRetry{EndToEndID: rt.EndToEndID, Date: rt.Date})
	}
	if rt.Original == nil {
		return Call{}, fmt.Errorf("payments: encode retry: version %s needs the original request: %w", v, ErrMissing)
	}
	w, err := buildCreate(v, rt.Original)
	if err != nil {
		return Call{}, err
	}
	w.EndToEndID, w.Date = rt.EndToEndID, rt.Date
	if v == V200Beta1 {
		if len(rt.FailedAttemptIDs) == 0 || len(rt.FailedAttemptIDs) > maxLastRetryIDs {
			return Call{}, fmt.Errorf("payments: encode retry: %s, got %d: %w", maxLastRetryIDsReason, len(rt.FailedAttemptIDs), ErrInvalidFormat)
		}
		w.LastRetryRecurringPaymentIDs = append([]string(nil), rt.FailedAttemptIDs...)
	} else {
		if !paymentIDRE.MatchString(rt.OriginalID) {
			return Call{}, fmt.Errorf("payments: encode retry: originalRecurringPaymentId %q: %w", rt.OriginalID, ErrInvalidFormat)
		}
		w.OriginalRecurringPaymentID = rt.OriginalID
	}
	return marshalCall(http.MethodPost, PathPayments, opCreate, w)
}

type wireCancel struct {
	Status       Status `json:"status"`
	Cancellation struct {
		CancelledBy struct {
			Document consent.Document `json:"document"`
		} `json:"cancelledBy"`
	} `json:"cancellation"`
}

// EncodeCancel returns PATCH /pix/recurring-payments/{paymentID} that
// cancels the payment on behalf of the payer or receiver whose document is
// cancelledBy. Its rel is inferred from the length (11 → CPF, 14 → CNPJ) when
// empty. The body is the same on every version, but 2.0/2.1 holders accept
// numeric documents only.
func EncodeCancel(v Version, paymentID string, cancelledBy consent.Document) (Call, error) {
	if err := checkVersion(v); err != nil {
		return Call{}, err
	}
	if !paymentIDRE.MatchString(paymentID) {
		return Call{}, fmt.Errorf("payments: encode cancel: recurringPaymentId %q: %w", paymentID, ErrInvalidFormat)
	}
	if cancelledBy.Rel == "" {
		cancelledBy = consent.DocumentFor(cancelledBy.Identification)
	}
	if !documentValid(v, cancelledBy) {
		return Call{}, fmt.Errorf("payments: encode cancel: cancelledBy.document %q (%s): %w",
			cancelledBy.Identification, cancelledBy.Rel, ErrInvalidFormat)
	}
	var w wireCancel
	w.Status = StatusCANC
	w.Cancellation.CancelledBy.Document = cancelledBy
	return marshalCall(http.MethodPatch, PathPayments+"/"+url.PathEscape(paymentID), opPatch, w)
}

// documentValid checks a CPF/CNPJ against the version's pattern.
func documentValid(v Version, d consent.Document) bool {
	switch d.Rel {
	case consent.RelCPF:
		return consent.IsCPF(d.Identification)
	case consent.RelCNPJ:
		if v.AlphanumericIDs() {
			return consent.IsCNPJ(d.Identification)
		}
		return len(d.Identification) == 14 && allBytes(d.Identification, isDigit)
	}
	return false
}

type wireCancellation struct {
	Reason        CancellationReason `json:"reason"`
	CancelledFrom consent.From       `json:"cancelledFrom"`
	CancelledAt   *consent.DateTime  `json:"cancelledAt"`
	CancelledBy   struct {
		Document consent.Document `json:"document"`
	} `json:"cancelledBy"`
}

// wirePayment is the union of every payment response data object.
type wirePayment struct {
	RecurringPaymentID           string            `json:"recurringPaymentId"`
	RecurringConsentID           string            `json:"recurringConsentId"`
	EndToEndID                   string            `json:"endToEndId"`
	Date                         *consent.Date     `json:"date"`
	CreationDateTime             *consent.DateTime `json:"creationDateTime"`
	StatusUpdateDateTime         *consent.DateTime `json:"statusUpdateDateTime"`
	Status                       Status            `json:"status"`
	RejectionReason              *RejectionReason  `json:"rejectionReason"`
	CNPJInitiator                string            `json:"cnpjInitiator"`
	Payment                      *wireAmount       `json:"payment"`
	RemittanceInformation        string            `json:"remittanceInformation"`
	CreditorAccount              *wireAccount      `json:"creditorAccount"`
	DebtorAccount                *wireAccount      `json:"debtorAccount"`
	Cancellation                 *wireCancellation `json:"cancellation"`
	AuthorisationFlow            AuthorisationFlow `json:"authorisationFlow"`
	LocalInstrument              LocalInstrument   `json:"localInstrument"`
	Proxy                        string            `json:"proxy"`
	TransactionIdentification    string            `json:"transactionIdentification"`
	Document                     *consent.Document `json:"document"`
	OriginalRecurringPaymentID   string            `json:"originalRecurringPaymentId"`
	PaymentReference             string            `json:"paymentReference"`
	LastRetryRecurringPaymentIDs []string          `json:"lastRetryRecurringPaymentIds"`
}

func (w *wirePayment) model() (Payment, error) {
	if w.RecurringPaymentID == "" {
		return Payment{}, fmt.Errorf("payments: decode payment: recurringPaymentId: %w", ErrMissing)
	}
	p := Payment{
		ID:                           w.RecurringPaymentID,
		ConsentID:                    w.RecurringConsentID,
		EndToEndID:                   w.EndToEndID,
		Status:                       w.Status,
		RejectionReason:              w.RejectionReason,
		CNPJInitiator:                w.CNPJInitiator,
		RemittanceInformation:        w.RemittanceInformation,
		CreditorAccount:              w.CreditorAccount.model(),
		DebtorAccount:                w.DebtorAccount.model(),
		AuthorisationFlow:            w.AuthorisationFlow,
		LocalInstrument:              w.LocalInstrument,
		Proxy:                        w.Proxy,
		TransactionIdentification:    w.TransactionIdentification,
		OriginalRecurringPaymentID:   w.OriginalRecurringPaymentID,
		PaymentReference:             w.PaymentReference,
		LastRetryRecurringPaymentIDs: w.LastRetryRecurringPaymentIDs,
	}
	if w.Date != nil {
		p.Date = *w.Date
	}
	if w.CreationDateTime != nil {
		p.CreationDateTime = *w.CreationDateTime
	}
	if w.StatusUpdateDateTime != nil {
		p.StatusUpdateDateTime = *w.StatusUpdateDateTime
	}
	if w.Payment != nil {
		p.Amount, p.Currency = w.Payment.Amount, w.Payment.Currency
	}
	if w.Document != nil {
		p.Document = *w.Document
	}
	if c := w.Cancellation; c != nil {
		p.Cancellation = &Cancellation{
			Reason:        c.Reason,
			CancelledFrom: c.CancelledFrom,
			CancelledBy:   c.CancelledBy.Document,
		}
		if c.CancelledAt != nil {
			p.Cancellation.CancelledAt = *c.CancelledAt
		}
	}
	return p, nil
}

// DecodePayment decodes the data object of a payment response: POST 201,
// retry 201, GET /pix/recurring-payments/{id} or PATCH 200, of any version.
// Absent fields stay at their zero value and unknown fields are ignored;
// unknown status and rejection codes are kept as received. Present values
// must be well formed (amounts, dates and date-times per the spec), and
// recurringPaymentId is required.
func DecodePayment(data []byte) (Payment, error) {
	var w wirePayment
	if err := json.Unmarshal(data, &w); err != nil {
		return Payment{}, fmt.Errorf("payments: decode payment: %w", err)
	}
	return w.model()
}

// DecodePayments decodes the data array of GET /pix/recurring-payments. List
// items are a subset of the payment (no cnpjInitiator, creditorAccount,
// localInstrument, …); those fields stay empty.
func DecodePayments(data []byte) ([]Payment, error) {
	var ws []wirePayment
	if err := json.Unmarshal(data, &ws); err != nil {
		return nil, fmt.Errorf("payments: decode payment list: %w", err)
	}
	out := make([]Payment, 0, len(ws))
	for i := range ws {
		p, err := ws[i].model()
		if err != nil {
			return nil, fmt.Errorf("payments: decode payment list item %d: %w", i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// ListFilter is the query of GET /pix/recurring-payments.
type ListFilter struct {
	// ConsentID (recurringConsentId) is required.
	ConsentID string
	// StartDate and EndDate cut by payment date; zero means no bound.
	StartDate consent.Date // startDate, optional
	EndDate   consent.Date // endDate, optional
	// OriginalID (originalRecurringPaymentId) selects an original and its
	// retries.
	OriginalID string
}

// consentIDRE is the spec's pattern of recurringConsentId.
var consentIDRE = regexp.MustCompile(`^urn:[a-zA-Z0-9][a-zA-Z0-9\-]{0,31}:[a-zA-Z0-9()+,\-.:=@;$_!*'%\/?#]+$`)

// Query validates the filter (checklist item 67: recurringConsentId
// present, startDate ≤ endDate) and returns it as URL query values. Every
// failure is reported, as [ValidationErrors].
func (f ListFilter) Query() (url.Values, error) {
	var c collector
	switch {
	case f.ConsentID == "":
		c.add(67, "recurringConsentId", ErrMissing, "required")
	case len(f.ConsentID) > 256 || !consentIDRE.MatchString(f.ConsentID):
		c.add(67, "recurringConsentId", ErrInvalidFormat, "must be a URN of at most 256 characters")
	}
	if !f.StartDate.IsZero() && !validDate(f.StartDate) {
		c.add(67, "startDate", ErrInvalidFormat, "must be a calendar date")
	}
	if !f.EndDate.IsZero() && !validDate(f.EndDate) {
		c.add(67, "endDate", ErrInvalidFormat, "must be a calendar date")
	}
	if !f.StartDate.IsZero() && !f.EndDate.IsZero() && f.StartDate.After(f.EndDate) {
		c.add(67, "startDate", ErrDateRange, "must not be after endDate %s", f.EndDate)
	}
	if f.OriginalID != "" && !paymentIDRE.MatchString(f.OriginalID) {
		c.add(67, "originalRecurringPaymentId", ErrInvalidFormat, `must match ^[a-zA-Z0-9][a-zA-Z0-9\-]{0,99}$`)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	q := url.Values{"recurringConsentId": {f.ConsentID}}
	if !f.StartDate.IsZero() {
		q.Set("startDate", f.StartDate.String())
	}
	if !f.EndDate.IsZero() {
		q.Set("endDate", f.EndDate.String())
	}
	if f.OriginalID != "" {
		q.Set("originalRecurringPaymentId", f.OriginalID)
	}
	return q, nil
}
