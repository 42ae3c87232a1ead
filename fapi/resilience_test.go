package fapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// flakyBank answers each call with the next scripted status (then 201
// signed), recording what it received.
type flakyBank struct {
	t       *testing.T
	env     *unitEnv
	mu      sync.Mutex
	script  []int
	headers map[string]string // extra headers on scripted answers
	keys    []string          // x-idempotency-key of every call
	jtis    []string          // jti of every signed body
}

func (b *flakyBank) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.keys = append(b.keys, r.Header.Get(HeaderIdempotencyKey))
	var body strings.Builder
	buf := make([]byte, 4096)
	n, _ := r.Body.Read(buf)
	body.Write(buf[:n])
	if jws, err := jose.ParseSignedCompact(body.String(), []jose.SignatureAlgorithm{jose.PS256}); err == nil {
		var cl struct {
			Jti string `json:"jti"`
		}
		_ = json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &cl)
		b.jtis = append(b.jtis, cl.Jti)
	}
	status := http.StatusCreated
	if len(b.script) > 0 {
		status, b.script = b.script[0], b.script[1:]
	}
	b.mu.Unlock()
	w.Header().Set(HeaderInteractionID, r.Header.Get(HeaderInteractionID))
	if status != http.StatusCreated {
		for k, v := range b.headers {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"errors":[{"code":"ERRO","title":"t","detail":"d"}]}`))
		return
	}
	claims := validClaims(b.env)
	claims["jti"] = newUUID(nil)
	w.Header().Set("Content-Type", "application/jwt")
	w.WriteHeader(status)
	_, _ = w.Write(bankSign(b.t, shared.bankKey, bankKid, nil, claims))
}

type resilienceEnv struct {
	*unitEnv
	bank   *flakyBank
	srv    *httptest.Server
	slept  []time.Duration
	client *Client
}

func newResilienceEnv(t *testing.T, script []int, resend ResendPolicy, breaker BreakerPolicy) *resilienceEnv {
	t.Helper()
	u := newUnitEnv(t)
	e := &resilienceEnv{unitEnv: u, bank: &flakyBank{t: t, env: u, script: script}}
	e.srv = httptest.NewTLSServer(e.bank)
	t.Cleanup(e.srv.Close)
	cfg := u.c.cfg
	cfg.HTTPClient = e.srv.Client()
	cfg.Resend, cfg.Breaker = resend, breaker
	var mu sync.Mutex
	cfg.Sleep = func(_ context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		e.slept = append(e.slept, d)
		return nil
	}
	c, err := New(cfg)
	require.NoError(t, err)
	e.client = c
	return e
}

func (e *resilienceEnv) post(t *testing.T) (*Response, error) {
	return e.client.Do(context.Background(), Call{
		Method: http.MethodPost, URL: e.srv.URL + "/pix/recurring-payments", Data: map[string]string{"a": "b"},
		Token: StaticTokenSource(&oauth2.Token{AccessToken: "at"}), IdempotencyKey: "op-1",
	})
}

func TestResendOn5xxWithSameKeyAndNewJTI(t *testing.T) {
	t.Parallel()
	e := newResilienceEnv(t, []int{503, 504}, ResendPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}, BreakerPolicy{})
	resp, err := e.post(t)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, []string{"op-1", "op-1", "op-1"}, e.bank.keys, "the same idempotency key on every send")
	require.Len(t, e.bank.jtis, 3)
	assert.NotEqual(t, e.bank.jtis[0], e.bank.jtis[1], "each send is signed anew")
	assert.NotEqual(t, e.bank.jtis[1], e.bank.jtis[2])
	require.Len(t, e.slept, 2)
	assert.GreaterOrEqual(t, e.slept[0], 50*time.Millisecond)
	assert.LessOrEqual(t, e.slept[0], 100*time.Millisecond)
	assert.GreaterOrEqual(t, e.slept[1], 100*time.Millisecond, "the back-off doubles")
	assert.LessOrEqual(t, e.slept[1], 200*time.Millisecond)
}

func TestResendsAreBounded(t *testing.T) {
	t.Parallel()
	e := newResilienceEnv(t, []int{500, 500, 500, 500}, ResendPolicy{MaxAttempts: 3}, BreakerPolicy{})
	_, err := e.post(t)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 500, ae.StatusCode)
	assert.Len(t, e.bank.keys, 3)
}

func TestRetryAfterIsHonouredOrStops(t *testing.T) {
	t.Parallel()
	e := newResilienceEnv(t, []int{529}, ResendPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Second}, BreakerPolicy{})
	e.bank.headers = map[string]string{"Retry-After": "2"}
	_, err := e.post(t)
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{2 * time.Second}, e.slept, "the bank's Retry-After wins over a shorter back-off")

	long := newResilienceEnv(t, []int{529}, ResendPolicy{MaxDelay: time.Second}, BreakerPolicy{})
	long.bank.headers = map[string]string{"Retry-After": "120"}
	_, err = long.post(t)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "120", ae.RetryAfter, "a longer wait is left to the caller")
	assert.Len(t, long.bank.keys, 1)
}

func TestClientErrorsAreNeverResent(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 403, 404, 422} {
		e := newResilienceEnv(t, []int{status}, ResendPolicy{}, BreakerPolicy{})
		_, err := e.post(t)
		require.Error(t, err)
		assert.Len(t, e.bank.keys, 1, "HTTP %d", status)
	}
}

func TestCircuitBreakerOpensFailsFastAndRecovers(t *testing.T) {
	t.Parallel()
	script := []int{}
	for range 6 {
		script = append(script, 503)
	}
	e := newResilienceEnv(t, script, ResendPolicy{MaxAttempts: 1}, BreakerPolicy{Failures: 3, Cooldown: time.Minute})
	for range 3 {
		_, err := e.post(t)
		var ae *APIError
		require.ErrorAs(t, err, &ae)
	}
	_, err := e.post(t)
	var open *CircuitOpenError
	require.ErrorAs(t, err, &open)
	assert.ErrorIs(t, err, ErrCircuitOpen)
	assert.Len(t, e.bank.keys, 3, "an open circuit sends nothing")

	e.clock.set(e.clock.Now().Add(61 * time.Second))
	_, err = e.post(t) // the probe fails (503): the circuit reopens at once
	require.NotErrorIs(t, err, ErrCircuitOpen)
	_, err = e.post(t)
	require.ErrorIs(t, err, ErrCircuitOpen)

	e.clock.set(e.clock.Now().Add(61 * time.Second))
	e.bank.script = nil
	_, err = e.post(t)
	require.NoError(t, err, "a successful probe closes the circuit")
	_, err = e.post(t)
	require.NoError(t, err)
}

func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	p := ResendPolicy{}
	p.withDefaults()
	for n := 1; n <= 10; n++ {
		d := p.backoff(n)
		want := min(p.BaseDelay<<(n-1), p.MaxDelay)
		assert.GreaterOrEqual(t, d, want/2, "n=%d", n)
		assert.LessOrEqual(t, d, want, "n=%d", n)
	}
	assert.Equal(t, 3*time.Second, retryAfter("3", time.Now()))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	assert.Equal(t, 90*time.Second, retryAfter(now.Add(90*time.Second).Format(http.TimeFormat), now))
	assert.Zero(t, retryAfter("soon", now))
}
