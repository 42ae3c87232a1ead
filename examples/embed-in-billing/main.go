// Embed in your billing: a receiver's billing system (a gym's, here) that
// uses the reference server's REST API — not the Go SDK — with nothing but
// net/http and its API key. It subscribes its own endpoint to the server's
// webhooks, enrols a payer, charges the month's invoice with the invoice
// number as external_id, and follows the invoice to paid from the signed
// webhooks alone.
//
// The server runs in the process on the embedded sandbox bank and SQLite,
// wired as `pixauto serve --sandbox` wires it; its background jobs (Sync,
// webhook delivery) are run by hand as the bank's clock moves, so every run
// prints the same story.
//
//	go run ./examples/embed-in-billing
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/examples/internal/example"
	"github.com/ofb-go/pixauto/pixauto/server"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "embed-in-billing:", err)
		os.Exit(1)
	}
}

// apiError is a problem+json answer of the server (RFC 9457).
type apiError struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Detail) }

// api is the billing system's client of the reference server: a plain
// net/http client and the receiver's API key.
type api struct {
	base string
	key  string
	hc   *http.Client
}

// call sends body as JSON (unless nil) and decodes the answer into out
// when it has status want; any other answer is an *apiError.
func (c *api) call(ctx context.Context, method, path string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != want {
		p := &apiError{Status: res.StatusCode}
		_ = json.Unmarshal(b, p)
		return fmt.Errorf("%s %s: %w", method, path, p)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// What the billing system reads from the API: only the members it uses.
type (
	subscription struct {
		ID     string `json:"id"`
		Secret string `json:"secret"` // returned once, when generated
	}
	enrolment struct {
		Consent struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"consent"`
		RedirectURL string `json:"redirect_url"`
	}
	charge struct {
		ID         string `json:"id"`
		Status     string `json:"status"`
		Amount     string `json:"amount"`
		DueDate    string `json:"due_date"`
		ExternalID string `json:"external_id"`
	}
)

// billing is the receiver's own system: its invoices, keyed by number,
// and the webhook endpoint that keeps them up to date.
type billing struct {
	env    *example.Server // the clock, and Printf for the story
	secret []byte

	mu       sync.Mutex
	invoices map[string]string // charge id → invoice number
	status   map[string]string // invoice number → the charge's last status
	seen     map[string]bool   // event ids: deliveries are at least once
	problems []string
}

// ServeHTTP is the billing system's webhook endpoint. It verifies the
// Pixauto-Signature over the raw body before reading anything from it, and
// drops an event it has already applied.
func (b *billing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "unreadable", http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	// The server signs with its clock; here both read the bank's manual
	// clock, as everything in the example does. A real receiver passes
	// time.Now().
	if err := server.VerifySignature(b.secret, r.Header.Get(server.HeaderSignature), body, b.env.Clock.Now(), 5*time.Minute); err != nil {
		b.env.Printf("webhook refused (401): %v", err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var ev server.EventPayload
	if err := json.Unmarshal(body, &ev); err != nil {
		b.problems = append(b.problems, "event: "+err.Error())
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	if b.seen[ev.ID] {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	b.seen[ev.ID] = true
	if ev.Data.ChargeID == "" {
		b.env.Printf("webhook %-18s consent %s", ev.Type, ev.Data.ConsentStatus)
	} else {
		inv, ok := b.invoices[ev.Data.ChargeID]
		if !ok {
			b.problems = append(b.problems, "a webhook for an unknown charge "+ev.Data.ChargeID)
		}
		b.status[inv] = ev.Data.ChargeStatus
		s := fmt.Sprintf("webhook %-18s invoice %s %s", ev.Type, inv, ev.Data.ChargeStatus)
		if ev.Data.Reason != nil {
			s += fmt.Sprintf(" — %s [%s]", ev.Data.Reason.Text, ev.Data.Reason.Code)
		}
		b.env.Printf("%s", s)
	}
	w.WriteHeader(http.StatusNoContent)
}

func run(ctx context.Context, out io.Writer) error {
	env, err := example.StartServer(ctx, out)
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Fprintln(out, "Embed in your billing: the receiver's system on the reference server's REST API, paid invoices from signed webhooks.")

	c := &api{base: env.URL, key: env.APIKey, hc: env.Client()}
	bill := &billing{env: env, invoices: map[string]string{}, status: map[string]string{}, seen: map[string]bool{}}
	hooks := httptest.NewServer(bill)
	defer hooks.Close()

	// deliver is the server's delivery job: it POSTs the due webhooks and
	// returns once each got its answer.
	deliver := func() error {
		res, err := env.Deliverer.DeliverDue(ctx)
		if err == nil && res.Delivered != res.Attempted() {
			err = fmt.Errorf("webhook deliveries: %+v", res)
		}
		return err
	}

	// 1. The billing system subscribes its endpoint. The server generates
	// the signing secret and shows it once: the system stores it.
	var sub subscription
	if err := c.call(ctx, "POST", "/v1/webhook-subscriptions", map[string]any{"url": hooks.URL + "/pixauto/webhooks", "description": "billing"}, http.StatusCreated, &sub); err != nil {
		return err
	}
	bill.secret = []byte(sub.Secret)
	if sub.Secret == "" {
		return fmt.Errorf("subscription %s came without its secret", sub.ID)
	}
	env.Printf("subscribed /pixauto/webhooks to the server's webhooks; the signing secret is stored")

	// 2. A new member signs up for monthly billing. The system asks the
	// server to enrol the payer and sends them to redirect_url.
	today := env.Today()
	start := today.AddDays(10)
	var en enrolment
	if err := c.call(ctx, "POST", "/v1/consents", map[string]any{
		"payer":                map[string]any{"document": example.PayerCPF, "name": example.PayerName},
		"contract_id":          "FORMA20260042",
		"interval":             "MONTHLY",
		"reference_start_date": start.String(),
		"expires_on":           today.AddDays(400).String(),
		"maximum_amount":       "300.00",
		"retries_accepted":     true,
	}, http.StatusCreated, &en); err != nil {
		return err
	}
	env.Printf("enrolled the payer: consent %s, send them to the bank", en.Consent.Status)

	// 3. The payer approves in their bank's app. The sandbox plays the
	// browser: the bank redirects to the server's /callback with the answer
	// in the fragment, which the callback page POSTs back to the server.
	location, err := env.Bank.Authorize(ctx, en.RedirectURL)
	if err != nil {
		return err
	}
	_, fragment, ok := strings.Cut(location, "#")
	if !ok {
		return fmt.Errorf("the bank's redirect has no fragment: %s", location)
	}
	var done struct {
		Outcome string `json:"outcome"`
	}
	if err := (&api{base: env.URL, hc: env.Client()}).call(ctx, "POST", "/callback", map[string]any{"response": "#" + fragment}, http.StatusOK, &done); err != nil {
		return err
	}
	env.Printf("the payer's callback page: %s", done.Outcome)
	if err := deliver(); err != nil {
		return err
	}

	// 4. The month's invoice. external_id is the invoice number: a repeat
	// of the same request (a timeout, a retried job) returns the same
	// charge instead of charging twice.
	invoice := "INV-2026-12"
	newCharge := map[string]any{
		"consent_id": en.Consent.ID, "amount": "129.90", "due_date": start.String(),
		"description": "mensalidade dezembro", "external_id": invoice,
	}
	var ch, again charge
	if err := c.call(ctx, "POST", "/v1/charges", newCharge, http.StatusCreated, &ch); err != nil {
		return err
	}
	bill.mu.Lock()
	bill.invoices[ch.ID] = invoice
	bill.mu.Unlock()
	env.Printf("invoice %s: %s due %s, charge %s", invoice, example.BRL(consent.MustAmount(ch.Amount)), ch.DueDate, ch.Status)
	if err := c.call(ctx, "POST", "/v1/charges", newCharge, http.StatusCreated, &again); err != nil {
		return err
	}
	if again.ID != ch.ID {
		return fmt.Errorf("the repeated invoice %s created charge %s besides %s", invoice, again.ID, ch.ID)
	}
	env.Printf("invoice %s sent again: the same charge, nothing charged twice", invoice)
	if err := deliver(); err != nil {
		return err
	}

	// 5. Someone who knows the URL but not the secret posts a "settled"
	// event: the endpoint refuses it.
	forged := []byte(`{"id":"evt_forged","type":"charge.settled","created_at":"2026-11-23T12:00:00Z","data":{"consent_id":"x","charge_id":"` + ch.ID + `","charge_status":"SETTLED"}}`)
	req, err := http.NewRequestWithContext(ctx, "POST", hooks.URL+"/pixauto/webhooks", bytes.NewReader(forged))
	if err != nil {
		return err
	}
	req.Header.Set(server.HeaderSignature, server.Sign([]byte("not-the-subscription-secret"), env.Clock.Now(), forged))
	res, err := hooks.Client().Do(req)
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		return fmt.Errorf("a forged webhook got HTTP %d", res.StatusCode)
	}

	// 6. Time passes. The server's jobs run every hour: Sync submits the
	// charge five days before its date and reads the outcome; the
	// Deliverer sends each change as a signed webhook.
	until := example.At(start, 12, 0)
	for env.Clock.Now().Before(until) {
		if _, err := env.Bank.AdvanceTo(env.Clock.Now().Add(time.Hour)); err != nil {
			return err
		}
		if _, err := env.Initiator.Sync(ctx); err != nil {
			return err
		}
		if err := deliver(); err != nil {
			return err
		}
	}
	bill.mu.Lock()
	paid, problems := bill.status[invoice], bill.problems
	bill.mu.Unlock()
	if len(problems) > 0 {
		return fmt.Errorf("webhook endpoint: %s", strings.Join(problems, "; "))
	}
	if paid != "SETTLED" {
		return fmt.Errorf("invoice %s is %q by its webhooks, want SETTLED", invoice, paid)
	}

	// 7. The month's close: the consent's charges as the server lists them.
	var list struct {
		Data []charge `json:"data"`
	}
	if err := c.call(ctx, "GET", "/v1/charges?consent_id="+url.QueryEscape(en.Consent.ID), nil, http.StatusOK, &list); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nGET /v1/charges?consent_id=… (%d):\n", len(list.Data))
	for _, l := range list.Data {
		fmt.Fprintf(out, "  %-12s %-10s due %s  %s\n", l.ExternalID, example.BRL(consent.MustAmount(l.Amount)), l.DueDate, l.Status)
	}
	if len(list.Data) != 1 || list.Data[0].ID != ch.ID || list.Data[0].Status != "SETTLED" {
		return fmt.Errorf("the consent's charges are %+v, want %s SETTLED only", list.Data, ch.ID)
	}
	fmt.Fprintf(out, "Invoice %s is paid: learnt from its signed webhooks, confirmed by the list.\n", invoice)
	return nil
}
