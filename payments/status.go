package payments

// Status is the status of a recurring payment (EnumPaymentStatusType).
// Values the SDK does not know are kept as received; see [Status.Known].
type Status string

// Payment statuses, in the order the spec describes them.
const (
	// StatusRCVD (Received): the holder received the request; validations
	// are still pending before it is submitted for settlement.
	StatusRCVD Status = "RCVD"
	// StatusACCP (Accepted Customer Profile): every check at the holder
	// passed; the payment is ready to be sent for settlement.
	StatusACCP Status = "ACCP"
	// StatusACPD (Accepted Clearing Processed): submitted for settlement,
	// outcome not yet known.
	StatusACPD Status = "ACPD"
	// StatusACSC (Accepted Settlement Completed): settled. Final.
	StatusACSC Status = "ACSC"
	// StatusRJCT (Rejected): rejected by the holder or by SPI; the payment
	// carries a rejectionReason. Final for this attempt; a retry is a new
	// resource.
	StatusRJCT Status = "RJCT"
	// StatusCANC (Cancelled): cancelled while SCHD or PDNG, by the payer or
	// the receiver (PATCH) or by the holder (e.g. after a revocation). Final.
	StatusCANC Status = "CANC"
	// StatusPDNG (Pending): held by the holder for analysis.
	StatusPDNG Status = "PDNG"
	// StatusSCHD (Scheduled): accepted and scheduled for its settlement date.
	// Retries move to SCHD as well.
	StatusSCHD Status = "SCHD"
)

// Known reports whether s is one of the eight statuses of the spec.
func (s Status) Known() bool {
	switch s {
	case StatusRCVD, StatusACCP, StatusACPD, StatusACSC, StatusRJCT, StatusCANC, StatusPDNG, StatusSCHD:
		return true
	}
	return false
}

// Final reports whether no further transition can happen: ACSC, RJCT or
// CANC. An unknown status is not final.
func (s Status) Final() bool {
	return s == StatusACSC || s == StatusRJCT || s == StatusCANC
}

// Failed reports whether the attempt ended without settling: RJCT or CANC.
func (s Status) Failed() bool { return s == StatusRJCT || s == StatusCANC }

// Cancellable reports whether the spec allows cancelling a payment in this
// status (checklist item 59): SCHD or PDNG.
func (s Status) Cancellable() bool { return s == StatusSCHD || s == StatusPDNG }

// OccupiesCycle reports whether an original payment in this status blocks
// another original for the same cycle (checklist item 33). Every status
// except RJCT and CANC does, including RCVD and unknown statuses: a payment
// that may still settle must not be doubled.
func (s Status) OccupiesCycle() bool { return !s.Failed() }

// RejectionCode is a payment rejectionReason.code (EnumRejectionReasonCode).
// Codes the SDK does not know, for instance from a newer version of the
// spec, are kept as received; see [RejectionCode.Known].
type RejectionCode string

