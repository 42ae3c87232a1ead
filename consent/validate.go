package consent

import (
	"bytes"
	"fmt"
	"regexp"
	"time"
	"unicode/utf8"
)

// Patterns and limits of the 2.2.0 schemas used by the client-side checks.
var (
	// nameRE is the spec's pattern for creditors[].name and contractDebtor.name.
	nameRE       = regexp.MustCompile(`^([A-Za-zÀ-ÖØ-öø-ÿ,.@:&*+_<>()!?/\\$%\d' -]+)$`)
	contractIDRE = regexp.MustCompile(`^[a-zA-Z0-9]{1,35}$`)
	ispbRE       = regexp.MustCompile(`^[0-9A-Z]{8}$`)
	issuerRE     = regexp.MustCompile(`^[0-9]{1,4}$`)
	numberRE     = regexp.MustCompile(`^[0-9]{1,20}$`)
	ibgeRE       = regexp.MustCompile(`^\d{7}$`)
	urnRE        = regexp.MustCompile(`^urn:[a-zA-Z0-9][a-zA-Z0-9\-]{0,31}:[a-zA-Z0-9()+,\-.:=@;$_!*'%\/?#]+$`)
	tzOffsetRE   = regexp.MustCompile(`^[+-]\d{2}(:\d{2})?$`)
)

// Length limits (in characters, as JSON Schema counts them).
const (
	MaxNameLength                  = 120  // creditors[].name, contractDebtor.name
	MaxAdditionalInformationLength = 140  // additionalInformation
	MaxRemittanceInformationLength = 140  // firstPayment.remittanceInformation
	MaxReasonDetailLength          = 2048 // rejection/revocation reason.detail
	maxURNLength                   = 256
)

// Checklist items of spec-digest §8 cited by the checks.
const (
	itemCreditor        = 9
	itemName            = 10
	itemLoggedUser      = 11
	itemContractID      = 12
	itemInterval        = 13
	itemReferenceStart  = 14
	itemAmountExclusive = 16
	itemFixedNoMinimum  = 17
	itemMaxAboveMin     = 18
	itemAmountPositive  = 19
	itemNoOverdraft     = 20
	itemExpiration      = 21
	itemFirstPayment    = 22
	itemDebtorAccount   = 23
	itemAdditionalInfo  = 24
	itemNoStartDateTime = 25
	itemRevoke          = 61
	itemReject          = 62
	itemEditAutomatic   = 63
	itemEditSignals     = 64
	itemEditCurrent     = 65
	itemEditLimits      = 66
)

const pathAutomatic = "recurringConfiguration.automatic"

// ValidateCreate checks a Pix Automático consent request before it is sent,
// with the client-side rules of checklist items 9–25 (spec digest §8) and the
// length and pattern limits of the 2.2.0 CreateRecurringConsent schema. now
// is the current instant; "today" is its date in Brasília.
//
// It returns nil or a ValidationErrors listing every failure; each names the
// JSON path of the field, the rule, the checklist item and a sentinel
// (ErrRequired, ErrFormat, ErrNotAllowed, ErrConflict, ErrOutOfRange). It
// never panics, whatever r holds.
//
// Syntax follows 2.2.0, which accepts alphanumeric CNPJs and ISPBs; a 2.0 or
// 2.1 holder accepts digits only. Item 15 (isRetryAccepted is always sent)
// holds by construction: the field has no omitempty. Whether it reflects an
// explicit payer choice cannot be checked here.
func ValidateCreate(r *CreateRequest, now time.Time) error {
	var es ValidationErrors
	if r == nil {
		es.add("", 0, ErrRequired, "the request is nil")
		return es.err()
	}
	checkLoggedUser(&es, "loggedUser", &r.LoggedUser, itemLoggedUser)
	if r.BusinessEntity != nil {
		checkBusinessEntity(&es, "businessEntity", r.BusinessEntity)
	}
	checkCreditors(&es, r.Creditors)
	auto := checkConfiguration(&es, &r.RecurringConfiguration)
	if auto != nil {
		checkAutomatic(&es, auto, Today(now))
	}
	checkCreateExpiration(&es, r.ExpirationDateTime, auto, now)
	if r.DebtorAccount != nil {
		checkAccount(&es, "debtorAccount", r.DebtorAccount, itemDebtorAccount)
	}
	checkMaxLen(&es, "additionalInformation", r.AdditionalInformation, MaxAdditionalInformationLength, itemAdditionalInfo)
	if r.Journey != nil {
		checkURN(&es, "journey.linkId", r.Journey.LinkID)
	}
	return es.err()
}

