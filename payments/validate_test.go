package payments_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
)

// failure is an expected validation failure.
type failure struct {
	item  int
	field string
	err   error
}

// requireFailures checks that err holds exactly the expected failures, in
// checklist order, each a *ValidationError wrapping its sentinel.
func requireFailures(t *testing.T, err error, want []failure) {
	t.Helper()
	if len(want) == 0 {
		require.NoError(t, err)
		return
	}
	require.Error(t, err)
	var ves payments.ValidationErrors
	require.ErrorAs(t, err, &ves)
	got := make([]failure, len(ves))
	for i, ve := range ves {
		got[i] = failure{item: ve.Item, field: ve.Field, err: ve.Err}
		require.True(t, strings.HasPrefix(ve.Error(), "payments: "+ve.Field+": "), ve.Error())
		require.NotEmpty(t, ve.Rule)
	}
	require.Equal(t, want, got, err.Error())
	for _, w := range want {
		require.ErrorIs(t, err, w.err)
		require.True(t, ves.Has(w.err))
	}
	var ve *payments.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, want[0].item, ve.Item)
	require.True(t, slices.IsSortedFunc(ves, func(a, b *payments.ValidationError) int { return a.Item - b.Item }))
}

// Recurrence scenario: requested on Monday 2025-08-18 10:00 Brasília, for
// cycle 1 (starting 2025-08-23), settling on 2025-08-25; window
// [2025-08-20, 2025-08-28].
var (
	createNow  = brt(2025, 8, 18, 10, 0, 0)
	cycleStart = date(2025, 8, 23)
	payDay     = date(2025, 8, 25)
)

