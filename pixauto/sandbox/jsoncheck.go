package sandbox

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ofb-go/pixauto/consent"
)

// A small strict reader of request bodies: it walks the decoded JSON
// (numbers kept as json.Number) and records a PARAMETRO_NAO_INFORMADO for
// every required member that is missing and a PARAMETRO_INVALIDO for every
// member of the wrong JSON type or syntax, with the member's JSON path.
// The handlers answer these syntax failures before checking any business
// rule.

type checker struct {
	fails []failure
}

func (c *checker) missing(path string) {
	c.fails = append(c.fails, failure{"PARAMETRO_NAO_INFORMADO", "Parâmetro " + path + " obrigatório não informado."})
}

func (c *checker) invalid(path, format string, args ...any) {
	c.fails = append(c.fails, failure{"PARAMETRO_INVALIDO", "Parâmetro " + path + " não obedece as regras de formatação esperadas: " + fmt.Sprintf(format, args...)})
}

func (c *checker) ok() bool { return len(c.fails) == 0 }

// node is a JSON object under check, at path.
type node struct {
	c    *checker
	path string
	m    map[string]any
}

func (c *checker) root(path string, m map[string]any) node { return node{c: c, path: path, m: m} }

func (n node) at(name string) string { return n.path + "/" + name }

func (n node) has(name string) bool {
	v, ok := n.m[name]
	return ok && v != nil
}

// value returns a member; a JSON null counts as absent.
func (n node) value(name string, required bool) (any, bool) {
	v, ok := n.m[name]
	if !ok || v == nil {
		if required {
			n.c.missing(n.at(name))
		}
		return nil, false
	}
	return v, true
}

func (n node) object(name string, required bool) (node, bool) {
	v, ok := n.value(name, required)
	if !ok {
		return node{}, false
	}
	m, isObj := v.(map[string]any)
	if !isObj {
		n.c.invalid(n.at(name), "must be an object")
		return node{}, false
	}
	return node{c: n.c, path: n.at(name), m: m}, true
}

func (n node) array(name string, required bool) ([]any, bool) {
	v, ok := n.value(name, required)
	if !ok {
		return nil, false
	}
	a, isArr := v.([]any)
	if !isArr {
		n.c.invalid(n.at(name), "must be an array")
		return nil, false
	}
	if len(a) == 0 && required {
		n.c.missing(n.at(name))
		return nil, false
	}
	return a, true
}

// item returns element i of an array as an object.
func (n node) item(name string, arr []any, i int) (node, bool) {
	path := fmt.Sprintf("%s/%d", n.at(name), i)
	m, ok := arr[i].(map[string]any)
	if !ok {
		n.c.invalid(path, "must be an object")
		return node{}, false
	}
	return node{c: n.c, path: path, m: m}, true
}

func (n node) boolean(name string, required bool) (bool, bool) {
	v, ok := n.value(name, required)
	if !ok {
		return false, false
	}
	b, isBool := v.(bool)
	if !isBool {
		n.c.invalid(n.at(name), "must be a boolean")
		return false, false
	}
	return b, true
}

func (n node) number(name string, required, integer bool) bool {
	v, ok := n.value(name, required)
	if !ok {
		return false
	}
	num, isNum := v.(json.Number)
	if !isNum {
		n.c.invalid(n.at(name), "must be a number")
		return false
	}
	if integer {
		if _, err := num.Int64(); err != nil {
			n.c.invalid(n.at(name), "must be an integer")
			return false
		}
	}
	return true
}

// str returns a string member that matches re (nil: any) and has at most
// maxLen characters (0: no limit).
func (n node) str(name string, required bool, re *regexp.Regexp, maxLen int) (string, bool) {
	v, ok := n.value(name, required)
	if !ok {
		return "", false
	}
	s, isStr := v.(string)
	switch {
	case !isStr:
		n.c.invalid(n.at(name), "must be a string")
	case maxLen > 0 && utf8.RuneCountInString(s) > maxLen:
		n.c.invalid(n.at(name), "longer than %d characters", maxLen)
	case re != nil && !re.MatchString(s):
		n.c.invalid(n.at(name), "must match %s", re)
	default:
		return s, true
	}
	return "", false
}

func (n node) enum(name string, required bool, values ...string) (string, bool) {
	s, ok := n.str(name, required, nil, 0)
	if !ok {
		return "", false
	}
	if !slices.Contains(values, s) {
		n.c.invalid(n.at(name), "must be one of %s", strings.Join(values, ", "))
		return "", false
	}
	return s, true
}

func (n node) amount(name string, required bool) (consent.Amount, bool) {
	s, ok := n.str(name, required, amountPattern, 19)
	if !ok {
		return 0, false
	}
	a, err := consent.ParseAmount(s)
	if err != nil {
		n.c.invalid(n.at(name), "%v", err)
		return 0, false
	}
	return a, true
}

func (n node) date(name string, required bool) (consent.Date, bool) {
	s, ok := n.str(name, required, datePattern, 10)
	if !ok {
		return consent.Date{}, false
	}
	d, err := consent.ParseDate(s)
	if err != nil {
		n.c.invalid(n.at(name), "not a calendar date")
		return consent.Date{}, false
	}
	return d, true
}

