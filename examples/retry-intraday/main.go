// Retry the same day: the payer's charge fails in the bank's morning
// settlement window with an SPI infrastructure failure, a reason after
// which the ITP may try again the same day — before 12:00 Brasília, with a
// new E2EID. The Initiator's retry policy does it on the next Sync, and the
// bank settles the retry in its evening window (18:00–21:00).
//
//	go run ./examples/retry-intraday
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
		fmt.Fprintln(os.Stderr, "retry-intraday:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	env, err := example.Start(ctx, out)
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Fprintln(out, "Retry the same day: an SPI failure in the morning, a new attempt settled in the evening.")

	// An agreement starting in three days (see journey1 for the steps).
	due := env.Today().AddDays(3)
	rec, err := env.Enrol(ctx, env.MonthlyConsent(due))
	if err != nil {
		return err
	}

	// What goes wrong, scripted at the bank: the first settlement attempt
	// of this consent's payments, in the morning window, fails at SPI.
	// Later attempts settle.
	if err := env.Bank.ScriptConsentSettlement(rec.ID,
		sandbox.Reject(payments.RejectionFalhaInfraestruturaSPI).In(sandbox.Morning)); err != nil {
		return err
	}
	env.Note("(script: SPI fails in the morning window of the due date)")

	// The charge is due within LeadDays, so Charge submits it at once.
	ch, err := env.Initiator.Charge(ctx, pixauto.ChargeRequest{
		ConsentID: rec.ID, DueDate: due, Amount: consent.MustAmount("129.90"),
		CreditorAccount: example.CreditorAccount, Description: "mensalidade dezembro",
	})
	if err != nil {
		return err
	}
	env.Printf("%s: %s due %s, submitted now", env.Label(ch.ID), example.BRL(ch.Amount), due)

	// Hour by hour through the due date. At 00:00 the bank's attempt
	// fails; the Initiator reads the payment after the morning window and
	// its retry policy (Config.RetryPolicy; the zero value allows every
	// retry the spec does) decides on an intraday retry: same date, new
	// E2EID, submitted at once. The charge is RETRYING meanwhile, with a
	// receiver-safe reason.
	if err := env.RunUntil(ctx, example.At(due, 23, 0), time.Hour); err != nil {
		return err
	}
	if _, err := env.ExpectCharge(ctx, ch.ID, pixauto.ChargeSettled); err != nil {
		return err
	}

	// The attempts, as the Initiator stored them: each has its own E2EID
	// and idempotency key, stored before it was sent.
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
	if attempts[1].Kind != payments.KindIntraday || attempts[1].Date != attempts[0].Date {
		return errors.New("the retry is not an intraday retry of the due date")
	}
	if attempts[1].EndToEndID == attempts[0].EndToEndID {
		return errors.New("the retry reused the original's E2EID")
	}

	n, err := env.CheckExactlyOnce(ctx, rec.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nPayments at the bank for this agreement: %d, each attempt exactly once.\n", n)
	return nil
}
