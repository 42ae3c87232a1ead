package consent

import (
	"time"
	"unicode/utf8"
)

// Patch is the data of PATCH /recurring-consents/{recurringConsentId}
// (PatchRecurringConsent): an *EditRequest, a *RevocationRequest or a
// *RejectionRequest. Build them with NewEdit, NewRevocation and NewRejection,
// which enforce checklist items 61–66.
type Patch interface {
	// patch restricts the implementations to this package's three shapes.
	patch()
}

// EditRequest is ConsentEdition: a change to the maximum variable amount, the
// expiry and/or the creditor's name of an AUTHORISED Pix Automático consent.
// Omitting ExpirationDateTime or the maximum makes it indefinite (except in a
// name-only edit), which is why NewEdit copies every unchanged value.
type EditRequest struct {
	RiskSignals            *RiskSignals       `json:"riskSignals,omitempty"`
	Creditors              []CreditorName     `json:"creditors"`
	ExpirationDateTime     *DateTime          `json:"expirationDateTime,omitempty"`
	RecurringConfiguration *EditConfiguration `json:"recurringConfiguration,omitempty"`
	LoggedUser             *LoggedUser        `json:"loggedUser,omitempty"`
	BusinessEntity         *BusinessEntity    `json:"businessEntity,omitempty"`
}

func (*EditRequest) patch() {}

// CreditorName is creditors[] of a consent edition: only the name can change.
type CreditorName struct {
	Name string `json:"name"`
}

// EditConfiguration is recurringConfiguration of a consent edition.
type EditConfiguration struct {
	Automatic EditAutomatic `json:"automatic"`
}

// EditAutomatic is recurringConfiguration.automatic of a consent edition.
type EditAutomatic struct {
	MaximumVariableAmount *Amount `json:"maximumVariableAmount,omitempty"`
}

// RevocationRequest is ConsentRevocation: {"status":"REVOKED","revocation":{…}}.
type RevocationRequest struct {
	Status     Status     `json:"status"`
	Revocation Revocation `json:"revocation"`
}

func (*RevocationRequest) patch() {}

// RejectionRequest is ConsentRejection: {"status":"REJECTED","rejection":{…}}.
type RejectionRequest struct {
	Status    Status    `json:"status"`
	Rejection Rejection `json:"rejection"`
}

func (*RejectionRequest) patch() {}

// changeOp is what an edit does with one field.
type changeOp uint8

const (
	opKeep changeOp = iota
	opSet
	opIndefinite
)

// MaximumChange says what an edit does with maximumVariableAmount. The zero
// value keeps the current value.
type MaximumChange struct {
	op     changeOp
	amount Amount
}

// SetMaximum sets maximumVariableAmount to a (raise, lower, or add a cap to
// an uncapped consent). a must not be below minimumVariableAmount.
func SetMaximum(a Amount) MaximumChange { return MaximumChange{op: opSet, amount: a} }

// IndefiniteMaximum removes the cap: maximumVariableAmount becomes
// indefinite (the field is omitted).
func IndefiniteMaximum() MaximumChange { return MaximumChange{op: opIndefinite} }

// ExpirationChange says what an edit does with expirationDateTime. The zero
// value keeps the current value.
type ExpirationChange struct {
	op   changeOp
	date Date
}

// SetExpiration makes the consent expire at the end of d (23:59:59 UTC);
// d must not be before today.
func SetExpiration(d Date) ExpirationChange { return ExpirationChange{op: opSet, date: d} }

// IndefiniteExpiration removes the end date (the field is omitted).
func IndefiniteExpiration() ExpirationChange { return ExpirationChange{op: opIndefinite} }

// EditChange is what a consent edition changes. Its zero value changes
// nothing, which NewEdit refuses.
type EditChange struct {
	// MaximumVariableAmount: keep (zero value), SetMaximum or
	// IndefiniteMaximum. Only for variable-amount consents.
	MaximumVariableAmount MaximumChange
	// Expiration: keep (zero value), SetExpiration or IndefiniteExpiration.
	Expiration ExpirationChange
	// CreditorName renames the creditor; "" keeps the current name.
	CreditorName string
}

func (c EditChange) nameOnly() bool {
	return c.CreditorName != "" && c.MaximumVariableAmount.op == opKeep && c.Expiration.op == opKeep
}

