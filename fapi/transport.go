package fapi

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// FAPI header names.
const (
	HeaderInteractionID     = "x-fapi-interaction-id"
	HeaderAuthDate          = "x-fapi-auth-date"
	HeaderCustomerIPAddress = "x-fapi-customer-ip-address"
	HeaderCustomerUserAgent = "x-customer-user-agent"
	HeaderIdempotencyKey    = "x-idempotency-key"
	HeaderVersion           = "x-v"
)

// Limits of the FAPI headers (automatic-payments components/parameters).
const (
	MaxUserAgentLength      = 100
	MaxIdempotencyKeyLength = 40
	MaxIPAddressLength      = 100
)

// Customer describes the payer's session with the ITP, for the optional
// customer headers. Leave it unset for unattended calls (a Pix Automático
// charge submitted by a scheduler has no customer present).
type Customer struct {
	// IPAddress is the payer's IP; it must parse as IPv4 or IPv6.
	IPAddress string
	// UserAgent is the payer's user agent; it is truncated to 100 chars.
	UserAgent string
	// AuthDate is the last time the payer logged in with the ITP; sent as
	// an RFC 7231 date (29 characters, GMT).
	AuthDate time.Time
}

type ctxKey int

const (
	customerKey ctxKey = iota
	idempotencyKey
	interactionKey
)

// WithCustomer returns a context whose requests carry the customer headers.
func WithCustomer(ctx context.Context, c Customer) context.Context {
	return context.WithValue(ctx, customerKey, c)
}

// WithIdempotencyKey returns a context whose requests carry key as
// x-idempotency-key. The same logical operation must keep its key across
// resends, so the caller generates it once (NewIdempotencyKey) and stores it
// before the first attempt.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKey, key)
}

// WithInteractionID returns a context whose next request carries id as
// x-fapi-interaction-id instead of a fresh one.
func WithInteractionID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, interactionKey, id)
}

// NewIdempotencyKey returns a fresh UUIDv4 (36 characters) from r (nil:
// crypto/rand).
func NewIdempotencyKey(r io.Reader) string { return newUUID(r) }

func newUUID(r io.Reader) string {
	if r == nil {
		r = rand.Reader
	}
	u, err := uuid.NewRandomFromReader(r)
	if err != nil {
		// A broken entropy source must not yield a predictable id.
		u = uuid.New()
	}
	return u.String()
}

// ValidateIdempotencyKey checks the spec's limits: 1 to 40 characters, no
// leading or trailing white space.
func ValidateIdempotencyKey(k string) error {
	switch {
	case k == "":
		return fmt.Errorf("%w: %s is empty", ErrInvalidHeader, HeaderIdempotencyKey)
	case len(k) > MaxIdempotencyKeyLength:
		return fmt.Errorf("%w: %s is %d characters, at most %d", ErrInvalidHeader, HeaderIdempotencyKey, len(k), MaxIdempotencyKeyLength)
	case strings.TrimSpace(k) != k:
		return fmt.Errorf("%w: %s has leading or trailing white space", ErrInvalidHeader, HeaderIdempotencyKey)
	}
	return nil
}

// Transport is an http.RoundTripper that adds the FAPI headers to every
// request: a fresh x-fapi-interaction-id (UUIDv4) unless the request or its
// context already has one, the customer headers from WithCustomer, and
// x-idempotency-key from WithIdempotencyKey. It follows the RoundTripper
// contract: the request is cloned, never modified, and responses are not
// interpreted.
type Transport struct {
	// Base is the underlying transport; nil means http.DefaultTransport.
	Base http.RoundTripper
	// Rand feeds interaction ids; nil means crypto/rand.
	Rand io.Reader
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	r2 := req.Clone(req.Context())
	if err := t.setHeaders(r2); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r2)
}

func (t *Transport) setHeaders(r *http.Request) error {
	ctx := r.Context()
	if r.Header.Get(HeaderInteractionID) == "" {
		id, _ := ctx.Value(interactionKey).(string)
		if id == "" {
			id = newUUID(t.Rand)
		}
		r.Header.Set(HeaderInteractionID, id)
	}
	if k, ok := ctx.Value(idempotencyKey).(string); ok && r.Header.Get(HeaderIdempotencyKey) == "" {
		if err := ValidateIdempotencyKey(k); err != nil {
			return err
		}
		r.Header.Set(HeaderIdempotencyKey, k)
	}
	if c, ok := ctx.Value(customerKey).(Customer); ok {
		return setCustomerHeaders(r.Header, c)
	}
	return nil
}

func setCustomerHeaders(h http.Header, c Customer) error {
	if c.IPAddress != "" {
		if _, err := netip.ParseAddr(c.IPAddress); err != nil || len(c.IPAddress) > MaxIPAddressLength {
			return fmt.Errorf("%w: %s %q is not an IP address", ErrInvalidHeader, HeaderCustomerIPAddress, c.IPAddress)
		}
		h.Set(HeaderCustomerIPAddress, c.IPAddress)
	}
	if ua := truncateRunes(c.UserAgent, MaxUserAgentLength); ua != "" {
		h.Set(HeaderCustomerUserAgent, ua)
	}
	if !c.AuthDate.IsZero() {
		h.Set(HeaderAuthDate, c.AuthDate.UTC().Format(http.TimeFormat))
	}
	return nil
}

// truncateRunes cuts s to at most n bytes without splitting a UTF-8
// sequence (header limits count characters of an ASCII header).
func truncateRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
