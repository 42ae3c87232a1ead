package journey

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"
)

// Report is a run of journeys, for the JUnit XML and JSON reports.
type Report struct {
	// Suite names the run ("pixauto journey").
	Suite string
	// Bank describes the bank the journeys ran against.
	Bank BankInfo
	// Start is when the run started (wall time); Duration how long it took.
	Start    time.Time
	Duration time.Duration
	// Results are the journeys' results, in the order they ran.
	Results []Result
}

// BankInfo describes the bank of a run.
type BankInfo struct {
	// Kind is "sandbox" (the embedded bank) or "configured" (-bank-config).
	Kind string `json:"kind"`
	// Issuer is the bank's OpenID issuer.
	Issuer string `json:"issuer"`
	// APIBaseURL is its automatic-payments base URL.
	APIBaseURL string `json:"apiBaseUrl"`
	// APIVersion is the automatic-payments version it announced (x-v), ""
	// if no call reached it.
	APIVersion string `json:"apiVersion,omitempty"`
}

// Summary counts results by status.
type Summary struct {
	Total   int `json:"total"`
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
}

// Summary counts the report's results.
func (r *Report) Summary() Summary {
	s := Summary{Total: len(r.Results)}
	for _, res := range r.Results {
		switch res.Status {
		case Passed:
			s.Passed++
		case Failed:
			s.Failed++
		case Skipped:
			s.Skipped++
		}
	}
	return s
}

// seconds rounds d to milliseconds, in seconds.
func seconds(d time.Duration) float64 { return math.Round(d.Seconds()*1000) / 1000 }

// ----- JUnit XML -----

// The JUnit XML document follows the Apache Ant JUnit schema (the
// windyroad JUnit.xsd that CI servers read): <testsuites> holds one
// <testsuite> with its required name, package, id, tests, failures, errors,
// time, timestamp (no zone) and hostname, then <properties>, the
// <testcase>s (name, classname, time; a <failure> with its required type,
// or a <skipped>), <system-out> and <system-err>, in that order.

// JUnitClassname is the classname of every test case.
const JUnitClassname = "pixauto.journey"

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Package    string          `xml:"package,attr"`
	ID         int             `xml:"id,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Hostname   string          `xml:"hostname,attr"`
	Properties junitProperties `xml:"properties"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  cdata           `xml:"system-out"`
	SystemErr  cdata           `xml:"system-err"`
}

// junitProperties is always written: the schema requires the element.
type junitProperties struct {
	Property []junitProperty `xml:"property"`
}

// cdata is element text written as CDATA, legible in the file.
type cdata struct {
	Text string `xml:",cdata"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure"`
	Skipped   *junitSkipped `xml:"skipped"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func xmlSeconds(d time.Duration) string { return fmt.Sprintf("%.3f", seconds(d)) }

// WriteJUnit writes the report as JUnit XML: one test case per journey,
// failed with its message, type and details (the failed step, the error,
// the steps and their calls), or skipped with its reason; the steps of
// every journey, with the bank's interaction ids, go to <system-out>.
func (r *Report) WriteJUnit(w io.Writer) error {
	s := r.Summary()
	host, err := os.Hostname()
	if err != nil || strings.TrimSpace(host) == "" {
		host = "localhost"
	}
	suite := junitSuite{
		Name: r.Suite, Package: JUnitClassname, ID: 0,
		Tests: s.Total, Failures: s.Failed, Skipped: s.Skipped,
		Time: xmlSeconds(r.Duration), Timestamp: r.Start.UTC().Format("2006-01-02T15:04:05"), Hostname: host,
	}
	for _, p := range []junitProperty{
		{"bank.kind", r.Bank.Kind}, {"bank.issuer", r.Bank.Issuer},
		{"bank.apiBaseUrl", r.Bank.APIBaseURL}, {"bank.apiVersion", r.Bank.APIVersion},
	} {
		if p.Value != "" {
			suite.Properties.Property = append(suite.Properties.Property, p)
		}
	}
	var out strings.Builder
	for _, res := range r.Results {
		c := junitCase{Name: res.Name, Classname: JUnitClassname, Time: xmlSeconds(res.Duration)}
		switch res.Status {
		case Failed:
			c.Failure = &junitFailure{Message: res.Message, Type: res.Type, Text: res.Details}
		case Skipped:
			c.Skipped = &junitSkipped{Message: res.Message}
		}
		suite.Cases = append(suite.Cases, c)
		fmt.Fprintf(&out, "== %s: %s (%.3fs)\n", res.Name, res.Status, seconds(res.Duration))
		if res.Status == Skipped {
			fmt.Fprintf(&out, "   %s\n", res.Message)
		}
		writeSteps(&out, res.Steps, "   ")
	}
	suite.SystemOut = cdata{out.String()}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{suite}}); err != nil {
		return err
	}
	_, err = io.WriteString(w, "\n")
	return err
}

// ----- JSON -----

type jsonReport struct {
	Tool      string        `json:"tool"`
	Bank      BankInfo      `json:"bank"`
	StartedAt time.Time     `json:"startedAt"`
	Duration  float64       `json:"duration"`
	Summary   Summary       `json:"summary"`
	Journeys  []jsonJourney `json:"journeys"`
}

type jsonJourney struct {
	Journey     string     `json:"journey"`
	Title       string     `json:"title"`
	Module      string     `json:"module,omitempty"`
	Status      Status     `json:"status"`
	Duration    float64    `json:"duration"`
	Message     string     `json:"message,omitempty"`
	FailureType string     `json:"failureType,omitempty"`
	Details     string     `json:"details,omitempty"`
	Steps       []jsonStep `json:"steps"`
}

type jsonStep struct {
	Name           string     `json:"name"`
	Status         Status     `json:"status"`
	Duration       float64    `json:"duration"`
	Message        string     `json:"message,omitempty"`
	InteractionIDs []string   `json:"interactionIds,omitempty"`
	Calls          []jsonCall `json:"calls,omitempty"`
}

type jsonCall struct {
	Method        string `json:"method"`
	Path          string `json:"path"`
	Status        int    `json:"status"`
	InteractionID string `json:"interactionId,omitempty"`
	Error         string `json:"error,omitempty"`
}

// WriteJSON writes the report as JSON: the bank, a summary, and each
// journey with its status (passed, failed, skipped), duration in seconds,
// failure message and details, and its steps with the calls they made and
// the bank's x-fapi-interaction-ids.
func (r *Report) WriteJSON(w io.Writer) error {
	out := jsonReport{Tool: r.Suite, Bank: r.Bank, StartedAt: r.Start.UTC().Truncate(time.Millisecond),
		Duration: seconds(r.Duration), Summary: r.Summary(), Journeys: []jsonJourney{}}
	for _, res := range r.Results {
		j := jsonJourney{Journey: res.Name, Title: res.Title, Module: res.Module, Status: res.Status, Duration: seconds(res.Duration),
			Message: res.Message, FailureType: res.Type, Details: res.Details, Steps: []jsonStep{}}
		for _, st := range res.Steps {
			js := jsonStep{Name: st.Name, Status: st.Status, Duration: seconds(st.Duration), Message: st.Message}
			for _, c := range st.Calls {
				js.Calls = append(js.Calls, jsonCall(c))
				if c.InteractionID != "" {
					js.InteractionIDs = append(js.InteractionIDs, c.InteractionID)
				}
			}
			j.Steps = append(j.Steps, js)
		}
		out.Journeys = append(out.Journeys, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}
