package fapi

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// Callback is the authorization response the bank sends to the redirect URI
// in the URL fragment (response_mode fragment).
type Callback struct {
	Code             string
	IDToken          string
	State            string
	Issuer           string
	Error            string
	ErrorDescription string
}

// ParseCallback parses the authorization response. s may be the whole
// redirect URL ("https://itp.example/cb#code=…"), the fragment with or
// without its "#", as a front-end page posts location.hash. A response
// carried in the query string is refused: for the hybrid flow code and
// state must come in the fragment.
func ParseCallback(s string) (*Callback, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errEmptyFragment
	}
	frag := s
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("fapi: callback URL: %w", err)
		}
		q := u.Query()
		if q.Has("code") || q.Has("id_token") || (q.Has("state") && !q.Has("error")) {
			return nil, errors.New("fapi: callback carries code, state or id_token in the query; the hybrid flow answers in the fragment")
		}
		frag = u.Fragment
		if frag == "" && q.Has("error") {
			frag = u.RawQuery // an authorization server that cannot honour response_mode answers errors in the query
		}
	}
	frag = strings.TrimPrefix(frag, "#")
	if frag == "" {
		return nil, errEmptyFragment
	}
	v, err := url.ParseQuery(frag)
	if err != nil {
		return nil, fmt.Errorf("fapi: callback fragment: %w", err)
	}
	for k, vs := range v {
		if len(vs) > 1 {
			return nil, fmt.Errorf("fapi: callback parameter %q repeated", k)
		}
	}
	cb := &Callback{
		Code: v.Get("code"), IDToken: v.Get("id_token"), State: v.Get("state"), Issuer: v.Get("iss"),
		Error: v.Get("error"), ErrorDescription: v.Get("error_description"),
	}
	if cb.Error == "" && (cb.Code == "" || cb.IDToken == "") {
		return nil, errors.New("fapi: callback has neither an error nor both code and id_token")
	}
	return cb, nil
}

// IDToken is a validated id_token.
type IDToken struct {
	Issuer   string
	Subject  string
	Audience Audience
	Expiry   time.Time
	IssuedAt time.Time
	AuthTime time.Time // zero if absent
	Nonce    string
	ACR      string
	// Claims are all claims, raw, for anything else the caller needs.
	Claims map[string]json.RawMessage
}

type idTokenClaims struct {
	Iss      *string      `json:"iss"`
	Sub      string       `json:"sub"`
	Aud      Audience     `json:"aud"`
	Exp      NumericDate  `json:"exp"`
	Iat      NumericDate  `json:"iat"`
	AuthTime *NumericDate `json:"auth_time"`
	Nonce    *string      `json:"nonce"`
	ACR      any          `json:"acr"`
	CHash    *string      `json:"c_hash"`
	SHash    *string      `json:"s_hash"`
	AtHash   *string      `json:"at_hash"`
}

// idTokenExpect is what an id_token must match.
type idTokenExpect struct {
	nonce        string
	code, state  string // front channel: c_hash and s_hash required
	accessToken  string // token endpoint: at_hash checked if present
	frontChannel bool
}

// Grant is the result of a completed authorization.
type Grant struct {
	// Token is the access token (bound to the transport certificate) and
	// the refresh token that lives as long as the consent.
	Token *oauth2.Token
	// IDToken is the validated front-channel id_token.
	IDToken *IDToken
}

