package payments

import (
	"errors"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/ofb-go/pixauto/consent"
)

// ErrConsentMismatch: the request names another consent than the one it is
// validated against.
var ErrConsentMismatch = errors.New("payments: request names another consent")

// SPITolerance is how far the timestamp of an immediate payment's E2EID may
// be from the submission time: SPI accepts ±12 hours.
const SPITolerance = 12 * time.Hour

// Validator runs the ITP checklist on payment requests before they leave
// (spec digest §8, items 26–58). Its zero value validates for
// [DefaultVersion] without knowing the ITP's identity; set ISPB and
// CNPJInitiator to also check that the request carries them.
//
// A Validator is safe for concurrent use; its methods never panic, whatever
// the inputs (nil consent, nil configuration, empty strings).
type Validator struct {
	// Version is the holder's API version; zero means DefaultVersion.
	Version Version
	// ISPB is the ITP's ISPB; when set, every E2EID must carry it (item 45).
	ISPB string
	// CNPJInitiator is the ITP's CNPJ; when set, cnpjInitiator must equal it
	// (item 40).
	CNPJInitiator string
	// WeeklyFiveDays applies the stricter 5-day retry window to SEMANAL
	// consents (item 54).
	WeeklyFiveDays bool
}

func (v *Validator) version() Version {
	if v == nil || v.Version == "" {
		return DefaultVersion
	}
	return v.Version
}

func (v *Validator) cfg() Validator {
	if v == nil {
		return Validator{Version: DefaultVersion}
	}
	out := *v
	out.Version = v.version()
	return out
}

var (
	issuerRE = regexp.MustCompile(`^[0-9]{1,4}$`)
	numberRE = regexp.MustCompile(`^[0-9]{1,20}$`)
	ibgeRE   = regexp.MustCompile(`^[0-9]{7}$`)
)

// ValidateCreate checks a POST /pix/recurring-payments request for consent
// c at now, given the payments that already exist under the consent (for
// the one-payment-per-cycle and E2EID-reuse rules). It returns nil or
// [ValidationErrors] with every failure, each a [*ValidationError] naming
// the field, the rule and the checklist item.
//
// Items 35–38 and 50 (currency, localInstrument, proxy,
// transactionIdentification, originalRecurringPaymentId) cannot be broken:
// [Request] does not carry those fields and [EncodeCreate] derives them.
// Item 49 (29/30/31 due days) is covered by item 46: cycle starts and dates
// use the previous-existing-day rule and the E2EID always carries the
// settlement date, which therefore always exists.
func (v *Validator) ValidateCreate(r *Request, c *consent.Consent, existing []Payment, now time.Time) error {
	cfg := v.cfg()
	var col collector
	if r == nil {
		col.add(27, "data", ErrMissing, "the request is nil")
		return col.err()
	}
	auto := checkConsent(&col, c, now)
	cfg.checkReference(&col, r, c, auto, now)
	cfg.checkDates(&col, r, c, auto, now)
	if auto != nil {
		checkDuplicate(&col, r, c, existing)
		checkAmounts(&col, r, auto)
	} else if !r.Amount.Valid() {
		col.add(34, "payment.amount", ErrInvalidAmount, "must be positive and at most 16 integer digits")
	}
	cfg.checkParties(&col, r, c)
	immediate := r.Reference.First && r.Date == consent.Today(now)
	cfg.checkE2EID(&col, 45, "endToEndId", r.EndToEndID, r.Date, immediate, now, func(e string) bool {
		for i := range existing {
			if existing[i].EndToEndID == e {
				return true
			}
		}
		return false
	})
	return col.err()
}

// checkConsent runs item 26 and returns the automatic configuration, or nil.
func checkConsent(col *collector, c *consent.Consent, now time.Time) *consent.Automatic {
	if c == nil {
		col.add(26, "consent", ErrNotAutomatic, "no consent given")
		return nil
	}
	auto := c.Automatic()
	if auto == nil {
		col.add(26, "recurringConfiguration.automatic", ErrNotAutomatic, "the consent is not a Pix Automático consent")
	}
	if c.Status != consent.StatusAuthorised {
		col.add(26, "consent.status", ErrConsentNotAuthorised, "is %q; payments need AUTHORISED", string(c.Status))
	}
	if expired(c, now) {
		col.add(26, "consent.expirationDateTime", ErrConsentExpired, "expired at %s", c.ExpirationDateTime)
	}
	return auto
}

