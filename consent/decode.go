package consent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// DecodeConsent decodes the data object of a consent response (POST 201,
// GET 200 or PATCH 200 of /recurring-consents) and checks it before anyone
// relies on it:
//
//   - the JSON is well formed and every field has its spec type and syntax
//     (amounts, dates and date-times are checked by their own types);
//   - the fields required in every response are present: recurringConsentId
//     (a URN), status, statusUpdateDateTime, creationDateTime, creditors and
//     exactly one recurringConfiguration variant; for automatic, contractId,
//     a known interval, contractDebtor, isRetryAccepted and
//     referenceStartDate, and never fixedAmount with maximumVariableAmount;
//   - the status is known (else ErrUnknownStatus) and its objects are there
//     (else ErrInvalidState): REJECTED has rejection (rejectedBy,
//     rejectedFrom, rejectedAt, reason.code), REVOKED has revocation
//     (revokedBy, revokedFrom, revokedAt, reason.code), AUTHORISED has
//     authorisedAtDateTime and debtorAccount.
//
// It is lenient where the ecosystem varies: unknown fields are ignored,
// loggedUser is not required (PATCH responses may omit it),
// useOverdraftLimit may be absent (the spec's default is true), and a
// rejection or revocation reason code outside today's enum is accepted.
//
// Failures are a ValidationErrors naming the JSON path of each problem; the
// consent is returned only when there is none. It never panics.
func DecodeConsent(data []byte) (*Consent, error) {
	var es ValidationErrors
	tree, ok := parseObject(&es, data)
	if !ok {
		return nil, es
	}
	checkTypes(&es, tree, consentType, "")
	if len(es) > 0 {
		return nil, es
	}
	var c Consent
	if err := json.Unmarshal(data, &c); err != nil {
		// checkTypes mirrors encoding/json, so this is not expected; report it anyway.
		es.add("", 0, ErrFormat, "cannot decode: %v", err)
		return nil, es
	}
	checkConsent(&es, &c, tree)
	if len(es) > 0 {
		return nil, es
	}
	return &c, nil
}

var (
	consentType     = reflect.TypeFor[Consent]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	rawMessageType  = reflect.TypeFor[json.RawMessage]()
)

// parseObject decodes data as exactly one JSON object.
func parseObject(es *ValidationErrors, data []byte) (map[string]any, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		es.add("", 0, ErrFormat, "not valid JSON: %v", err)
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		es.add("", 0, ErrFormat, "trailing data after the JSON object")
		return nil, false
	}
	obj, ok := v.(map[string]any)
	if !ok {
		es.add("", 0, ErrFormat, "must be a JSON object")
		return nil, false
	}
	return obj, true
}

