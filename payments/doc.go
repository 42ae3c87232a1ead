// Package payments is the domain logic of Pix Automático recurring payments
// for a payment initiator (ITP) of the Open Finance Brasil automatic-payments
// API: the payment model, endToEndIds, billing cycles and paymentReference,
// the scheduling window, the retry state machine, client-side validation and
// the wire form of each API version.
//
// Everything here is pure and deterministic: the clock is always a now
// argument and randomness an io.Reader, so every rule can be tested at its
// boundaries. The HTTP client is built on top of it elsewhere.
//
// # Model
//
// [Payment] is what a holder returns, whatever the API version; [Request]
// is what the ITP asks for, and [Retry] a new attempt of a failed
// recurrence. [Status] and [RejectionCode] keep unknown values as received.
// Money is [consent.Amount] (centavos), dates are Brasília civil dates
// ([consent.Date]) and instants are UTC seconds ([consent.DateTime]).
//
// # Dates and identifiers
//
// A [Generator] issues endToEndIds: the settlement date at 15:00 UTC for
// scheduled payments, the current UTC minute for an immediate first payment,
// and an unbiased 11-character random suffix; every attempt, retries
// included, gets a new one. [Billing] computes the billing cycles from
// referenceStartDate, moving non-existent days (31 February) to the previous
// existing day, and [PaymentReference] names the cycle a payment pays in the
// 2.2.0 form ("R/2025-07-23/P1M") or the 2.0/2.1 form ("M07-2025").
//
// # Scheduling
//
// Recurrences are sent 2 to 10 days ahead ([SchedulingWindow],
// [RecurrenceWindow]), within the consent's dates and amounts
// ([CheckAmount]), one non-failed original per cycle ([CycleTaken]). A
// [Calendar] of Brazilian business days serves receivers whose due dates
// avoid weekends and holidays.
//
// A [Planner] ties these together: given a consent and a [Charge] (cycle,
// due date, amount, account) it returns a validated [Request] with its
// date, E2EID and reference.
//
// # Retries
//
// A [Chain] holds the original attempt and its retries. [Decide] is a pure
// function of the chain, the consent, the time and a [RetryPolicy]; it
// returns a [Decision]: RetryIntraday (new E2EID before 12:00 Brasília),
// RetryNextDay (extraday, D+1, within 7 days and at most 3 times), Wait,
// GiveUp or Done, always with a [Reason] and a message. [PlanRetry] turns a
// retry decision into a [Retry].
//
// # Validation
//
// [Validator] runs items 26–58 of the ITP checklist before a request leaves
// and reports every failure as a [*ValidationError] (field, rule, checklist
// item) wrapping a sentinel such as [ErrOutsideWindow], all of them in
// [ValidationErrors]; errors.Is and errors.As work on the result.
//
// # Versions
//
// [ParseVersion] maps the holder's x-v header to a [Version].
// [EncodeCreate], [EncodeRetry] and [EncodeCancel] produce the [Call] (path
// and data object) of that version, so that the caller's code does not
// change: on 2.2.0 a retry goes to POST …/{originalRecurringPaymentId}/retry
// with only endToEndId and date, on 2.0/2.1 it is a copy of the original
// body with originalRecurringPaymentId, and on the early draft 2.0.0-beta.1
// it carries lastRetryRecurringPaymentIds. [DecodePayment] and
// [DecodePayments] read every response shape into [Payment], and
// [ListFilter] builds the query of GET /pix/recurring-payments.
package payments
