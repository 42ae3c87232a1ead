package sandbox_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestPARRejectsMalformedRequestObjects: each FAPI-BR request object rule
// refused on its own.
func TestPARRejectsMalformedRequestObjects(t *testing.T) {
	t.Parallel()
	c := newClient(t, shared, shared.ITP)
	consentID := c.createConsent("payments")
	now := c.now()
	del := func(names ...string) func(map[string]any) {
		return func(m map[string]any) {
			for _, n := range names {
				delete(m, n)
			}
		}
	}
	set := func(name string, v any) func(map[string]any) {
		return func(m map[string]any) { m[name] = v }
	}
	acr := func(v map[string]any) func(map[string]any) {
		return set("claims", map[string]any{"id_token": map[string]any{"acr": v}})
	}
	tests := []struct {
		name   string
		mutate func(map[string]any)
		alg    jose.SignatureAlgorithm // "" → PS256
		kid    string                  // "" → the signing key id
		code   string                  // "" → invalid_request_object
	}{
		{name: "missing claims", mutate: del("claims")},
		{name: "acr not requested", mutate: set("claims", map[string]any{"id_token": map[string]any{"auth_time": map[string]any{"essential": true}}})},
		{name: "acr not essential", mutate: acr(map[string]any{"essential": false})},
		{name: "acr with value", mutate: acr(map[string]any{"essential": true, "value": "urn:brasil:openbanking:loa2"})},
		{name: "acr with values", mutate: acr(map[string]any{"essential": true, "values": []string{"urn:brasil:openbanking:loa2"}})},
		{name: "sub is client_id", mutate: set("sub", shared.ITP.ClientID)},
		{name: "exp more than 60 min after nbf", mutate: set("exp", now.Add(61*time.Minute).Unix())},
		{name: "missing exp", mutate: del("exp")},
		{name: "expired", mutate: func(m map[string]any) {
			m["nbf"] = now.Add(-10 * time.Minute).Unix()
			m["exp"] = now.Add(-2 * time.Minute).Unix()
		}},
		{name: "missing nbf", mutate: del("nbf")},
		{name: "nbf more than 60 min old", mutate: set("nbf", now.Add(-61*time.Minute).Unix())},
		{name: "nbf in the future", mutate: set("nbf", now.Add(5*time.Minute).Unix())},
		{name: "null nbf", mutate: set("nbf", nil)},
		{name: "missing PKCE", mutate: del("code_challenge", "code_challenge_method")},
		{name: "plain PKCE", mutate: set("code_challenge_method", "plain")},
		{name: "PKCE without method", mutate: del("code_challenge_method")},
		{name: "PKCE challenge not a SHA-256", mutate: set("code_challenge", "short")},
		{name: "wrong aud", mutate: set("aud", shared.MTLSURL+"/par")},
		{name: "missing aud", mutate: del("aud")},
		{name: "iss is not the client", mutate: set("iss", "someone-else")},
		{name: "missing iss", mutate: del("iss")},
		{name: "client_id claim differs", mutate: set("client_id", "someone-else")},
		{name: "response_type code", mutate: set("response_type", "code")},
		{name: "response_mode jwt", mutate: set("response_mode", "jwt")},
		{name: "unregistered redirect_uri", mutate: set("redirect_uri", "https://evil.example/cb")},
		{name: "missing state", mutate: del("state")},
		{name: "missing nonce", mutate: del("nonce")},
		{name: "request inside", mutate: set("request", "x")},
		{name: "request_uri inside", mutate: set("request_uri", "urn:x")},
		{name: "id_token_hint", mutate: set("id_token_hint", "x")},
		{name: "numeric jti", mutate: set("jti", 12)},
		{name: "max_age as string", mutate: set("max_age", "60")},
		{name: "scope as array", mutate: set("scope", []string{"openid"})},
		{name: "RS256", alg: jose.RS256},
		{name: "unknown kid", kid: "no-such-key"},
		{name: "encryption key as kid", kid: shared.ITP.EncryptionKeyID},
		{name: "no openid", mutate: set("scope", "payments consent:"+consentID), code: "invalid_scope"},
		{name: "unregistered scope", mutate: set("scope", "openid accounts"), code: "invalid_scope"},
		{name: "payments without consent", mutate: set("scope", "openid payments"), code: "invalid_scope"},
		{name: "consent without payments", mutate: set("scope", "openid consent:"+consentID), code: "invalid_scope"},
		{name: "unknown consent", mutate: set("scope", "openid payments consent:urn:sandbox:nope"), code: "invalid_scope"},
		{name: "consent of the wrong family", mutate: set("scope", "openid recurring-payments recurring-consent:"+consentID), code: "invalid_scope"},
		{name: "two consents", mutate: set("scope", "openid payments consent:"+consentID+" consent:urn:x"), code: "invalid_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ar := c.newAuthReq("openid payments consent:" + consentID)
			if tt.mutate != nil {
				tt.mutate(ar.claims)
			}
			alg, kid := tt.alg, tt.kid
			if alg == "" {
				alg = jose.PS256
			}
			if kid == "" {
				kid = shared.ITP.SigningKeyID
			}
			code := tt.code
			if code == "" {
				code = "invalid_request_object"
			}
			status, body := c.par(sign(t, shared.ITP.SigningKey, kid, alg, "", ar.claims))
			wantOAuthError(t, status, body, http.StatusBadRequest, code)
		})
	}
	// The valid request object of the same shape is accepted: the refusals
	// above are due to the mutation alone.
	status, body := c.par(c.signPS256(c.newAuthReq("openid payments consent:" + consentID).claims))
	if status != http.StatusCreated {
		t.Fatalf("valid request object: %d %v", status, body)
	}
}

