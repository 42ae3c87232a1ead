package sandbox_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// TestHappyPath runs the conformance suite's client happy path: consent,
// PAR, authorization, id_token, code exchange, payment.
func TestHappyPath(t *testing.T) {
	t.Parallel()
	c := newClient(t, shared, shared.ITP)
	consentID := c.createConsent("payments")
	if !strings.HasPrefix(consentID, "urn:sandbox:") {
		t.Fatalf("consentId %q", consentID)
	}
	ar := c.newAuthReq("openid payments consent:" + consentID)
	frag := c.pushAndAuthorize(ar)
	if frag.Get("state") != ar.state || frag.Get("code") == "" || frag.Get("id_token") == "" {
		t.Fatalf("fragment %v", frag)
	}

	front := c.openIDToken(frag.Get("id_token"))
	checkJWE(t, front, c.itp.EncryptionKeyID)
	now := c.now().Unix()
	want := map[string]any{
		"iss": shared.Issuer, "aud": c.itp.ClientID, "sub": sandbox.DefaultPayerCPF, "nonce": ar.nonce,
		"acr": sandbox.ACRLoa2, "c_hash": halfHash(frag.Get("code")), "s_hash": halfHash(ar.state),
		"iat": float64(now), "exp": float64(now + 300), "auth_time": float64(now),
	}
	for k, v := range want {
		if front.claims[k] != v {
			t.Errorf("front-channel id_token %s = %v, want %v", k, front.claims[k], v)
		}
	}
	if _, ok := front.claims["at_hash"]; ok {
		t.Error("front-channel id_token has at_hash")
	}

	status, tok := c.exchange(ar, frag)
	if status != http.StatusOK {
		t.Fatalf("code exchange: %d %v", status, tok)
	}
	if tok["token_type"] != "Bearer" || tok["expires_in"] != float64(300) || tok["refresh_token"] == nil || tok["scope"] != "openid payments consent:"+consentID {
		t.Fatalf("token response %v", tok)
	}
	back := c.openIDToken(tok["id_token"].(string))
	checkJWE(t, back, c.itp.EncryptionKeyID)
	if back.claims["at_hash"] != halfHash(tok["access_token"].(string)) || back.claims["nonce"] != ar.nonce || back.claims["sub"] != front.claims["sub"] {
		t.Fatalf("token-endpoint id_token claims %v", back.claims)
	}
	if _, ok := back.claims["c_hash"]; ok {
		t.Error("token-endpoint id_token has c_hash")
	}

	path := "/open-banking/payments/v4/pix/payments"
	resp := c.do(resourceCall{
		method: http.MethodPost, path: path, token: tok["access_token"].(string),
		body:   c.signPS256(c.messageClaims(path, map[string]any{"payment": map[string]any{"amount": "100.00", "currency": "BRL"}})),
		header: map[string]string{"x-fapi-auth-date": "Sun, 10 Sep 2017 19:43:31 GMT", "x-fapi-customer-ip-address": "2001:db8::1"},
	})
	if resp.status != http.StatusCreated {
		t.Fatalf("payment: %d %s", resp.status, resp.body)
	}
	claims := c.verifyBankJWS(resp.body)
	data := claims["data"].(map[string]any)
	if data["consentId"] != consentID || data["status"] != "RCVD" || data["paymentId"] == "" {
		t.Fatalf("payment response %v", claims)
	}

	// The single-payment consent is consumed: no more payments, no refresh.
	get := c.do(resourceCall{method: http.MethodGet, path: "/open-banking/payments/v4/consents/" + consentID, token: c.ccToken("payments")})
	if got := c.verifyBankJWS(get.body)["data"].(map[string]any)["status"]; get.status != http.StatusOK || got != "CONSUMED" {
		t.Fatalf("consent after payment: %d %v", get.status, got)
	}
	status, body := c.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}})
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
}

func checkJWE(t *testing.T, it idToken, encKID string) {
	t.Helper()
	h := it.jweHeader
	if h.Algorithm != "RSA-OAEP" || h.ExtraHeaders["enc"] != "A256GCM" || h.KeyID != encKID || h.ExtraHeaders["cty"] != "JWT" {
		t.Errorf("JWE header alg=%s kid=%s extra=%v", h.Algorithm, h.KeyID, h.ExtraHeaders)
	}
	if it.alg != "PS256" || it.kid == "" || !it.verified {
		t.Errorf("inner JWS alg=%s kid=%q verified=%v", it.alg, it.kid, it.verified)
	}
}

// TestRefreshToken: refresh tokens are long-lived, not rotated by default,
// and may narrow the scope but not widen it.
func TestRefreshToken(t *testing.T) {
	t.Parallel()
	c := newClient(t, shared, shared.ITP)
	consentID := c.createConsent("recurring-payments")
	ar := c.newAuthReq("openid recurring-payments recurring-consent:" + consentID)
	status, tok := c.exchange(ar, c.pushAndAuthorize(ar))
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %v", status, tok)
	}
	rt := tok["refresh_token"].(string)
	for range 2 {
		status, body := c.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
		if status != http.StatusOK || body["access_token"] == nil || body["refresh_token"] != nil || body["id_token"] != nil {
			t.Fatalf("refresh: %d %v", status, body)
		}
		// A recurring consent is not consumed by a payment.
		resp := c.signedPost("/open-banking/payments/v4/pix/payments", body["access_token"].(string), map[string]any{"payment": map[string]any{"amount": "1.00"}})
		if resp.status != http.StatusCreated {
			t.Fatalf("payment: %d %s", resp.status, resp.body)
		}
	}
	status, body := c.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {"recurring-payments recurring-consent:" + consentID}})
	if status != http.StatusOK || body["scope"] != "recurring-payments recurring-consent:"+consentID {
		t.Fatalf("refresh with a narrower scope: %d %v", status, body)
	}
	status, body = c.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {"openid payments"}})
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_scope")
	other := newClient(t, shared, newITP(t))
	status, body = other.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
}

var (
	itpOnce sync.Once
	itp2    *sandbox.ITP
	itpErr  error
)

// newITP returns a second registered ITP of the shared bank (created once).
func newITP(t testing.TB) *sandbox.ITP {
	t.Helper()
	itpOnce.Do(func() { itp2, itpErr = shared.NewITP(sandbox.ITPConfig{}) })
	if itpErr != nil {
		t.Fatal(itpErr)
	}
	return itp2
}
