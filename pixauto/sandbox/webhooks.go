package sandbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/ofb-go/pixauto/internal/pki"
)

// WebhookPathPrefix is what the bank appends to an ITP's registered
// webhook URI before the resource path: a recurring consent is notified at
// {webhook_uri} + WebhookPathPrefix + "/recurring-consents/{id}", a
// recurring payment at … + "/pix/recurring-payments/{id}".
const WebhookPathPrefix = "/open-banking/webhook/v1/automatic-payments/v2"

// WebhookAttempts is how many times the bank tries to deliver one
// notification: once, and up to 3 retries while the ITP answers other than
// 2xx or cannot be reached. Retries follow at once.
const WebhookAttempts = 4

// Webhook is one attempt to deliver a webhook notification (API Webhook
// 1.3.0), as Bank.Webhooks logs it.
type Webhook struct {
	// Time is the bank clock when the attempt was made.
	Time time.Time
	// ClientID is the ITP notified.
	ClientID string
	// URL is the full URL posted to.
	URL string
	// Path is the resource path under the ITP's base and WebhookPathPrefix:
	// "/recurring-consents/{id}" or "/pix/recurring-payments/{id}".
	Path string
	// EventType is STATE_CHANGED or DATA_CHANGED for a consent, "" for a
	// payment.
	EventType string
	// Timestamp is when the change happened (data.timestamp).
	Timestamp time.Time
	// Body is the JSON posted.
	Body []byte
	// InteractionID is the x-webhook-interaction-id, new for every attempt.
	InteractionID string
	// Attempt is 1 for the first attempt, up to WebhookAttempts.
	Attempt int
	// Status is the HTTP status of the answer, 0 if none came.
	Status int
	// Err is why no answer came, "" if one did.
	Err string
	// Delivered reports a 2xx answer.
	Delivered bool
}

// webhooks delivers notifications in order, from one goroutine.
type webhooks struct {
	b *Bank

	mu      sync.Mutex
	queue   []delivery
	busy    bool
	wake    chan struct{}
	idle    []chan struct{}
	log     []Webhook
	client  *http.Client
	certErr error
}

type delivery struct {
	notice
	url  string
	body []byte
}

func newWebhooks(b *Bank) *webhooks {
	return &webhooks{b: b, wake: make(chan struct{}, 1)}
}

