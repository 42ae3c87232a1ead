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
		"2026-11-23 09:00  charge 1  PLANNED",
		// An immediate payment: today's date, an E2EID of the current
		// minute (12:00 UTC is 09:00 in Brasília).
		`charge 1 is the sign-up payment: R$ 49,90 on 2026-11-23, reference "zero", E2EID E12345678202611231200`,
		"(bank status RCVD)",
		"2026-11-23 09:10  charge 1  SETTLED",
		"the monthly charges start on 2026-12-03",
		"Payments at the bank for this agreement: 1,",
	); err != nil {
		t.Error(err)
	}
}
