package consent_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/stretchr/testify/require"
)

func debtor() consent.ContractDebtor {
	return consent.ContractDebtor{Name: "Ana Souza", Document: consent.DocumentFor("98765432100")}
}

func creditorAccount() consent.Account {
	return consent.Account{ISPB: "12345678", Issuer: "0001", Number: "1234567890", AccountType: consent.AccountCACC}
}

func TestAmountsNeverMixFixedAndVariable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                 string
		amounts              consent.Amounts
		wantFixed, wantMax   *consent.Amount
		wantMin              *consent.Amount
		wantValidationErrors bool
	}{
		{name: "fixed", amounts: consent.Fixed(consent.MustAmount("120.00")), wantFixed: amt("120.00")},
		{name: "capped with floor", amounts: consent.Variable(consent.MustAmount("300.00"), consent.MustAmount("50.00")),
			wantMax: amt("300.00"), wantMin: amt("50.00")},
		{name: "capped", amounts: consent.Variable(consent.MustAmount("300.00"), 0), wantMax: amt("300.00")},
		{name: "floor only", amounts: consent.Variable(0, consent.MustAmount("50.00")), wantMin: amt("50.00")},
		{name: "uncapped", amounts: consent.Variable(0, 0)},
		{name: "zero value is uncapped", amounts: consent.Amounts{}},
		{name: "maximum below floor is built, then refused by ValidateCreate",
			amounts: consent.Variable(consent.MustAmount("10.00"), consent.MustAmount("50.00")),
			wantMax: amt("10.00"), wantMin: amt("50.00"), wantValidationErrors: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := consent.NewAutomatic("CTR1", consent.IntervalSemanal, consent.NewDate(2026, 3, 10), debtor(), tt.amounts)
			require.Equal(t, tt.wantFixed, a.FixedAmount)
			require.Equal(t, tt.wantMax, a.MaximumVariableAmount)
			require.Equal(t, tt.wantMin, a.MinimumVariableAmount)
			require.False(t, a.FixedAmount != nil && (a.MaximumVariableAmount != nil || a.MinimumVariableAmount != nil))
			req := consent.NewCreateRequest(consent.NewLoggedUser("12345678901"),
				consent.NewCreditor("12345678000195", "Academia Forma Ltda"), a)
			err := consent.ValidateCreate(req, testNow)
			if tt.wantValidationErrors {
				requireViolations(t, err, violation{auto + "maximumVariableAmount", 18, consent.ErrOutOfRange})
				return
			}
			require.NoError(t, err)
		})
	}
}

func TestNewCreateRequest(t *testing.T) {
	t.Parallel()
	start := consent.NewDate(2026, 3, 10)
	got := consent.NewCreateRequest(
		consent.NewLoggedUser("12345678901"),
		consent.NewCreditor("12345678000195", "Academia Forma Ltda"),
		consent.NewAutomatic("CTR2026001", consent.IntervalMensal, start, debtor(),
			consent.Variable(consent.MustAmount("300.00"), consent.MustAmount("50.00")),
			consent.WithRetries(),
			consent.WithFirstPayment(consent.NewDate(2026, 3, 5), consent.MustAmount("99.90"), creditorAccount(), "Adesão ao plano"),
			nil, // nil options are ignored
		),
		consent.WithExpiration(consent.NewDate(2027, 3, 1)),
		consent.WithDebtorAccount(consent.Account{ISPB: "87654321", Issuer: "1774", Number: "99887766", AccountType: consent.AccountCACC}),
		consent.WithAdditionalInformation("Plano mensal"),
		nil,
	)
	require.Equal(t, validRequest(), got, "the builder and the struct literal are the same request")
	require.NoError(t, consent.ValidateCreate(got, testNow))

	withCompany := consent.NewCreateRequest(consent.NewLoggedUser("12345678901"),
		consent.NewCreditor("12345678000195", "Academia Forma Ltda"),
		consent.NewAutomatic("CTR1", consent.IntervalAnual, start, debtor(), consent.Fixed(consent.MustAmount("1200.00"))),
		consent.WithBusinessEntity("11222333000181"))
	require.Equal(t, &consent.BusinessEntity{Document: consent.Document{Identification: "11222333000181", Rel: consent.RelCNPJ}},
		withCompany.BusinessEntity)
	require.False(t, withCompany.RecurringConfiguration.Automatic.IsRetryAccepted)
	require.Nil(t, withCompany.ExpirationDateTime)
	require.NoError(t, consent.ValidateCreate(withCompany, testNow))
}

func TestExpirationOn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		date consent.Date
		want string
	}{
		{name: "ordinary day", date: consent.NewDate(2027, 3, 1), want: `"2027-03-01T23:59:59Z"`},
		{name: "leap day", date: consent.NewDate(2028, 2, 29), want: `"2028-02-29T23:59:59Z"`},
		{name: "new year's eve", date: consent.NewDate(2026, 12, 31), want: `"2026-12-31T23:59:59Z"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			exp := consent.ExpirationOn(tt.date)
			b, err := json.Marshal(exp)
			require.NoError(t, err)
			require.Equal(t, tt.want, string(b))
			require.Equal(t, tt.date, consent.DateOf(exp.Time, consent.Brasilia), "20:59:59 in Brasília, same day")
			require.Equal(t, time.UTC, exp.Location())
		})
	}
}
