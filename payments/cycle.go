package payments

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ofb-go/pixauto/consent"
)

// Cycle is one billing cycle of a consent: the Brasília dates from Start to
// End, both included. Index 0 is the cycle that starts on
// referenceStartDate.
type Cycle struct {
	Index int          // 0 for the cycle starting on referenceStartDate
	Start consent.Date // first day
	End   consent.Date // last day, included
}

// Contains reports whether d is within the cycle.
func (c Cycle) Contains(d consent.Date) bool { return !d.Before(c.Start) && !d.After(c.End) }

// Billing computes the billing cycles of a Pix Automático consent from its
// referenceStartDate (the anchor) and interval (spec digest §5.4).
//
// Cycle n starts on anchor + n×interval and ends the day before cycle n+1
// starts. For monthly, quarterly, half-yearly and yearly intervals a start
// that falls on a day the month does not have moves to the previous
// existing day, always computed from the original anchor: anchored on
// 2025-10-31, monthly cycles start on 10-31, 11-30, 12-31, 2026-01-31,
// 02-28, 03-31…
type Billing struct {
	Anchor   consent.Date     // referenceStartDate
	Interval consent.Interval // the consent interval
}

// maxYear keeps cycle dates within the wire format's four-digit years.
const maxYear = 9999

// ErrCycleOutOfRange is returned for a cycle index below 0 or a date
// outside the range the cycles cover.
var ErrCycleOutOfRange = errors.New("payments: billing cycle out of range")

// BillingOf returns the billing cycles of c's Pix Automático configuration.
func BillingOf(c *consent.Consent) (Billing, error) {
	if c == nil || c.Automatic() == nil {
		return Billing{}, ErrNotAutomatic
	}
	b := Billing{Anchor: c.Automatic().ReferenceStartDate, Interval: c.Automatic().Interval}
	return b, b.check()
}

func (b Billing) check() error {
	if b.Anchor.IsZero() {
		return fmt.Errorf("payments: billing: zero referenceStartDate: %w", ErrMissing)
	}
	if !b.Interval.Valid() {
		return fmt.Errorf("payments: billing: interval %q: %w", string(b.Interval), ErrInvalidFormat)
	}
	if !validDate(b.Anchor) {
		return fmt.Errorf("payments: billing: referenceStartDate %s: %w", b.Anchor, ErrInvalidFormat)
	}
	return nil
}

// validDate reports whether d is a real calendar date with a four-digit
// year, as the wire format needs.
func validDate(d consent.Date) bool {
	return d.Year >= 1 && d.Year <= maxYear && consent.NewDate(d.Year, d.Month, d.Day) == d
}

// months returns the number of months per cycle, or 0 for SEMANAL.
func (b Billing) months() int {
	switch b.Interval {
	case consent.IntervalMensal:
		return 1
	case consent.IntervalTrimestral:
		return 3
	case consent.IntervalSemestral:
		return 6
	case consent.IntervalAnual:
		return 12
	}
	return 0
}

// start returns the start of cycle n without range checks.
func (b Billing) start(n int) consent.Date {
	k := b.months()
	if k == 0 {
		return b.Anchor.AddDays(7 * n)
	}
	total := int(b.Anchor.Month) - 1 + n*k
	y := b.Anchor.Year + total/12
	m := time.Month(total%12 + 1)
	return consent.Date{Year: y, Month: m, Day: min(b.Anchor.Day, daysIn(y, m))}
}

// maxIndex is the largest n whose cycle still starts within year 9999 (its
// end may spill into year 10000; only starts are written on the wire).
func (b Billing) maxIndex() int {
	if k := b.months(); k > 0 {
		return ((maxYear-b.Anchor.Year+1)*12 - int(b.Anchor.Month)) / k
	}
	last := consent.Date{Year: maxYear, Month: time.December, Day: 31}
	return b.Anchor.DaysUntil(last) / 7
}

