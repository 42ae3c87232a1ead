package consent

import "encoding/json"

// Status is the status of a recurring consent (EnumAuthorisationStatusType).
type Status string

// Consent statuses.
const (
	// StatusAwaitingAuthorisation: created, waiting for the payer (at most 60
	// minutes, then REJECTED with TEMPO_EXPIRADO_AUTORIZACAO).
	StatusAwaitingAuthorisation Status = "AWAITING_AUTHORISATION"
	// StatusPartiallyAccepted: multiple approvers, some still to approve.
	StatusPartiallyAccepted Status = "PARTIALLY_ACCEPTED"
	// StatusAuthorised: usable for payments until expirationDateTime.
	StatusAuthorised Status = "AUTHORISED"
	// StatusRejected: final; see Consent.Rejection.
	StatusRejected Status = "REJECTED"
	// StatusRevoked: final; see Consent.Revocation.
	StatusRevoked Status = "REVOKED"
	// StatusConsumed: final; the expiry passed.
	StatusConsumed Status = "CONSUMED"
)

// Final reports whether no further transition can happen.
func (s Status) Final() bool {
	return s == StatusRejected || s == StatusRevoked || s == StatusConsumed
}

// Interval is the periodicity of a Pix Automático consent.
type Interval string

// Intervals.
const (
	IntervalSemanal    Interval = "SEMANAL"    // weekly
	IntervalMensal     Interval = "MENSAL"     // monthly
	IntervalTrimestral Interval = "TRIMESTRAL" // quarterly
	IntervalSemestral  Interval = "SEMESTRAL"  // half-yearly
	IntervalAnual      Interval = "ANUAL"      // yearly
)

// Valid reports whether i is one of the five intervals.
func (i Interval) Valid() bool {
	switch i {
	case IntervalSemanal, IntervalMensal, IntervalTrimestral, IntervalSemestral, IntervalAnual:
		return true
	}
	return false
}

// PersonType is a creditor's person type.
type PersonType string

// Person types.
const (
	PessoaNatural  PersonType = "PESSOA_NATURAL"
	PessoaJuridica PersonType = "PESSOA_JURIDICA"
)

// Creditor is the receiver (recebedor). Pix Automático requires exactly one,
// a PESSOA_JURIDICA with a CNPJ.
type Creditor struct {
	PersonType PersonType `json:"personType"`
	CpfCnpj    string     `json:"cpfCnpj"`
	Name       string     `json:"name"`
}

// LoggedUser is the user logged in at the ITP.
type LoggedUser struct {
	Document Document `json:"document"`
}

// BusinessEntity is the company the logged user acts for.
type BusinessEntity struct {
	Document Document `json:"document"`
}

// ContractDebtor is the debtor of the receiver's contract; it may differ from
// the payer.
type ContractDebtor struct {
	Name     string   `json:"name"`
	Document Document `json:"document"`
}

// FirstPayment is the optional sign-up payment (pagamento inicial avulso)
// declared in the consent. The first POST /pix/recurring-payments after
// authorisation must carry exactly these values with paymentReference "zero".
type FirstPayment struct {
	Type                  string  `json:"type"`     // always "PIX"
	Date                  Date    `json:"date"`     // Brasília settlement date
	Currency              string  `json:"currency"` // always "BRL"
	Amount                Amount  `json:"amount"`
	RemittanceInformation string  `json:"remittanceInformation,omitempty"`
	CreditorAccount       Account `json:"creditorAccount"`
}

// Automatic is recurringConfiguration.automatic: the Pix Automático terms.
//
// FixedAmount and MaximumVariableAmount are mutually exclusive; neither means
// an uncapped variable consent. MinimumVariableAmount is the receiver's floor
// for the payer's cap, not a minimum charge.
type Automatic struct {
	ContractID            string         `json:"contractId"`
	FixedAmount           *Amount        `json:"fixedAmount,omitempty"`
	MaximumVariableAmount *Amount        `json:"maximumVariableAmount,omitempty"`
	MinimumVariableAmount *Amount        `json:"minimumVariableAmount,omitempty"`
	Interval              Interval       `json:"interval"`
	ReferenceStartDate    Date           `json:"referenceStartDate"`
	IsRetryAccepted       bool           `json:"isRetryAccepted"`
	ContractDebtor        ContractDebtor `json:"contractDebtor"`
	FirstPayment          *FirstPayment  `json:"firstPayment,omitempty"`
	// UseOverdraftLimit is set by the holder (response only; never sent).
	UseOverdraftLimit *bool `json:"useOverdraftLimit,omitempty"`
}

