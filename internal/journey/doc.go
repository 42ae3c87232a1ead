// Package journey holds the conformance journeys of "pixauto journey": the
// Pix Automático flows an ITP must get right, each a named function over an
// Env that checks every outcome (statuses, rejection and error codes) and
// returns a descriptive error at the first that is wrong.
//
// The journeys are the three adhesions (no first payment, an immediate one,
// a scheduled one), the edition, revocation and rejection of a consent, the
// cancellation of a payment, and the retries (intraday, next day, the limit
// reached, a reason never retried). They follow the test modules of the
// official conformance plans that internal/conformance plays as tests, but
// run outside "go test", against any bank.
//
// An Env is the bank's FAPI client and the consent and payments clients on
// it, plus the controls of the bank's side that only a sandbox offers:
// moving its clock (TimeControl), scripting its settlement failures
// (SettlementControl) and approving as the payer without a browser (Payer).
// NewSandboxEnv gives all three for an embedded sandbox bank;
// BankConfig.Env gives none for a configured bank, and the command adds an
// interactive Payer on request. A journey that needs a control the Env
// lacks is skipped with the reason, and a step of a journey that needs one
// (a payment settling on its date) is recorded as skipped while the rest of
// the journey runs.
//
// Runner runs journeys one after the other and records each step with the
// calls it made and the bank's x-fapi-interaction-ids; Report writes the
// results as JUnit XML and JSON.
//
// The package is internal: its contract with users is the command's flags
// and report formats, not a Go API. The journeys' Go types (Env, Step,
// Runner) would be a testing framework to keep stable, which the SDK does
// not mean to offer; an ITP tests its own code with pixauto/sandbox.
package journey
