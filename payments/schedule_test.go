package payments_test

import (
	"testing"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
)

func TestSchedulingWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		now         time.Time
		first, last consent.Date
	}{
		{name: "morning", now: brt(2025, 7, 23, 9, 0, 0), first: date(2025, 7, 25), last: date(2025, 8, 2)},
		{name: "last second of the Brasília day (already the next UTC day)", now: brt(2025, 7, 23, 23, 59, 59),
			first: date(2025, 7, 25), last: date(2025, 8, 2)},
		{name: "first second of the next Brasília day", now: brt(2025, 7, 24, 0, 0, 0),
			first: date(2025, 7, 26), last: date(2025, 8, 3)},
		{name: "UTC input is read in Brasília", now: time.Date(2025, 7, 24, 2, 59, 59, 0, time.UTC),
			first: date(2025, 7, 25), last: date(2025, 8, 2)},
		{name: "across February of a leap year", now: brt(2028, 2, 25, 12, 0, 0), first: date(2028, 2, 27), last: date(2028, 3, 6)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := payments.SchedulingWindow(tt.now)
			require.Equal(t, payments.Window{First: tt.first, Last: tt.last}, w)
			require.True(t, w.Contains(tt.first))
			require.True(t, w.Contains(tt.last))
			require.False(t, w.Contains(tt.first.AddDays(-1)))
			require.False(t, w.Contains(tt.last.AddDays(1)))
			require.False(t, w.Empty())
		})
	}
}

func TestRecurrenceWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		c     *consent.Consent
		now   time.Time
		want  payments.Window
		empty bool
		err   error
	}{
		{name: "plain scheduling window", c: newConsent(), now: brt(2025, 8, 1, 10, 0, 0),
			want: payments.Window{First: date(2025, 8, 3), Last: date(2025, 8, 11)}},
		{name: "referenceStartDate later than today+2", c: newConsent(), now: brt(2025, 7, 15, 10, 0, 0),
			want: payments.Window{First: date(2025, 7, 23), Last: date(2025, 7, 25)}},
		{name: "first payment later than today+2", now: brt(2025, 7, 15, 10, 0, 0),
			c: newConsent(func(c *consent.Consent) {
				c.Automatic().ReferenceStartDate = date(2025, 7, 10)
				c.Automatic().FirstPayment.Date = date(2025, 7, 20)
			}),
			want: payments.Window{First: date(2025, 7, 21), Last: date(2025, 7, 25)}},
		{name: "expiry cuts the end", c: newConsent(withExpiry(date(2025, 8, 5))), now: brt(2025, 8, 1, 10, 0, 0),
			want: payments.Window{First: date(2025, 8, 3), Last: date(2025, 8, 5)}},
		{name: "expiry before today+2 leaves nothing", c: newConsent(withExpiry(date(2025, 8, 2))), now: brt(2025, 8, 1, 10, 0, 0),
			want: payments.Window{First: date(2025, 8, 3), Last: date(2025, 8, 2)}, empty: true},
		{name: "nil consent", now: brt(2025, 8, 1, 10, 0, 0), err: payments.ErrNotAutomatic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, err := payments.RecurrenceWindow(tt.c, tt.now)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, w)
			require.Equal(t, tt.empty, w.Empty())
		})
	}
}