// checkReference runs items 27–29.
func (cfg Validator) checkReference(col *collector, r *Request, c *consent.Consent, auto *consent.Automatic, now time.Time) {
	ref := r.Reference
	if _, err := ref.Format(cfg.Version); err != nil {
		col.add(29, "paymentReference", ErrPaymentReference, "cannot be written for version %s: %v", cfg.Version, err)
	}
	if auto == nil {
		return
	}
	if ref.First {
		fp := auto.FirstPayment
		if fp == nil {
			col.add(27, "paymentReference", ErrPaymentReference, `"zero" is only for the consent's firstPayment, and the consent has none`)
			return
		}
		if r.Amount != fp.Amount {
			col.add(28, "payment.amount", ErrAmountMismatch, "must equal firstPayment.amount %s", fp.Amount)
		}
		if !sameAccount(r.CreditorAccount, fp.CreditorAccount) {
			col.add(28, "creditorAccount", ErrCreditorAccountMismatch, "must equal firstPayment.creditorAccount")
		}
		if r.Date != fp.Date {
			col.add(28, "date", ErrFirstPaymentDate, "must equal firstPayment.date %s", fp.Date)
		}
		return
	}
	if ref.Interval != auto.Interval {
		col.add(29, "paymentReference", ErrPaymentReference, "interval %q must be the consent's %q", string(ref.Interval), string(auto.Interval))
	}
	if ref.Start.IsZero() {
		col.add(29, "paymentReference", ErrPaymentReference, "must name a cycle start date")
		return
	}
	b := Billing{Anchor: auto.ReferenceStartDate, Interval: auto.Interval}
	if _, ok := b.CycleStarting(ref.Start); !ok {
		col.add(29, "paymentReference", ErrPaymentReference, "%s is not the start of a billing cycle from referenceStartDate %s (%s)",
			ref.Start, auto.ReferenceStartDate, string(auto.Interval))
	}
}

func sameAccount(a, b consent.Account) bool {
	return a.ISPB == b.ISPB && a.Issuer == b.Issuer && a.Number == b.Number && a.AccountType == b.AccountType
}

// checkDates runs items 30–32.
func (cfg Validator) checkDates(col *collector, r *Request, c *consent.Consent, auto *consent.Automatic, now time.Time) {
	if r.Date.IsZero() {
		col.add(30, "date", ErrMissing, "required")
		return
	}
	if !validDate(r.Date) {
		col.add(30, "date", ErrInvalidFormat, "must be a calendar date")
		return
	}
	today := consent.Today(now)
	if r.Reference.First {
		if r.Date.Before(today) {
			col.add(30, "date", ErrOutsideWindow, "the first payment must be dated today (%s) or later", today)
		}
	} else if w := SchedulingWindow(now); !w.Contains(r.Date) {
		col.add(30, "date", ErrOutsideWindow, "must be within %s (today+2 to today+10, Brasília)", w)
	}
	if last, ok := LastSettlementDate(c); ok && r.Date.After(last) {
		col.add(31, "date", ErrAfterExpiry, "must not be after %s, the Brasília date of expirationDateTime", last)
	}
	if auto == nil || r.Reference.First {
		return
	}
	if r.Date.Before(auto.ReferenceStartDate) {
		col.add(32, "date", ErrBeforeReferenceStart, "must be on or after referenceStartDate %s", auto.ReferenceStartDate)
	}
	if fp := auto.FirstPayment; fp != nil && !r.Date.After(fp.Date) {
		col.add(32, "date", ErrBeforeFirstPayment, "must be after the first payment's date %s", fp.Date)
	}
}

// checkDuplicate runs item 33.
func checkDuplicate(col *collector, r *Request, c *consent.Consent, existing []Payment) {
	if p, taken := CycleTaken(existing, c.RecurringConsentID, r.Reference); taken {
		col.add(33, "paymentReference", ErrDuplicateCycle, "payment %s (%s) already covers %s", p.ID, p.Status, r.Reference)
	}
}

