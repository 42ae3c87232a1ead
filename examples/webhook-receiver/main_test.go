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
		"2026-11-23 09:00  consent   AUTHORISED",
		"2026-11-23 09:00  webhook   consent STATE_CHANGED at 09:00 → re-read",
		"charge 1: R$ 129,90 due 2026-11-26, submitted now",
		// The bank accepted (09:01) and scheduled (09:02) the payment.
		"2026-11-23 09:05  webhook   payment changed at 09:01 → re-read",
		"2026-11-23 09:05  charge 1  SCHEDULED",
		// Debited at 00:00 on the due date; learnt from the notification.
		"2026-11-26 06:00  webhook   payment changed at 00:00 → re-read",
		"2026-11-26 06:00  charge 1  SETTLED",
		"the payer lowers the maximum in the bank's app",
		"webhook   consent DATA_CHANGED at 06:00 → re-read",
		"the stored consent now has a maximum of R$ 200,00",
		"a notification from another participant's certificate: 401 Unauthorized",
		"5 notifications, each answered 202 and followed by a re-read; Sync was never called.",
	); err != nil {
		t.Error(err)
	}
}