// CompleteAuthorization finishes an authorization: it refuses an error
// response (as *OAuthError) or a state that is not a.State, decrypts and
// validates the front-channel id_token claim by claim, and only then
// exchanges the code (with the PKCE verifier) at the token endpoint. No
// token call is made after any failed check.
func (c *Client) CompleteAuthorization(ctx context.Context, a *Authorization, cb *Callback) (*Grant, error) {
	if a == nil || cb == nil {
		return nil, errors.New("fapi: CompleteAuthorization needs the Authorization and the Callback")
	}
	if cb.State != a.State {
		return nil, fmt.Errorf("%w: got %q", ErrStateMismatch, cb.State)
	}
	if cb.Error != "" {
		return nil, &OAuthError{Endpoint: "authorize", Code: cb.Error, Description: cb.ErrorDescription}
	}
	md, err := c.Discover(ctx)
	if err != nil {
		return nil, err
	}
	if cb.Issuer != "" && cb.Issuer != md.Issuer {
		return nil, &IDTokenError{Check: "iss", Err: fmt.Errorf("callback iss %q is not the issuer", cb.Issuer)}
	}
	front, err := c.validateIDToken(ctx, cb.IDToken, idTokenExpect{nonce: a.Nonce, code: cb.Code, state: a.State, frontChannel: true})
	if err != nil {
		return nil, err
	}
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {cb.Code},
		"redirect_uri":  {a.RedirectURI},
		"code_verifier": {a.CodeVerifier},
	}
	tok, err := c.tokenRequest(ctx, form, strings.Join(a.Scopes, " "))
	if err != nil {
		return nil, err
	}
	if raw := IDTokenOf(tok); raw != "" {
		back, err := c.validateIDToken(ctx, raw, idTokenExpect{nonce: a.Nonce, accessToken: tok.AccessToken})
		if err != nil {
			return nil, err
		}
		if back.Subject != front.Subject {
			return nil, &IDTokenError{Check: "sub", Err: errors.New("token endpoint sub differs from the front-channel sub")}
		}
	}
	return &Grant{Token: tok, IDToken: front}, nil
}

