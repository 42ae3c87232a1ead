package payments_test

import (
	"bytes"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
)

// Fixture values shared by the tests.
const (
	itpISPB      = "12345678"
	itpCNPJ      = "50685362000135"
	creditorCNPJ = "11222333000181"
	consentID    = "urn:bancoex:C1DD33123"
)

// brt returns the instant y-m-d h:mi:s in Brasília.
func brt(y int, m time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, m, d, h, mi, s, 0, consent.Brasilia)
}

// date is a short consent.NewDate.
func date(y int, m time.Month, d int) consent.Date { return consent.NewDate(y, m, d) }

func amount(s string) consent.Amount     { return consent.MustAmount(s) }
func amountPtr(s string) *consent.Amount { a := amount(s); return &a }

func creditorAccount() consent.Account {
	return consent.Account{ISPB: "87654321", Issuer: "0001", Number: "1234567890", AccountType: consent.AccountCACC}
}

// expiry returns a 23:59:59Z expiration date-time on d.
func expiry(d consent.Date) *consent.DateTime {
	t := consent.NewDateTime(time.Date(d.Year, d.Month, d.Day, 23, 59, 59, 0, time.UTC))
	return &t
}

// consentOpt mutates a test consent.
type consentOpt func(*consent.Consent)

// newConsent returns an AUTHORISED monthly variable consent anchored on
// 2025-07-23, with a first payment on 2025-07-20, retries accepted, a
// maximum of 500.00 and no expiry, modified by opts.
func newConsent(opts ...consentOpt) *consent.Consent {
	c := &consent.Consent{
		RecurringConsentID: consentID,
		Status:             consent.StatusAuthorised,
		Creditors:          []consent.Creditor{{PersonType: consent.PessoaJuridica, CpfCnpj: creditorCNPJ, Name: "Academia Fit"}},
		RecurringConfiguration: consent.RecurringConfiguration{Automatic: &consent.Automatic{
			ContractID:            "C123",
			MaximumVariableAmount: amountPtr("500.00"),
			Interval:              consent.IntervalMensal,
			ReferenceStartDate:    date(2025, 7, 23),
			IsRetryAccepted:       true,
			ContractDebtor:        consent.ContractDebtor{Name: "Fulano", Document: consent.DocumentFor("12345678901")},
			FirstPayment: &consent.FirstPayment{
				Type: "PIX", Date: date(2025, 7, 20), Currency: "BRL",
				Amount: amount("99.90"), CreditorAccount: creditorAccount(),
			},
		}},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

func withStatus(s consent.Status) consentOpt { return func(c *consent.Consent) { c.Status = s } }
func withExpiry(d consent.Date) consentOpt {
	return func(c *consent.Consent) { c.ExpirationDateTime = expiry(d) }
}
func withInterval(i consent.Interval) consentOpt {
	return func(c *consent.Consent) { c.Automatic().Interval = i }
}
func withRetryAccepted(ok bool) consentOpt {
	return func(c *consent.Consent) { c.Automatic().IsRetryAccepted = ok }
}
func withFixed(s string) consentOpt {
	return func(c *consent.Consent) {
		c.Automatic().FixedAmount = amountPtr(s)
		c.Automatic().MaximumVariableAmount = nil
	}
}
func withoutFirstPayment() consentOpt {
	return func(c *consent.Consent) { c.Automatic().FirstPayment = nil }
}

// zeroRand yields zero bytes: every suffix symbol is '0'. Generators with
// distinct timestamps can use it; it repeats itself otherwise.
type zeroRand struct{}

func (zeroRand) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// counterRand yields 0, 1, …, 247, 0, 1, …: a deterministic stream that
// never needs rejection and never repeats a suffix within 248 draws of 11.
type counterRand struct{ n byte }

func (r *counterRand) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.n
		r.n++
		if r.n == 248 {
			r.n = 0
		}
	}
	return len(p), nil
}

// newGen returns a generator with a deterministic source.
func newGen() *payments.Generator {
	return &payments.Generator{ISPB: itpISPB, Rand: &counterRand{}}
}

// scheduledE2E returns a valid scheduled E2EID for d.
func scheduledE2E(d consent.Date, suffix string) string {
	return "E" + itpISPB + d.In(time.UTC).Format("20060102") + "1500" + suffix
}

// recurrence returns a valid recurrence request for the cycle starting on
// cycleStart, dated d, for the default consent.
func recurrence(cycleStart, d consent.Date) *payments.Request {
	return &payments.Request{
		EndToEndID:      scheduledE2E(d, "abcdefghijk"),
		Date:            d,
		Amount:          amount("150.00"),
		CreditorAccount: creditorAccount(),
		CNPJInitiator:   itpCNPJ,
		Document:        consent.DocumentFor(creditorCNPJ),
		Reference: payments.CycleReference(consent.IntervalMensal,
			payments.Cycle{Start: cycleStart}),
	}
}

// firstPayment returns a valid first-payment request dated d.
func firstPayment(d consent.Date, e2e string) *payments.Request {
	return &payments.Request{
		EndToEndID:      e2e,
		Date:            d,
		Amount:          amount("99.90"),
		CreditorAccount: creditorAccount(),
		CNPJInitiator:   itpCNPJ,
		Document:        consent.DocumentFor(creditorCNPJ),
		Reference:       payments.FirstPaymentReference(),
	}
}

// blocksRand yields the given blocks in turn, then fails.
func blocksRand(blocks ...[]byte) *bytes.Reader {
	return bytes.NewReader(bytes.Join(blocks, nil))
}
