package spectest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"
)

// fakeTB records Skip/Fatal/Errorf instead of acting on the real test.
// Skip and Fatal end the goroutine, as the testing package does, so run
// must be used to call into the code under test.
type fakeTB struct {
	testing.TB // nil: any other method panics
	mu         sync.Mutex
	skipped    bool
	fatal      bool
	errored    bool
	msgs       []string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) note(flag *bool, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	*flag = true
	f.msgs = append(f.msgs, msg)
}

func (f *fakeTB) Skip(args ...any) { f.note(&f.skipped, fmt.Sprint(args...)); runtime.Goexit() }
func (f *fakeTB) Fatal(args ...any) {
	f.note(&f.fatal, fmt.Sprint(args...))
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.note(&f.fatal, fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.note(&f.errored, fmt.Sprintf(format, args...))
}

func (f *fakeTB) text() string { return strings.Join(f.msgs, "\n") }

func run(fn func(tb testing.TB)) *fakeTB {
	f := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestSpecDir(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	mod := filepath.Join(tmp, "withspec", "main")
	spec := filepath.Join(tmp, "withspec", "shared", "spec")
	bare := filepath.Join(tmp, "nospec", "main")
	for _, d := range []string{filepath.Join(mod, "a", "b"), spec, bare} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	require.NoError(t, os.WriteFile(filepath.Join(mod, "go.mod"), []byte("module x\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(bare, "go.mod"), []byte("module y\n"), 0o644))
	noMod := filepath.Join(tmp, "nomod")
	require.NoError(t, os.MkdirAll(noMod, 0o755))

	tests := []struct {
		name    string
		env     map[string]string
		wd      string
		wantDir string
		wantOK  bool
	}{
		{name: "module root is the working dir", wd: mod, wantDir: spec, wantOK: true},
		{name: "walks up to the module root", wd: filepath.Join(mod, "a", "b"), wantDir: spec, wantOK: true},
		{name: "module without shared spec", wd: bare, wantDir: filepath.Join(tmp, "nospec", "shared", "spec")},
		{name: "env overrides", env: map[string]string{EnvSpecDir: spec}, wd: bare, wantDir: spec, wantOK: true},
		{name: "env pointing nowhere", env: map[string]string{EnvSpecDir: filepath.Join(tmp, "missing")}, wd: mod,
			wantDir: filepath.Join(tmp, "missing")},
		{name: "no module root", wd: noMod},
		{name: "no working dir", wd: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir, ok := specDir(env(tt.env), tt.wd)
			if tt.wantDir != "" {
				require.Equal(t, filepath.Clean(tt.wantDir), filepath.Clean(dir))
			}
			require.Equal(t, tt.wantOK, ok)
		})
	}
}

func TestSpecDirFromThisPackage(t *testing.T) {
	t.Parallel()
	want, ok := specDir(env(nil), mustWd(t))
	got, gotOK := SpecDir()
	if os.Getenv(EnvSpecDir) == "" {
		require.Equal(t, want, got)
		require.Equal(t, ok, gotOK)
		require.True(t, strings.HasSuffix(filepath.ToSlash(got), "shared/spec"), got)
	} else {
		require.Equal(t, os.Getenv(EnvSpecDir), got)
	}
}

func mustWd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	return wd
}

func TestLoadWithoutSpecs(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "none")
	tests := []struct {
		name      string
		env       map[string]string
		wantSkip  bool
		wantFatal bool
	}{
		{name: "skips by default", env: map[string]string{EnvSpecDir: missing}, wantSkip: true},
		{name: "fails when required", env: map[string]string{EnvSpecDir: missing, EnvRequireSpec: "1"}, wantFatal: true},
		{name: "only 1 means required", env: map[string]string{EnvSpecDir: missing, EnvRequireSpec: "yes"}, wantSkip: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := run(func(tb testing.TB) { load(tb, env(tt.env), "", AutomaticPayments, "2.2.0") })
			require.Equal(t, tt.wantSkip, f.skipped, f.text())
			require.Equal(t, tt.wantFatal, f.fatal, f.text())
			require.Contains(t, f.text(), missing)
			require.Contains(t, f.text(), EnvSpecDir)
		})
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		api         string
		version     string
		wantTitle   string
		wantSchemas []string
	}{
		{name: "automatic payments 2.2.0", api: AutomaticPayments, version: "2.2.0",
			wantTitle: "API Automatic Payments", wantSchemas: []string{"CreateRecurringConsent", "PatchRecurringConsent"}},
		{name: "automatic payments 2.1.0", api: AutomaticPayments, version: "2.1.0",
			wantTitle: "API Automatic Payments", wantSchemas: []string{"CreateRecurringConsent", "PatchRecurringConsent"}},
		{name: "webhook 1.3.0", api: Webhook, version: "1.3.0",
			wantTitle: "API Webhook", wantSchemas: []string{"RequestBodyWebhookEvents", "RequestBodyWebhook"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			doc := Load(t, tt.api, tt.version)
			require.Equal(t, tt.version, doc.Info.Version)
			require.Contains(t, doc.Info.Title, tt.wantTitle)
			for _, s := range tt.wantSchemas {
				require.Contains(t, doc.Components.Schemas, s)
			}
			require.Same(t, doc, Load(t, tt.api, tt.version), "cached per process")
		})
	}
}

func TestLoadUnknown(t *testing.T) {
	t.Parallel()
	Load(t, AutomaticPayments, "2.2.0") // skip here if the specs are absent
	tests := []struct {
		name    string
		call    func(tb testing.TB)
		wantMsg string
	}{
		{name: "unknown API", call: func(tb testing.TB) { Load(tb, "accounts", "2.2.0") }, wantMsg: `unknown API "accounts"`},
		{name: "unknown version", call: func(tb testing.TB) { Load(tb, AutomaticPayments, "9.9.9") }, wantMsg: "9.9.9.yaml"},
		{name: "unknown schema", call: func(tb testing.TB) { _ = CheckSchema(tb, "2.2.0", "NoSuchSchema", []byte(`{}`)) },
			wantMsg: `no schema "NoSuchSchema"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := run(tt.call)
			require.True(t, f.fatal, "want Fatal, got %q", f.text())
			require.Contains(t, f.text(), tt.wantMsg)
		})
	}
}

func TestCompilePattern(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pattern string
		match   []string
		noMatch []string
		wantErr bool
	}{
		{name: "ECMAScript negative lookahead", pattern: `^(?!\s)(.*)(\S)$`,
			match: []string{"a", "ab", "a b", "key-1"}, noMatch: []string{" ab", "ab ", "", "ab\n"}},
		{name: "unicode escapes", pattern: `^[\u00C0-\u00D6]+$`, match: []string{"ÀÖ"}, noMatch: []string{"A"}},
		{name: "spec name pattern", pattern: `^([A-Za-zÀ-ÖØ-öø-ÿ,.@:&*+_<>()!?/\\$%\d' -]+)$`,
			match: []string{"Empresa Ltda.", "João & Filhos (SP)", `a\b`}, noMatch: []string{"tab\there", "x#y", ""}},
		{name: "amount", pattern: `^((\d{1,16}\.\d{2}))$`, match: []string{"0.01"}, noMatch: []string{"1", "1.0", "1,00"}},
		{name: "invalid in both engines", pattern: `^(abc$`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := CompilePattern(tt.pattern)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			for _, s := range tt.match {
				require.True(t, m.MatchString(s), "%q should match", s)
			}
			for _, s := range tt.noMatch {
				require.False(t, m.MatchString(s), "%q should not match", s)
			}
		})
	}
}

// The one lookahead pattern of the spec is checked, not skipped.
func TestSpecLookaheadPatternIsEnforced(t *testing.T) {
	t.Parallel()
	for _, version := range []string{"2.2.0", "2.1.0"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			doc := Load(t, AutomaticPayments, version)
			p := doc.Components.Parameters["XIdempotencyKey"]
			require.NotNil(t, p)
			schema := p.Value.Schema.Value
			require.Contains(t, schema.Pattern, "(?!")
			require.NoError(t, schema.VisitJSON("idem-key-1", validationOptions()...))
			require.Error(t, schema.VisitJSON(" idem-key-1", validationOptions()...))
			require.Error(t, schema.VisitJSON("idem-key-1 ", validationOptions()...))
		})
	}
}