// checkTypes walks v, decoded with UseNumber, against the Go type t that
// encoding/json would decode it into, and reports every value that would
// not decode, with its path. Types with their own UnmarshalJSON (Amount,
// Date, DateTime) are decoded to check their syntax.
func checkTypes(es *ValidationErrors, v any, t reflect.Type, path string) {
	if t != rawMessageType && reflect.PointerTo(t).Implements(unmarshalerType) {
		if v == nil && t.Kind() == reflect.Pointer {
			return
		}
		b, err := json.Marshal(v)
		if err == nil {
			err = reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(b)
		}
		if err != nil {
			es.add(path, 0, ErrFormat, "%s", valueRule(err))
		}
		return
	}
	if v == nil {
		return // null leaves the field at its zero value, as encoding/json does
	}
	switch t.Kind() {
	case reflect.Pointer:
		checkTypes(es, v, t.Elem(), path)
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		if !ok {
			es.add(path, 0, ErrFormat, "must be a JSON object")
			return
		}
		for _, key := range slices.Sorted(maps.Keys(obj)) {
			if f, ok := jsonField(t, key); ok {
				checkTypes(es, obj[key], f.Type, joinPath(path, key))
			}
		}
	case reflect.Slice:
		if t == rawMessageType {
			return
		}
		arr, ok := v.([]any)
		if !ok {
			es.add(path, 0, ErrFormat, "must be a JSON array")
			return
		}
		for i, ev := range arr {
			checkTypes(es, ev, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			es.add(path, 0, ErrFormat, "must be a JSON string")
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			es.add(path, 0, ErrFormat, "must be a JSON boolean")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			es.add(path, 0, ErrFormat, "must be a JSON number")
			return
		}
		if i, err := n.Int64(); err != nil || reflect.New(t).Elem().OverflowInt(i) {
			es.add(path, 0, ErrFormat, "must be an integer within range")
		}
	case reflect.Float32, reflect.Float64:
		n, ok := v.(json.Number)
		if !ok {
			es.add(path, 0, ErrFormat, "must be a JSON number")
			return
		}
		if f, err := n.Float64(); err != nil || reflect.New(t).Elem().OverflowFloat(f) {
			es.add(path, 0, ErrFormat, "must be a number within range")
		}
	}
}

// valueRule describes a decoding error of a value type.
func valueRule(err error) string {
	var ve *ValueError
	if errors.As(err, &ve) {
		return fmt.Sprintf("must be a valid %s (%s)", ve.Type, ve.Rule)
	}
	return err.Error()
}

// jsonField finds the struct field encoding/json would fill from key: an
// exact tag match first, then a case-insensitive one.
func jsonField(t reflect.Type, key string) (reflect.StructField, bool) {
	var fold reflect.StructField
	found := false
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if name == key {
			return f, true
		}
		if !found && strings.EqualFold(name, key) {
			fold, found = f, true
		}
	}
	return fold, found
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// checkConsent applies the presence and status invariants.
func checkConsent(es *ValidationErrors, c *Consent, tree map[string]any) {
	checkURN(es, "recurringConsentId", c.RecurringConsentID)
	switch c.Status {
	case StatusAwaitingAuthorisation, StatusPartiallyAccepted, StatusAuthorised,
		StatusRejected, StatusRevoked, StatusConsumed:
	case "":
		es.add("status", 0, ErrRequired, "the status is required")
	default:
		es.add("status", 0, ErrUnknownStatus, "unknown status %q", c.Status)
	}
	if c.StatusUpdateDateTime.IsZero() {
		es.add("statusUpdateDateTime", 0, ErrRequired, "is required (and cannot be 0001-01-01T00:00:00Z)")
	}
	if c.CreationDateTime.IsZero() {
		es.add("creationDateTime", 0, ErrRequired, "is required (and cannot be 0001-01-01T00:00:00Z)")
	}
	// DateTime's zero value means "absent", so the one instant it cannot
	// carry is refused rather than silently lost.
	type instant struct {
		path string
		t    *DateTime
	}
	instants := []instant{
		{"expirationDateTime", c.ExpirationDateTime}, {"authorisedAtDateTime", c.AuthorisedAtDateTime},
		{"updatedAtDateTime", c.UpdatedAtDateTime},
	}
	if c.Rejection != nil {
		instants = append(instants, instant{"rejection.rejectedAt", c.Rejection.RejectedAt})
	}
	if c.Revocation != nil {
		instants = append(instants, instant{"revocation.revokedAt", c.Revocation.RevokedAt})
	}
	for _, f := range instants {
		if f.t != nil && f.t.IsZero() {
			es.add(f.path, 0, ErrOutOfRange, "0001-01-01T00:00:00Z is not a usable instant")
		}
	}
	checkResponseCreditors(es, c.Creditors)
	checkResponseConfiguration(es, &c.RecurringConfiguration, tree)
	if a := c.DebtorAccount; a != nil {
		checkResponseAccount(es, "debtorAccount", a)
	}
	switch c.Status {
	case StatusRejected:
		checkResponseRejection(es, c.Rejection)
	case StatusRevoked:
		checkResponseRevocation(es, c.Revocation)
	case StatusAuthorised:
		if c.AuthorisedAtDateTime == nil {
			es.add("authorisedAtDateTime", 0, ErrInvalidState, "is required when the status is AUTHORISED")
		}
		if c.DebtorAccount == nil {
			es.add("debtorAccount", 0, ErrInvalidState, "is required when the status is AUTHORISED")
		}
	}
}

func checkResponseCreditors(es *ValidationErrors, cs []Creditor) {
	if len(cs) == 0 {
		es.add("creditors", 0, ErrRequired, "at least one creditor is required")
	}
	for i := range cs {
		p := fmt.Sprintf("creditors[%d].", i)
		switch cs[i].PersonType {
		case PessoaJuridica, PessoaNatural:
		case "":
			es.add(p+"personType", 0, ErrRequired, "is required")
		default:
			es.add(p+"personType", 0, ErrNotAllowed, "must be PESSOA_NATURAL or PESSOA_JURIDICA")
		}
		if cs[i].CpfCnpj == "" {
			es.add(p+"cpfCnpj", 0, ErrRequired, "is required")
		}
		if cs[i].Name == "" {
			es.add(p+"name", 0, ErrRequired, "is required")
		}
	}
}

func checkResponseConfiguration(es *ValidationErrors, rc *RecurringConfiguration, tree map[string]any) {
	n := 0
	for _, ok := range []bool{rc.Automatic != nil, present(rc.Sweeping), present(rc.Vrp)} {
		if ok {
			n++
		}
	}
	switch {
	case n == 0:
		es.add("recurringConfiguration", 0, ErrRequired, "one of automatic, sweeping or vrp is required")
		return
	case n > 1:
		es.add("recurringConfiguration", 0, ErrConflict, "must hold exactly one of automatic, sweeping or vrp")
	}
	a := rc.Automatic
	if a == nil {
		return
	}
	p := pathAutomatic + "."
	if a.ContractID == "" {
		es.add(p+"contractId", 0, ErrRequired, "is required")
	}
	switch {
	case a.Interval == "":
		es.add(p+"interval", 0, ErrRequired, "is required")
	case !a.Interval.Valid():
		es.add(p+"interval", 0, ErrNotAllowed, "unknown interval %q", a.Interval)
	}
	if a.ReferenceStartDate.IsZero() {
		es.add(p+"referenceStartDate", 0, ErrRequired, "is required")
	}
	if _, ok := lookup(tree, "recurringConfiguration", "automatic", "isRetryAccepted").(bool); !ok {
		es.add(p+"isRetryAccepted", 0, ErrRequired, "is required")
	}
	if a.ContractDebtor.Name == "" {
		es.add(p+"contractDebtor.name", 0, ErrRequired, "is required")
	}
	if a.ContractDebtor.Document.Identification == "" {
		es.add(p+"contractDebtor.document.identification", 0, ErrRequired, "is required")
	}
	if a.FixedAmount != nil && a.MaximumVariableAmount != nil {
		es.add(p+"maximumVariableAmount", 0, ErrConflict, "must not come with fixedAmount")
	}
	for _, f := range []struct {
		name string
		a    *Amount
	}{{"fixedAmount", a.FixedAmount}, {"maximumVariableAmount", a.MaximumVariableAmount}, {"minimumVariableAmount", a.MinimumVariableAmount}} {
		if f.a != nil && !f.a.Valid() {
			es.add(p+f.name, 0, ErrOutOfRange, "must be greater than 0.00")
		}
	}
	if fp := a.FirstPayment; fp != nil {
		if fp.Amount == 0 {
			es.add(p+"firstPayment.amount", 0, ErrRequired, "is required")
		}
		if fp.Date.IsZero() {
			es.add(p+"firstPayment.date", 0, ErrRequired, "is required")
		}
		checkResponseAccount(es, p+"firstPayment.creditorAccount", &fp.CreditorAccount)
	}
}

// lookup follows keys through nested objects, matching each key as
// encoding/json does: exactly, else case-insensitively.
func lookup(v any, keys ...string) any {
	for _, k := range keys {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		next, ok := obj[k]
		if !ok {
			for _, key := range slices.Sorted(maps.Keys(obj)) {
				if strings.EqualFold(key, k) {
					next = obj[key]
					break
				}
			}
		}
		v = next
	}
	return v
}

func checkResponseAccount(es *ValidationErrors, path string, a *Account) {
	p := path + "."
	if a.ISPB == "" {
		es.add(p+"ispb", 0, ErrRequired, "is required")
	}
	if a.Number == "" {
		es.add(p+"number", 0, ErrRequired, "is required")
	}
	switch a.AccountType {
	case AccountCACC, AccountSVGS, AccountTRAN:
	case "":
		es.add(p+"accountType", 0, ErrRequired, "is required")
	default:
		es.add(p+"accountType", 0, ErrNotAllowed, "must be CACC, SVGS or TRAN")
	}
	if a.IBGETownCode != "" && !ibgeRE.MatchString(a.IBGETownCode) {
		es.add(p+"ibgeTownCode", 0, ErrFormat, "must be 7 digits")
	}
}

func checkResponseRejection(es *ValidationErrors, r *Rejection) {
	if r == nil {
		es.add("rejection", 0, ErrInvalidState, "is required when the status is REJECTED")
		return
	}
	checkBy(es, "rejection.rejectedBy", r.RejectedBy, 0)
	checkFrom(es, "rejection.rejectedFrom", r.RejectedFrom, 0)
	if r.RejectedAt == nil {
		es.add("rejection.rejectedAt", 0, ErrRequired, "is required")
	}
	if r.Reason.Code == "" {
		es.add("rejection.reason.code", 0, ErrRequired, "is required")
	}
}

func checkResponseRevocation(es *ValidationErrors, r *Revocation) {
	if r == nil {
		es.add("revocation", 0, ErrInvalidState, "is required when the status is REVOKED")
		return
	}
	checkBy(es, "revocation.revokedBy", r.RevokedBy, 0)
	checkFrom(es, "revocation.revokedFrom", r.RevokedFrom, 0)
	if r.RevokedAt == nil {
		es.add("revocation.revokedAt", 0, ErrRequired, "is required")
	}
	if r.Reason.Code == "" {
		es.add("revocation.reason.code", 0, ErrRequired, "is required")
	}
}
