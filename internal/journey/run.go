package journey

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/payments"
)

// Func is a journey: it drives the ITP's clients against e's bank, checks
// every outcome (statuses, codes) and returns a descriptive error on the
// first that is not what the specification says, or a *SkipError when the
// bank cannot play it.
type Func func(ctx context.Context, e *Env) error

// Journey is a named conformance journey.
type Journey struct {
	// Name identifies the journey (-run matches it).
	Name string
	// Title says what it shows, in a line.
	Title string
	// Module is the conformance test module it follows, if any.
	Module string
	// Needs are the controls of the bank's side it cannot do without; the
	// runner skips it, with the reason, on a bank that lacks one.
	Needs Need
	// Run is the journey.
	Run Func
}

// Status is the outcome of a journey or a step.
type Status string

// Statuses.
const (
	Passed  Status = "passed"
	Failed  Status = "failed"
	Skipped Status = "skipped"
)

// Result is the outcome of one journey.
type Result struct {
	Name, Title, Module string
	Status              Status
	// Start is when it started (wall time); Duration how long it took.
	Start    time.Time
	Duration time.Duration
	// Message is why it failed (one line) or was skipped.
	Message string
	// Type classifies a failure: "check" when an outcome was not the one
	// expected, else the kind of error a call returned ("fapi.APIError",
	// "payments.ValidationErrors", …).
	Type string
	// Details are the failure's details: the failed step, the error in
	// full and the calls of the step.
	Details string
	// Steps are the steps run, in order.
	Steps []StepResult
}

// StepResult is the outcome of one step of a journey.
type StepResult struct {
	Name     string
	Status   Status
	Duration time.Duration
	// Message is why it failed or was skipped.
	Message string
	// Calls are the requests the step made to the bank's mTLS host.
	Calls []Call
}

// Call is one request to the bank, as a step made it.
type Call struct {
	Method string
	Path   string
	// Status is the HTTP status, 0 when no answer came.
	Status int
	// InteractionID is the x-fapi-interaction-id the bank answered with,
	// "" when it sent none.
	InteractionID string
	// Error is why no answer came.
	Error string
}

// SkipError ends a journey as skipped.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string { return "skipped: " + e.Reason }

// Skip returns a *SkipError: the journey cannot be played on this bank.
func Skip(reason string) error { return &SkipError{Reason: reason} }

// CheckError is an outcome that is not the one expected.
type CheckError struct{ Msg string }

func (e *CheckError) Error() string { return e.Msg }

// StepError is the failure of a named step.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return fmt.Sprintf("%s: %v", e.Step, e.Err) }

// Unwrap returns the step's error.
func (e *StepError) Unwrap() error { return e.Err }

// Step runs one named step of the running journey and records it, with the
// calls it made. A failure comes back as a *StepError.
func (e *Env) Step(ctx context.Context, name string, f func(ctx context.Context) error) error {
	col := &collector{}
	start := time.Now()
	err := f(context.WithValue(ctx, collectorKey{}, col))
	st := StepResult{Name: name, Duration: time.Since(start), Calls: col.snapshot(), Status: Passed}
	var skip *SkipError
	switch {
	case err == nil:
	case errors.As(err, &skip):
		st.Status, st.Message = Skipped, skip.Reason
	default:
		st.Status, st.Message = Failed, err.Error()
		err = &StepError{Step: name, Err: err}
	}
	e.record(st)
	return err
}

// SkipStep records a step that cannot be played on this bank; the journey
// goes on.
func (e *Env) SkipStep(name, reason string) {
	e.record(StepResult{Name: name, Status: Skipped, Message: reason})
}

func (e *Env) record(st StepResult) {
	e.mu.Lock()
	e.steps = append(e.steps, st)
	e.mu.Unlock()
}

func (e *Env) takeSteps() []StepResult {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.steps
	e.steps = nil
	return s
}

// step runs f as a named step and returns its value.
func step[T any](ctx context.Context, e *Env, name string, f func(ctx context.Context) (T, error)) (T, error) {
	var out T
	err := e.Step(ctx, name, func(ctx context.Context) error {
		var err error
		out, err = f(ctx)
		return err
	})
	return out, err
}

// Runner runs journeys one after the other on one Env.
type Runner struct {
	Env *Env
	// Before, if set, is called before each journey that runs (not the
	// skipped ones).
	Before func(j Journey) error
	// Started and Done, if set, report progress: i counts from 1 to n.
	Started func(j Journey, i, n int)
	Done    func(r Result, i, n int)
}

// Run runs js in order and returns their results.
func (r *Runner) Run(ctx context.Context, js []Journey) []Result {
	out := make([]Result, 0, len(js))
	for i, j := range js {
		if r.Started != nil {
			r.Started(j, i+1, len(js))
		}
		res := r.run(ctx, j)
		out = append(out, res)
		if r.Done != nil {
			r.Done(res, i+1, len(js))
		}
	}
	return out
}

