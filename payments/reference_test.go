package payments_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
)

func TestPaymentReferenceFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		ref         payments.PaymentReference
		iso, legacy string
	}{
		{name: "first payment", ref: payments.FirstPaymentReference(), iso: "zero", legacy: "zero"},
		{name: "spec weekly example", ref: cycleRef(consent.IntervalSemanal, date(2025, 7, 30)),
			iso: "R/2025-07-30/P1W", legacy: "W31-2025"},
		{name: "spec legacy weekly example W50-2024", ref: cycleRef(consent.IntervalSemanal, date(2024, 12, 9)),
			iso: "R/2024-12-09/P1W", legacy: "W50-2024"},
		{name: "week one is zero-padded", ref: cycleRef(consent.IntervalSemanal, date(2026, 1, 5)),
			iso: "R/2026-01-05/P1W", legacy: "W02-2026"},
		{name: "late December in ISO week 1 of next year", ref: cycleRef(consent.IntervalSemanal, date(2025, 12, 29)),
			iso: "R/2025-12-29/P1W", legacy: "W01-2026"},
		{name: "early January in ISO week 53 of previous year", ref: cycleRef(consent.IntervalSemanal, date(2021, 1, 2)),
			iso: "R/2021-01-02/P1W", legacy: "W53-2020"},
		{name: "spec monthly example", ref: cycleRef(consent.IntervalMensal, date(2025, 9, 23)),
			iso: "R/2025-09-23/P1M", legacy: "M09-2025"},
		{name: "legacy monthly example M09-2024", ref: cycleRef(consent.IntervalMensal, date(2024, 9, 1)),
			iso: "R/2024-09-01/P1M", legacy: "M09-2024"},
		{name: "quarter 3", ref: cycleRef(consent.IntervalTrimestral, date(2024, 7, 23)),
			iso: "R/2024-07-23/P3M", legacy: "Q3-2024"},
		{name: "quarter 1 ends in March", ref: cycleRef(consent.IntervalTrimestral, date(2025, 3, 31)),
			iso: "R/2025-03-31/P3M", legacy: "Q1-2025"},
		{name: "quarter 4", ref: cycleRef(consent.IntervalTrimestral, date(2025, 10, 1)),
			iso: "R/2025-10-01/P3M", legacy: "Q4-2025"},
		{name: "semester 1 ends in June", ref: cycleRef(consent.IntervalSemestral, date(2024, 6, 30)),
			iso: "R/2024-06-30/P6M", legacy: "S1-2024"},
		{name: "semester 2", ref: cycleRef(consent.IntervalSemestral, date(2024, 7, 1)),
			iso: "R/2024-07-01/P6M", legacy: "S2-2024"},
		{name: "year", ref: cycleRef(consent.IntervalAnual, date(2024, 2, 29)),
			iso: "R/2024-02-29/P1Y", legacy: "Y2024"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iso, err := tt.ref.ISO()
			require.NoError(t, err)
			require.Equal(t, tt.iso, iso)
			legacy, err := tt.ref.Legacy()
			require.NoError(t, err)
			require.Equal(t, tt.legacy, legacy)
			require.LessOrEqual(t, len(legacy), 10)
			for v, want := range map[payments.Version]string{
				payments.V220: tt.iso, payments.V210: tt.legacy, payments.V200: tt.legacy, payments.V200Beta1: "",
			} {
				got, err := tt.ref.Format(v)
				require.NoError(t, err)
				require.Equal(t, want, got, v)
			}
			require.Equal(t, tt.iso, tt.ref.String())
			for _, s := range []string{tt.iso, tt.legacy} {
				require.True(t, tt.ref.SameCycle(s), s)
			}
		})
	}
}

func cycleRef(i consent.Interval, start consent.Date) payments.PaymentReference {
	return payments.CycleReference(i, payments.Cycle{Start: start})
}