// checkAmounts runs items 19 and 34.
func checkAmounts(col *collector, r *Request, auto *consent.Automatic) {
	if !r.Amount.Valid() {
		col.add(34, "payment.amount", ErrInvalidAmount, "must be positive and at most 16 integer digits")
		return
	}
	if r.Reference.First {
		return // item 28
	}
	if err := CheckAmount(auto, r.Amount); err != nil {
		switch {
		case errors.Is(err, ErrAmountMismatch):
			col.add(34, "payment.amount", ErrAmountMismatch, "must equal fixedAmount %s", *auto.FixedAmount)
		case errors.Is(err, ErrAmountAboveMaximum):
			col.add(34, "payment.amount", ErrAmountAboveMaximum, "must not exceed maximumVariableAmount")
		}
	}
}

// checkParties runs items 39–44.
func (cfg Validator) checkParties(col *collector, r *Request, c *consent.Consent) {
	cfg.checkDocument(col, r.Document, c)
	switch {
	case r.CNPJInitiator == "":
		col.add(40, "cnpjInitiator", ErrMissing, "required")
	case !documentValid(cfg.Version, consent.Document{Identification: r.CNPJInitiator, Rel: consent.RelCNPJ}):
		col.add(40, "cnpjInitiator", ErrInvalidFormat, "must be a CNPJ%s", digitsOnlyNote(cfg.Version))
	case cfg.CNPJInitiator != "" && r.CNPJInitiator != cfg.CNPJInitiator:
		col.add(40, "cnpjInitiator", ErrInitiatorMismatch, "must be the ITP's CNPJ %s", cfg.CNPJInitiator)
	}
	cfg.checkAccount(col, r.CreditorAccount)
	if r.IBGETownCode != "" && !ibgeRE.MatchString(r.IBGETownCode) {
		col.add(42, "ibgeTownCode", ErrInvalidFormat, "must be 7 digits")
	}
	if n := utf8.RuneCountInString(r.RemittanceInformation); n > 140 {
		col.add(43, "remittanceInformation", ErrTooLong, "has %d characters, at most 140", n)
	}
	switch r.AuthorisationFlow {
	case "", FlowHybrid, FlowCIBA:
	case FlowFIDO:
		if r.ConsentID == "" {
			col.add(44, "recurringConsentId", ErrMissing, "required with authorisationFlow FIDO_FLOW")
		}
	default:
		col.add(44, "authorisationFlow", ErrInvalidFormat, "must be HYBRID_FLOW, CIBA_FLOW or FIDO_FLOW")
	}
	if r.ConsentID != "" {
		if len(r.ConsentID) > 256 || !consentIDRE.MatchString(r.ConsentID) {
			col.add(44, "recurringConsentId", ErrInvalidFormat, "must be a URN of at most 256 characters")
		} else if c != nil && c.RecurringConsentID != "" && r.ConsentID != c.RecurringConsentID {
			col.add(44, "recurringConsentId", ErrConsentMismatch, "must be the consent's id %s", c.RecurringConsentID)
		}
	}
}

func digitsOnlyNote(v Version) string {
	if v.AlphanumericIDs() {
		return " (^[0-9A-Z]{12}[0-9]{2}$)"
	}
	return " of 14 digits (version " + string(v) + " has no alphanumeric CNPJ)"
}

// checkDocument runs item 39.
func (cfg Validator) checkDocument(col *collector, d consent.Document, c *consent.Consent) {
	if d.Identification == "" {
		col.add(39, "document.identification", ErrMissing, "required")
		return
	}
	wantRel := consent.RelCNPJ
	if len(d.Identification) == 11 {
		wantRel = consent.RelCPF
	}
	if d.Rel != wantRel {
		col.add(39, "document.rel", ErrInvalidFormat, "must be %s for a %d-character identification", wantRel, len(d.Identification))
	} else if !documentValid(cfg.Version, d) {
		col.add(39, "document.identification", ErrInvalidFormat, "is not a valid %s%s", d.Rel, digitsOnlyNote(cfg.Version))
	}
	if c == nil || len(c.Creditors) == 0 {
		return
	}
	for _, cr := range c.Creditors {
		if cr.CpfCnpj == d.Identification {
			return
		}
	}
	col.add(39, "document.identification", ErrDocumentMismatch, "must be the consent creditor's document %s", c.Creditors[0].CpfCnpj)
}

