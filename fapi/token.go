package fapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// ClientAssertionType is the client_assertion_type of private_key_jwt.
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// DefaultTokenLifetime is assumed when a token response has no expires_in
// (the conformance suite sends such responses; FAPI-BR access tokens live
// 300 to 900 s, so the shortest is the safe default).
const DefaultTokenLifetime = 300 * time.Second

type assertionClaims struct {
	Iss string `json:"iss"`
	Sub string `json:"sub"`
	Aud string `json:"aud"`
	Jti string `json:"jti"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
}

// clientAssertion returns a fresh private_key_jwt assertion for aud: iss =
// sub = client_id, a new jti, iat = now, exp = iat + 60 s.
func (c *Client) clientAssertion(aud string) (string, error) {
	now := c.now()
	payload, err := json.Marshal(assertionClaims{
		Iss: c.cfg.ClientID, Sub: c.cfg.ClientID, Aud: aud,
		Jti: c.newID(), Iat: now.Unix(), Exp: now.Add(60 * time.Second).Unix(),
	})
	if err != nil {
		return "", err
	}
	jws, err := c.jwtSigner.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("fapi: sign client assertion: %w", err)
	}
	return jws.CompactSerialize()
}

// authenticate adds the private_key_jwt parameters to form.
func (c *Client) authenticate(form url.Values, aud string) error {
	if err := c.requireClientID(); err != nil {
		return err
	}
	a, err := c.clientAssertion(aud)
	if err != nil {
		return err
	}
	form.Set("client_id", c.cfg.ClientID)
	form.Set("client_assertion_type", ClientAssertionType)
	form.Set("client_assertion", a)
	return nil
}

// postForm POSTs form to an authorization-server endpoint over mTLS and
// returns the body of a response with one of the wanted statuses; any other
// status becomes an *OAuthError.
func (c *Client) postForm(ctx context.Context, endpoint, u string, form url.Values, want ...int) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("fapi: %s: %w", endpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.mtls.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fapi: %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentSize))
	if err != nil {
		return nil, fmt.Errorf("fapi: %s: read: %w", endpoint, err)
	}
	for _, w := range want {
		if resp.StatusCode == w {
			return body, nil
		}
	}
	return nil, oauthErrorFrom(endpoint, resp.StatusCode, body)
}

func oauthErrorFrom(endpoint string, status int, body []byte) *OAuthError {
	e := &OAuthError{Endpoint: endpoint, StatusCode: status}
	if json.Unmarshal(body, e) != nil || e.Code == "" {
		e.Code = "invalid_response"
		e.Description = fmt.Sprintf("HTTP %d without an OAuth error body", status)
	}
	e.Endpoint, e.StatusCode = endpoint, status
	return e
}

type tokenResponse struct {
	AccessToken  string          `json:"access_token"`
	TokenType    string          `json:"token_type"`
	ExpiresIn    json.RawMessage `json:"expires_in"`
	RefreshToken string          `json:"refresh_token"`
	Scope        string          `json:"scope"`
	IDToken      string          `json:"id_token"`
}

// tokenRequest calls the token endpoint (its mTLS alias) with grant
// parameters and private_key_jwt, and returns the token. requested is the
// scope assumed when the response has none.
func (c *Client) tokenRequest(ctx context.Context, form url.Values, requested string) (*oauth2.Token, error) {
	md, err := c.Discover(ctx)
	if err != nil {
		return nil, err
	}
	tokenURL, err := md.TokenURL()
	if err != nil {
		return nil, err
	}
	if err := c.authenticate(form, tokenURL); err != nil {
		return nil, err
	}
	body, err := c.postForm(ctx, "token", tokenURL, form, http.StatusOK)
	if err != nil {
		return nil, err
	}
	return c.parseTokenResponse(body, requested)
}

func (c *Client) parseTokenResponse(body []byte, requested string) (*oauth2.Token, error) {
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return nil, &OAuthError{Endpoint: "token", StatusCode: http.StatusOK, Code: "invalid_response", Description: "token response is not JSON: " + err.Error()}
	}
	if tr.AccessToken == "" {
		return nil, &OAuthError{Endpoint: "token", StatusCode: http.StatusOK, Code: "invalid_response", Description: "no access_token"}
	}
	if !strings.EqualFold(tr.TokenType, "Bearer") {
		return nil, &OAuthError{Endpoint: "token", StatusCode: http.StatusOK, Code: "invalid_response", Description: fmt.Sprintf("token_type %q, want Bearer", tr.TokenType)}
	}
	lifetime := DefaultTokenLifetime
	if len(tr.ExpiresIn) > 0 && string(tr.ExpiresIn) != "null" {
		var secs float64
		if err := json.Unmarshal(tr.ExpiresIn, &secs); err != nil {
			var s string // some servers send a string
			if json.Unmarshal(tr.ExpiresIn, &s) != nil || json.Unmarshal([]byte(s), &secs) != nil {
				return nil, &OAuthError{Endpoint: "token", StatusCode: http.StatusOK, Code: "invalid_response", Description: "expires_in is not a number"}
			}
		}
		if secs > 0 {
			lifetime = time.Duration(secs * float64(time.Second))
		}
	}
	scope := tr.Scope
	if scope == "" {
		scope = requested
	}
	tok := &oauth2.Token{
		AccessToken:  tr.AccessToken,
		TokenType:    "Bearer",
		RefreshToken: tr.RefreshToken,
		Expiry:       c.now().Add(lifetime),
		ExpiresIn:    int64(lifetime / time.Second),
	}
	extra := map[string]any{"scope": scope}
	if tr.IDToken != "" {
		extra["id_token"] = tr.IDToken
	}
	return tok.WithExtra(extra), nil
}

// ClientCredentials obtains a client_credentials token for scopes (for
// Pix Automático: "recurring-payments").
func (c *Client) ClientCredentials(ctx context.Context, scopes ...string) (*oauth2.Token, error) {
	scope := strings.Join(scopes, " ")
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	return c.tokenRequest(ctx, form, scope)
}

// Refresh exchanges a refresh token. The response may carry a new refresh
// token; if it does, that one must be used from now on (see
// ConsentTokenSource).
func (c *Client) Refresh(ctx context.Context, refreshToken string, scopes ...string) (*oauth2.Token, error) {
	if refreshToken == "" {
		return nil, ErrNoRefreshToken
	}
	scope := strings.Join(scopes, " ")
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if scope != "" {
		form.Set("scope", scope)
	}
	tok, err := c.tokenRequest(ctx, form, scope)
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = refreshToken // no rotation: keep using the same one
	}
	return tok, nil
}

// Scope returns the scope a token was granted (or requested, when the
// response had none).
func Scope(t *oauth2.Token) string {
	s, _ := t.Extra("scope").(string)
	return s
}

// IDTokenOf returns the raw id_token a token response carried, if any.
func IDTokenOf(t *oauth2.Token) string {
	s, _ := t.Extra("id_token").(string)
	return s
}

// isInvalidToken reports whether a 401 answer says the access token is
// invalid (WWW-Authenticate error="invalid_token", or an RFC 6750 /
// ResponseError body saying so).
func isInvalidToken(h http.Header, body []byte) bool {
	for _, v := range h.Values("WWW-Authenticate") {
		if strings.Contains(strings.ToLower(v), `error="invalid_token"`) {
			return true
		}
	}
	var oe struct {
		Error  string      `json:"error"`
		Errors []ErrorItem `json:"errors"`
	}
	if json.Unmarshal(body, &oe) == nil {
		if oe.Error == "invalid_token" {
			return true
		}
		for _, e := range oe.Errors {
			if strings.EqualFold(e.Code, "invalid_token") || e.Code == "UNAUTHORIZED" {
				return true
			}
		}
	}
	return false
}