func TestValidateCreate(t *testing.T) {
	t.Parallel()
	type tc struct {
		name      string
		req       func(*payments.Request)
		consent   func(*consent.Consent)
		nilCons   bool
		existing  []payments.Payment
		now       time.Time
		validator payments.Validator
		want      []failure
	}
	dated := func(d consent.Date) func(*payments.Request) {
		return func(r *payments.Request) { r.Date, r.EndToEndID = d, scheduledE2E(d, "abcdefghijk") }
	}
	v210 := payments.Validator{Version: payments.V210}
	alnum := "AB12CD34000195"
	tests := []tc{
		{name: "valid recurrence"},
		{name: "valid with the ITP's identity", validator: payments.Validator{ISPB: itpISPB, CNPJInitiator: itpCNPJ}},
		{name: "valid on 2.1.0", validator: v210},
		{name: "valid on the early draft", validator: payments.Validator{Version: payments.V200Beta1}},

		// Item 26.
		{name: "nil consent", nilCons: true, want: []failure{{26, "consent", payments.ErrNotAutomatic}}},
		{name: "sweeping consent", consent: func(c *consent.Consent) { c.RecurringConfiguration.Automatic = nil },
			want: []failure{{26, "recurringConfiguration.automatic", payments.ErrNotAutomatic}}},
		{name: "awaiting authorisation", consent: withStatus(consent.StatusAwaitingAuthorisation),
			want: []failure{{26, "consent.status", payments.ErrConsentNotAuthorised}}},
		{name: "partially accepted", consent: withStatus(consent.StatusPartiallyAccepted),
			want: []failure{{26, "consent.status", payments.ErrConsentNotAuthorised}}},
		{name: "revoked", consent: withStatus(consent.StatusRevoked),
			want: []failure{{26, "consent.status", payments.ErrConsentNotAuthorised}}},
		{name: "consumed", consent: withStatus(consent.StatusConsumed),
			want: []failure{{26, "consent.status", payments.ErrConsentNotAuthorised}}},
		{name: "expired", consent: withExpiry(date(2025, 8, 17)), want: []failure{
			{26, "consent.expirationDateTime", payments.ErrConsentExpired}, {31, "date", payments.ErrAfterExpiry}}},

		// Items 27–29.
		{name: "zero without a firstPayment", consent: withoutFirstPayment(),
			req:  func(r *payments.Request) { r.Reference = payments.FirstPaymentReference() },
			want: []failure{{27, "paymentReference", payments.ErrPaymentReference}}},
		{name: "recurrence of the wrong interval",
			req:  func(r *payments.Request) { r.Reference = cycleRef(consent.IntervalSemanal, cycleStart) },
			want: []failure{{29, "paymentReference", payments.ErrPaymentReference}}},
		{name: "not a cycle start",
			req:  func(r *payments.Request) { r.Reference = cycleRef(consent.IntervalMensal, date(2025, 8, 24)) },
			want: []failure{{29, "paymentReference", payments.ErrPaymentReference}}},
		{name: "cycle start before referenceStartDate",
			req:  func(r *payments.Request) { r.Reference = cycleRef(consent.IntervalMensal, date(2025, 6, 23)) },
			want: []failure{{29, "paymentReference", payments.ErrPaymentReference}}},
		{name: "legacy label has no 2.2.0 form",
			req: func(r *payments.Request) { r.Reference = legacyRef(consent.IntervalMensal, 2025, 8) },
			want: []failure{{29, "paymentReference", payments.ErrPaymentReference},
				{29, "paymentReference", payments.ErrPaymentReference}}},
		{name: "zero value reference",
			req: func(r *payments.Request) { r.Reference = payments.PaymentReference{} },
			want: []failure{{29, "paymentReference", payments.ErrPaymentReference},
				{29, "paymentReference", payments.ErrPaymentReference},
				{29, "paymentReference", payments.ErrPaymentReference}}},

		// Item 30.
		{name: "today+2 is the first allowed day", req: dated(date(2025, 8, 20))},
		{name: "today+10 is the last allowed day", req: dated(date(2025, 8, 28))},
		{name: "today+1", req: dated(date(2025, 8, 19)), want: []failure{{30, "date", payments.ErrOutsideWindow}}},
		{name: "today+11", req: dated(date(2025, 8, 29)), want: []failure{{30, "date", payments.ErrOutsideWindow}}},
		{name: "window follows Brasília, not UTC", now: brt(2025, 8, 18, 23, 30, 0), req: dated(date(2025, 8, 20))},
		{name: "a minute later the window moved", now: brt(2025, 8, 19, 0, 0, 0), req: dated(date(2025, 8, 20)),
			want: []failure{{30, "date", payments.ErrOutsideWindow}}},
		{name: "zero date", req: func(r *payments.Request) { r.Date = consent.Date{} },
			want: []failure{{30, "date", payments.ErrMissing}}},
		{name: "impossible date", req: func(r *payments.Request) { r.Date = consent.Date{Year: 2025, Month: 2, Day: 30} },
			want: []failure{{30, "date", payments.ErrInvalidFormat}, {46, "endToEndId", payments.ErrE2EIDMismatch}}},

		// Items 31–32.
		{name: "on the expiry date", consent: withExpiry(payDay)},
		{name: "after the expiry date", consent: withExpiry(payDay.AddDays(-1)),
			want: []failure{{31, "date", payments.ErrAfterExpiry}}},
		{name: "before referenceStartDate",
			consent: func(c *consent.Consent) {
				c.Automatic().ReferenceStartDate = date(2025, 8, 26)
				c.Automatic().FirstPayment.Date = date(2025, 8, 19)
			},
			req:  func(r *payments.Request) { r.Reference = cycleRef(consent.IntervalMensal, date(2025, 8, 26)) },
			want: []failure{{32, "date", payments.ErrBeforeReferenceStart}}},
		{name: "same day as the first payment",
			consent: func(c *consent.Consent) { c.Automatic().FirstPayment.Date = payDay },
			want:    []failure{{32, "date", payments.ErrBeforeFirstPayment}}},
		{name: "day after the first payment",
			consent: func(c *consent.Consent) { c.Automatic().FirstPayment.Date = payDay.AddDays(-1) }},

		// Item 33.
		{name: "cycle already scheduled",
			existing: []payments.Payment{{ID: "p1", Status: payments.StatusSCHD, PaymentReference: "R/2025-08-23/P1M"}},
			want:     []failure{{33, "paymentReference", payments.ErrDuplicateCycle}}},
		{name: "cycle had a rejected payment",
			existing: []payments.Payment{{ID: "p1", Status: payments.StatusRJCT, PaymentReference: "R/2025-08-23/P1M"}}},

		// Item 34.
		{name: "fixed amount equal", consent: withFixed("150.00")},
		{name: "fixed amount differs", consent: withFixed("149.99"),
			want: []failure{{34, "payment.amount", payments.ErrAmountMismatch}}},
		{name: "above maximumVariableAmount", req: func(r *payments.Request) { r.Amount = amount("500.01") },
			want: []failure{{34, "payment.amount", payments.ErrAmountAboveMaximum}}},
		{name: "below minimumVariableAmount is fine", req: func(r *payments.Request) { r.Amount = amount("0.01") },
			consent: func(c *consent.Consent) { c.Automatic().MinimumVariableAmount = amountPtr("100.00") }},
		{name: "zero amount", req: func(r *payments.Request) { r.Amount = 0 },
			want: []failure{{34, "payment.amount", payments.ErrInvalidAmount}}},

		// Item 39.
		{name: "not the creditor", req: func(r *payments.Request) { r.Document = consent.DocumentFor("99888777000166") },
			want: []failure{{39, "document.identification", payments.ErrDocumentMismatch}}},
		{name: "rel does not match the length",
			req:  func(r *payments.Request) { r.Document.Rel = consent.RelCPF },
			want: []failure{{39, "document.rel", payments.ErrInvalidFormat}}},
		{name: "no document", req: func(r *payments.Request) { r.Document = consent.Document{} },
			want: []failure{{39, "document.identification", payments.ErrMissing}}},
		{name: "alphanumeric CNPJ on 2.2.0",
			consent: func(c *consent.Consent) { c.Creditors[0].CpfCnpj = alnum },
			req:     func(r *payments.Request) { r.Document = consent.DocumentFor(alnum) }},
		{name: "alphanumeric CNPJ on 2.1.0", validator: v210,
			consent: func(c *consent.Consent) { c.Creditors[0].CpfCnpj = alnum },
			req:     func(r *payments.Request) { r.Document = consent.DocumentFor(alnum) },
			want:    []failure{{39, "document.identification", payments.ErrInvalidFormat}}},

		// Item 40.
		{name: "no cnpjInitiator", req: func(r *payments.Request) { r.CNPJInitiator = "" },
			want: []failure{{40, "cnpjInitiator", payments.ErrMissing}}},
		{name: "malformed cnpjInitiator", req: func(r *payments.Request) { r.CNPJInitiator = "5068536200013" },
			want: []failure{{40, "cnpjInitiator", payments.ErrInvalidFormat}}},
		{name: "another ITP's CNPJ", validator: payments.Validator{CNPJInitiator: "11111111000191"},
			want: []failure{{40, "cnpjInitiator", payments.ErrInitiatorMismatch}}},
		{name: "alphanumeric cnpjInitiator on 2.1.0", validator: v210, req: func(r *payments.Request) { r.CNPJInitiator = alnum },
			want: []failure{{40, "cnpjInitiator", payments.ErrInvalidFormat}}},

		// Item 41.
		{name: "no ISPB", req: func(r *payments.Request) { r.CreditorAccount.ISPB = "" },
			want: []failure{{41, "creditorAccount.ispb", payments.ErrInvalidAccount}}},
		{name: "alphanumeric ISPB on 2.2.0", req: func(r *payments.Request) { r.CreditorAccount.ISPB = "AB12CD34" }},
		{name: "alphanumeric ISPB on 2.1.0", validator: v210, req: func(r *payments.Request) { r.CreditorAccount.ISPB = "AB12CD34" },
			want: []failure{{41, "creditorAccount.ispb", payments.ErrInvalidAccount}}},
		{name: "CACC without issuer", req: func(r *payments.Request) { r.CreditorAccount.Issuer = "" },
			want: []failure{{41, "creditorAccount.issuer", payments.ErrInvalidAccount}}},
		{name: "TRAN without issuer",
			req: func(r *payments.Request) {
				r.CreditorAccount.Issuer, r.CreditorAccount.AccountType = "", consent.AccountTRAN
			}},
		{name: "issuer of 5 digits", req: func(r *payments.Request) { r.CreditorAccount.Issuer = "12345" },
			want: []failure{{41, "creditorAccount.issuer", payments.ErrInvalidAccount}}},
		{name: "letters in the number", req: func(r *payments.Request) { r.CreditorAccount.Number = "12345X" },
			want: []failure{{41, "creditorAccount.number", payments.ErrInvalidAccount}}},
		{name: "unknown account type", req: func(r *payments.Request) { r.CreditorAccount.AccountType = "SLRY" },
			want: []failure{{41, "creditorAccount.accountType", payments.ErrInvalidAccount}}},
		{name: "no account type", req: func(r *payments.Request) { r.CreditorAccount.AccountType = "" },
			want: []failure{{41, "creditorAccount.accountType", payments.ErrInvalidAccount}}},

		// Items 42–44.
		{name: "ibgeTownCode", req: func(r *payments.Request) { r.IBGETownCode = "5300108" }},
		{name: "ibgeTownCode of 6 digits", req: func(r *payments.Request) { r.IBGETownCode = "530010" },
			want: []failure{{42, "ibgeTownCode", payments.ErrInvalidFormat}}},
		{name: "remittance of 140 characters", req: func(r *payments.Request) { r.RemittanceInformation = strings.Repeat("ç", 140) }},
		{name: "remittance of 141 characters", req: func(r *payments.Request) { r.RemittanceInformation = strings.Repeat("ç", 141) },
			want: []failure{{43, "remittanceInformation", payments.ErrTooLong}}},
		{name: "explicit hybrid flow", req: func(r *payments.Request) { r.AuthorisationFlow = payments.FlowHybrid }},
		{name: "FIDO with consent id",
			req: func(r *payments.Request) { r.AuthorisationFlow, r.ConsentID = payments.FlowFIDO, consentID }},
		{name: "FIDO without consent id", req: func(r *payments.Request) { r.AuthorisationFlow = payments.FlowFIDO },
			want: []failure{{44, "recurringConsentId", payments.ErrMissing}}},
		{name: "unknown flow", req: func(r *payments.Request) { r.AuthorisationFlow = "PIGEON_FLOW" },
			want: []failure{{44, "authorisationFlow", payments.ErrInvalidFormat}}},
		{name: "another consent's id", req: func(r *payments.Request) { r.ConsentID = "urn:bancoex:OTHER" },
			want: []failure{{44, "recurringConsentId", payments.ErrConsentMismatch}}},
		{name: "malformed consent id", req: func(r *payments.Request) { r.ConsentID = "C1DD33123" },
			want: []failure{{44, "recurringConsentId", payments.ErrInvalidFormat}}},

		// Items 45–48.
		{name: "no E2EID", req: func(r *payments.Request) { r.EndToEndID = "" },
			want: []failure{{45, "endToEndId", payments.ErrMissing}}},
		{name: "malformed E2EID", req: func(r *payments.Request) { r.EndToEndID = "E123" },
			want: []failure{{45, "endToEndId", payments.ErrInvalidE2EID}}},
		{name: "another ISPB", validator: payments.Validator{ISPB: "99999999"},
			want: []failure{{45, "endToEndId", payments.ErrE2EIDMismatch}}},
		{name: "alphanumeric E2EID ISPB on 2.1.0", validator: v210,
			req:  func(r *payments.Request) { r.EndToEndID = "EAB12CD34" + r.EndToEndID[9:] },
			want: []failure{{45, "endToEndId", payments.ErrInvalidFormat}}},
		{name: "E2EID of another date", req: func(r *payments.Request) { r.EndToEndID = scheduledE2E(payDay.AddDays(1), "abcdefghijk") },
			want: []failure{{46, "endToEndId", payments.ErrE2EIDMismatch}}},
		{name: "E2EID at 14:00 UTC", req: func(r *payments.Request) { r.EndToEndID = strings.Replace(r.EndToEndID, "1500", "1400", 1) },
			want: []failure{{46, "endToEndId", payments.ErrE2EIDMismatch}}},
		{name: "E2EID on 30 February", req: func(r *payments.Request) { r.EndToEndID = "E1234567820250230150000000000000" },
			want: []failure{{47, "endToEndId", payments.ErrInvalidE2EID}}},
		{name: "E2EID reused", existing: []payments.Payment{{ID: "old", Status: payments.StatusRJCT,
			EndToEndID: scheduledE2E(payDay, "abcdefghijk"), PaymentReference: "R/2025-07-23/P1M"}},
			want: []failure{{48, "endToEndId", payments.ErrE2EIDReused}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := recurrence(cycleStart, payDay)
			if tt.req != nil {
				tt.req(r)
			}
			var c *consent.Consent
			if !tt.nilCons {
				c = newConsent()
				if tt.consent != nil {
					tt.consent(c)
				}
			}
			now := tt.now
			if now.IsZero() {
				now = createNow
			}
			err := tt.validator.ValidateCreate(r, c, tt.existing, now)
			requireFailures(t, err, tt.want)
		})
	}
}

