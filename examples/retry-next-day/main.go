// Retry the next day: the payer has no funds on the due date. The bank
// tries in its morning window, keeps the payment scheduled and tries again
// itself in the evening (same E2EID); when that fails too, the payment is
// rejected, and the Initiator's retry policy creates an extraday retry
// dated the next day — allowed because the payer accepted retries in the
// consent (isRetryAccepted), at most three, within seven days.
//
// The receiver is never told that the balance was short: the Initiator's
// events carry a receiver-safe reason (the payer's bank refused).
//
//	go run ./examples/retry-next-day
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
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "retry-next-day:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	env, err := example.Start(ctx, out)
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Fprintln(out, "Retry the next day: no funds on the due date, paid by a retry the day after.")

	// An agreement starting in three days, with retries accepted by the
	// payer (MonthlyConsent sets consent.WithRetries).
	due := env.Today().AddDays(3)
	rec, err := env.Enrol(ctx, env.MonthlyConsent(due))
	if err != nil {
		return err
	}
	if !rec.Consent.Automatic().IsRetryAccepted {
		return errors.New("the consent does not accept retries")
	}

	// Scripted at the bank: both attempts of the due date fail for lack
	// of funds; the next attempt settles.
	if err := env.Bank.ScriptConsentSettlement(rec.ID,
		sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Morning),
		sandbox.Reject(payments.RejectionSaldoInsuficiente).In(sandbox.Evening)); err != nil {
		return err
	}
	env.Note("(script: the payer's account is short in both windows of the due date)")

	ch, err := env.Initiator.Charge(ctx, pixauto.ChargeRequest{
		ConsentID: rec.ID, DueDate: due, Amount: consent.MustAmount("129.90"),
		CreditorAccount: example.CreditorAccount, Description: "mensalidade dezembro",
	})
	if err != nil {
		return err
	}
	env.Printf("%s: %s due %s, submitted now", env.Label(ch.ID), example.BRL(ch.Amount), due)

	// Through the due date and the next day. After the morning failure
	// the Initiator waits (the bank retries itself in the evening); after
	// the evening failure it plans the next-day retry and submits it at
	// once; the bank settles it at 00:00 the next day.
	if err := env.RunUntil(ctx, example.At(due.AddDays(1), 12, 0), time.Hour); err != nil {
		return err
	}
	if _, err := env.ExpectCharge(ctx, ch.ID, pixauto.ChargeSettled); err != nil {
		return err
	}

	attempts, err := env.Initiator.Attempts(ctx, ch.ID)
	if err != nil {
		return err
	}
	if len(attempts) != 2 {
		return fmt.Errorf("%d attempts, want the original and one retry", len(attempts))
	}
	for _, a := range attempts {
		env.Printf("attempt %d: %-8s dated %s, E2EID %s, bank status %s", a.Seq+1, a.Kind, a.Date, a.EndToEndID, a.Status)
	}
	if attempts[1].Kind != payments.KindExtraday || attempts[1].Date != due.AddDays(1) {
		return errors.New("the retry is not an extraday retry dated the day after the due date")
	}

	n, err := env.CheckExactlyOnce(ctx, rec.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nPayments at the bank for this agreement: %d, each attempt exactly once.\n", n)
	return nil
}