// enqueue turns notices into deliveries to each webhook URI of the
// notified client; clients without webhook_uris get none.
func (h *webhooks) enqueue(notices []notice) {
	if len(notices) == 0 {
		return
	}
	var ds []delivery
	for _, n := range notices {
		c := h.b.client(n.clientID)
		if c == nil {
			continue
		}
		data := map[string]any{"timestamp": rfc3339(n.at)}
		if n.eventType != "" {
			data["eventType"] = n.eventType
		}
		body, _ := json.Marshal(map[string]any{"data": data})
		for _, base := range c.Metadata.WebhookURIs {
			ds = append(ds, delivery{notice: n, url: strings.TrimSuffix(base, "/") + WebhookPathPrefix + n.path, body: body})
		}
	}
	if len(ds) == 0 {
		return
	}
	h.mu.Lock()
	h.queue = append(h.queue, ds...)
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// run delivers queued notifications until the bank closes.
func (h *webhooks) run() {
	for {
		h.mu.Lock()
		if len(h.queue) == 0 {
			h.busy = false
			for _, c := range h.idle {
				close(c)
			}
			h.idle = nil
			h.mu.Unlock()
			select {
			case <-h.wake:
				continue
			case <-h.b.closing:
				return
			}
		}
		d := h.queue[0]
		h.queue = h.queue[1:]
		h.busy = true
		h.mu.Unlock()
		h.deliver(d)
	}
}

func (h *webhooks) deliver(d delivery) {
	hc, err := h.httpClient()
	for attempt := 1; attempt <= WebhookAttempts; attempt++ {
		select {
		case <-h.b.closing:
			return
		default:
		}
		rec := Webhook{
			Time: h.b.now(), ClientID: d.clientID, URL: d.url, Path: d.path, EventType: d.eventType,
			Timestamp: d.at, Body: d.body, InteractionID: uuid.NewString(), Attempt: attempt,
		}
		if err != nil {
			rec.Err = err.Error()
		} else {
			rec.Status, rec.Err = h.post(hc, d, rec.InteractionID)
		}
		rec.Delivered = rec.Status >= 200 && rec.Status < 300
		h.mu.Lock()
		h.log = append(h.log, rec)
		h.mu.Unlock()
		if rec.Delivered {
			return
		}
		h.b.log.Info("sandbox: webhook not delivered", "url", d.url, "attempt", attempt, "status", rec.Status, "error", rec.Err)
	}
}

func (h *webhooks) post(hc *http.Client, d delivery, iid string) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), h.b.cfg.WebhookTimeout)
	defer cancel()
	go func() {
		select {
		case <-h.b.closing:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-webhook-interaction-id", iid)
	// The spec's header is x-authorization-server-id; the British spelling
	// is sent too for receivers written against it.
	req.Header.Set("x-authorization-server-id", h.b.AuthorisationServerID)
	req.Header.Set("x-authorisation-server-id", h.b.AuthorisationServerID)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	return resp.StatusCode, ""
}

// httpClient returns the mTLS client of the deliveries, with a transport
// certificate of the bank's organisation issued on first use.
func (h *webhooks) httpClient() (*http.Client, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.client != nil || h.certErr != nil {
		return h.client, h.certErr
	}
	org, _ := h.b.dir.Organisation(h.b.OrganisationID)
	cert, err := h.b.ca.IssueTransport(pki.Transport{OrganisationID: h.b.OrganisationID, SoftwareID: h.b.AuthorisationServerID, CNPJ: org.CNPJ, CommonName: "sandbox-bank.example"})
	if err != nil {
		h.certErr = fmt.Errorf("sandbox: webhook client certificate: %w", err)
		return nil, h.certErr
	}
	roots := h.b.cfg.WebhookRootCAs
	if roots == nil {
		roots = h.b.RootCAs
	}
	h.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: roots, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
	}}}
	return h.client, nil
}

// flush waits until every queued notification has been delivered or given
// up, or ctx ends.
func (h *webhooks) flush(ctx context.Context) error {
	h.mu.Lock()
	if len(h.queue) == 0 && !h.busy {
		h.mu.Unlock()
		return nil
	}
	done := make(chan struct{})
	h.idle = append(h.idle, done)
	h.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("sandbox: webhooks still queued: %w", ctx.Err())
	case <-h.b.closing:
		return fmt.Errorf("sandbox: bank closed with webhooks queued")
	}
}

// Webhooks returns every webhook delivery attempt so far, oldest first.
// Deliveries are asynchronous; Advance, AdvanceTo and RunDue return after
// those they caused, and FlushWebhooks waits for the rest.
func (b *Bank) Webhooks() []Webhook {
	b.hooks.mu.Lock()
	defer b.hooks.mu.Unlock()
	return slices.Clone(b.hooks.log)
}

// FlushWebhooks waits until every notification queued so far has been
// delivered or given up.
func (b *Bank) FlushWebhooks(ctx context.Context) error { return b.hooks.flush(ctx) }

// NewWebhookServer starts an HTTPS server for an ITP's webhook endpoints,
// as a bank expects to find it: its certificate (127.0.0.1, localhost) is
// issued by the sandbox CA, which every bank trusts (Config.WebhookRootCAs
// aside), and it requires a client certificate of that CA, since webhooks
// are authenticated by mTLS only. Start it before the bank whose ITP
// registers its URL (ITPConfig.WebhookURIs), and close it when done.
func NewWebhookServer(h http.Handler) (*httptest.Server, error) {
	ca, cert, err := sharedPKI()
	if err != nil {
		return nil, err
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    ca.Pool(),
		MinVersion:   tls.VersionTLS12,
	}
	srv.StartTLS()
	return srv, nil
}
