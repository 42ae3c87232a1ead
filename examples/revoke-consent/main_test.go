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
		"charge 1: R$ 129,90 due 2026-11-27, submitted now",
		"2026-11-23 09:10  charge 1  SCHEDULED",
		"the receiver ends the contract and revokes the agreement",
		"2026-11-23 10:00  consent   REVOKED — The receiver cancelled the authorisation. [REVOKED_BY_RECEIVER]",
		"2026-11-23 10:00  charge 1  CANCELLED",
		"reason REVOGADO_RECEBEDOR",
		"a new charge is refused: pixauto: consent status does not allow this",
		"2026-11-27 12:00  the due date has passed: nothing was debited",
	); err != nil {
		t.Error(err)
	}
}