// Payment rejection codes: the 21 codes of 2.2.0 plus CONSENTIMENTO_REVOGADO,
// which 2.0.0 and 2.1.0 still had.
const (
	// RejectionSaldoInsuficiente: the account does not have the funds.
	RejectionSaldoInsuficiente RejectionCode = "SALDO_INSUFICIENTE"
	// RejectionValorAcimaLimite: above the institution's, channel's or
	// arrangement's limit.
	RejectionValorAcimaLimite RejectionCode = "VALOR_ACIMA_LIMITE"
	// RejectionValorInvalido: the amount is not valid for the consent.
	RejectionValorInvalido RejectionCode = "VALOR_INVALIDO"
	// RejectionNaoInformado: reason not disclosed (e.g. fraud suspicion).
	RejectionNaoInformado RejectionCode = "NAO_INFORMADO"
	// RejectionPagamentoDivergenteConsentimento: the payment differs from
	// the consent.
	RejectionPagamentoDivergenteConsentimento RejectionCode = "PAGAMENTO_DIVERGENTE_CONSENTIMENTO"
	// RejectionPagamentoRecusadoDetentora: refused by the holder; the detail
	// says why.
	RejectionPagamentoRecusadoDetentora RejectionCode = "PAGAMENTO_RECUSADO_DETENTORA"
	// RejectionPagamentoRecusadoSPI: refused by SPI; the detail carries the
	// PACS.002 reason.
	RejectionPagamentoRecusadoSPI RejectionCode = "PAGAMENTO_RECUSADO_SPI"
	// RejectionFalhaInfraestruturaSPI: infrastructure failure at SPI.
	RejectionFalhaInfraestruturaSPI RejectionCode = "FALHA_INFRAESTRUTURA_SPI"
	// RejectionFalhaInfraestruturaICP: infrastructure failure at the ICP.
	RejectionFalhaInfraestruturaICP RejectionCode = "FALHA_INFRAESTRUTURA_ICP"
	// RejectionFalhaInfraestruturaPSPRecebedor: infrastructure failure at
	// the receiver's PSP.
	RejectionFalhaInfraestruturaPSPRecebedor RejectionCode = "FALHA_INFRAESTRUTURA_PSP_RECEBEDOR"
	// RejectionFalhaInfraestruturaDetentora: infrastructure failure at the
	// holder.
	RejectionFalhaInfraestruturaDetentora RejectionCode = "FALHA_INFRAESTRUTURA_DETENTORA"
	// RejectionConsentimentoInvalido: the consent is in a final state.
	RejectionConsentimentoInvalido RejectionCode = "CONSENTIMENTO_INVALIDO"
	// RejectionTitularidadeInconsistente: the creditor account is not owned
	// by the consent's CPF/CNPJ (SPI BE01).
	RejectionTitularidadeInconsistente RejectionCode = "TITULARIDADE_INCONSISTENTE"
	// RejectionLimitePeriodoValorExcedido: periodic amount limit (sweeping).
	RejectionLimitePeriodoValorExcedido RejectionCode = "LIMITE_PERIODO_VALOR_EXCEDIDO"
	// RejectionLimitePeriodoQuantidadeExcedido: periodic count limit
	// (sweeping).
	RejectionLimitePeriodoQuantidadeExcedido RejectionCode = "LIMITE_PERIODO_QUANTIDADE_EXCEDIDO"
	// RejectionLimiteValorTotalConsentimentoExcedido: global consent limit
	// (sweeping).
	RejectionLimiteValorTotalConsentimentoExcedido RejectionCode = "LIMITE_VALOR_TOTAL_CONSENTIMENTO_EXCEDIDO"
	// RejectionLimiteValorTransacaoConsentimentoExcedido: above the
	// per-transaction limit (e.g. maximumVariableAmount).
	RejectionLimiteValorTransacaoConsentimentoExcedido RejectionCode = "LIMITE_VALOR_TRANSACAO_CONSENTIMENTO_EXCEDIDO"
	// RejectionLimiteTentativasExcedido: every allowed settlement attempt
	// was used.
	RejectionLimiteTentativasExcedido RejectionCode = "LIMITE_TENTATIVAS_EXCEDIDO"
	// RejectionForaPrazoPermitido: outside the allowed time or period
	// (scheduling window, retry deadline, date after the consent expiry).
	RejectionForaPrazoPermitido RejectionCode = "FORA_PRAZO_PERMITIDO"
	// RejectionDetalheTentativaInvalido: a retry's parameters differ from
	// the original's.
	RejectionDetalheTentativaInvalido RejectionCode = "DETALHE_TENTATIVA_INVALIDO"
	// RejectionDetalhePagamentoInvalido: a parameter breaks a business rule.
	RejectionDetalhePagamentoInvalido RejectionCode = "DETALHE_PAGAMENTO_INVALIDO"
	// RejectionConsentimentoRevogado: the consent was revoked. Present in
	// 2.0.0 and 2.1.0, removed in 2.2.0 (where such payments are cancelled
	// instead); kept so that older holders are understood.
	RejectionConsentimentoRevogado RejectionCode = "CONSENTIMENTO_REVOGADO"
)

// retryClass is one row of Table 1 of the retry rules (spec digest §5.7).
type retryClass struct {
	countsAsAttempt bool
	intraday        bool // an intraday retry is allowed
	newE2EID        bool // a new endToEndId is required
	neverRetry      bool
}

