package journey

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var start = time.Date(2026, 11, 23, 10, 0, 0, 0, consent.Brasilia)

func newSandbox(t *testing.T) (*sandbox.Bank, *Env) {
	t.Helper()
	bank := sandbox.NewTest(t, sandbox.Config{Clock: sandbox.NewClock(start)})
	e, err := NewSandboxEnv(bank)
	require.NoError(t, err)
	return bank, e
}

func byName(t *testing.T, names ...string) []Journey {
	t.Helper()
	var out []Journey
	for _, n := range names {
		require.True(t, Has(All(), n), n)
		out = append(out, Select(All(), regexp.MustCompile("^"+regexp.QuoteMeta(n)+"$"))...)
	}
	return out
}

// One bank plays three ways: with every control, with the payer but not
// its clock or settlement script (a real bank with -interactive), and with
// no control (a real bank).
func TestJourneysOnTheSandbox(t *testing.T) {
	bank, e := newSandbox(t)
	ctx := context.Background()

	t.Run("every control: all pass", func(t *testing.T) {
		for _, res := range (&Runner{Env: e}).Run(ctx, All()) {
			assert.Equal(t, Passed, res.Status, "%s: %s\n%s", res.Name, res.Message, res.Details)
			assert.NotEmpty(t, res.Steps, res.Name)
			for _, st := range res.Steps {
				assert.Equal(t, Passed, st.Status, "%s: %s", res.Name, st.Name)
			}
		}
	})

	t.Run("the payer only: journeys that need time or failures are skipped", func(t *testing.T) {
		e.Time, e.Settlement = nil, nil
		e.Sleep = func(context.Context, time.Duration) error {
			return errors.New("no sleeping: the sandbox moves on the next request")
		}
		t.Cleanup(func() { e.Time, e.Settlement, e.Sleep = bank, bank, nil })
		results := (&Runner{Env: e}).Run(ctx, All())
		for _, res := range results {
			if strings.HasPrefix(res.Name, "retry-") {
				assert.Equal(t, Skipped, res.Status, res.Name)
				assert.Contains(t, res.Message, "move the bank's clock", res.Name)
				assert.Empty(t, res.Steps, "%s: skipped before any call", res.Name)
				continue
			}
			assert.Equal(t, Passed, res.Status, "%s: %s\n%s", res.Name, res.Message, res.Details)
		}
		// The steps that need the bank's clock are recorded as skipped.
		for _, name := range []string{"adhesion-no-first-payment", "adhesion-immediate-first-payment", "adhesion-scheduled-first-payment", "cancel"} {
			res := results[index(t, results, name)]
			last := res.Steps[len(res.Steps)-1]
			assert.Equal(t, Skipped, last.Status, "%s: %s", name, last.Name)
			assert.Contains(t, last.Message, "move the bank's clock")
		}
	})

	t.Run("no control: only the rejection runs", func(t *testing.T) {
		e.Time, e.Settlement, e.Payer = nil, nil, nil
		t.Cleanup(func() { e.Time, e.Settlement, e.Payer = bank, bank, bank })
		for _, res := range (&Runner{Env: e}).Run(ctx, All()) {
			if res.Name == "reject" {
				assert.Equal(t, Passed, res.Status, "%s\n%s", res.Message, res.Details)
				continue
			}
			assert.Equal(t, Skipped, res.Status, res.Name)
			assert.NotEmpty(t, res.Message, res.Name)
		}
	})
}

func index(t *testing.T, rs []Result, name string) int {
	t.Helper()
	for i, r := range rs {
		if r.Name == name {
			return i
		}
	}
	t.Fatalf("no result for %s", name)
	return -1
}

// A bank that settles otherwise than the journey expects fails it with a
// check: the step, the payment's status and code, and the calls made.
func TestAJourneyFailsWhenTheBankMisbehaves(t *testing.T) {
	bank, e := newSandbox(t)
	ctx := context.Background()
	r := &Runner{Env: e, Before: func(j Journey) error {
		switch j.Name {
		case "adhesion-immediate-first-payment": // the first payment is refused
			return bank.ScriptSettlement(bank.PayerCPF, sandbox.Reject(payments.RejectionSaldoInsuficiente))
		case "edit": // the answer to the edition is not the bank's
			bank.InjectFault(sandbox.CallFault{Op: sandbox.OpPatchConsent, Kind: sandbox.FaultWrongIssuer})
		}
		return nil
	}}
	results := r.Run(ctx, byName(t, "adhesion-immediate-first-payment", "edit", "reject"))

	fp := results[0]
	require.Equal(t, Failed, fp.Status)
	assert.Equal(t, "check", fp.Type)
	assert.Regexp(t, `^the first payment \S+ settles at once \(ACSC\): payment \S+ is RJCT \(SALDO_INSUFICIENTE\), want ACSC$`, fp.Message)
	assert.Contains(t, fp.Details, "FAIL the first payment")
	assert.Regexp(t, `GET /open-banking/automatic-payments/v2/pix/recurring-payments/\S+ → 200 x-fapi-interaction-id [0-9a-f-]{36}`, fp.Details)
	failed := fp.Steps[len(fp.Steps)-1]
	assert.Equal(t, Failed, failed.Status)
	require.NotEmpty(t, failed.Calls)
	assert.NotEmpty(t, failed.Calls[0].InteractionID)

	ed := results[1]
	require.Equal(t, Failed, ed.Status)
	assert.Equal(t, "fapi.SignatureError", ed.Type)
	assert.Contains(t, ed.Message, "raise the maximum to R$ 500.00")

	assert.Equal(t, Passed, results[2].Status, "the next journey is not affected")

}

