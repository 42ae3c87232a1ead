// Journey 3, adhesion with a scheduled first payment: the consent declares
// a sign-up payment (firstPayment) dated four days ahead. Complete submits
// it at once, the bank schedules it, and debits the payer on its date; the
// monthly charges start later, on referenceStartDate.
//
//	go run ./examples/journey3-scheduled-first-payment
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
		fmt.Fprintln(os.Stderr, "journey3-scheduled-first-payment:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	env, err := example.Start(ctx, out)
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Fprintln(out, "Journey 3: a monthly agreement whose sign-up fee is scheduled for a later date.")

	// The sign-up payment is dated in four days; it must fall before
	// referenceStartDate, here in ten days.
	today := env.Today()
	feeDate := today.AddDays(4)
	req := consent.NewCreateRequest(
		consent.NewLoggedUser(example.PayerCPF),
		consent.NewCreditor(example.CreditorCNPJ, example.CreditorName),
		consent.NewAutomatic("FORMA20260042", consent.IntervalMensal, today.AddDays(10),
			consent.ContractDebtor{Name: example.PayerName, Document: consent.DocumentFor(example.PayerCPF)},
			consent.Variable(consent.MustAmount("300.00"), 0),
			consent.WithRetries(),
			consent.WithFirstPayment(feeDate, consent.MustAmount("49.90"), example.CreditorAccount, "taxa de adesao")),
		consent.WithExpiration(today.AddDays(400)),
	)

	// Enrol, the payer's approval, Complete: Complete submits the first
	// payment, dated feeDate, with an E2EID of 15:00 UTC on that date.
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
	env.Printf("%s is the sign-up payment: %s on %s, E2EID %s",
		env.Label(first.ID), example.BRL(first.Amount), first.DueDate, attempts[0].EndToEndID)

	// Sync reads the bank's answer within the hour: the payment is
	// scheduled for its date.
	if err := env.RunUntil(ctx, env.Clock.Now().Add(time.Hour), 10*time.Minute); err != nil {
		return err
	}
	if _, err := env.ExpectCharge(ctx, first.ID, pixauto.ChargeScheduled); err != nil {
		return err
	}

	// The bank debits the payer at 00:00 on feeDate; the Initiator reads
	// the payment after the bank's morning window.
	if err := env.RunUntil(ctx, example.At(feeDate, 12, 0), time.Hour); err != nil {
		return err
	}
	if _, err := env.ExpectCharge(ctx, first.ID, pixauto.ChargeSettled); err != nil {
		return err
	}
	env.Printf("sign-up fee paid on its date; the monthly charges start on %s", rec.Consent.Automatic().ReferenceStartDate)

	n, err := env.CheckExactlyOnce(ctx, rec.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nPayments at the bank for this agreement: %d, each attempt exactly once.\n", n)
	return nil
}
