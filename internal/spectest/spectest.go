// Package spectest validates JSON documents against the official Open Finance
// Brasil OpenAPI specifications, for use in tests.
//
// The specifications are not part of this repository. They live in the
// project's shared directory, next to the module root:
//
//	<module root>/../shared/spec/api_automatic_payments_-_open_finance_brasil/2.2.0.yaml
//	<module root>/../shared/spec/api_automatic_payments_-_open_finance_brasil/2.1.0.yaml
//	<module root>/../shared/spec/api_webhook_-_open_finance_brasil/1.3.0.yaml
//
// The environment variable PIXAUTO_SPEC_DIR overrides that location. When the
// directory is absent, every function here skips the calling test, unless
// PIXAUTO_REQUIRE_SPEC=1, in which case it fails it.
//
// Typical use, in a test:
//
//	body, _ := json.Marshal(map[string]any{"data": req})
//	spectest.ValidateSchema(t, "2.2.0", "CreateRecurringConsent", body)
//
// # How the specifications are interpreted
//
//   - Patterns are ECMAScript regular expressions. Each is compiled with Go's
//     regexp package when it can be (the same engine and \uXXXX rewriting that
//     kin-openapi uses by default), and otherwise with github.com/dlclark/regexp2
//     in ECMAScript mode. In the specs read so far, only the x-idempotency-key
//     header pattern ^(?!\s)(.*)(\S)$ needs the fallback; no body schema does.
//     No pattern check is ever disabled.
//   - The formats "date" (a real calendar date, YYYY-MM-DD) and "date-time"
//     (RFC 3339) are checked by validators passed with each validation, so the
//     result does not depend on kin-openapi's global format registry. The
//     spec's own patterns are stricter than these formats anyway (for example
//     a date-time must end in Z with no fraction).
//   - oneOf is strict JSON Schema oneOf: a value must match exactly one branch.
//     Note that the automatic-payments PatchRecurringConsent oneOf has two
//     branches (ConsentRevocation, ConsentRejection) with no required property,
//     so a consent edition body matches three branches and fails with
//     [openapi3.ErrOneOfConflict]. Validate an edition against ConsentEdition.
package spectest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dlclark/regexp2"
	"github.com/getkin/kin-openapi/openapi3"
)

// APIs known to this package, as accepted by Load.
const (
	// AutomaticPayments is "API Automatic Payments - Open Finance Brasil".
	AutomaticPayments = "automatic-payments"
	// Webhook is "API Webhook - Open Finance Brasil".
	Webhook = "webhook"
)

// Environment variables read by this package.
const (
	// EnvSpecDir overrides the directory holding the specifications.
	EnvSpecDir = "PIXAUTO_SPEC_DIR"
	// EnvRequireSpec, when "1", turns a missing specification directory into a
	// test failure instead of a skip (set it in CI).
	EnvRequireSpec = "PIXAUTO_REQUIRE_SPEC"
)

// apiDirs maps an API name to its folder in the specification directory.
var apiDirs = map[string]string{
	AutomaticPayments: "api_automatic_payments_-_open_finance_brasil",
	Webhook:           "api_webhook_-_open_finance_brasil",
}

// SpecDir returns the directory holding the specifications and whether it
// exists. It is $PIXAUTO_SPEC_DIR if set; otherwise ../shared/spec relative
// to the module root, the nearest directory at or above the working directory
// that contains go.mod. The path is returned even when it does not exist, so
// that callers can say where they looked.
func SpecDir() (string, bool) {
	wd, err := os.Getwd()
	if err != nil {
		wd = ""
	}
	return specDir(os.Getenv, wd)
}

// specDir is SpecDir with the environment and working directory injected.
func specDir(getenv func(string) string, wd string) (string, bool) {
	if d := getenv(EnvSpecDir); d != "" {
		return d, isDir(d)
	}
	if wd == "" {
		return "", false
	}
	root, ok := moduleRoot(wd)
	if !ok {
		return "", false
	}
	d := filepath.Join(root, "..", "shared", "spec")
	return d, isDir(d)
}