// RecurringConfiguration is the oneOf of the spec. This SDK models the
// Pix Automático variant; the others are kept as raw JSON so that reading a
// sweeping or VRP consent loses nothing.
type RecurringConfiguration struct {
	Automatic *Automatic      `json:"automatic,omitempty"`
	Sweeping  json.RawMessage `json:"sweeping,omitempty"`
	Vrp       json.RawMessage `json:"vrp,omitempty"`
}

// By names who rejected or revoked (rejectedBy / revokedBy).
type By string

// From names where it was done (rejectedFrom / revokedFrom / cancelledFrom).
type From string

// Actors.
const (
	ByIniciadora By = "INICIADORA"
	ByUsuario    By = "USUARIO"
	ByDetentora  By = "DETENTORA"

	FromIniciadora From = "INICIADORA"
	FromDetentora  From = "DETENTORA"
)

// RejectionCode is a consent rejection reason code.
type RejectionCode string

// Consent rejection reasons.
const (
	RejectionNaoInformado              RejectionCode = "NAO_INFORMADO"
	RejectionFalhaInfraestrutura       RejectionCode = "FALHA_INFRAESTRUTURA"
	RejectionTempoExpiradoAutorizacao  RejectionCode = "TEMPO_EXPIRADO_AUTORIZACAO"
	RejectionRejeitadoUsuario          RejectionCode = "REJEITADO_USUARIO"
	RejectionContasOrigemDestinoIguais RejectionCode = "CONTAS_ORIGEM_DESTINO_IGUAIS"
	RejectionContaNaoPermitePagamento  RejectionCode = "CONTA_NAO_PERMITE_PAGAMENTO"
	RejectionAutenticacaoDivergente    RejectionCode = "AUTENTICACAO_DIVERGENTE"
	RejectionFluxoNaoSuportadoProduto  RejectionCode = "FLUXO_NAO_SUPORTADO_PRODUTO"
)

// RevocationCode is a consent revocation reason code.
type RevocationCode string

// Consent revocation reasons.
const (
	RevocationRecebedor    RevocationCode = "REVOGADO_RECEBEDOR"
	RevocationUsuario      RevocationCode = "REVOGADO_USUARIO"
	RevocationNaoInformado RevocationCode = "NAO_INFORMADO"
)

// Rejection describes why and by whom a consent was rejected.
type Rejection struct {
	RejectedBy   By              `json:"rejectedBy"`
	RejectedFrom From            `json:"rejectedFrom"`
	RejectedAt   *DateTime       `json:"rejectedAt,omitempty"` // response only
	Reason       RejectionReason `json:"reason"`
}

// RejectionReason is the code and free-text detail of a rejection.
type RejectionReason struct {
	Code   RejectionCode `json:"code"`
	Detail string        `json:"detail,omitempty"`
}

// Revocation describes why and by whom a consent was revoked.
type Revocation struct {
	RevokedBy   By               `json:"revokedBy"`
	RevokedFrom From             `json:"revokedFrom"`
	RevokedAt   *DateTime        `json:"revokedAt,omitempty"` // response only
	Reason      RevocationReason `json:"reason"`
}

// RevocationReason is the code and free-text detail of a revocation.
type RevocationReason struct {
	Code   RevocationCode `json:"code"`
	Detail string         `json:"detail,omitempty"`
}

// Journey is the optimised-journey link (relevant to sweeping).
type Journey struct {
	IsLinked bool   `json:"isLinked"`
	LinkID   string `json:"linkId"`
}

// CreateRequest is the data of POST /recurring-consents for a Pix Automático
// consent.
type CreateRequest struct {
	LoggedUser             LoggedUser             `json:"loggedUser"`
	BusinessEntity         *BusinessEntity        `json:"businessEntity,omitempty"`
	Creditors              []Creditor             `json:"creditors"`
	ExpirationDateTime     *DateTime              `json:"expirationDateTime,omitempty"`
	AdditionalInformation  string                 `json:"additionalInformation,omitempty"`
	DebtorAccount          *Account               `json:"debtorAccount,omitempty"`
	RecurringConfiguration RecurringConfiguration `json:"recurringConfiguration"`
	Journey                *Journey               `json:"journey,omitempty"`
}

