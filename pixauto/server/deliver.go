package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/pixauto"
)

// Outbound webhooks: every Initiator event of a receiver with
// subscriptions becomes one delivery per subscription, stored before
// anything is sent; DeliverDue then POSTs the due ones and stores each
// attempt and the next one's time. A loop (Run) or a job queue drives
// DeliverDue; each delivery is claimed with a lease, so several workers
// (or processes) never send the same attempt at once.
//
// Each POST carries the event as JSON and
//
//	Pixauto-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>
//	Pixauto-Event-Id:  the event's id (the same on every attempt and subscription; deduplicate on it)
//	Pixauto-Event-Type, Pixauto-Delivery-Id, Pixauto-Attempt
//
// A 2xx answer delivers it. Anything else (another status, a redirect, a
// timeout, no connection) is retried after DefaultBackoff: 30 s, doubling
// up to 6 h, MaxAttempts (15) attempts in all — about 32 hours — after
// which the delivery is FAILED.

// Webhook headers.
const (
	HeaderSignature  = "Pixauto-Signature"
	HeaderEventID    = "Pixauto-Event-Id"
	HeaderEventType  = "Pixauto-Event-Type"
	HeaderDeliveryID = "Pixauto-Delivery-Id"
	HeaderAttempt    = "Pixauto-Attempt"
)

// DefaultMaxAttempts is how many times a delivery is tried.
const DefaultMaxAttempts = 15

// DefaultBackoff is the delay after failed attempt n (1, 2, …): 30 s,
// doubling, at most 6 h.
func DefaultBackoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > 16 {
		return 6 * time.Hour
	}
	return min(30*time.Second<<(n-1), 6*time.Hour)
}

// Sign returns the Pixauto-Signature of body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + signature(secret, ts, body)
}

func signature(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Signature verification errors.
var (
	ErrSignatureMalformed = errors.New("pixauto webhook: malformed Pixauto-Signature")
	ErrSignatureMismatch  = errors.New("pixauto webhook: no signature matches")
	ErrSignatureExpired   = errors.New("pixauto webhook: signature timestamp outside the tolerance")
)

// VerifySignature checks a Pixauto-Signature header against body, as a
// receiver does: one of its v1 signatures must be the HMAC of "<t>." +
// body under secret (compared in constant time), and t must be within
// tolerance of now (zero: 5 minutes), which bounds replays.
func VerifySignature(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = 5 * time.Minute
	}
	var ts string
	var sigs []string
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrSignatureMalformed
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrSignatureMalformed
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrSignatureExpired
	}
	want := []byte(signature(secret, ts, body))
	for _, s := range sigs {
		if hmac.Equal([]byte(s), want) {
			return nil
		}
	}
	return ErrSignatureMismatch
}

// EventPayload is the JSON body of a delivery (the Event schema of the
// API description).
type EventPayload struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Data      EventData `json:"data"`
}

// EventData is what an event is about. Reason is receiver-safe.
type EventData struct {
	ConsentID     string       `json:"consent_id"`
	ChargeID      string       `json:"charge_id,omitempty"`
	ConsentStatus string       `json:"consent_status,omitempty"`
	ChargeStatus  string       `json:"charge_status,omitempty"`
	Reason        *EventReason `json:"reason,omitempty"`
}

// EventReason is a receiver-safe failure reason.
type EventReason struct {
	Code string `json:"code"`
	Text string `json:"text"`
}

// DelivererConfig configures a Deliverer.
type DelivererConfig struct {
	// Store keeps subscriptions and deliveries. Required.
	Store Store
	// SecretKey opens the subscriptions' secrets (the Server's). Required.
	SecretKey []byte
	// Client sends the deliveries. Nil means a client with a 10 s timeout
	// that follows no redirect.
	Client *http.Client
	// Clock tells the time: attempts, schedules and signatures. Nil means
	// the system clock.
	Clock fapi.Clock
	// Rand feeds event and delivery ids. Nil means crypto/rand.
	Rand io.Reader
	// Logger receives a line per attempt (never a secret). Nil discards.
	Logger *slog.Logger
	// Metrics counts deliveries and attempts; nil counts nothing.
	Metrics *Metrics
	// MaxAttempts bounds the attempts of a delivery. Zero means
	// DefaultMaxAttempts.
	MaxAttempts int
	// Backoff is the delay after failed attempt n. Nil means
	// DefaultBackoff.
	Backoff func(n int) time.Duration
	// Batch is how many deliveries one DeliverDue claims. Zero means 50.
	Batch int
	// Concurrency is how many subscriptions are served at once (the
	// deliveries of one go one at a time). Zero means 8.
	Concurrency int
	// Lease is how long a claimed delivery is left to its worker before
	// another may take it. Zero means 5 minutes; it must exceed the time a
	// batch can take.
	Lease time.Duration
}

