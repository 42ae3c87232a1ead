package payments_test

import (
	"testing"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
)

func BenchmarkGeneratorScheduled(b *testing.B) {
	for _, bc := range []struct {
		name string
		gen  *payments.Generator
	}{
		{name: "crypto-rand", gen: &payments.Generator{ISPB: itpISPB}},
		{name: "chacha8", gen: &payments.Generator{ISPB: itpISPB, Rand: chachaReader(1)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			d := date(2025, 7, 23)
			for i := 0; b.Loop(); i++ {
				if _, err := bc.gen.Scheduled(d.AddDays(i % 3650)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseE2EID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := payments.ParseE2EID("E9040088820241225150000123873170"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCycleContaining(b *testing.B) {
	for _, interval := range []consent.Interval{consent.IntervalSemanal, consent.IntervalMensal} {
		b.Run(string(interval), func(b *testing.B) {
			b.ReportAllocs()
			bl := payments.Billing{Anchor: date(2025, 1, 31), Interval: interval}
			d := date(2031, 3, 29)
			for b.Loop() {
				if _, err := bl.CycleContaining(d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPaymentReference(b *testing.B) {
	b.ReportAllocs()
	ref := cycleRef(consent.IntervalMensal, date(2025, 8, 23))
	for b.Loop() {
		if _, err := ref.Format(payments.V220); err != nil {
			b.Fatal(err)
		}
		if _, err := payments.ParsePaymentReference("R/2025-08-23/P1M"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecide(b *testing.B) {
	saldo := payments.RejectionSaldoInsuficiente
	chain := payments.NewChain(original(saldo), extraday(1, saldo), extraday(2, saldo))
	c := newConsent()
	now := on(2, 21, 30, 0)
	b.ReportAllocs()
	for b.Loop() {
		if d := payments.Decide(chain, c, now, payments.RetryPolicy{}); d.Action != payments.RetryNextDay {
			b.Fatal(d.Action)
		}
	}
}

func BenchmarkValidateCreate(b *testing.B) {
	r := recurrence(cycleStart, payDay)
	c := newConsent()
	existing := []payments.Payment{
		{ID: "p0", Status: payments.StatusACSC, PaymentReference: "zero", EndToEndID: "E12345678202507201500zzzzzzzzzzz"},
		{ID: "p1", Status: payments.StatusACSC, PaymentReference: "R/2025-07-23/P1M", EndToEndID: "E12345678202507251500yyyyyyyyyyy"},
	}
	v := &payments.Validator{ISPB: itpISPB, CNPJInitiator: itpCNPJ}
	b.ReportAllocs()
	for b.Loop() {
		if err := v.ValidateCreate(r, c, existing, createNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeCreate(b *testing.B) {
	r := encodeFixture()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := payments.EncodeCreate(payments.V220, r); err != nil {
			b.Fatal(err)
		}
	}
}
