package payments

import (
	"fmt"
	"slices"
	"time"

	"github.com/ofb-go/pixauto/consent"
)

// Attempt is one settlement attempt of a recurrence: the original payment
// or one of its retries.
type Attempt struct {
	ID            string        // recurringPaymentId
	EndToEndID    string        // the attempt's own E2EID
	Date          consent.Date  // Brasília settlement date
	Status        Status        // current status
	RejectionCode RejectionCode // set when Status is RJCT
	// Created is when the attempt was created (creationDateTime). It tells
	// intraday retries (created on their settlement day) from extraday ones.
	Created time.Time
	// StatusUpdated is the last status change (statusUpdateDateTime), if
	// known. It tells a failure in the holder's 0–8h window from one in its
	// 18–21h window.
	StatusUpdated time.Time
}

// AttemptKind classifies an attempt of a chain.
type AttemptKind int

// Attempt kinds.
const (
	// KindOriginal is the first attempt of the recurrence.
	KindOriginal AttemptKind = iota
	// KindIntraday is a retry whose date is the day it was created.
	KindIntraday
	// KindExtraday is a retry dated after the day it was created (D+1).
	// A retry with an unknown creation time counts as extraday.
	KindExtraday
)

// String returns "original", "intraday" or "extraday".
func (k AttemptKind) String() string {
	switch k {
	case KindOriginal:
		return "original"
	case KindIntraday:
		return "intraday"
	case KindExtraday:
		return "extraday"
	}
	return fmt.Sprintf("AttemptKind(%d)", int(k))
}

// Chain is the retry chain of one recurrence: the original attempt first,
// then every retry in creation order. It is the single model of retries
// whatever the API version: 2.2.0 links retries through the /retry path,
// 2.0/2.1 through originalRecurringPaymentId, and the early draft's
// lastRetryRecurringPaymentIds list is derived from it
// ([Chain.FailedAttemptIDs]).
type Chain struct {
	Attempts []Attempt // original first, then retries in creation order
}

// NewChain returns the chain of an original attempt and its retries.
func NewChain(original Attempt, retries ...Attempt) Chain {
	return Chain{Attempts: append([]Attempt{original}, retries...)}
}

// ChainFromPayments builds the chain of originalID from payments, typically
// the answer of GET /pix/recurring-payments?originalRecurringPaymentId=…,
// which holds the original and all its retries. Retries are ordered by
// creation time, then by date; payments of other recurrences are ignored.
func ChainFromPayments(originalID string, ps []Payment) (Chain, error) {
	var (
		orig    *Payment
		retries []Payment
	)
	for i := range ps {
		switch {
		case ps[i].ID == originalID && !ps[i].IsRetry():
			orig = &ps[i]
		case ps[i].OriginalRecurringPaymentID == originalID:
			retries = append(retries, ps[i])
		}
	}
	if orig == nil || originalID == "" {
		return Chain{}, fmt.Errorf("payments: chain: original payment %q not found: %w", originalID, ErrMissing)
	}
	slices.SortStableFunc(retries, func(a, b Payment) int {
		if c := a.CreationDateTime.Compare(b.CreationDateTime.Time); c != 0 {
			return c
		}
		return a.Date.Compare(b.Date)
	})
	ch := Chain{Attempts: make([]Attempt, 0, len(retries)+1)}
	ch.Attempts = append(ch.Attempts, orig.Attempt())
	for i := range retries {
		ch.Attempts = append(ch.Attempts, retries[i].Attempt())
	}
	return ch, nil
}

// Original returns the original attempt.
func (c Chain) Original() (Attempt, bool) {
	if len(c.Attempts) == 0 {
		return Attempt{}, false
	}
	return c.Attempts[0], true
}

// Last returns the most recent attempt.
func (c Chain) Last() (Attempt, bool) {
	if len(c.Attempts) == 0 {
		return Attempt{}, false
	}
	return c.Attempts[len(c.Attempts)-1], true
}

// Append returns a copy of the chain with a appended.
func (c Chain) Append(a Attempt) Chain {
	return Chain{Attempts: append(slices.Clip(c.Attempts), a)}
}