// checkConfiguration returns the automatic configuration, or nil when absent.
func checkConfiguration(es *ValidationErrors, rc *RecurringConfiguration) *Automatic {
	if present(rc.Sweeping) {
		es.add("recurringConfiguration.sweeping", itemNoStartDateTime, ErrNotAllowed,
			"a Pix Automático consent carries only recurringConfiguration.automatic (sweeping, with its startDateTime, is another product)")
	}
	if present(rc.Vrp) {
		es.add("recurringConfiguration.vrp", 0, ErrNotAllowed,
			"a Pix Automático consent carries only recurringConfiguration.automatic")
	}
	if rc.Automatic == nil {
		es.add(pathAutomatic, 0, ErrRequired, "the Pix Automático configuration is required")
	}
	return rc.Automatic
}

func present(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}

func checkLoggedUser(es *ValidationErrors, path string, u *LoggedUser, item int) {
	id, rel := path+".document.identification", path+".document.rel"
	switch {
	case u.Document.Identification == "":
		es.add(id, item, ErrRequired, "the logged user's CPF is required")
	case !IsCPF(u.Document.Identification):
		es.add(id, item, ErrFormat, `must be a CPF of 11 digits (^\d{11}$)`)
	}
	switch u.Document.Rel {
	case RelCPF:
	case "":
		es.add(rel, item, ErrRequired, "must be CPF")
	default:
		es.add(rel, item, ErrNotAllowed, "must be CPF, not %q", u.Document.Rel)
	}
}

func checkBusinessEntity(es *ValidationErrors, path string, b *BusinessEntity) {
	id, rel := path+".document.identification", path+".document.rel"
	switch {
	case b.Document.Identification == "":
		es.add(id, itemLoggedUser, ErrRequired, "the company's CNPJ is required")
	case !IsCNPJ(b.Document.Identification):
		es.add(id, itemLoggedUser, ErrFormat, "must be a CNPJ (^[0-9A-Z]{12}[0-9]{2}$)")
	}
	switch b.Document.Rel {
	case RelCNPJ:
	case "":
		es.add(rel, itemLoggedUser, ErrRequired, "must be CNPJ")
	default:
		es.add(rel, itemLoggedUser, ErrNotAllowed, "must be CNPJ, not %q", b.Document.Rel)
	}
}

func checkCreditors(es *ValidationErrors, cs []Creditor) {
	switch len(cs) {
	case 0:
		es.add("creditors", itemCreditor, ErrRequired, "exactly one creditor is required")
	case 1:
	default:
		es.add("creditors", itemCreditor, ErrNotAllowed, "Pix Automático allows exactly one creditor, not %d", len(cs))
	}
	for i := range cs {
		c := &cs[i]
		p := fmt.Sprintf("creditors[%d]", i)
		switch c.PersonType {
		case PessoaJuridica:
		case "":
			es.add(p+".personType", itemCreditor, ErrRequired, "must be PESSOA_JURIDICA")
		default:
			es.add(p+".personType", itemCreditor, ErrNotAllowed, "must be PESSOA_JURIDICA: Pix Automático pays companies only")
		}
		switch {
		case c.CpfCnpj == "":
			es.add(p+".cpfCnpj", itemCreditor, ErrRequired, "the creditor's CNPJ is required")
		case !IsCNPJ(c.CpfCnpj):
			es.add(p+".cpfCnpj", itemCreditor, ErrFormat, "must be a CNPJ of 14 characters (^[0-9A-Z]{12}[0-9]{2}$)")
		}
		checkName(es, p+".name", c.Name)
	}
}

// checkName applies the spec's name pattern and length (item 10).
func checkName(es *ValidationErrors, path, name string) {
	switch {
	case name == "":
		es.add(path, itemName, ErrRequired, "a name is required")
	case utf8.RuneCountInString(name) > MaxNameLength:
		es.add(path, itemName, ErrOutOfRange, "must be at most %d characters", MaxNameLength)
	case !nameRE.MatchString(name):
		es.add(path, itemName, ErrFormat, "must match the spec's name pattern (letters, digits, spaces and ,.@:&*+_<>()!?/\\$%' -)")
	}
}

