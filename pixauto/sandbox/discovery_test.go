package sandbox_test

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ofb-go/pixauto/internal/pki"
)

func TestDiscovery(t *testing.T) {
	t.Parallel()
	c := newClient(t, shared, shared.ITP)
	resp, err := shared.Client(nil).Get(shared.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	pub, mtls := shared.PublicURL, shared.MTLSURL
	want := map[string]any{
		"issuer":                                shared.Issuer,
		"authorization_endpoint":                pub + "/authorize",
		"token_endpoint":                        pub + "/token",
		"pushed_authorization_request_endpoint": pub + "/par",
		"registration_endpoint":                 pub + "/register",
		"jwks_uri":                              pub + "/jwks",
		"tls_client_certificate_bound_access_tokens": true,
		"require_pushed_authorization_requests":      true,
		"claims_parameter_supported":                 true,
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s = %v, want %v", k, doc[k], v)
		}
	}
	aliases, _ := doc["mtls_endpoint_aliases"].(map[string]any)
	for k, v := range map[string]string{"token_endpoint": mtls + "/token", "pushed_authorization_request_endpoint": mtls + "/par", "registration_endpoint": mtls + "/register"} {
		if aliases[k] != v {
			t.Errorf("mtls_endpoint_aliases.%s = %v, want %s", k, aliases[k], v)
		}
	}
	lists := map[string][]string{
		"response_types_supported":                         {"code id_token"},
		"token_endpoint_auth_methods_supported":            {"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": {"PS256"},
		"request_object_signing_alg_values_supported":      {"PS256"},
		"id_token_signing_alg_values_supported":            {"PS256"},
		"id_token_encryption_alg_values_supported":         {"RSA-OAEP"},
		"id_token_encryption_enc_values_supported":         {"A256GCM"},
		"acr_values_supported":                             {"urn:brasil:openbanking:loa2", "urn:brasil:openbanking:loa3"},
		"code_challenge_methods_supported":                 {"S256"},
	}
	for k, v := range lists {
		if got := strs(doc[k]); !slices.Equal(got, v) {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	for _, s := range []string{"openid", "payments", "recurring-payments"} {
		if !slices.Contains(strs(doc["scopes_supported"]), s) {
			t.Errorf("scopes_supported lacks %s", s)
		}
	}

	jwks := c.fetchJWKS(pub + "/jwks")
	var sig, enc int
	for _, k := range jwks.Keys {
		if !k.IsPublic() || k.KeyID == "" {
			t.Errorf("jwks_uri key %q is not a public key with kid", k.KeyID)
		}
		switch k.Use {
		case "sig":
			sig++
		case "enc":
			enc++
		}
	}
	if sig != 1 || enc != 1 {
		t.Errorf("jwks_uri has %d sig and %d enc keys, want 1 and 1", sig, enc)
	}
}

func strs(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

// TestKeystore: keys are published as the directory does (kid, use, x5c,
// no alg), organisation keys apart from software keys.
func TestKeystore(t *testing.T) {
	t.Parallel()
	c := newClient(t, shared, shared.ITP)
	itp := shared.ITP
	org := c.fetchJWKS(itp.OrgJWKSURI)
	if len(org.Keys) != 1 || org.Keys[0].KeyID != itp.SigningKeyID || org.Keys[0].Use != "sig" {
		t.Fatalf("organisation JWKS %+v", org.Keys)
	}
	sw := c.fetchJWKS(itp.JWKSURI)
	if len(sw.Key(itp.SigningKeyID)) != 1 || len(sw.Key(itp.EncryptionKeyID)) != 1 || sw.Key(itp.EncryptionKeyID)[0].Use != "enc" {
		t.Fatalf("software JWKS %+v", sw.Keys)
	}
	for _, k := range append(org.Keys, sw.Keys...) {
		if k.Algorithm != "" || len(k.Certificates) != 1 || !k.IsPublic() {
			t.Errorf("key %s: alg %q, %d certificates, public %v", k.KeyID, k.Algorithm, len(k.Certificates), k.IsPublic())
		}
	}
	bank := c.fetchJWKS(shared.KeystoreURL + "/" + shared.OrganisationID + "/application.jwks")
	if len(bank.Keys) != 1 || bank.Keys[0].Use != "sig" {
		t.Fatalf("bank organisation JWKS %+v", bank.Keys)
	}
	if dir := c.fetchJWKS(shared.KeystoreURL + "/openbanking.jwks"); len(dir.Keys) != 1 {
		t.Fatalf("directory JWKS %+v", dir.Keys)
	}
	if inactive := c.fetchJWKS(shared.KeystoreURL + "/" + itp.OrganisationID + "/inactive/application.jwks"); len(inactive.Keys) != 0 {
		t.Fatalf("inactive JWKS %+v", inactive.Keys)
	}
	resp, err := c.hc.Get(shared.KeystoreURL + "/no-such-org/application.jwks")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown organisation: %d", resp.StatusCode)
	}
}

// TestPublicHostRefusesMTLSEndpoints: the endpoints advertised outside
// mtls_endpoint_aliases refuse every call.
func TestPublicHostRefusesMTLSEndpoints(t *testing.T) {
	t.Parallel()
	c := newClient(t, shared, shared.ITP)
	for _, p := range []string{"/token", "/par", "/register"} {
		form := merge(c.authForm(shared.PublicURL+p, nil), url.Values{"grant_type": {"client_credentials"}, "scope": {"payments"}})
		status, body := c.postForm(shared.PublicURL+p, form, nil)
		wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_request")
	}
	n := 0
	for _, r := range shared.Requests() {
		if r.Server == "public" && r.Method == http.MethodPost && r.Status == http.StatusBadRequest && slices.Contains([]string{"/token", "/par", "/register"}, r.Path) {
			n++
		}
	}
	if n < 3 {
		t.Fatalf("Requests() logged %d refused public calls, want at least 3", n)
	}
}

// TestMTLSRequiresClientCertificate: the mTLS host refuses a handshake
// without a certificate, or with one from another CA.
func TestMTLSRequiresClientCertificate(t *testing.T) {
	t.Parallel()
	noCert := shared.Client(nil)
	defer noCert.CloseIdleConnections()
	if _, err := noCert.Get(shared.MTLSURL + "/open-banking/payments/v4/consents/x"); err == nil {
		t.Fatal("request without a client certificate succeeded")
	}
	other, err := pki.NewCA("Not The Sandbox")
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.IssueTransport(pki.Transport{OrganisationID: shared.ITP.OrganisationID, SoftwareID: shared.ITP.SoftwareID})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, shared, shared.ITP).withCert(foreign)
	_, err = c.hc.Get(shared.MTLSURL + "/open-banking/payments/v4/consents/x")
	var certErr *tls.CertificateVerificationError
	if err == nil || (!errors.As(err, &certErr) && !strings.Contains(err.Error(), "certificate")) {
		t.Fatalf("request with a foreign certificate: %v", err)
	}
	// The chain must include the intermediate (FAPI-BR: clients send it).
	leafOnly := shared.ITP.Certificate
	leafOnly.Certificate = leafOnly.Certificate[:1]
	if _, err := newClient(t, shared, shared.ITP).withCert(leafOnly).hc.Get(shared.MTLSURL + "/open-banking/payments/v4/consents/x"); err == nil {
		t.Fatal("a certificate without its intermediate was accepted")
	}
	// TLS 1.1 is refused.
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: shared.RootCAs, Certificates: []tls.Certificate{shared.ITP.Certificate}, MaxVersion: tls.VersionTLS11,
	}}}
	if _, err := old.Get(shared.MTLSURL + "/"); err == nil {
		t.Fatal("TLS 1.1 handshake succeeded")
	}
}
