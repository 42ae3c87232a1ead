package pixauto

import (
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
)

// EventType names a state change.
type EventType string

// Event types.
const (
	EventConsentCreated    EventType = "consent.created"
	EventConsentAuthorised EventType = "consent.authorised"
	EventConsentRejected   EventType = "consent.rejected"
	EventConsentRevoked    EventType = "consent.revoked"
	EventConsentConsumed   EventType = "consent.consumed"
	EventConsentUpdated    EventType = "consent.updated" // edited, here or at the bank
	EventChargePlanned     EventType = "charge.planned"
	EventChargeScheduled   EventType = "charge.scheduled"
	EventChargeRetrying    EventType = "charge.retrying"
	EventChargeSettled     EventType = "charge.settled"
	EventChargeFailed      EventType = "charge.failed"
	EventChargeCancelled   EventType = "charge.cancelled"
)

// Event is a state change, as delivered to Config.OnEvent after it is
// stored. Its Reason is safe to show the receiver: balance and limit
// reasons are never forwarded as such (spec digest §5.13, checklist item
// 69); the payer's maximum amount is never included.
type Event struct {
	Type       EventType
	Time       time.Time
	ReceiverID string
	ConsentID  string
	ChargeID   string // "" for consent events
	// ConsentStatus or ChargeStatus, whichever the event concerns.
	ConsentStatus consent.Status
	ChargeStatus  ChargeStatus
	// Reason is the receiver-safe reason of a failure, rejection or
	// revocation ("" otherwise); ReasonText explains it in plain words.
	Reason     ReceiverReason
	ReasonText string
}

// ReceiverReason is a failure reason as a receiver may see it.
type ReceiverReason string

// Receiver-safe reasons.
const (
	// ReasonPayerBankRefused covers insufficient balance and every limit
	// reason: the receiver is told only that the payer's bank refused, and
	// the payer is pointed to the bank.
	ReasonPayerBankRefused ReceiverReason = "PAYER_BANK_REFUSED"
	// ReasonInfrastructure: a failure at SPI, ICP, a PSP or the bank; the
	// charge may be retried.
	ReasonInfrastructure ReceiverReason = "INFRASTRUCTURE_FAILURE"
	// ReasonConsentInvalid: the consent is no longer usable.
	ReasonConsentInvalid ReceiverReason = "CONSENT_NOT_USABLE"
	// ReasonDataMismatch: the charge does not match the consent (amount,
	// creditor, dates).
	ReasonDataMismatch ReceiverReason = "CHARGE_DOES_NOT_MATCH_CONSENT"
	// ReasonAccountMismatch: the receiving account is not the creditor's.
	ReasonAccountMismatch ReceiverReason = "RECEIVER_ACCOUNT_MISMATCH"
	// ReasonOutOfTime: outside the allowed dates or times.
	ReasonOutOfTime ReceiverReason = "OUT_OF_ALLOWED_TIME"
	// ReasonRetriesExhausted: no attempt left.
	ReasonRetriesExhausted ReceiverReason = "RETRIES_EXHAUSTED"
	// ReasonRevokedByPayer, ReasonRevokedByReceiver: who revoked.
	ReasonRevokedByPayer    ReceiverReason = "REVOKED_BY_PAYER"
	ReasonRevokedByReceiver ReceiverReason = "REVOKED_BY_RECEIVER"
	// ReasonRejectedByPayer: the payer did not authorise the consent.
	ReasonRejectedByPayer ReceiverReason = "NOT_AUTHORISED_BY_PAYER"
	// ReasonOther: anything else (including reasons the bank did not
	// disclose).
	ReasonOther ReceiverReason = "OTHER"
)

var reasonText = map[ReceiverReason]string{
	ReasonPayerBankRefused:  "The payer's bank refused the payment. The payer should contact their bank.",
	ReasonInfrastructure:    "A temporary failure in the payment system.",
	ReasonConsentInvalid:    "The Pix Automático authorisation is no longer valid.",
	ReasonDataMismatch:      "The charge does not match the authorisation.",
	ReasonAccountMismatch:   "The receiving account does not belong to the receiver.",
	ReasonOutOfTime:         "The charge was outside the allowed dates or times.",
	ReasonRetriesExhausted:  "No further attempts are allowed.",
	ReasonRevokedByPayer:    "The payer cancelled the authorisation.",
	ReasonRevokedByReceiver: "The receiver cancelled the authorisation.",
	ReasonRejectedByPayer:   "The payer did not authorise.",
	ReasonOther:             "The payment could not be completed.",
}

// Text returns the plain-words explanation of r.
func (r ReceiverReason) Text() string { return reasonText[r] }

// ReasonForRejection maps a payment rejection code to what the receiver may
// see. SALDO_INSUFICIENTE, VALOR_ACIMA_LIMITE and every LIMITE_* code become
// ReasonPayerBankRefused (checklist item 69).
func ReasonForRejection(code payments.RejectionCode) ReceiverReason {
	switch code {
	case "":
		return ""
	case payments.RejectionSaldoInsuficiente, payments.RejectionValorAcimaLimite, payments.RejectionPagamentoRecusadoDetentora,
		payments.RejectionLimitePeriodoValorExcedido, payments.RejectionLimitePeriodoQuantidadeExcedido,
		payments.RejectionLimiteValorTotalConsentimentoExcedido, payments.RejectionLimiteValorTransacaoConsentimentoExcedido:
		return ReasonPayerBankRefused
	case payments.RejectionFalhaInfraestruturaSPI, payments.RejectionFalhaInfraestruturaICP, payments.RejectionFalhaInfraestruturaPSPRecebedor,
		payments.RejectionFalhaInfraestruturaDetentora, payments.RejectionPagamentoRecusadoSPI:
		return ReasonInfrastructure
	case payments.RejectionConsentimentoInvalido, payments.RejectionConsentimentoRevogado:
		return ReasonConsentInvalid
	case payments.RejectionValorInvalido, payments.RejectionPagamentoDivergenteConsentimento, payments.RejectionDetalhePagamentoInvalido, payments.RejectionDetalheTentativaInvalido:
		return ReasonDataMismatch
	case payments.RejectionTitularidadeInconsistente:
		return ReasonAccountMismatch
	case payments.RejectionForaPrazoPermitido:
		return ReasonOutOfTime
	case payments.RejectionLimiteTentativasExcedido:
		return ReasonRetriesExhausted
	}
	return ReasonOther
}
