package consent_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/stretchr/testify/require"
)

const auto = "recurringConfiguration.automatic."

func automatic(r *consent.CreateRequest) *consent.Automatic {
	return r.RecurringConfiguration.Automatic
}

func TestValidateCreateAcceptsValidRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		now    time.Time
		mutate func(r *consent.CreateRequest)
	}{
		{name: "variable with cap, floor, first payment and expiry"},
		{name: "fixed amount", mutate: func(r *consent.CreateRequest) {
			a := automatic(r)
			a.FixedAmount, a.MaximumVariableAmount, a.MinimumVariableAmount = amt("120.00"), nil, nil
		}},
		{name: "uncapped variable", mutate: func(r *consent.CreateRequest) {
			automatic(r).MaximumVariableAmount, automatic(r).MinimumVariableAmount = nil, nil
		}},
		{name: "floor without cap", mutate: func(r *consent.CreateRequest) { automatic(r).MaximumVariableAmount = nil }},
		{name: "maximum equal to minimum", mutate: func(r *consent.CreateRequest) { automatic(r).MaximumVariableAmount = amt("50.00") }},
		{name: "no first payment, no expiry, no debtor account", mutate: func(r *consent.CreateRequest) {
			automatic(r).FirstPayment, r.ExpirationDateTime, r.DebtorAccount, r.AdditionalInformation = nil, nil, nil, ""
		}},
		{name: "alphanumeric CNPJ and ISPB (2.2.0)", mutate: func(r *consent.CreateRequest) {
			r.Creditors[0].CpfCnpj = "12ABC34501DE35"
			r.DebtorAccount.ISPB = "AB12CD34"
		}},
		{name: "contract debtor is a company", mutate: func(r *consent.CreateRequest) {
			automatic(r).ContractDebtor.Document = consent.Document{Identification: "11222333000181", Rel: consent.RelCNPJ}
		}},
		{name: "user acting for a company", mutate: func(r *consent.CreateRequest) {
			r.BusinessEntity = &consent.BusinessEntity{Document: consent.Document{Identification: "11222333000181", Rel: consent.RelCNPJ}}
		}},
		{name: "name of exactly 120 characters", mutate: func(r *consent.CreateRequest) {
			r.Creditors[0].Name = strings.Repeat("Ç", 120)
		}},
		{name: "name with every allowed symbol", mutate: func(r *consent.CreateRequest) {
			r.Creditors[0].Name = `Açaí & Cia, S.A. @SP: *+_<>()!?/\$% 'Öø' 123`
		}},
		{name: "additional information of exactly 140 characters", mutate: func(r *consent.CreateRequest) {
			r.AdditionalInformation = strings.Repeat("ç", 140)
		}},
		{name: "TRAN account without issuer", mutate: func(r *consent.CreateRequest) {
			r.DebtorAccount.AccountType, r.DebtorAccount.Issuer = consent.AccountTRAN, ""
		}},
		{name: "reference start today, first payment dropped", mutate: func(r *consent.CreateRequest) {
			automatic(r).ReferenceStartDate, automatic(r).FirstPayment = consent.NewDate(2026, 3, 2), nil
		}},
		{name: "first payment today", mutate: func(r *consent.CreateRequest) {
			automatic(r).FirstPayment.Date = consent.NewDate(2026, 3, 2)
		}},
		{name: "today is taken in Brasília, not UTC",
			// 2026-03-03 01:00 UTC is still 2026-03-02 in Brasília.
			now: time.Date(2026, 3, 3, 1, 0, 0, 0, time.UTC),
			mutate: func(r *consent.CreateRequest) {
				automatic(r).ReferenceStartDate, automatic(r).FirstPayment = consent.NewDate(2026, 3, 2), nil
			}},
		{name: "reference start yesterday in UTC but today in Brasília",
			// 2026-03-02 02:00 UTC is 2026-03-01 23:00 in Brasília.
			now: time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC),
			mutate: func(r *consent.CreateRequest) {
				automatic(r).ReferenceStartDate, automatic(r).FirstPayment = consent.NewDate(2026, 3, 1), nil
			}},
		{name: "expiry given in Brasília time at 20:59:59", mutate: func(r *consent.CreateRequest) {
			r.ExpirationDateTime = &consent.DateTime{Time: time.Date(2027, 3, 1, 20, 59, 59, 0, consent.Brasilia)}
		}},
		{name: "expiry on the reference start date", mutate: func(r *consent.CreateRequest) {
			r.ExpirationDateTime = consent.ExpirationOn(consent.NewDate(2026, 3, 10))
		}},
		{name: "journey with a URN", mutate: func(r *consent.CreateRequest) {
			r.Journey = &consent.Journey{IsLinked: true, LinkID: "urn:bancoex:C1DD331237"}
		}},
		{name: "sweeping and vrp explicitly null", mutate: func(r *consent.CreateRequest) {
			r.RecurringConfiguration.Sweeping = json.RawMessage("null")
			r.RecurringConfiguration.Vrp = json.RawMessage(" null ")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := validRequest()
			if tt.mutate != nil {
				tt.mutate(r)
			}
			now := tt.now
			if now.IsZero() {
				now = testNow
			}
			require.NoError(t, consent.ValidateCreate(r, now))
		})
	}
}

