package fapi

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// ResendPolicy bounds how Do resends a call that the bank did not answer
// usefully: a transport failure (timeout, reset, dropped connection) or a
// 500, 502, 503, 504, 429 or 529. Every resend carries the same
// idempotency key and data, signed anew with a fresh jti and iat, so a bank
// that had acted answers with what it did. Other answers (4xx, 422, a
// response that fails verification) are never resent.
type ResendPolicy struct {
	// MaxAttempts is the most sends of one call, the first included. Zero
	// means 3; 1 disables resends.
	MaxAttempts int
	// BaseDelay is the back-off before the first resend; it doubles for
	// each next one, with jitter (a random half to all of it). Zero means
	// 250 ms.
	BaseDelay time.Duration
	// MaxDelay caps one back-off. A Retry-After longer than it stops the
	// resends: the caller should come back later. Zero means 8 s.
	MaxDelay time.Duration
}

// BreakerPolicy configures the circuit breaker of a Client (one per bank),
// so that one failing bank does not slow the ITP's work with the others:
// after Failures consecutive failed calls the circuit opens, and calls fail
// fast with ErrCircuitOpen for Cooldown; then one call is let through, and
// its success closes the circuit.
type BreakerPolicy struct {
	// Failures is how many consecutive failed calls open the circuit. Zero
	// means 5; a negative value disables the breaker.
	Failures int
	// Cooldown is how long the circuit stays open. Zero means 30 s.
	Cooldown time.Duration
}

// ErrCircuitOpen: the bank failed repeatedly and calls to it are paused;
// the error says until when.
var ErrCircuitOpen = errors.New("fapi: circuit open")

// CircuitOpenError reports a call refused by an open circuit. It wraps
// ErrCircuitOpen.
type CircuitOpenError struct {
	Until time.Time
}

func (e *CircuitOpenError) Error() string {
	return fmt.Sprintf("fapi: circuit open until %s: the bank failed repeatedly", e.Until.UTC().Format(time.RFC3339))
}

// Unwrap returns ErrCircuitOpen.
func (e *CircuitOpenError) Unwrap() error { return ErrCircuitOpen }

// resendable reports whether an answer may be resent, and the delay the
// bank asked for (Retry-After), if any.
func resendable(resp *http.Response, now time.Time) (bool, time.Duration) {
	switch resp.StatusCode {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable,
		http.StatusGatewayTimeout, http.StatusTooManyRequests, 529:
		return true, retryAfter(resp.Header.Get("Retry-After"), now)
	}
	return false, 0
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// backoff returns the delay before resend n (1-based): BaseDelay·2^(n-1),
// capped, with jitter in [d/2, d].
func (p ResendPolicy) backoff(n int) time.Duration {
	d := p.BaseDelay << (n - 1)
	if d <= 0 || d > p.MaxDelay {
		d = p.MaxDelay
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

func (p *ResendPolicy) withDefaults() {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 3
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 250 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 8 * time.Second
	}
}

// sleepCtx waits for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// breaker is a consecutive-failure circuit breaker.
type breaker struct {
	policy BreakerPolicy
	mu     sync.Mutex
	fails  int
	until  time.Time
}

func newBreaker(p BreakerPolicy) *breaker {
	if p.Failures == 0 {
		p.Failures = 5
	}
	if p.Cooldown <= 0 {
		p.Cooldown = 30 * time.Second
	}
	return &breaker{policy: p}
}

// allow reports whether a call may go out now.
func (b *breaker) allow(now time.Time) error {
	if b.policy.Failures < 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Before(b.until) {
		return &CircuitOpenError{Until: b.until}
	}
	return nil
}

// record counts the outcome of a call.
func (b *breaker) record(ok bool, now time.Time) {
	if b.policy.Failures < 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if ok {
		b.fails, b.until = 0, time.Time{}
		return
	}
	b.fails++
	if b.fails >= b.policy.Failures {
		b.until = now.Add(b.policy.Cooldown)
		b.fails = b.policy.Failures - 1 // after the cooldown, one more failure reopens it
	}
}