func moduleRoot(dir string) (string, bool) {
	for {
		if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !fi.IsDir() {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// cacheEntry holds one loaded specification; once guards the load.
type cacheEntry struct {
	once sync.Once
	doc  *openapi3.T
	err  error
}

// cache maps "api@version@path" to *cacheEntry, for the life of the process.
var cache sync.Map

// Load returns the parsed specification of api ("automatic-payments" or
// "webhook") at version (e.g. "2.2.0"), loading it once per process. It
// skips tb when the specification directory is absent (fails it if
// PIXAUTO_REQUIRE_SPEC=1), and fails tb when api or version is unknown or
// the file does not parse or validate as OpenAPI. The returned document is
// shared: do not modify it.
func Load(tb testing.TB, api, version string) *openapi3.T {
	tb.Helper()
	wd, err := os.Getwd()
	if err != nil {
		wd = ""
	}
	return load(tb, os.Getenv, wd, api, version)
}

// load is Load with the environment and working directory injected.
func load(tb testing.TB, getenv func(string) string, wd, api, version string) *openapi3.T {
	tb.Helper()
	dir, ok := specDir(getenv, wd)
	if !ok {
		msg := fmt.Sprintf("spectest: OpenAPI specifications not found (looked in %q); "+
			"set %s to their directory", dir, EnvSpecDir)
		if getenv(EnvRequireSpec) == "1" {
			tb.Fatal(msg + " (" + EnvRequireSpec + "=1 makes this a failure)")
		}
		tb.Skip(msg + ", or " + EnvRequireSpec + "=1 to fail instead of skipping")
	}
	sub, known := apiDirs[api]
	if !known {
		tb.Fatalf("spectest: unknown API %q (want %q or %q)", api, AutomaticPayments, Webhook)
	}
	path := filepath.Join(dir, sub, version+".yaml")
	v, _ := cache.LoadOrStore(api+"@"+version+"@"+path, &cacheEntry{})
	e := v.(*cacheEntry)
	e.once.Do(func() { e.doc, e.err = loadFile(path) })
	if e.err != nil {
		tb.Fatalf("spectest: %s %s: %v", api, version, e.err)
	}
	return e.doc
}

func loadFile(path string) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	// Validate the document itself; this also compiles every pattern with
	// CompilePattern, so a pattern neither engine understands is reported
	// here rather than silently ignored later.
	if err := doc.Validate(context.Background(), openapi3.SetRegexCompiler(CompilePattern)); err != nil {
		return nil, fmt.Errorf("validate %s: %w", path, err)
	}
	return doc, nil
}

// CompilePattern compiles a schema pattern (an ECMAScript regular
// expression): with Go's regexp when it accepts the expression, after
// rewriting \uXXXX escapes as kin-openapi does; otherwise with regexp2 in
// ECMAScript mode, which supports lookarounds such as (?!\s). It has the
// signature of [openapi3.RegexCompilerFunc].
func CompilePattern(expr string) (openapi3.RegexMatcher, error) {
	if re, err := regexp.Compile(goEscapes.ReplaceAllString(expr, `\x{${1}}`)); err == nil {
		return re, nil
	}
	re, err := regexp2.Compile(expr, regexp2.ECMAScript)
	if err != nil {
		return nil, err
	}
	return ecmaMatcher{re}, nil
}

var goEscapes = regexp.MustCompile(`\\u([0-9A-Fa-f]{4})`)

// ecmaMatcher adapts regexp2 to openapi3.RegexMatcher. regexp2 only fails a
// match on a timeout, and none is set, so an error is a non-match.
type ecmaMatcher struct{ re *regexp2.Regexp }

// MatchString reports whether s matches; a match error counts as no match.
func (m ecmaMatcher) MatchString(s string) bool {
	ok, err := m.re.MatchString(s)
	return ok && err == nil
}

// formatValidators are passed with every validation.
var formatValidators = map[string]openapi3.StringFormatValidator{
	"date": openapi3.NewCallbackValidator(func(s string) error {
		if len(s) != len(time.DateOnly) {
			return errors.New("not a YYYY-MM-DD date")
		}
		_, err := time.Parse(time.DateOnly, s)
		return err
	}),
	"date-time": openapi3.NewCallbackValidator(func(s string) error {
		_, err := time.Parse(time.RFC3339, s)
		return err
	}),
}

func validationOptions() []openapi3.SchemaValidationOption {
	return []openapi3.SchemaValidationOption{
		openapi3.MultiErrors(),
		openapi3.SetSchemaRegexCompiler(CompilePattern),
		openapi3.WithStringFormatValidators(formatValidators),
	}
}

// ValidateSchema validates body, a JSON document, against
// components/schemas/<schemaName> of the automatic-payments specification at
// version, and reports every violation with tb.Errorf, each naming the JSON
// pointer of the offending value. Missing specifications skip tb (see Load);
// an unknown schema name fails it.
func ValidateSchema(tb testing.TB, version, schemaName string, body []byte) {
	tb.Helper()
	if err := CheckSchema(tb, version, schemaName, body); err != nil {
		tb.Errorf("%v", err)
	}
}

// CheckSchema is ValidateSchema without the failure: it returns nil if body
// conforms, and otherwise an *Error listing the violations. It still skips tb
// when the specifications are absent, and fails it when schemaName does not
// exist (so that a typo cannot pass as an expected violation).
func CheckSchema(tb testing.TB, version, schemaName string, body []byte) error {
	tb.Helper()
	return check(tb, AutomaticPayments, version, schemaName, body)
}

// ValidateWebhookSchema is ValidateSchema for the webhook specification
// (e.g. version "1.3.0", schema "RequestBodyWebhookEvents").
func ValidateWebhookSchema(tb testing.TB, version, schemaName string, body []byte) {
	tb.Helper()
	if err := CheckWebhookSchema(tb, version, schemaName, body); err != nil {
		tb.Errorf("%v", err)
	}
}

// CheckWebhookSchema is CheckSchema for the webhook specification.
func CheckWebhookSchema(tb testing.TB, version, schemaName string, body []byte) error {
	tb.Helper()
	return check(tb, Webhook, version, schemaName, body)
}

func check(tb testing.TB, api, version, schemaName string, body []byte) error {
	tb.Helper()
	doc := Load(tb, api, version)
	var ref *openapi3.SchemaRef
	if doc.Components != nil {
		ref = doc.Components.Schemas[schemaName]
	}
	if ref == nil || ref.Value == nil {
		tb.Fatalf("spectest: %s %s has no schema %q", api, version, schemaName)
		return nil // not reached: Fatalf stops the test
	}
	var value any
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&value); err != nil {
		return newError(api, version, schemaName, Issue{Reason: "not JSON: " + err.Error()}, err)
	}
	if dec.More() {
		err := errors.New("trailing data after the JSON value")
		return newError(api, version, schemaName, Issue{Reason: err.Error()}, err)
	}
	if err := ref.Value.VisitJSON(value, validationOptions()...); err != nil {
		e := &Error{API: api, Version: version, Schema: schemaName, Err: err}
		e.Issues = flatten(e.Issues, err, "")
		return e
	}
	return nil
}

// Error reports a document that does not conform to a schema.
type Error struct {
	API     string  // "automatic-payments" or "webhook"
	Version string  // e.g. "2.2.0"
	Schema  string  // component schema name
	Issues  []Issue // at least one
	Err     error   // the underlying kin-openapi error (or JSON error)
}

// Issue is one violation.
type Issue struct {
	// Path is the JSON pointer of the offending value ("/data/creditors/0/name";
	// "" for the document itself).
	Path string
	// Rule is the schema keyword that failed ("pattern", "required", "enum",
	// "oneOf", …); "" when the document is not JSON.
	Rule string
	// Reason is kin-openapi's explanation, without the value.
	Reason string
	// Branch is set for violations inside a failed oneOf: "oneOf[1]" names the
	// second branch. Empty otherwise.
	Branch string
}

func newError(api, version, schema string, is Issue, err error) *Error {
	return &Error{API: api, Version: version, Schema: schema, Issues: []Issue{is}, Err: err}
}

// Error lists every issue, one per line after the first.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "spectest: %s %s %s: %d violation(s)", e.API, e.Version, e.Schema, len(e.Issues))
	for _, is := range e.Issues {
		b.WriteString("\n\t")
		if is.Branch != "" {
			b.WriteString(is.Branch + " ")
		}
		path := is.Path
		if path == "" {
			path = "/"
		}
		b.WriteString(path)
		if is.Rule != "" {
			b.WriteString(" [" + is.Rule + "]")
		}
		b.WriteString(": " + is.Reason)
	}
	return b.String()
}

