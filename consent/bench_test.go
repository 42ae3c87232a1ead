package consent_test

import (
	"testing"

	"github.com/ofb-go/pixauto/consent"
)

func BenchmarkValidateCreate(b *testing.B) {
	b.ReportAllocs()
	r := validRequest()
	for b.Loop() {
		if err := consent.ValidateCreate(r, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateCreateInvalid(b *testing.B) {
	b.ReportAllocs()
	r := validRequest()
	r.Creditors[0].PersonType = consent.PessoaNatural
	r.RecurringConfiguration.Automatic.FixedAmount = r.RecurringConfiguration.Automatic.MaximumVariableAmount
	for b.Loop() {
		if consent.ValidateCreate(r, testNow) == nil {
			b.Fatal("want errors")
		}
	}
}

func BenchmarkDecodeConsent(b *testing.B) {
	b.ReportAllocs()
	data := []byte(authorisedJSON)
	for b.Loop() {
		if _, err := consent.DecodeConsent(data); err != nil {
			b.Fatal(err)
		}
	}
}
