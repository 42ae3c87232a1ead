package sandbox

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/ofb-go/pixauto/pixauto/sandbox/internal/jws"
)

// authzRequest is a validated authorization request.
type authzRequest struct {
	ClientID      string
	RedirectURI   string
	Scopes        []string
	State         string
	Nonce         string
	CodeChallenge string
	Consent       *consentScope
}

// parRecord is a pushed authorization request, referenced by a request_uri.
type parRecord struct {
	Request        authzRequest
	CertThumbprint string
	ExpiresAt      time.Time
	Used           bool
}

// requestObjectClaims are the claims of a request object (JAR, FAPI 1.0
// Advanced 5.2.2, FAPI-BR v2). Types are strict: a claim of the wrong JSON
// type makes the object malformed.
type requestObjectClaims struct {
	Issuer              string           `json:"iss"`
	Subject             string           `json:"sub"`
	Audience            jwt.Audience     `json:"aud"`
	Expiry              *jwt.NumericDate `json:"exp"`
	NotBefore           *jwt.NumericDate `json:"nbf"`
	IssuedAt            *jwt.NumericDate `json:"iat"`
	ClientID            string           `json:"client_id"`
	ResponseType        string           `json:"response_type"`
	ResponseMode        string           `json:"response_mode"`
	Scope               string           `json:"scope"`
	RedirectURI         string           `json:"redirect_uri"`
	State               string           `json:"state"`
	Nonce               string           `json:"nonce"`
	CodeChallenge       string           `json:"code_challenge"`
	CodeChallengeMethod string           `json:"code_challenge_method"`
	Claims              json.RawMessage  `json:"claims"`
}

var codeChallengePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// handlePAR is POST /par (RFC 9126) on the mTLS host.
func (b *Bank) handlePAR(w http.ResponseWriter, r *http.Request) {
	form, oe := readForm(r)
	if oe != nil {
		b.refuseOAuth(w, r, oe)
		return
	}
	if form.Has("request_uri") {
		b.refuseOAuth(w, r, invalidRequest("request_uri must not be sent to the PAR endpoint"))
		return
	}
	c, oe := b.authenticateClient(r, form, []string{b.Issuer, b.parEndpoint(), b.tokenEndpoint()})
	if oe != nil {
		b.refuseOAuth(w, r, oe)
		return
	}
	raw := form.Get("request")
	if raw == "" {
		b.refuseOAuth(w, r, invalidRequest("request (a signed request object) is required"))
		return
	}
	ar, oe := b.validateRequestObject(c, raw)
	if oe != nil {
		b.refuseOAuth(w, r, oe)
		return
	}
	uri := "urn:ietf:params:oauth:request_uri:" + randomToken()
	b.mu.Lock()
	b.pars[uri] = &parRecord{Request: *ar, CertThumbprint: certThumbprint(r), ExpiresAt: b.now().Add(PARLifetime)}
	b.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{"request_uri": uri, "expires_in": int(PARLifetime / time.Second)})
}

// validateRequestObject decrypts (if encrypted), verifies and checks a
// request object from client c.
func (b *Bank) validateRequestObject(c *client, raw string) (*authzRequest, *oauthError) {
	if strings.Count(raw, ".") == 4 {
		inner, err := jws.Decrypt(raw, b.keys.asEnc, b.keys.asEncJWK.KeyID)
		if err != nil {
			return nil, invalidRequestObject("encrypted request object: %v", err)
		}
		raw = string(inner)
	}
	s, err := jws.Parse(raw, jose.PS256)
	if err != nil {
		return nil, invalidRequestObject("request object: %v", err)
	}
	switch s.Type {
	case "", "oauth-authz-req+jwt":
	case "JWT":
		b.log.Warn("sandbox: request object typ is JWT; oauth-authz-req+jwt is expected", "client_id", c.ID)
	default:
		return nil, invalidRequestObject("request object typ %q is not oauth-authz-req+jwt", s.Type)
	}
	key, oe := b.clientKey(c, s.KeyID)
	if oe != nil {
		return nil, invalidRequestObject("%s", oe.Description)
	}
	payload, err := s.Verify(key)
	if err != nil {
		return nil, invalidRequestObject("request object: %v", err)
	}
	var present map[string]json.RawMessage
	if err := json.Unmarshal(payload, &present); err != nil {
		return nil, invalidRequestObject("request object payload is not a JSON object")
	}
	var ro requestObjectClaims
	if err := json.Unmarshal(payload, &ro); err != nil {
		return nil, invalidRequestObject("request object claims are malformed: %v", err)
	}
	if oe := checkRequestObjectShape(present); oe != nil {
		return nil, oe
	}
	if oe := b.checkRequestObjectTimes(&ro); oe != nil {
		return nil, oe
	}
	if oe := b.checkRequestObjectClaims(c, &ro, present); oe != nil {
		return nil, oe
	}
	consent, oe := b.checkAuthorizationScope(c, ro.Scope)
	if oe != nil {
		return nil, oe
	}
	return &authzRequest{
		ClientID:      c.ID,
		RedirectURI:   ro.RedirectURI,
		Scopes:        strings.Fields(ro.Scope),
		State:         ro.State,
		Nonce:         ro.Nonce,
		CodeChallenge: ro.CodeChallenge,
		Consent:       consent,
	}, nil
}

