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
		// Cancelled at the bank while scheduled.
		"charge 1: R$ 219,90 due 2026-11-26 — the wrong amount",
		"charge 1  SCHEDULED",
		"charge 1  CANCELLED",
		"charge 1 cancelled by the receiver; the bank's payment is CANC",
		// The cycle charged again.
		"charge 2: R$ 129,90 due 2026-11-26 — the same cycle, charged again",
		// Withdrawn before submission.
		"charge 3: R$ 129,90 due 2026-12-26, planned",
		"charge 3  CANCELLED",
		"charge 3 withdrawn before it reached the bank",
		"charge 2  SCHEDULED",
		// Too late for the receiver.
		"2026-11-25 22:30  the receiver tries to cancel charge 2: refused, the deadline was 22:00",
		"2026-11-26 08:30  charge 2  SETTLED",
		"Payments at the bank for this agreement: 2 (one cancelled, one settled)",
	); err != nil {
		t.Error(err)
	}
}
