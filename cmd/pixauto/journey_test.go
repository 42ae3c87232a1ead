package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/internal/journey"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// journeyRun runs `pixauto journey args…` on cmd and returns its output.
func journeyRun(t *testing.T, cmd *JourneyCommand, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout = &out
	}
	cmd.Stderr = &errOut
	err := cmd.Run(context.Background(), args)
	if b, ok := cmd.Stdout.(*bytes.Buffer); ok {
		return b.String(), errOut.String(), err
	}
	return fmt.Sprint(cmd.Stdout), errOut.String(), err
}

// ----- the reports as a CI server reads them -----

// xmlNode is any XML element.
type xmlNode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []xmlNode  `xml:",any"`
	Text     string     `xml:",chardata"`
}

func (n xmlNode) attr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

func (n xmlNode) children(name string) []xmlNode {
	var out []xmlNode
	for _, c := range n.Children {
		if c.XMLName.Local == name {
			out = append(out, c)
		}
	}
	return out
}

var (
	junitTimestampRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$`)
	junitDecimalRE   = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
)

// junitProblems checks a JUnit XML document against the Apache Ant JUnit
// schema (windyroad JUnit.xsd): the elements, their order, the required
// attributes and their types, no undeclared attribute, and counts that
// agree with the test cases.
func junitProblems(doc []byte) []string {
	var root xmlNode
	if err := xml.Unmarshal(doc, &root); err != nil {
		return []string{err.Error()}
	}
	var ps []string
	bad := func(format string, args ...any) { ps = append(ps, fmt.Sprintf(format, args...)) }
	attrs := func(n xmlNode, required, optional map[string]*regexp.Regexp) {
		for name, re := range required {
			v, ok := n.attr(name)
			switch {
			case !ok:
				bad("<%s> lacks the required %s", n.XMLName.Local, name)
			case !re.MatchString(v):
				bad("<%s %s=%q> does not match %s", n.XMLName.Local, name, v, re)
			}
		}
		for _, a := range n.Attrs {
			_, req := required[a.Name.Local]
			re, opt := optional[a.Name.Local]
			switch {
			case !req && !opt:
				bad("<%s> has the undeclared attribute %s", n.XMLName.Local, a.Name.Local)
			case opt && !re.MatchString(a.Value):
				bad("<%s %s=%q> does not match %s", n.XMLName.Local, a.Name.Local, a.Value, re)
			}
		}
	}
	token, integer, any := regexp.MustCompile(`\S`), regexp.MustCompile(`^-?[0-9]+$`), regexp.MustCompile(``)
	if root.XMLName.Local != "testsuites" {
		return []string{"the root is <" + root.XMLName.Local + ">, want <testsuites>"}
	}
	attrs(root, nil, nil)
	for _, s := range root.Children {
		if s.XMLName.Local != "testsuite" {
			bad("<testsuites> holds <%s>", s.XMLName.Local)
			continue
		}
		attrs(s, map[string]*regexp.Regexp{
			"name": token, "package": token, "id": integer, "tests": integer, "failures": integer, "errors": integer,
			"time": junitDecimalRE, "timestamp": junitTimestampRE, "hostname": token,
		}, map[string]*regexp.Regexp{"skipped": integer})
		var order []string
		for _, c := range s.Children {
			if len(order) == 0 || order[len(order)-1] != c.XMLName.Local {
				order = append(order, c.XMLName.Local)
			}
		}
		if o := strings.Join(order, ","); o != "properties,testcase,system-out,system-err" && o != "properties,system-out,system-err" {
			bad("<testsuite> holds %s, want properties, testcase…, system-out, system-err", o)
		}
		if len(s.children("properties")) != 1 || len(s.children("system-out")) != 1 || len(s.children("system-err")) != 1 {
			bad("<testsuite> needs exactly one properties, system-out and system-err")
		}
		for _, ps := range s.children("properties") {
			for _, p := range ps.Children {
				if p.XMLName.Local != "property" {
					bad("<properties> holds <%s>", p.XMLName.Local)
				}
				attrs(p, map[string]*regexp.Regexp{"name": token, "value": any}, nil)
			}
		}
		var failures, errs, skipped int
		cases := s.children("testcase")
		for _, c := range cases {
			attrs(c, map[string]*regexp.Regexp{"name": token, "classname": token, "time": junitDecimalRE}, nil)
			if len(c.Children) > 1 {
				bad("<testcase name=%q> has %d children, want at most one of skipped, error, failure", c.XMLName.Local, len(c.Children))
			}
			for _, r := range c.Children {
				switch r.XMLName.Local {
				case "failure", "error":
					attrs(r, map[string]*regexp.Regexp{"type": any}, map[string]*regexp.Regexp{"message": any})
					if r.XMLName.Local == "failure" {
						failures++
					} else {
						errs++
					}
				case "skipped":
					skipped++
				default:
					bad("<testcase> holds <%s>", r.XMLName.Local)
				}
			}
		}
		for name, n := range map[string]int{"tests": len(cases), "failures": failures, "errors": errs, "skipped": skipped} {
			v, ok := s.attr(name)
			if !ok && name == "skipped" {
				v = "0" // optional
			}
			if v != strconv.Itoa(n) {
				bad("<testsuite %s=%q>, but the document holds %d", name, v, n)
			}
		}
	}
	return ps
}

// junitCounts reads the one testsuite's counts and test cases.
func junitCounts(t *testing.T, doc []byte) (tests, failures, skipped int, cases map[string]xmlNode) {
	t.Helper()
	var root xmlNode
	require.NoError(t, xml.Unmarshal(doc, &root))
	suites := root.children("testsuite")
	require.Len(t, suites, 1)
	n := func(name string) int {
		v, _ := suites[0].attr(name)
		i, err := strconv.Atoi(v)
		require.NoError(t, err, name)
		return i
	}
	cases = map[string]xmlNode{}
	for _, c := range suites[0].children("testcase") {
		name, _ := c.attr("name")
		cases[name] = c
	}
	return n("tests"), n("failures"), n("skipped"), cases
}

type jsonJourneyReport struct {
	Tool     string
	Bank     struct{ Kind, Issuer, APIVersion string }
	Summary  struct{ Total, Passed, Failed, Skipped int }
	Journeys []struct {
		Journey, Title, Status, Message, FailureType, Details string
		Duration                                              float64
		Steps                                                 []struct {
			Name, Status, Message string
			InteractionIDs        []string `json:"interactionIds"`
			Calls                 []struct {
				Method, Path, InteractionID string
				Status                      int
			}
		}
	}
}

func readJSONReport(t *testing.T, path string) jsonJourneyReport {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var r jsonJourneyReport
	require.NoError(t, json.Unmarshal(b, &r), string(b))
	return r
}

func TestJUnitProblemsFindsSchemaViolations(t *testing.T) {
	good := `<testsuites><testsuite name="s" package="p" id="0" tests="1" failures="1" errors="0" time="0.5" timestamp="2026-11-23T10:00:00" hostname="h">` +
		`<properties/><testcase name="a" classname="c" time="0.1"><failure type="check" message="m">d</failure></testcase><system-out/><system-err/></testsuite></testsuites>`
	assert.Empty(t, junitProblems([]byte(good)))
	for broken, want := range map[string]string{
		strings.Replace(good, ` hostname="h"`, ``, 1):                           "lacks the required hostname",
		strings.Replace(good, `2026-11-23T10:00:00`, `2026-11-23T10:00:00Z`, 1): "timestamp",
		strings.Replace(good, ` type="check"`, ``, 1):                           "lacks the required type",
		strings.Replace(good, `tests="1"`, `tests="2"`, 1):                      `tests="2"`,
		strings.Replace(good, `<system-err/>`, ``, 1):                           "system-err",
		strings.Replace(good, `<testsuites>`, `<testsuites tests="1">`, 1):      "undeclared attribute tests",
	} {
		assert.Contains(t, strings.Join(junitProblems([]byte(broken)), "\n"), want)
	}
}

// ----- the command -----

// One embedded bank serves every run: the journeys start from wherever the
// previous run left its clock.
func TestJourneyCommand(t *testing.T) {
	bank := sandbox.NewTest(t, sandbox.Config{Clock: sandbox.NewClock(journeyStart)})
	names := make([]string, 0, len(journey.All()))
	for _, j := range journey.All() {
		names = append(names, j.Name)
	}

	t.Run("every journey passes against the embedded bank, in both reports", func(t *testing.T) {
		dir := t.TempDir()
		junit, jsonPath := filepath.Join(dir, "report.xml"), filepath.Join(dir, "report.json")
		out, errOut, err := journeyRun(t, &JourneyCommand{bank: bank}, "-junit", junit, "-json", jsonPath)
		require.NoError(t, err, "%s\n%s", out, errOut)
		assert.Contains(t, out, "pixauto journey: 11 journeys against the embedded sandbox bank")
		for i, name := range names {
			assert.Regexp(t, fmt.Sprintf(`(?m)^\[%2d/11\] ✔ %s +\d+\.\d\ds$`, i+1, regexp.QuoteMeta(name)), out)
		}
		assert.Contains(t, out, "11 journeys: 11 passed, 0 failed, 0 skipped in ")
		assert.NotContains(t, out, "\x1b", "no ANSI sequences")
		assert.NotContains(t, out, "\r", "no bar redrawn off a terminal")

		doc, err := os.ReadFile(junit)
		require.NoError(t, err)
		assert.Empty(t, junitProblems(doc), string(doc))
		tests, failures, skipped, cases := junitCounts(t, doc)
		assert.Equal(t, []int{11, 0, 0}, []int{tests, failures, skipped})
		for _, name := range names {
			c, ok := cases[name]
			if assert.True(t, ok, name) {
				assert.Empty(t, c.Children, "%s passed", name)
			}
		}

		r := readJSONReport(t, jsonPath)
		assert.Equal(t, "pixauto journey", r.Tool)
		assert.Equal(t, "sandbox", r.Bank.Kind)
		assert.Equal(t, "2.2.0", r.Bank.APIVersion)
		assert.Equal(t, 11, r.Summary.Total)
		assert.Equal(t, 11, r.Summary.Passed)
		require.Len(t, r.Journeys, 11)
		for i, j := range r.Journeys {
			assert.Equal(t, names[i], j.Journey)
			assert.Equal(t, "passed", j.Status, j.Journey)
			assert.NotEmpty(t, j.Title)
			require.NotEmpty(t, j.Steps, j.Journey)
			var ids int
			for _, s := range j.Steps {
				assert.Equal(t, "passed", s.Status, "%s: %s", j.Journey, s.Name)
				for _, c := range s.Calls {
					if strings.Contains(c.Path, sandbox.AutomaticPaymentsBase) {
						assert.Regexp(t, `^[0-9a-f-]{36}$`, c.InteractionID, "%s: %s %s", j.Journey, c.Method, c.Path)
					}
				}
				ids += len(s.InteractionIDs)
			}
			assert.Positive(t, ids, "%s: the bank's interaction ids", j.Journey)
		}
	})

	t.Run("a journey meeting a bank fault fails in both reports and the exit status", func(t *testing.T) {
		dir := t.TempDir()
		junit, jsonPath := filepath.Join(dir, "report.xml"), filepath.Join(dir, "report.json")
		out, _, err := journeyRun(t, &JourneyCommand{bank: bank},
			"-run", "^(adhesion-immediate-first-payment|revoke|reject)$", "-junit", junit, "-json", jsonPath,
			"-fault", "revoke=BadSignature", "-fault", "adhesion-immediate-first-payment=reject:SALDO_INSUFICIENTE")
		require.EqualError(t, err, "2 of 3 journeys failed")
		assert.Regexp(t, `(?m)^\[1/3\] ✘ adhesion-immediate-first-payment +\d+\.\d\ds\n +the first payment \S+ settles at once \(ACSC\): payment \S+ is RJCT \(SALDO_INSUFICIENTE\), want ACSC$`, out)
		assert.Regexp(t, `(?m)^\[2/3\] ✘ revoke +\d+\.\d\ds\n +create the consent \(POST /recurring-consents\): fapi: response JWS signature`, out)
		assert.Regexp(t, `(?m)^\[3/3\] ✔ reject `, out)
		assert.Contains(t, out, "3 journeys: 1 passed, 2 failed, 0 skipped")

		doc, err := os.ReadFile(junit)
		require.NoError(t, err)
		assert.Empty(t, junitProblems(doc), string(doc))
		tests, failures, skipped, cases := junitCounts(t, doc)
		assert.Equal(t, []int{3, 2, 0}, []int{tests, failures, skipped})
		fail := cases["revoke"].children("failure")
		require.Len(t, fail, 1)
		msg, _ := fail[0].attr("message")
		typ, _ := fail[0].attr("type")
		assert.Contains(t, msg, "create the consent (POST /recurring-consents): fapi: response JWS signature")
		assert.Equal(t, "fapi.SignatureError", typ)
		assert.Contains(t, fail[0].Text, "FAIL create the consent")
		assert.Regexp(t, `POST /open-banking/automatic-payments/v2/recurring-consents → 201 x-fapi-interaction-id [0-9a-f-]{36}`, fail[0].Text)
		fail = cases["adhesion-immediate-first-payment"].children("failure")
		require.Len(t, fail, 1)
		typ, _ = fail[0].attr("type")
		assert.Equal(t, "check", typ)
		assert.Empty(t, cases["reject"].Children)

		r := readJSONReport(t, jsonPath)
		assert.Equal(t, 2, r.Summary.Failed)
		require.Len(t, r.Journeys, 3)
		rv := r.Journeys[1]
		assert.Equal(t, "revoke", rv.Journey)
		assert.Equal(t, "failed", rv.Status)
		assert.Equal(t, msg, rv.Message)
		assert.Equal(t, "fapi.SignatureError", rv.FailureType)
		assert.Contains(t, rv.Details, "FAIL create the consent")
		require.Len(t, rv.Steps, 1)
		assert.Equal(t, "failed", rv.Steps[0].Status)
		assert.Len(t, rv.Steps[0].InteractionIDs, 1, "the bank's id of the refused answer")
		assert.Contains(t, r.Journeys[0].Message, "is RJCT (SALDO_INSUFICIENTE), want ACSC")
		assert.Equal(t, "passed", r.Journeys[2].Status)
	})

	t.Run("-run selects journeys by name", func(t *testing.T) {
		jsonPath := filepath.Join(t.TempDir(), "report.json")
		out, _, err := journeyRun(t, &JourneyCommand{bank: bank}, "-run", "^retry-", "-json", jsonPath)
		require.NoError(t, err, out)
		assert.Contains(t, out, "4 journeys: 4 passed")
		var got []string
		for _, j := range readJSONReport(t, jsonPath).Journeys {
			got = append(got, j.Journey)
		}
		assert.Equal(t, []string{"retry-intraday", "retry-next-day", "retry-limit-reached", "retry-never-retry-reason"}, got)
		assert.NotContains(t, out, "adhesion")

		_, _, err = journeyRun(t, &JourneyCommand{bank: bank}, "-run", "^nothing$")
		assert.EqualError(t, err, `journey: no journey matches -run "^nothing$" (see -list)`)
		_, _, err = journeyRun(t, &JourneyCommand{bank: bank}, "-run", "(")
		assert.ErrorContains(t, err, "journey: -run: error parsing regexp")
	})

	// The same bank, as a bank the journeys cannot control: configured from
	// the PEM files and holder entry of pixauto sandbox --credentials-dir,
	// on the bank's (frozen) clock.
	dir := t.TempDir()
	cfgPath := writeJourneyBankConfig(t, dir, bank)
	configured := func() *JourneyCommand {
		return &JourneyCommand{clock: bank.Clock, sleep: func(context.Context, time.Duration) error {
			return errors.New("the test does not wait: the sandbox moves a payment on at the next read")
		}}
	}

	t.Run("a configured bank: what it cannot play is skipped, with the reason", func(t *testing.T) {
		junit, jsonPath := filepath.Join(dir, "report.xml"), filepath.Join(dir, "report.json")
		out, errOut, err := journeyRun(t, configured(), "-bank-config", cfgPath, "-junit", junit, "-json", jsonPath)
		require.NoError(t, err, "%s\n%s", out, errOut)
		assert.Contains(t, out, "pixauto journey: 11 journeys against "+bank.Issuer)
		assert.Contains(t, out, "11 journeys: 1 passed, 0 failed, 10 skipped")
		assert.Regexp(t, `(?m)^\[ 6/11\] ✔ reject `, out)
		assert.Regexp(t, `(?m)^\[ 1/11\] - adhesion-no-first-payment +skipped: needs the payer to authorise a consent at the bank, which takes a browser \(run with -interactive\)$`, out)
		assert.Regexp(t, `(?m)^\[ 8/11\] - retry-intraday +skipped: needs to move the bank's clock`, out)

		doc, err := os.ReadFile(junit)
		require.NoError(t, err)
		assert.Empty(t, junitProblems(doc), string(doc))
		tests, failures, skipped, cases := junitCounts(t, doc)
		assert.Equal(t, []int{11, 0, 10}, []int{tests, failures, skipped})
		sk := cases["retry-next-day"].children("skipped")
		require.Len(t, sk, 1)
		msg, _ := sk[0].attr("message")
		assert.Contains(t, msg, "needs to move the bank's clock")

		r := readJSONReport(t, jsonPath)
		assert.Equal(t, "configured", r.Bank.Kind)
		assert.Equal(t, 10, r.Summary.Skipped)
	})

	t.Run("a configured bank with -interactive: the tester approves each consent", func(t *testing.T) {
		p := &scriptedPayer{t: t, bank: bank}
		cmd := configured()
		cmd.Stdout, cmd.Stdin = p, &p.in
		jsonPath := filepath.Join(dir, "interactive.json")
		out, errOut, err := journeyRun(t, cmd, "-bank-config", cfgPath, "-interactive", "-json", jsonPath)
		require.NoError(t, err, "%s\n%s", out, errOut)
		assert.Equal(t, 6, p.approvals, "one approval per consent authorised")
		assert.Contains(t, out, "log in as the payer (CPF "+bank.PayerCPF+")")
		assert.Contains(t, out, "11 journeys: 7 passed, 0 failed, 4 skipped")
		r := readJSONReport(t, jsonPath)
		for _, j := range r.Journeys {
			if strings.HasPrefix(j.Journey, "retry-") {
				assert.Equal(t, "skipped", j.Status, j.Journey)
				continue
			}
			assert.Equal(t, "passed", j.Status, "%s: %s", j.Journey, j.Message)
			if j.Journey == "adhesion-no-first-payment" {
				last := j.Steps[len(j.Steps)-1]
				assert.Equal(t, "skipped", last.Status, "settling on its date takes the bank's clock")
				assert.Contains(t, last.Name, "settles on")
			}
		}
	})

	t.Run("a configured bank with -interactive and no callback URL", func(t *testing.T) {
		cmd := configured()
		cmd.Stdin = strings.NewReader("\n")
		out, _, err := journeyRun(t, cmd, "-bank-config", cfgPath, "-interactive", "-run", "^edit$")
		require.EqualError(t, err, "1 of 1 journey failed")
		assert.Contains(t, out, "the payer's authorization: no callback URL was pasted")
	})
}