// checkAccount runs item 41.
func (cfg Validator) checkAccount(col *collector, a consent.Account) {
	const f = "creditorAccount."
	switch {
	case a.ISPB == "":
		col.add(41, f+"ispb", ErrInvalidAccount, "required")
	case !ispbValid(cfg.Version, a.ISPB):
		col.add(41, f+"ispb", ErrInvalidAccount, "must be 8 characters %s", ispbPattern(cfg.Version))
	}
	if !numberRE.MatchString(a.Number) {
		col.add(41, f+"number", ErrInvalidAccount, "must be 1 to 20 digits (letters become 0)")
	}
	switch a.AccountType {
	case consent.AccountCACC, consent.AccountSVGS:
		if a.Issuer == "" {
			col.add(41, f+"issuer", ErrInvalidAccount, "required for %s", a.AccountType)
		}
	case consent.AccountTRAN:
	case "":
		col.add(41, f+"accountType", ErrInvalidAccount, "required")
	default:
		col.add(41, f+"accountType", ErrInvalidAccount, "must be CACC, SVGS or TRAN")
	}
	if a.Issuer != "" && !issuerRE.MatchString(a.Issuer) {
		col.add(41, f+"issuer", ErrInvalidAccount, "must be 1 to 4 digits")
	}
}

func ispbValid(v Version, s string) bool {
	if len(s) != 8 {
		return false
	}
	if v.AlphanumericIDs() {
		return allBytes(s, isISPBByte)
	}
	return allBytes(s, isDigit)
}

func ispbPattern(v Version) string {
	if v.AlphanumericIDs() {
		return "[0-9A-Z]"
	}
	return "[0-9] (version " + string(v) + ")"
}

// checkE2EID runs items 45–48 (and 57 for retries) on an E2EID meant for a
// payment dated date.
func (cfg Validator) checkE2EID(col *collector, item int, field, s string, date consent.Date, immediate bool, now time.Time, used func(string) bool) {
	if s == "" {
		col.add(item, field, ErrMissing, "required")
		return
	}
	e, err := ParseE2EID(s)
	if err != nil {
		var pe *ParseError
		rule := err.Error()
		if errors.As(err, &pe) {
			rule = pe.Rule
		}
		n := item
		if pe != nil && pe.Rule == ruleE2EIDTime {
			n = 47
		}
		col.add(n, field, ErrInvalidE2EID, "%s", rule)
		return
	}
	if !ispbValid(cfg.Version, e.ISPB) {
		col.add(item, field, ErrInvalidFormat, "ISPB must be %s", ispbPattern(cfg.Version))
	}
	if cfg.ISPB != "" && e.ISPB != cfg.ISPB {
		col.add(item, field, ErrE2EIDMismatch, "must carry the ITP's ISPB %s, not %s", cfg.ISPB, e.ISPB)
	}
	n := 46
	if item == 57 {
		n = 57
	}
	switch {
	case immediate:
		if d := e.Time.Sub(now); d > SPITolerance || d < -SPITolerance {
			col.add(n, field, ErrE2EIDMismatch, "an immediate payment's E2EID must carry the current UTC time (±12h), not %s",
				e.Time.Format(time.RFC3339))
		}
	case !date.IsZero() && (e.Date() != date || !e.IsScheduled()):
		col.add(n, field, ErrE2EIDMismatch, "a scheduled payment's E2EID must carry %s1500 (its date at 15:00 UTC), not %s",
			date.String(), e.Time.Format(e2eTimeLayout))
	}
	if used != nil && used(s) {
		col.add(48, field, ErrE2EIDReused, "was already used; every attempt needs a new E2EID")
	}
}