// Kind classifies attempt i.
func (c Chain) Kind(i int) AttemptKind {
	if i <= 0 {
		return KindOriginal
	}
	a := c.Attempts[i]
	if !a.Created.IsZero() && consent.Today(a.Created) == a.Date {
		return KindIntraday
	}
	return KindExtraday
}

// FailedAttemptIDs returns the ids of the attempts that were rejected, in
// order: the early draft's lastRetryRecurringPaymentIds.
func (c Chain) FailedAttemptIDs() []string {
	var ids []string
	for _, a := range c.Attempts {
		if a.Status == StatusRJCT {
			ids = append(ids, a.ID)
		}
	}
	return ids
}

// ExtradayRetries counts the extraday retries that use up one of the three
// allowed (checklist item 55). A retry rejected with a code that does not
// count as an attempt (Table 1: DETALHE_TENTATIVA_INVALIDO, VALOR_INVALIDO,
// …) is not counted; every other extraday retry is, including cancelled
// and in-flight ones.
func (c Chain) ExtradayRetries() int {
	n := 0
	for i := 1; i < len(c.Attempts); i++ {
		a := c.Attempts[i]
		if c.Kind(i) != KindExtraday {
			continue
		}
		if a.Status == StatusRJCT && !a.RejectionCode.CountsAsAttempt() {
			continue
		}
		n++
	}
	return n
}

// Settled reports whether an attempt settled (ACSC).
func (c Chain) Settled() bool {
	return slices.ContainsFunc(c.Attempts, func(a Attempt) bool { return a.Status == StatusACSC })
}

// HasDate reports whether an attempt is dated d.
func (c Chain) HasDate(d consent.Date) bool {
	return slices.ContainsFunc(c.Attempts, func(a Attempt) bool { return a.Date == d })
}

// HasEndToEndID reports whether an attempt used the E2EID e.
func (c Chain) HasEndToEndID(e string) bool {
	return slices.ContainsFunc(c.Attempts, func(a Attempt) bool { return a.EndToEndID == e })
}

func (c Chain) attemptsOn(d consent.Date) int {
	n := 0
	for _, a := range c.Attempts {
		if a.Date == d {
			n++
		}
	}
	return n
}

// MaxExtradayRetries is the spec's limit of extraday retries per original
// (checklist item 55).
const MaxExtradayRetries = 3

// RetryWindowDays is the number of days after the original's settlement
// date within which retries may be dated (checklist item 54), and
// RetryWindowDaysWeekly the stricter reading for SEMANAL consents (the
// v2.0.0 retry page; spec digest §9.3).
const (
	RetryWindowDays       = 7
	RetryWindowDaysWeekly = 5
)

// Times of the settlement day, Brasília: the intraday-retry deadline and
// the holder's second window.
const (
	intradayDeadlineHour = 12
	secondWindowStart    = 18
	secondWindowEnd      = 21
)

// RetryPolicy is the ITP's (or receiver's) choice of which retries to make
// within what the spec allows. The zero value is the most permissive policy
// the spec allows: intraday and next-day retries on, three extraday
// retries, seven-day window.
type RetryPolicy struct {
	// Disabled turns retries off altogether.
	Disabled bool
	// NoIntraday turns off intraday retries (new E2EID by 12:00).
	NoIntraday bool
	// NoNextDay turns off extraday (D+1) retries.
	NoNextDay bool
	// MaxRetries caps extraday retries; values outside 1–3 mean 3.
	MaxRetries int
	// WeeklyFiveDays applies the 5-day window to SEMANAL consents instead of
	// 7 days (the stricter reading of the v2.0.0 retry page).
	WeeklyFiveDays bool
}

func (p RetryPolicy) maxRetries() int {
	if p.MaxRetries < 1 || p.MaxRetries > MaxExtradayRetries {
		return MaxExtradayRetries
	}
	return p.MaxRetries
}

// windowDays returns the retry window for a consent interval.
func windowDays(interval consent.Interval, weeklyFiveDays bool) int {
	if weeklyFiveDays && interval == consent.IntervalSemanal {
		return RetryWindowDaysWeekly
	}
	return RetryWindowDays
}

// Action is what [Decide] says to do next.
type Action string

