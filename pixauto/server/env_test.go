package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/ofb-go/pixauto/pixauto/server"
	"github.com/ofb-go/pixauto/pixauto/store/sqlite"
)

var secretKey = []byte("0123456789abcdef0123456789abcdef")

// syncBuffer is a log sink the test can read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is the reference server on a sandbox bank (manual clock) and a
// SQLite store, served by httptest, with two receivers.
type env struct {
	*sandboxtest.Env
	t         *testing.T
	store     testStore
	in        *pixauto.Initiator
	srv       *server.Server
	deliverer *server.Deliverer
	api       *httptest.Server
	logs      *syncBuffer
	keyA      string
	keyB      string
	rcvA      *server.Receiver
	rcvB      *server.Receiver
}

// testStore is what both store packages implement.
type testStore interface {
	pixauto.Store
	server.Store
}

type envOptions struct {
	// store opens the store; nil means SQLite in a temporary directory.
	store       func(t *testing.T) testStore
	bank        func(*sandbox.Config)
	retryPolicy func(*pixauto.Config)
	deliverer   func(*server.DelivererConfig)
}

func newEnv(t *testing.T, opts ...envOptions) *env {
	t.Helper()
	var handler atomic.Pointer[http.Handler]
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(w, r) }))
	t.Cleanup(api.Close)
	u, err := url.Parse(api.URL)
	require.NoError(t, err)
	redirect := "https://" + u.Host + "/callback"

	e := &env{t: t, api: api, logs: &syncBuffer{}}
	bank := sandbox.Config{ITP: sandbox.ITPConfig{RedirectURIs: []string{redirect}}}
	for _, o := range opts {
		if o.bank != nil {
			o.bank(&bank)
		}
	}
	e.Env = sandboxtest.New(t, sandboxtest.Options{Bank: bank})
	require.Equal(t, redirect, e.Bank.ITP.RedirectURI)
	openStore := func(t *testing.T) testStore {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "pixauto.db"))
		require.NoError(t, err)
		return st
	}
	for _, o := range opts {
		if o.store != nil {
			openStore = o.store
		}
	}
	e.store = openStore(t)
	t.Cleanup(func() { e.store.Close() })

	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	metrics := server.NewMetrics()
	dcfg := server.DelivererConfig{Store: e.store, SecretKey: secretKey, Clock: e.Clock, Logger: log, Metrics: metrics}
	for _, o := range opts {
		if o.deliverer != nil {
			o.deliverer(&dcfg)
		}
	}
	e.deliverer, err = server.NewDeliverer(dcfg)
	require.NoError(t, err)

	hc := server.InstrumentFAPIClient("bank", e.FAPI.HTTPClient(), metrics, log)
	_ = hc // the FAPI client's own mTLS client, instrumented in place
	icfg := pixauto.Config{
		CNPJ: e.ITPCNPJ, ISPB: sandboxtest.ITPISPB, Store: e.store, SecretKey: secretKey, Clock: e.Clock, Logger: log,
		Holders: []pixauto.Holder{{ID: "bank", FAPI: e.FAPI, BaseURL: e.Bank.MTLSURL + sandbox.AutomaticPaymentsBase}},
		OnEvent: e.deliverer.OnEvent,
	}
	for _, o := range opts {
		if o.retryPolicy != nil {
			o.retryPolicy(&icfg)
		}
	}
	e.in, err = pixauto.New(icfg)
	require.NoError(t, err)
	e.srv, err = server.New(server.Config{
		Initiator: e.in, Store: e.store, HolderIDs: []string{"bank"}, SecretKey: secretKey, Clock: e.Clock, Logger: log,
		Metrics: metrics, AllowHTTPWebhooks: true,
		Checks: []server.Check{{Name: "bank", Check: func(ctx context.Context) error { _, err := e.FAPI.Discover(ctx); return err }}},
	})
	require.NoError(t, err)
	h := e.srv.Handler()
	handler.Store(&h)

	ctx := context.Background()
	e.rcvA, e.keyA, err = server.CreateReceiver(ctx, e.store, server.ReceiverInput{Name: sandboxtest.CreditorName, CNPJ: sandboxtest.CreditorCNPJ, Account: sandboxtest.CreditorAccount}, e.Clock.Now(), nil)
	require.NoError(t, err)
	e.rcvB, e.keyB, err = server.CreateReceiver(ctx, e.store, server.ReceiverInput{Name: "Escola Outra Ltda", CNPJ: "11444777000161", Account: sandboxtest.CreditorAccount}, e.Clock.Now(), nil)
	require.NoError(t, err)
	return e
}

