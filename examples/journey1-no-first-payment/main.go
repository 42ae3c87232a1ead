// Journey 1, adhesion without a first payment: the payer authorises a
// monthly Pix Automático agreement and pays nothing at sign-up; the
// receiver's first charge is due on the agreement's start date. The
// Initiator stores the charge, submits it to the payer's bank five days
// before its date, and follows it until it settles.
//
//	go run ./examples/journey1-no-first-payment
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/examples/internal/example"
	"github.com/ofb-go/pixauto/pixauto"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "journey1-no-first-payment:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	env, err := example.Start(ctx, out)
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Fprintln(out, "Journey 1: a monthly agreement with no payment at sign-up; the first charge comes later.")

	// The consent: monthly, variable amounts up to R$ 300,00, starting in
	// ten days (referenceStartDate, a Brasília date), with next-day retries
	// accepted, expiring in about a year. consent.ValidateCreate checks it
	// before it leaves (Enrol does).
	today := env.Today()
	start := today.AddDays(10)
	req := consent.NewCreateRequest(
		consent.NewLoggedUser(example.PayerCPF), // the payer logged in at the ITP
		consent.NewCreditor(example.CreditorCNPJ, example.CreditorName),
		consent.NewAutomatic("FORMA20260042", consent.IntervalMensal, start,
			consent.ContractDebtor{Name: example.PayerName, Document: consent.DocumentFor(example.PayerCPF)},
			consent.Variable(consent.MustAmount("300.00"), 0),
			consent.WithRetries()),
		consent.WithExpiration(today.AddDays(400)),
	)

	// Enrol creates the consent at the bank (AWAITING_AUTHORISATION), pushes
	// a signed authorization request with PKCE (PAR), and returns the URL to
	// send the payer to. The PKCE verifier is stored, sealed, for Complete.
	en, err := env.Initiator.Enrol(ctx, pixauto.EnrolRequest{ReceiverID: example.ReceiverID, HolderID: example.HolderID, Consent: req})
	if err != nil {
		return err
	}
	env.Printf("the payer is sent to the bank to approve consent %s", en.ConsentID)

	// The payer approves in their bank's app. The sandbox plays the browser
	// and returns the redirect to the ITP's callback, whose fragment carries
	// the code and an encrypted id_token.
	callback, err := env.Bank.Authorize(ctx, en.RedirectURL)
	if err != nil {
		return err
	}

	// Complete checks the callback and the id_token claim by claim,
	// exchanges the code, seals the refresh token, and reads the consent.
	rec, err := env.Initiator.Complete(ctx, callback)
	if err != nil {
		return err
	}
	if rec.Status != consent.StatusAuthorised {
		return fmt.Errorf("consent is %s, want AUTHORISED", rec.Status)
	}
	env.Printf("the agreement is in force from %s; nothing was paid at sign-up", rec.Consent.Automatic().ReferenceStartDate)

	// The receiver charges the first cycle: R$ 129,90 due on the start
	// date. The Initiator picks the billing cycle, builds the payment (its
	// E2EID, the cycle's paymentReference), and stores it with its
	// idempotency key before anything is sent. It is due in more than
	// LeadDays (5), so it waits for Sync to submit it.
	amount := consent.MustAmount("129.90")
	ch, err := env.Initiator.Charge(ctx, pixauto.ChargeRequest{
		ConsentID: rec.ID, DueDate: start, Amount: amount, CreditorAccount: example.CreditorAccount,
		Description: "mensalidade dezembro", ExternalID: "INV-2026-12",
	})
	if err != nil {
		return err
	}
	attempts, err := env.Initiator.Attempts(ctx, ch.ID)
	if err != nil {
		return err
	}
	env.Printf("%s: %s due %s, to be submitted %s",
		env.Label(ch.ID), example.BRL(amount), ch.DueDate, attempts[0].SubmitAt.In(consent.Brasilia).Format("2006-01-02 15:04"))

	// Time passes. The scheduler runs Sync every hour: the charge is
	// submitted five days before its date and scheduled by the bank, which
	// debits the payer at 00:00 on the due date; Sync reads the outcome.
	if err := env.RunUntil(ctx, example.At(start, 12, 0), time.Hour); err != nil {
		return err
	}
	ch, err = env.ExpectCharge(ctx, ch.ID, pixauto.ChargeSettled)
	if err != nil {
		return err
	}
	attempts, err = env.Initiator.Attempts(ctx, ch.ID)
	if err != nil {
		return err
	}
	a := attempts[0]
	env.Printf("%s settled on %s: one payment, E2EID %s, bank status %s", env.Label(ch.ID), a.Date, a.EndToEndID, a.Status)

	n, err := env.CheckExactlyOnce(ctx, rec.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nPayments at the bank for this agreement: %d, each attempt exactly once.\n", n)
	return nil
}
