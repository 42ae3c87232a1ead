package payments

import (
	"fmt"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/br"

	"github.com/ofb-go/pixauto/consent"
)

// Scheduling window of recurrences, in days after today (Brasília): a
// recurrence is sent 2 to 10 days before its settlement date (IN BCB 513;
// checklist item 30).
const (
	MinDaysAhead = 2
	MaxDaysAhead = 10
)

// Window is a range of Brasília settlement dates, both ends included. It is
// empty when First is after Last.
type Window struct {
	First consent.Date // earliest allowed date
	Last  consent.Date // latest allowed date
}

// Empty reports whether no date fits.
func (w Window) Empty() bool { return w.First.After(w.Last) }

// Contains reports whether d fits.
func (w Window) Contains(d consent.Date) bool { return !d.Before(w.First) && !d.After(w.Last) }

// String returns "[first, last]".
func (w Window) String() string { return "[" + w.First.String() + ", " + w.Last.String() + "]" }

// SchedulingWindow returns [today+2, today+10] in Brasília for a recurrence
// requested at now.
func SchedulingWindow(now time.Time) Window {
	today := consent.Today(now)
	return Window{First: today.AddDays(MinDaysAhead), Last: today.AddDays(MaxDaysAhead)}
}

// RecurrenceWindow returns the dates on which a recurrence of c requested
// at now may settle: the scheduling window narrowed by the consent (items
// 30–32): not before referenceStartDate, after the first payment's date,
// and not after the consent's last settlement date ([LastSettlementDate]).
// The window may be empty.
func RecurrenceWindow(c *consent.Consent, now time.Time) (Window, error) {
	if c == nil || c.Automatic() == nil {
		return Window{}, ErrNotAutomatic
	}
	a := c.Automatic()
	w := SchedulingWindow(now)
	if a.ReferenceStartDate.After(w.First) {
		w.First = a.ReferenceStartDate
	}
	if fp := a.FirstPayment; fp != nil && !fp.Date.Before(w.First) {
		w.First = fp.Date.AddDays(1)
	}
	if last, ok := LastSettlementDate(c); ok && last.Before(w.Last) {
		w.Last = last
	}
	return w, nil
}

// CheckAmount checks a recurrence amount against the consent (checklist
// item 34): equal to fixedAmount when set, at most maximumVariableAmount
// when set. minimumVariableAmount is the floor of the payer's cap, not of
// the charge, and is not checked (spec digest §9.20). The error wraps
// [ErrInvalidAmount], [ErrAmountMismatch] or [ErrAmountAboveMaximum].
func CheckAmount(a *consent.Automatic, amount consent.Amount) error {
	switch {
	case !amount.Valid():
		return fmt.Errorf("payments: amount %s must be positive and fit the wire format: %w", amount, ErrInvalidAmount)
	case a == nil:
		return ErrNotAutomatic
	case a.FixedAmount != nil && amount != *a.FixedAmount:
		return fmt.Errorf("payments: amount %s differs from fixedAmount %s: %w", amount, *a.FixedAmount, ErrAmountMismatch)
	case a.MaximumVariableAmount != nil && amount > *a.MaximumVariableAmount:
		return fmt.Errorf("payments: amount %s is above maximumVariableAmount: %w", amount, ErrAmountAboveMaximum)
	}
	return nil
}

// CycleTaken returns the existing original payment that occupies the cycle
// of ref, if any (checklist item 33): same consent (when both ids are
// known), not a retry, same paymentReference in either version's form, and
// in a status that may still settle ([Status.OccupiesCycle]).
func CycleTaken(existing []Payment, consentID string, ref PaymentReference) (Payment, bool) {
	for _, p := range existing {
		if p.IsRetry() || !p.Status.OccupiesCycle() {
			continue
		}
		if consentID != "" && p.ConsentID != "" && p.ConsentID != consentID {
			continue
		}
		if ref.SameCycle(p.PaymentReference) {
			return p, true
		}
	}
	return Payment{}, false
}

// DueDatePolicy says how a receiver moves due dates that are not business
// days. Pix Automático settles on any day, so the default leaves dates
// alone; receivers whose contracts follow business days pick another one.
type DueDatePolicy int

// Due-date policies.
const (
	// DueDateAsIs keeps every date.
	DueDateAsIs DueDatePolicy = iota
	// DueDateNextBusinessDay moves a non-business day to the next business
	// day.
	DueDateNextBusinessDay
	// DueDatePreviousBusinessDay moves a non-business day to the previous
	// business day.
	DueDatePreviousBusinessDay
)

// ConscienciaNegra is the Dia Nacional de Zumbi e da Consciência Negra
// (20 November), a national holiday since 2024 (Lei 14.759/2023). The
// github.com/rickar/cal/v2/br list does not have it.
var ConscienciaNegra = &cal.Holiday{
	Name:      "Dia Nacional de Zumbi e da Consciência Negra",
	Type:      cal.ObservancePublic,
	Month:     time.November,
	Day:       20,
	StartYear: 2024,
	Func:      cal.CalcDayOfMonth,
}

// Calendar is a Brazilian business-day calendar: Monday to Friday, minus
// the national holidays of github.com/rickar/cal/v2/br (which include
// Carnival Tuesday, Good Friday and Corpus Christi), [ConscienciaNegra],
// and any extra holidays given to [NewCalendar] (state or municipal ones,
// Carnival Monday for a banking calendar, …).
//
// A Calendar is safe for concurrent use once built.
type Calendar struct {
	bc *cal.BusinessCalendar
}

// NewCalendar returns the national calendar plus extra holidays.
func NewCalendar(extra ...*cal.Holiday) *Calendar {
	bc := cal.NewBusinessCalendar()
	bc.Name = "BR"
	bc.AddHoliday(br.Holidays...)
	bc.AddHoliday(ConscienciaNegra)
	bc.AddHoliday(extra...)
	return &Calendar{bc: bc}
}

func (c *Calendar) cal() *cal.BusinessCalendar {
	if c == nil || c.bc == nil {
		return defaultCalendar.bc
	}
	return c.bc
}

var defaultCalendar = NewCalendar()

// IsBusinessDay reports whether d is a business day. A nil Calendar is the
// national one.
func (c *Calendar) IsBusinessDay(d consent.Date) bool {
	return c.cal().IsWorkday(d.In(time.UTC))
}

// maxBusinessDayScan bounds the search for a business day.
const maxBusinessDayScan = 31

// NextBusinessDay returns the first business day strictly after d.
func (c *Calendar) NextBusinessDay(d consent.Date) consent.Date { return c.step(d, 1) }

// PreviousBusinessDay returns the last business day strictly before d.
func (c *Calendar) PreviousBusinessDay(d consent.Date) consent.Date { return c.step(d, -1) }

func (c *Calendar) step(d consent.Date, dir int) consent.Date {
	for range maxBusinessDayScan {
		d = d.AddDays(dir)
		if c.IsBusinessDay(d) {
			return d
		}
	}
	return d // unreachable with any real calendar
}

// Adjust returns d if it is a business day or the policy is DueDateAsIs,
// else the next or previous business day.
func (c *Calendar) Adjust(d consent.Date, p DueDatePolicy) consent.Date {
	if p == DueDateAsIs || c.IsBusinessDay(d) {
		return d
	}
	if p == DueDatePreviousBusinessDay {
		return c.PreviousBusinessDay(d)
	}
	return c.NextBusinessDay(d)
}