var retryTable = map[RejectionCode]retryClass{
	// Row 1: the ITP must resend with a new E2EID (by 12:00 Brasília).
	RejectionNaoInformado:                    {countsAsAttempt: true, intraday: true, newE2EID: true},
	RejectionPagamentoRecusadoSPI:            {countsAsAttempt: true, intraday: true, newE2EID: true},
	RejectionFalhaInfraestruturaSPI:          {countsAsAttempt: true, intraday: true, newE2EID: true},
	RejectionFalhaInfraestruturaICP:          {countsAsAttempt: true, intraday: true, newE2EID: true},
	RejectionFalhaInfraestruturaPSPRecebedor: {countsAsAttempt: true, intraday: true, newE2EID: true},
	// Row 2: the holder retries by itself in its 18–21h window.
	RejectionSaldoInsuficiente:          {countsAsAttempt: true, intraday: true},
	RejectionValorAcimaLimite:           {countsAsAttempt: true, intraday: true},
	RejectionPagamentoRecusadoDetentora: {countsAsAttempt: true, intraday: true},
	// Rows 3 and 4: no same-day attempt; extraday retries only.
	RejectionFalhaInfraestruturaDetentora:              {countsAsAttempt: true},
	RejectionLimiteValorTransacaoConsentimentoExcedido: {countsAsAttempt: true},
	// Row 5.
	RejectionDetalheTentativaInvalido: {intraday: true},
	// Rows 6 and 7: never retry.
	RejectionValorInvalido:                         {neverRetry: true},
	RejectionPagamentoDivergenteConsentimento:      {neverRetry: true},
	RejectionConsentimentoInvalido:                 {neverRetry: true},
	RejectionTitularidadeInconsistente:             {neverRetry: true},
	RejectionLimitePeriodoValorExcedido:            {neverRetry: true},
	RejectionLimitePeriodoQuantidadeExcedido:       {neverRetry: true},
	RejectionLimiteValorTotalConsentimentoExcedido: {neverRetry: true},
	RejectionLimiteTentativasExcedido:              {neverRetry: true},
	RejectionConsentimentoRevogado:                 {neverRetry: true},
	RejectionForaPrazoPermitido:                    {neverRetry: true},
	// Not in Table 1. The rejected data breaks a business rule and a retry
	// is an exact copy of it, so it would fail the same way.
	RejectionDetalhePagamentoInvalido: {neverRetry: true},
}

// Known reports whether c is one of the 22 codes this package defines.
func (c RejectionCode) Known() bool {
	_, ok := retryTable[c]
	return ok
}

// CountsAsAttempt reports whether a rejection with this code uses up one of
// the settlement attempts the holder allows (Table 1, "conta como
// tentativa"). Unknown codes count, so that limits are never under-counted.
func (c RejectionCode) CountsAsAttempt() bool {
	rc, ok := retryTable[c]
	return !ok || rc.countsAsAttempt
}

// IntradayRetryAllowed reports whether a second attempt on the same
// settlement day is allowed after this rejection (Table 1, "permite
// tentativa intradia"). For the codes that do not need a new E2EID, that
// second attempt is the holder's own, in its 18–21h window.
func (c RejectionCode) IntradayRetryAllowed() bool { return retryTable[c].intraday }

// NeedsNewE2EID reports whether the ITP must send a new endToEndId for the
// same-day attempt (Table 1, "necessário novo E2EID"): NAO_INFORMADO,
// PAGAMENTO_RECUSADO_SPI and the three FALHA_INFRAESTRUTURA_* codes other
// than _DETENTORA.
func (c RejectionCode) NeedsNewE2EID() bool { return retryTable[c].newE2EID }

// HolderRetriesSameDay reports whether the holder itself makes a second
// attempt, with the same E2EID, in its 18–21h window after a failure with
// this code in the 0–8h window: SALDO_INSUFICIENTE, VALOR_ACIMA_LIMITE and
// PAGAMENTO_RECUSADO_DETENTORA.
func (c RejectionCode) HolderRetriesSameDay() bool {
	rc := retryTable[c]
	return rc.countsAsAttempt && rc.intraday && !rc.newE2EID
}

// NeverRetry reports whether no retry may follow a rejection with this code.
// It covers checklist item 56 (VALOR_INVALIDO,
// PAGAMENTO_DIVERGENTE_CONSENTIMENTO, CONSENTIMENTO_INVALIDO,
// TITULARIDADE_INCONSISTENTE, LIMITE_TENTATIVAS_EXCEDIDO,
// FORA_PRAZO_PERMITIDO), the rest of the last row of Table 1
// (CONSENTIMENTO_REVOGADO and the sweeping-only LIMITE_PERIODO_* and
// LIMITE_VALOR_TOTAL_CONSENTIMENTO_EXCEDIDO) and DETALHE_PAGAMENTO_INVALIDO.
// Unknown codes are not reported here; see [RejectionCode.Known].
func (c RejectionCode) NeverRetry() bool { return retryTable[c].neverRetry }

// RejectionReason is a payment's rejectionReason.
type RejectionReason struct {
	Code   RejectionCode `json:"code"`             // kept as received
	Detail string        `json:"detail,omitempty"` // free text, ≤2048
}