// NewEdit builds the edition of current, the consent as last read from the
// holder (re-read it first: the payer may have changed the maximum at the
// holder). It enforces checklist items 63–66:
//
//   - current must be an AUTHORISED Pix Automático consent;
//   - the creditor's name is always sent: the new one, or the current one;
//   - every unchanged field carries its current value, and a field is
//     omitted only to make it indefinite or because it already is;
//   - maximumVariableAmount is never sent for a fixedAmount consent, and a
//     new maximum is positive and not below minimumVariableAmount;
//   - a new expiry is at 23:59:59 UTC of a date not before today (Brasília)
//     and not already past;
//   - riskSignals (deviceId, osVersion, userTimeZoneOffset, language,
//     screenDimensions, accountTenure) and loggedUser (CPF) are required.
//
// A name-only edit is the exception: it carries only creditors, so user and
// signals are not needed and are not sent, and no holder can read it as
// making the expiry or the maximum indefinite. The current businessEntity,
// if any, is sent with every other edit.
//
// It returns the request or a ValidationErrors; it never panics.
func NewEdit(current *Consent, change EditChange, user LoggedUser, signals *RiskSignals, now time.Time) (*EditRequest, error) {
	var es ValidationErrors
	auto := checkEditable(&es, current)
	if change == (EditChange{}) {
		es.add("", itemEditCurrent, ErrRequired, "the edit changes nothing")
	}
	name := change.CreditorName
	if name != "" {
		checkName(&es, "creditors[0].name", name)
	} else if current != nil && len(current.Creditors) > 0 {
		name = current.Creditors[0].Name
	}
	if current != nil && len(current.Creditors) == 0 {
		es.add("creditors", itemEditAutomatic, ErrRequired, "the current consent has no creditor to name")
	}
	if len(es) > 0 {
		return nil, es
	}
	req := &EditRequest{Creditors: make([]CreditorName, len(current.Creditors))}
	for i := range req.Creditors {
		req.Creditors[i].Name = name // renaming renames every item (§3.4)
	}
	if change.nameOnly() {
		return req, nil
	}
	req.ExpirationDateTime = editExpiration(&es, current.ExpirationDateTime, change.Expiration, now)
	if m := editMaximum(&es, auto, change.MaximumVariableAmount); m != nil {
		req.RecurringConfiguration = &EditConfiguration{Automatic: EditAutomatic{MaximumVariableAmount: m}}
	}
	checkLoggedUser(&es, "loggedUser", &user, itemEditSignals)
	req.LoggedUser = &user
	checkRiskSignals(&es, signals)
	req.RiskSignals = signals
	if current.BusinessEntity != nil {
		be := *current.BusinessEntity
		req.BusinessEntity = &be
	}
	if len(es) > 0 {
		return nil, es
	}
	return req, nil
}

// checkEditable applies item 63 and returns the automatic configuration.
func checkEditable(es *ValidationErrors, c *Consent) *Automatic {
	if c == nil {
		es.add("", itemEditAutomatic, ErrRequired, "the current consent is required")
		return nil
	}
	if c.Status != StatusAuthorised {
		es.add("status", itemEditAutomatic, ErrInvalidState, "only an AUTHORISED consent can be edited, not %s", statusName(c.Status))
	}
	a := c.Automatic()
	if a == nil {
		es.add(pathAutomatic, itemEditAutomatic, ErrNotAllowed, "only Pix Automático consents can be edited")
	}
	return a
}

func statusName(s Status) string {
	if s == "" {
		return "an empty status"
	}
	return string(s)
}

// editExpiration returns the expirationDateTime to send (items 65, 66).
func editExpiration(es *ValidationErrors, current *DateTime, ch ExpirationChange, now time.Time) *DateTime {
	const path = "expirationDateTime"
	switch ch.op {
	case opIndefinite:
		return nil
	case opSet:
		if !validDate(ch.date) {
			es.add(path, itemEditLimits, ErrFormat, "the new expiry must be a real calendar date")
			return nil
		}
		exp := ExpirationOn(ch.date)
		if today := Today(now); ch.date.Before(today) {
			es.add(path, itemEditLimits, ErrOutOfRange, "the new expiry must not be before today (%s, Brasília)", today)
		} else if !exp.After(now) {
			es.add(path, itemEditLimits, ErrOutOfRange, "the new expiry %s has already passed", exp)
		}
		return exp
	}
	if current == nil {
		return nil // already indefinite: omitting keeps it so
	}
	if !checkEndOfDay(es, path, *current, itemEditCurrent) {
		return nil
	}
	exp := *current
	return &exp
}