// Unwrap returns the underlying error, so errors.Is(err,
// openapi3.ErrOneOfConflict) and errors.As(err, **openapi3.SchemaError) work.
func (e *Error) Unwrap() error { return e.Err }

// HasIssue reports whether some issue is at path (a JSON pointer) and,
// if rule is not empty, for that schema keyword.
func (e *Error) HasIssue(path, rule string) bool {
	for _, is := range e.Issues {
		if is.Path == path && (rule == "" || is.Rule == rule) {
			return true
		}
	}
	return false
}

// flatten turns kin-openapi's error tree into issues. Violations inside a
// failed oneOf are listed after it, labelled with their branch.
func flatten(out []Issue, err error, branch string) []Issue {
	var me openapi3.MultiError
	if errors.As(err, &me) && !isSchemaError(err) {
		for _, e := range me {
			out = flatten(out, e, branch)
		}
		return out
	}
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return append(out, Issue{Reason: err.Error(), Branch: branch})
	}
	out = append(out, Issue{
		Path:   pointer(se.JSONPointer()),
		Rule:   se.SchemaField,
		Reason: se.Reason,
		Branch: branch,
	})
	if se.SchemaField == "oneOf" && se.Origin != nil && !errors.Is(se.Origin, openapi3.ErrOneOfConflict) {
		var branches openapi3.MultiError
		if errors.As(se.Origin, &branches) {
			for i, b := range branches {
				out = flatten(out, b, branch+fmt.Sprintf("oneOf[%d]", i))
			}
		}
	}
	return out
}

func isSchemaError(err error) bool {
	_, ok := err.(*openapi3.SchemaError)
	return ok
}

func pointer(parts []string) string {
	if len(parts) == 0 {
		return ""
	}
	esc := make([]string, len(parts))
	for i, p := range parts {
		esc[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~", "~0"), "/", "~1")
	}
	return "/" + strings.Join(esc, "/")
}
