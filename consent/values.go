package consent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // America/Sao_Paulo must resolve on machines without zoneinfo
)

// Brasilia is the America/Sao_Paulo location. Every date the spec calls a
// Brasília date (settlement dates, referenceStartDate, cycle boundaries) is
// computed in it.
var Brasilia = mustLoadLocation("America/Sao_Paulo")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// time/tzdata is linked in, so this cannot happen at run time.
		panic("consent: load " + name + ": " + err.Error())
	}
	return loc
}

// ErrInvalidValue is wrapped by every parse error of the value types in this
// file, so that callers can test for it with errors.Is.
var ErrInvalidValue = errors.New("invalid value")

// ValueError reports a string that is not a valid value of its type.
type ValueError struct {
	Type  string // "amount", "date", "date-time"
	Value string
	Rule  string
}

// Error returns "consent: invalid <type> "<value>": <rule>".
func (e *ValueError) Error() string {
	return fmt.Sprintf("consent: invalid %s %q: %s", e.Type, e.Value, e.Rule)
}

// Unwrap returns ErrInvalidValue.
func (e *ValueError) Unwrap() error { return ErrInvalidValue }

// Amount is an amount of money in centavos. It is never a float: on the wire
// it is the decimal string the spec defines (^\d{1,16}\.\d{2}$, e.g.
// "100000.12").
type Amount int64

// MaxAmount is the largest amount the wire format can carry
// (9999999999999999.99).
const MaxAmount Amount = 999999999999999999

var amountRE = regexp.MustCompile(`^\d{1,16}\.\d{2}$`)

// ParseAmount parses a spec amount string.
func ParseAmount(s string) (Amount, error) {
	if !amountRE.MatchString(s) {
		return 0, &ValueError{Type: "amount", Value: s, Rule: `must match ^\d{1,16}\.\d{2}$`}
	}
	dot := len(s) - 3
	units, err := strconv.ParseInt(s[:dot], 10, 64)
	if err != nil {
		return 0, &ValueError{Type: "amount", Value: s, Rule: err.Error()}
	}
	cents, _ := strconv.ParseInt(s[dot+1:], 10, 64) // two digits, checked by the regexp
	return Amount(units*100 + cents), nil
}

// MustAmount is ParseAmount for constants in tests and examples; it panics on
// a malformed literal.
func MustAmount(s string) Amount {
	a, err := ParseAmount(s)
	if err != nil {
		panic(err)
	}
	return a
}