// Deliverer turns events into deliveries and sends them.
type Deliverer struct {
	cfg   DelivererConfig
	seal  *sealer
	clock fapi.Clock
	log   *slog.Logger
	kick  chan struct{}
}

// NewDeliverer validates cfg and returns a Deliverer.
func NewDeliverer(cfg DelivererConfig) (*Deliverer, error) {
	if cfg.Store == nil {
		return nil, errors.New("server: DelivererConfig.Store is required")
	}
	seal, err := newSealer(cfg.SecretKey, cfg.Rand)
	if err != nil {
		return nil, err
	}
	d := &Deliverer{cfg: cfg, seal: seal, clock: cfg.Clock, log: cfg.Logger, kick: make(chan struct{}, 1)}
	if d.clock == nil {
		d.clock = fapi.ClockFunc(time.Now)
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.cfg.Client == nil {
		d.cfg.Client = &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if d.cfg.MaxAttempts <= 0 {
		d.cfg.MaxAttempts = DefaultMaxAttempts
	}
	if d.cfg.Backoff == nil {
		d.cfg.Backoff = DefaultBackoff
	}
	if d.cfg.Batch <= 0 {
		d.cfg.Batch = 50
	}
	if d.cfg.Concurrency <= 0 {
		d.cfg.Concurrency = 8
	}
	if d.cfg.Lease <= 0 {
		d.cfg.Lease = 5 * time.Minute
	}
	return d, nil
}

func (d *Deliverer) now() time.Time { return d.clock.Now().UTC() }

// OnEvent is a pixauto.Config.OnEvent: it counts the event and stores its
// deliveries (Enqueue), logging a failure, which loses the event.
func (d *Deliverer) OnEvent(e pixauto.Event) {
	d.cfg.Metrics.ObserveEvent(e)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Enqueue(ctx, e); err != nil {
		if d.cfg.Metrics != nil {
			d.cfg.Metrics.deliveryErrors.Inc()
		}
		d.log.ErrorContext(ctx, "webhook deliveries could not be stored; the event is lost", "event", e.Type, "receiver_id", e.ReceiverID, "consent", e.ConsentID, "charge", e.ChargeID, "err", err)
	}
}

// Enqueue stores one delivery of e for each live subscription of its
// receiver, all in one transaction, due now.
func (d *Deliverer) Enqueue(ctx context.Context, e pixauto.Event) error {
	if e.ReceiverID == "" {
		return nil
	}
	subs, err := d.cfg.Store.ListSubscriptions(ctx, e.ReceiverID)
	if err != nil || len(subs) == 0 {
		return err
	}
	eventID, err := newUUID(d.cfg.Rand)
	if err != nil {
		return err
	}
	created := e.Time
	if created.IsZero() {
		created = d.now()
	}
	p := EventPayload{ID: eventID, Type: string(e.Type), CreatedAt: apiTime(created), Data: EventData{
		ConsentID: e.ConsentID, ChargeID: e.ChargeID, ConsentStatus: string(e.ConsentStatus), ChargeStatus: string(e.ChargeStatus),
	}}
	if e.Reason != "" {
		text := e.ReasonText
		if text == "" {
			text = e.Reason.Text()
		}
		p.Data.Reason = &EventReason{Code: string(e.Reason), Text: text}
	}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	now := d.now()
	ds := make([]*Delivery, 0, len(subs))
	for _, sub := range subs {
		id, err := newUUID(d.cfg.Rand)
		if err != nil {
			return err
		}
		ds = append(ds, &Delivery{
			ID: id, SubscriptionID: sub.ID, ReceiverID: e.ReceiverID, EventID: eventID, EventType: string(e.Type),
			Payload: body, Status: DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
		})
	}
	if err := d.cfg.Store.InsertDeliveries(ctx, ds); err != nil {
		return err
	}
	for range ds {
		d.cfg.Metrics.observeDelivery("created")
	}
	select {
	case d.kick <- struct{}{}:
	default:
	}
	return nil
}

// DeliverResult counts what one DeliverDue did.
type DeliverResult struct {
	Delivered, Retrying, Failed int
	// Skipped deliveries changed under the worker (the subscription was
	// deleted); nothing was stored for them.
	Skipped int
}

// Attempted is how many deliveries were tried.
func (r DeliverResult) Attempted() int { return r.Delivered + r.Retrying + r.Failed }

// DeliverDue claims the deliveries due now (up to Batch), sends them
// (Concurrency at a time), and stores each attempt and the delivery's next
// state. It is the step a loop or a job queue repeats; with an injected
// clock, tests drive the whole back-off schedule by moving the clock and
// calling it.
func (d *Deliverer) DeliverDue(ctx context.Context) (DeliverResult, error) {
	var res DeliverResult
	now := d.now()
	claimed, err := d.cfg.Store.ClaimDueDeliveries(ctx, now, now.Add(d.cfg.Lease), d.cfg.Batch)
	if err != nil {
		return res, err
	}
	// Deliveries of one subscription go one at a time, oldest first, so
	// that a receiver sees its events in order when none fails;
	// subscriptions are served Concurrency at a time.
	var (
		order  []string
		groups = map[string][]*Delivery{}
	)
	for _, del := range claimed {
		if groups[del.SubscriptionID] == nil {
			order = append(order, del.SubscriptionID)
		}
		groups[del.SubscriptionID] = append(groups[del.SubscriptionID], del)
	}
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, d.cfg.Concurrency)
	)
	for _, sub := range order {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for _, del := range groups[sub] {
				status, err := d.attempt(ctx, del)
				mu.Lock()
				switch {
				case errors.Is(err, pixauto.ErrConflict):
					res.Skipped++
				case err != nil:
					errs = append(errs, err)
				case status == DeliveryDelivered:
					res.Delivered++
				case status == DeliveryFailed:
					res.Failed++
				default:
					res.Retrying++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return res, errors.Join(errs...)
}

// attempt sends one delivery and records the outcome.
func (d *Deliverer) attempt(ctx context.Context, del *Delivery) (DeliveryStatus, error) {
	sub, err := d.cfg.Store.GetSubscription(ctx, del.SubscriptionID)
	if err != nil {
		return "", err
	}
	if !sub.DeletedAt.IsZero() {
		return "", fmt.Errorf("%w: subscription %s was deleted", pixauto.ErrConflict, sub.ID)
	}
	at := d.now()
	seq := del.Attempts + 1
	code, failure, took := d.post(ctx, sub, del, seq, at)
	a := &DeliveryAttempt{DeliveryID: del.ID, Seq: seq, At: at, StatusCode: code, Error: failure, Duration: took}
	del.Attempts, del.UpdatedAt = seq, at
	switch {
	case failure == "":
		del.Status, del.NextAttemptAt = DeliveryDelivered, time.Time{}
	case seq >= d.cfg.MaxAttempts:
		del.Status, del.NextAttemptAt = DeliveryFailed, time.Time{}
	default:
		del.Status, del.NextAttemptAt = DeliveryPending, at.Add(d.cfg.Backoff(seq))
	}
	d.cfg.Metrics.observeAttempt(failure == "")
	attrs := []any{"delivery", del.ID, "event", del.EventID, "event_type", del.EventType, "subscription", sub.ID,
		"receiver_id", del.ReceiverID, "attempt", seq, "status", code, "duration_ms", took.Milliseconds(), "outcome", string(del.Status)}
	if failure != "" {
		attrs = append(attrs, "err", failure)
	}
	if !del.NextAttemptAt.IsZero() {
		attrs = append(attrs, "next_attempt_at", del.NextAttemptAt.Format(time.RFC3339))
	}
	d.log.InfoContext(ctx, "webhook attempt", attrs...)
	if err := d.cfg.Store.RecordAttempt(ctx, del, a); err != nil {
		return "", err
	}
	switch del.Status {
	case DeliveryDelivered:
		d.cfg.Metrics.observeDelivery("delivered")
	case DeliveryFailed:
		d.cfg.Metrics.observeDelivery("failed")
	}
	return del.Status, nil
}

// post sends the delivery once; failure is "" on a 2xx answer.
func (d *Deliverer) post(ctx context.Context, sub *Subscription, del *Delivery, seq int, at time.Time) (code int, failure string, took time.Duration) {
	secret, err := d.seal.open(sub.Secret, sub.ID)
	if err != nil {
		return 0, err.Error(), 0
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, strings.NewReader(string(del.Payload)))
	if err != nil {
		return 0, "invalid URL", 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "pixauto-webhooks/1")
	req.Header.Set(HeaderSignature, Sign(secret, at, del.Payload))
	req.Header.Set(HeaderEventID, del.EventID)
	req.Header.Set(HeaderEventType, del.EventType)
	req.Header.Set(HeaderDeliveryID, del.ID)
	req.Header.Set(HeaderAttempt, strconv.Itoa(seq))
	start := time.Now()
	resp, err := d.cfg.Client.Do(req)
	took = time.Since(start)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is the subscription's; say what failed
		}
		return 0, err.Error(), took
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, "HTTP " + strconv.Itoa(resp.StatusCode), took
	}
	return resp.StatusCode, "", took
}

// Run calls DeliverDue every interval (and soon after each Enqueue) until
// ctx ends, logging failures; it drains a full batch at once.
func (d *Deliverer) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			res, err := d.DeliverDue(ctx)
			if err != nil && ctx.Err() == nil {
				d.log.WarnContext(ctx, "webhook delivery run failed", "err", err)
			}
			if err != nil || res.Attempted()+res.Skipped < d.cfg.Batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.kick:
		}
	}
}
