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
		"2026-11-23 09:00  subscribed /pixauto/webhooks",
		"2026-11-23 09:00  enrolled the payer: consent AWAITING_AUTHORISATION",
		"2026-11-23 09:00  the payer's callback page: authorised",
		"2026-11-23 09:00  webhook consent.created    consent AWAITING_AUTHORISATION",
		"2026-11-23 09:00  webhook consent.authorised consent AUTHORISED",
		"2026-11-23 09:00  invoice INV-2026-12: R$ 129,90 due 2026-12-03, charge PLANNED",
		"invoice INV-2026-12 sent again: the same charge",
		"2026-11-23 09:00  webhook charge.planned     invoice INV-2026-12 PLANNED",
		"webhook refused (401): pixauto webhook: no signature matches",
		"2026-11-28 10:00  webhook charge.scheduled   invoice INV-2026-12 SCHEDULED",
		"2026-12-03 09:00  webhook charge.settled     invoice INV-2026-12 SETTLED",
		"GET /v1/charges?consent_id=… (1):",
		"  INV-2026-12  R$ 129,90  due 2026-12-03  SETTLED",
		"Invoice INV-2026-12 is paid",
	); err != nil {
		t.Error(err)
	}
	if bytes.Contains(out.Bytes(), []byte("whsec_")) {
		t.Error("the webhook secret was printed")
	}
}