// Consent is a recurring consent as the holder returns it (POST 201, GET 200,
// PATCH 200).
type Consent struct {
	RecurringConsentID     string                 `json:"recurringConsentId"`
	Status                 Status                 `json:"status"`
	StatusUpdateDateTime   DateTime               `json:"statusUpdateDateTime"`
	CreationDateTime       DateTime               `json:"creationDateTime"`
	LoggedUser             *LoggedUser            `json:"loggedUser,omitempty"`
	BusinessEntity         *BusinessEntity        `json:"businessEntity,omitempty"`
	Creditors              []Creditor             `json:"creditors"`
	RecurringConfiguration RecurringConfiguration `json:"recurringConfiguration"`
	ExpirationDateTime     *DateTime              `json:"expirationDateTime,omitempty"`
	AdditionalInformation  string                 `json:"additionalInformation,omitempty"`
	DebtorAccount          *Account               `json:"debtorAccount,omitempty"`
	Rejection              *Rejection             `json:"rejection,omitempty"`
	Revocation             *Revocation            `json:"revocation,omitempty"`
	AuthorisedAtDateTime   *DateTime              `json:"authorisedAtDateTime,omitempty"`
	UpdatedAtDateTime      *DateTime              `json:"updatedAtDateTime,omitempty"`
	ApprovalDueDate        *Date                  `json:"approvalDueDate,omitempty"`
	Journey                *Journey               `json:"journey,omitempty"`
}

// Automatic returns the Pix Automático configuration, or nil if the consent
// is of another kind.
func (c *Consent) Automatic() *Automatic { return c.RecurringConfiguration.Automatic }

// ScreenDimensions is part of the risk signals.
type ScreenDimensions struct {
	Height int `json:"height"`
	Width  int `json:"width"`
}

// Geolocation is part of the risk signals.
type Geolocation struct {
	Latitude  float64 `json:"latitude"` // a coordinate, not money
	Longitude float64 `json:"longitude"`
	Type      string  `json:"type"` // COARSE, FINE, INFERRED
}

// Integrity carries app attestation verdicts.
type Integrity struct {
	AppRecognitionVerdict    string `json:"appRecognitionVerdict,omitempty"`
	DeviceRecognitionVerdict string `json:"deviceRecognitionVerdict,omitempty"`
}

// RiskSignals is RiskSignalsConsentEdition: the device signals the payer's
// device sends when a consent is edited with the user present.
type RiskSignals struct {
	DeviceID             string           `json:"deviceId"`
	IsRootedDevice       *bool            `json:"isRootedDevice,omitempty"`
	ScreenBrightness     *float64         `json:"screenBrightness,omitempty"`
	ElapsedTimeSinceBoot *int64           `json:"elapsedTimeSinceBoot,omitempty"`
	OsVersion            string           `json:"osVersion"`
	UserTimeZoneOffset   string           `json:"userTimeZoneOffset"`
	Language             string           `json:"language"`
	ScreenDimensions     ScreenDimensions `json:"screenDimensions"`
	AccountTenure        Date             `json:"accountTenure"`
	Geolocation          *Geolocation     `json:"geolocation,omitempty"`
	IsCallInProgress     *bool            `json:"isCallInProgress,omitempty"`
	IsDevModeEnabled     *bool            `json:"isDevModeEnabled,omitempty"`
	IsMockGPS            *bool            `json:"isMockGPS,omitempty"`
	IsEmulated           *bool            `json:"isEmulated,omitempty"`
	IsMonkeyRunner       *bool            `json:"isMonkeyRunner,omitempty"`
	IsCharging           *bool            `json:"isCharging,omitempty"`
	AntennaInformation   string           `json:"antennaInformation,omitempty"`
	IsUsbConnected       *bool            `json:"isUsbConnected,omitempty"`
	Integrity            *Integrity       `json:"integrity,omitempty"`
}
