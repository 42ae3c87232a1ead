package payments

import (
	"github.com/ofb-go/pixauto/consent"
)

// LocalInstrument is how a payment was initiated (localInstrument).
type LocalInstrument string

// Local instruments. Pix Automático uses only MANU and AUTO; which one is
// chosen by the wire adapter from the API version (see [InstrumentFor]).
const (
	// InstrumentMANU: account data entered manually. The first payment
	// ("zero") on every version, and every payment on 2.0/2.1 holders.
	InstrumentMANU LocalInstrument = "MANU"
	// InstrumentDICT: Pix key entered manually (not used by Pix Automático).
	InstrumentDICT LocalInstrument = "DICT"
	// InstrumentINIC: receiver-contracted initiation (not used by Pix
	// Automático).
	InstrumentINIC LocalInstrument = "INIC"
	// InstrumentAUTO: a Pix Automático recurrence (2.2.0 and later).
	InstrumentAUTO LocalInstrument = "AUTO"
)

// AuthorisationFlow is the flow under which the payment was authorised
// (authorisationFlow). The zero value means HYBRID_FLOW, which is omitted
// on the wire.
type AuthorisationFlow string

// Authorisation flows.
const (
	// FlowHybrid is the redirect flow; it is the default and never sent.
	FlowHybrid AuthorisationFlow = "HYBRID_FLOW"
	// FlowCIBA is client-initiated backchannel authentication.
	FlowCIBA AuthorisationFlow = "CIBA_FLOW"
	// FlowFIDO is the no-redirect (JSR / enrollments) flow; the request must
	// then carry recurringConsentId.
	FlowFIDO AuthorisationFlow = "FIDO_FLOW"
)

// CancellationReason says in which status a payment was cancelled.
type CancellationReason string

// Cancellation reasons.
const (
	// CancelledPending: cancelled while PDNG.
	CancelledPending CancellationReason = "CANCELADO_PENDENCIA"
	// CancelledScheduled: cancelled while SCHD.
	CancelledScheduled CancellationReason = "CANCELADO_AGENDAMENTO"
)

// Cancellation is a cancelled payment's cancellation object.
type Cancellation struct {
	Reason        CancellationReason // status it was cancelled in
	CancelledFrom consent.From       // INICIADORA or DETENTORA
	CancelledAt   consent.DateTime   // when, UTC
	// CancelledBy is the document of the payer or receiver who asked.
	CancelledBy consent.Document
}

// Payment is a recurring payment as the holder returns it, whatever the API
// version: POST 201, retry 201, GET one, GET list item or PATCH 200. Fields
// a given response does not carry are left at their zero value (list items,
// for instance, have no CNPJInitiator, CreditorAccount or LocalInstrument,
// and a 2.2.0 retry 201 has only ID, EndToEndID, Date, Status and
// OriginalRecurringPaymentID).
type Payment struct {
	ID         string       // recurringPaymentId
	ConsentID  string       // recurringConsentId
	EndToEndID string       // endToEndId, as echoed by the holder
	Date       consent.Date // Brasília settlement date
	Status     Status       // status, kept as received
	// RejectionReason is set when Status is RJCT.
	RejectionReason *RejectionReason
	Amount          consent.Amount   // payment.amount
	Currency        string           // payment.currency ("BRL")
	CNPJInitiator   string           // the ITP's CNPJ
	CreditorAccount *consent.Account // the receiver's account
	DebtorAccount   *consent.Account // the payer's account, when returned
	Document        consent.Document // the receiver's document
	LocalInstrument LocalInstrument  // MANU or AUTO for Pix Automático
	// AuthorisationFlow is empty when the holder omitted it (HYBRID_FLOW).
	AuthorisationFlow         AuthorisationFlow
	Proxy                     string // never used by Pix Automático
	TransactionIdentification string // never used by Pix Automático
	RemittanceInformation     string // free text to the receiver
	// PaymentReference is the raw wire value ("zero", "R/2025-07-23/P1W",
	// "M09-2024", …); see [ParsePaymentReference].
	PaymentReference string
	// OriginalRecurringPaymentID is set on retries: the id of the original
	// attempt of the recurrence.
	OriginalRecurringPaymentID string
	// LastRetryRecurringPaymentIDs is the early draft's (2.0.0-beta.1) list
	// of previous attempts; empty on every other version.
	LastRetryRecurringPaymentIDs []string
	Cancellation                 *Cancellation    // set when Status is CANC
	CreationDateTime             consent.DateTime // creation, UTC
	StatusUpdateDateTime         consent.DateTime // last status change, UTC
}

// IsRetry reports whether the payment is a retry of another one.
func (p *Payment) IsRetry() bool { return p.OriginalRecurringPaymentID != "" }

// RejectionCode returns the rejection code, or "" if there is none.
func (p *Payment) RejectionCode() RejectionCode {
	if p.RejectionReason == nil {
		return ""
	}
	return p.RejectionReason.Code
}

// Attempt returns the payment as one attempt of a retry chain.
func (p *Payment) Attempt() Attempt {
	return Attempt{
		ID:            p.ID,
		EndToEndID:    p.EndToEndID,
		Date:          p.Date,
		Status:        p.Status,
		RejectionCode: p.RejectionCode(),
		Created:       p.CreationDateTime.Time,
		StatusUpdated: p.StatusUpdateDateTime.Time,
	}
}

// Request is what the ITP asks the holder for in POST /pix/recurring-payments:
// one model for every API version. The wire adapter ([EncodeCreate]) derives
// the version-specific fields from it: paymentReference is formatted from
// Reference, localInstrument is chosen from Reference and the version,
// payment.currency is always BRL, and proxy and transactionIdentification
// are never sent (checklist items 29, 35–38).
type Request struct {
	// ConsentID is recurringConsentId. It is required for FIDO_FLOW and
	// optional otherwise (the consent comes from the access token).
	ConsentID  string
	EndToEndID string         // see [Generator]
	Date       consent.Date   // Brasília settlement date
	Amount     consent.Amount // payment.amount; the currency is always BRL
	// CreditorAccount is the receiver's account. For the first payment it
	// must equal the consent's firstPayment.creditorAccount.
	CreditorAccount       consent.Account
	RemittanceInformation string // ≤140 characters
	CNPJInitiator         string // the ITP's own CNPJ
	IBGETownCode          string // optional, 7 digits
	// AuthorisationFlow is empty (or FlowHybrid) for the redirect flow.
	AuthorisationFlow AuthorisationFlow
	// Document is the receiver's document: the consent's creditor.
	Document consent.Document
	// Reference says what is being paid: the first payment or a cycle.
	Reference PaymentReference
}

// Retry is a new attempt of a failed recurrence, in one model for every
// API version. [EncodeRetry] turns it into POST …/{OriginalID}/retry on
// 2.2.0 and into a copy of the original POST body on 2.0/2.1 and the early
// draft.
type Retry struct {
	// OriginalID is the recurringPaymentId of the original attempt of the
	// recurrence (never that of an earlier retry).
	OriginalID string
	// EndToEndID is a new E2EID built from Date at 15:00 UTC.
	EndToEndID string
	// Date is the retry's settlement date: today (intraday) or tomorrow
	// (extraday), in Brasília.
	Date consent.Date
	// Original is the original attempt's request. It is required for
	// 2.0/2.1 and the early draft, whose retry body is a copy of it; 2.2.0
	// does not need it.
	Original *Request
	// FailedAttemptIDs lists the ids of the previous failed attempts, for
	// the early draft's lastRetryRecurringPaymentIds; see
	// [Chain.FailedAttemptIDs].
	FailedAttemptIDs []string
}
