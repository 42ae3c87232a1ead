package sandbox_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	c := newClient(t, shared, shared.ITP)
	status, body := c.token(url.Values{"grant_type": {"client_credentials"}, "scope": {"payments"}})
	if status != http.StatusOK || body["token_type"] != "Bearer" || body["expires_in"] != float64(300) || body["scope"] != "payments" || body["refresh_token"] != nil || body["id_token"] != nil {
		t.Fatalf("client_credentials: %d %v", status, body)
	}
	for _, scope := range []string{"", "openid", "accounts", "payments consent:urn:x", "payments nope"} {
		status, body := c.token(url.Values{"grant_type": {"client_credentials"}, "scope": {scope}})
		wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_scope")
	}
	status, body = c.token(url.Values{"grant_type": {"password"}})
	wantOAuthError(t, status, body, http.StatusBadRequest, "unsupported_grant_type")
	status, body = c.token(url.Values{})
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_request")
}

// TestTokenClientAuthentication: private_key_jwt only, checked strictly.
func TestTokenClientAuthentication(t *testing.T) {
	t.Parallel()
	c := newClient(t, shared, shared.ITP)
	tokenURL := shared.MTLSURL + "/token"
	cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"payments"}}
	now := c.now()

	// Accepted audiences: the mTLS token endpoint and the issuer.
	for _, aud := range []any{tokenURL, shared.Issuer, []string{tokenURL, "https://other.example"}} {
		status, body := c.postForm(tokenURL, merge(c.authForm("", func(m map[string]any) { m["aud"] = aud }), cc), nil)
		if status != http.StatusOK {
			t.Errorf("aud %v: %d %v", aud, status, body)
		}
	}

	set := func(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }
	del := func(k string) func(map[string]any) { return func(m map[string]any) { delete(m, k) } }
	for _, tt := range []struct {
		name   string
		mutate func(map[string]any)
	}{
		{"aud is the public token endpoint", set("aud", shared.PublicURL+"/token")},
		{"aud is the PAR endpoint", set("aud", shared.MTLSURL+"/par")},
		{"missing aud", del("aud")},
		{"missing exp", del("exp")},
		{"expired", set("exp", now.Add(-2*time.Minute).Unix())},
		{"exp too far ahead", set("exp", now.Add(time.Hour).Unix())},
		{"missing iat", del("iat")},
		{"iat in the future", set("iat", now.Add(5*time.Minute).Unix())},
		{"missing jti", del("jti")},
		{"sub differs from iss", set("sub", "someone")},
		{"unknown client", func(m map[string]any) { m["iss"], m["sub"] = "nobody", "nobody" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, body := c.postForm(tokenURL, merge(c.authForm(tokenURL, tt.mutate), cc), nil)
			wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
		})
	}

	t.Run("replayed jti", func(t *testing.T) {
		form := merge(c.authForm(tokenURL, nil), cc)
		if status, body := c.postForm(tokenURL, form, nil); status != http.StatusOK {
			t.Fatalf("first use: %d %v", status, body)
		}
		status, body := c.postForm(tokenURL, form, nil)
		wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("Basic authentication", func(t *testing.T) {
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {"payments"}, "client_id": {shared.ITP.ClientID}}
		status, body := c.postForm(tokenURL, form, http.Header{"Authorization": {"Basic " + "Y2xpZW50OnNlY3JldA=="}})
		wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
		status, body = c.postForm(tokenURL, merge(c.authForm(tokenURL, nil), cc), http.Header{"Authorization": {"Basic " + "Y2xpZW50Og=="}})
		wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("client_secret", func(t *testing.T) {
		form := merge(c.authForm(tokenURL, nil), cc)
		form.Set("client_secret", "s3cret")
		status, body := c.postForm(tokenURL, form, nil)
		wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("no client authentication", func(t *testing.T) {
		status, body := c.postForm(tokenURL, merge(url.Values{"client_id": {shared.ITP.ClientID}}, cc), nil)
		wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("RS256 assertion", func(t *testing.T) {
		form := merge(c.authForm(tokenURL, nil), cc)
		form.Set("client_assertion", sign(t, shared.ITP.SigningKey, shared.ITP.SigningKeyID, jose.RS256, "", c.assertionClaims(tokenURL)))
		status, body := c.postForm(tokenURL, form, nil)
		wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("assertion signed by another key", func(t *testing.T) {
		form := merge(c.authForm(tokenURL, nil), cc)
		form.Set("client_assertion", sign(t, shared.ITP.EncryptionKey, shared.ITP.SigningKeyID, jose.PS256, "", c.assertionClaims(tokenURL)))
		status, body := c.postForm(tokenURL, form, nil)
		wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("client_id differs from the assertion", func(t *testing.T) {
		form := merge(c.authForm(tokenURL, nil), cc)
		form.Set("client_id", newITP(t).ClientID)
		status, body := c.postForm(tokenURL, form, nil)
		wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("certificate of another client", func(t *testing.T) {
		other := c.withCert(newITP(t).Certificate)
		status, body := other.postForm(tokenURL, merge(c.authForm(tokenURL, nil), cc), nil)
		wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("repeated parameter", func(t *testing.T) {
		form := merge(c.authForm(tokenURL, nil), cc)
		form["scope"] = []string{"payments", "payments"}
		status, body := c.postForm(tokenURL, form, nil)
		wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_request")
	})
}

// TestAuthorizationCodeRefusals: single use, redirect_uri, PKCE and the PAR
// certificate.
func TestAuthorizationCodeRefusals(t *testing.T) {
	t.Parallel()
	c := newClient(t, shared, shared.ITP)
	approved := func() (*authReq, url.Values) {
		ar := c.newAuthReq("openid payments consent:" + c.createConsent("payments"))
		return ar, c.pushAndAuthorize(ar)
	}
	code := func(ar *authReq, frag url.Values, edit func(url.Values)) url.Values {
		v := url.Values{"grant_type": {"authorization_code"}, "code": {frag.Get("code")}, "redirect_uri": {shared.ITP.RedirectURI}, "code_verifier": {ar.verifier}}
		if edit != nil {
			edit(v)
		}
		return v
	}

	t.Run("reused code revokes the tokens", func(t *testing.T) {
		ar, frag := approved()
		status, tok := c.token(code(ar, frag, nil))
		if status != http.StatusOK {
			t.Fatalf("first exchange: %d %v", status, tok)
		}
		status, body := c.token(code(ar, frag, nil))
		wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
		resp := c.signedPost("/open-banking/payments/v4/pix/payments", tok["access_token"].(string), map[string]any{"payment": map[string]any{}})
		if resp.status != http.StatusUnauthorized {
			t.Fatalf("access token after code replay: %d %s", resp.status, resp.body)
		}
		status, body = c.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}})
		wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
	})
	for _, tt := range []struct {
		name  string
		edit  func(url.Values)
		burns bool // the failed attempt uses the code up
	}{
		{"bad code_verifier", func(v url.Values) { v.Set("code_verifier", flipFirst(v.Get("code_verifier"))) }, true},
		{"short code_verifier", func(v url.Values) { v.Set("code_verifier", "abc") }, true},
		{"missing code_verifier", func(v url.Values) { v.Del("code_verifier") }, true},
		{"wrong redirect_uri", func(v url.Values) { v.Set("redirect_uri", "https://itp.example/other") }, true},
		{"missing redirect_uri", func(v url.Values) { v.Del("redirect_uri") }, true},
		{"unknown code", func(v url.Values) { v.Set("code", "nope") }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ar, frag := approved()
			status, body := c.token(code(ar, frag, tt.edit))
			wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
			status, body = c.token(code(ar, frag, nil))
			if tt.burns {
				wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
			} else if status != http.StatusOK {
				t.Fatalf("the code was burnt by an attempt with another code: %d %v", status, body)
			}
		})
	}
	t.Run("certificate differs from the PAR one", func(t *testing.T) {
		renewed, err := shared.NewCertificate(shared.ITP)
		if err != nil {
			t.Fatal(err)
		}
		ar, frag := approved()
		status, body := c.withCert(renewed).token(code(ar, frag, nil))
		wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
		// The renewed certificate is otherwise a valid one for the client.
		if tok := c.withCert(renewed).ccToken("payments"); tok == "" {
			t.Fatal("no token with the renewed certificate")
		}
	})
	t.Run("code of another client", func(t *testing.T) {
		ar, frag := approved()
		other := newClient(t, shared, newITP(t))
		status, body := other.token(code(ar, frag, nil))
		wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
	})
}

// TestAuthorizationEndpoint: request_uri handling and the payer's decision.
func TestAuthorizationEndpoint(t *testing.T) {
	t.Parallel()
	c := newClient(t, shared, shared.ITP)
	ctx := context.Background()
	push := func() (*authReq, string) {
		ar := c.newAuthReq("openid payments consent:" + c.createConsent("payments"))
		status, body := c.par(c.signPS256(ar.claims))
		if status != http.StatusCreated {
			t.Fatalf("PAR: %d %v", status, body)
		}
		return ar, body["request_uri"].(string)
	}

	_, uri := push()
	if _, err := shared.Authorize(ctx, shared.PublicURL+"/authorize?"+url.Values{"client_id": {newITP(t).ClientID}, "request_uri": {uri}}.Encode()); err == nil {
		t.Error("client_id of another client was accepted")
	}
	if _, err := shared.Authorize(ctx, shared.PublicURL+"/authorize?"+url.Values{"request_uri": {uri}}.Encode()); err == nil {
		t.Error("missing client_id was accepted")
	}
	if _, err := shared.Authorize(ctx, c.authURL("urn:ietf:params:oauth:request_uri:nope")); err == nil {
		t.Error("unknown request_uri was accepted")
	}
	if _, err := shared.Authorize(ctx, "https://example.com/authorize?client_id=x&request_uri=y"); err == nil {
		t.Error("Authorize followed a URL that is not the bank's")
	}
	_, uri = push()
	if _, err := shared.Authorize(ctx, c.authURL(uri)); err != nil {
		t.Fatal(err)
	}
	if _, err := shared.Authorize(ctx, c.authURL(uri)); err == nil {
		t.Error("request_uri was accepted twice")
	}

	t.Run("payer denies", func(t *testing.T) {
		consentID := c.createConsent("payments")
		ar := c.newAuthReq("openid payments consent:" + consentID)
		decisions.Store(ar.state, sandboxDecision(true, "", ""))
		frag := c.pushAndAuthorize(ar)
		if frag.Get("error") != "access_denied" || frag.Get("error_description") == "" || frag.Get("state") != ar.state || frag.Has("code") || frag.Has("id_token") {
			t.Fatalf("fragment %v", frag)
		}
		get := c.do(resourceCall{method: http.MethodGet, path: "/open-banking/payments/v4/consents/" + consentID, token: c.ccToken("payments")})
		data := c.verifyBankJWS(get.body)["data"].(map[string]any)
		if data["status"] != "REJECTED" || data["rejectionReason"].(map[string]any)["code"] != "REJEITADO_USUARIO" {
			t.Fatalf("consent after denial: %v", data)
		}
		// A rejected consent cannot be pushed again.
		status, body := c.par(c.signPS256(c.newAuthReq("openid payments consent:" + consentID).claims))
		wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_scope")
	})
	t.Run("payer approves as someone else at loa3", func(t *testing.T) {
		ar := c.newAuthReq("openid payments consent:" + c.createConsent("payments"))
		decisions.Store(ar.state, sandboxDecision(false, "opaque-payer-1", "urn:brasil:openbanking:loa3"))
		frag := c.pushAndAuthorize(ar)
		it := c.openIDToken(frag.Get("id_token"))
		if it.claims["sub"] != "opaque-payer-1" || it.claims["acr"] != "urn:brasil:openbanking:loa3" {
			t.Fatalf("id_token claims %v", it.claims)
		}
	})
}

// flipFirst returns s with a different first character.
func flipFirst(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}