func TestValidateCreateFirstPayment(t *testing.T) {
	t.Parallel()
	now := brt(2025, 7, 18, 22, 30, 0) // 01:30 UTC on the 19th
	today := date(2025, 7, 18)
	immediate := "E12345678" + "202507190130" + "imm00000001"
	tests := []struct {
		name     string
		req      *payments.Request
		existing []payments.Payment
		fpDate   consent.Date // the consent's firstPayment.date, when not the request's
		want     []failure
	}{
		{name: "immediate, E2EID at the current UTC minute", req: firstPayment(today, immediate)},
		{name: "immediate, E2EID 11h away", req: firstPayment(today, "E12345678"+"202507191230"+"imm00000001")},
		{name: "immediate, E2EID 13h away", req: firstPayment(today, "E12345678"+"202507181230"+"imm00000001"),
			want: []failure{{46, "endToEndId", payments.ErrE2EIDMismatch}}},
		{name: "scheduled on the consent's date", req: firstPayment(date(2025, 7, 20), scheduledE2E(date(2025, 7, 20), "sched000001"))},
		{name: "scheduled tomorrow (no 2–10 day rule)", req: firstPayment(date(2025, 7, 19), scheduledE2E(date(2025, 7, 19), "sched000001"))},
		{name: "scheduled with the current time as E2EID", req: firstPayment(date(2025, 7, 20), immediate),
			want: []failure{{46, "endToEndId", payments.ErrE2EIDMismatch}}},
		{name: "yesterday", req: firstPayment(date(2025, 7, 17), scheduledE2E(date(2025, 7, 17), "sched000001")),
			want: []failure{{30, "date", payments.ErrOutsideWindow}}},
		{name: "other amount", req: func() *payments.Request {
			r := firstPayment(today, immediate)
			r.Amount = amount("99.91")
			return r
		}(), want: []failure{{28, "payment.amount", payments.ErrAmountMismatch}}},
		{name: "other account", req: func() *payments.Request {
			r := firstPayment(today, immediate)
			r.CreditorAccount.Number = "999"
			return r
		}(), want: []failure{{28, "creditorAccount", payments.ErrCreditorAccountMismatch}}},
		{name: "amount is not bound by the cap", req: func() *payments.Request {
			r := firstPayment(today, immediate)
			r.Amount = amount("600.00")
			return r
		}(), want: []failure{{28, "payment.amount", payments.ErrAmountMismatch}}},
		{name: "first payment already scheduled", req: firstPayment(today, immediate),
			existing: []payments.Payment{{ID: "p0", Status: payments.StatusSCHD, PaymentReference: "zero"}},
			want:     []failure{{33, "paymentReference", payments.ErrDuplicateCycle}}},
		{name: "first payment rejected before", req: firstPayment(today, immediate),
			existing: []payments.Payment{{ID: "p0", Status: payments.StatusRJCT, PaymentReference: "zero"}}},
		{name: "other date than firstPayment.date", req: firstPayment(date(2025, 7, 20), scheduledE2E(date(2025, 7, 20), "sched000001")),
			fpDate: date(2025, 7, 21), want: []failure{{28, "date", payments.ErrFirstPaymentDate}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var v payments.Validator
			// The consent declares the request's date, unless the case
			// says otherwise: the first payment carries exactly it.
			c := newConsent()
			c.Automatic().FirstPayment.Date = tt.req.Date
			if !tt.fpDate.IsZero() {
				c.Automatic().FirstPayment.Date = tt.fpDate
			}
			requireFailures(t, v.ValidateCreate(tt.req, c, tt.existing, now), tt.want)
		})
	}
}