func TestRunnerTurnsPanicsAndHookErrorsIntoFailures(t *testing.T) {
	e := &Env{}
	boom := Journey{Name: "boom", Run: func(context.Context, *Env) error { panic("kaput") }}
	hooked := Journey{Name: "hooked", Run: func(context.Context, *Env) error { return nil }}
	skipper := Journey{Name: "skipper", Run: func(ctx context.Context, e *Env) error {
		if err := e.Step(ctx, "first", func(context.Context) error { return nil }); err != nil {
			return err
		}
		return Skip("not today")
	}}
	r := &Runner{Env: e, Before: func(j Journey) error {
		if j.Name == "hooked" {
			return errors.New("cannot arm the fault")
		}
		return nil
	}}
	res := r.Run(context.Background(), []Journey{boom, hooked, skipper})
	assert.Equal(t, Failed, res[0].Status)
	assert.Contains(t, res[0].Message, "kaput")
	assert.Equal(t, Failed, res[1].Status)
	assert.Equal(t, "cannot arm the fault", res[1].Message)
	assert.Equal(t, Skipped, res[2].Status)
	assert.Equal(t, "not today", res[2].Message)
	assert.Len(t, res[2].Steps, 1)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res = r.Run(ctx, []Journey{skipper})
	assert.Equal(t, Skipped, res[0].Status)
	assert.Contains(t, res[0].Message, "interrupted")
}

func TestChecks(t *testing.T) {
	assert.NoError(t, equal("x", 1, 1))
	assert.EqualError(t, equal("the status", payments.StatusRJCT, payments.StatusACSC), "the status is RJCT, want ACSC")
	assert.EqualError(t, equal("the code", payments.RejectionCode(""), payments.RejectionSaldoInsuficiente), `the code is "", want SALDO_INSUFICIENTE`)
	assert.NoError(t, checks(nil, nil))
	var ce *CheckError
	assert.ErrorAs(t, checks(nil, failf("a"), failf("b")), &ce)

	assert.ErrorContains(t, isAPIError(nil, 422, "X"), "the bank accepted it")
	assert.ErrorContains(t, isAPIError(errors.New("network"), 422, "X"), "want HTTP 422 X from the bank, got: network")
	ae := &fapi.APIError{StatusCode: 422, Errors: []fapi.ErrorItem{{Code: "X"}}, Signed: true}
	assert.NoError(t, isAPIError(ae, 422, "X"))
	assert.ErrorContains(t, isAPIError(ae, 422, "Y"), "want the code Y")
	ae.Signed = false
	assert.ErrorContains(t, isAPIError(ae, 422, "X"), "not a signed message")

	col := &collector{}
	ctx := context.WithValue(context.Background(), collectorKey{}, col)
	assert.NoError(t, noCall(ctx, http.MethodPost, "/retry"))
	col.add(Call{Method: http.MethodPost, Path: "/x/retry"})
	assert.ErrorContains(t, noCall(ctx, http.MethodPost, "/retry"), "the SDK should have refused")
}

func sampleReport() *Report {
	return &Report{
		Suite: "pixauto journey", Bank: BankInfo{Kind: "sandbox", Issuer: "https://bank.example"},
		Start: time.Date(2026, 11, 23, 13, 0, 0, 0, time.UTC), Duration: 1500 * time.Millisecond,
		Results: []Result{
			{Name: "a", Title: "A", Status: Passed, Duration: 250 * time.Millisecond, Steps: []StepResult{
				{Name: "s1", Status: Passed, Duration: time.Millisecond, Calls: []Call{{Method: "POST", Path: "/p", Status: 201, InteractionID: "iid-1"}, {Method: "POST", Path: "/token", Status: 200}}},
			}},
			{Name: "b", Status: Failed, Message: "s2: payment p is RJCT, want ACSC", Type: "check", Details: "s2: ]]> <&>\nsteps:\n", Steps: []StepResult{
				{Name: "s2", Status: Failed, Message: "payment p is RJCT, want ACSC"}}},
			{Name: "c", Status: Skipped, Message: "needs the clock"},
		},
	}
}

