package sandbox_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// TestAutomaticHappyPath: consent → authorisation → immediate first
// payment (ACSC at once) → a monthly recurrence scheduled 3 days ahead,
// settled in the first window of its due day.
func TestAutomaticHappyPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Config{})
	data := e.consentData()
	id := e.createConsent(data)

	// PAR and /authorize see the consent; the payer approves.
	ts, _ := e.authorize(id)
	c := e.consent(id)
	if c.Status != consent.StatusAuthorised || c.AuthorisedAtDateTime == nil || c.DebtorAccount == nil || c.DebtorAccount.IBGETownCode == "" {
		t.Fatalf("authorised consent: %+v", c)
	}
	if payer, _ := e.b.ConsentPayer(id); payer != payerCPF {
		t.Fatalf("payer %q", payer)
	}

	first := e.pay(ts, e.firstPaymentData())
	if first.Status != "RCVD" || first.LocalInstrument != "MANU" || first.Reference != "zero" {
		t.Fatalf("first payment: %+v", first)
	}
	if err := e.b.RunDue(t.Context()); err != nil {
		t.Fatal(err)
	}
	if s := e.status(first.ID); s != "ACSC" {
		t.Fatalf("immediate first payment is %s after processing, want ACSC", s)
	}

	cycle := consent.MustDate(auto(data)["referenceStartDate"].(string))
	e.advanceTo(at(cycle.AddDays(-3), 9, 0))
	rec := e.pay(ts, e.recurrenceData(cycle, cycle, "199.90"))
	if rec.Status != "RCVD" {
		t.Fatalf("recurrence: %+v", rec)
	}
	e.advance(time.Second)
	if s := e.status(rec.ID); s != "SCHD" {
		t.Fatalf("recurrence is %s, want SCHD", s)
	}
	e.advanceTo(at(cycle.AddDays(-1), 23, 59))
	if s := e.status(rec.ID); s != "SCHD" {
		t.Fatalf("before its day the recurrence is %s, want SCHD", s)
	}
	e.advanceTo(at(cycle, 0, 1))
	got := e.payment(rec.ID)
	if got.Status != "ACSC" {
		t.Fatalf("recurrence on its day: %+v", got)
	}
	p, err := e.b.Payment(rec.ID)
	if err != nil || !p.StatusUpdateDateTime.Equal(at(cycle, 0, 0)) {
		t.Fatalf("settled at %v (%v), want the window's opening", p.StatusUpdateDateTime, err)
	}
	if len(e.b.Payments(id)) != 2 {
		t.Fatalf("Payments: %v", e.b.Payments(id))
	}
	e.must(http.StatusOK)(e.call(http.MethodGet, "/pix/recurring-payments?recurringConsentId="+id, nil, ts))
}