// TestValidateCreateReportsEverything checks that every failure is
// reported, not only the first, and that nil inputs do not panic.
func TestValidateCreateReportsEverything(t *testing.T) {
	t.Parallel()
	var v *payments.Validator // a nil validator is the zero one
	err := v.ValidateCreate(&payments.Request{}, newConsent(withStatus(consent.StatusRevoked)), nil, createNow)
	requireFailures(t, err, []failure{
		{26, "consent.status", payments.ErrConsentNotAuthorised},
		{29, "paymentReference", payments.ErrPaymentReference},
		{29, "paymentReference", payments.ErrPaymentReference},
		{29, "paymentReference", payments.ErrPaymentReference},
		{30, "date", payments.ErrMissing},
		{34, "payment.amount", payments.ErrInvalidAmount},
		{39, "document.identification", payments.ErrMissing},
		{40, "cnpjInitiator", payments.ErrMissing},
		{41, "creditorAccount.ispb", payments.ErrInvalidAccount},
		{41, "creditorAccount.number", payments.ErrInvalidAccount},
		{41, "creditorAccount.accountType", payments.ErrInvalidAccount},
		{45, "endToEndId", payments.ErrMissing},
	})
	require.Len(t, strings.Split(err.Error(), "\n"), 12)

	requireFailures(t, v.ValidateCreate(nil, nil, nil, time.Time{}), []failure{{27, "data", payments.ErrMissing}})
	err = v.ValidateCreate(&payments.Request{}, nil, nil, time.Time{})
	require.ErrorIs(t, err, payments.ErrNotAutomatic)
	require.NotPanics(t, func() {
		c := &consent.Consent{RecurringConfiguration: consent.RecurringConfiguration{Automatic: &consent.Automatic{}}}
		_ = v.ValidateCreate(&payments.Request{Reference: payments.FirstPaymentReference()}, c, []payments.Payment{{}}, time.Time{})
		_ = v.ValidateCreate(recurrence(cycleStart, payDay), c, nil, time.Time{})
	})
}