// Every checklist rule of items 9–25 and every schema limit has a case here;
// removing the rule from ValidateCreate makes its case fail.
func TestValidateCreateRules(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name   string
		now    time.Time
		mutate func(r *consent.CreateRequest)
		want   []violation
	}{
		// Item 9: one PJ creditor with a CNPJ.
		{name: "no creditor", mutate: func(r *consent.CreateRequest) { r.Creditors = nil },
			want: []violation{{"creditors", 9, consent.ErrRequired}}},
		{name: "two creditors", mutate: func(r *consent.CreateRequest) {
			r.Creditors = append(r.Creditors, consent.NewCreditor("11222333000181", "Outra Empresa"))
		}, want: []violation{{"creditors", 9, consent.ErrNotAllowed}}},
		{name: "creditor is a natural person", mutate: func(r *consent.CreateRequest) {
			r.Creditors[0].PersonType = consent.PessoaNatural
		}, want: []violation{{"creditors[0].personType", 9, consent.ErrNotAllowed}}},
		{name: "creditor person type missing", mutate: func(r *consent.CreateRequest) { r.Creditors[0].PersonType = "" },
			want: []violation{{"creditors[0].personType", 9, consent.ErrRequired}}},
		{name: "creditor identified by CPF", mutate: func(r *consent.CreateRequest) { r.Creditors[0].CpfCnpj = "12345678901" },
			want: []violation{{"creditors[0].cpfCnpj", 9, consent.ErrFormat}}},
		{name: "creditor CNPJ with lowercase letters", mutate: func(r *consent.CreateRequest) { r.Creditors[0].CpfCnpj = "12abc34501de35" },
			want: []violation{{"creditors[0].cpfCnpj", 9, consent.ErrFormat}}},
		{name: "creditor CNPJ missing", mutate: func(r *consent.CreateRequest) { r.Creditors[0].CpfCnpj = "" },
			want: []violation{{"creditors[0].cpfCnpj", 9, consent.ErrRequired}}},

		// Item 10: names.
		{name: "creditor name missing", mutate: func(r *consent.CreateRequest) { r.Creditors[0].Name = "" },
			want: []violation{{"creditors[0].name", 10, consent.ErrRequired}}},
		{name: "creditor name of 121 characters", mutate: func(r *consent.CreateRequest) { r.Creditors[0].Name = strings.Repeat("Ç", 121) },
			want: []violation{{"creditors[0].name", 10, consent.ErrOutOfRange}}},
		{name: "creditor name with #", mutate: func(r *consent.CreateRequest) { r.Creditors[0].Name = "Loja #1" },
			want: []violation{{"creditors[0].name", 10, consent.ErrFormat}}},
		{name: "creditor name with a newline", mutate: func(r *consent.CreateRequest) { r.Creditors[0].Name = "Loja\nUm" },
			want: []violation{{"creditors[0].name", 10, consent.ErrFormat}}},
		{name: "contract debtor name missing", mutate: func(r *consent.CreateRequest) { automatic(r).ContractDebtor.Name = "" },
			want: []violation{{auto + "contractDebtor.name", 10, consent.ErrRequired}}},
		{name: "contract debtor name with emoji", mutate: func(r *consent.CreateRequest) { automatic(r).ContractDebtor.Name = "Ana 😀" },
			want: []violation{{auto + "contractDebtor.name", 10, consent.ErrFormat}}},
		{name: "contract debtor name too long", mutate: func(r *consent.CreateRequest) { automatic(r).ContractDebtor.Name = long(121) },
			want: []violation{{auto + "contractDebtor.name", 10, consent.ErrOutOfRange}}},

		// Item 11: logged user and business entity.
		{name: "logged user missing", mutate: func(r *consent.CreateRequest) { r.LoggedUser = consent.LoggedUser{} },
			want: []violation{{"loggedUser.document.identification", 11, consent.ErrRequired}, {"loggedUser.document.rel", 11, consent.ErrRequired}}},
		{name: "logged user with 10 digits", mutate: func(r *consent.CreateRequest) { r.LoggedUser.Document.Identification = "1234567890" },
			want: []violation{{"loggedUser.document.identification", 11, consent.ErrFormat}}},
		{name: "logged user with a CNPJ", mutate: func(r *consent.CreateRequest) {
			r.LoggedUser = consent.LoggedUser{Document: consent.DocumentFor("11222333000181")}
		},
			want: []violation{{"loggedUser.document.identification", 11, consent.ErrFormat}, {"loggedUser.document.rel", 11, consent.ErrNotAllowed}}},
		{name: "business entity with a CPF", mutate: func(r *consent.CreateRequest) {
			r.BusinessEntity = &consent.BusinessEntity{Document: consent.Document{Identification: "12345678901", Rel: consent.RelCPF}}
		}, want: []violation{{"businessEntity.document.identification", 11, consent.ErrFormat}, {"businessEntity.document.rel", 11, consent.ErrNotAllowed}}},
		{name: "business entity empty", mutate: func(r *consent.CreateRequest) { r.BusinessEntity = &consent.BusinessEntity{} },
			want: []violation{{"businessEntity.document.identification", 11, consent.ErrRequired}, {"businessEntity.document.rel", 11, consent.ErrRequired}}},

		// Item 12: contractId.
		{name: "contract id missing", mutate: func(r *consent.CreateRequest) { automatic(r).ContractID = "" },
			want: []violation{{auto + "contractId", 12, consent.ErrRequired}}},
		{name: "contract id with a dash", mutate: func(r *consent.CreateRequest) { automatic(r).ContractID = "CTR-1" },
			want: []violation{{auto + "contractId", 12, consent.ErrFormat}}},
		{name: "contract id of 36 characters", mutate: func(r *consent.CreateRequest) { automatic(r).ContractID = long(36) },
			want: []violation{{auto + "contractId", 12, consent.ErrFormat}}},

		// Item 13: interval.
		{name: "interval missing", mutate: func(r *consent.CreateRequest) { automatic(r).Interval = "" },
			want: []violation{{auto + "interval", 13, consent.ErrRequired}}},
		{name: "daily interval", mutate: func(r *consent.CreateRequest) { automatic(r).Interval = "DIARIO" },
			want: []violation{{auto + "interval", 13, consent.ErrNotAllowed}}},

		// Item 14: referenceStartDate.
		{name: "reference start missing", mutate: func(r *consent.CreateRequest) { automatic(r).ReferenceStartDate = consent.Date{} },
			want: []violation{{auto + "referenceStartDate", 14, consent.ErrRequired}}},
		{name: "reference start not a calendar date", mutate: func(r *consent.CreateRequest) {
			automatic(r).ReferenceStartDate = consent.Date{Year: 2026, Month: time.February, Day: 30}
		}, want: []violation{{auto + "referenceStartDate", 14, consent.ErrFormat}}},
		{name: "reference start yesterday", mutate: func(r *consent.CreateRequest) {
			automatic(r).ReferenceStartDate, automatic(r).FirstPayment = consent.NewDate(2026, 3, 1), nil
		}, want: []violation{{auto + "referenceStartDate", 14, consent.ErrOutOfRange}}},

		// Items 16–19: amounts.
		{name: "fixed with maximum", mutate: func(r *consent.CreateRequest) {
			automatic(r).FixedAmount, automatic(r).MinimumVariableAmount = amt("100.00"), nil
		}, want: []violation{{auto + "maximumVariableAmount", 16, consent.ErrConflict}}},
		{name: "fixed with minimum", mutate: func(r *consent.CreateRequest) {
			automatic(r).FixedAmount, automatic(r).MaximumVariableAmount = amt("100.00"), nil
		}, want: []violation{{auto + "minimumVariableAmount", 17, consent.ErrConflict}}},
		{name: "maximum below minimum", mutate: func(r *consent.CreateRequest) { automatic(r).MaximumVariableAmount = amt("49.99") },
			want: []violation{{auto + "maximumVariableAmount", 18, consent.ErrOutOfRange}}},
		{name: "fixed amount zero", mutate: func(r *consent.CreateRequest) {
			a := automatic(r)
			a.FixedAmount, a.MaximumVariableAmount, a.MinimumVariableAmount = amt("0.00"), nil, nil
		}, want: []violation{{auto + "fixedAmount", 19, consent.ErrOutOfRange}}},
		{name: "negative maximum", mutate: func(r *consent.CreateRequest) { automatic(r).MaximumVariableAmount = ptr(consent.Amount(-1)) },
			want: []violation{{auto + "maximumVariableAmount", 19, consent.ErrOutOfRange}}},
		{name: "minimum zero", mutate: func(r *consent.CreateRequest) { automatic(r).MinimumVariableAmount = amt("0.00") },
			want: []violation{{auto + "minimumVariableAmount", 19, consent.ErrOutOfRange}}},
		{name: "maximum beyond the wire format", mutate: func(r *consent.CreateRequest) {
			automatic(r).MaximumVariableAmount = ptr(consent.MaxAmount + 1)
		}, want: []violation{{auto + "maximumVariableAmount", 19, consent.ErrOutOfRange}}},
		{name: "negative first payment", mutate: func(r *consent.CreateRequest) { automatic(r).FirstPayment.Amount = -100 },
			want: []violation{{auto + "firstPayment.amount", 19, consent.ErrOutOfRange}}},

		// Item 20: useOverdraftLimit is never sent.
		{name: "useOverdraftLimit sent", mutate: func(r *consent.CreateRequest) { automatic(r).UseOverdraftLimit = ptr(false) },
			want: []violation{{auto + "useOverdraftLimit", 20, consent.ErrNotAllowed}}},

		// Item 21: expirationDateTime.
		{name: "expiry not at 23:59:59Z", mutate: func(r *consent.CreateRequest) {
			r.ExpirationDateTime = &consent.DateTime{Time: time.Date(2027, 3, 1, 23, 59, 58, 0, time.UTC)}
		}, want: []violation{{"expirationDateTime", 21, consent.ErrFormat}}},
		{name: "expiry at 23:59:59 Brasília", mutate: func(r *consent.CreateRequest) {
			r.ExpirationDateTime = &consent.DateTime{Time: time.Date(2027, 3, 1, 23, 59, 59, 0, consent.Brasilia)}
		}, want: []violation{{"expirationDateTime", 21, consent.ErrFormat}}},
		{name: "expiry with a fraction of a second", mutate: func(r *consent.CreateRequest) {
			r.ExpirationDateTime = &consent.DateTime{Time: time.Date(2027, 3, 1, 23, 59, 59, 5, time.UTC)}
		}, want: []violation{{"expirationDateTime", 21, consent.ErrFormat}}},
		{name: "expiry zero", mutate: func(r *consent.CreateRequest) { r.ExpirationDateTime = &consent.DateTime{} },
			want: []violation{{"expirationDateTime", 21, consent.ErrRequired}}},
		{name: "expiry already past", now: time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC), mutate: func(r *consent.CreateRequest) {
			automatic(r).ReferenceStartDate, automatic(r).FirstPayment = consent.NewDate(2027, 3, 2), nil
		}, want: []violation{{"expirationDateTime", 21, consent.ErrOutOfRange}}},
		{name: "expiry before reference start", mutate: func(r *consent.CreateRequest) {
			r.ExpirationDateTime = consent.ExpirationOn(consent.NewDate(2026, 3, 9))
		}, want: []violation{{"expirationDateTime", 21, consent.ErrOutOfRange}}},

		// Item 22: firstPayment.
		{name: "first payment type not PIX", mutate: func(r *consent.CreateRequest) { automatic(r).FirstPayment.Type = "TED" },
			want: []violation{{auto + "firstPayment.type", 22, consent.ErrNotAllowed}}},
		{name: "first payment type missing", mutate: func(r *consent.CreateRequest) { automatic(r).FirstPayment.Type = "" },
			want: []violation{{auto + "firstPayment.type", 22, consent.ErrRequired}}},
		{name: "first payment in dollars", mutate: func(r *consent.CreateRequest) { automatic(r).FirstPayment.Currency = "USD" },
			want: []violation{{auto + "firstPayment.currency", 22, consent.ErrNotAllowed}}},
		{name: "first payment currency missing", mutate: func(r *consent.CreateRequest) { automatic(r).FirstPayment.Currency = "" },
			want: []violation{{auto + "firstPayment.currency", 22, consent.ErrRequired}}},
		{name: "first payment amount missing", mutate: func(r *consent.CreateRequest) { automatic(r).FirstPayment.Amount = 0 },
			want: []violation{{auto + "firstPayment.amount", 22, consent.ErrRequired}}},
		{name: "first payment yesterday", mutate: func(r *consent.CreateRequest) { automatic(r).FirstPayment.Date = consent.NewDate(2026, 3, 1) },
			want: []violation{{auto + "firstPayment.date", 22, consent.ErrOutOfRange}}},
		{name: "first payment date missing", mutate: func(r *consent.CreateRequest) { automatic(r).FirstPayment.Date = consent.Date{} },
			want: []violation{{auto + "firstPayment.date", 22, consent.ErrRequired}}},
		{name: "reference start on the first payment date", mutate: func(r *consent.CreateRequest) {
			automatic(r).FirstPayment.Date = consent.NewDate(2026, 3, 10)
		}, want: []violation{{auto + "referenceStartDate", 22, consent.ErrOutOfRange}}},
		{name: "reference start before the first payment", mutate: func(r *consent.CreateRequest) {
			automatic(r).FirstPayment.Date = consent.NewDate(2026, 3, 20)
		}, want: []violation{{auto + "referenceStartDate", 22, consent.ErrOutOfRange}}},
		{name: "first payment remittance of 141 characters", mutate: func(r *consent.CreateRequest) {
			automatic(r).FirstPayment.RemittanceInformation = long(141)
		}, want: []violation{{auto + "firstPayment.remittanceInformation", 0, consent.ErrOutOfRange}}},
		{name: "first payment CACC account without issuer", mutate: func(r *consent.CreateRequest) {
			automatic(r).FirstPayment.CreditorAccount.Issuer = ""
		}, want: []violation{{auto + "firstPayment.creditorAccount.issuer", 22, consent.ErrRequired}}},
		{name: "first payment account incomplete", mutate: func(r *consent.CreateRequest) {
			automatic(r).FirstPayment.CreditorAccount = consent.Account{}
		}, want: []violation{
			{auto + "firstPayment.creditorAccount.ispb", 22, consent.ErrRequired},
			{auto + "firstPayment.creditorAccount.number", 22, consent.ErrRequired},
			{auto + "firstPayment.creditorAccount.accountType", 22, consent.ErrRequired},
		}},
		{name: "first payment account with a 7-digit ISPB", mutate: func(r *consent.CreateRequest) {
			automatic(r).FirstPayment.CreditorAccount.ISPB = "1234567"
		}, want: []violation{{auto + "firstPayment.creditorAccount.ispb", 22, consent.ErrFormat}}},
		{name: "first payment account with ibgeTownCode", mutate: func(r *consent.CreateRequest) {
			automatic(r).FirstPayment.CreditorAccount.IBGETownCode = "3550308"
		}, want: []violation{{auto + "firstPayment.creditorAccount.ibgeTownCode", 22, consent.ErrNotAllowed}}},

		// Item 23: debtorAccount.
		{name: "debtor account ISPB lowercase", mutate: func(r *consent.CreateRequest) { r.DebtorAccount.ISPB = "ab12cd34" },
			want: []violation{{"debtorAccount.ispb", 23, consent.ErrFormat}}},
		{name: "debtor account number with letters", mutate: func(r *consent.CreateRequest) { r.DebtorAccount.Number = "12345X" },
			want: []violation{{"debtorAccount.number", 23, consent.ErrFormat}}},
		{name: "debtor account number of 21 digits", mutate: func(r *consent.CreateRequest) { r.DebtorAccount.Number = strings.Repeat("1", 21) },
			want: []violation{{"debtorAccount.number", 23, consent.ErrFormat}}},
		{name: "debtor account of unknown type", mutate: func(r *consent.CreateRequest) { r.DebtorAccount.AccountType = "SLRY" },
			want: []violation{{"debtorAccount.accountType", 23, consent.ErrNotAllowed}}},
		{name: "savings account without issuer", mutate: func(r *consent.CreateRequest) {
			r.DebtorAccount.AccountType, r.DebtorAccount.Issuer = consent.AccountSVGS, ""
		}, want: []violation{{"debtorAccount.issuer", 23, consent.ErrRequired}}},
		{name: "issuer of 5 digits", mutate: func(r *consent.CreateRequest) { r.DebtorAccount.Issuer = "12345" },
			want: []violation{{"debtorAccount.issuer", 23, consent.ErrFormat}}},
		{name: "debtor account with ibgeTownCode", mutate: func(r *consent.CreateRequest) { r.DebtorAccount.IBGETownCode = "3550308" },
			want: []violation{{"debtorAccount.ibgeTownCode", 23, consent.ErrNotAllowed}}},

		// Item 24: additionalInformation.
		{name: "additional information of 141 characters", mutate: func(r *consent.CreateRequest) {
			r.AdditionalInformation = strings.Repeat("ç", 141)
		}, want: []violation{{"additionalInformation", 24, consent.ErrOutOfRange}}},

		// Item 25: no startDateTime (no sweeping configuration) for automatic.
		{name: "sweeping configuration with startDateTime", mutate: func(r *consent.CreateRequest) {
			r.RecurringConfiguration.Sweeping = json.RawMessage(`{"startDateTime":"2026-03-10T00:00:00Z"}`)
		}, want: []violation{{"recurringConfiguration.sweeping", 25, consent.ErrNotAllowed}}},
		{name: "vrp configuration", mutate: func(r *consent.CreateRequest) {
			r.RecurringConfiguration.Vrp = json.RawMessage(`{}`)
		}, want: []violation{{"recurringConfiguration.vrp", 0, consent.ErrNotAllowed}}},
		{name: "no automatic configuration", mutate: func(r *consent.CreateRequest) { r.RecurringConfiguration.Automatic = nil },
			want: []violation{{"recurringConfiguration.automatic", 0, consent.ErrRequired}}},

		// Schema limits outside the checklist.
		{name: "contract debtor document of unknown kind", mutate: func(r *consent.CreateRequest) {
			automatic(r).ContractDebtor.Document.Rel = "RG"
		}, want: []violation{{auto + "contractDebtor.document.rel", 0, consent.ErrNotAllowed}}},
		{name: "contract debtor CPF with 14 digits", mutate: func(r *consent.CreateRequest) {
			automatic(r).ContractDebtor.Document.Identification = "11222333000181"
		}, want: []violation{{auto + "contractDebtor.document.identification", 0, consent.ErrFormat}}},
		{name: "contract debtor CNPJ with 11 digits", mutate: func(r *consent.CreateRequest) {
			automatic(r).ContractDebtor.Document = consent.Document{Identification: "12345678901", Rel: consent.RelCNPJ}
		}, want: []violation{{auto + "contractDebtor.document.identification", 0, consent.ErrFormat}}},
		{name: "contract debtor document missing", mutate: func(r *consent.CreateRequest) {
			automatic(r).ContractDebtor.Document = consent.Document{}
		}, want: []violation{
			{auto + "contractDebtor.document.identification", 0, consent.ErrRequired},
			{auto + "contractDebtor.document.rel", 0, consent.ErrRequired},
		}},
		{name: "contract debtor document rel unknown and number junk", mutate: func(r *consent.CreateRequest) {
			automatic(r).ContractDebtor.Document = consent.Document{Identification: "abc", Rel: "RG"}
		}, want: []violation{{auto + "contractDebtor.document.identification", 0, consent.ErrFormat}}},
		{name: "journey link id not a URN", mutate: func(r *consent.CreateRequest) {
			r.Journey = &consent.Journey{IsLinked: true, LinkID: "C1DD331237"}
		}, want: []violation{{"journey.linkId", 0, consent.ErrFormat}}},
		{name: "journey link id missing", mutate: func(r *consent.CreateRequest) { r.Journey = &consent.Journey{} },
			want: []violation{{"journey.linkId", 0, consent.ErrRequired}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := validRequest()
			tt.mutate(r)
			now := tt.now
			if now.IsZero() {
				now = testNow
			}
			err := consent.ValidateCreate(r, now)
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			requireViolations(t, err, tt.want...)
		})
	}
}

