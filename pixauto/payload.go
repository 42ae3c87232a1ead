package pixauto

import (
	"encoding/json"
	"fmt"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
)

// attemptPayload is what AttemptRecord.Request holds: the request of the
// original attempt, or the retry, exactly as sent (or to be sent), so that
// a resend carries the same data under the same idempotency key.
type attemptPayload struct {
	ConsentID             string                     `json:"consentId,omitempty"`
	EndToEndID            string                     `json:"endToEndId"`
	Date                  consent.Date               `json:"date"`
	Amount                consent.Amount             `json:"amount"`
	CreditorAccount       consent.Account            `json:"creditorAccount"`
	RemittanceInformation string                     `json:"remittanceInformation,omitempty"`
	CNPJInitiator         string                     `json:"cnpjInitiator"`
	IBGETownCode          string                     `json:"ibgeTownCode,omitempty"`
	AuthorisationFlow     payments.AuthorisationFlow `json:"authorisationFlow,omitempty"`
	Document              consent.Document           `json:"document"`
	// Reference is the ISO form ("zero" or "R/<start>/<period>").
	Reference string `json:"reference"`
	// OriginalID is set on retries: the original attempt's payment id.
	OriginalID string `json:"originalId,omitempty"`
}

func encodePayload(r *payments.Request, originalID string) ([]byte, error) {
	ref, err := r.Reference.ISO()
	if err != nil {
		return nil, err
	}
	return json.Marshal(attemptPayload{
		ConsentID: r.ConsentID, EndToEndID: r.EndToEndID, Date: r.Date, Amount: r.Amount,
		CreditorAccount: r.CreditorAccount, RemittanceInformation: r.RemittanceInformation,
		CNPJInitiator: r.CNPJInitiator, IBGETownCode: r.IBGETownCode, AuthorisationFlow: r.AuthorisationFlow,
		Document: r.Document, Reference: ref, OriginalID: originalID,
	})
}

func decodePayload(b []byte) (*payments.Request, string, error) {
	var p attemptPayload
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, "", fmt.Errorf("pixauto: stored attempt request: %w", err)
	}
	ref, err := payments.ParsePaymentReference(p.Reference)
	if err != nil {
		return nil, "", fmt.Errorf("pixauto: stored attempt request: %w", err)
	}
	return &payments.Request{
		ConsentID: p.ConsentID, EndToEndID: p.EndToEndID, Date: p.Date, Amount: p.Amount,
		CreditorAccount: p.CreditorAccount, RemittanceInformation: p.RemittanceInformation,
		CNPJInitiator: p.CNPJInitiator, IBGETownCode: p.IBGETownCode, AuthorisationFlow: p.AuthorisationFlow,
		Document: p.Document, Reference: ref,
	}, p.OriginalID, nil
}
