package fapi

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// joseHeader is the protected header fields the client checks itself
// before handing a token to go-jose, so that each failure names its check.
type joseHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
	Cty string `json:"cty"`
	Enc string `json:"enc"`
}

// parseHeader decodes the first segment of a compact JOSE serialization.
func parseHeader(compact string) (joseHeader, error) {
	seg, _, ok := strings.Cut(compact, ".")
	if !ok {
		return joseHeader{}, errors.New("not a compact serialization")
	}
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return joseHeader{}, fmt.Errorf("header: %w", err)
	}
	var h joseHeader
	if err := json.Unmarshal(raw, &h); err != nil {
		return joseHeader{}, fmt.Errorf("header: %w", err)
	}
	return h, nil
}

// Audience is a JWT aud claim: a string or an array of strings.
type Audience []string

// UnmarshalJSON accepts a string or an array of strings.
func (a *Audience) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*a = Audience{s}
		return nil
	}
	var arr []string
	if err := json.Unmarshal(b, &arr); err != nil {
		return errors.New("aud must be a string or an array of strings")
	}
	*a = arr
	return nil
}

// Only reports whether the audience is exactly want: a string, or an array
// whose every member is want. An extra audience is not trusted.
func (a Audience) Only(want string) bool {
	if len(a) == 0 {
		return false
	}
	for _, v := range a {
		if v != want {
			return false
		}
	}
	return true
}

// NumericDate is a JWT NumericDate; it accepts integers and fractions.
type NumericDate struct {
	time.Time
	set bool
}

// UnmarshalJSON decodes seconds since the epoch.
func (d *NumericDate) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return errors.New("must be a NumericDate")
	}
	sec, frac := math.Modf(f)
	d.Time, d.set = time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
	return nil
}

// Set reports whether the claim was present.
func (d NumericDate) Set() bool { return d.set }

// Message is a verified response body of the bank's API.
type Message struct {
	// Data, Links and Meta are the body's members, as raw JSON.
	Data  json.RawMessage
	Links json.RawMessage
	Meta  json.RawMessage
	// Errors is set on a signed 422.
	Errors []ErrorItem
	// Claims of the JWS.
	Issuer   string
	Audience Audience
	JTI      string
	IssuedAt time.Time
	KeyID    string
}

type messageClaims struct {
	Iss    string          `json:"iss"`
	Aud    Audience        `json:"aud"`
	Jti    string          `json:"jti"`
	Iat    NumericDate     `json:"iat"`
	Exp    *NumericDate    `json:"exp"`
	Nbf    *NumericDate    `json:"nbf"`
	Data   json.RawMessage `json:"data"`
	Links  json.RawMessage `json:"links"`
	Meta   json.RawMessage `json:"meta"`
	Errors []ErrorItem     `json:"errors"`
}

// requestClaims is the payload of a signed request body.
type requestClaims struct {
	Aud  string `json:"aud"`
	Iss  string `json:"iss"`
	Jti  string `json:"jti"`
	Iat  int64  `json:"iat"`
	Data any    `json:"data"`
}

