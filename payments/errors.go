package payments

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Sentinels for parse failures; a [*ParseError] wraps one of them.
var (
	// ErrInvalidE2EID is wrapped by every endToEndId parse error.
	ErrInvalidE2EID = errors.New("payments: invalid endToEndId")
	// ErrInvalidPaymentReference is wrapped by every paymentReference parse
	// or format error.
	ErrInvalidPaymentReference = errors.New("payments: invalid paymentReference")
)

// ParseError reports an input that is not a valid value of its kind.
type ParseError struct {
	Kind  string // "endToEndId", "paymentReference", "ISPB", …
	Input string // the rejected input
	Rule  string // the rule it breaks
	err   error
}

// Error returns "payments: invalid <kind> <input>: <rule>"; long inputs are
// shortened.
func (e *ParseError) Error() string {
	in := e.Input
	if len(in) > 64 {
		in = in[:64] + "…"
	}
	return fmt.Sprintf("payments: invalid %s %q: %s", e.Kind, in, e.Rule)
}

// Unwrap returns the sentinel of the kind, e.g. [ErrInvalidE2EID].
func (e *ParseError) Unwrap() error { return e.err }

// Sentinels wrapped by [*ValidationError]. Callers test for them with
// errors.Is on the error returned by a validation function.
var (
	// ErrNotAutomatic: the consent is missing or is not a Pix Automático
	// consent (no recurringConfiguration.automatic).
	ErrNotAutomatic = errors.New("payments: not a Pix Automático consent")
	// ErrConsentNotAuthorised: the consent status is not AUTHORISED.
	ErrConsentNotAuthorised = errors.New("payments: consent is not AUTHORISED")
	// ErrConsentExpired: the consent's expirationDateTime has passed.
	ErrConsentExpired = errors.New("payments: consent has expired")
	// ErrMissing: a required field is empty.
	ErrMissing = errors.New("payments: required field missing")
	// ErrInvalidFormat: a field does not match the spec's pattern or enum.
	ErrInvalidFormat = errors.New("payments: field has an invalid format")
	// ErrTooLong: a field exceeds its maximum length.
	ErrTooLong = errors.New("payments: field too long")
	// ErrPaymentReference: paymentReference does not name the first payment
	// or a real cycle of the consent.
	ErrPaymentReference = errors.New("payments: paymentReference does not match the consent")
	// ErrOutsideWindow: the settlement date is outside the allowed window
	// ([today+2, today+10] Brasília for recurrences; today or later for the
	// first payment).
	ErrOutsideWindow = errors.New("payments: date outside the scheduling window")
	// ErrAfterExpiry: the settlement date is after the consent's expiry.
	ErrAfterExpiry = errors.New("payments: date after the consent expiry")
	// ErrBeforeReferenceStart: a recurrence date is before
	// referenceStartDate.
	ErrBeforeReferenceStart = errors.New("payments: date before referenceStartDate")
	// ErrBeforeFirstPayment: a recurrence date is not after the first
	// payment's date.
	ErrBeforeFirstPayment = errors.New("payments: date not after the first payment's date")
	// ErrDuplicateCycle: a non-failed original payment already exists for
	// the cycle.
	ErrDuplicateCycle = errors.New("payments: cycle already has a payment")
	// ErrAmountMismatch: the amount differs from fixedAmount or from
	// firstPayment.amount.
	ErrAmountMismatch = errors.New("payments: amount differs from the consent")
	// ErrAmountAboveMaximum: the amount is above maximumVariableAmount.
	ErrAmountAboveMaximum = errors.New("payments: amount above maximumVariableAmount")
	// ErrInvalidAmount: the amount is zero, negative or too large.
	ErrInvalidAmount = errors.New("payments: invalid amount")
	// ErrCreditorAccountMismatch: the first payment's creditorAccount
	// differs from firstPayment.creditorAccount.
	ErrCreditorAccountMismatch = errors.New("payments: creditorAccount differs from the consent")
	// ErrFirstPaymentDate: the first payment's date differs from the
	// consent's firstPayment.date (the first POST carries exactly the
	// declared values).
	ErrFirstPaymentDate = errors.New("payments: date differs from the consent's firstPayment.date")
	// ErrInvalidAccount: the creditorAccount is incomplete or malformed.
	ErrInvalidAccount = errors.New("payments: invalid creditorAccount")
	// ErrDocumentMismatch: document is not the consent creditor's.
	ErrDocumentMismatch = errors.New("payments: document differs from the consent creditor")
	// ErrInitiatorMismatch: cnpjInitiator is not the ITP's CNPJ.
	ErrInitiatorMismatch = errors.New("payments: cnpjInitiator is not the ITP's CNPJ")
	// ErrE2EIDMismatch: the endToEndId does not carry the ITP's ISPB, or its
	// timestamp does not match the settlement date.
	ErrE2EIDMismatch = errors.New("payments: endToEndId does not match the payment")
	// ErrE2EIDReused: the endToEndId was already used.
	ErrE2EIDReused = errors.New("payments: endToEndId already used")
	// ErrNotRetryable: the failure cannot be retried (status not RJCT, or a
	// never-retry rejection reason, or a reason that does not allow this kind
	// of retry).
	ErrNotRetryable = errors.New("payments: payment cannot be retried")
	// ErrNotOriginal: the retry does not point at the original attempt.
	ErrNotOriginal = errors.New("payments: retry must reference the original attempt")
	// ErrRetryNotAccepted: the consent does not accept extraday retries
	// (isRetryAccepted is false).
	ErrRetryNotAccepted = errors.New("payments: consent does not accept retries")
	// ErrRetryWindow: the retry is outside its time window.
	ErrRetryWindow = errors.New("payments: retry outside its window")
	// ErrRetryLimit: the extraday retries are used up.
	ErrRetryLimit = errors.New("payments: retry limit reached")
	// ErrDateReused: an earlier attempt already used the retry's date.
	ErrDateReused = errors.New("payments: date already used by an attempt")
	// ErrDateRange: startDate is after endDate.
	ErrDateRange = errors.New("payments: startDate after endDate")
)

