package consent_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/stretchr/testify/require"
)

// testNow is 2026-03-02 12:00 in Brasília (15:00 UTC): today is 2026-03-02.
var testNow = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

func amt(s string) *consent.Amount {
	a := consent.MustAmount(s)
	return &a
}

func ptr[T any](v T) *T { return &v }

// validRequest is a variable, capped Pix Automático request with a first
// payment, an expiry and a debtor account: every optional part is present,
// so that each rule has something to break.
func validRequest() *consent.CreateRequest {
	return &consent.CreateRequest{
		LoggedUser:         consent.NewLoggedUser("12345678901"),
		Creditors:          []consent.Creditor{consent.NewCreditor("12345678000195", "Academia Forma Ltda")},
		ExpirationDateTime: consent.ExpirationOn(consent.NewDate(2027, 3, 1)),
		RecurringConfiguration: consent.RecurringConfiguration{Automatic: &consent.Automatic{
			ContractID:            "CTR2026001",
			MaximumVariableAmount: amt("300.00"),
			MinimumVariableAmount: amt("50.00"),
			Interval:              consent.IntervalMensal,
			ReferenceStartDate:    consent.NewDate(2026, 3, 10),
			IsRetryAccepted:       true,
			ContractDebtor: consent.ContractDebtor{
				Name:     "Ana Souza",
				Document: consent.Document{Identification: "98765432100", Rel: consent.RelCPF},
			},
			FirstPayment: &consent.FirstPayment{
				Type:                  "PIX",
				Date:                  consent.NewDate(2026, 3, 5),
				Currency:              "BRL",
				Amount:                consent.MustAmount("99.90"),
				RemittanceInformation: "Adesão ao plano",
				CreditorAccount: consent.Account{
					ISPB: "12345678", Issuer: "0001", Number: "1234567890", AccountType: consent.AccountCACC,
				},
			},
		}},
		DebtorAccount:         &consent.Account{ISPB: "87654321", Issuer: "1774", Number: "99887766", AccountType: consent.AccountCACC},
		AdditionalInformation: "Plano mensal",
	}
}

func signals() *consent.RiskSignals {
	return &consent.RiskSignals{
		DeviceID:             "00aa11bb22cc33dd",
		IsRootedDevice:       ptr(false),
		ScreenBrightness:     ptr(0.8),
		ElapsedTimeSinceBoot: ptr(int64(6356027)),
		OsVersion:            "14",
		UserTimeZoneOffset:   "-03",
		Language:             "pt",
		ScreenDimensions:     consent.ScreenDimensions{Height: 2340, Width: 1080},
		AccountTenure:        consent.NewDate(2020, 5, 21),
	}
}

// consentOpt adjusts a fixture consent.
type consentOpt func(*consent.Consent)

// authorised is an AUTHORISED, variable (max 300.00, min 50.00) consent
// expiring 2027-03-01, as a GET returns it.
func authorised(opts ...consentOpt) *consent.Consent {
	at := consent.NewDateTime(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	c := &consent.Consent{
		RecurringConsentID:   "urn:bancoex:C1DD33123",
		Status:               consent.StatusAuthorised,
		StatusUpdateDateTime: at,
		CreationDateTime:     consent.NewDateTime(time.Date(2026, 3, 1, 9, 50, 0, 0, time.UTC)),
		LoggedUser:           ptr(consent.NewLoggedUser("12345678901")),
		Creditors:            []consent.Creditor{consent.NewCreditor("12345678000195", "Academia Forma Ltda")},
		RecurringConfiguration: consent.RecurringConfiguration{Automatic: &consent.Automatic{
			ContractID:            "CTR2026001",
			MaximumVariableAmount: amt("300.00"),
			MinimumVariableAmount: amt("50.00"),
			Interval:              consent.IntervalMensal,
			ReferenceStartDate:    consent.NewDate(2026, 3, 10),
			IsRetryAccepted:       true,
			UseOverdraftLimit:     ptr(true),
			ContractDebtor: consent.ContractDebtor{
				Name: "Ana Souza", Document: consent.Document{Identification: "98765432100", Rel: consent.RelCPF},
			},
		}},
		ExpirationDateTime: consent.ExpirationOn(consent.NewDate(2027, 3, 1)),
		DebtorAccount: &consent.Account{
			ISPB: "87654321", Issuer: "1774", Number: "99887766", AccountType: consent.AccountCACC, IBGETownCode: "3550308",
		},
		AuthorisedAtDateTime: &at,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

func withStatus(s consent.Status) consentOpt { return func(c *consent.Consent) { c.Status = s } }

func fixedConsent(c *consent.Consent) {
	a := c.RecurringConfiguration.Automatic
	a.FixedAmount, a.MaximumVariableAmount, a.MinimumVariableAmount = amt("120.00"), nil, nil
}

func uncappedConsent(c *consent.Consent) {
	a := c.RecurringConfiguration.Automatic
	a.MaximumVariableAmount, a.MinimumVariableAmount = nil, nil
}

func noExpiry(c *consent.Consent) { c.ExpirationDateTime = nil }

// violation is an expected *ValidationError.
type violation struct {
	field string
	item  int
	err   error
}

func (v violation) String() string { return fmt.Sprintf("%s item %d %v", v.field, v.item, v.err) }

// requireViolations asserts that err is a ValidationErrors containing every
// want (field, checklist item and sentinel).
func requireViolations(t *testing.T, err error, want ...violation) {
	t.Helper()
	require.Error(t, err)
	var ves consent.ValidationErrors
	require.True(t, errors.As(err, &ves), "want ValidationErrors, got %T: %v", err, err)
	for _, w := range want {
		found := false
		for _, ve := range ves {
			if ve.Field == w.field && ve.Item == w.item && errors.Is(ve, w.err) {
				found = true
				break
			}
		}
		require.True(t, found, "want %s among:\n%s", w, describe(ves))
		require.ErrorIs(t, err, w.err)
	}
}

func describe(ves consent.ValidationErrors) string {
	var b strings.Builder
	for _, ve := range ves {
		fmt.Fprintf(&b, "  %s item %d: %v\n", ve.Field, ve.Item, ve)
	}
	return b.String()
}