func TestJUnitReport(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, sampleReport().WriteJUnit(&buf))
	var doc junitSuites
	require.NoError(t, xml.Unmarshal(buf.Bytes(), &doc), buf.String())
	require.Len(t, doc.Suites, 1)
	s := doc.Suites[0]
	assert.Equal(t, 3, s.Tests)
	assert.Equal(t, 1, s.Failures)
	assert.Equal(t, 1, s.Skipped)
	assert.Equal(t, "1.500", s.Time)
	assert.Equal(t, "2026-11-23T13:00:00", s.Timestamp)
	assert.Len(t, s.Properties.Property, 2, "empty properties are left out")
	require.Len(t, s.Cases, 3)
	assert.Equal(t, "0.250", s.Cases[0].Time)
	require.NotNil(t, s.Cases[1].Failure)
	assert.Equal(t, "check", s.Cases[1].Failure.Type)
	assert.Equal(t, "s2: payment p is RJCT, want ACSC", s.Cases[1].Failure.Message)
	assert.Equal(t, "s2: ]]> <&>\nsteps:\n", s.Cases[1].Failure.Text, "details survive CDATA, ]]> included")
	require.NotNil(t, s.Cases[2].Skipped)
	assert.Equal(t, "needs the clock", s.Cases[2].Skipped.Message)
	assert.Contains(t, s.SystemOut.Text, "POST /p → 201 x-fapi-interaction-id iid-1")
}

func TestJSONReport(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, sampleReport().WriteJSON(&buf))
	var doc struct {
		Tool     string
		Duration float64
		Summary  Summary
		Journeys []struct {
			Journey, Status, Message, FailureType, Details string
			Duration                                       float64
			Steps                                          []struct {
				Name           string
				InteractionIDs []string `json:"interactionIds"`
				Calls          []struct {
					Method, Path, InteractionID string
					Status                      int
				}
			}
		}
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	assert.Equal(t, Summary{Total: 3, Passed: 1, Failed: 1, Skipped: 1}, doc.Summary)
	assert.Equal(t, 1.5, doc.Duration)
	require.Len(t, doc.Journeys, 3)
	assert.Equal(t, 0.25, doc.Journeys[0].Duration)
	assert.Equal(t, []string{"iid-1"}, doc.Journeys[0].Steps[0].InteractionIDs)
	assert.Len(t, doc.Journeys[0].Steps[0].Calls, 2)
	assert.Equal(t, "failed", doc.Journeys[1].Status)
	assert.Equal(t, "check", doc.Journeys[1].FailureType)
	assert.Equal(t, "skipped", doc.Journeys[2].Status)
	assert.Equal(t, "needs the clock", doc.Journeys[2].Message)
	assert.NotNil(t, doc.Journeys[2].Steps, "steps is [] when none ran")
}

func writeConfig(t *testing.T, dir string, fields map[string]any) string {
	t.Helper()
	b, err := json.Marshal(fields)
	require.NoError(t, err)
	p := filepath.Join(dir, "bank.json")
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return p
}

func validConfig() map[string]any {
	return map[string]any{
		"id": "bank-1", "issuer": "https://auth.bank.example", "client_id": "client-1",
		"certificate_file": "transport.pem", "key_file": "transport.key",
		"signing_key_file": "signing.key", "signing_key_id": "sig-1", "encryption_key_file": "enc.key", "encryption_key_id": "enc-1",
		"redirect_uri": "https://itp.example/callback", "bank_organisation_id": "org-bank",
		"keystore_url": "https://keystore.example", "base_url": "https://matls.bank.example/open-banking/automatic-payments/v2",
		"root_cas_file": "roots.pem", "payer_cpf": "52998224725", "itp_ispb": "12345678",
	}
}

func TestBankConfig(t *testing.T) {
	dir := t.TempDir()

	c, err := LoadBankConfig(writeConfig(t, dir, validConfig()))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "roots.pem"), c.path(c.RootCAs), "paths are relative to the file")
	_, err = c.FAPIConfig(nil)
	assert.ErrorContains(t, err, `"certificate_file"/"key_file"`, "the files are read when the run starts")

	m := validConfig()
	delete(m, "client_id")
	delete(m, "signing_key_id")
	_, err = LoadBankConfig(writeConfig(t, dir, m))
	assert.EqualError(t, err, "bank config "+filepath.Join(dir, "bank.json")+`: missing fields: "client_id" (the ITP's client id at the bank), "signing_key_id" (the signing key's kid in the directory)`)

	m = validConfig()
	m["issuer"], m["payer_cpf"], m["itp_ispb"] = "http://auth.bank.example", "123", "1234"
	m["creditor"] = map[string]any{"cnpj": "1", "name": "", "account": map[string]any{}}
	_, err = LoadBankConfig(writeConfig(t, dir, m))
	for _, want := range []string{`"issuer" is not an absolute https URL`, `"payer_cpf" is not a valid CPF`, `"itp_ispb" is not an ISPB`, `"creditor.cnpj"`, `"creditor.name"`, `"creditor.account"`} {
		assert.ErrorContains(t, err, want)
	}

	m = validConfig()
	m["signing_kid"] = "typo"
	_, err = LoadBankConfig(writeConfig(t, dir, m))
	assert.ErrorContains(t, err, `unknown field "signing_kid"`)

	_, err = LoadBankConfig(filepath.Join(dir, "nope.json"))
	assert.ErrorContains(t, err, "no such file")
}
