package sandbox_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
)

const consentsPath = "/open-banking/payments/v4/consents"

// TestPaymentConsentResponse: a signed consent request gets a signed 201 as
// the conformance suite's mock answers it.
func TestPaymentConsentResponse(t *testing.T) {
	t.Parallel()
	c := newClient(t, shared, shared.ITP)
	iid := uuid.NewString()
	resp := c.do(resourceCall{
		method: http.MethodPost, path: consentsPath, token: c.ccToken("payments"),
		body:   c.signPS256(c.messageClaims(consentsPath, paymentConsentData())),
		header: map[string]string{"x-fapi-interaction-id": iid},
	})
	if resp.status != http.StatusCreated || resp.header.Get("Content-Type") != "application/jwt" || resp.header.Get("x-fapi-interaction-id") != iid {
		t.Fatalf("%d %v %s", resp.status, resp.header, resp.body)
	}
	obj, err := jose.ParseSignedCompact(string(resp.body), []jose.SignatureAlgorithm{jose.PS256})
	if err != nil {
		t.Fatal(err)
	}
	if h := obj.Signatures[0].Protected; h.ExtraHeaders["typ"] != "JWT" || h.KeyID == "" {
		t.Errorf("header typ=%v kid=%q", h.ExtraHeaders["typ"], h.KeyID)
	}
	claims := c.verifyBankJWS(resp.body)
	if claims["iss"] != shared.OrganisationID || claims["aud"] != shared.ITP.OrganisationID || claims["iat"] != float64(c.now().Unix()) {
		t.Errorf("claims iss=%v aud=%v iat=%v", claims["iss"], claims["aud"], claims["iat"])
	}
	if _, err := uuid.Parse(claims["jti"].(string)); err != nil {
		t.Errorf("jti %v: %v", claims["jti"], err)
	}
	data := claims["data"].(map[string]any)
	if data["status"] != "AWAITING_AUTHORISATION" || data["creditor"].(map[string]any)["name"] != "Loja Exemplo" {
		t.Errorf("data %v", data)
	}
	if claims["links"] == nil || claims["meta"] == nil {
		t.Errorf("no links/meta: %v", claims)
	}
}