// ValidateRetry checks a retry of the recurrence chain under consent c at
// now (items 26 and 51–58, with 45–48 on its E2EID). The retry is intraday
// when dated today and extraday when dated tomorrow (Brasília); any other
// date fails. It returns nil or [ValidationErrors].
func (v *Validator) ValidateRetry(rt *Retry, chain Chain, c *consent.Consent, now time.Time) error {
	cfg := v.cfg()
	var col collector
	if rt == nil {
		col.add(52, "data", ErrMissing, "the retry is nil")
		return col.err()
	}
	auto := checkConsent(&col, c, now)
	orig, ok := chain.Original()
	if !ok {
		col.add(52, "originalRecurringPaymentId", ErrMissing, "the chain has no original attempt")
		return col.err()
	}
	last, _ := chain.Last()
	if rt.OriginalID != orig.ID {
		col.add(52, "originalRecurringPaymentId", ErrNotOriginal, "must be the original attempt %q, not %q", orig.ID, rt.OriginalID)
	}
	if last.Status != StatusRJCT {
		col.add(51, "status", ErrNotRetryable, "the last attempt %s is %q; only RJCT can be retried", last.ID, string(last.Status))
	}
	if last.RejectionCode.NeverRetry() {
		col.add(56, "rejectionReason.code", ErrNotRetryable, "%s is never retried", last.RejectionCode)
	}
	cfg.checkRetryDate(&col, rt, chain, orig, last, c, auto, now)
	cfg.checkE2EID(&col, 57, "endToEndId", rt.EndToEndID, rt.Date, false, now, chain.HasEndToEndID)
	if !cfg.Version.HasRetryEndpoint() {
		if rt.Original == nil {
			col.add(58, "data", ErrMissing, "version %s sends a copy of the original request, which is missing", cfg.Version)
		}
		if cfg.Version == V200Beta1 && (len(rt.FailedAttemptIDs) == 0 || len(rt.FailedAttemptIDs) > maxLastRetryIDs) {
			col.add(58, "lastRetryRecurringPaymentIds", ErrInvalidFormat, "must list 1 to 4 previous attempts")
		}
	}
	return col.err()
}

// ruleE2EIDTime is ParseE2EID's rule for an impossible timestamp.
const ruleE2EIDTime = "timestamp is not a real UTC date and time"

// checkRetryDate runs items 53–55.
func (cfg Validator) checkRetryDate(col *collector, rt *Retry, chain Chain, orig, last Attempt, c *consent.Consent, auto *consent.Automatic, now time.Time) {
	if rt.Date.IsZero() {
		col.add(54, "date", ErrMissing, "required")
		return
	}
	today := consent.Today(now)
	switch rt.Date {
	case today:
		if !last.RejectionCode.NeedsNewE2EID() {
			col.add(53, "date", ErrNotRetryable, "an intraday retry needs a rejection that requires a new E2EID, not %q", string(last.RejectionCode))
		}
		if last.Date != today {
			col.add(53, "date", ErrRetryWindow, "an intraday retry is made on the failed attempt's settlement day %s", last.Date)
		} else if chain.attemptsOn(today) > 1 {
			col.add(53, "date", ErrRetryLimit, "an intraday retry was already made on %s", today)
		}
		if !now.Before(atBrasilia(today, intradayDeadlineHour)) {
			col.add(53, "date", ErrRetryWindow, "an intraday retry must be requested before 12:00 Brasília")
		}
	case today.AddDays(1):
		if auto != nil && !auto.IsRetryAccepted {
			col.add(54, "date", ErrRetryNotAccepted, "extraday retries need isRetryAccepted=true")
		}
		interval := consent.Interval("")
		if auto != nil {
			interval = auto.Interval
		}
		if limit := orig.Date.AddDays(windowDays(interval, cfg.WeeklyFiveDays)); rt.Date.After(limit) {
			col.add(54, "date", ErrRetryWindow, "must not be after %s, %d days after the original's date", limit, windowDays(interval, cfg.WeeklyFiveDays))
		}
		if lastDay, ok := LastSettlementDate(c); ok && rt.Date.After(lastDay) {
			col.add(54, "date", ErrAfterExpiry, "must not be after the consent's last day %s", lastDay)
		}
		if used := chain.ExtradayRetries(); used >= MaxExtradayRetries {
			col.add(55, "date", ErrRetryLimit, "%d extraday retries were already made", used)
		}
		if chain.HasDate(rt.Date) {
			col.add(55, "date", ErrDateReused, "an earlier attempt is already dated %s", rt.Date)
		}
	default:
		col.add(54, "date", ErrRetryWindow, "must be today %s (intraday) or tomorrow %s (extraday), Brasília", today, today.AddDays(1))
	}
}
