// Package conformance plays every Pix Automático test module of the Open
// Finance Brasil conformance plans for automatic-payments v2.2.0 — the plans
// automatic-pix-payments_test-plan_v2-2, automatic-pix-payments-retry_test-plan_v2-2,
// automatic-pix-payments-timezone_test-plan_v2-2 and
// automatic-pix-payments-webhook_test-plan_v2-2 — from the payment
// initiator's (ITP) side, as Go tests named after the modules.
//
// Each test drives the SDK (consent, payments, fapi) against the in-process
// sandbox bank (internal/sandboxtest) on a controlled clock, as a real ITP
// would. A negative scenario is checked twice: the SDK refuses the request
// before it leaves, with a typed error, and the bank sees no such call; and
// the same data sent past the SDK's checks (fapi.Client.Do with the SDK's wire
// encoders or a hand-built body) gets the module's signed 422 code, or its
// asynchronous outcome.
//
// The package holds tests only. Where the sandbox cannot play a module's
// condition itself (SPI's account-ownership check), the test scripts the
// settlement outcome and says so.
package conformance