func checkAutomatic(es *ValidationErrors, a *Automatic, today Date) {
	p := pathAutomatic + "."
	switch {
	case a.ContractID == "":
		es.add(p+"contractId", itemContractID, ErrRequired, "the receiver's contract id is required")
	case !contractIDRE.MatchString(a.ContractID):
		es.add(p+"contractId", itemContractID, ErrFormat, "must be 1 to 35 letters or digits (^[a-zA-Z0-9]{1,35}$)")
	}
	switch {
	case a.Interval == "":
		es.add(p+"interval", itemInterval, ErrRequired, "the interval is required")
	case !a.Interval.Valid():
		es.add(p+"interval", itemInterval, ErrNotAllowed, "must be SEMANAL, MENSAL, TRIMESTRAL, SEMESTRAL or ANUAL")
	}
	refOK := checkDate(es, p+"referenceStartDate", a.ReferenceStartDate, today, itemReferenceStart)
	checkAmounts(es, a.FixedAmount, a.MaximumVariableAmount, a.MinimumVariableAmount)
	if a.UseOverdraftLimit != nil {
		es.add(p+"useOverdraftLimit", itemNoOverdraft, ErrNotAllowed, "is set by the holder and must never be sent")
	}
	checkName(es, p+"contractDebtor.name", a.ContractDebtor.Name)
	checkDocument(es, p+"contractDebtor.document", a.ContractDebtor.Document)
	if a.FirstPayment != nil {
		checkFirstPayment(es, a.FirstPayment, today)
		fp := a.FirstPayment.Date
		if refOK && validDate(fp) && !a.ReferenceStartDate.After(fp) {
			es.add(p+"referenceStartDate", itemFirstPayment, ErrOutOfRange,
				"must be after firstPayment.date (%s): recurrences start after the first payment", fp)
		}
	}
}

// checkDate requires a real calendar date not before today; it reports
// whether d is a valid date.
func checkDate(es *ValidationErrors, path string, d, today Date, item int) bool {
	switch {
	case d.IsZero():
		es.add(path, item, ErrRequired, "a date is required")
		return false
	case !validDate(d):
		es.add(path, item, ErrFormat, "must be a real calendar date YYYY-MM-DD")
		return false
	case d.Before(today):
		es.add(path, item, ErrOutOfRange, "must not be in the past (today in Brasília is %s)", today)
	}
	return true
}

// validDate reports whether d is a calendar date with a 4-digit year.
func validDate(d Date) bool {
	return d.Year >= 0 && d.Year <= 9999 && d.Month >= time.January && d.Month <= time.December &&
		NewDate(d.Year, d.Month, d.Day) == d
}

// checkAmounts applies items 16–19.
func checkAmounts(es *ValidationErrors, fixed, maximum, minimum *Amount) {
	p := pathAutomatic + "."
	if fixed != nil && maximum != nil {
		es.add(p+"maximumVariableAmount", itemAmountExclusive, ErrConflict,
			"must not be sent with fixedAmount: a consent is fixed or variable")
	}
	if fixed != nil && minimum != nil {
		es.add(p+"minimumVariableAmount", itemFixedNoMinimum, ErrConflict, "must not be sent with fixedAmount")
	}
	for _, f := range []struct {
		name string
		a    *Amount
	}{{"fixedAmount", fixed}, {"maximumVariableAmount", maximum}, {"minimumVariableAmount", minimum}} {
		if f.a != nil && !f.a.Valid() {
			es.add(p+f.name, itemAmountPositive, ErrOutOfRange, "must be greater than 0.00 and at most %s", MaxAmount)
		}
	}
	if maximum != nil && minimum != nil && maximum.Valid() && minimum.Valid() && *maximum < *minimum {
		es.add(p+"maximumVariableAmount", itemMaxAboveMin, ErrOutOfRange,
			"must be at least minimumVariableAmount (%s)", *minimum)
	}
}

// checkDocument checks a CPF/CNPJ document whose rel may be either.
func checkDocument(es *ValidationErrors, path string, d Document) {
	switch d.Rel {
	case RelCPF, RelCNPJ:
	case "":
		es.add(path+".rel", 0, ErrRequired, "must be CPF or CNPJ")
	default:
		es.add(path+".rel", 0, ErrNotAllowed, "must be CPF or CNPJ, not %q", d.Rel)
	}
	switch {
	case d.Identification == "":
		es.add(path+".identification", 0, ErrRequired, "the document number is required")
	case d.Rel == RelCPF && !IsCPF(d.Identification):
		es.add(path+".identification", 0, ErrFormat, "a CPF must be 11 digits")
	case d.Rel == RelCNPJ && !IsCNPJ(d.Identification):
		es.add(path+".identification", 0, ErrFormat, "a CNPJ must match ^[0-9A-Z]{12}[0-9]{2}$")
	case d.Rel != RelCPF && d.Rel != RelCNPJ && !IsCPF(d.Identification) && !IsCNPJ(d.Identification):
		es.add(path+".identification", 0, ErrFormat, "must be a CPF (11 digits) or a CNPJ (14 characters)")
	}
}