func TestLastSettlementDate(t *testing.T) {
	t.Parallel()
	at := func(s string) *consent.Consent {
		dt, err := consent.ParseDateTime(s)
		require.NoError(t, err)
		return &consent.Consent{ExpirationDateTime: &dt}
	}
	tests := []struct {
		name string
		c    *consent.Consent
		want consent.Date
		ok   bool
	}{
		{name: "23:59:59Z is 20:59:59 in Brasília, same day", c: at("2025-08-10T23:59:59Z"), want: date(2025, 8, 10), ok: true},
		{name: "02:00Z is the previous Brasília day", c: at("2025-08-11T02:00:00Z"), want: date(2025, 8, 10), ok: true},
		{name: "03:00Z is the same Brasília day", c: at("2025-08-11T03:00:00Z"), want: date(2025, 8, 11), ok: true},
		{name: "no expiry", c: &consent.Consent{}},
		{name: "nil consent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := payments.LastSettlementDate(tt.c)
			require.Equal(t, tt.ok, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestCheckAmount(t *testing.T) {
	t.Parallel()
	fixed := &consent.Automatic{FixedAmount: amountPtr("100.00")}
	capped := &consent.Automatic{MaximumVariableAmount: amountPtr("500.00"), MinimumVariableAmount: amountPtr("50.00")}
	tests := []struct {
		name string
		a    *consent.Automatic
		amt  consent.Amount
		err  error
	}{
		{name: "fixed equal", a: fixed, amt: amount("100.00")},
		{name: "fixed one centavo less", a: fixed, amt: amount("99.99"), err: payments.ErrAmountMismatch},
		{name: "fixed one centavo more", a: fixed, amt: amount("100.01"), err: payments.ErrAmountMismatch},
		{name: "capped at the maximum", a: capped, amt: amount("500.00")},
		{name: "capped one centavo above", a: capped, amt: amount("500.01"), err: payments.ErrAmountAboveMaximum},
		{name: "minimumVariableAmount is not a floor", a: capped, amt: amount("0.01")},
		{name: "uncapped variable", a: &consent.Automatic{}, amt: amount("99999.99")},
		{name: "zero", a: capped, amt: 0, err: payments.ErrInvalidAmount},
		{name: "negative", a: capped, amt: -1, err: payments.ErrInvalidAmount},
		{name: "too large", a: &consent.Automatic{}, amt: consent.MaxAmount + 1, err: payments.ErrInvalidAmount},
		{name: "nil configuration", amt: amount("1.00"), err: payments.ErrNotAutomatic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := payments.CheckAmount(tt.a, tt.amt)
			if tt.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.err)
		})
	}
}

func TestCycleTaken(t *testing.T) {
	t.Parallel()
	ref := cycleRef(consent.IntervalMensal, date(2025, 8, 23))
	pay := func(id string, s payments.Status, reference string, mods ...func(*payments.Payment)) payments.Payment {
		p := payments.Payment{ID: id, ConsentID: consentID, Status: s, PaymentReference: reference}
		for _, m := range mods {
			m(&p)
		}
		return p
	}
	tests := []struct {
		name     string
		existing []payments.Payment
		taken    string
	}{
		{name: "none"},
		{name: "scheduled", existing: []payments.Payment{pay("p1", payments.StatusSCHD, "R/2025-08-23/P1M")}, taken: "p1"},
		{name: "pending", existing: []payments.Payment{pay("p1", payments.StatusPDNG, "R/2025-08-23/P1M")}, taken: "p1"},
		{name: "accepted", existing: []payments.Payment{pay("p1", payments.StatusACCP, "R/2025-08-23/P1M")}, taken: "p1"},
		{name: "in clearing", existing: []payments.Payment{pay("p1", payments.StatusACPD, "R/2025-08-23/P1M")}, taken: "p1"},
		{name: "settled", existing: []payments.Payment{pay("p1", payments.StatusACSC, "R/2025-08-23/P1M")}, taken: "p1"},
		{name: "received", existing: []payments.Payment{pay("p1", payments.StatusRCVD, "R/2025-08-23/P1M")}, taken: "p1"},
		{name: "rejected frees the cycle", existing: []payments.Payment{pay("p1", payments.StatusRJCT, "R/2025-08-23/P1M")}},
		{name: "cancelled frees the cycle", existing: []payments.Payment{pay("p1", payments.StatusCANC, "R/2025-08-23/P1M")}},
		{name: "created under 2.1 with the legacy label",
			existing: []payments.Payment{pay("p1", payments.StatusSCHD, "M08-2025")}, taken: "p1"},
		{name: "other cycle", existing: []payments.Payment{pay("p1", payments.StatusSCHD, "R/2025-09-23/P1M")}},
		{name: "retries do not count as originals", existing: []payments.Payment{
			pay("p1", payments.StatusRJCT, "R/2025-08-23/P1M"),
			pay("p2", payments.StatusSCHD, "R/2025-08-23/P1M", func(p *payments.Payment) { p.OriginalRecurringPaymentID = "p1" }),
		}},
		{name: "other consent", existing: []payments.Payment{
			pay("p1", payments.StatusSCHD, "R/2025-08-23/P1M", func(p *payments.Payment) { p.ConsentID = "urn:bancoex:OTHER" }),
		}},
		{name: "list item without consent id still counts", existing: []payments.Payment{
			pay("p1", payments.StatusSCHD, "R/2025-08-23/P1M", func(p *payments.Payment) { p.ConsentID = "" }),
		}, taken: "p1"},
		{name: "first of several", existing: []payments.Payment{
			pay("p0", payments.StatusRJCT, "R/2025-08-23/P1M"),
			pay("p1", payments.StatusSCHD, "R/2025-08-23/P1M"),
		}, taken: "p1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, ok := payments.CycleTaken(tt.existing, consentID, ref)
			require.Equal(t, tt.taken != "", ok)
			require.Equal(t, tt.taken, p.ID)
		})
	}
}

func TestCalendar(t *testing.T) {
	t.Parallel()
	national := payments.NewCalendar()
	tests := []struct {
		name     string
		d        consent.Date
		business bool
	}{
		{name: "ordinary Wednesday", d: date(2025, 7, 23), business: true},
		{name: "Saturday", d: date(2025, 7, 26)},
		{name: "Sunday", d: date(2025, 7, 27)},
		{name: "Ano Novo", d: date(2025, 1, 1)},
		{name: "Carnaval Tuesday", d: date(2025, 3, 4)},
		{name: "Carnaval Monday is not national", d: date(2025, 3, 3), business: true},
		{name: "Sexta-feira Santa", d: date(2025, 4, 18)},
		{name: "Tiradentes", d: date(2025, 4, 21)},
		{name: "Dia do Trabalhador", d: date(2025, 5, 1)},
		{name: "Corpus Christi", d: date(2025, 6, 19)},
		{name: "Independência on a weekday", d: date(2026, 9, 7)},
		{name: "Nossa Senhora Aparecida on a weekday", d: date(2026, 10, 12)},
		{name: "Finados on a weekday", d: date(2026, 11, 2)},
		{name: "Proclamação da República on a weekday", d: date(2027, 11, 15)},
		{name: "Consciência Negra since 2024", d: date(2025, 11, 20)},
		{name: "Consciência Negra not before 2024", d: date(2023, 11, 20), business: true},
		{name: "Natal", d: date(2025, 12, 25)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.business, national.IsBusinessDay(tt.d))
			var nilCal *payments.Calendar
			require.Equal(t, tt.business, nilCal.IsBusinessDay(tt.d), "nil calendar is the national one")
		})
	}
}

