package sandbox_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestGarbageGetsAClearRefusal throws malformed input at every endpoint:
// each answer must be a 4xx (a panic would surface as a dropped connection,
// a bug as a 5xx).
func TestGarbageGetsAClearRefusal(t *testing.T) {
	t.Parallel()
	c := newClient(t, shared, shared.ITP)
	cc := c.ccToken("payments")
	bodies := []struct{ contentType, body string }{
		{"", ""},
		{"application/x-www-form-urlencoded", "%%%"},
		{"application/x-www-form-urlencoded", "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=a.b.c"},
		{"application/x-www-form-urlencoded", "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=" + b64json(map[string]any{"alg": "PS256", "kid": "x"}) + "." + b64json([]int{1}) + ".AA"},
		{"application/x-www-form-urlencoded", "client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=" + b64json(map[string]any{"alg": "PS256", "kid": "x"}) + "." + b64json(map[string]any{"iss": 5, "aud": map[string]any{}}) + ".AA"},
		{"application/json", "{"},
		{"application/json", `{"software_statement": 5, "redirect_uris": "x"}`},
		{"application/json", `[]`},
		{"application/jwt", "a.b.c"},
		{"application/jwt", b64json(map[string]any{"alg": "PS256", "kid": shared.ITP.SigningKeyID}) + "." + b64json("not an object") + ".AA"},
		{"application/jwt", strings.Repeat("x", 1<<20+1)},
	}
	endpoints := []struct {
		method, url string
		auth        bool
	}{
		{http.MethodPost, shared.MTLSURL + "/token", false},
		{http.MethodPost, shared.MTLSURL + "/par", false},
		{http.MethodPost, shared.MTLSURL + "/register", false},
		{http.MethodPut, shared.MTLSURL + "/register/" + shared.ITP.ClientID, false},
		{http.MethodPost, shared.MTLSURL + consentsPath, true},
		{http.MethodPost, shared.MTLSURL + "/open-banking/payments/v4/pix/payments", true},
		{http.MethodGet, shared.PublicURL + "/authorize?client_id=%00&request_uri=%ff", false},
		{http.MethodGet, shared.PublicURL + "/authorize?request=x", false},
		{http.MethodGet, shared.MTLSURL + consentsPath + "/%2e%2e", true},
		{http.MethodGet, shared.PublicURL + "/keystore/%2e%2e/application.jwks", false},
	}
	for _, ep := range endpoints {
		for _, b := range bodies {
			req, err := http.NewRequest(ep.method, ep.url, strings.NewReader(b.body))
			if err != nil {
				t.Fatal(err)
			}
			if b.contentType != "" {
				req.Header.Set("Content-Type", b.contentType)
			}
			req.Header.Set("x-fapi-interaction-id", "8a2e8f54-6a5f-4c3e-9b1d-0f3c2a1b4d5e")
			req.Header.Set("x-idempotency-key", "k")
			if ep.auth {
				req.Header.Set("Authorization", "Bearer "+cc)
			}
			resp, err := c.hc.Do(req)
			if err != nil {
				t.Fatalf("%s %s with %.40q: %v", ep.method, ep.url, b.body, err)
			}
			resp.Body.Close()
			if resp.StatusCode < 400 || resp.StatusCode >= 500 {
				t.Errorf("%s %.60s with %s %.40q: %d", ep.method, ep.url, b.contentType, b.body, resp.StatusCode)
			}
		}
	}
}
