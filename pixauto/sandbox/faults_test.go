package sandbox_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// TestFaults: each fault visibly changes what the bank issues, and the
// zero Faults restores the correct output. The subtests share one bank and
// run in order.
func TestFaults(t *testing.T) {
	b := sandbox.NewTest(t, sandbox.Config{})
	c := newClient(t, b, b.ITP)

	// frontAndBack runs a flow under f and returns both id_tokens and the
	// token response.
	frontAndBack := func(t *testing.T, f sandbox.Faults) (front, back idToken, ar *authReq, frag url.Values, tok map[string]any) {
		t.Helper()
		b.SetFaults(sandbox.Faults{})
		ar = c.newAuthReq("openid payments consent:" + c.createConsent("payments"))
		b.SetFaults(f)
		defer b.SetFaults(sandbox.Faults{})
		frag = c.pushAndAuthorize(ar)
		front = c.openIDToken(frag.Get("id_token"))
		status, tok := c.exchange(ar, frag)
		if status != http.StatusOK {
			t.Fatalf("exchange: %d %v", status, tok)
		}
		back = c.openIDToken(tok["id_token"].(string))
		return front, back, ar, frag, tok
	}

	// Baseline: what the checks below compare against.
	front, back, ar, frag, _ := frontAndBack(t, sandbox.Faults{})
	if front.jweHeader.Algorithm != "RSA-OAEP" || !front.verified || front.claims["s_hash"] != halfHash(ar.state) || front.claims["c_hash"] != halfHash(frag.Get("code")) || back.claims["at_hash"] == nil {
		t.Fatalf("baseline id_tokens: %v %v", front.claims, back.claims)
	}

	type view struct {
		front, back idToken
		ar          *authReq
		frag        url.Values
		tok         map[string]any
	}
	clientID := b.ITP.ClientID
	now := func() int64 { return b.Clock.Now().Unix() }
	both := func(check func(it idToken) bool) func(v view) bool {
		return func(v view) bool { return check(v.front) && check(v.back) }
	}
	for _, tt := range []struct {
		name  string
		f     sandbox.IDTokenFaults
		check func(v view) bool
	}{
		{"EncryptRSA15", sandbox.IDTokenFaults{EncryptRSA15: true}, both(func(it idToken) bool { return it.jweHeader.Algorithm == "RSA1_5" && it.verified })},
		{"InvalidSHash", sandbox.IDTokenFaults{InvalidSHash: true}, func(v view) bool {
			return v.front.claims["s_hash"] != nil && v.front.claims["s_hash"] != halfHash(v.ar.state)
		}},
		{"InvalidCHash", sandbox.IDTokenFaults{InvalidCHash: true}, func(v view) bool {
			return v.front.claims["c_hash"] != nil && v.front.claims["c_hash"] != halfHash(v.frag.Get("code"))
		}},
		{"InvalidNonce", sandbox.IDTokenFaults{InvalidNonce: true}, func(v view) bool {
			return v.front.claims["nonce"] != nil && v.front.claims["nonce"] != v.ar.nonce && v.back.claims["nonce"] != v.ar.nonce
		}},
		{"InvalidIssuer", sandbox.IDTokenFaults{InvalidIssuer: true}, both(func(it idToken) bool { return it.claims["iss"] == b.Issuer+"/invalid" })},
		{"InvalidAudience", sandbox.IDTokenFaults{InvalidAudience: true}, both(func(it idToken) bool { return it.claims["aud"] != nil && it.claims["aud"] != clientID })},
		{"SecondaryAudience", sandbox.IDTokenFaults{SecondaryAudience: true}, both(func(it idToken) bool {
			aud, _ := it.claims["aud"].([]any)
			return len(aud) == 2 && aud[0] == clientID && aud[1] != clientID
		})},
		{"InvalidSignature", sandbox.IDTokenFaults{InvalidSignature: true}, both(func(it idToken) bool { return it.alg == "PS256" && !it.verified && it.claims["iss"] == b.Issuer })},
		{"AlgNone", sandbox.IDTokenFaults{AlgNone: true}, both(func(it idToken) bool { return it.alg == "none" && !it.verified })},
		{"AlgRS256", sandbox.IDTokenFaults{AlgRS256: true}, both(func(it idToken) bool { return it.alg == "RS256" && it.kid != "" && !it.verified })},
		{"Expired", sandbox.IDTokenFaults{Expired: true}, both(func(it idToken) bool {
			return it.claims["exp"] == float64(now()-360) && it.claims["iat"] == float64(now())
		})},
		{"MissingExp", sandbox.IDTokenFaults{MissingExp: true}, both(func(it idToken) bool { return !has(it, "exp") && has(it, "iat") })},
		{"IatWeekOld", sandbox.IDTokenFaults{IatWeekOld: true}, both(func(it idToken) bool {
			return it.claims["iat"] == float64(now()-7*24*3600) && it.claims["exp"] == float64(now()+300)
		})},
		{"MissingAud", sandbox.IDTokenFaults{MissingAud: true}, both(func(it idToken) bool { return !has(it, "aud") })},
		{"MissingIss", sandbox.IDTokenFaults{MissingIss: true}, both(func(it idToken) bool { return !has(it, "iss") })},
		{"MissingNonce", sandbox.IDTokenFaults{MissingNonce: true}, both(func(it idToken) bool { return !has(it, "nonce") })},
		{"MissingSHash", sandbox.IDTokenFaults{MissingSHash: true}, func(v view) bool { return !has(v.front, "s_hash") && has(v.front, "c_hash") }},
		{"AudAsArray", sandbox.IDTokenFaults{AudAsArray: true}, both(func(it idToken) bool {
			aud, _ := it.claims["aud"].([]any)
			return len(aud) == 1 && aud[0] == clientID && it.verified
		})},
		{"NoAtHash", sandbox.IDTokenFaults{NoAtHash: true}, func(v view) bool { return !has(v.back, "at_hash") && v.back.verified }},
	} {
		t.Run("IDToken."+tt.name, func(t *testing.T) {
			front, back, ar, frag, tok := frontAndBack(t, sandbox.Faults{IDToken: tt.f})
			if !tt.check(view{front, back, ar, frag, tok}) {
				t.Fatalf("fault not visible:\nfront %v %v\nback %v", front.jweHeader.Algorithm, front.claims, back.claims)
			}
		})
	}

	t.Run("Discovery.IssuerMismatch", func(t *testing.T) {
		issuer := func() any {
			resp, err := c.hc.Get(b.Issuer + "/.well-known/openid-configuration")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var doc map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&doc)
			return doc["issuer"]
		}
		b.SetFaults(sandbox.Faults{Discovery: sandbox.DiscoveryFaults{IssuerMismatch: true}})
		got := issuer()
		b.SetFaults(sandbox.Faults{})
		if got == b.Issuer || got == nil || issuer() != b.Issuer {
			t.Fatalf("issuer under fault %v", got)
		}
	})

	t.Run("Token.OmitScopeAndExpiresIn", func(t *testing.T) {
		b.SetFaults(sandbox.Faults{Token: sandbox.TokenFaults{OmitScopeAndExpiresIn: true}})
		defer b.SetFaults(sandbox.Faults{})
		status, body := c.token(url.Values{"grant_type": {"client_credentials"}, "scope": {"payments"}})
		if _, scoped := body["scope"]; status != http.StatusOK || scoped || body["expires_in"] != nil || body["access_token"] == nil {
			t.Fatalf("%d %v", status, body)
		}
	})

	t.Run("Token.RotateRefreshTokens", func(t *testing.T) {
		_, _, _, _, tok := frontAndBack(t, sandbox.Faults{})
		b.SetFaults(sandbox.Faults{Token: sandbox.TokenFaults{RotateRefreshTokens: true}})
		defer b.SetFaults(sandbox.Faults{})
		old := tok["refresh_token"].(string)
		status, body := c.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old}})
		next, _ := body["refresh_token"].(string)
		if status != http.StatusOK || next == "" || next == old {
			t.Fatalf("%d %v", status, body)
		}
		status, body = c.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {old}})
		wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
		if status, body := c.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {next}}); status != http.StatusOK {
			t.Fatalf("rotated refresh token: %d %v", status, body)
		}
	})

	t.Run("Resource.InvalidToken", func(t *testing.T) {
		_, _, _, _, tok := frontAndBack(t, sandbox.Faults{})
		b.SetFaults(sandbox.Faults{Resource: sandbox.ResourceFaults{InvalidToken: 2}})
		defer b.SetFaults(sandbox.Faults{})
		pay := func(at string) resourceResp {
			return c.signedPost("/open-banking/payments/v4/pix/payments", at, map[string]any{"payment": map[string]any{"amount": "1.00"}})
		}
		at := tok["access_token"].(string)
		for i := range 2 {
			resp := pay(at)
			if resp.status != http.StatusUnauthorized || resp.header.Get("WWW-Authenticate") != `Bearer error="invalid_token", error_description="the access token is invalid (injected fault)"` {
				t.Fatalf("call %d: %d %v %s", i, resp.status, resp.header, resp.body)
			}
			status, body := c.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}})
			if status != http.StatusOK {
				t.Fatalf("refresh %d: %d %v", i, status, body)
			}
			at = body["access_token"].(string)
		}
		if got := b.Faults().Resource.InvalidToken; got != 0 {
			t.Fatalf("InvalidToken left %d", got)
		}
		if resp := pay(at); resp.status != http.StatusCreated {
			t.Fatalf("after the faults: %d %s", resp.status, resp.body)
		}
	})

	t.Run("Resource.AudAsArray", func(t *testing.T) {
		b.SetFaults(sandbox.Faults{Resource: sandbox.ResourceFaults{AudAsArray: true}})
		resp := c.signedPost(consentsPath, c.ccToken("payments"), paymentConsentData())
		b.SetFaults(sandbox.Faults{})
		aud, _ := c.verifyBankJWS(resp.body)["aud"].([]any)
		if resp.status != http.StatusCreated || !slices.Equal(aud, []any{b.ITP.OrganisationID}) {
			t.Fatalf("%d aud %v", resp.status, aud)
		}
	})

	// Faults stay until replaced, and the log shows what the client did.
	t.Run("no call after a refused id_token is visible in Requests", func(t *testing.T) {
		b.SetFaults(sandbox.Faults{IDToken: sandbox.IDTokenFaults{InvalidNonce: true}})
		defer b.SetFaults(sandbox.Faults{})
		ar := c.newAuthReq("openid payments consent:" + c.createConsent("payments"))
		_ = c.pushAndAuthorize(ar)
		mark := b.Clock.Now()
		b.Clock.(*sandbox.ManualClock).Advance(time.Second)
		// A client that refuses the id_token stops here: nothing after mark.
		for _, r := range b.Requests() {
			if r.Time.After(mark) {
				t.Fatalf("unexpected request %+v", r)
			}
		}
		last := b.Requests()[len(b.Requests())-1]
		if last.Server != "public" || last.Path != "/authorize" || last.Status != http.StatusFound {
			t.Fatalf("last request %+v", last)
		}
		if b.Faults().IDToken != (sandbox.IDTokenFaults{InvalidNonce: true}) {
			t.Fatal("fault did not persist")
		}
	})
}

func has(it idToken, claim string) bool {
	_, ok := it.claims[claim]
	return ok
}
