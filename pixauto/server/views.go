package server

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/server/api"
)

// How the Initiator's records look to a receiver. Nothing the receiver may
// not see is rendered: no payer maximum, no bank rejection code (only the
// receiver-safe reason), no idempotency key, no token.

// apiTime is a UTC instant with second precision.
func apiTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	v := apiTime(t)
	return &v
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

var intervals = map[consent.Interval]api.Interval{
	consent.IntervalSemanal:    api.WEEKLY,
	consent.IntervalMensal:     api.MONTHLY,
	consent.IntervalTrimestral: api.QUARTERLY,
	consent.IntervalSemestral:  api.HALFYEARLY,
	consent.IntervalAnual:      api.YEARLY,
}

func intervalFromAPI(i api.Interval) consent.Interval {
	for k, v := range intervals {
		if v == i {
			return k
		}
	}
	return ""
}

func reasonView(r pixauto.ReceiverReason) *api.Reason {
	if r == "" {
		return nil
	}
	return &api.Reason{Code: api.ReasonCode(r), Text: r.Text()}
}

// consentReason is the receiver-safe reason of a final consent, as the
// Initiator's events give it.
func consentReason(c *consent.Consent) pixauto.ReceiverReason {
	switch c.Status {
	case consent.StatusRejected:
		return pixauto.ReasonRejectedByPayer
	case consent.StatusRevoked:
		if c.Revocation != nil && c.Revocation.Reason.Code == consent.RevocationRecebedor {
			return pixauto.ReasonRevokedByReceiver
		}
		return pixauto.ReasonRevokedByPayer
	}
	return ""
}

func consentView(rec *pixauto.ConsentRecord) api.Consent {
	v := api.Consent{
		Id: rec.ID, Status: api.ConsentStatus(rec.Status), HolderId: rec.HolderID,
		CreatedAt: apiTime(rec.CreatedAt), UpdatedAt: apiTime(rec.UpdatedAt),
	}
	c := rec.Consent
	if c == nil {
		return v
	}
	v.StatusReason = reasonView(consentReason(c))
	if len(c.Creditors) > 0 {
		v.CreditorName = c.Creditors[0].Name
	}
	if c.LoggedUser != nil {
		v.Payer.Document = c.LoggedUser.Document.Identification
	}
	if c.ExpirationDateTime != nil {
		d := consent.DateOf(c.ExpirationDateTime.Time, time.UTC).String()
		v.ExpiresOn = &d
	}
	if c.AuthorisedAtDateTime != nil {
		v.AuthorisedAt = optTime(c.AuthorisedAtDateTime.Time)
	}
	if a := c.Automatic(); a != nil {
		v.ContractId, v.Interval = a.ContractID, intervals[a.Interval]
		v.ReferenceStartDate, v.RetriesAccepted = a.ReferenceStartDate.String(), a.IsRetryAccepted
		v.Debtor = api.PersonView{Document: a.ContractDebtor.Document.Identification, Name: optString(a.ContractDebtor.Name)}
		if v.Payer.Document == a.ContractDebtor.Document.Identification {
			v.Payer.Name = optString(a.ContractDebtor.Name)
		}
		if a.FixedAmount != nil {
			s := a.FixedAmount.String()
			v.FixedAmount = &s
		}
		if a.MinimumVariableAmount != nil {
			s := a.MinimumVariableAmount.String()
			v.MinimumAmount = &s
		}
		if fp := a.FirstPayment; fp != nil {
			v.FirstPayment = &struct {
				Amount      api.Money `json:"amount"`
				Date        api.Date  `json:"date"`
				Description *string   `json:"description,omitempty"`
			}{Amount: fp.Amount.String(), Date: fp.Date.String(), Description: optString(fp.RemittanceInformation)}
		}
	}
	return v
}

var attemptKinds = map[payments.AttemptKind]api.AttemptKind{
	payments.KindOriginal: api.Original,
	payments.KindIntraday: api.IntradayRetry,
	payments.KindExtraday: api.NextDayRetry,
}

func chargeView(ch *pixauto.ChargeRecord, attempts []*pixauto.AttemptRecord) api.Charge {
	v := api.Charge{
		Id: ch.ID, ConsentId: ch.ConsentID, Status: api.ChargeStatus(ch.Status), Amount: ch.Amount.String(), DueDate: ch.DueDate.String(),
		Description: optString(ch.Description), ExternalId: optString(ch.ExternalID),
		CreatedAt: apiTime(ch.CreatedAt), UpdatedAt: apiTime(ch.UpdatedAt),
	}
	if ch.Reference == payments.ReferenceZero {
		t := true
		v.FirstPayment = &t
	}
	if ch.Status == pixauto.ChargeFailed || ch.Status == pixauto.ChargeRetrying {
		v.StatusReason = reasonView(pixauto.ReasonForRejection(ch.FailureCode))
	}
	if attempts != nil {
		as := make([]api.Attempt, 0, len(attempts))
		for _, a := range attempts {
			av := api.Attempt{
				Id: a.ID, Seq: a.Seq, Kind: attemptKinds[a.Kind], Date: a.Date.String(), State: api.AttemptState(a.State),
				EndToEndId: a.EndToEndID, SubmitAt: optTime(a.SubmitAt), CreatedAt: apiTime(a.CreatedAt), UpdatedAt: apiTime(a.UpdatedAt),
			}
			if av.Kind == "" {
				av.Kind = api.Original
			}
			if a.Status != "" {
				s := string(a.Status)
				av.BankStatus = &s
			}
			as = append(as, av)
		}
		v.Attempts = &as
	}
	return v
}

func subscriptionView(s *Subscription) api.WebhookSubscription {
	return api.WebhookSubscription{Id: s.ID, Url: s.URL, Description: optString(s.Description), CreatedAt: apiTime(s.CreatedAt)}
}

func deliveryView(d *Delivery, attempts []*DeliveryAttempt) api.WebhookDelivery {
	v := api.WebhookDelivery{
		Id: d.ID, SubscriptionId: d.SubscriptionID, EventId: d.EventID, EventType: d.EventType, Status: api.DeliveryStatus(d.Status),
		NextAttemptAt: optTime(d.NextAttemptAt), CreatedAt: apiTime(d.CreatedAt), UpdatedAt: apiTime(d.UpdatedAt),
		Attempts: make([]api.WebhookDeliveryAttempt, 0, len(attempts)),
	}
	var payload map[string]any
	if json.Unmarshal(d.Payload, &payload) == nil {
		v.Payload = &payload
	}
	for _, a := range attempts {
		av := api.WebhookDeliveryAttempt{Seq: a.Seq, At: apiTime(a.At), DurationMs: int(a.Duration.Milliseconds()), Error: optString(a.Error)}
		if a.StatusCode != 0 {
			c := a.StatusCode
			av.StatusCode = &c
		}
		v.Attempts = append(v.Attempts, av)
	}
	return v
}

// Cursors are opaque: the base64url of the last ID of a page.
func encodeCursor(lastID string) *string {
	s := base64.RawURLEncoding.EncodeToString([]byte(lastID))
	return &s
}

func decodeCursor(c *string) (string, *Problem) {
	if c == nil || *c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*c)
	if err != nil || len(b) == 0 {
		return "", fieldProblem(http.StatusBadRequest, []api.FieldError{{Field: "cursor", Message: "is not a cursor of this API"}})
	}
	return string(b), nil
}

func pageLimit(l *int) int {
	if l == nil {
		return 50
	}
	return *l
}