// Actions.
const (
	// RetryIntraday: create a retry dated today with a new E2EID (before
	// 12:00 Brasília); the holder uses it in its 18–21h window.
	RetryIntraday Action = "RETRY_INTRADAY"
	// RetryNextDay: create an extraday retry dated tomorrow (Brasília).
	RetryNextDay Action = "RETRY_NEXT_DAY"
	// Wait: nothing to do now; decide again at NotBefore, or on the next
	// status change when NotBefore is zero.
	Wait Action = "WAIT"
	// GiveUp: no further attempt will be made for this recurrence.
	GiveUp Action = "GIVE_UP"
	// Done: an attempt settled; nothing left to do.
	Done Action = "DONE"
)

// Reason is the machine-readable reason of a [Decision].
type Reason string

// Reasons.
const (
	ReasonIntradayNewE2EID     Reason = "intraday_new_e2eid"     // RetryIntraday
	ReasonNextDay              Reason = "next_day"               // RetryNextDay
	ReasonInFlight             Reason = "in_flight"              // Wait: last attempt not final
	ReasonHolderSecondWindow   Reason = "holder_second_window"   // Wait: holder retries 18–21h
	ReasonBeforeSettlementDate Reason = "before_settlement_date" // Wait: rejected ahead of its date
	ReasonDateTaken            Reason = "date_taken"             // Wait: tomorrow already has an attempt
	ReasonSettled              Reason = "settled"                // Done
	ReasonEmptyChain           Reason = "empty_chain"            // GiveUp
	ReasonCancelled            Reason = "cancelled"              // GiveUp
	ReasonPolicyDisabled       Reason = "policy_disabled"        // GiveUp
	ReasonNextDayDisabled      Reason = "next_day_disabled"      // GiveUp
	ReasonConsentInvalid       Reason = "consent_invalid"        // GiveUp: nil or not automatic
	ReasonConsentNotAuthorised Reason = "consent_not_authorised" // GiveUp
	ReasonConsentFinal         Reason = "consent_final"          // GiveUp: REJECTED, REVOKED, CONSUMED
	ReasonConsentExpired       Reason = "consent_expired"        // GiveUp
	ReasonUnknownRejection     Reason = "unknown_rejection_code" // GiveUp
	ReasonNeverRetry           Reason = "never_retry_code"       // GiveUp
	ReasonRetryNotAccepted     Reason = "retry_not_accepted"     // GiveUp: isRetryAccepted false
	ReasonRetryLimit           Reason = "retry_limit"            // GiveUp
	ReasonWindowPassed         Reason = "window_passed"          // GiveUp
	ReasonExpiresBeforeRetry   Reason = "consent_expires_first"  // GiveUp
)

// Decision is the outcome of [Decide]: a value, never an error.
type Decision struct {
	Action  Action // what to do
	Reason  Reason // why, machine-readable
	Message string // why, human-readable
	// Date is the settlement date of the retry to create (RetryIntraday,
	// RetryNextDay).
	Date consent.Date
	// OriginalID is the original attempt's id: the /retry path id on
	// 2.2.0, originalRecurringPaymentId before.
	OriginalID string
	// NotBefore is, for Wait, the earliest time worth deciding again; zero
	// means on the next status change.
	NotBefore time.Time
	// RetriesUsed is the number of counted extraday retries so far.
	RetriesUsed int
}

// IsRetry reports whether the decision is to create a retry.
func (d Decision) IsRetry() bool { return d.Action == RetryIntraday || d.Action == RetryNextDay }

// atBrasilia returns the instant h:00 Brasília on d.
func atBrasilia(d consent.Date, h int) time.Time {
	return time.Date(d.Year, d.Month, d.Day, h, 0, 0, 0, consent.Brasilia)
}

// LastSettlementDate returns the last Brasília date on which a payment of c
// may settle: the Brasília date of expirationDateTime (23:59:59Z is 20:59:59
// in Brasília, the same calendar day). It reports false for a consent
// without expiry.
func LastSettlementDate(c *consent.Consent) (consent.Date, bool) {
	if c == nil || c.ExpirationDateTime == nil || c.ExpirationDateTime.IsZero() {
		return consent.Date{}, false
	}
	return consent.DateOf(c.ExpirationDateTime.Time, consent.Brasilia), true
}