// TestLegacyLabelsDistinct checks that consecutive cycles never share a
// 2.0/2.1 label and that every label fits in 10 characters.
func TestLegacyLabelsDistinct(t *testing.T) {
	t.Parallel()
	for _, interval := range allIntervals {
		for _, anchor := range []consent.Date{date(2025, 1, 31), date(2024, 12, 30), date(2020, 12, 31), date(2025, 7, 23)} {
			b := payments.Billing{Anchor: anchor, Interval: interval}
			seen := map[string]int{}
			for n := range 400 {
				c, err := b.Cycle(n)
				require.NoError(t, err)
				s, err := payments.CycleReference(interval, c).Legacy()
				require.NoError(t, err)
				require.LessOrEqual(t, len(s), 10, s)
				prev, dup := seen[s]
				require.False(t, dup, "%s: cycles %d and %d share %s", interval, prev, n, s)
				seen[s] = n
				back, err := payments.ParsePaymentReference(s)
				require.NoError(t, err, s)
				got, err := back.Legacy()
				require.NoError(t, err)
				require.Equal(t, s, got)
			}
		}
	}
}

func TestParsePaymentReference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    payments.PaymentReference
		wantErr string
	}{
		{name: "zero", in: "zero", want: payments.PaymentReference{First: true}},
		{name: "ISO weekly", in: "R/2025-07-23/P1W", want: cycleRef(consent.IntervalSemanal, date(2025, 7, 23))},
		{name: "ISO monthly", in: "R/2025-08-23/P1M", want: cycleRef(consent.IntervalMensal, date(2025, 8, 23))},
		{name: "ISO quarterly", in: "R/2025-08-23/P3M", want: cycleRef(consent.IntervalTrimestral, date(2025, 8, 23))},
		{name: "ISO half-yearly", in: "R/2025-08-23/P6M", want: cycleRef(consent.IntervalSemestral, date(2025, 8, 23))},
		{name: "ISO yearly", in: "R/2024-02-29/P1Y", want: cycleRef(consent.IntervalAnual, date(2024, 2, 29))},
		{name: "legacy week two digits", in: "W50-2024", want: legacyRef(consent.IntervalSemanal, 2024, 50)},
		{name: "legacy week one digit", in: "W5-2024", want: legacyRef(consent.IntervalSemanal, 2024, 5)},
		{name: "legacy week 53 of a long year", in: "W53-2020", want: legacyRef(consent.IntervalSemanal, 2020, 53)},
		{name: "legacy month", in: "M09-2024", want: legacyRef(consent.IntervalMensal, 2024, 9)},
		{name: "legacy quarter", in: "Q3-2024", want: legacyRef(consent.IntervalTrimestral, 2024, 3)},
		{name: "legacy semester", in: "S2-2024", want: legacyRef(consent.IntervalSemestral, 2024, 2)},
		{name: "legacy year", in: "Y2024", want: payments.PaymentReference{Interval: consent.IntervalAnual, Year: 2024}},
		{name: "empty", in: "", wantErr: "empty"},
		{name: "Zero capitalised", in: "Zero", wantErr: "must be"},
		{name: "ISO impossible date", in: "R/2025-02-30/P1M", wantErr: "not a calendar date"},
		{name: "ISO unknown duration", in: "R/2025-07-23/P2W", wantErr: "duration"},
		{name: "ISO lower-case duration", in: "R/2025-07-23/p1m", wantErr: "duration"},
		{name: "ISO repetition count", in: "R1/2025-07-23/P1M", wantErr: "must be R/"},
		{name: "rc.1 form", in: "23-07-2025/P1W", wantErr: "must be"},
		{name: "ISO trailing text", in: "R/2025-07-23/P1Mx", wantErr: "must be R/"},
		{name: "ISO one-digit month", in: "R/2025-7-23/P1M", wantErr: "must be R/"},
		{name: "legacy week 53 of a short year", in: "W53-2025", wantErr: "52 ISO weeks"},
		{name: "legacy week 0", in: "W00-2025", wantErr: "period out of range"},
		{name: "legacy month 13", in: "M13-2024", wantErr: "period out of range"},
		{name: "legacy month one digit", in: "M9-2024", wantErr: "must be M"},
		{name: "legacy quarter 5", in: "Q5-2024", wantErr: "period out of range"},
		{name: "legacy semester 3", in: "S3-2024", wantErr: "period out of range"},
		{name: "legacy two-digit year", in: "M09-24", wantErr: "must be M"},
		{name: "legacy no dash", in: "M092024", wantErr: "must be M"},
		{name: "legacy too long", in: "W050-20245", wantErr: "must be W"},
		{name: "longer than 10", in: "M09-2024abc", wantErr: "longer than 10"},
		{name: "legacy year letters", in: "Y20x4", wantErr: "must be Y"},
		{name: "legacy year short", in: "Y202", wantErr: "must be Y"},
		{name: "unknown prefix", in: "D2024", wantErr: "must be"},
		{name: "sign in period", in: "W+5-2024", wantErr: "must be W"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := payments.ParsePaymentReference(tt.in)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, payments.ErrInvalidPaymentReference)
				var pe *payments.ParseError
				require.ErrorAs(t, err, &pe)
				require.Equal(t, "paymentReference", pe.Kind)
				require.Contains(t, pe.Rule, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func legacyRef(i consent.Interval, year, period int) payments.PaymentReference {
	return payments.PaymentReference{Interval: i, Year: year, Period: period}
}

func TestPaymentReferenceErrors(t *testing.T) {
	t.Parallel()
	t.Run("legacy reference has no 2.2.0 form", func(t *testing.T) {
		t.Parallel()
		r := legacyRef(consent.IntervalMensal, 2024, 9)
		_, err := r.ISO()
		require.ErrorIs(t, err, payments.ErrInvalidPaymentReference)
		_, err = r.Format(payments.V220)
		require.ErrorIs(t, err, payments.ErrInvalidPaymentReference)
		s, err := r.Format(payments.V210)
		require.NoError(t, err)
		require.Equal(t, "M09-2024", s)
		require.Equal(t, "M09-2024", r.String())
	})
	t.Run("unknown interval", func(t *testing.T) {
		t.Parallel()
		r := cycleRef("DIARIO", date(2025, 7, 23))
		_, err := r.ISO()
		require.ErrorIs(t, err, payments.ErrInvalidPaymentReference)
		_, err = r.Legacy()
		require.ErrorIs(t, err, payments.ErrInvalidPaymentReference)
		require.Equal(t, "<invalid paymentReference>", r.String())
	})
	t.Run("period out of range", func(t *testing.T) {
		t.Parallel()
		for _, r := range []payments.PaymentReference{
			legacyRef(consent.IntervalSemanal, 2024, 54), legacyRef(consent.IntervalMensal, 2024, 0),
			legacyRef(consent.IntervalTrimestral, 2024, 5), legacyRef(consent.IntervalSemestral, 2024, 3),
			{Interval: consent.IntervalAnual, Year: 10000},
		} {
			_, err := r.Legacy()
			require.ErrorIs(t, err, payments.ErrInvalidPaymentReference, r)
		}
	})
	t.Run("zero value", func(t *testing.T) {
		t.Parallel()
		_, err := payments.PaymentReference{}.ISO()
		require.Error(t, err)
	})
}

func TestSameCycle(t *testing.T) {
	t.Parallel()
	monthly := cycleRef(consent.IntervalMensal, date(2025, 8, 23))
	tests := []struct {
		name string
		ref  payments.PaymentReference
		s    string
		want bool
	}{
		{name: "same ISO", ref: monthly, s: "R/2025-08-23/P1M", want: true},
		{name: "same legacy label", ref: monthly, s: "M08-2025", want: true},
		{name: "other cycle", ref: monthly, s: "R/2025-09-23/P1M"},
		{name: "other legacy month", ref: monthly, s: "M09-2025"},
		{name: "other interval", ref: monthly, s: "R/2025-08-23/P3M"},
		{name: "zero vs cycle", ref: monthly, s: "zero"},
		{name: "zero vs zero", ref: payments.FirstPaymentReference(), s: "zero", want: true},
		{name: "cycle vs zero", ref: payments.FirstPaymentReference(), s: "M08-2025"},
		{name: "garbage", ref: monthly, s: "garbage"},
		{name: "empty", ref: monthly, s: ""},
		{name: "legacy vs legacy", ref: legacyRef(consent.IntervalMensal, 2025, 8), s: "M08-2025", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, tt.ref.SameCycle(tt.s))
		})
	}
}

func TestParseErrorTruncatesInput(t *testing.T) {
	t.Parallel()
	_, err := payments.ParsePaymentReference(strings.Repeat("x", 500))
	require.Error(t, err)
	require.Less(t, len(err.Error()), 200)
}
