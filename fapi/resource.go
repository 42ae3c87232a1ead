package fapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Call is one request to the bank's resource server.
type Call struct {
	// Method is GET, POST or PATCH.
	Method string
	// URL is the full endpoint URL; for a signed body it is also the JWS aud.
	URL string
	// Data, if not nil, is the request's "data" object; the body is sent as
	// a signed JWT (application/jwt).
	Data any
	// Token supplies the access token. If it implements Invalidator, a 401
	// invalid_token answer makes Do invalidate the token, get a new one
	// (refreshing it) and replay the request once.
	Token TokenSource
	// IdempotencyKey is required on POST and PATCH. Generate it once per
	// logical operation and store it before the first attempt, so that a
	// resend after a timeout reuses it.
	IdempotencyKey string
	// InteractionID, if set, is sent as x-fapi-interaction-id; otherwise a
	// fresh UUIDv4 is sent.
	InteractionID string
}

// Response is a successful (2xx) answer of the bank.
type Response struct {
	StatusCode    int
	Header        http.Header
	InteractionID string
	// Version is the x-v header: the API version the bank implements.
	Version string
	// Message is the verified signed body; nil for an empty body.
	Message *Message
}

// maxResponseSize bounds response bodies.
const maxResponseSize = 4 << 20

// Do sends a call with the FAPI headers, an access token and, for a body, a
// freshly signed JWS (new jti and iat on every send, replay included). It
// checks the interaction-id echo, verifies every 2xx and 422 body as a
// signed message of the bank before decoding it, and returns an *APIError
// for every non-2xx answer (signed for 422, plain JSON for the others).
//
// A call the bank did not answer usefully — a transport failure, or a 500,
// 502, 503, 504, 429 or 529 — is resent within Config.Resend, with the same
// idempotency key and data, after an exponential back-off with jitter (or
// the bank's Retry-After). A 401 invalid_token makes a token source that
// implements Invalidator refresh once. Calls to a bank that keeps failing
// are refused by its circuit breaker with a *CircuitOpenError.
func (c *Client) Do(ctx context.Context, call Call) (*Response, error) {
	if call.Token == nil {
		return nil, errors.New("fapi: Call.Token is required")
	}
	write := call.Method == http.MethodPost || call.Method == http.MethodPatch || call.Method == http.MethodPut
	if write {
		if err := ValidateIdempotencyKey(call.IdempotencyKey); err != nil {
			return nil, err
		}
	}
	if err := c.breaker.allow(c.now()); err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, call)
	if ctx.Err() == nil {
		c.breaker.record(!bankFailed(err), c.now())
	}
	return resp, err
}

func (c *Client) do(ctx context.Context, call Call) (*Response, error) {
	refreshed := false
	for attempt := 1; ; attempt++ {
		tok, err := call.Token.Token(ctx)
		if err != nil {
			return nil, err
		}
		resp, body, sentID, err := c.send(ctx, call, tok)
		var retry bool
		var asked time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, err // the caller gave up
			}
			retry = true
		case resp.StatusCode == http.StatusUnauthorized && !refreshed && isInvalidToken(resp.Header, body):
			if inv, ok := call.Token.(Invalidator); ok {
				c.log.InfoContext(ctx, "fapi: access token refused, refreshing once", "url", call.URL, "x-fapi-interaction-id", sentID)
				inv.Invalidate(tok)
				refreshed = true
				attempt--
				continue
			}
		default:
			retry, asked = resendable(resp, c.now())
		}
		if !retry || attempt >= c.resend.MaxAttempts || asked > c.resend.MaxDelay {
			if err != nil {
				return nil, err
			}
			return c.readResponse(ctx, call, resp, body, sentID)
		}
		wait := max(c.resend.backoff(attempt), asked)
		c.log.WarnContext(ctx, "fapi: resending", "url", call.URL, "attempt", attempt+1, "after", wait, "x-fapi-interaction-id", sentID, "cause", describe(resp, err))
		if err := c.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

func describe(resp *http.Response, err error) string {
	if err != nil {
		return err.Error()
	}
	return resp.Status
}