// validateIDToken decrypts (RSA-OAEP + A256GCM only, kid required) and
// verifies (PS256 only, kid required, key from the bank's jwks_uri) an
// id_token and checks its claims: iss, aud (only the client id), exp
// (required, not past), iat (required, not future, not older than
// MaxIDTokenAge), nonce, c_hash and s_hash (required in the front
// channel), at_hash (if present), acr, sub and auth_time. Errors are
// *IDTokenError.
func (c *Client) validateIDToken(ctx context.Context, raw string, want idTokenExpect) (*IDToken, error) {
	pt, err := c.decryptIDToken(raw)
	if err != nil {
		return nil, err
	}
	keys, err := c.asKeySet(ctx)
	if err != nil {
		return nil, &IDTokenError{Check: "kid", Err: err}
	}
	payload, _, err := verifyCompact(ctx, string(pt), keys.Keys, false)
	if err != nil {
		var se *SignatureError
		if errors.As(err, &se) {
			return nil, &IDTokenError{Check: se.Check, Err: se.Err}
		}
		return nil, &IDTokenError{Check: "signature", Err: err}
	}
	var cl idTokenClaims
	if err := json.Unmarshal(payload, &cl); err != nil {
		return nil, &IDTokenError{Check: "format", Err: err}
	}
	md, err := c.Discover(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.checkIDTokenClaims(&cl, md.Issuer, want); err != nil {
		return nil, err
	}
	t := &IDToken{Issuer: *cl.Iss, Subject: cl.Sub, Audience: cl.Aud, Expiry: cl.Exp.Time, IssuedAt: cl.Iat.Time, Nonce: *cl.Nonce}
	t.ACR, _ = cl.ACR.(string)
	if cl.AuthTime != nil {
		t.AuthTime = cl.AuthTime.Time
	}
	_ = json.Unmarshal(payload, &t.Claims)
	return t, nil
}

func (c *Client) decryptIDToken(raw string) ([]byte, error) {
	if strings.Count(raw, ".") != 4 {
		return nil, &IDTokenError{Check: "encryption", Err: errors.New("id_token is not a JWE; FAPI-BR requires encrypted id_tokens")}
	}
	h, err := parseHeader(raw)
	if err != nil {
		return nil, &IDTokenError{Check: "encryption", Err: err}
	}
	if h.Alg != string(jose.RSA_OAEP) || h.Enc != string(jose.A256GCM) {
		return nil, &IDTokenError{Check: "encryption", Err: fmt.Errorf("alg %q enc %q, want RSA-OAEP and A256GCM", h.Alg, h.Enc)}
	}
	if h.Kid == "" {
		return nil, &IDTokenError{Check: "encryption", Err: errors.New("JWE has no kid")}
	}
	key, ok := c.decryptKeys[h.Kid]
	if !ok {
		return nil, &IDTokenError{Check: "encryption", Err: fmt.Errorf("no decryption key %q", h.Kid)}
	}
	jwe, err := jose.ParseEncryptedCompact(raw, []jose.KeyAlgorithm{jose.RSA_OAEP}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return nil, &IDTokenError{Check: "encryption", Err: err}
	}
	pt, err := jwe.Decrypt(key)
	if err != nil {
		return nil, &IDTokenError{Check: "encryption", Err: err}
	}
	return pt, nil
}

func (c *Client) checkIDTokenClaims(cl *idTokenClaims, issuer string, want idTokenExpect) error {
	now := c.now()
	fail := func(check, format string, args ...any) error {
		return &IDTokenError{Check: check, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case cl.Iss == nil:
		return fail("iss", "missing")
	case *cl.Iss != issuer:
		return fail("iss", "%q is not the issuer %q", *cl.Iss, issuer)
	case len(cl.Aud) == 0:
		return fail("aud", "missing")
	case !cl.Aud.Only(c.cfg.ClientID):
		return fail("aud", "%q must be only our client id", []string(cl.Aud))
	case !cl.Exp.Set():
		return fail("exp", "missing")
	case !now.Before(cl.Exp.Time.Add(c.leeway)):
		return fail("exp", "expired at %s", cl.Exp.Time.Format(time.RFC3339))
	case !cl.Iat.Set():
		return fail("iat", "missing")
	case cl.Iat.Time.After(now.Add(c.leeway)):
		return fail("iat", "in the future (%s)", cl.Iat.Time.Format(time.RFC3339))
	case now.Sub(cl.Iat.Time) > c.cfg.MaxIDTokenAge+c.leeway:
		return fail("iat", "issued %s ago, more than %s", now.Sub(cl.Iat.Time).Round(time.Second), c.cfg.MaxIDTokenAge)
	case cl.Nonce == nil:
		return fail("nonce", "missing")
	case *cl.Nonce != want.nonce:
		return fail("nonce", "does not match the nonce sent")
	case cl.Sub == "":
		return fail("sub", "missing")
	}
	if acr, ok := cl.ACR.(string); !ok || !c.acrs[acr] {
		return fail("acr", "%v is not an accepted acr", cl.ACR)
	}
	if cl.AuthTime != nil && (cl.AuthTime.Time.After(now.Add(c.leeway)) || now.Sub(cl.AuthTime.Time) > 366*24*time.Hour) {
		return fail("auth_time", "%s is out of range", cl.AuthTime.Time.Format(time.RFC3339))
	}
	if want.frontChannel {
		if err := checkHash("c_hash", cl.CHash, want.code, true); err != nil {
			return err
		}
		if err := checkHash("s_hash", cl.SHash, want.state, true); err != nil {
			return err
		}
	}
	if want.accessToken != "" {
		if err := checkHash("at_hash", cl.AtHash, want.accessToken, false); err != nil {
			return err
		}
	}
	return nil
}

// checkHash checks an OIDC hash claim: base64url of the left half of
// SHA-256 (the hash of PS256) of value.
func checkHash(name string, claim *string, value string, required bool) error {
	if claim == nil {
		if required {
			return &IDTokenError{Check: name, Err: errors.New("missing")}
		}
		return nil
	}
	if *claim != HalfHash(value) {
		return &IDTokenError{Check: name, Err: errors.New("does not match")}
	}
	return nil
}

// HalfHash returns base64url(left 128 bits of SHA-256(v)), the c_hash,
// s_hash and at_hash value for PS256.
func HalfHash(v string) string {
	sum := sha256.Sum256([]byte(v))
	return b64(sum[:16])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