// SignRequest returns the compact JWS (application/jwt) of a request body
// for the endpoint url: header alg PS256, kid, typ JWT; claims aud = url,
// iss = the ITP organisation id, a fresh UUIDv4 jti, iat = now, and data.
// Every send must be signed anew, so that a resend carries a new jti.
func (c *Client) SignRequest(url string, data any) ([]byte, error) {
	payload, err := json.Marshal(requestClaims{Aud: url, Iss: c.orgID, Jti: c.newID(), Iat: c.now().Unix(), Data: data})
	if err != nil {
		return nil, fmt.Errorf("fapi: encode request body: %w", err)
	}
	jws, err := c.jwtSigner.Sign(payload)
	if err != nil {
		return nil, fmt.Errorf("fapi: sign request body: %w", err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		return nil, fmt.Errorf("fapi: sign request body: %w", err)
	}
	return []byte(s), nil
}

// VerifyResponse verifies a signed response body of the bank: PS256 only,
// kid required and found in the bank's directory key set (refreshed once on
// an unknown kid), typ JWT if present, iss = the bank's organisation id, aud
// = the ITP's organisation id (a string or a one-element array), iat
// present and within the leeway (±60 s), exp and nbf if present, and a jti
// never seen before. Only then is the body decoded.
func (c *Client) VerifyResponse(ctx context.Context, body []byte) (*Message, error) {
	if c.bankKeys == nil {
		return nil, &ConfigError{Field: "KeystoreURL", Msg: "KeystoreURL and BankOrganisationID are required to verify responses"}
	}
	claims, kid, err := verifyCompact(ctx, string(bytes.TrimSpace(body)), c.bankKeys.Keys, true)
	if err != nil {
		return nil, err
	}
	var mc messageClaims
	if err := json.Unmarshal(claims, &mc); err != nil {
		return nil, &SignatureError{Check: "format", Err: err}
	}
	now := c.now()
	switch {
	case mc.Iss != c.cfg.BankOrganisationID:
		return nil, &SignatureError{Check: "iss", Err: fmt.Errorf("iss %q is not the bank %q", mc.Iss, c.cfg.BankOrganisationID)}
	case !mc.Aud.Only(c.orgID):
		return nil, &SignatureError{Check: "aud", Err: fmt.Errorf("aud %q is not our organisation %q", []string(mc.Aud), c.orgID)}
	case !mc.Iat.Set():
		return nil, &SignatureError{Check: "iat", Err: errors.New("missing")}
	case absDuration(now.Sub(mc.Iat.Time)) > c.leeway:
		return nil, &SignatureError{Check: "iat", Err: fmt.Errorf("iat %s is more than %s from now %s", mc.Iat.Time.Format(time.RFC3339), c.leeway, now.UTC().Format(time.RFC3339))}
	case mc.Exp != nil && !now.Before(mc.Exp.Time.Add(c.leeway)):
		return nil, &SignatureError{Check: "exp", Err: errors.New("expired")}
	case mc.Nbf != nil && now.Add(c.leeway).Before(mc.Nbf.Time):
		return nil, &SignatureError{Check: "nbf", Err: errors.New("not yet valid")}
	case mc.Jti == "":
		return nil, &SignatureError{Check: "jti", Err: errors.New("missing")}
	case !c.replay.add(mc.Jti, now):
		return nil, &SignatureError{Check: "jti", Err: fmt.Errorf("jti %q replayed", mc.Jti)}
	}
	return &Message{Data: mc.Data, Links: mc.Links, Meta: mc.Meta, Errors: mc.Errors, Issuer: mc.Iss, Audience: mc.Aud, JTI: mc.Jti, IssuedAt: mc.Iat.Time, KeyID: kid}, nil
}

// keyLookup returns candidate keys for a kid.
type keyLookup func(ctx context.Context, kid string) ([]*rsa.PublicKey, error)

// verifyCompact checks a compact JWS's header (PS256, kid, typ JWT if
// present when checkTyp), finds the key by kid and verifies the signature.
// It returns the payload and the kid. Errors are *SignatureError.
func verifyCompact(ctx context.Context, compact string, keys keyLookup, checkTyp bool) ([]byte, string, error) {
	h, err := parseHeader(compact)
	if err != nil {
		return nil, "", &SignatureError{Check: "format", Err: err}
	}
	if h.Alg != string(jose.PS256) {
		return nil, "", &SignatureError{Check: "alg", Err: fmt.Errorf("alg %q, want PS256", h.Alg)}
	}
	if h.Kid == "" {
		return nil, "", &SignatureError{Check: "kid", Err: errors.New("missing")}
	}
	if checkTyp && h.Typ != "" && !strings.EqualFold(h.Typ, "JWT") {
		return nil, "", &SignatureError{Check: "typ", Err: fmt.Errorf("typ %q, want JWT", h.Typ)}
	}
	jws, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{jose.PS256})
	if err != nil {
		return nil, "", &SignatureError{Check: "format", Err: err}
	}
	candidates, err := keys(ctx, h.Kid)
	if err != nil {
		return nil, "", &SignatureError{Check: "kid", Err: err}
	}
	for _, k := range candidates {
		if payload, err := jws.Verify(k); err == nil {
			return payload, h.Kid, nil
		}
	}
	return nil, "", &SignatureError{Check: "signature", Err: errors.New("no key with that kid verifies the signature")}
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// replayCache remembers jtis for a window. Messages older than the iat
// tolerance are refused anyway, so a jti only needs remembering for the
// window in which its message would still be accepted: memory is bounded
// by the message rate, not by history.
type replayCache struct {
	window time.Duration
	mu     sync.Mutex
	seen   map[string]time.Time
	sweep  time.Time
}

func newReplayCache(window time.Duration) *replayCache {
	return &replayCache{window: window, seen: map[string]time.Time{}}
}

// add records jti at now and reports whether it was new.
func (r *replayCache) add(jti string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now.Sub(r.sweep) > r.window {
		for k, t := range r.seen {
			if now.Sub(t) > r.window {
				delete(r.seen, k)
			}
		}
		r.sweep = now
	}
	if t, ok := r.seen[jti]; ok && now.Sub(t) <= r.window {
		return false
	}
	r.seen[jti] = now
	return true
}