func TestValidateCreateNilSafe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		req  *consent.CreateRequest
		want []violation
	}{
		{name: "nil request", req: nil, want: []violation{{"", 0, consent.ErrRequired}}},
		{name: "zero request", req: &consent.CreateRequest{}, want: []violation{
			{"creditors", 9, consent.ErrRequired},
			{"loggedUser.document.identification", 11, consent.ErrRequired},
			{"recurringConfiguration.automatic", 0, consent.ErrRequired},
		}},
		{name: "zero automatic and zero pointers", req: &consent.CreateRequest{
			Creditors:              []consent.Creditor{{}},
			ExpirationDateTime:     &consent.DateTime{},
			DebtorAccount:          &consent.Account{},
			BusinessEntity:         &consent.BusinessEntity{},
			Journey:                &consent.Journey{},
			RecurringConfiguration: consent.RecurringConfiguration{Automatic: &consent.Automatic{FirstPayment: &consent.FirstPayment{}}},
		}, want: []violation{
			{auto + "contractId", 12, consent.ErrRequired},
			{auto + "firstPayment.date", 22, consent.ErrRequired},
			{"expirationDateTime", 21, consent.ErrRequired},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.NotPanics(t, func() {
				requireViolations(t, consent.ValidateCreate(tt.req, testNow), tt.want...)
			})
		})
	}
}