// editMaximum returns the maximumVariableAmount to send (items 65, 66).
func editMaximum(es *ValidationErrors, a *Automatic, ch MaximumChange) *Amount {
	const path = pathAutomatic + ".maximumVariableAmount"
	if a.FixedAmount != nil {
		if ch.op != opKeep {
			es.add(path, itemEditLimits, ErrNotAllowed, "a fixedAmount consent has no maximum to edit")
		}
		return nil
	}
	switch ch.op {
	case opIndefinite:
		return nil
	case opSet:
		m := ch.amount
		switch {
		case !m.Valid():
			es.add(path, itemEditLimits, ErrOutOfRange, "must be greater than 0.00 and at most %s", MaxAmount)
		case a.MinimumVariableAmount != nil && m < *a.MinimumVariableAmount:
			es.add(path, itemEditLimits, ErrOutOfRange, "must be at least minimumVariableAmount (%s)", *a.MinimumVariableAmount)
		}
		return &m
	}
	if a.MaximumVariableAmount == nil {
		return nil // already indefinite
	}
	m := *a.MaximumVariableAmount
	if !m.Valid() {
		es.add(path, itemEditCurrent, ErrOutOfRange, "the current maximum %s cannot be sent back", m)
	}
	return &m
}

// checkRiskSignals applies item 64 (presence of the always-required signals).
// isRootedDevice, screenBrightness and elapsedTimeSinceBoot are required only
// from native apps, which this package cannot tell apart; they are not
// checked.
func checkRiskSignals(es *ValidationErrors, s *RiskSignals) {
	const p = "riskSignals"
	if s == nil {
		es.add(p, itemEditSignals, ErrRequired, "risk signals are required unless the edit only renames the creditor")
		return
	}
	for _, f := range []struct{ name, v string }{
		{"deviceId", s.DeviceID}, {"osVersion", s.OsVersion},
		{"userTimeZoneOffset", s.UserTimeZoneOffset}, {"language", s.Language},
	} {
		if f.v == "" {
			es.add(p+"."+f.name, itemEditSignals, ErrRequired, "is required")
		}
	}
	if s.UserTimeZoneOffset != "" && !tzOffsetRE.MatchString(s.UserTimeZoneOffset) {
		es.add(p+".userTimeZoneOffset", itemEditSignals, ErrFormat, "must be a UTC offset ±hh[:mm], e.g. -03 or -03:00")
	}
	if s.ScreenDimensions.Height <= 0 || s.ScreenDimensions.Width <= 0 {
		es.add(p+".screenDimensions", itemEditSignals, ErrRequired, "height and width are required")
	}
	switch {
	case s.AccountTenure.IsZero():
		es.add(p+".accountTenure", itemEditSignals, ErrRequired, "is required")
	case !validDate(s.AccountTenure):
		es.add(p+".accountTenure", itemEditSignals, ErrFormat, "must be a real calendar date")
	}
	if g := s.Geolocation; g != nil {
		switch g.Type {
		case "COARSE", "FINE", "INFERRED":
		default:
			es.add(p+".geolocation.type", 0, ErrNotAllowed, "must be COARSE, FINE or INFERRED")
		}
	}
}