// ValidationError is one failed check of the ITP checklist (spec digest §8).
// It names the field, the rule and the checklist item, and wraps one of the
// sentinels above.
type ValidationError struct {
	Item  int    // checklist item number, spec digest §8
	Field string // JSON path of the field, e.g. "payment.amount"
	Rule  string // the rule, in words
	Err   error  // a sentinel such as ErrOutsideWindow
}

// Error returns "payments: <field>: <rule> (item N)".
func (e *ValidationError) Error() string {
	return fmt.Sprintf("payments: %s: %s (item %d)", e.Field, e.Rule, e.Item)
}

// Unwrap returns the sentinel.
func (e *ValidationError) Unwrap() error { return e.Err }

// ValidationErrors is every failed check of one validation, in checklist
// order. errors.Is and errors.As see through it to each
// [*ValidationError] and its sentinel.
type ValidationErrors []*ValidationError

// Error joins the messages, one per line.
func (es ValidationErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap returns the individual errors.
func (es ValidationErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Has reports whether one of the errors wraps target.
func (es ValidationErrors) Has(target error) bool {
	for _, e := range es {
		if errors.Is(e, target) {
			return true
		}
	}
	return false
}

// collector accumulates validation failures.
type collector struct{ errs ValidationErrors }

func (c *collector) add(item int, field string, err error, format string, args ...any) {
	c.errs = append(c.errs, &ValidationError{Item: item, Field: field, Rule: fmt.Sprintf(format, args...), Err: err})
}

// err returns nil or the ValidationErrors in checklist order, never a typed
// nil.
func (c *collector) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(c.errs, func(a, b *ValidationError) int { return cmp.Compare(a.Item, b.Item) })
	return c.errs
}