// Retry scenario: the original of D = 2025-08-25 failed in the holder's
// second window; now is D 21:30 Brasília.
func TestValidateRetry(t *testing.T) {
	t.Parallel()
	saldo := payments.RejectionSaldoInsuficiente
	spi := payments.RejectionFalhaInfraestruturaSPI
	failedEvening := with(original(saldo), func(a *payments.Attempt) { a.StatusUpdated = on(0, 19, 0, 0) })
	nextDay := func(rt *payments.Retry) {}
	retryOn := func(n int) func(*payments.Retry) {
		return func(rt *payments.Retry) {
			rt.Date = settlementDay.AddDays(n)
			rt.EndToEndID = scheduledE2E(rt.Date, "newretry001")
		}
	}
	tests := []struct {
		name      string
		chain     payments.Chain
		consent   *consent.Consent
		now       time.Time
		retry     func(*payments.Retry)
		validator payments.Validator
		want      []failure
	}{
		{name: "valid extraday", chain: payments.NewChain(failedEvening), retry: nextDay},
		{name: "valid on 2.1.0 with the original", validator: payments.Validator{Version: payments.V210},
			chain: payments.NewChain(failedEvening), retry: nextDay},
		{name: "valid intraday", chain: payments.NewChain(original(spi)), now: on(0, 11, 59, 59), retry: retryOn(0)},
		{name: "nil retry", chain: payments.NewChain(failedEvening),
			want: []failure{{52, "data", payments.ErrMissing}}},
		{name: "empty chain", chain: payments.Chain{}, retry: nextDay,
			want: []failure{{52, "originalRecurringPaymentId", payments.ErrMissing}}},
		{name: "retry of a retry", chain: payments.NewChain(failedEvening),
			retry: func(rt *payments.Retry) { rt.OriginalID = "r1" },
			want:  []failure{{52, "originalRecurringPaymentId", payments.ErrNotOriginal}}},
		{name: "last attempt not rejected", chain: payments.NewChain(with(failedEvening, func(a *payments.Attempt) { a.Status = payments.StatusSCHD })),
			retry: nextDay, want: []failure{{51, "status", payments.ErrNotRetryable}}},
		{name: "never-retry reason", chain: payments.NewChain(original(payments.RejectionValorInvalido)), retry: nextDay,
			want: []failure{{56, "rejectionReason.code", payments.ErrNotRetryable}}},
		{name: "revoked consent", consent: newConsent(withStatus(consent.StatusRevoked)),
			chain: payments.NewChain(failedEvening), retry: nextDay,
			want: []failure{{26, "consent.status", payments.ErrConsentNotAuthorised}}},
		{name: "intraday at noon", chain: payments.NewChain(original(spi)), now: on(0, 12, 0, 0), retry: retryOn(0),
			want: []failure{{53, "date", payments.ErrRetryWindow}}},
		{name: "intraday for a reason the holder retries", chain: payments.NewChain(original(saldo)), now: on(0, 9, 0, 0), retry: retryOn(0),
			want: []failure{{53, "date", payments.ErrNotRetryable}}},
		{name: "second intraday", chain: payments.NewChain(original(spi), intraday(0, spi)), now: on(0, 11, 0, 0), retry: retryOn(0),
			want: []failure{{53, "date", payments.ErrRetryLimit}}},
		{name: "intraday the day after", chain: payments.NewChain(original(spi)), now: on(1, 9, 0, 0), retry: retryOn(1),
			want: []failure{{53, "date", payments.ErrRetryWindow}}},
		{name: "extraday not accepted", consent: newConsent(withRetryAccepted(false)), chain: payments.NewChain(failedEvening), retry: nextDay,
			want: []failure{{54, "date", payments.ErrRetryNotAccepted}}},
		{name: "extraday on day 7", chain: payments.NewChain(failedEvening), now: on(6, 10, 0, 0), retry: retryOn(7)},
		{name: "extraday on day 8", chain: payments.NewChain(failedEvening), now: on(7, 10, 0, 0), retry: retryOn(8),
			want: []failure{{54, "date", payments.ErrRetryWindow}}},
		{name: "weekly on day 6, 7-day reading", consent: newConsent(withInterval(consent.IntervalSemanal)),
			chain: payments.NewChain(failedEvening), now: on(5, 10, 0, 0), retry: retryOn(6)},
		{name: "weekly on day 6, 5-day reading", consent: newConsent(withInterval(consent.IntervalSemanal)),
			validator: payments.Validator{WeeklyFiveDays: true},
			chain:     payments.NewChain(failedEvening), now: on(5, 10, 0, 0), retry: retryOn(6),
			want: []failure{{54, "date", payments.ErrRetryWindow}}},
		{name: "after the consent's last day", consent: newConsent(withExpiry(settlementDay)),
			chain: payments.NewChain(failedEvening), now: on(0, 20, 0, 0), retry: nextDay,
			want: []failure{{54, "date", payments.ErrAfterExpiry}}},
		{name: "fourth extraday", chain: payments.NewChain(original(saldo), extraday(1, saldo), extraday(2, saldo), extraday(3, saldo)),
			now: on(3, 21, 30, 0), retry: retryOn(4), want: []failure{{55, "date", payments.ErrRetryLimit}}},
		{name: "date already used", chain: payments.NewChain(original(saldo),
			with(extraday(1, saldo), func(a *payments.Attempt) { a.Created = on(-2, 9, 0, 0) }), intraday(0, saldo)),
			retry: nextDay, want: []failure{{55, "date", payments.ErrDateReused}}},
		{name: "two days ahead", chain: payments.NewChain(failedEvening), retry: retryOn(2),
			want: []failure{{54, "date", payments.ErrRetryWindow}}},
		{name: "zero date", chain: payments.NewChain(failedEvening), retry: func(rt *payments.Retry) { rt.Date = consent.Date{} },
			want: []failure{{54, "date", payments.ErrMissing}}},
		{name: "E2EID of the original's date", chain: payments.NewChain(failedEvening),
			retry: func(rt *payments.Retry) { rt.EndToEndID = scheduledE2E(settlementDay, "newretry001") },
			want:  []failure{{57, "endToEndId", payments.ErrE2EIDMismatch}}},
		{name: "E2EID of the original", chain: payments.NewChain(with(failedEvening, func(a *payments.Attempt) {
			a.EndToEndID = scheduledE2E(settlementDay.AddDays(1), "newretry001")
		})), retry: nextDay, want: []failure{{48, "endToEndId", payments.ErrE2EIDReused}}},
		{name: "malformed E2EID", chain: payments.NewChain(failedEvening), retry: func(rt *payments.Retry) { rt.EndToEndID = "E1" },
			want: []failure{{57, "endToEndId", payments.ErrInvalidE2EID}}},
		{name: "2.1.0 needs the original request", validator: payments.Validator{Version: payments.V210},
			chain: payments.NewChain(failedEvening), retry: func(rt *payments.Retry) { rt.Original = nil },
			want: []failure{{58, "data", payments.ErrMissing}}},
		{name: "2.2.0 does not", chain: payments.NewChain(failedEvening), retry: func(rt *payments.Retry) { rt.Original = nil }},
		{name: "early draft needs the failed attempts", validator: payments.Validator{Version: payments.V200Beta1},
			chain: payments.NewChain(failedEvening), retry: func(rt *payments.Retry) { rt.FailedAttemptIDs = nil },
			want: []failure{{58, "lastRetryRecurringPaymentIds", payments.ErrInvalidFormat}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := tt.consent
			if c == nil {
				c = newConsent()
			}
			now := tt.now
			if now.IsZero() {
				now = on(0, 21, 30, 0)
			}
			var rt *payments.Retry
			if tt.retry != nil {
				d := settlementDay.AddDays(1)
				rt = &payments.Retry{
					OriginalID: "orig", Date: d, EndToEndID: scheduledE2E(d, "newretry001"),
					Original:         recurrence(date(2025, 7, 23), settlementDay),
					FailedAttemptIDs: tt.chain.FailedAttemptIDs(),
				}
				tt.retry(rt)
			}
			requireFailures(t, tt.validator.ValidateRetry(rt, tt.chain, c, now), tt.want)
		})
	}
}

// TestValidateAgreesWithDecide checks that every retry Decide proposes
// passes ValidateRetry.
func TestValidateAgreesWithDecide(t *testing.T) {
	t.Parallel()
	codes := []payments.RejectionCode{
		payments.RejectionNaoInformado, payments.RejectionSaldoInsuficiente,
		payments.RejectionFalhaInfraestruturaDetentora, payments.RejectionDetalheTentativaInvalido,
	}
	retries := 0
	for _, code := range codes {
		for day := 0; day < 9; day++ {
			for _, h := range []int{0, 6, 11, 12, 18, 20, 21, 23} {
				now := on(day, h, 30, 0)
				chain := payments.NewChain(original(code))
				d := payments.Decide(chain, newConsent(), now, payments.RetryPolicy{})
				if !d.IsRetry() {
					continue
				}
				retries++
				rt, err := payments.PlanRetry(chain, d, recurrence(date(2025, 8, 23), settlementDay), newGen())
				require.NoError(t, err)
				require.NoError(t, (&payments.Validator{ISPB: itpISPB}).ValidateRetry(&rt, chain, newConsent(), now),
					"%s at %s: %s", code, now, d.Message)
			}
		}
	}
	require.Greater(t, retries, 50)
}