// NewRevocation builds the revocation of current (item 61): only an
// AUTHORISED consent can be revoked; by and from must be spec values; code is
// REVOGADO_RECEBEDOR (the receiver, through the ITP), REVOGADO_USUARIO (the
// payer) or NAO_INFORMADO (e.g. fraud); detail is required, at most 2048
// characters. It returns the request or a ValidationErrors.
func NewRevocation(current *Consent, by By, from From, code RevocationCode, detail string) (*RevocationRequest, error) {
	var es ValidationErrors
	switch {
	case current == nil:
		es.add("", itemRevoke, ErrRequired, "the current consent is required")
	case current.Status != StatusAuthorised:
		es.add("status", itemRevoke, ErrInvalidState, "only an AUTHORISED consent can be revoked, not %s", statusName(current.Status))
	}
	const p = "revocation."
	checkBy(&es, p+"revokedBy", by, itemRevoke)
	checkFrom(&es, p+"revokedFrom", from, itemRevoke)
	switch code {
	case RevocationRecebedor, RevocationUsuario, RevocationNaoInformado:
	case "":
		es.add(p+"reason.code", itemRevoke, ErrRequired, "a revocation code is required")
	default:
		es.add(p+"reason.code", itemRevoke, ErrNotAllowed, "must be REVOGADO_RECEBEDOR, REVOGADO_USUARIO or NAO_INFORMADO")
	}
	checkDetail(&es, p+"reason.detail", detail, itemRevoke)
	if len(es) > 0 {
		return nil, es
	}
	return &RevocationRequest{
		Status: StatusRevoked,
		Revocation: Revocation{
			RevokedBy:   by,
			RevokedFrom: from,
			Reason:      RevocationReason{Code: code, Detail: detail},
		},
	}, nil
}

// NewRejection builds the rejection of current (item 62), which cancels a
// consent that is not yet authorised: current must be AWAITING_AUTHORISATION
// or PARTIALLY_ACCEPTED; by, from and code must be spec values; detail is
// required, at most 2048 characters. It returns the request or a
// ValidationErrors.
func NewRejection(current *Consent, by By, from From, code RejectionCode, detail string) (*RejectionRequest, error) {
	var es ValidationErrors
	switch {
	case current == nil:
		es.add("", itemReject, ErrRequired, "the current consent is required")
	case current.Status != StatusAwaitingAuthorisation && current.Status != StatusPartiallyAccepted:
		es.add("status", itemReject, ErrInvalidState,
			"only an AWAITING_AUTHORISATION or PARTIALLY_ACCEPTED consent can be rejected, not %s", statusName(current.Status))
	}
	const p = "rejection."
	checkBy(&es, p+"rejectedBy", by, itemReject)
	checkFrom(&es, p+"rejectedFrom", from, itemReject)
	switch {
	case code == "":
		es.add(p+"reason.code", itemReject, ErrRequired, "a rejection code is required")
	case !code.known():
		es.add(p+"reason.code", itemReject, ErrNotAllowed, "%q is not a consent rejection code", code)
	}
	checkDetail(&es, p+"reason.detail", detail, itemReject)
	if len(es) > 0 {
		return nil, es
	}
	return &RejectionRequest{
		Status: StatusRejected,
		Rejection: Rejection{
			RejectedBy:   by,
			RejectedFrom: from,
			Reason:       RejectionReason{Code: code, Detail: detail},
		},
	}, nil
}

func (c RejectionCode) known() bool {
	switch c {
	case RejectionNaoInformado, RejectionFalhaInfraestrutura, RejectionTempoExpiradoAutorizacao,
		RejectionRejeitadoUsuario, RejectionContasOrigemDestinoIguais, RejectionContaNaoPermitePagamento,
		RejectionAutenticacaoDivergente, RejectionFluxoNaoSuportadoProduto:
		return true
	}
	return false
}

func checkBy(es *ValidationErrors, path string, by By, item int) {
	switch by {
	case ByIniciadora, ByUsuario, ByDetentora:
	case "":
		es.add(path, item, ErrRequired, "must be INICIADORA, USUARIO or DETENTORA")
	default:
		es.add(path, item, ErrNotAllowed, "must be INICIADORA, USUARIO or DETENTORA, not %q", by)
	}
}

func checkFrom(es *ValidationErrors, path string, from From, item int) {
	switch from {
	case FromIniciadora, FromDetentora:
	case "":
		es.add(path, item, ErrRequired, "must be INICIADORA or DETENTORA")
	default:
		es.add(path, item, ErrNotAllowed, "must be INICIADORA or DETENTORA, not %q", from)
	}
}

func checkDetail(es *ValidationErrors, path, detail string, item int) {
	switch {
	case detail == "":
		es.add(path, item, ErrRequired, "a detail is required")
	case utf8.RuneCountInString(detail) > MaxReasonDetailLength:
		es.add(path, item, ErrOutOfRange, "must be at most %d characters", MaxReasonDetailLength)
	}
}