func TestCalendarAdjust(t *testing.T) {
	t.Parallel()
	national := payments.NewCalendar()
	municipal := payments.NewCalendar(&cal.Holiday{Name: "Aniversário de São Paulo", Month: time.January, Day: 25, Func: cal.CalcDayOfMonth})
	tests := []struct {
		name         string
		c            *payments.Calendar
		d            consent.Date
		asIs         consent.Date
		next, prev   consent.Date
		nextStrictly consent.Date
	}{
		{name: "business day stays", c: national, d: date(2025, 7, 23),
			asIs: date(2025, 7, 23), next: date(2025, 7, 23), prev: date(2025, 7, 23), nextStrictly: date(2025, 7, 24)},
		{name: "Saturday", c: national, d: date(2025, 7, 26),
			asIs: date(2025, 7, 26), next: date(2025, 7, 28), prev: date(2025, 7, 25), nextStrictly: date(2025, 7, 28)},
		{name: "Good Friday, weekend and Tiradentes Monday", c: national, d: date(2025, 4, 18),
			asIs: date(2025, 4, 18), next: date(2025, 4, 22), prev: date(2025, 4, 17), nextStrictly: date(2025, 4, 22)},
		{name: "Christmas to the next day", c: national, d: date(2025, 12, 25),
			asIs: date(2025, 12, 25), next: date(2025, 12, 26), prev: date(2025, 12, 24), nextStrictly: date(2025, 12, 26)},
		{name: "New Year across the year", c: national, d: date(2028, 1, 1),
			asIs: date(2028, 1, 1), next: date(2028, 1, 3), prev: date(2027, 12, 31), nextStrictly: date(2028, 1, 3)},
		{name: "extra municipal holiday", c: municipal, d: date(2027, 1, 25),
			asIs: date(2027, 1, 25), next: date(2027, 1, 26), prev: date(2027, 1, 22), nextStrictly: date(2027, 1, 26)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.asIs, tt.c.Adjust(tt.d, payments.DueDateAsIs))
			require.Equal(t, tt.next, tt.c.Adjust(tt.d, payments.DueDateNextBusinessDay))
			require.Equal(t, tt.prev, tt.c.Adjust(tt.d, payments.DueDatePreviousBusinessDay))
			require.Equal(t, tt.nextStrictly, tt.c.NextBusinessDay(tt.d))
			require.True(t, tt.c.PreviousBusinessDay(tt.d).Before(tt.d))
		})
	}
	require.True(t, national.IsBusinessDay(date(2027, 1, 25)), "25 January is only a São Paulo holiday")
}
