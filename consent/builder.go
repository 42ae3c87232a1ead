package consent

import "time"

// Amounts are the amount terms of a Pix Automático consent. The only way to
// get one is Fixed or Variable, so a consent assembled with NewAutomatic
// never carries fixedAmount together with maximumVariableAmount or
// minimumVariableAmount. The zero value is an uncapped variable consent.
type Amounts struct {
	fixed, maximum, minimum Amount // 0 = absent; 0.00 is never a valid amount
}

// Fixed returns the terms of a fixed-amount consent: every recurrence
// charges exactly amount.
func Fixed(amount Amount) Amounts { return Amounts{fixed: amount} }

// Variable returns the terms of a variable-amount consent. maximum is the
// payer's cap per charge and minimum the receiver's floor for that cap (not a
// minimum charge); 0 leaves either out, so Variable(0, 0) is an uncapped
// consent.
func Variable(maximum, minimum Amount) Amounts {
	return Amounts{maximum: maximum, minimum: minimum}
}

// apply writes the terms into a, replacing any amounts it had.
func (t Amounts) apply(a *Automatic) {
	a.FixedAmount = optionalAmount(t.fixed)
	a.MaximumVariableAmount = optionalAmount(t.maximum)
	a.MinimumVariableAmount = optionalAmount(t.minimum)
}

func optionalAmount(a Amount) *Amount {
	if a == 0 {
		return nil
	}
	return &a
}

// AutomaticOption sets an optional part of a Pix Automático configuration.
type AutomaticOption func(*Automatic)

// WithRetries records the payer's permission for extraday retries
// (isRetryAccepted = true). Without it, isRetryAccepted is sent as false.
func WithRetries() AutomaticOption {
	return func(a *Automatic) { a.IsRetryAccepted = true }
}

// WithFirstPayment declares the sign-up payment (pagamento inicial avulso),
// settled on date (Brasília) into account. The payment itself is created
// later with paymentReference "zero" and exactly these values.
func WithFirstPayment(date Date, amount Amount, account Account, remittance string) AutomaticOption {
	return func(a *Automatic) {
		a.FirstPayment = &FirstPayment{
			Type:                  "PIX",
			Date:                  date,
			Currency:              "BRL",
			Amount:                amount,
			RemittanceInformation: remittance,
			CreditorAccount:       account,
		}
	}
}

// NewAutomatic assembles recurringConfiguration.automatic from its required
// fields, the amount terms (Fixed or Variable) and options. It does not
// validate; ValidateCreate does. Building an Automatic as a struct literal is
// equally supported.
func NewAutomatic(contractID string, interval Interval, referenceStart Date, debtor ContractDebtor,
	amounts Amounts, opts ...AutomaticOption) *Automatic {
	a := &Automatic{
		ContractID:         contractID,
		Interval:           interval,
		ReferenceStartDate: referenceStart,
		ContractDebtor:     debtor,
	}
	amounts.apply(a)
	for _, opt := range opts {
		if opt != nil {
			opt(a)
		}
	}
	return a
}

// NewCreditor returns the creditor of a Pix Automático consent: a
// PESSOA_JURIDICA identified by its CNPJ.
func NewCreditor(cnpj, name string) Creditor {
	return Creditor{PersonType: PessoaJuridica, CpfCnpj: cnpj, Name: name}
}

// NewLoggedUser returns the loggedUser for the CPF of the user logged in at
// the ITP.
func NewLoggedUser(cpf string) LoggedUser {
	return LoggedUser{Document: Document{Identification: cpf, Rel: RelCPF}}
}

// ExpirationOn returns 23:59:59 UTC of d, the only time of day the spec
// allows for a Pix Automático expirationDateTime (20:59:59 in Brasília, so
// that the last day's second settlement window fits).
func ExpirationOn(d Date) *DateTime {
	t := DateTime{time.Date(d.Year, d.Month, d.Day, 23, 59, 59, 0, time.UTC)}
	return &t
}

// CreateOption sets an optional field of a CreateRequest.
type CreateOption func(*CreateRequest)

// WithExpiration makes the consent expire at the end of d (ExpirationOn).
// Without it the consent has no end date.
func WithExpiration(d Date) CreateOption {
	return func(r *CreateRequest) { r.ExpirationDateTime = ExpirationOn(d) }
}

// WithBusinessEntity records that the logged user acts for the company cnpj.
func WithBusinessEntity(cnpj string) CreateOption {
	return func(r *CreateRequest) {
		r.BusinessEntity = &BusinessEntity{Document: Document{Identification: cnpj, Rel: RelCNPJ}}
	}
}

// WithDebtorAccount sends the payer's account when the ITP collected it; the
// payer may still change it while authorising.
func WithDebtorAccount(a Account) CreateOption {
	return func(r *CreateRequest) { r.DebtorAccount = &a }
}

// WithAdditionalInformation sends the payer's free text (at most 140
// characters).
func WithAdditionalInformation(s string) CreateOption {
	return func(r *CreateRequest) { r.AdditionalInformation = s }
}

// NewCreateRequest assembles the data of POST /recurring-consents for a Pix
// Automático consent with one creditor. It does not validate; call
// ValidateCreate before sending. A CreateRequest struct literal is equally
// supported.
func NewCreateRequest(user LoggedUser, creditor Creditor, auto *Automatic, opts ...CreateOption) *CreateRequest {
	r := &CreateRequest{
		LoggedUser:             user,
		Creditors:              []Creditor{creditor},
		RecurringConfiguration: RecurringConfiguration{Automatic: auto},
	}
	for _, opt := range opts {
		if opt != nil {
			opt(r)
		}
	}
	return r
}