// TestPaymentsRequestChecks: each check of a signed resource request
// refused on its own.
func TestPaymentsRequestChecks(t *testing.T) {
	t.Parallel()
	c := newClient(t, shared, shared.ITP)
	cc := c.ccToken("payments")
	other := newITP(t)
	signed := func(mutate func(map[string]any)) string {
		claims := c.messageClaims(consentsPath, paymentConsentData())
		if mutate != nil {
			mutate(claims)
		}
		return c.signPS256(claims)
	}
	plain, _ := json.Marshal(map[string]any{"data": paymentConsentData()})
	now := c.now()
	for _, tt := range []struct {
		name   string
		call   resourceCall
		status int
		code   string
	}{
		{"unsigned JSON body", resourceCall{body: string(plain), contentType: "application/json"}, 400, "BAD_SIGNATURE"},
		{"JSON labelled as JWT", resourceCall{body: string(plain)}, 400, "BAD_SIGNATURE"},
		{"alg none", resourceCall{body: "eyJhbGciOiJub25lIn0." + b64json(c.messageClaims(consentsPath, paymentConsentData())) + "."}, 400, "BAD_SIGNATURE"},
		{"RS256", resourceCall{body: sign(t, shared.ITP.SigningKey, shared.ITP.SigningKeyID, jose.RS256, "JWT", c.messageClaims(consentsPath, paymentConsentData()))}, 400, "BAD_SIGNATURE"},
		{"kid not in the organisation JWKS", resourceCall{body: sign(t, shared.ITP.EncryptionKey, shared.ITP.EncryptionKeyID, jose.PS256, "JWT", c.messageClaims(consentsPath, paymentConsentData()))}, 400, "BAD_SIGNATURE"},
		{"signed by another organisation", resourceCall{body: sign(t, other.SigningKey, other.SigningKeyID, jose.PS256, "JWT", c.messageClaims(consentsPath, paymentConsentData()))}, 400, "BAD_SIGNATURE"},
		{"bad signature", resourceCall{body: sign(t, other.SigningKey, shared.ITP.SigningKeyID, jose.PS256, "JWT", c.messageClaims(consentsPath, paymentConsentData()))}, 400, "BAD_SIGNATURE"},
		{"aud mismatch", resourceCall{body: signed(func(m map[string]any) { m["aud"] = shared.MTLSURL + "/open-banking/payments/v4/pix/payments" })}, 403, "INVALID_CLIENT"},
		{"aud on the public host", resourceCall{body: signed(func(m map[string]any) { m["aud"] = shared.PublicURL + consentsPath })}, 403, "INVALID_CLIENT"},
		{"iss is not the certificate's organisation", resourceCall{body: signed(func(m map[string]any) { m["iss"] = shared.ITP.ClientID })}, 403, "INVALID_CLIENT"},
		{"iat too old", resourceCall{body: signed(func(m map[string]any) { m["iat"] = now.Add(-2 * time.Minute).Unix() })}, 403, "INVALID_CLIENT"},
		{"iat in the future", resourceCall{body: signed(func(m map[string]any) { m["iat"] = now.Add(2 * time.Minute).Unix() })}, 403, "INVALID_CLIENT"},
		{"missing iat", resourceCall{body: signed(func(m map[string]any) { delete(m, "iat") })}, 403, "INVALID_CLIENT"},
		{"jti not a UUID", resourceCall{body: signed(func(m map[string]any) { m["jti"] = "abc" })}, 403, "INVALID_CLIENT"},
		{"jti a UUID v1", resourceCall{body: signed(func(m map[string]any) { m["jti"] = uuid.Must(uuid.NewUUID()).String() })}, 403, "INVALID_CLIENT"},
		{"missing data", resourceCall{body: signed(func(m map[string]any) { delete(m, "data") })}, 400, "PARAMETRO_NAO_INFORMADO"},
		{"missing x-fapi-interaction-id", resourceCall{body: signed(nil), header: map[string]string{"x-fapi-interaction-id": ""}}, 400, "PARAMETRO_INVALIDO"},
		{"x-fapi-interaction-id not a UUID", resourceCall{body: signed(nil), header: map[string]string{"x-fapi-interaction-id": "abc"}}, 400, "PARAMETRO_INVALIDO"},
		{"x-fapi-auth-date not an HTTP-date", resourceCall{body: signed(nil), header: map[string]string{"x-fapi-auth-date": "2026-01-01T10:00:00Z"}}, 400, "PARAMETRO_INVALIDO"},
		{"x-fapi-customer-ip-address not an IP", resourceCall{body: signed(nil), header: map[string]string{"x-fapi-customer-ip-address": "localhost"}}, 400, "PARAMETRO_INVALIDO"},
		{"missing x-idempotency-key", resourceCall{body: signed(nil), header: map[string]string{"x-idempotency-key": ""}}, 400, "PARAMETRO_INVALIDO"},
		{"no access token", resourceCall{body: signed(nil), token: "-"}, 401, "NAO_INFORMADO"},
		{"unknown access token", resourceCall{body: signed(nil), token: "nope"}, 401, "UNAUTHORIZED"},
		{"token without the payments scope", resourceCall{body: signed(nil), token: c.ccToken("nrp-consents")}, 403, "FORBIDDEN"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rc := tt.call
			rc.method, rc.path = http.MethodPost, consentsPath
			switch rc.token {
			case "":
				rc.token = cc
			case "-":
				rc.token = ""
			}
			resp := c.do(rc)
			wantAPIError(t, resp, tt.status, tt.code)
		})
	}

	t.Run("replayed jti", func(t *testing.T) {
		body := signed(nil)
		if resp := c.do(resourceCall{method: http.MethodPost, path: consentsPath, token: cc, body: body}); resp.status != http.StatusCreated {
			t.Fatalf("first use: %d %s", resp.status, resp.body)
		}
		wantAPIError(t, c.do(resourceCall{method: http.MethodPost, path: consentsPath, token: cc, body: body}), 403, "INVALID_CLIENT")
	})
	t.Run("token bound to another certificate", func(t *testing.T) {
		// other's own token works with other's certificate…
		oc := newClient(t, shared, other)
		otherToken := oc.ccToken("payments")
		if resp := oc.signedPost(consentsPath, otherToken, paymentConsentData()); resp.status != http.StatusCreated {
			t.Fatalf("%d %s", resp.status, resp.body)
		}
		// …but not when presented with this ITP's certificate.
		resp := c.signedPost(consentsPath, otherToken, paymentConsentData())
		wantAPIError(t, resp, 401, "UNAUTHORIZED")
		if resp.header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
	})
	t.Run("authorization code token on the consents endpoint", func(t *testing.T) {
		ar := c.newAuthReq("openid payments consent:" + c.createConsent("payments"))
		status, tok := c.exchange(ar, c.pushAndAuthorize(ar))
		if status != http.StatusOK {
			t.Fatalf("%d %v", status, tok)
		}
		wantAPIError(t, c.signedPost(consentsPath, tok["access_token"].(string), paymentConsentData()), 403, "FORBIDDEN")
	})
	t.Run("client credentials token on the payments endpoint", func(t *testing.T) {
		wantAPIError(t, c.signedPost("/open-banking/payments/v4/pix/payments", cc, map[string]any{}), 403, "FORBIDDEN")
	})
	t.Run("access token in the query", func(t *testing.T) {
		wantAPIError(t, c.do(resourceCall{method: http.MethodGet, path: consentsPath + "/x?access_token=" + cc}), 400, "PARAMETRO_INVALIDO")
	})
}

