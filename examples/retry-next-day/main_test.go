package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/ofb-go/pixauto/examples/internal/example"
)

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if err := example.InOrder(out.String(),
		"2026-11-23 09:00  charge 1: R$ 129,90 due 2026-11-26, submitted now",
		"2026-11-23 10:00  charge 1  SCHEDULED",
		// Nothing to do after the morning failure: the bank retries itself
		// in the evening; after that one fails, the ITP retries next day.
		"2026-11-26 22:00  charge 1  RETRYING — The payer's bank refused the payment. The payer should contact their bank. [PAYER_BANK_REFUSED]",
		"2026-11-27 09:00  charge 1  SETTLED",
		"attempt 1: original dated 2026-11-26",
		"bank status RJCT",
		"attempt 2: extraday dated 2026-11-27, E2EID E12345678202611271500",
		"bank status ACSC",
		"Payments at the bank for this agreement: 2,",
	); err != nil {
		t.Error(err)
	}
	// The balance reason stays with the ITP and the payer's bank.
	if strings.Contains(out.String(), "SALDO_INSUFICIENTE") {
		t.Errorf("the story shows the bank's balance reason:\n%s", out.String())
	}
}