// resp is an API answer.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// do sends a request; body is JSON-encoded unless it is a string (sent as
// is) or nil.
func (e *env) do(method, path, key string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.api.URL+path, rd)
	require.NoError(e.t, err)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := e.api.Client().Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

// ok asserts the status and returns the JSON body.
func (e *env) ok(status int, r resp) map[string]any {
	e.t.Helper()
	require.Equal(e.t, status, r.Status, "body: %s", r.Body)
	if len(r.Body) == 0 {
		return nil
	}
	return r.json(e.t)
}

// consentBody is a valid monthly variable consent for the sandbox payer.
func (e *env) consentBody(mods ...func(map[string]any)) map[string]any {
	b := map[string]any{
		"payer":                map[string]any{"document": sandbox.DefaultPayerCPF, "name": "Ana Souza"},
		"contract_id":          "CTR2026001",
		"interval":             "MONTHLY",
		"reference_start_date": e.Today().AddDays(3).String(),
		"expires_on":           e.Today().AddDays(400).String(),
		"maximum_amount":       "300.00",
		"retries_accepted":     true,
	}
	for _, m := range mods {
		m(b)
	}
	return b
}

// enrol creates a consent for receiver key, plays the payer at the bank
// and posts the redirect to /callback; it returns the consent id.
func (e *env) enrol(key string) string {
	e.t.Helper()
	en := e.ok(http.StatusCreated, e.do("POST", "/v1/consents", key, e.consentBody()))
	location, err := e.Bank.Authorize(context.Background(), en["redirect_url"].(string))
	require.NoError(e.t, err)
	require.True(e.t, strings.HasPrefix(location, e.Bank.ITP.RedirectURI+"#"), location)
	res := e.ok(http.StatusOK, e.do("POST", "/callback", "", map[string]any{"response": location[strings.Index(location, "#"):]}))
	require.Equal(e.t, "authorised", res["outcome"])
	return en["consent"].(map[string]any)["id"].(string)
}

// runUntil moves the bank's clock in steps, running the Initiator's Sync
// after each.
func (e *env) runUntil(until time.Time, step time.Duration) {
	e.t.Helper()
	for e.Clock.Now().Before(until) {
		next := e.Clock.Now().Add(step)
		if next.After(until) {
			next = until
		}
		e.AdvanceTo(e.t, next)
		_, err := e.in.Sync(context.Background())
		require.NoError(e.t, err)
	}
}

func (e *env) charge(key, consentID string, due consent.Date, amount string) map[string]any {
	e.t.Helper()
	return e.ok(http.StatusCreated, e.do("POST", "/v1/charges", key, map[string]any{
		"consent_id": consentID, "amount": amount, "due_date": due.String(), "description": "mensalidade",
	}))
}

// problemOf asserts a problem+json answer and returns it.
func (e *env) problemOf(status int, code string, r resp) map[string]any {
	e.t.Helper()
	require.Equal(e.t, status, r.Status, "body: %s", r.Body)
	require.Equal(e.t, "application/problem+json", r.Header.Get("Content-Type"))
	p := r.json(e.t)
	require.Equal(e.t, code, p["code"], "body: %s", r.Body)
	require.Equal(e.t, float64(status), p["status"])
	require.NotEmpty(e.t, p["type"])
	require.NotEmpty(e.t, p["title"])
	require.Equal(e.t, r.Header.Get("X-Request-Id"), p["request_id"])
	return p
}

// fieldsOf returns the field names of a validation_failed problem.
func fieldsOf(p map[string]any) []string {
	var out []string
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any)["field"].(string))
	}
	return out
}