func checkFirstPayment(es *ValidationErrors, fp *FirstPayment, today Date) {
	p := pathAutomatic + ".firstPayment."
	switch fp.Type {
	case "PIX":
	case "":
		es.add(p+"type", itemFirstPayment, ErrRequired, "must be PIX")
	default:
		es.add(p+"type", itemFirstPayment, ErrNotAllowed, "must be PIX, not %q", fp.Type)
	}
	switch fp.Currency {
	case "BRL":
	case "":
		es.add(p+"currency", itemFirstPayment, ErrRequired, "must be BRL")
	default:
		es.add(p+"currency", itemFirstPayment, ErrNotAllowed, "must be BRL, not %q", fp.Currency)
	}
	switch {
	case fp.Amount == 0:
		es.add(p+"amount", itemFirstPayment, ErrRequired, "the first payment's amount is required")
	case !fp.Amount.Valid():
		es.add(p+"amount", itemAmountPositive, ErrOutOfRange, "must be greater than 0.00 and at most %s", MaxAmount)
	}
	checkDate(es, p+"date", fp.Date, today, itemFirstPayment)
	checkMaxLen(es, p+"remittanceInformation", fp.RemittanceInformation, MaxRemittanceInformationLength, 0)
	checkAccount(es, p+"creditorAccount", &fp.CreditorAccount, itemFirstPayment)
}

// checkAccount checks an account the ITP sends (debtorAccount, a creditor
// account).
func checkAccount(es *ValidationErrors, path string, a *Account, item int) {
	p := path + "."
	switch {
	case a.ISPB == "":
		es.add(p+"ispb", item, ErrRequired, "the ISPB is required")
	case !ispbRE.MatchString(a.ISPB):
		es.add(p+"ispb", item, ErrFormat, "must be 8 characters (^[0-9A-Z]{8}$)")
	}
	switch {
	case a.Number == "":
		es.add(p+"number", item, ErrRequired, "the account number is required")
	case !numberRE.MatchString(a.Number):
		es.add(p+"number", item, ErrFormat, "must be 1 to 20 digits with the check digit (letters become 0; see NormaliseAccountNumber)")
	}
	switch a.AccountType {
	case AccountCACC, AccountSVGS, AccountTRAN:
	case "":
		es.add(p+"accountType", item, ErrRequired, "must be CACC, SVGS or TRAN")
	default:
		es.add(p+"accountType", item, ErrNotAllowed, "must be CACC, SVGS or TRAN, not %q", a.AccountType)
	}
	switch {
	case a.Issuer == "" && (a.AccountType == AccountCACC || a.AccountType == AccountSVGS):
		es.add(p+"issuer", item, ErrRequired, "the branch is required for %s accounts", a.AccountType)
	case a.Issuer != "" && !issuerRE.MatchString(a.Issuer):
		es.add(p+"issuer", item, ErrFormat, "must be 1 to 4 digits without check digit (^[0-9]{1,4}$)")
	}
	if a.IBGETownCode != "" {
		es.add(p+"ibgeTownCode", item, ErrNotAllowed, "is returned by the holder and must not be sent")
	}
}

// checkCreateExpiration applies item 21.
func checkCreateExpiration(es *ValidationErrors, exp *DateTime, auto *Automatic, now time.Time) {
	if exp == nil {
		return
	}
	const path = "expirationDateTime"
	if !checkEndOfDay(es, path, *exp, itemExpiration) {
		return
	}
	if !exp.After(now) {
		es.add(path, itemExpiration, ErrOutOfRange, "must be in the future")
	}
	if auto != nil && validDate(auto.ReferenceStartDate) && !exp.After(auto.ReferenceStartDate.In(Brasilia)) {
		es.add(path, itemExpiration, ErrOutOfRange, "must be after referenceStartDate (%s, Brasília)", auto.ReferenceStartDate)
	}
}

// checkEndOfDay requires a wire-valid …T23:59:59Z instant.
func checkEndOfDay(es *ValidationErrors, path string, t DateTime, item int) bool {
	u := t.UTC()
	switch {
	case t.IsZero():
		es.add(path, item, ErrRequired, "a date-time is required (omit the field for no expiry)")
		return false
	case u.Year() < 0 || u.Year() > 9999:
		es.add(path, item, ErrFormat, "the year must have 4 digits")
		return false
	case u.Hour() != 23 || u.Minute() != 59 || u.Second() != 59 || u.Nanosecond() != 0:
		es.add(path, item, ErrFormat, "must end T23:59:59Z (use ExpirationOn)")
		return false
	}
	return true
}

func checkMaxLen(es *ValidationErrors, path, s string, limit, item int) {
	if utf8.RuneCountInString(s) > limit {
		es.add(path, item, ErrOutOfRange, "must be at most %d characters", limit)
	}
}

func checkURN(es *ValidationErrors, path, s string) {
	switch {
	case s == "":
		es.add(path, 0, ErrRequired, "a URN is required")
	case len(s) > maxURNLength || !urnRE.MatchString(s):
		es.add(path, 0, ErrFormat, "must be a URN (urn:<namespace>:<id>) of at most %d characters", maxURNLength)
	}
}
