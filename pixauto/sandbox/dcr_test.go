package sandbox_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// registration is a FAPI-BR DCR request body for itp.
func registration(itp *sandbox.ITP, ssa string) map[string]any {
	return map[string]any{
		"software_statement":                         ssa,
		"redirect_uris":                              itp.RedirectURIs,
		"jwks_uri":                                   itp.JWKSURI,
		"token_endpoint_auth_method":                 "private_key_jwt",
		"token_endpoint_auth_signing_alg":            "PS256",
		"grant_types":                                []string{"authorization_code", "client_credentials", "refresh_token"},
		"response_types":                             []string{"code id_token"},
		"id_token_signed_response_alg":               "PS256",
		"id_token_encrypted_response_alg":            "RSA-OAEP",
		"id_token_encrypted_response_enc":            "A256GCM",
		"request_object_signing_alg":                 "PS256",
		"tls_client_certificate_bound_access_tokens": true,
		"require_pushed_authorization_requests":      true,
	}
}

func (c *tclient) register(body map[string]any) (int, map[string]any) {
	return c.dcm(http.MethodPost, c.b.MTLSURL+"/register", "", body)
}

func (c *tclient) dcm(method, u, rat string, body map[string]any) (int, map[string]any) {
	c.t.Helper()
	var buf bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&buf).Encode(body)
	}
	req, err := http.NewRequest(method, u, &buf)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if rat != "" {
		req.Header.Set("Authorization", "Bearer "+rat)
	}
	return c.doJSON(req)
}

// TestDCRHappyPath follows the conformance suite's DCR client test:
// register, use the client, read the registration twice (a new
// registration access token each time), update, delete.
func TestDCRHappyPath(t *testing.T) {
	t.Parallel()
	itp, err := shared.NewITP(sandbox.ITPConfig{Unregistered: true, RedirectURIs: []string{"https://itp.example/cb1", "https://itp.example/cb2"}, WebhookURIs: []string{"https://hooks.itp.example/base"}})
	if err != nil {
		t.Fatal(err)
	}
	if itp.ClientID != "" {
		t.Fatal("an unregistered ITP has a client id")
	}
	c := newClient(t, shared, itp)
	ssa, err := shared.SoftwareStatement(itp)
	if err != nil {
		t.Fatal(err)
	}
	req := registration(itp, ssa)
	req["redirect_uris"] = []string{"https://itp.example/cb2"}
	req["webhook_uris"] = []string{"https://hooks.itp.example/base"}
	status, reg := c.register(req)
	if status != http.StatusCreated {
		t.Fatalf("register: %d %v", status, reg)
	}
	clientID, _ := reg["client_id"].(string)
	rcu, _ := reg["registration_client_uri"].(string)
	rat, _ := reg["registration_access_token"].(string)
	if clientID == "" || rat == "" || rcu != shared.MTLSURL+"/register/"+clientID || reg["jwks_uri"] != itp.JWKSURI ||
		reg["token_endpoint_auth_method"] != "private_key_jwt" || reg["scope"] != "openid payments recurring-payments nrp-consents" {
		t.Fatalf("registration response %v", reg)
	}

	itp.ClientID = clientID
	itp.RedirectURI = "https://itp.example/cb2"
	if tok := c.ccToken("payments"); tok == "" {
		t.Fatal("no token for the registered client")
	}
	ar := c.newAuthReq("openid payments consent:" + c.createConsent("payments"))
	if frag := c.pushAndAuthorize(ar); frag.Get("code") == "" {
		t.Fatalf("fragment %v", frag)
	}

	for i := range 2 {
		status, got := c.dcm(http.MethodGet, rcu, rat, nil)
		if status != http.StatusOK || got["client_id"] != clientID || got["registration_access_token"] == rat || got["registration_access_token"] == "" {
			t.Fatalf("GET %d: %d %v", i, status, got)
		}
		status, body := c.dcm(http.MethodGet, rcu, rat, nil)
		wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_token")
		rat = got["registration_access_token"].(string)
	}

	fresh, err := shared.SoftwareStatement(itp)
	if err != nil {
		t.Fatal(err)
	}
	upd := registration(itp, fresh)
	upd["client_id"] = clientID
	status, got := c.dcm(http.MethodPut, rcu, rat, upd)
	if status != http.StatusOK || got["client_id"] != clientID || len(got["redirect_uris"].([]any)) != 2 {
		t.Fatalf("PUT: %d %v", status, got)
	}
	rat = got["registration_access_token"].(string)

	other := newClient(t, shared, newITP(t))
	status, body := other.dcm(http.MethodGet, rcu, rat, nil)
	wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")

	if status, _ := c.dcm(http.MethodDelete, rcu, rat, nil); status != http.StatusNoContent {
		t.Fatalf("DELETE: %d", status)
	}
	status, body = c.token(url.Values{"grant_type": {"client_credentials"}, "scope": {"payments"}})
	wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
	status, body = c.dcm(http.MethodGet, rcu, rat, nil)
	wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_token")
}

