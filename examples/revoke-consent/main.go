// Revoke a consent: the receiver's contract with the payer ends, so the
// receiver revokes the Pix Automático agreement. The bank cancels the
// payments still scheduled under it, the Initiator reads them back as
// cancelled charges, and no new charge can be made.
//
//	go run ./examples/revoke-consent
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
		fmt.Fprintln(os.Stderr, "revoke-consent:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	env, err := example.Start(ctx, out)
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Fprintln(out, "Revoke a consent: the contract ends; the scheduled charge is cancelled by the bank.")

	due := env.Today().AddDays(4)
	rec, err := env.Enrol(ctx, env.MonthlyConsent(due))
	if err != nil {
		return err
	}
	ch, err := env.Initiator.Charge(ctx, pixauto.ChargeRequest{
		ConsentID: rec.ID, DueDate: due, Amount: consent.MustAmount("129.90"),
		CreditorAccount: example.CreditorAccount, Description: "mensalidade dezembro",
	})
	if err != nil {
		return err
	}
	env.Printf("%s: %s due %s, submitted now", env.Label(ch.ID), example.BRL(ch.Amount), due)
	if err := env.RunUntil(ctx, env.Clock.Now().Add(time.Hour), 10*time.Minute); err != nil {
		return err
	}
	if _, err := env.ExpectCharge(ctx, ch.ID, pixauto.ChargeScheduled); err != nil {
		return err
	}

	// The receiver revokes: REVOGADO_RECEBEDOR, with a detail for the
	// bank's records. (A payer revoking through the ITP's app is
	// REVOGADO_USUARIO.) Revoke PATCHes the consent at the bank, stores it
	// REVOKED — the event's reason says who revoked, in receiver-safe
	// terms — and re-reads the consent's charges, which the bank cancelled.
	env.Printf("the receiver ends the contract and revokes the agreement")
	rec, err = env.Initiator.Revoke(ctx, rec.ID, consent.RevocationRecebedor, "contrato encerrado pelo recebedor")
	if err != nil {
		return err
	}
	if rec.Status != consent.StatusRevoked {
		return fmt.Errorf("consent is %s after Revoke, want REVOKED", rec.Status)
	}
	rv := rec.Consent.Revocation
	env.Printf("the bank's record: revoked by %s from %s, reason %s", rv.RevokedBy, rv.RevokedFrom, rv.Reason.Code)
	if _, err := env.ExpectCharge(ctx, ch.ID, pixauto.ChargeCancelled); err != nil {
		return err
	}

	// The agreement can no longer be charged: Charge refuses before
	// anything is stored or sent.
	_, err = env.Initiator.Charge(ctx, pixauto.ChargeRequest{
		ConsentID: rec.ID, DueDate: due.AddDays(31), Amount: consent.MustAmount("129.90"),
		CreditorAccount: example.CreditorAccount, Description: "mensalidade janeiro",
	})
	if !errors.Is(err, pixauto.ErrConsentState) {
		return fmt.Errorf("a charge on a revoked consent: got %v, want pixauto.ErrConsentState", err)
	}
	env.Printf("a new charge is refused: %v", err)

	// The due date passes and nothing is debited.
	if err := env.RunUntil(ctx, example.At(due, 12, 0), 3*time.Hour); err != nil {
		return err
	}
	if _, err := env.ExpectCharge(ctx, ch.ID, pixauto.ChargeCancelled); err != nil {
		return err
	}
	held := env.Bank.Payments(rec.ID)
	if len(held) != 1 {
		return fmt.Errorf("the bank holds %d payments, want 1", len(held))
	}
	for _, p := range held {
		if p.Status != payments.StatusCANC {
			return fmt.Errorf("payment %s is %s, want CANC", p.ID, p.Status)
		}
	}
	env.Printf("the due date has passed: nothing was debited")
	return nil
}
