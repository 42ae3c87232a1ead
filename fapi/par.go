package fapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Scopes of Pix Automático.
const (
	ScopeOpenID            = "openid"
	ScopeRecurringPayments = "recurring-payments"
)

// RecurringConsentScopes returns the scopes of the authorization of a
// recurring consent: "openid recurring-payments recurring-consent:<id>".
func RecurringConsentScopes(recurringConsentID string) []string {
	return []string{ScopeOpenID, ScopeRecurringPayments, "recurring-consent:" + recurringConsentID}
}

// Authorization is an authorization in progress: what the ITP must keep
// (keyed by State) between sending the payer to the bank and receiving the
// callback. It holds the PKCE verifier, so store it as a secret.
type Authorization struct {
	// URL is where to send the payer: the authorization endpoint with only
	// client_id and request_uri.
	URL          string    `json:"url"`
	RequestURI   string    `json:"request_uri"`
	State        string    `json:"state"`
	Nonce        string    `json:"nonce"`
	CodeVerifier string    `json:"code_verifier"`
	RedirectURI  string    `json:"redirect_uri"`
	Scopes       []string  `json:"scopes"`
	ExpiresAt    time.Time `json:"expires_at"` // of the request_uri
}

// AuthorizeOptions are optional parameters of PushAuthorization.
type AuthorizeOptions struct {
	// MaxAge, if positive, asks the bank to re-authenticate the payer if
	// the last authentication is older.
	MaxAge time.Duration
}

// requestObject is the payload of the signed request object.
type requestObject struct {
	Iss                 string         `json:"iss"`
	Aud                 string         `json:"aud"`
	ClientID            string         `json:"client_id"`
	Iat                 int64          `json:"iat"`
	Nbf                 int64          `json:"nbf"`
	Exp                 int64          `json:"exp"`
	Jti                 string         `json:"jti"`
	ResponseType        string         `json:"response_type"`
	ResponseMode        string         `json:"response_mode"`
	Scope               string         `json:"scope"`
	RedirectURI         string         `json:"redirect_uri"`
	State               string         `json:"state"`
	Nonce               string         `json:"nonce"`
	CodeChallenge       string         `json:"code_challenge"`
	CodeChallengeMethod string         `json:"code_challenge_method"`
	Claims              map[string]any `json:"claims"`
	MaxAge              *int64         `json:"max_age,omitempty"`
}

// PushAuthorization starts an authorization: it signs a request object
// (PS256; iss and client_id = the client, aud = the issuer, nbf = iat =
// now, exp within the configured lifetime, response_type "code id_token",
// response_mode "fragment", acr requested as essential without values,
// PKCE S256, fresh state and nonce, never sub), pushes it to the PAR
// endpoint's mTLS alias with private_key_jwt, and returns the Authorization
// whose URL carries only client_id and request_uri.
func (c *Client) PushAuthorization(ctx context.Context, scopes []string, opts *AuthorizeOptions) (*Authorization, error) {
	if err := c.requireClientID(); err != nil {
		return nil, err
	}
	if c.cfg.RedirectURI == "" {
		return nil, &ConfigError{Field: "RedirectURI", Msg: "required for the authorization flow"}
	}
	if !contains(scopes, ScopeOpenID) {
		return nil, fmt.Errorf("fapi: scopes must include %q", ScopeOpenID)
	}
	md, err := c.Discover(ctx)
	if err != nil {
		return nil, err
	}
	parURL, err := md.PARURL()
	if err != nil {
		return nil, err
	}
	a := &Authorization{
		State:        c.randomToken(),
		Nonce:        c.randomToken(),
		CodeVerifier: c.randomToken() + c.randomToken(), // 86 chars, within PKCE's 43–128
		RedirectURI:  c.cfg.RedirectURI,
		Scopes:       append([]string(nil), scopes...),
	}
	ro, err := c.requestObject(md.Issuer, a, opts)
	if err != nil {
		return nil, err
	}
	form := url.Values{"request": {ro}}
	if err := c.authenticate(form, md.Issuer); err != nil {
		return nil, err
	}
	body, err := c.postForm(ctx, "par", parURL, form, http.StatusCreated)
	if err != nil {
		return nil, err
	}
	var pr struct {
		RequestURI string          `json:"request_uri"`
		ExpiresIn  json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &pr); err != nil || pr.RequestURI == "" {
		return nil, &OAuthError{Endpoint: "par", StatusCode: http.StatusCreated, Code: "invalid_response", Description: "no request_uri in PAR response"}
	}
	var expires float64
	if json.Unmarshal(pr.ExpiresIn, &expires) != nil || expires <= 0 {
		expires = 60
	}
	a.RequestURI = pr.RequestURI
	a.ExpiresAt = c.now().Add(time.Duration(expires * float64(time.Second)))
	q := url.Values{"client_id": {c.cfg.ClientID}, "request_uri": {pr.RequestURI}}
	sep := "?"
	if strings.Contains(md.AuthorizationEndpoint, "?") {
		sep = "&"
	}
	a.URL = md.AuthorizationEndpoint + sep + q.Encode()
	return a, nil
}

func (c *Client) requestObject(issuer string, a *Authorization, opts *AuthorizeOptions) (string, error) {
	now := c.now()
	ro := requestObject{
		Iss: c.cfg.ClientID, Aud: issuer, ClientID: c.cfg.ClientID,
		Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(c.cfg.RequestObjectLifetime).Unix(),
		Jti:          c.newID(),
		ResponseType: "code id_token", ResponseMode: "fragment",
		Scope: strings.Join(a.Scopes, " "), RedirectURI: a.RedirectURI,
		State: a.State, Nonce: a.Nonce,
		CodeChallenge: oauth2.S256ChallengeFromVerifier(a.CodeVerifier), CodeChallengeMethod: "S256",
		Claims: map[string]any{"id_token": map[string]any{"acr": map[string]any{"essential": true}}},
	}
	if opts != nil && opts.MaxAge > 0 {
		secs := int64(opts.MaxAge / time.Second)
		ro.MaxAge = &secs
	}
	payload, err := json.Marshal(ro)
	if err != nil {
		return "", err
	}
	jws, err := c.objSigner.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("fapi: sign request object: %w", err)
	}
	return jws.CompactSerialize()
}

// randomToken returns 43 base64url characters (256 bits) from the
// configured source.
func (c *Client) randomToken() string {
	r := c.cfg.Rand
	if r == nil {
		r = rand.Reader
	}
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		_, _ = rand.Read(b[:]) // never fall back to something predictable
	}
	return b64(b[:])
}

func contains(ss []string, s string) bool {
	for _, v := range ss {
		if v == s {
			return true
		}
	}
	return false
}

var errEmptyFragment = errors.New("fapi: empty callback")