// TestDCRRefusals: each DCR rule refused on its own.
func TestDCRRefusals(t *testing.T) {
	t.Parallel()
	itp, err := shared.NewITP(sandbox.ITPConfig{Unregistered: true})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, shared, itp)
	ssa, err := shared.SoftwareStatement(itp)
	if err != nil {
		t.Fatal(err)
	}
	// An SSA with the directory's kid but signed by another key.
	parts := strings.Split(ssa, ".")
	obj, _ := jose.ParseSignedCompact(ssa, []jose.SignatureAlgorithm{jose.PS256})
	var claims map[string]any
	_ = json.Unmarshal(obj.UnsafePayloadWithoutVerification(), &claims)
	forged := sign(t, itp.SigningKey, obj.Signatures[0].Protected.KeyID, jose.PS256, "JWT", claims)
	claims["software_redirect_uris"] = []string{"https://evil.example/cb"}
	tampered := parts[0] + "." + b64json(claims) + "." + parts[2]

	set := func(k string, v any) func(map[string]any) { return func(m map[string]any) { m[k] = v } }
	del := func(k string) func(map[string]any) { return func(m map[string]any) { delete(m, k) } }
	for _, tt := range []struct {
		name   string
		mutate func(map[string]any)
		client *tclient
		status int
		code   string
	}{
		{"no software statement", del("software_statement"), nil, 400, "invalid_software_statement"},
		{"forged software statement", set("software_statement", forged), nil, 400, "invalid_software_statement"},
		{"tampered software statement", set("software_statement", tampered), nil, 400, "invalid_software_statement"},
		{"jwks by value", set("jwks", map[string]any{"keys": []any{}}), nil, 400, "invalid_client_metadata"},
		{"jwks_uri of another software", set("jwks_uri", shared.ITP.JWKSURI), nil, 400, "invalid_client_metadata"},
		{"redirect_uri outside the SSA", set("redirect_uris", []string{"https://evil.example/cb"}), nil, 400, "invalid_redirect_uri"},
		{"http redirect_uri", set("redirect_uris", []string{"http://itp.example/cb"}), nil, 400, "invalid_redirect_uri"},
		{"no redirect_uris", del("redirect_uris"), nil, 400, "invalid_redirect_uri"},
		{"client_secret_basic", set("token_endpoint_auth_method", "client_secret_basic"), nil, 400, "invalid_client_metadata"},
		{"tls_client_auth", set("token_endpoint_auth_method", "tls_client_auth"), nil, 400, "invalid_client_metadata"},
		{"no token_endpoint_auth_method", del("token_endpoint_auth_method"), nil, 400, "invalid_client_metadata"},
		{"RS256 assertions", set("token_endpoint_auth_signing_alg", "RS256"), nil, 400, "invalid_client_metadata"},
		{"RSA1_5 id_token encryption", set("id_token_encrypted_response_alg", "RSA1_5"), nil, 400, "invalid_client_metadata"},
		{"response_type code", set("response_types", []string{"code"}), nil, 400, "invalid_client_metadata"},
		{"unbound tokens", set("tls_client_certificate_bound_access_tokens", false), nil, 400, "invalid_client_metadata"},
		{"scope beyond the roles", set("scope", "openid payments accounts"), nil, 400, "invalid_client_metadata"},
		{"webhook_uris not in the SSA", set("webhook_uris", []string{"https://hooks.example/x"}), nil, 400, "invalid_webhook_uris"},
		{"certificate of another software", nil, newClient(t, shared, newITP(t)), 401, "invalid_client"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := registration(itp, ssa)
			if tt.mutate != nil {
				tt.mutate(body)
			}
			cl := c
			if tt.client != nil {
				cl = tt.client
			}
			status, resp := cl.register(body)
			wantOAuthError(t, status, resp, tt.status, tt.code)
		})
	}

	t.Run("software already registered", func(t *testing.T) {
		ssa, err := shared.SoftwareStatement(shared.ITP)
		if err != nil {
			t.Fatal(err)
		}
		status, body := newClient(t, shared, shared.ITP).register(registration(shared.ITP, ssa))
		wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_client_metadata")
	})
	t.Run("not JSON", func(t *testing.T) {
		status, body := c.postForm(shared.MTLSURL+"/register", url.Values{"software_statement": {ssa}}, nil)
		wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_request")
	})
	// The unmodified request registers: every refusal above was due to its
	// mutation.
	if status, body := c.register(registration(itp, ssa)); status != http.StatusCreated {
		t.Fatalf("valid registration: %d %v", status, body)
	}
}
