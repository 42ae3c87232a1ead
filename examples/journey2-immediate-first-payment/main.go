// Journey 2, adhesion with an immediate first payment: the consent declares
// a sign-up payment (firstPayment) dated today. As soon as the payer
// authorises, Complete creates that payment — paymentReference "zero",
// exactly the declared amount, account and date — and the bank settles it
// within minutes. The monthly charges start later, on referenceStartDate.
//
//	go run ./examples/journey2-immediate-first-payment
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/examples/internal/example"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "journey2-immediate-first-payment:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	env, err := example.Start(ctx, out)
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Fprintln(out, "Journey 2: a monthly agreement whose sign-up fee is paid at once, when the payer authorises.")

	// The consent declares the sign-up payment: R$ 49,90 today into the
	// receiver's account. The monthly cycles start in ten days.
	today := env.Today()
	fee := consent.MustAmount("49.90")
	req := consent.NewCreateRequest(
		consent.NewLoggedUser(example.PayerCPF),
		consent.NewCreditor(example.CreditorCNPJ, example.CreditorName),
		consent.NewAutomatic("FORMA20260042", consent.IntervalMensal, today.AddDays(10),
			consent.ContractDebtor{Name: example.PayerName, Document: consent.DocumentFor(example.PayerCPF)},
			consent.Variable(consent.MustAmount("300.00"), 0),
			consent.WithRetries(),
			consent.WithFirstPayment(today, fee, example.CreditorAccount, "taxa de adesao")),
		consent.WithExpiration(today.AddDays(400)),
	)

	// Enrol, the payer's approval at the bank, and Complete: as in journey
	// 1. Complete also sees the firstPayment and submits it.
	en, err := env.Initiator.Enrol(ctx, pixauto.EnrolRequest{ReceiverID: example.ReceiverID, HolderID: example.HolderID, Consent: req})
	if err != nil {
		return err
	}
	callback, err := env.Bank.Authorize(ctx, en.RedirectURL)
	if err != nil {
		return err
	}
	rec, err := env.Initiator.Complete(ctx, callback)
	if err != nil {
		return err
	}

	// The first payment is a charge like the others, with reference
	// "zero". An immediate payment's E2EID carries the current minute
	// (a scheduled one carries 15:00 UTC of its date).
	var first *pixauto.ChargeRecord
	for ch, err := range env.Initiator.ListCharges(ctx, pixauto.ChargeFilter{ConsentID: rec.ID}) {
		if err != nil {
			return err
		}
		if ch.Reference == payments.ReferenceZero {
			first = ch
		}
	}
	if first == nil {
		return errors.New("no first payment: Complete should have created it")
	}
	attempts, err := env.Initiator.Attempts(ctx, first.ID)
	if err != nil {
		return err
	}
	env.Printf("%s is the sign-up payment: %s on %s, reference %q, E2EID %s; Complete submitted it (bank status %s)",
		env.Label(first.ID), example.BRL(first.Amount), first.DueDate, first.Reference, attempts[0].EndToEndID, attempts[0].Status)

	// The bank settles an immediate payment as soon as it has accepted it;
	// Sync reads the outcome a few minutes later.
	if err := env.RunUntil(ctx, env.Clock.Now().Add(30*time.Minute), 10*time.Minute); err != nil {
		return err
	}
	if _, err := env.ExpectCharge(ctx, first.ID, pixauto.ChargeSettled); err != nil {
		return err
	}
	env.Printf("sign-up fee paid; the monthly charges start on %s", rec.Consent.Automatic().ReferenceStartDate)

	n, err := env.CheckExactlyOnce(ctx, rec.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nPayments at the bank for this agreement: %d, each attempt exactly once.\n", n)
	return nil
}
