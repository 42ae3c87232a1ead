package sandbox

import (
	"encoding/json"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
)

// paymentShape is which response a payment is rendered for.
type paymentShape int

const (
	// shapeFull: POST 201 (2.0/2.1 retries included), GET one, PATCH 200.
	shapeFull paymentShape = iota + 1
	// shapeListItem: an item of GET /pix/recurring-payments.
	shapeListItem
	// shapeRetry: the 2.2.0 retry 201 (recurringPaymentId, endToEndId,
	// date, status, originalRecurringPaymentId).
	shapeRetry
)

type wireMoney struct {
	Amount   consent.Amount `json:"amount"`
	Currency string         `json:"currency"`
}

type wireAccount struct {
	ISPB        string              `json:"ispb"`
	Issuer      string              `json:"issuer,omitempty"`
	Number      string              `json:"number"`
	AccountType consent.AccountType `json:"accountType"`
}

func accountOf(a *consent.Account) *wireAccount {
	if a == nil {
		return nil
	}
	return &wireAccount{ISPB: a.ISPB, Issuer: a.Issuer, Number: a.Number, AccountType: a.AccountType}
}

type wireCancellation struct {
	Reason        payments.CancellationReason `json:"reason"`
	CancelledFrom consent.From                `json:"cancelledFrom"`
	CancelledAt   consent.DateTime            `json:"cancelledAt"`
	CancelledBy   struct {
		Document consent.Document `json:"document"`
	} `json:"cancelledBy"`
}

type wirePayment struct {
	RecurringPaymentID         string                    `json:"recurringPaymentId"`
	RecurringConsentID         string                    `json:"recurringConsentId,omitempty"`
	EndToEndID                 string                    `json:"endToEndId"`
	Date                       consent.Date              `json:"date"`
	CreationDateTime           *consent.DateTime         `json:"creationDateTime,omitempty"`
	StatusUpdateDateTime       *consent.DateTime         `json:"statusUpdateDateTime,omitempty"`
	Status                     payments.Status           `json:"status"`
	RejectionReason            *payments.RejectionReason `json:"rejectionReason,omitempty"`
	CNPJInitiator              string                    `json:"cnpjInitiator,omitempty"`
	Payment                    *wireMoney                `json:"payment,omitempty"`
	RemittanceInformation      string                    `json:"remittanceInformation,omitempty"`
	CreditorAccount            *wireAccount              `json:"creditorAccount,omitempty"`
	DebtorAccount              *wireAccount              `json:"debtorAccount,omitempty"`
	Cancellation               *wireCancellation         `json:"cancellation,omitempty"`
	AuthorisationFlow          string                    `json:"authorisationFlow,omitempty"`
	LocalInstrument            payments.LocalInstrument  `json:"localInstrument,omitempty"`
	Document                   *consent.Document         `json:"document,omitempty"`
	OriginalRecurringPaymentID string                    `json:"originalRecurringPaymentId,omitempty"`
	PaymentReference           string                    `json:"paymentReference,omitempty"`
}

// paymentData renders a payment's data object in a shape.
func (a *automatic) paymentData(p *apPayment, shape paymentShape) json.RawMessage {
	w := wirePayment{
		RecurringPaymentID:         p.p.ID,
		EndToEndID:                 p.p.EndToEndID,
		Date:                       p.p.Date,
		Status:                     p.p.Status,
		OriginalRecurringPaymentID: p.p.OriginalRecurringPaymentID,
	}
	if shape != shapeRetry {
		created, updated := p.p.CreationDateTime, p.p.StatusUpdateDateTime
		doc := p.p.Document
		w.RecurringConsentID = p.p.ConsentID
		w.CreationDateTime, w.StatusUpdateDateTime = &created, &updated
		w.RejectionReason = p.p.RejectionReason
		w.Payment = &wireMoney{Amount: p.p.Amount, Currency: p.p.Currency}
		w.RemittanceInformation = p.p.RemittanceInformation
		w.Document = &doc
		w.PaymentReference = p.p.PaymentReference
	}
	if shape == shapeFull {
		w.CNPJInitiator = p.p.CNPJInitiator
		w.CreditorAccount = accountOf(p.p.CreditorAccount)
		w.DebtorAccount = accountOf(p.p.DebtorAccount)
		w.LocalInstrument = p.p.LocalInstrument
		if p.flowSent {
			w.AuthorisationFlow = string(p.p.AuthorisationFlow)
		}
		if cn := p.p.Cancellation; cn != nil {
			wc := &wireCancellation{Reason: cn.Reason, CancelledFrom: cn.CancelledFrom, CancelledAt: cn.CancelledAt}
			wc.CancelledBy.Document = cn.CancelledBy
			w.Cancellation = wc
		}
	}
	raw, err := json.Marshal(w)
	if err != nil {
		a.b.log.Error("sandbox: cannot render payment", "recurringPaymentId", p.p.ID, "error", err)
	}
	return raw
}

// paymentBody renders a single-payment response.
func (a *automatic) paymentBody(p *apPayment, shape paymentShape) map[string]any {
	return map[string]any{
		"data":  a.paymentData(p, shape),
		"links": a.link(AutomaticPaymentsBase + "/pix/recurring-payments/" + p.p.ID),
		"meta":  a.meta(),
	}
}

func (a *automatic) paymentRenderer(id string, shape paymentShape) func() map[string]any {
	return func() map[string]any {
		tx := a.begin()
		defer tx.end()
		return a.paymentBody(a.payments[id], shape)
	}
}