// specExample is an entry of an "examples" section of the spec, with the
// name of the component schema of its media type.
type specExample struct {
	where  string
	schema string
	value  any
}

func specExamples(t *testing.T, doc *openapi3.T) []specExample {
	t.Helper()
	var out []specExample
	names := make([]string, 0, len(doc.Components.Responses))
	for n := range doc.Components.Responses {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		resp := doc.Components.Responses[n].Value
		for mt, media := range resp.Content {
			if media.Schema == nil || !strings.HasPrefix(media.Schema.Ref, "#/components/schemas/") {
				continue
			}
			schema := strings.TrimPrefix(media.Schema.Ref, "#/components/schemas/")
			for en, ex := range media.Examples {
				out = append(out, specExample{
					where:  fmt.Sprintf("responses/%s/%s/examples/%s", n, mt, en),
					schema: schema,
					value:  ex.Value.Value,
				})
			}
		}
	}
	return out
}

// mutation changes a decoded document in place.
type mutation struct {
	name     string
	apply    func(doc map[string]any)
	wantPath string
	wantRule string
}

func TestSpecExamplesValidateAndMutationsFail(t *testing.T) {
	t.Parallel()
	mutations := []mutation{
		{name: "bad enum", apply: func(d map[string]any) { firstError(d)["code"] = "NAO_EXISTE" },
			wantPath: "/errors/0/code", wantRule: "enum"},
		{name: "bad pattern", apply: func(d map[string]any) {
			d["meta"].(map[string]any)["requestDateTime"] = "2021-05-21T08:30:00+03:00"
		}, wantPath: "/meta/requestDateTime", wantRule: "pattern"},
		{name: "too long", apply: func(d map[string]any) { firstError(d)["title"] = strings.Repeat("x", 256) },
			wantPath: "/errors/0/title", wantRule: "maxLength"},
		{name: "empty errors", apply: func(d map[string]any) { d["errors"] = []any{} },
			wantPath: "/errors", wantRule: "minItems"},
	}
	for _, version := range []string{"2.2.0", "2.1.0"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			doc := Load(t, AutomaticPayments, version)
			examples := specExamples(t, doc)
			require.NotEmpty(t, examples, "the spec has examples sections")
			for _, ex := range examples {
				body, err := json.Marshal(ex.value)
				require.NoError(t, err)
				required := doc.Components.Schemas[ex.schema].Value.Required
				require.NotEmpty(t, required)
				ms := append([]mutation(nil), mutations...)
				for _, name := range required {
					ms = append(ms, mutation{name: "missing required " + name,
						apply: func(d map[string]any) { delete(d, name) }, wantPath: "/" + name, wantRule: "required"})
				}
				t.Run(ex.where, func(t *testing.T) {
					t.Parallel()
					require.NoError(t, CheckSchema(t, version, ex.schema, body))
					for _, m := range ms {
						t.Run(m.name, func(t *testing.T) {
							t.Parallel()
							var doc map[string]any
							require.NoError(t, json.Unmarshal(body, &doc))
							m.apply(doc)
							mutated, err := json.Marshal(doc)
							require.NoError(t, err)
							err = CheckSchema(t, version, ex.schema, mutated)
							var se *Error
							require.ErrorAs(t, err, &se)
							require.True(t, se.HasIssue(m.wantPath, m.wantRule), "want %s [%s] in %v", m.wantPath, m.wantRule, err)
						})
					}
				})
			}
		})
	}
}