// Cycle returns cycle n (n ≥ 0).
func (b Billing) Cycle(n int) (Cycle, error) {
	if err := b.check(); err != nil {
		return Cycle{}, err
	}
	if n < 0 || n > b.maxIndex() {
		return Cycle{}, ErrCycleOutOfRange
	}
	return Cycle{Index: n, Start: b.start(n), End: b.start(n + 1).AddDays(-1)}, nil
}

// CycleContaining returns the cycle that d falls in. Dates before the
// anchor have no cycle and give [ErrCycleOutOfRange].
func (b Billing) CycleContaining(d consent.Date) (Cycle, error) {
	if err := b.check(); err != nil {
		return Cycle{}, err
	}
	if d.Before(b.Anchor) || d.Year > maxYear {
		return Cycle{}, ErrCycleOutOfRange
	}
	var n int
	if k := b.months(); k == 0 {
		n = b.Anchor.DaysUntil(d) / 7
	} else {
		diff := (d.Year-b.Anchor.Year)*12 + int(d.Month) - int(b.Anchor.Month)
		n = diff / k
		if b.start(n).After(d) {
			n--
		}
	}
	return b.Cycle(n)
}

// CycleStarting returns the cycle that starts exactly on d, and false if no
// cycle starts on d (checklist item 29).
func (b Billing) CycleStarting(d consent.Date) (Cycle, bool) {
	c, err := b.CycleContaining(d)
	if err != nil || c.Start != d {
		return Cycle{}, false
	}
	return c, true
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// ReferenceZero is the paymentReference of the first payment.
const ReferenceZero = "zero"

// PaymentReference says what a payment pays: the first payment ("zero") or
// one billing cycle. It is version-agnostic; [PaymentReference.Format]
// writes it in the form of a given API version:
//
//   - 2.2.0: "R/<cycle start>/<P1W|P1M|P3M|P6M|P1Y>", e.g. "R/2025-07-23/P1M";
//   - 2.0.0 and 2.1.0 (at most 10 characters): "W<week>-<year>",
//     "M<MM>-<year>", "Q<1-4>-<year>", "S<1|2>-<year>" or "Y<year>".
//
// In the 2.0/2.1 form every label is taken from the cycle's start date:
// the month, calendar quarter, half-year and year it falls in. For weekly
// cycles the week is the ISO 8601 week of the start date, two digits, and
// the year is its ISO week-year (2025-12-29 is "W01-2026"), so that the pair
// is never ambiguous. Consecutive cycles of one consent always get distinct
// labels.
type PaymentReference struct {
	// First is true for the first payment ("zero"); the other fields are
	// then unused.
	First bool
	// Interval is the consent interval of the cycle.
	Interval consent.Interval
	// Start is the cycle's start date. It is zero only for a reference
	// parsed from the 2.0/2.1 form, which does not carry it.
	Start consent.Date
	// Year and Period are the 2.0/2.1 labels: Period is the ISO week
	// (1–53), month (1–12), quarter (1–4) or half-year (1–2), and 0 for
	// ANUAL; Year is the (ISO week-)year. They are set by
	// [ParsePaymentReference] and by [CycleReference].
	Year   int // (ISO week-)year of the 2.0/2.1 label
	Period int // week, month, quarter or half-year of the label
}

// FirstPaymentReference returns the reference of the first payment.
func FirstPaymentReference() PaymentReference { return PaymentReference{First: true} }

// CycleReference returns the reference of cycle c of a consent with the
// given interval.
func CycleReference(interval consent.Interval, c Cycle) PaymentReference {
	r := PaymentReference{Interval: interval, Start: c.Start}
	r.Year, r.Period = legacyLabel(interval, c.Start)
	return r
}

func legacyLabel(interval consent.Interval, d consent.Date) (year, period int) {
	switch interval {
	case consent.IntervalSemanal:
		return d.In(time.UTC).ISOWeek()
	case consent.IntervalMensal:
		return d.Year, int(d.Month)
	case consent.IntervalTrimestral:
		return d.Year, (int(d.Month)-1)/3 + 1
	case consent.IntervalSemestral:
		return d.Year, (int(d.Month)-1)/6 + 1
	}
	return d.Year, 0
}

var isoDurations = map[consent.Interval]string{
	consent.IntervalSemanal:    "P1W",
	consent.IntervalMensal:     "P1M",
	consent.IntervalTrimestral: "P3M",
	consent.IntervalSemestral:  "P6M",
	consent.IntervalAnual:      "P1Y",
}

func refError(input, rule string) error {
	return &ParseError{Kind: "paymentReference", Input: input, Rule: rule, err: ErrInvalidPaymentReference}
}

// ISO returns the 2.2.0 form: "zero" or "R/YYYY-MM-DD/P1M". A reference
// parsed from the 2.0/2.1 form has no cycle start and gives an error.
func (r PaymentReference) ISO() (string, error) {
	if r.First {
		return ReferenceZero, nil
	}
	dur, ok := isoDurations[r.Interval]
	if !ok {
		return "", refError(string(r.Interval), "unknown interval")
	}
	if r.Start.IsZero() {
		return "", refError(r.mustLegacy(), "no cycle start: a 2.0/2.1 reference cannot be written in the 2.2.0 form")
	}
	if r.Start.Year < 0 || r.Start.Year > maxYear {
		return "", refError(r.Start.String(), "year out of range")
	}
	return "R/" + r.Start.String() + "/" + dur, nil
}

// Legacy returns the 2.0/2.1 form: "zero", "W05-2026", "M09-2024",
// "Q3-2024", "S2-2024" or "Y2024".
func (r PaymentReference) Legacy() (string, error) {
	if r.First {
		return ReferenceZero, nil
	}
	year, period := r.Year, r.Period
	if !r.Start.IsZero() {
		year, period = legacyLabel(r.Interval, r.Start)
	}
	if year < 0 || year > maxYear {
		return "", refError(strconv.Itoa(year), "year out of range")
	}
	switch r.Interval {
	case consent.IntervalSemanal:
		if period < 1 || period > 53 {
			break
		}
		return fmt.Sprintf("W%02d-%04d", period, year), nil
	case consent.IntervalMensal:
		if period < 1 || period > 12 {
			break
		}
		return fmt.Sprintf("M%02d-%04d", period, year), nil
	case consent.IntervalTrimestral:
		if period < 1 || period > 4 {
			break
		}
		return fmt.Sprintf("Q%d-%04d", period, year), nil
	case consent.IntervalSemestral:
		if period < 1 || period > 2 {
			break
		}
		return fmt.Sprintf("S%d-%04d", period, year), nil
	case consent.IntervalAnual:
		return fmt.Sprintf("Y%04d", year), nil
	default:
		return "", refError(string(r.Interval), "unknown interval")
	}
	return "", refError(strconv.Itoa(period), "period out of range for "+string(r.Interval))
}

func (r PaymentReference) mustLegacy() string {
	s, _ := r.Legacy()
	return s
}

// Format writes the reference in the form of API version v (see
// [Version.ReferenceStyle]). The early draft 2.0.0-beta.1 has no
// paymentReference; Format returns "" and no error for it.
func (r PaymentReference) Format(v Version) (string, error) {
	switch v.ReferenceStyle() {
	case ReferenceISO:
		return r.ISO()
	case ReferenceLegacy:
		return r.Legacy()
	}
	return "", nil
}

// String returns the 2.2.0 form when the reference has a cycle start, else
// the 2.0/2.1 form, or a placeholder when it is not valid.
func (r PaymentReference) String() string {
	if s, err := r.ISO(); err == nil {
		return s
	}
	if s, err := r.Legacy(); err == nil {
		return s
	}
	return "<invalid paymentReference>"
}

// SameCycle reports whether the raw wire value s names the same payment as
// r, in either the 2.2.0 or the 2.0/2.1 form. It is how payments created
// under another API version are matched (checklist item 33).
func (r PaymentReference) SameCycle(s string) bool {
	o, err := ParsePaymentReference(s)
	if err != nil {
		return false
	}
	if r.First || o.First {
		return r.First == o.First
	}
	if r.Interval != o.Interval {
		return false
	}
	if !r.Start.IsZero() && !o.Start.IsZero() {
		return r.Start == o.Start
	}
	a, errA := r.Legacy()
	b, errB := o.Legacy()
	return errA == nil && errB == nil && a == b
}

// ParsePaymentReference parses a paymentReference in any of the forms
// [PaymentReference] describes. Failures are [*ParseError]s that wrap
// [ErrInvalidPaymentReference]. Dates and periods must exist: "R/2025-02-30/P1M",
// "M13-2024" and "W53-2025" (2025 has 52 ISO weeks) are rejected.
func ParsePaymentReference(s string) (PaymentReference, error) {
	if s == ReferenceZero {
		return FirstPaymentReference(), nil
	}
	if len(s) == 0 {
		return PaymentReference{}, refError(s, "empty")
	}
	if s[0] == 'R' {
		return parseISOReference(s)
	}
	return parseLegacyReference(s)
}

func parseISOReference(s string) (PaymentReference, error) {
	// R/YYYY-MM-DD/PnX: 16 characters.
	if len(s) != 16 || s[1] != '/' || s[12] != '/' {
		return PaymentReference{}, refError(s, "must be R/YYYY-MM-DD/P1W|P1M|P3M|P6M|P1Y")
	}
	d, err := consent.ParseDate(s[2:12])
	if err != nil {
		return PaymentReference{}, refError(s, "cycle start is not a calendar date")
	}
	for interval, dur := range isoDurations {
		if s[13:] == dur {
			return CycleReference(interval, Cycle{Start: d}), nil
		}
	}
	return PaymentReference{}, refError(s, "duration must be P1W, P1M, P3M, P6M or P1Y")
}

func parseLegacyReference(s string) (PaymentReference, error) {
	if !strings.ContainsRune("WMQSY", rune(s[0])) {
		return PaymentReference{}, refError(s, `must be "zero", R/<date>/<duration>, or start with W, M, Q, S or Y`)
	}
	if len(s) > 10 {
		return PaymentReference{}, refError(s, "longer than 10 characters")
	}
	var (
		interval consent.Interval
		body     = s[1:]
		maxP     int
	)
	switch s[0] {
	case 'W':
		interval, maxP = consent.IntervalSemanal, 53
	case 'M':
		interval, maxP = consent.IntervalMensal, 12
	case 'Q':
		interval, maxP = consent.IntervalTrimestral, 4
	case 'S':
		interval, maxP = consent.IntervalSemestral, 2
	case 'Y':
		if len(body) != 4 || !allBytes(body, isDigit) {
			return PaymentReference{}, refError(s, "must be Y<yyyy>")
		}
		y, _ := strconv.Atoi(body)
		return PaymentReference{Interval: consent.IntervalAnual, Year: y}, nil
	}
	dash := len(body) - 5
	if dash < 1 || body[dash] != '-' || !allBytes(body[dash+1:], isDigit) ||
		!allBytes(body[:dash], isDigit) || dash > 2 || (interval == consent.IntervalMensal && dash != 2) {
		return PaymentReference{}, refError(s, "must be "+s[:1]+"<period>-<yyyy>")
	}
	p, _ := strconv.Atoi(body[:dash])
	y, _ := strconv.Atoi(body[dash+1:])
	if p < 1 || p > maxP {
		return PaymentReference{}, refError(s, "period out of range")
	}
	if interval == consent.IntervalSemanal && p > isoWeeksIn(y) {
		return PaymentReference{}, refError(s, fmt.Sprintf("year %d has %d ISO weeks", y, isoWeeksIn(y)))
	}
	return PaymentReference{Interval: interval, Year: y, Period: p}, nil
}

// isoWeeksIn returns 52 or 53: 28 December is always in the last ISO week.
func isoWeeksIn(year int) int {
	_, w := time.Date(year, time.December, 28, 0, 0, 0, 0, time.UTC).ISOWeek()
	return w
}
