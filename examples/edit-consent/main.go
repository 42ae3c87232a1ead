// Edit a consent: the receiver's price rises above the payer's maximum, so
// the payer — present in the ITP's app — raises the maximum; the receiver
// is renamed; and later the payer lowers the maximum in their bank's app,
// which the Initiator learns by re-reading the consent.
//
//	go run ./examples/edit-consent
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
		fmt.Fprintln(os.Stderr, "edit-consent:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	env, err := example.Start(ctx, out)
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Fprintln(out, "Edit a consent: a new maximum, a new creditor name, and a change made at the bank.")

	due := env.Today().AddDays(4)
	rec, err := env.Enrol(ctx, env.MonthlyConsent(due)) // up to R$ 300,00 a charge
	if err != nil {
		return err
	}
	env.Printf("the payer's maximum is %s", maximum(rec))

	// The plan now costs R$ 450,00: above the payer's maximum. The SDK
	// refuses the charge (payments.ErrAmountAboveMaximum) before it is
	// stored or sent.
	price := consent.MustAmount("450.00")
	charge := pixauto.ChargeRequest{
		ConsentID: rec.ID, DueDate: due, Amount: price,
		CreditorAccount: example.CreditorAccount, Description: "plano anual parcelado",
	}
	if _, err := env.Initiator.Charge(ctx, charge); !errors.Is(err, payments.ErrAmountAboveMaximum) {
		return fmt.Errorf("a charge above the maximum: got %v, want payments.ErrAmountAboveMaximum", err)
	}
	env.Printf("a charge of %s is refused: above the payer's maximum", example.BRL(price))

	// The payer raises the maximum. Only the payer can, logged in at the
	// ITP, so the edit carries their CPF and their device's risk signals.
	// consent.NewEdit (called by Edit) copies every value that does not
	// change — an omitted expiry or maximum would make it indefinite.
	payer := consent.NewLoggedUser(example.PayerCPF)
	signals := &consent.RiskSignals{
		DeviceID: "5ad82a8e-a7b4-4ae6-a7c4-9a5b0e2e3f10", OsVersion: "17.4", UserTimeZoneOffset: "-03",
		Language: "pt-BR", ScreenDimensions: consent.ScreenDimensions{Height: 2532, Width: 1170},
		AccountTenure: consent.NewDate(2019, 3, 1),
	}
	rec, err = env.Initiator.Edit(ctx, rec.ID,
		consent.EditChange{MaximumVariableAmount: consent.SetMaximum(consent.MustAmount("500.00"))}, &payer, signals)
	if err != nil {
		return err
	}
	env.Printf("the payer raised the maximum to %s", maximum(rec))

	// The receiver changed its trade name: a name-only edit needs neither
	// the payer nor risk signals.
	rec, err = env.Initiator.Edit(ctx, rec.ID, consent.EditChange{CreditorName: "Academia Forma Fitness Ltda"}, nil, nil)
	if err != nil {
		return err
	}
	env.Printf("the creditor is now %q", rec.Consent.Creditors[0].Name)

	// The same charge now fits.
	ch, err := env.Initiator.Charge(ctx, charge)
	if err != nil {
		return err
	}
	env.Printf("%s: %s due %s, submitted now", env.Label(ch.ID), example.BRL(ch.Amount), due)
	if err := env.RunUntil(ctx, example.At(due, 12, 0), time.Hour); err != nil {
		return err
	}
	if _, err := env.ExpectCharge(ctx, ch.ID, pixauto.ChargeSettled); err != nil {
		return err
	}

	// Later the payer lowers the maximum in their bank's app. The bank
	// notifies a DATA_CHANGED (see webhook-receiver); here the Initiator
	// re-reads the consent itself (SyncConsent; Sync does it daily).
	lower := consent.MustAmount("200.00")
	if err := env.Bank.EditConsentAtHolder(rec.ID, sandbox.HolderEdit{MaximumVariableAmount: &lower}); err != nil {
		return err
	}
	env.Printf("the payer lowers the maximum in the bank's app")
	if rec, err = env.Initiator.SyncConsent(ctx, rec.ID); err != nil {
		return err
	}
	env.Printf("the Initiator re-read the consent: the maximum is %s", maximum(rec))

	// Next month's charge at the new price is refused again.
	billing, err := payments.BillingOf(rec.Consent)
	if err != nil {
		return err
	}
	next, err := billing.Cycle(1)
	if err != nil {
		return err
	}
	charge.DueDate = next.Start
	if _, err := env.Initiator.Charge(ctx, charge); !errors.Is(err, payments.ErrAmountAboveMaximum) {
		return fmt.Errorf("a charge above the lowered maximum: got %v, want payments.ErrAmountAboveMaximum", err)
	}
	env.Printf("next month's %s is refused: above the payer's new maximum", example.BRL(price))
	return nil
}

// maximum is the consent's maximumVariableAmount as stored.
func maximum(rec *pixauto.ConsentRecord) string {
	m := rec.Consent.Automatic().MaximumVariableAmount
	if m == nil {
		return "none"
	}
	return example.BRL(*m)
}
