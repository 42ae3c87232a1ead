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
		"2026-11-23 09:00  consent   AWAITING_AUTHORISATION",
		"2026-11-23 09:00  consent   AUTHORISED",
		"nothing was paid at sign-up",
		"2026-11-23 09:00  charge 1  PLANNED",
		"charge 1: R$ 129,90 due 2026-12-03, to be submitted 2026-11-28 09:00",
		"2026-11-28 10:00  charge 1  SCHEDULED",
		"2026-12-03 09:00  charge 1  SETTLED",
		"charge 1 settled on 2026-12-03: one payment, E2EID E12345678202612031500",
		"Payments at the bank for this agreement: 1,",
	); err != nil {
		t.Error(err)
	}
}