func TestPARRequestParameters(t *testing.T) {
	t.Parallel()
	c := newClient(t, shared, shared.ITP)
	consentID := c.createConsent("payments")
	ro := c.signPS256(c.newAuthReq("openid payments consent:" + consentID).claims)

	form := c.authForm(shared.Issuer, nil)
	form.Set("request", ro)
	form.Set("request_uri", "urn:ietf:params:oauth:request_uri:x")
	status, body := c.postForm(shared.MTLSURL+"/par", form, nil)
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_request")

	status, body = c.postForm(shared.MTLSURL+"/par", c.authForm(shared.Issuer, nil), nil)
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_request")

	form = c.authForm(shared.Issuer, nil)
	form.Set("request", ro)
	status, body = c.postForm(shared.MTLSURL+"/par?request="+url.QueryEscape(ro), form, nil)
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_request")

	form = c.authForm(shared.Issuer, nil)
	form.Set("request", ro)
	status, body = c.postForm(shared.MTLSURL+"/par", form, http.Header{"Authorization": {"Basic eDp5"}})
	wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")

	for _, aud := range []string{shared.Issuer, shared.MTLSURL + "/par", shared.MTLSURL + "/token"} {
		form := c.authForm(aud, nil)
		form.Set("request", c.signPS256(c.newAuthReq("openid payments consent:"+consentID).claims))
		if status, body := c.postForm(shared.MTLSURL+"/par", form, nil); status != http.StatusCreated {
			t.Errorf("assertion aud %s: %d %v", aud, status, body)
		}
	}
	form = c.authForm(shared.MTLSURL+"/register", nil)
	form.Set("request", ro)
	status, body = c.postForm(shared.MTLSURL+"/par", form, nil)
	wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
}

// TestPARResponse: 201 with a request_uri valid for 90 s; an encrypted
// request object (RSA-OAEP to the server's enc key) is accepted too.
func TestPARResponse(t *testing.T) {
	t.Parallel()
	c := newClient(t, shared, shared.ITP)
	consentID := c.createConsent("payments")
	status, body := c.par(c.signPS256(c.newAuthReq("openid payments consent:" + consentID).claims))
	if status != http.StatusCreated || body["expires_in"] != float64(90) || !strings.HasPrefix(body["request_uri"].(string), "urn:ietf:params:oauth:request_uri:") {
		t.Fatalf("PAR: %d %v", status, body)
	}

	var enc *jose.JSONWebKey
	jwks := c.fetchJWKS(shared.PublicURL + "/jwks")
	for i, k := range jwks.Keys {
		if k.Use == "enc" {
			enc = &jwks.Keys[i]
		}
	}
	encrypt := func(kid string) string {
		e, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.RSA_OAEP, Key: enc.Key, KeyID: kid}, (&jose.EncrypterOptions{}).WithContentType("JWT"))
		if err != nil {
			t.Fatal(err)
		}
		obj, err := e.Encrypt([]byte(c.signPS256(c.newAuthReq("openid payments consent:" + consentID).claims)))
		if err != nil {
			t.Fatal(err)
		}
		s, _ := obj.CompactSerialize()
		return s
	}
	if status, body := c.par(encrypt(enc.KeyID)); status != http.StatusCreated {
		t.Fatalf("encrypted request object: %d %v", status, body)
	}
	status, body = c.par(encrypt("another-kid"))
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_request_object")
}