func (n node) dateTime(name string, required bool) (consent.DateTime, bool) {
	s, ok := n.str(name, required, dateTimePattern, 20)
	if !ok {
		return consent.DateTime{}, false
	}
	t, err := consent.ParseDateTime(s)
	if err != nil {
		n.c.invalid(n.at(name), "not a calendar date-time")
		return consent.DateTime{}, false
	}
	return t, true
}

// Patterns of the spec shared by every version.
var (
	amountPattern   = regexp.MustCompile(`^((\d{1,16}\.\d{2}))$`)
	datePattern     = regexp.MustCompile(`^(\d{4})-(1[0-2]|0?[1-9])-(3[01]|[12][0-9]|0?[1-9])$`)
	dateTimePattern = regexp.MustCompile(`^(\d{4})-(1[0-2]|0?[1-9])-(3[01]|[12][0-9]|0?[1-9])T(?:[01]\d|2[0123]):(?:[012345]\d):(?:[012345]\d)Z$`)
	cpfPattern      = regexp.MustCompile(`^\d{11}$`)
	relCPFPattern   = regexp.MustCompile(`^[A-Z]{3}$`)
	relCNPJPattern  = regexp.MustCompile(`^[A-Z]{4}$`)
	namePattern     = regexp.MustCompile(`^([A-Za-zÀ-ÖØ-öø-ÿ,.@:&*+_<>()!?/\\$%\d' -]+)$`)
	contractPattern = regexp.MustCompile(`^[a-zA-Z0-9]{1,35}$`)
	issuerPattern   = regexp.MustCompile(`^[0-9]{1,4}$`)
	numberPattern   = regexp.MustCompile(`^[0-9]{1,20}$`)
	currencyPattern = regexp.MustCompile(`^([A-Z]{3})$`)
	townPattern     = regexp.MustCompile(`^\d{7}$`)
	txIDPattern     = regexp.MustCompile(`^[a-zA-Z0-9]{1,35}$`)
)

// versionPatterns are the patterns that 2.2.0 widened to alphanumeric CNPJs
// and ISPBs.
type versionPatterns struct {
	cnpj, cpfCnpj, ispb, e2eid *regexp.Regexp
}

var (
	patterns22 = versionPatterns{
		cnpj:    regexp.MustCompile(`^[0-9A-Z]{12}[0-9]{2}$`),
		cpfCnpj: regexp.MustCompile(`^([0-9]{11})$|^([0-9A-Z]{12}[0-9]{2})$`),
		ispb:    regexp.MustCompile(`^[0-9A-Z]{8}$`),
		e2eid:   regexp.MustCompile(`^([E])([0-9A-Z]{8})([0-9]{4})(0[1-9]|1[0-2])(0[1-9]|[1-2][0-9]|3[0-1])(2[0-3]|[01][0-9])([0-5][0-9])([a-zA-Z0-9]{11})$`),
	}
	patterns21 = versionPatterns{
		cnpj:    regexp.MustCompile(`^\d{14}$`),
		cpfCnpj: regexp.MustCompile(`^(?:\d{11}|\d{14})$`),
		ispb:    regexp.MustCompile(`^[0-9]{8}$`),
		e2eid:   regexp.MustCompile(`^([E])([0-9]{8})([0-9]{4})(0[1-9]|1[0-2])(0[1-9]|[1-2][0-9]|3[0-1])(2[0-3]|[01][0-9])([0-5][0-9])([a-zA-Z0-9]{11})$`),
	}
)

func (a *automatic) patterns() versionPatterns {
	if a.legacy() {
		return patterns21
	}
	return patterns22
}

// document reads a {identification, rel} object whose rel must agree with
// the identification's length (11 → CPF, 14 → CNPJ).
func (a *automatic) document(n node, name string, required bool) (consent.Document, bool) {
	d, ok := n.object(name, required)
	if !ok {
		return consent.Document{}, false
	}
	id, okID := d.str("identification", true, a.patterns().cpfCnpj, 14)
	rel, okRel := d.enum("rel", true, "CPF", "CNPJ")
	if !okID || !okRel {
		return consent.Document{}, false
	}
	if (rel == "CPF") != (len(id) == 11) {
		n.c.invalid(d.at("rel"), "%s does not match a %d-character identification", rel, len(id))
		return consent.Document{}, false
	}
	return consent.Document{Identification: id, Rel: consent.DocumentRel(rel)}, true
}

// account reads an account object (ispb, issuer for CACC and SVGS, number,
// accountType).
func (a *automatic) account(n node, name string, required bool) (consent.Account, bool) {
	o, ok := n.object(name, required)
	if !ok {
		return consent.Account{}, false
	}
	before := len(n.c.fails)
	ispb, _ := o.str("ispb", true, a.patterns().ispb, 8)
	number, _ := o.str("number", true, numberPattern, 20)
	typ, okType := o.enum("accountType", true, "CACC", "SVGS", "TRAN")
	issuer, _ := o.str("issuer", okType && typ != "TRAN", issuerPattern, 4)
	if len(n.c.fails) > before {
		return consent.Account{}, false
	}
	return consent.Account{ISPB: ispb, Issuer: issuer, Number: number, AccountType: consent.AccountType(typ)}, true
}