// checkRequestObjectShape checks members whose presence or JSON type
// matters.
func checkRequestObjectShape(present map[string]json.RawMessage) *oauthError {
	for _, name := range []string{"request", "request_uri"} {
		if _, ok := present[name]; ok {
			return invalidRequestObject("the request object must not contain %s", name)
		}
	}
	if _, ok := present["id_token_hint"]; ok {
		return invalidRequestObject("id_token_hint is not accepted")
	}
	if jti, ok := present["jti"]; ok && !isJSONString(jti) {
		return invalidRequestObject("jti must be a string")
	}
	if ma, ok := present["max_age"]; ok {
		var n json.Number
		if json.Unmarshal(ma, &n) != nil || isJSONString(ma) {
			return invalidRequestObject("max_age must be a number")
		}
	}
	return nil
}

func isJSONString(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '"'
}

func (b *Bank) checkRequestObjectTimes(ro *requestObjectClaims) *oauthError {
	now := b.now()
	switch {
	case ro.Expiry == nil:
		return invalidRequestObject("the request object has no exp")
	case ro.NotBefore == nil:
		return invalidRequestObject("the request object has no nbf")
	case ro.Expiry.Time().Before(now.Add(-Leeway)):
		return invalidRequestObject("the request object expired")
	case ro.Expiry.Time().Sub(ro.NotBefore.Time()) > MaxRequestObjectLifetime:
		return invalidRequestObject("the request object's exp is more than %s after its nbf", MaxRequestObjectLifetime)
	case ro.NotBefore.Time().Before(now.Add(-MaxRequestObjectLifetime)):
		return invalidRequestObject("the request object's nbf is more than %s in the past", MaxRequestObjectLifetime)
	case ro.NotBefore.Time().After(now.Add(Leeway)):
		return invalidRequestObject("the request object's nbf is in the future")
	case ro.IssuedAt != nil && ro.IssuedAt.Time().After(now.Add(Leeway)):
		return invalidRequestObject("the request object's iat is in the future")
	case ro.IssuedAt != nil && ro.IssuedAt.Time().Before(now.Add(-24*time.Hour)):
		return invalidRequestObject("the request object's iat is more than a day old")
	}
	return nil
}

func (b *Bank) checkRequestObjectClaims(c *client, ro *requestObjectClaims, present map[string]json.RawMessage) *oauthError {
	switch {
	case ro.Issuer != c.ID:
		return invalidRequestObject("iss must be the client id")
	case ro.ClientID != c.ID:
		return invalidRequestObject("client_id must be the client id")
	case ro.Subject == c.ID:
		return invalidRequestObject("sub must not be the client id (JAR §10.8)")
	case !ro.Audience.Contains(b.Issuer):
		return invalidRequestObject("aud must be the issuer %s", b.Issuer)
	case ro.ResponseType != "code id_token":
		return invalidRequestObject("response_type must be \"code id_token\"")
	case ro.ResponseMode != "" && ro.ResponseMode != "fragment":
		return invalidRequestObject("response_mode must be fragment")
	case !slices.Contains(c.Metadata.RedirectURIs, ro.RedirectURI):
		return invalidRequestObject("redirect_uri %q is not registered", ro.RedirectURI)
	case ro.State == "":
		return invalidRequestObject("state is required")
	case ro.Nonce == "":
		return invalidRequestObject("nonce is required")
	case ro.CodeChallenge == "":
		return invalidRequestObject("code_challenge is required (PKCE)")
	case ro.CodeChallengeMethod != "S256":
		return invalidRequestObject("code_challenge_method must be S256")
	case !codeChallengePattern.MatchString(ro.CodeChallenge):
		return invalidRequestObject("code_challenge is not a base64url SHA-256")
	}
	if _, ok := present["scope"]; !ok {
		return invalidRequestObject("scope is required")
	}
	return checkACRClaim(ro.Claims)
}

// checkACRClaim requires claims.id_token.acr to be essential without values
// (FAPI-BR §5.2-5/6).
func checkACRClaim(raw json.RawMessage) *oauthError {
	if len(raw) == 0 {
		return invalidRequestObject("claims.id_token.acr must be requested as essential")
	}
	var claims struct {
		IDToken map[string]json.RawMessage `json:"id_token"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil {
		return invalidRequestObject("claims is malformed: %v", err)
	}
	acrRaw, ok := claims.IDToken["acr"]
	if !ok {
		return invalidRequestObject("claims.id_token.acr must be requested as essential")
	}
	var acr map[string]json.RawMessage
	if err := json.Unmarshal(acrRaw, &acr); err != nil || acr == nil {
		return invalidRequestObject("claims.id_token.acr must be an object")
	}
	if string(bytes.TrimSpace(acr["essential"])) != "true" {
		return invalidRequestObject("claims.id_token.acr.essential must be true")
	}
	if _, ok := acr["value"]; ok {
		return invalidRequestObject("claims.id_token.acr must not carry a value")
	}
	if _, ok := acr["values"]; ok {
		return invalidRequestObject("claims.id_token.acr must not carry values")
	}
	return nil
}