func TestValidateCreateReportsEveryFailure(t *testing.T) {
	t.Parallel()
	r := validRequest()
	r.Creditors[0].Name = ""
	automatic(r).ContractID = ""
	r.AdditionalInformation = strings.Repeat("x", 141)
	err := consent.ValidateCreate(r, testNow)
	var ves consent.ValidationErrors
	require.ErrorAs(t, err, &ves)
	require.Len(t, ves, 3)
	require.Equal(t, "consent: 3 validation errors: "+
		"creditors[0].name: a name is required (required, checklist item 10); "+
		auto+"contractId: the receiver's contract id is required (required, checklist item 12); "+
		"additionalInformation: must be at most 140 characters (out of range, checklist item 24)", err.Error())
}

// Item 15: isRetryAccepted is always on the wire, even when false.
func TestIsRetryAcceptedAlwaysSent(t *testing.T) {
	t.Parallel()
	r := validRequest()
	automatic(r).IsRetryAccepted = false
	b, err := json.Marshal(r)
	require.NoError(t, err)
	var doc struct {
		RecurringConfiguration struct {
			Automatic map[string]json.RawMessage `json:"automatic"`
		} `json:"recurringConfiguration"`
	}
	require.NoError(t, json.Unmarshal(b, &doc))
	require.Equal(t, "false", string(doc.RecurringConfiguration.Automatic["isRetryAccepted"]))
}

// Item 25: the automatic model has no startDateTime to send.
func TestAutomaticHasNoStartDateTime(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(validRequest())
	require.NoError(t, err)
	require.NotContains(t, string(b), "startDateTime")
	require.NotContains(t, string(b), "useOverdraftLimit")
}