func (r *Runner) run(ctx context.Context, j Journey) (res Result) {
	res = Result{Name: j.Name, Title: j.Title, Module: j.Module, Start: time.Now()}
	defer func() { res.Duration = time.Since(res.Start) }()
	if why := r.Env.Missing(j.Needs); why != "" {
		res.Status, res.Message = Skipped, why
		return res
	}
	if ctx.Err() != nil {
		res.Status, res.Message = Skipped, "not run: the run was interrupted"
		return res
	}
	r.Env.takeSteps()
	var err error
	if r.Before != nil {
		err = r.Before(j)
	}
	if err == nil {
		err = runSafely(ctx, j, r.Env)
	}
	res.Steps = r.Env.takeSteps()
	var skip *SkipError
	switch {
	case err == nil:
		res.Status = Passed
	case errors.As(err, &skip):
		res.Status, res.Message = Skipped, skip.Reason
	default:
		res.Status, res.Message, res.Type = Failed, oneLine(err.Error()), errorType(err)
		res.Details = details(err, res.Steps)
	}
	return res
}

// runSafely runs a journey, turning a panic into a failure so that one
// broken journey does not stop the run.
func runSafely(ctx context.Context, j Journey, e *Env) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("journey panicked: %v", p)
		}
	}()
	return j.Run(ctx, e)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

// errorType classifies a failure for reports.
func errorType(err error) string {
	var (
		ce  *CheckError
		ae  *fapi.APIError
		oe  *fapi.OAuthError
		se  *fapi.SignatureError
		ie  *fapi.IDTokenError
		cve consent.ValidationErrors
		pve payments.ValidationErrors
	)
	switch {
	case errors.As(err, &ce):
		return "check"
	case errors.As(err, &ae):
		return "fapi.APIError"
	case errors.As(err, &oe):
		return "fapi.OAuthError"
	case errors.As(err, &se):
		return "fapi.SignatureError"
	case errors.As(err, &ie):
		return "fapi.IDTokenError"
	case errors.As(err, &cve):
		return "consent.ValidationErrors"
	case errors.As(err, &pve):
		return "payments.ValidationErrors"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	}
	return "error"
}

// details writes a failure out in full: the error, what the bank answered,
// and the steps with their calls.
func details(err error, steps []StepResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v\n", err)
	var ae *fapi.APIError
	if errors.As(err, &ae) {
		fmt.Fprintf(&b, "bank answer: HTTP %d, x-fapi-interaction-id %s", ae.StatusCode, ae.InteractionID)
		for _, it := range ae.Errors {
			fmt.Fprintf(&b, "; %s: %s", it.Code, it.Detail)
		}
		b.WriteString("\n")
	}
	b.WriteString("steps:\n")
	writeSteps(&b, steps, "  ")
	return b.String()
}

// writeSteps lists steps with their status, duration and calls.
func writeSteps(b *strings.Builder, steps []StepResult, indent string) {
	for _, s := range steps {
		mark := map[Status]string{Passed: "ok  ", Failed: "FAIL", Skipped: "skip"}[s.Status]
		fmt.Fprintf(b, "%s%s %s (%.3fs)", indent, mark, s.Name, s.Duration.Seconds())
		if s.Message != "" {
			fmt.Fprintf(b, ": %s", oneLine(s.Message))
		}
		b.WriteString("\n")
		for _, c := range s.Calls {
			fmt.Fprintf(b, "%s       %s %s → %s", indent, c.Method, c.Path, callStatus(c))
			if c.InteractionID != "" {
				fmt.Fprintf(b, " x-fapi-interaction-id %s", c.InteractionID)
			}
			b.WriteString("\n")
		}
	}
}

func callStatus(c Call) string {
	if c.Status == 0 {
		return "no answer (" + c.Error + ")"
	}
	return fmt.Sprint(c.Status)
}

// Select returns the journeys whose name re matches (all if re is nil).
func Select(js []Journey, re *regexp.Regexp) []Journey {
	if re == nil {
		return js
	}
	var out []Journey
	for _, j := range js {
		if re.MatchString(j.Name) {
			out = append(out, j)
		}
	}
	return out
}

// Has reports whether js holds a journey named name.
func Has(js []Journey, name string) bool {
	for _, j := range js {
		if j.Name == name {
			return true
		}
	}
	return false
}

// ----- call recording -----

type collectorKey struct{}

// collector gathers the calls of one step.
type collector struct {
	mu    sync.Mutex
	calls []Call
}

func (c *collector) add(cl Call) {
	c.mu.Lock()
	c.calls = append(c.calls, cl)
	c.mu.Unlock()
}

func (c *collector) snapshot() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Call(nil), c.calls...)
}

// recorder is an http.RoundTripper that records each call made within a
// step (found in the request's context) with the bank's
// x-fapi-interaction-id.
type recorder struct{ base http.RoundTripper }

func (t *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if col, ok := req.Context().Value(collectorKey{}).(*collector); ok {
		cl := Call{Method: req.Method, Path: req.URL.Path}
		if err != nil {
			cl.Error = err.Error()
		} else {
			cl.Status, cl.InteractionID = resp.StatusCode, resp.Header.Get(fapi.HeaderInteractionID)
		}
		col.add(cl)
	}
	return resp, err
}

// recordCalls returns a copy of hc whose calls are recorded.
func recordCalls(hc *http.Client) *http.Client {
	c := *hc
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = &recorder{base: base}
	return &c
}
