package payments_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
)

var allIntervals = []consent.Interval{
	consent.IntervalSemanal, consent.IntervalMensal, consent.IntervalTrimestral,
	consent.IntervalSemestral, consent.IntervalAnual,
}

func TestBillingCycle(t *testing.T) {
	t.Parallel()
	type span struct{ start, end consent.Date }
	tests := []struct {
		name     string
		anchor   consent.Date
		interval consent.Interval
		want     []span // cycles 0, 1, …
	}{
		{name: "guide: monthly anchored on 31 October", anchor: date(2025, 10, 31), interval: consent.IntervalMensal,
			want: []span{
				{date(2025, 10, 31), date(2025, 11, 29)},
				{date(2025, 11, 30), date(2025, 12, 30)},
				{date(2025, 12, 31), date(2026, 1, 30)},
				{date(2026, 1, 31), date(2026, 2, 27)},
				{date(2026, 2, 28), date(2026, 3, 30)},
				{date(2026, 3, 31), date(2026, 4, 29)},
			}},
		{name: "leap year: February starts on the 29th", anchor: date(2028, 1, 31), interval: consent.IntervalMensal,
			want: []span{
				{date(2028, 1, 31), date(2028, 2, 28)},
				{date(2028, 2, 29), date(2028, 3, 30)},
				{date(2028, 3, 31), date(2028, 4, 29)},
			}},
		{name: "spec example: weekly from 23 July", anchor: date(2025, 7, 23), interval: consent.IntervalSemanal,
			want: []span{
				{date(2025, 7, 23), date(2025, 7, 29)},
				{date(2025, 7, 30), date(2025, 8, 5)},
				{date(2025, 8, 6), date(2025, 8, 12)},
			}},
		{name: "spec example: monthly from 23 July", anchor: date(2025, 7, 23), interval: consent.IntervalMensal,
			want: []span{{date(2025, 7, 23), date(2025, 8, 22)}, {date(2025, 8, 23), date(2025, 9, 22)}}},
		{name: "spec example: quarterly from 23 July", anchor: date(2025, 7, 23), interval: consent.IntervalTrimestral,
			want: []span{{date(2025, 7, 23), date(2025, 10, 22)}, {date(2025, 10, 23), date(2026, 1, 22)}}},
		{name: "spec example: half-yearly from 23 July", anchor: date(2025, 7, 23), interval: consent.IntervalSemestral,
			want: []span{{date(2025, 7, 23), date(2026, 1, 22)}, {date(2026, 1, 23), date(2026, 7, 22)}}},
		{name: "spec example: yearly from 23 July", anchor: date(2025, 7, 23), interval: consent.IntervalAnual,
			want: []span{{date(2025, 7, 23), date(2026, 7, 22)}, {date(2026, 7, 23), date(2027, 7, 22)}}},
		{name: "quarterly anchored on 30 November", anchor: date(2025, 11, 30), interval: consent.IntervalTrimestral,
			want: []span{
				{date(2025, 11, 30), date(2026, 2, 27)},
				{date(2026, 2, 28), date(2026, 5, 29)},
				{date(2026, 5, 30), date(2026, 8, 29)},
			}},
		{name: "yearly anchored on 29 February", anchor: date(2024, 2, 29), interval: consent.IntervalAnual,
			want: []span{
				{date(2024, 2, 29), date(2025, 2, 27)},
				{date(2025, 2, 28), date(2026, 2, 27)},
				{date(2026, 2, 28), date(2027, 2, 27)},
				{date(2027, 2, 28), date(2028, 2, 28)},
				{date(2028, 2, 29), date(2029, 2, 27)},
			}},
		{name: "half-yearly anchored on 31 August", anchor: date(2025, 8, 31), interval: consent.IntervalSemestral,
			want: []span{{date(2025, 8, 31), date(2026, 2, 27)}, {date(2026, 2, 28), date(2026, 8, 30)}}},
		{name: "weekly across a year end", anchor: date(2025, 12, 29), interval: consent.IntervalSemanal,
			want: []span{{date(2025, 12, 29), date(2026, 1, 4)}, {date(2026, 1, 5), date(2026, 1, 11)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := payments.Billing{Anchor: tt.anchor, Interval: tt.interval}
			for n, w := range tt.want {
				c, err := b.Cycle(n)
				require.NoError(t, err)
				require.Equal(t, payments.Cycle{Index: n, Start: w.start, End: w.end}, c, "cycle %d", n)
				for _, d := range []consent.Date{w.start, w.end} {
					got, err := b.CycleContaining(d)
					require.NoError(t, err)
					require.Equal(t, n, got.Index, "date %s", d)
				}
				got, ok := b.CycleStarting(w.start)
				require.True(t, ok)
				require.Equal(t, n, got.Index)
				if w.end != w.start {
					_, ok = b.CycleStarting(w.end)
					require.False(t, ok)
				}
			}
		})
	}
}

// TestBillingInvariants walks many anchors and cycles: cycles tile the
// calendar without gaps or overlaps, every date lands in its cycle, and
// starts always derive from the anchor's day.
func TestBillingInvariants(t *testing.T) {
	t.Parallel()
	anchors := []consent.Date{
		date(2025, 1, 1), date(2025, 1, 28), date(2025, 1, 29), date(2025, 1, 30), date(2025, 1, 31),
		date(2024, 2, 29), date(2025, 8, 31), date(2025, 12, 31), date(2099, 11, 30),
	}
	for _, interval := range allIntervals {
		for _, anchor := range anchors {
			t.Run(string(interval)+"/"+anchor.String(), func(t *testing.T) {
				t.Parallel()
				b := payments.Billing{Anchor: anchor, Interval: interval}
				prev, err := b.Cycle(0)
				require.NoError(t, err)
				require.Equal(t, anchor, prev.Start)
				for n := 1; n <= 60; n++ {
					c, err := b.Cycle(n)
					require.NoError(t, err)
					require.Equal(t, prev.End.AddDays(1), c.Start, "cycle %d", n)
					require.False(t, c.End.Before(c.Start))
					if interval != consent.IntervalSemanal {
						require.True(t, c.Start.Day == anchor.Day || c.Start.Day == daysInMonth(c.Start) && c.Start.Day < anchor.Day,
							"cycle %d starts on %s", n, c.Start)
					} else {
						require.Equal(t, 6, c.Start.DaysUntil(c.End))
					}
					for d := c.Start; !d.After(c.End); d = d.AddDays(1) {
						got, err := b.CycleContaining(d)
						require.NoError(t, err)
						require.Equal(t, n, got.Index, "date %s", d)
					}
					prev = c
				}
			})
		}
	}
}

func daysInMonth(d consent.Date) int {
	return time.Date(d.Year, d.Month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func TestBillingErrors(t *testing.T) {
	t.Parallel()
	ok := payments.Billing{Anchor: date(2025, 7, 23), Interval: consent.IntervalMensal}
	tests := []struct {
		name string
		call func() error
		is   error
	}{
		{name: "negative index", is: payments.ErrCycleOutOfRange,
			call: func() error { _, err := ok.Cycle(-1); return err }},
		{name: "index past year 9999", is: payments.ErrCycleOutOfRange,
			call: func() error { _, err := ok.Cycle(1 << 40); return err }},
		{name: "date before the anchor", is: payments.ErrCycleOutOfRange,
			call: func() error { _, err := ok.CycleContaining(date(2025, 7, 22)); return err }},
		{name: "date after year 9999", is: payments.ErrCycleOutOfRange,
			call: func() error { _, err := ok.CycleContaining(date(10000, 1, 1)); return err }},
		{name: "unknown interval", is: payments.ErrInvalidFormat,
			call: func() error {
				_, err := payments.Billing{Anchor: date(2025, 7, 23), Interval: "DIARIO"}.Cycle(0)
				return err
			}},
		{name: "zero anchor", is: payments.ErrMissing,
			call: func() error { _, err := payments.Billing{Interval: consent.IntervalMensal}.Cycle(0); return err }},
		{name: "impossible anchor", is: payments.ErrInvalidFormat,
			call: func() error {
				_, err := payments.Billing{Anchor: consent.Date{Year: 2025, Month: 2, Day: 30}, Interval: consent.IntervalMensal}.Cycle(0)
				return err
			}},
		{name: "nil consent", is: payments.ErrNotAutomatic,
			call: func() error { _, err := payments.BillingOf(nil); return err }},
		{name: "consent without automatic", is: payments.ErrNotAutomatic,
			call: func() error { _, err := payments.BillingOf(&consent.Consent{}); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.ErrorIs(t, tt.call(), tt.is)
		})
	}
	t.Run("last cycle of year 9999", func(t *testing.T) {
		t.Parallel()
		for _, interval := range allIntervals {
			b := payments.Billing{Anchor: date(9990, 3, 31), Interval: interval}
			c, err := b.CycleContaining(date(9999, 12, 31))
			require.NoError(t, err, interval)
			require.Equal(t, 9999, c.Start.Year, interval)
			_, err = b.Cycle(c.Index + 1)
			require.ErrorIs(t, err, payments.ErrCycleOutOfRange, interval)
		}
	})
	t.Run("BillingOf", func(t *testing.T) {
		t.Parallel()
		b, err := payments.BillingOf(newConsent())
		require.NoError(t, err)
		require.Equal(t, payments.Billing{Anchor: date(2025, 7, 23), Interval: consent.IntervalMensal}, b)
	})
}

func TestCycleContains(t *testing.T) {
	t.Parallel()
	c := payments.Cycle{Start: date(2025, 7, 23), End: date(2025, 8, 22)}
	require.True(t, c.Contains(date(2025, 7, 23)))
	require.True(t, c.Contains(date(2025, 8, 22)))
	require.False(t, c.Contains(date(2025, 7, 22)))
	require.False(t, c.Contains(date(2025, 8, 23)))
}
