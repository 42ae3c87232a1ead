package sandbox

import (
	"net/http"

	jose "github.com/go-jose/go-jose/v4"
)

// Scopes the authorization server supports. Dynamic consent scopes
// ("consent:<id>", "recurring-consent:<id>") are accepted on top of these.
var supportedScopes = []string{
	"openid", "payments", "recurring-payments", "nrp-consents", "consents",
	"accounts", "resources",
}

// handleDiscovery serves the OpenID Provider metadata, shaped as FAPI-BR v2
// and the OpenID conformance suite's Brazil server configuration.
func (b *Bank) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	issuer := b.Issuer
	if b.Faults().Discovery.IssuerMismatch {
		issuer = b.PublicURL + "/issuer-mismatch"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                b.PublicURL + "/authorize",
		"token_endpoint":                        b.PublicURL + "/token",
		"pushed_authorization_request_endpoint": b.PublicURL + "/par",
		"registration_endpoint":                 b.PublicURL + "/register",
		"jwks_uri":                              b.PublicURL + "/jwks",
		"mtls_endpoint_aliases": map[string]string{
			"token_endpoint":                        b.tokenEndpoint(),
			"pushed_authorization_request_endpoint": b.parEndpoint(),
			"registration_endpoint":                 b.registrationEndpoint(),
		},
		"response_types_supported":                         []string{"code id_token"},
		"response_modes_supported":                         []string{"fragment"},
		"grant_types_supported":                            []string{"authorization_code", "client_credentials", "refresh_token"},
		"subject_types_supported":                          []string{"public"},
		"scopes_supported":                                 supportedScopes,
		"claims_supported":                                 []string{"sub", "acr", "auth_time", "cpf", "cnpj"},
		"claims_parameter_supported":                       true,
		"acr_values_supported":                             []string{ACRLoa2, ACRLoa3},
		"token_endpoint_auth_methods_supported":            []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"PS256"},
		"request_object_signing_alg_values_supported":      []string{"PS256"},
		"request_object_encryption_alg_values_supported":   []string{"RSA-OAEP"},
		"request_object_encryption_enc_values_supported":   []string{"A256GCM"},
		"request_parameter_supported":                      true,
		"request_uri_parameter_supported":                  true,
		"require_pushed_authorization_requests":            true,
		"id_token_signing_alg_values_supported":            []string{"PS256"},
		"id_token_encryption_alg_values_supported":         []string{"RSA-OAEP"},
		"id_token_encryption_enc_values_supported":         []string{"A256GCM"},
		"code_challenge_methods_supported":                 []string{"S256"},
		"tls_client_certificate_bound_access_tokens":       true,
	})
}

// handleJWKS serves the authorization server's keys: the id_token signing
// key and the request object encryption key.
func (b *Bank) handleJWKS(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{b.keys.idTokenJWK, b.keys.asEncJWK}})
}

// handleNotMTLS answers the token, PAR and registration endpoints of the
// public host: FAPI-BR clients must use mtls_endpoint_aliases.
func (b *Bank) handleNotMTLS(w http.ResponseWriter, r *http.Request) {
	b.refuseOAuth(w, r, invalidRequest("%s must be called over mutual TLS at the endpoint in mtls_endpoint_aliases (%s)", r.URL.Path, b.MTLSURL))
}

func (b *Bank) tokenEndpoint() string        { return b.MTLSURL + "/token" }
func (b *Bank) parEndpoint() string          { return b.MTLSURL + "/par" }
func (b *Bank) registrationEndpoint() string { return b.MTLSURL + "/register" }
