package consent

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels wrapped by every *ValidationError, so that callers can classify
// a failure with errors.Is without parsing messages.
var (
	// ErrRequired: a field the spec or the Pix Automático rules require is
	// missing or empty.
	ErrRequired = errors.New("consent: required")
	// ErrFormat: a value does not have the spec's syntax (pattern, calendar
	// date, JSON type).
	ErrFormat = errors.New("consent: malformed")
	// ErrNotAllowed: a field or value is not allowed here (an enum value
	// outside the set, a field the ITP must never send, a second creditor…).
	ErrNotAllowed = errors.New("consent: not allowed")
	// ErrConflict: two fields that must not be sent together
	// (fixedAmount with maximumVariableAmount or minimumVariableAmount, two
	// recurringConfiguration variants).
	ErrConflict = errors.New("consent: conflicting fields")
	// ErrOutOfRange: a value outside its bounds, including bounds set by
	// another field or by the clock (non-positive amount, text too long,
	// maximum below minimum, a date in the past).
	ErrOutOfRange = errors.New("consent: out of range")
	// ErrInvalidState: the operation is not allowed in the consent's current
	// status (editing a consent that is not AUTHORISED, rejecting one that
	// is, a response whose status lacks the objects that status requires).
	ErrInvalidState = errors.New("consent: invalid state")
	// ErrUnknownStatus: a response carries a status this SDK does not know
	// (e.g. from a newer spec version).
	ErrUnknownStatus = errors.New("consent: unknown status")
)

// ValidationError is one failed rule. Field is the JSON path of the
// offending field inside the request or response data object, in dotted
// form with indexes ("recurringConfiguration.automatic.fixedAmount",
// "creditors[0].name"); it is empty for the object as a whole. Rule says, in
// plain words, what the value must be. Item is the number of the rule in the
// client-side checklist of the spec digest (§8), or 0 for a limit taken from
// the spec's schemas that the checklist does not list. Err is one of the
// sentinels above.
type ValidationError struct {
	Field string
	Rule  string
	Item  int
	Err   error
}

// Error returns "consent: <field>: <rule> (<sentinel>, checklist item N)".
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("consent: ")
	e.describe(&b)
	return b.String()
}

func (e *ValidationError) describe(b *strings.Builder) {
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Rule)
	kind := "invalid"
	if e.Err != nil {
		kind = strings.TrimPrefix(e.Err.Error(), "consent: ")
	}
	if e.Item > 0 {
		fmt.Fprintf(b, " (%s, checklist item %d)", kind, e.Item)
	} else {
		fmt.Fprintf(b, " (%s)", kind)
	}
}

// Unwrap returns the sentinel (ErrRequired, ErrFormat, …).
func (e *ValidationError) Unwrap() error { return e.Err }

// ValidationErrors is every rule a value failed, in the order checked. It is
// returned as an error only when non-empty.
type ValidationErrors []*ValidationError

// Error lists every failure.
func (es ValidationErrors) Error() string {
	switch len(es) {
	case 0:
		return "consent: no validation errors"
	case 1:
		return es[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "consent: %d validation errors: ", len(es))
	for i, e := range es {
		if i > 0 {
			b.WriteString("; ")
		}
		e.describe(&b)
	}
	return b.String()
}

// Unwrap returns the individual errors, so that errors.Is(err, ErrRequired)
// and errors.As(err, &ve) (with ve a *ValidationError) look into each.
func (es ValidationErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Field returns the first error about the field at path, or nil.
func (es ValidationErrors) Field(path string) *ValidationError {
	for _, e := range es {
		if e.Field == path {
			return e
		}
	}
	return nil
}

// err returns es as an error, or nil when empty (never a typed nil).
func (es ValidationErrors) err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// add appends a failure.
func (es *ValidationErrors) add(field string, item int, sentinel error, rule string, args ...any) {
	if len(args) > 0 {
		rule = fmt.Sprintf(rule, args...)
	}
	*es = append(*es, &ValidationError{Field: field, Rule: rule, Item: item, Err: sentinel})
}
