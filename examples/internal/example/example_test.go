package example

import (
	"context"
	"io"
	"testing"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

func TestBRL(t *testing.T) {
	for in, want := range map[string]string{
		"0.05":       "R$ 0,05",
		"129.90":     "R$ 129,90",
		"1234.56":    "R$ 1.234,56",
		"999999.00":  "R$ 999.999,00",
		"1000000.01": "R$ 1.000.000,01",
	} {
		if got := BRL(consent.MustAmount(in)); got != want {
			t.Errorf("BRL(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestInOrder(t *testing.T) {
	out := "a PLANNED\na SCHEDULED\na SETTLED\n"
	if err := InOrder(out, "PLANNED", "SCHEDULED", "SETTLED"); err != nil {
		t.Error(err)
	}
	if err := InOrder(out, "SETTLED", "SCHEDULED"); err == nil {
		t.Error("out of order lines were accepted")
	}
	if err := InOrder(out, "FAILED"); err == nil {
		t.Error("a missing line was accepted")
	}
	if err := InOrder(out, "SETTLED", "SETTLED"); err == nil {
		t.Error("one line matched twice")
	}
}

// A bank that cannot start is an error, and what was started is released.
func TestStartFails(t *testing.T) {
	env, err := Start(context.Background(), io.Discard, func(c *sandbox.Config) { c.APIVersion = "9.9.9" })
	if err == nil {
		env.Close()
		t.Fatal("Start accepted an unknown API version")
	}
	if env != nil {
		t.Errorf("Start returned an Env with its error %v", err)
	}
}
