package fapi

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors for local conditions. Typed errors below wrap them where it
// helps callers branch with errors.Is.
var (
	// ErrIssuerMismatch: the discovery document's issuer is not the URL it
	// was fetched from (OIDC Discovery §4.3). The client stops.
	ErrIssuerMismatch = errors.New("fapi: discovery issuer mismatch")
	// ErrNoEndpoint: an endpoint the flow needs is missing from the
	// discovery document.
	ErrNoEndpoint = errors.New("fapi: endpoint not advertised by the authorization server")
	// ErrUnknownKeyID: no key with the JOSE header's kid, even after one
	// refresh of the key set.
	ErrUnknownKeyID = errors.New("fapi: unknown key id")
	// ErrStateMismatch: the callback's state is not the one sent.
	ErrStateMismatch = errors.New("fapi: callback state mismatch")
	// ErrNoRefreshToken: the store holds no refresh token for the key.
	ErrNoRefreshToken = errors.New("fapi: no refresh token stored")
	// ErrInteractionIDMismatch: the bank echoed a different
	// x-fapi-interaction-id than the one sent.
	ErrInteractionIDMismatch = errors.New("fapi: x-fapi-interaction-id mismatch")
	// ErrInvalidHeader: a FAPI header value supplied by the caller breaks
	// the spec's limits.
	ErrInvalidHeader = errors.New("fapi: invalid header value")
	// ErrConfig: the Config is incomplete or inconsistent.
	ErrConfig = errors.New("fapi: invalid config")
)

// ConfigError names a Config field and what is wrong with it.
type ConfigError struct {
	Field string
	Msg   string
}

func (e *ConfigError) Error() string { return "fapi: Config." + e.Field + ": " + e.Msg }

// Unwrap returns ErrConfig.
func (e *ConfigError) Unwrap() error { return ErrConfig }

// OAuthError is an error response of the authorization server (RFC 6749
// §5.2), or an error returned to the redirect URI (§4.1.2.1).
type OAuthError struct {
	// Endpoint is "token", "par", "register", "authorize" (front channel)…
	Endpoint    string
	StatusCode  int    // 0 for front-channel errors
	Code        string `json:"error"`
	Description string `json:"error_description"`
	URI         string `json:"error_uri"`
}

func (e *OAuthError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fapi: %s: %s", e.Endpoint, e.Code)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	return b.String()
}

// ErrorItem is one entry of the spec's ResponseError.errors.
type ErrorItem struct {
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// APIError is a non-2xx answer of a resource server (the bank's API).
type APIError struct {
	Method     string
	URL        string
	StatusCode int
	// InteractionID is the x-fapi-interaction-id the bank answered with (on
	// a 400 for a missing or invalid id it is the bank's own, which the
	// spec tells the ITP to adopt).
	InteractionID string
	// Errors are the spec's {code, title, detail} items, in order.
	Errors []ErrorItem
	// Signed reports whether the body was a verified JWS (every 422 must be).
	Signed bool
	// RetryAfter is the Retry-After header, verbatim, if any.
	RetryAfter string
	// Body is the raw body, truncated to 2 KiB, for logs.
	Body []byte
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fapi: %s %s: HTTP %d", e.Method, e.URL, e.StatusCode)
	for i, it := range e.Errors {
		if i == 3 {
			fmt.Fprintf(&b, " (+%d more)", len(e.Errors)-3)
			break
		}
		fmt.Fprintf(&b, "; %s", it.Code)
		if it.Detail != "" {
			fmt.Fprintf(&b, ": %s", it.Detail)
		}
	}
	return b.String()
}

// HasCode reports whether any error item carries code.
func (e *APIError) HasCode(code string) bool {
	for _, it := range e.Errors {
		if it.Code == code {
			return true
		}
	}
	return false
}

// IDTokenError reports the id_token check that failed. After such an error
// the client makes no token, userinfo or resource call for that
// authorization.
type IDTokenError struct {
	// Check names the failed check: "encryption", "alg", "kid", "signature",
	// "iss", "aud", "exp", "iat", "nonce", "c_hash", "s_hash", "at_hash",
	// "acr", "sub", "auth_time", "format".
	Check string
	Err   error
}

func (e *IDTokenError) Error() string { return "fapi: id_token " + e.Check + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *IDTokenError) Unwrap() error { return e.Err }

// SignatureError reports a signed message (a bank response body) that failed
// verification; Check names the failed check: "format", "alg", "kid", "typ",
// "signature", "iss", "aud", "iat", "exp", "nbf", "jti".
type SignatureError struct {
	Check string
	Err   error
}

func (e *SignatureError) Error() string {
	return "fapi: response JWS " + e.Check + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *SignatureError) Unwrap() error { return e.Err }

// InteractionIDError reports an x-fapi-interaction-id echo that does not
// match. It wraps ErrInteractionIDMismatch.
type InteractionIDError struct {
	Sent, Received string
}

func (e *InteractionIDError) Error() string {
	return fmt.Sprintf("fapi: x-fapi-interaction-id mismatch: sent %q, received %q", e.Sent, e.Received)
}

// Unwrap returns ErrInteractionIDMismatch.
func (e *InteractionIDError) Unwrap() error { return ErrInteractionIDMismatch }
