package payments_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
)

// FuzzParseE2EID: parsing never panics, failures wrap ErrInvalidE2EID, and
// whatever parses prints back to the same 32 characters.
func FuzzParseE2EID(f *testing.F) {
	for _, s := range []string{
		"E9040088820241225150000123873170", "EAB12CD3420250723150000aZ9bY8cX7w", "E1234567820250230150000000000000",
		"E1234567820250723240000000000000", "e9040088820241225150000123873170", "", "E", "E12345678",
		"E123456782025072315000000000000\xff", "E12345678202507231500000000000é",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := payments.ParseE2EID(s)
		if err != nil {
			if !errors.Is(err, payments.ErrInvalidE2EID) {
				t.Fatalf("error %v does not wrap ErrInvalidE2EID", err)
			}
			return
		}
		if got := e.String(); got != s {
			t.Fatalf("String() = %q, want %q", got, s)
		}
		if e.Time.Location() != time.UTC || e.Time.Second() != 0 {
			t.Fatalf("time %v is not a UTC minute", e.Time)
		}
	})
}

// FuzzParsePaymentReference: parsing never panics, failures wrap
// ErrInvalidPaymentReference, and what parses formats and re-parses to the
// same reference (exactly the input for "zero" and the 2.2.0 form).
func FuzzParsePaymentReference(f *testing.F) {
	for _, s := range []string{
		"zero", "R/2025-07-23/P1W", "R/2024-02-29/P1Y", "R/2025-02-30/P1M", "W50-2024", "W5-2024", "W53-2025",
		"M09-2024", "Q3-2024", "S2-2024", "Y2024", "", "R", "R/", "23-07-2025/P1W", "M13-2024", "Q03-2024",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := payments.ParsePaymentReference(s)
		if err != nil {
			if !errors.Is(err, payments.ErrInvalidPaymentReference) {
				t.Fatalf("error %v does not wrap ErrInvalidPaymentReference", err)
			}
			return
		}
		var out string
		switch {
		case r.First:
			out = payments.ReferenceZero
		case !r.Start.IsZero():
			out, err = r.ISO()
		default:
			out, err = r.Legacy()
		}
		if err != nil {
			t.Fatalf("%q parsed but does not format: %v", s, err)
		}
		if (r.First || !r.Start.IsZero()) && out != s {
			t.Fatalf("%q formats back as %q", s, out)
		}
		back, err := payments.ParsePaymentReference(out)
		if err != nil || back != r {
			t.Fatalf("%q → %q → %+v, %v; want %+v", s, out, back, err, r)
		}
		if !r.SameCycle(s) {
			t.Fatalf("%q is not the same cycle as itself", s)
		}
	})
}

// FuzzValidate feeds arbitrary values to the validators and encoders: they
// never panic, and a request the validator accepts always encodes.
func FuzzValidate(f *testing.F) {
	f.Add("E12345678202508251500abcdefghijk", int64(20250825), int64(15000), "R/2025-08-23/P1M", "11222333000181",
		"50685362000135", "87654321", "1234567890", "0001", "CACC", "", "", "AUTHORISED", "MENSAL", int64(1755522000), "2.2.0")
	f.Add("E12345678202507190130imm00000001", int64(20250718), int64(9990), "zero", "11222333000181",
		"50685362000135", "87654321", "1234567890", "0001", "CACC", "x", "FIDO_FLOW", "AUTHORISED", "SEMANAL", int64(1752888600), "2.1.0")
	f.Add("", int64(0), int64(-1), "", "", "", "", "", "", "", "", "", "", "", int64(0), "")
	f.Add("E1234567820250230150000000000000", int64(20250230), int64(1<<62), "W53-2025", "1", "AB12CD34000195",
		"AB12CD34", "12a", "12345", "SLRY", "\xff", "PIGEON", "REVOKED", "DIARIO", int64(-1<<40), "2.0.0-beta.1")
	f.Fuzz(func(t *testing.T, e2e string, ymd, cents int64, ref, doc, cnpj, ispb, number, issuer, acctType,
		remit, flow, status, interval string, nowUnix int64, xv string) {
		d := consent.NewDate(int(ymd/10000%100000), time.Month(ymd/100%100), int(ymd%100))
		r := &payments.Request{
			EndToEndID: e2e, Date: d, Amount: consent.Amount(cents), RemittanceInformation: remit,
			CreditorAccount: consent.Account{ISPB: ispb, Issuer: issuer, Number: number, AccountType: consent.AccountType(acctType)},
			CNPJInitiator:   cnpj, Document: consent.DocumentFor(doc), AuthorisationFlow: payments.AuthorisationFlow(flow),
		}
		if pr, err := payments.ParsePaymentReference(ref); err == nil {
			r.Reference = pr
		}
		if flow == string(payments.FlowFIDO) {
			r.ConsentID = consentID
		}
		c := newConsent(withStatus(consent.Status(status)), withInterval(consent.Interval(interval)))
		now := time.Unix(nowUnix, 0)
		v, _ := payments.ParseVersion(xv)
		val := &payments.Validator{Version: v}

		createErr := val.ValidateCreate(r, c, []payments.Payment{{ID: "p", PaymentReference: ref, EndToEndID: e2e}}, now)
		if createErr == nil {
			if _, err := payments.EncodeCreate(v, r); err != nil {
				t.Fatalf("valid request does not encode: %v", err)
			}
		}
		_ = val.ValidateCreate(r, nil, nil, now)

		chain := payments.NewChain(payments.Attempt{ID: "orig", Date: d, Status: payments.Status(status),
			RejectionCode: payments.RejectionCode(ref), Created: now, EndToEndID: e2e})
		rt := &payments.Retry{OriginalID: "orig", EndToEndID: e2e, Date: d.AddDays(1), Original: r, FailedAttemptIDs: chain.FailedAttemptIDs()}
		_ = val.ValidateRetry(rt, chain, c, now)
		_ = payments.Decide(chain, c, now, payments.RetryPolicy{MaxRetries: int(cents % 5), WeeklyFiveDays: cents%2 == 0})
		_, _ = payments.EncodeRetry(v, rt)
		_, _ = payments.EncodeCancel(v, e2e, consent.DocumentFor(doc))
		_, _ = payments.ListFilter{ConsentID: ref, StartDate: d, EndDate: d.AddDays(int(cents % 400))}.Query()
	})
}

// FuzzDecodePayment: decoding arbitrary bytes never panics, and every
// decoded payment has an id.
func FuzzDecodePayment(f *testing.F) {
	for _, s := range []string{postResponse220, getRejected, patchCancelled, retryResponse220, `{}`, `null`, `[]`,
		`{"recurringPaymentId":"x","payment":{"amount":"1.00"}}`, `{"recurringPaymentId":"x","date":"2025-02-30"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := payments.DecodePayment(data)
		if err == nil && p.ID == "" {
			t.Fatal("decoded a payment without id")
		}
		ps, err := payments.DecodePayments(data)
		if err == nil {
			for _, p := range ps {
				if p.ID == "" {
					t.Fatal("decoded a list item without id")
				}
			}
		}
	})
}