// String returns the wire form, e.g. "1234.50".
func (a Amount) String() string {
	neg := ""
	v := int64(a)
	if v < 0 {
		neg, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", neg, v/100, v%100)
}

// Valid reports whether the amount can be sent: positive and within the
// wire format's 16 integer digits.
func (a Amount) Valid() bool { return a > 0 && a <= MaxAmount }

// MarshalJSON encodes the amount as the spec's decimal string.
func (a Amount) MarshalJSON() ([]byte, error) {
	if a < 0 || a > MaxAmount {
		return nil, &ValueError{Type: "amount", Value: a.String(), Rule: "out of range"}
	}
	return []byte(`"` + a.String() + `"`), nil
}

// UnmarshalJSON decodes the spec's decimal string; a JSON number is refused.
func (a *Amount) UnmarshalJSON(b []byte) error {
	s, err := unquote("amount", b)
	if err != nil {
		return err
	}
	v, err := ParseAmount(s)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Date is a civil date (no time, no zone). The spec's date fields are
// Brasília dates.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// ParseDate parses YYYY-MM-DD and rejects dates that do not exist
// (2025-02-30).
func ParseDate(s string) (Date, error) {
	if !dateRE.MatchString(s) {
		return Date{}, &ValueError{Type: "date", Value: s, Rule: "must be YYYY-MM-DD"}
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, &ValueError{Type: "date", Value: s, Rule: "not a calendar date"}
	}
	return DateOf(t, time.UTC), nil
}

// MustDate is ParseDate for constants in tests and examples.
func MustDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// NewDate returns the date y-m-d, normalising overflow as time.Date does.
func NewDate(y int, m time.Month, d int) Date {
	return DateOf(time.Date(y, m, d, 0, 0, 0, 0, time.UTC), time.UTC)
}

// DateOf returns the civil date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// Today returns the Brasília date of now.
func Today(now time.Time) Date { return DateOf(now, Brasilia) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// String returns YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// In returns midnight of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// AddDays returns d plus n days.
func (d Date) AddDays(n int) Date { return NewDate(d.Year, d.Month, d.Day+n) }

// DaysUntil returns the number of days from d to e (negative if e is before d).
func (d Date) DaysUntil(e Date) int {
	return int(e.In(time.UTC).Sub(d.In(time.UTC)).Hours() / 24)
}

// Compare returns -1, 0 or +1.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmpInt(d.Year, e.Year)
	case d.Month != e.Month:
		return cmpInt(int(d.Month), int(e.Month))
	default:
		return cmpInt(d.Day, e.Day)
	}
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.In(time.UTC).Weekday() }

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// MarshalJSON encodes YYYY-MM-DD.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return nil, &ValueError{Type: "date", Value: "", Rule: "zero date"}
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON decodes YYYY-MM-DD.
func (d *Date) UnmarshalJSON(b []byte) error {
	s, err := unquote("date", b)
	if err != nil {
		return err
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// DateTime is a UTC instant with second precision; on the wire it is
// 2006-01-02T15:04:05Z, with no fraction and no offset, as the spec requires.
type DateTime struct{ time.Time }

var dateTimeRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`)

// DateTimeLayout is the wire layout of DateTime.
const DateTimeLayout = "2006-01-02T15:04:05Z"

// NewDateTime returns t in UTC truncated to the second.
func NewDateTime(t time.Time) DateTime { return DateTime{t.UTC().Truncate(time.Second)} }

// ParseDateTime parses the spec's UTC date-time.
func ParseDateTime(s string) (DateTime, error) {
	if !dateTimeRE.MatchString(s) {
		return DateTime{}, &ValueError{Type: "date-time", Value: s, Rule: "must be YYYY-MM-DDThh:mm:ssZ"}
	}
	t, err := time.Parse(DateTimeLayout, s)
	if err != nil {
		return DateTime{}, &ValueError{Type: "date-time", Value: s, Rule: "not a calendar time"}
	}
	return DateTime{t}, nil
}

// String returns the wire form.
func (t DateTime) String() string { return t.UTC().Format(DateTimeLayout) }

// MarshalJSON encodes the wire form.
func (t DateTime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return nil, &ValueError{Type: "date-time", Value: "", Rule: "zero time"}
	}
	return []byte(`"` + t.String() + `"`), nil
}

// UnmarshalJSON decodes the wire form.
func (t *DateTime) UnmarshalJSON(b []byte) error {
	s, err := unquote("date-time", b)
	if err != nil {
		return err
	}
	v, err := ParseDateTime(s)
	if err != nil {
		return err
	}
	*t = v
	return nil
}

func unquote(typ string, b []byte) (string, error) {
	if bytes.Equal(b, []byte("null")) || len(b) < 2 || b[0] != '"' {
		return "", &ValueError{Type: typ, Value: string(b), Rule: "must be a JSON string"}
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return "", &ValueError{Type: typ, Value: string(b), Rule: err.Error()}
	}
	return s, nil
}

// DocumentRel is the kind of a Brazilian tax document.
type DocumentRel string

// Document kinds.
const (
	RelCPF  DocumentRel = "CPF"
	RelCNPJ DocumentRel = "CNPJ"
)

// Document is a CPF (11 digits) or CNPJ (14 characters; 2.2.0 accepts the
// alphanumeric CNPJ ^[0-9A-Z]{12}[0-9]{2}$).
type Document struct {
	Identification string      `json:"identification"`
	Rel            DocumentRel `json:"rel"`
}

var (
	cpfRE  = regexp.MustCompile(`^\d{11}$`)
	cnpjRE = regexp.MustCompile(`^[0-9A-Z]{12}[0-9]{2}$`)
)

// IsCPF reports whether s is 11 digits.
func IsCPF(s string) bool { return cpfRE.MatchString(s) }

// IsCNPJ reports whether s matches the (alphanumeric) CNPJ pattern.
func IsCNPJ(s string) bool { return cnpjRE.MatchString(s) }

// DocumentFor returns a Document whose rel is inferred from the length of id.
func DocumentFor(id string) Document {
	if len(id) == 11 {
		return Document{Identification: id, Rel: RelCPF}
	}
	return Document{Identification: id, Rel: RelCNPJ}
}

// Valid reports whether the identification matches its rel.
func (d Document) Valid() bool {
	switch d.Rel {
	case RelCPF:
		return IsCPF(d.Identification)
	case RelCNPJ:
		return IsCNPJ(d.Identification)
	}
	return false
}

// AccountType is the type of a Brazilian account.
type AccountType string

// Account types.
const (
	AccountCACC AccountType = "CACC" // current account (conta corrente)
	AccountSVGS AccountType = "SVGS" // savings account (poupança)
	AccountTRAN AccountType = "TRAN" // payment account (conta de pagamento)
)

// Account identifies an account at a Pix participant.
type Account struct {
	ISPB        string      `json:"ispb"`
	Issuer      string      `json:"issuer,omitempty"` // branch; required for CACC and SVGS
	Number      string      `json:"number"`
	AccountType AccountType `json:"accountType"`
	// IBGETownCode is returned by the holder on the consent's debtorAccount
	// once it is authorised (GET only); it is never sent.
	IBGETownCode string `json:"ibgeTownCode,omitempty"`
}

// NormaliseAccountNumber replaces letters in an account number with 0, as
// the spec asks ("letters become 0").
func NormaliseAccountNumber(n string) string {
	var b strings.Builder
	for _, r := range n {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
			b.WriteByte('0')
		}
	}
	return b.String()
}
