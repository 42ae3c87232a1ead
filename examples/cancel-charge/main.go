// Cancel a charge: the receiver issued a charge with the wrong amount,
// cancels it at the bank while it is still scheduled, and charges the
// cycle again with the right one; a charge not yet sent to the bank is
// withdrawn without a call; and past the deadline — 22:00 Brasília on the
// day before the payment's date for the receiver — the bank will not
// cancel, so the SDK refuses before asking.
//
//	go run ./examples/cancel-charge
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
		fmt.Fprintln(os.Stderr, "cancel-charge:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	env, err := example.Start(ctx, out)
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Fprintln(out, "Cancel a charge: at the bank, before it is sent, and too late.")

	due := env.Today().AddDays(3)
	rec, err := env.Enrol(ctx, env.MonthlyConsent(due))
	if err != nil {
		return err
	}
	// Cancellations are made on behalf of the receiver (its CNPJ, the
	// consent's creditor) or of the payer (the payer's CPF, until 23:59 of
	// the day before; the payer cannot cancel a retry).
	receiver := consent.DocumentFor(example.CreditorCNPJ)

	// 1. A charge with the wrong amount, submitted at once (due within
	// LeadDays) and scheduled by the bank.
	wrong, err := env.Initiator.Charge(ctx, pixauto.ChargeRequest{
		ConsentID: rec.ID, DueDate: due, Amount: consent.MustAmount("219.90"),
		CreditorAccount: example.CreditorAccount, Description: "mensalidade dezembro",
	})
	if err != nil {
		return err
	}
	env.Printf("%s: %s due %s — the wrong amount", env.Label(wrong.ID), example.BRL(wrong.Amount), due)
	if err := env.RunUntil(ctx, env.Clock.Now().Add(time.Hour), 10*time.Minute); err != nil {
		return err
	}

	// Cancel reads the payment, checks the spec's deadline, and PATCHes
	// it at the bank (status CANC); the charge is CANCELLED and its cycle
	// free again.
	wrong, err = env.Initiator.Cancel(ctx, wrong.ID, receiver)
	if err != nil {
		return err
	}
	if wrong.Status != pixauto.ChargeCancelled {
		return fmt.Errorf("%s is %s after Cancel, want CANCELLED", env.Label(wrong.ID), wrong.Status)
	}
	attempts, err := env.Initiator.Attempts(ctx, wrong.ID)
	if err != nil {
		return err
	}
	p, err := env.Bank.Payment(attempts[0].PaymentID)
	if err != nil {
		return err
	}
	env.Printf("%s cancelled by the receiver; the bank's payment is %s", env.Label(wrong.ID), p.Status)

	// The same cycle, charged again with the right amount.
	right, err := env.Initiator.Charge(ctx, pixauto.ChargeRequest{
		ConsentID: rec.ID, DueDate: due, Amount: consent.MustAmount("129.90"),
		CreditorAccount: example.CreditorAccount, Description: "mensalidade dezembro",
	})
	if err != nil {
		return err
	}
	env.Printf("%s: %s due %s — the same cycle, charged again", env.Label(right.ID), example.BRL(right.Amount), due)

	// 2. Next month's charge is planned but not yet sent (it is submitted
	// LeadDays before its date). Cancelling it withdraws it locally: no
	// call to the bank.
	billing, err := payments.BillingOf(rec.Consent)
	if err != nil {
		return err
	}
	next, err := billing.Cycle(1)
	if err != nil {
		return err
	}
	waived, err := env.Initiator.Charge(ctx, pixauto.ChargeRequest{
		ConsentID: rec.ID, DueDate: next.Start, Amount: consent.MustAmount("129.90"),
		CreditorAccount: example.CreditorAccount, Description: "mensalidade janeiro",
	})
	if err != nil {
		return err
	}
	env.Printf("%s: %s due %s, planned", env.Label(waived.ID), example.BRL(waived.Amount), next.Start)
	if _, err := env.Initiator.Cancel(ctx, waived.ID, receiver); err != nil {
		return err
	}
	if _, err := env.ExpectCharge(ctx, waived.ID, pixauto.ChargeCancelled); err != nil {
		return err
	}
	env.Printf("%s withdrawn before it reached the bank (the month is waived)", env.Label(waived.ID))

	// 3. Too late: at 22:30 on the day before the due date the receiver
	// can no longer cancel. The SDK applies the deadline itself
	// (payments.ErrCancelDeadline) and sends nothing.
	if err := env.RunUntil(ctx, example.At(due.AddDays(-1), 22, 30), time.Hour); err != nil {
		return err
	}
	_, err = env.Initiator.Cancel(ctx, right.ID, receiver)
	if !errors.Is(err, payments.ErrCancelDeadline) {
		return fmt.Errorf("a late cancellation: got %v, want payments.ErrCancelDeadline", err)
	}
	env.Printf("the receiver tries to cancel %s: refused, the deadline was 22:00", env.Label(right.ID))

	if err := env.RunUntil(ctx, example.At(due, 12, 0), time.Hour); err != nil {
		return err
	}
	if _, err := env.ExpectCharge(ctx, right.ID, pixauto.ChargeSettled); err != nil {
		return err
	}

	n, err := env.CheckExactlyOnce(ctx, rec.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nPayments at the bank for this agreement: %d (one cancelled, one settled); the withdrawn charge never reached it.\n", n)
	return nil
}
