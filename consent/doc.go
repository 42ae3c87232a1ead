// Package consent models the recurring consent of Pix Automático in the Open
// Finance Brasil automatic-payments API (2.x; 2.2.0 is the reference) as the
// payment initiator (ITP) sends and reads it, and checks it on the client
// side before a holder sees it.
//
// # Values
//
// Money is [Amount], integer centavos that travel as the spec's decimal
// string ("100.00"); it is never a float. [Date] is a civil date; the spec's
// dates (referenceStartDate, firstPayment.date) are Brasília dates, and
// [Today] gives today's date in [Brasilia]. [DateTime] is a UTC instant with
// second precision, encoded …T15:04:05Z.
//
// # Creating a consent
//
// A [CreateRequest] is the data of POST /recurring-consents. Build it as a
// struct literal, or with [NewCreateRequest] and [NewAutomatic], whose
// [Amounts] ([Fixed] or [Variable]) cannot produce a fixed amount together
// with a variable maximum or minimum:
//
//	req := consent.NewCreateRequest(
//		consent.NewLoggedUser("12345678901"),
//		consent.NewCreditor("12345678000195", "Academia Forma Ltda"),
//		consent.NewAutomatic("CTR2025001", consent.IntervalMensal, consent.NewDate(2026, 3, 10),
//			consent.ContractDebtor{Name: "Ana Souza", Document: consent.DocumentFor("12345678901")},
//			consent.Variable(consent.MustAmount("300.00"), 0),
//			consent.WithRetries()),
//		consent.WithExpiration(consent.NewDate(2027, 3, 9)),
//	)
//	if err := consent.ValidateCreate(req, time.Now()); err != nil { … }
//
// [ValidateCreate] applies checklist items 9–25 of the spec digest (§8) and
// the schema limits of CreateRecurringConsent.
//
// # Editing, revoking, rejecting
//
// PATCH /recurring-consents/{id} takes one of three shapes, built from the
// consent as last read: [NewEdit] (an AUTHORISED Pix Automático consent: new
// maximum, new expiry, new creditor name; every unchanged value is copied,
// because an omitted maximum or expiry means "indefinite"), [NewRevocation]
// (AUTHORISED only) and [NewRejection] (before authorisation only). They
// enforce checklist items 61–66.
//
// # Reading a consent
//
// [DecodeConsent] decodes the data object of a consent response and checks
// the invariants the rest of the SDK relies on, such as a REJECTED consent
// carrying its rejection.
//
// # Errors
//
// Every check reports a [ValidationErrors], a list of [*ValidationError]
// each naming the JSON path of the field ("recurringConfiguration.automatic.
// fixedAmount"), the rule, the checklist item and a sentinel:
// [ErrRequired], [ErrFormat], [ErrNotAllowed], [ErrConflict],
// [ErrOutOfRange], [ErrInvalidState] or [ErrUnknownStatus]. Use errors.Is and
// errors.As; do not parse messages.
package consent