// expired reports whether c's expiry is before now.
func expired(c *consent.Consent, now time.Time) bool {
	return c.ExpirationDateTime != nil && !c.ExpirationDateTime.IsZero() && now.After(c.ExpirationDateTime.Time)
}

// Decide says what to do next with a recurrence whose attempts are chain,
// under consent c, at now, given policy. It is pure: same inputs, same
// decision.
//
// In order:
//
//  1. an attempt settled → Done; the last attempt cancelled → GiveUp; the
//     last attempt not final → Wait;
//  2. the last attempt is RJCT: GiveUp if the policy is disabled, the
//     consent is not an AUTHORISED, unexpired Pix Automático consent, or the
//     rejection code is unknown or never-retry (item 56);
//  3. rejected ahead of its settlement date → Wait for that date;
//  4. on the settlement day, for a reason that needs a new E2EID, if no
//     intraday retry was made and it is before 12:00 Brasília →
//     RetryIntraday dated today (item 53);
//  5. on the settlement day, for a reason the holder retries itself
//     (SALDO_INSUFICIENTE, …), until its 18–21h window is over → Wait;
//  6. otherwise an extraday retry dated tomorrow (item 54), unless next-day
//     retries are off, the consent has isRetryAccepted false, the counted
//     extraday retries reached the policy's maximum (item 55), tomorrow is
//     more than 7 days (5 for SEMANAL with WeeklyFiveDays) after the
//     original's date, or after the consent's last settlement date.
func Decide(chain Chain, c *consent.Consent, now time.Time, policy RetryPolicy) Decision {
	last, ok := chain.Last()
	if !ok {
		return giveUp(ReasonEmptyChain, "the chain has no attempt")
	}
	orig := chain.Attempts[0]
	d := decideRejected(chain, orig, last, c, now, policy)
	d.OriginalID = orig.ID
	d.RetriesUsed = chain.ExtradayRetries()
	return d
}

func giveUp(r Reason, format string, args ...any) Decision {
	return Decision{Action: GiveUp, Reason: r, Message: fmt.Sprintf(format, args...)}
}

func wait(r Reason, notBefore time.Time, format string, args ...any) Decision {
	return Decision{Action: Wait, Reason: r, NotBefore: notBefore, Message: fmt.Sprintf(format, args...)}
}

func decideRejected(chain Chain, orig, last Attempt, c *consent.Consent, now time.Time, policy RetryPolicy) Decision {
	switch {
	case chain.Settled():
		return Decision{Action: Done, Reason: ReasonSettled, Message: "an attempt settled (ACSC)"}
	case last.Status == StatusCANC:
		return giveUp(ReasonCancelled, "the last attempt %s was cancelled", last.ID)
	case last.Status != StatusRJCT:
		return wait(ReasonInFlight, time.Time{}, "the last attempt %s is %s, not final", last.ID, last.Status)
	}
	if d, stop := checkConsentForRetry(c, now, policy); stop {
		return d
	}
	code := last.RejectionCode
	switch {
	case !code.Known():
		return giveUp(ReasonUnknownRejection, "rejection code %q is unknown; not retrying blindly", string(code))
	case code.NeverRetry():
		return giveUp(ReasonNeverRetry, "rejection code %s is never retried", code)
	}
	today := consent.Today(now)
	if today.Before(last.Date) {
		return wait(ReasonBeforeSettlementDate, atBrasilia(last.Date, 0),
			"attempt %s was rejected ahead of its settlement date %s; retries start on that date", last.ID, last.Date)
	}
	if today == last.Date && chain.attemptsOn(last.Date) == 1 {
		if code.NeedsNewE2EID() && !policy.NoIntraday && now.Before(atBrasilia(today, intradayDeadlineHour)) {
			return Decision{Action: RetryIntraday, Reason: ReasonIntradayNewE2EID, Date: today,
				Message: fmt.Sprintf("%s needs a new E2EID: retry today before 12:00 Brasília", code)}
		}
		if code.HolderRetriesSameDay() && secondWindowPending(last, now) {
			return wait(ReasonHolderSecondWindow, atBrasilia(today, secondWindowEnd),
				"after %s the holder retries by itself between 18:00 and 21:00 Brasília", code)
		}
	}
	return decideNextDay(chain, orig, c, today, policy)
}