// TestPaymentsIdempotency: same key and data → same result; other data →
// 422 ERRO_IDEMPOTENCIA, signed.
func TestPaymentsIdempotency(t *testing.T) {
	t.Parallel()
	c := newClient(t, shared, shared.ITP)
	cc := c.ccToken("payments")
	key := uuid.NewString()
	post := func(data map[string]any) resourceResp {
		return c.do(resourceCall{method: http.MethodPost, path: consentsPath, token: cc,
			body: c.signPS256(c.messageClaims(consentsPath, data)), header: map[string]string{"x-idempotency-key": key}})
	}
	first, again := post(paymentConsentData()), post(paymentConsentData())
	if first.status != http.StatusCreated || again.status != http.StatusCreated {
		t.Fatalf("%d %d", first.status, again.status)
	}
	id1 := c.verifyBankJWS(first.body)["data"].(map[string]any)["consentId"]
	id2 := c.verifyBankJWS(again.body)["data"].(map[string]any)["consentId"]
	if id1 != id2 {
		t.Fatalf("same idempotency key created two consents: %v, %v", id1, id2)
	}
	// A replay shows the consent as it is now.
	ar := c.newAuthReq("openid payments consent:" + id1.(string))
	_ = c.pushAndAuthorize(ar)
	replay := post(paymentConsentData())
	if data := c.verifyBankJWS(replay.body)["data"].(map[string]any); replay.status != http.StatusCreated || data["consentId"] != id1 || data["status"] != "AUTHORISED" {
		t.Fatalf("replay after authorisation: %d %v", replay.status, data)
	}
	changed := paymentConsentData()
	changed["payment"].(map[string]any)["amount"] = "200.00"
	resp := post(changed)
	if resp.status != http.StatusUnprocessableEntity {
		t.Fatalf("%d %s", resp.status, resp.body)
	}
	errs := c.verifyBankJWS(resp.body)["errors"].([]any)
	if errs[0].(map[string]any)["code"] != "ERRO_IDEMPOTENCIA" {
		t.Fatalf("errors %v", errs)
	}
}

func wantAPIError(t *testing.T, resp resourceResp, status int, code string) {
	t.Helper()
	if resp.status != status {
		t.Fatalf("status %d, want %d: %s", resp.status, status, resp.body)
	}
	if ct := resp.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	var body struct {
		Errors []struct{ Code, Title, Detail string }
		Meta   map[string]any
	}
	if err := json.Unmarshal(resp.body, &body); err != nil || len(body.Errors) != 1 || body.Meta == nil {
		t.Fatalf("body %s", resp.body)
	}
	if e := body.Errors[0]; e.Code != code || e.Detail == "" {
		t.Fatalf("error %+v, want code %s", e, code)
	}
	if _, err := uuid.Parse(resp.header.Get("x-fapi-interaction-id")); err != nil {
		t.Fatalf("x-fapi-interaction-id %q", resp.header.Get("x-fapi-interaction-id"))
	}
}
