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
		"2026-11-23 09:00  charge 1: R$ 129,90 due 2026-11-26, submitted now",
		"2026-11-23 10:00  charge 1  SCHEDULED",
		// Read after the morning window, retried before noon.
		"2026-11-26 09:00  charge 1  RETRYING — A temporary failure in the payment system. [INFRASTRUCTURE_FAILURE]",
		// Settled in the evening window, read after it.
		"2026-11-26 22:00  charge 1  SETTLED",
		"attempt 1: original dated 2026-11-26, E2EID E12345678202611261500",
		"bank status RJCT",
		"attempt 2: intraday dated 2026-11-26, E2EID E12345678202611261500",
		"bank status ACSC",
		"Payments at the bank for this agreement: 2,",
	); err != nil {
		t.Error(err)
	}
}