// checkConsentForRetry gives up on disabled policies and unusable consents.
func checkConsentForRetry(c *consent.Consent, now time.Time, policy RetryPolicy) (Decision, bool) {
	switch {
	case policy.Disabled:
		return giveUp(ReasonPolicyDisabled, "retries are disabled by policy"), true
	case c == nil || c.Automatic() == nil:
		return giveUp(ReasonConsentInvalid, "no Pix Automático consent"), true
	case c.Status.Final():
		return giveUp(ReasonConsentFinal, "consent is %s", c.Status), true
	case c.Status != consent.StatusAuthorised:
		return giveUp(ReasonConsentNotAuthorised, "consent is %s, not AUTHORISED", c.Status), true
	case expired(c, now):
		return giveUp(ReasonConsentExpired, "consent expired at %s", c.ExpirationDateTime), true
	}
	return Decision{}, false
}

// secondWindowPending reports whether the holder's own 18–21h attempt on
// the settlement day of last may still come: it is before 21:00 and the
// failure was not itself observed in that window.
func secondWindowPending(last Attempt, now time.Time) bool {
	if !now.Before(atBrasilia(last.Date, secondWindowEnd)) {
		return false
	}
	return last.StatusUpdated.IsZero() || last.StatusUpdated.Before(atBrasilia(last.Date, secondWindowStart))
}

func decideNextDay(chain Chain, orig Attempt, c *consent.Consent, today consent.Date, policy RetryPolicy) Decision {
	auto := c.Automatic()
	date := today.AddDays(1)
	limit := orig.Date.AddDays(windowDays(auto.Interval, policy.WeeklyFiveDays))
	lastDay, hasExpiry := LastSettlementDate(c)
	switch used := chain.ExtradayRetries(); {
	case policy.NoNextDay:
		return giveUp(ReasonNextDayDisabled, "next-day retries are disabled by policy")
	case !auto.IsRetryAccepted:
		return giveUp(ReasonRetryNotAccepted, "the payer did not accept retries (isRetryAccepted=false)")
	case used >= policy.maxRetries():
		return giveUp(ReasonRetryLimit, "%d of %d extraday retries used", used, policy.maxRetries())
	case date.After(limit):
		return giveUp(ReasonWindowPassed, "a retry dated %s would be after %s, the end of the retry window", date, limit)
	case hasExpiry && date.After(lastDay):
		return giveUp(ReasonExpiresBeforeRetry, "a retry dated %s would be after the consent's last day %s", date, lastDay)
	case chain.HasDate(date):
		return wait(ReasonDateTaken, atBrasilia(date, 0), "an attempt is already dated %s", date)
	}
	return Decision{Action: RetryNextDay, Reason: ReasonNextDay, Date: date,
		Message: fmt.Sprintf("extraday retry dated %s", date)}
}

// PlanRetry turns a retry decision into a [Retry] with a new E2EID dated
// d.Date at 15:00 UTC (checklist item 57). original is the original
// attempt's request, needed on 2.0/2.1 and the early draft (it may be nil
// for 2.2.0 holders).
func PlanRetry(chain Chain, d Decision, original *Request, gen *Generator) (Retry, error) {
	if !d.IsRetry() {
		return Retry{}, fmt.Errorf("payments: plan retry: decision is %s (%s): %w", d.Action, d.Reason, ErrNotRetryable)
	}
	orig, ok := chain.Original()
	if !ok {
		return Retry{}, fmt.Errorf("payments: plan retry: empty chain: %w", ErrMissing)
	}
	if gen == nil {
		return Retry{}, fmt.Errorf("payments: plan retry: nil generator: %w", ErrMissing)
	}
	e, err := gen.Scheduled(d.Date)
	if err != nil {
		return Retry{}, err
	}
	return Retry{
		OriginalID:       orig.ID,
		EndToEndID:       e.String(),
		Date:             d.Date,
		Original:         original,
		FailedAttemptIDs: chain.FailedAttemptIDs(),
	}, nil
}