func firstError(d map[string]any) map[string]any {
	return d["errors"].([]any)[0].(map[string]any)
}

// exampleOf builds a minimal document for schema from the spec's own
// per-property example values (falling back to the first enum value).
func exampleOf(t *testing.T, s *openapi3.Schema) any {
	t.Helper()
	switch {
	case s.Example != nil:
		return s.Example
	case len(s.Enum) > 0:
		return s.Enum[0]
	case s.Type.Is(openapi3.TypeObject):
		obj := map[string]any{}
		for _, name := range s.Required {
			p := s.Properties[name]
			require.NotNil(t, p, "required property %s has a schema", name)
			obj[name] = exampleOf(t, p.Value)
		}
		return obj
	}
	t.Fatalf("no example for schema %+v", s)
	return nil
}

func TestWebhookSchemas(t *testing.T) {
	t.Parallel()
	doc := Load(t, Webhook, "1.3.0")
	tests := []struct {
		name     string
		schema   string
		mutate   func(d map[string]any)
		wantPath string
		wantRule string
	}{
		{name: "events example passes", schema: "RequestBodyWebhookEvents"},
		{name: "payments example passes", schema: "RequestBodyWebhook"},
		{name: "missing eventType", schema: "RequestBodyWebhookEvents",
			mutate:   func(d map[string]any) { delete(d["data"].(map[string]any), "eventType") },
			wantPath: "/data/eventType", wantRule: "required"},
		{name: "bad eventType", schema: "RequestBodyWebhookEvents",
			mutate:   func(d map[string]any) { d["data"].(map[string]any)["eventType"] = "CREATED" },
			wantPath: "/data/eventType", wantRule: "enum"},
		{name: "timestamp with fraction", schema: "RequestBodyWebhook",
			mutate:   func(d map[string]any) { d["data"].(map[string]any)["timestamp"] = "2021-05-21T08:30:00.5Z" },
			wantPath: "/data/timestamp", wantRule: "pattern"},
		{name: "timestamp not a calendar time", schema: "RequestBodyWebhook",
			mutate:   func(d map[string]any) { d["data"].(map[string]any)["timestamp"] = "2021-02-30T08:30:00Z" },
			wantPath: "/data/timestamp", wantRule: "format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := exampleOf(t, doc.Components.Schemas[tt.schema].Value).(map[string]any)
			if tt.mutate == nil {
				body, err := json.Marshal(d)
				require.NoError(t, err)
				ValidateWebhookSchema(t, "1.3.0", tt.schema, body)
				return
			}
			tt.mutate(d)
			body, err := json.Marshal(d)
			require.NoError(t, err)
			var se *Error
			require.ErrorAs(t, CheckWebhookSchema(t, "1.3.0", tt.schema, body), &se)
			require.True(t, se.HasIssue(tt.wantPath, tt.wantRule), "want %s [%s] in %v", tt.wantPath, tt.wantRule, se)
		})
	}
}

