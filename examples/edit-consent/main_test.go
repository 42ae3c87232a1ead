package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/ofb-go/pixauto/examples/internal/example"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if err := example.InOrder(out.String(),
		"the payer's maximum is R$ 300,00",
		"a charge of R$ 450,00 is refused: above the payer's maximum",
		"consent   AUTHORISED (updated)",
		"the payer raised the maximum to R$ 500,00",
		"consent   AUTHORISED (updated)",
		`the creditor is now "Academia Forma Fitness Ltda"`,
		"charge 1: R$ 450,00 due 2026-11-27, submitted now",
		"charge 1  SCHEDULED",
		"2026-11-27 09:00  charge 1  SETTLED",
		"the payer lowers the maximum in the bank's app",
		"the Initiator re-read the consent: the maximum is R$ 200,00",
		"next month's R$ 450,00 is refused: above the payer's new maximum",
	); err != nil {
		t.Error(err)
	}
}