// bankFailed reports whether a call's outcome counts against the bank's
// circuit: no useful answer at all (a transport failure, or a 5xx, 429 or
// 529 from the resource or the token endpoint).
func bankFailed(err error) bool {
	var ae *APIError
	var oe *OAuthError
	var ue *url.Error
	switch {
	case err == nil:
		return false
	case errors.As(err, &ae):
		return ae.StatusCode >= 500 || ae.StatusCode == http.StatusTooManyRequests
	case errors.As(err, &oe):
		return oe.StatusCode >= 500 || oe.StatusCode == http.StatusTooManyRequests
	default:
		return errors.As(err, &ue)
	}
}

func (c *Client) send(ctx context.Context, call Call, tok *oauth2.Token) (*http.Response, []byte, string, error) {
	var body io.Reader
	if call.Data != nil {
		signed, err := c.SignRequest(call.URL, call.Data)
		if err != nil {
			return nil, nil, "", err
		}
		body = bytes.NewReader(signed)
	}
	req, err := http.NewRequestWithContext(ctx, call.Method, call.URL, body)
	if err != nil {
		return nil, nil, "", fmt.Errorf("fapi: %s %s: %w", call.Method, call.URL, err)
	}
	id := call.InteractionID
	if id == "" {
		id = c.newID()
	}
	req.Header.Set(HeaderInteractionID, id)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	req.Header.Set("Accept", "application/jwt, application/json")
	if call.Data != nil {
		req.Header.Set("Content-Type", "application/jwt")
	}
	if call.IdempotencyKey != "" {
		req.Header.Set(HeaderIdempotencyKey, call.IdempotencyKey)
	}
	resp, err := c.mtls.Do(req)
	if err != nil {
		return nil, nil, id, fmt.Errorf("fapi: %s %s: %w", call.Method, call.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseSize))
	if err != nil {
		return nil, nil, id, fmt.Errorf("fapi: %s %s: read body: %w", call.Method, call.URL, err)
	}
	return resp, b, id, nil
}

func (c *Client) readResponse(ctx context.Context, call Call, resp *http.Response, body []byte, sentID string) (*Response, error) {
	gotID := resp.Header.Get(HeaderInteractionID)
	success := resp.StatusCode >= 200 && resp.StatusCode < 300
	if (success || resp.StatusCode == http.StatusUnprocessableEntity) && !strings.EqualFold(gotID, sentID) {
		c.log.ErrorContext(ctx, "fapi: bank echoed another x-fapi-interaction-id", "sent", sentID, "received", gotID, "url", call.URL)
		return nil, &InteractionIDError{Sent: sentID, Received: gotID}
	}
	if success {
		out := &Response{StatusCode: resp.StatusCode, Header: resp.Header, InteractionID: gotID, Version: resp.Header.Get(HeaderVersion)}
		if len(bytes.TrimSpace(body)) == 0 {
			return out, nil
		}
		if !isJWT(resp.Header) {
			return nil, &SignatureError{Check: "format", Err: fmt.Errorf("HTTP %d body is %q, want application/jwt", resp.StatusCode, resp.Header.Get("Content-Type"))}
		}
		msg, err := c.VerifyResponse(ctx, body)
		if err != nil {
			c.log.ErrorContext(ctx, "fapi: bank response failed verification", "url", call.URL, "x-fapi-interaction-id", gotID, "err", err)
			return nil, err
		}
		out.Message = msg
		return out, nil
	}
	apiErr := &APIError{
		Method: call.Method, URL: call.URL, StatusCode: resp.StatusCode,
		InteractionID: gotID, RetryAfter: resp.Header.Get("Retry-After"), Body: truncate(body, 2048),
	}
	if apiErr.InteractionID == "" {
		apiErr.InteractionID = sentID
	}
	if resp.StatusCode == http.StatusUnprocessableEntity {
		// A 422 is signed; an unsigned or badly signed one is not trusted.
		msg, err := c.VerifyResponse(ctx, body)
		if err != nil {
			return nil, err
		}
		apiErr.Signed, apiErr.Errors = true, msg.Errors
		return nil, apiErr
	}
	var plain struct {
		Errors []ErrorItem `json:"errors"`
	}
	if json.Unmarshal(body, &plain) == nil {
		apiErr.Errors = plain.Errors
	}
	return nil, apiErr
}

func isJWT(h http.Header) bool {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && mt == "application/jwt"
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		b = b[:n]
	}
	return append([]byte(nil), b...)
}