func TestValidateSchemaReportsWithErrorf(t *testing.T) {
	t.Parallel()
	Load(t, AutomaticPayments, "2.2.0")
	bad := []byte(`{"data":{"status":"REVOKED","revocation":{"revokedBy":"ALGUEM","revokedFrom":"INICIADORA",` +
		`"reason":{"code":"NAO_INFORMADO","detail":"x"}}}}`)
	f := run(func(tb testing.TB) { ValidateSchema(tb, "2.2.0", "PatchRecurringConsent", bad) })
	require.True(t, f.errored)
	require.False(t, f.fatal)
	require.Contains(t, f.text(), "/data/revocation/revokedBy [enum]")

	good := []byte(`{"data":{"status":"REVOKED","revocation":{"revokedBy":"USUARIO","revokedFrom":"INICIADORA",` +
		`"reason":{"code":"REVOGADO_USUARIO","detail":"x"}}}}`)
	f = run(func(tb testing.TB) { ValidateSchema(tb, "2.2.0", "PatchRecurringConsent", good) })
	require.False(t, f.errored, f.text())
}

func TestCheckSchemaErrors(t *testing.T) {
	t.Parallel()
	Load(t, AutomaticPayments, "2.2.0")
	tests := []struct {
		name   string
		schema string
		body   string
		check  func(t *testing.T, err error)
	}{
		{name: "not JSON", schema: "PatchRecurringConsent", body: `{"data":`,
			check: func(t *testing.T, err error) {
				var se *Error
				require.ErrorAs(t, err, &se)
				require.Contains(t, err.Error(), "not JSON")
			}},
		{name: "trailing data", schema: "PatchRecurringConsent", body: `{"data":{}} {}`,
			check: func(t *testing.T, err error) { require.ErrorContains(t, err, "trailing data") }},
		{name: "oneOf conflict is visible with errors.Is", schema: "PatchRecurringConsent",
			body: `{"data":{"creditors":[{"name":"Empresa"}]}}`,
			check: func(t *testing.T, err error) {
				require.ErrorIs(t, err, openapi3.ErrOneOfConflict)
				var se *openapi3.SchemaError
				require.ErrorAs(t, err, &se)
				require.Equal(t, "oneOf", se.SchemaField)
			}},
		{name: "oneOf branch issues are labelled", schema: "CreateRecurringConsent",
			body: `{"data":{"loggedUser":{"document":{"identification":"12345678901","rel":"CPF"}},` +
				`"creditors":[{"personType":"PESSOA_JURIDICA","cpfCnpj":"12345678000199","name":"X"}],` +
				`"recurringConfiguration":{"automatic":{"interval":"DIARIO"}}}}`,
			check: func(t *testing.T, err error) {
				var se *Error
				require.ErrorAs(t, err, &se)
				require.True(t, se.HasIssue("/data/recurringConfiguration", "oneOf"), "%v", err)
				require.True(t, se.HasIssue("/data/recurringConfiguration/automatic/interval", "enum"), "%v", err)
				require.True(t, se.HasIssue("/data/recurringConfiguration/automatic/contractId", "required"), "%v", err)
				require.Contains(t, err.Error(), "oneOf[0] /data/recurringConfiguration/automatic/interval [enum]")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.check(t, CheckSchema(t, "2.2.0", tt.schema, []byte(tt.body)))
		})
	}
}

func TestPointer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		parts []string
		want  string
	}{
		{name: "root", want: ""},
		{name: "plain", parts: []string{"data", "creditors", strconv.Itoa(0)}, want: "/data/creditors/0"},
		{name: "escaped", parts: []string{"a/b", "c~d"}, want: "/a~1b/c~0d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, pointer(tt.parts))
		})
	}
}

func TestErrorMessage(t *testing.T) {
	t.Parallel()
	e := &Error{API: Webhook, Version: "1.3.0", Schema: "S", Err: errors.New("x"), Issues: []Issue{
		{Reason: "not JSON"},
		{Path: "/data", Rule: "required", Reason: "missing", Branch: "oneOf[1]"},
	}}
	require.Equal(t, "spectest: webhook 1.3.0 S: 2 violation(s)\n\t/: not JSON\n\toneOf[1] /data [required]: missing", e.Error())
	require.EqualError(t, errors.Unwrap(e), "x")
}
