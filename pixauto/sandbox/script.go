package sandbox

import (
	"fmt"
	"slices"

	"github.com/ofb-go/pixauto/payments"
)

// SettlementWindow names the part of a settlement day an outcome is meant
// for (Outcome.In).
type SettlementWindow int

// Settlement windows.
const (
	// AnyWindow matches every attempt, an immediate first payment's
	// included.
	AnyWindow SettlementWindow = iota
	// Morning is the 00:00–08:00 Brasília window of the settlement day.
	Morning
	// Evening is the 18:00–21:00 Brasília window of the settlement day.
	Evening
)

// String returns "any", "morning" or "evening".
func (w SettlementWindow) String() string {
	switch w {
	case AnyWindow:
		return "any"
	case Morning:
		return "morning"
	case Evening:
		return "evening"
	}
	return fmt.Sprintf("SettlementWindow(%d)", int(w))
}

func (w SettlementWindow) matches(a attemptWindow) bool {
	switch w {
	case Morning:
		return a == attemptMorning
	case Evening:
		return a == attemptEvening
	}
	return true
}

// Outcome is what happens to one settlement attempt: build it with Settle
// or Reject, optionally narrowed to a window with In.
type Outcome struct {
	settle bool
	code   payments.RejectionCode
	detail string
	window SettlementWindow
}

// Settle makes the attempt succeed (ACSC).
func Settle() Outcome { return Outcome{settle: true} }

// Reject makes the attempt fail with code (SPI or the holder refusing it).
// In the morning window a reason after which the holder tries again itself
// (SALDO_INSUFICIENTE, VALOR_ACIMA_LIMITE, PAGAMENTO_RECUSADO_DETENTORA)
// keeps the payment SCHD for the evening attempt; any other reason, and any
// failure in the evening or of an immediate payment, rejects it (RJCT with
// this rejectionReason).
func Reject(code payments.RejectionCode) Outcome { return Outcome{code: code} }

// WithDetail sets the rejectionReason.detail of a rejection ("" → the
// spec's description of the code; PAGAMENTO_RECUSADO_SPI carries a PACS.002
// reason such as "AM04").
func (o Outcome) WithDetail(detail string) Outcome {
	o.detail = detail
	return o
}

// In restricts the outcome to attempts in window w: it is skipped by
// attempts in other windows and waits for one in w.
func (o Outcome) In(w SettlementWindow) Outcome {
	o.window = w
	return o
}

// String describes the outcome, e.g. "Reject(SALDO_INSUFICIENTE) in the morning".
func (o Outcome) String() string {
	s := "Settle()"
	if !o.settle {
		s = "Reject(" + string(o.code) + ")"
	}
	if o.window != AnyWindow {
		s += " in the " + o.window.String()
	}
	return s
}

// ScriptSettlement scripts the settlement attempts of every payment whose
// consent payerCPF authorised: each attempt consumes the first outcome
// still queued for that payer whose window matches the attempt's, in
// order; attempts that find none settle. Calls append to the queue.
//
// "SPI failure in the morning, success in the evening":
//
//	b.ScriptSettlement(cpf,
//		sandbox.Reject(payments.RejectionFalhaInfraestruturaSPI).In(sandbox.Morning),
//		sandbox.Settle().In(sandbox.Evening))
//
// A consent's own script (ScriptConsentSettlement) is used before its
// payer's. An outcome whose code the bank's API version does not have
// (CONSENTIMENTO_REVOGADO on 2.2.0) or an unknown window is an error, and
// nothing is queued.
func (b *Bank) ScriptSettlement(payerCPF string, outcomes ...Outcome) error {
	return b.auto.script("payer:"+payerCPF, outcomes)
}

// ScriptConsentSettlement is ScriptSettlement for the payments of one
// consent, whoever its payer.
func (b *Bank) ScriptConsentSettlement(recurringConsentID string, outcomes ...Outcome) error {
	return b.auto.script("consent:"+recurringConsentID, outcomes)
}

// PendingOutcomes returns the outcomes still queued for a payer's and for a
// consent's attempts ("" skips either), consent first.
func (b *Bank) PendingOutcomes(payerCPF, recurringConsentID string) []Outcome {
	a := b.auto
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []Outcome
	if recurringConsentID != "" {
		out = append(out, a.scripts["consent:"+recurringConsentID]...)
	}
	if payerCPF != "" {
		out = append(out, a.scripts["payer:"+payerCPF]...)
	}
	return out
}

func (a *automatic) script(key string, outcomes []Outcome) error {
	for _, o := range outcomes {
		if o.window < AnyWindow || o.window > Evening {
			return fmt.Errorf("sandbox: script: unknown settlement window %d", int(o.window))
		}
		if !o.settle && !a.knownRejection(o.code) {
			return fmt.Errorf("sandbox: script: %q is not a rejection code of the automatic-payments API %s", o.code, a.version)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.scripts[key] = append(a.scripts[key], outcomes...)
	return nil
}

// knownRejection reports whether code is in the version's rejectionReason
// enum (2.0/2.1 also have CONSENTIMENTO_REVOGADO).
func (a *automatic) knownRejection(code payments.RejectionCode) bool {
	if code == payments.RejectionConsentimentoRevogado {
		return a.legacy()
	}
	return code.Known()
}

// takeOutcomeLocked consumes the outcome of an attempt of p in window w.
func (a *automatic) takeOutcomeLocked(p *apPayment, w attemptWindow) Outcome {
	keys := []string{"consent:" + p.p.ConsentID}
	if c := a.consents[p.p.ConsentID]; c != nil && c.subject != "" {
		keys = append(keys, "payer:"+c.subject)
	}
	for _, k := range keys {
		queue := a.scripts[k]
		for i, o := range queue {
			if o.window.matches(w) {
				a.scripts[k] = slices.Delete(slices.Clone(queue), i, i+1)
				return o
			}
		}
	}
	return Settle()
}