// scriptedPayer is the tester at the terminal: it reads the command's
// output and, for each authorization URL printed, approves at the bank and
// "pastes" the redirect URL on the command's stdin.
type scriptedPayer struct {
	t         *testing.T
	bank      *sandbox.Bank
	out, in   bytes.Buffer
	approvals int
}

func (p *scriptedPayer) Write(b []byte) (int, error) {
	p.out.Write(b)
	for _, line := range strings.Split(string(b), "\n") {
		u := strings.TrimSpace(line)
		if !strings.HasPrefix(u, p.bank.PublicURL+"/") {
			continue
		}
		redirect, err := p.bank.Authorize(context.Background(), u)
		require.NoError(p.t, err)
		p.in.WriteString(redirect + "\n")
		p.approvals++
	}
	return len(b), nil
}

func (p *scriptedPayer) String() string { return p.out.String() }

// writeJourneyBankConfig writes the bank's ITP credentials as pixauto
// sandbox --credentials-dir does, and a bank config made of its holder.json
// and the three keys a journey run adds.
func writeJourneyBankConfig(t *testing.T, dir string, bank *sandbox.Bank) string {
	t.Helper()
	require.NoError(t, writeCredentials(dir, bank))
	b, err := os.ReadFile(filepath.Join(dir, "holder.json"))
	require.NoError(t, err)
	var cfg map[string]any
	require.NoError(t, json.Unmarshal(b, &cfg))
	cfg["redirect_uri"], cfg["payer_cpf"], cfg["itp_ispb"] = bank.ITP.RedirectURI, bank.PayerCPF, journey.SandboxITPISPB
	b, err = json.MarshalIndent(cfg, "", "  ")
	require.NoError(t, err)
	path := filepath.Join(dir, "bank.json")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path
}

func TestJourneyCommandRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	cfg := map[string]string{"issuer": "https://auth.bank.example", "certificate_file": "t.pem"}
	b, err := json.Marshal(cfg)
	require.NoError(t, err)
	cfgPath := filepath.Join(dir, "bank.json")
	require.NoError(t, os.WriteFile(cfgPath, b, 0o600))

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-bank-config", cfgPath}, `bank config ` + cfgPath + `: missing fields: "client_id" (the ITP's client id at the bank), "key_file" (PEM file of the transport certificate's key), `},
		{[]string{"-bank-config", filepath.Join(dir, "none.json")}, "bank config: open " + filepath.Join(dir, "none.json")},
		{[]string{"-interactive"}, "journey: -interactive needs -bank-config"},
		{[]string{"-fault", "revoke=BadSignature", "-bank-config", cfgPath}, "journey: -fault needs the embedded sandbox bank"},
		{[]string{"-fault", "nope=BadSignature"}, `journey: -fault: no journey named "nope"`},
		{[]string{"-fault", "revoke=Delay"}, `invalid value "revoke=Delay" for flag -fault: unknown fault "Delay"`},
		{[]string{"-fault", "revoke"}, `want journey=kind`},
		{[]string{"extra"}, `journey: unexpected argument "extra"`},
	} {
		_, errOut, err := journeyRun(t, &JourneyCommand{}, c.args...)
		if assert.Error(t, err, c.args) {
			assert.Contains(t, err.Error()+errOut, c.want, c.args)
		}
	}
}

func TestJourneyCommandListsAndDocumentsItself(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, NewMain(&out, &errOut).Run(context.Background(), []string{"journey", "-list"}))
	for _, j := range journey.All() {
		assert.Regexp(t, `(?m)^`+regexp.QuoteMeta(j.Name)+` +\S`, out.String())
	}
	out.Reset()
	require.ErrorIs(t, NewMain(&out, &errOut).Run(context.Background(), []string{"journey", "-h"}), flag.ErrHelp)
	for _, flagName := range []string{"-bank-config", "-interactive", "-junit", "-json", "-run", "-fault", "-list"} {
		assert.Contains(t, errOut.String(), "  "+flagName)
	}
	require.NoError(t, NewMain(&out, &errOut).Run(context.Background(), []string{"help"}))
	assert.True(t, slices.ContainsFunc(strings.Split(out.String(), "\n"), func(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), "journey ") }))
}
