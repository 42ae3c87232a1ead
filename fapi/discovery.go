package fapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ProviderMetadata is the part of the OpenID discovery document the client
// uses. Endpoints that require mTLS are taken from MTLSEndpointAliases
// where present (RFC 8705 §5); the conformance suite fails a client that
// calls the token or PAR endpoint on its non-mTLS URL.
type ProviderMetadata struct {
	Issuer                             string            `json:"issuer"`
	AuthorizationEndpoint              string            `json:"authorization_endpoint"`
	TokenEndpoint                      string            `json:"token_endpoint"`
	PushedAuthorizationRequestEndpoint string            `json:"pushed_authorization_request_endpoint"`
	RegistrationEndpoint               string            `json:"registration_endpoint"`
	JWKSURI                            string            `json:"jwks_uri"`
	MTLSEndpointAliases                map[string]string `json:"mtls_endpoint_aliases"`
	ScopesSupported                    []string          `json:"scopes_supported"`
	ACRValuesSupported                 []string          `json:"acr_values_supported"`
	RequestObjectSigningAlgs           []string          `json:"request_object_signing_alg_values_supported"`
	TokenEndpointAuthMethods           []string          `json:"token_endpoint_auth_methods_supported"`
	IDTokenEncryptionAlgs              []string          `json:"id_token_encryption_alg_values_supported"`
	IDTokenEncryptionEncs              []string          `json:"id_token_encryption_enc_values_supported"`
	TLSClientCertificateBoundTokens    bool              `json:"tls_client_certificate_bound_access_tokens"`
}

// mtls returns the mTLS alias of an endpoint, or the plain one.
func (m *ProviderMetadata) mtls(name, plain string) (string, error) {
	if u := m.MTLSEndpointAliases[name]; u != "" {
		return u, nil
	}
	if plain == "" {
		return "", fmt.Errorf("%w: %s", ErrNoEndpoint, name)
	}
	return plain, nil
}

// TokenURL is the token endpoint to call (the mTLS alias if advertised).
func (m *ProviderMetadata) TokenURL() (string, error) {
	return m.mtls("token_endpoint", m.TokenEndpoint)
}

// PARURL is the pushed authorization request endpoint to call.
func (m *ProviderMetadata) PARURL() (string, error) {
	return m.mtls("pushed_authorization_request_endpoint", m.PushedAuthorizationRequestEndpoint)
}

// RegistrationURL is the DCR endpoint to call.
func (m *ProviderMetadata) RegistrationURL() (string, error) {
	return m.mtls("registration_endpoint", m.RegistrationEndpoint)
}

// maxDocumentSize bounds JSON documents read from the network.
const maxDocumentSize = 1 << 20

// Discover fetches and checks the discovery document once, then returns the
// cached copy. A failure is not cached.
func (c *Client) Discover(ctx context.Context) (*ProviderMetadata, error) {
	c.mu.Lock()
	md := c.metadata
	c.mu.Unlock()
	if md != nil {
		return md, nil
	}
	md, err := Discover(ctx, c.public, c.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.metadata = md
	c.mu.Unlock()
	return md, nil
}

// Discover fetches issuer + "/.well-known/openid-configuration" with hc and
// checks that the document's issuer equals issuer (OIDC Discovery §4.3)
// and that the endpoints the FAPI-BR flow needs are present.
func Discover(ctx context.Context, hc *http.Client, issuer string) (*ProviderMetadata, error) {
	issuer = strings.TrimSuffix(issuer, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, issuer+"/.well-known/openid-configuration", nil)
	if err != nil {
		return nil, fmt.Errorf("fapi: discovery: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fapi: discovery: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentSize))
	if err != nil {
		return nil, fmt.Errorf("fapi: discovery: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fapi: discovery: HTTP %d", resp.StatusCode)
	}
	var md ProviderMetadata
	if err := json.Unmarshal(body, &md); err != nil {
		return nil, fmt.Errorf("fapi: discovery: decode: %w", err)
	}
	if md.Issuer != issuer {
		return nil, fmt.Errorf("%w: document says %q, fetched from %q", ErrIssuerMismatch, md.Issuer, issuer)
	}
	for name, v := range map[string]string{"authorization_endpoint": md.AuthorizationEndpoint, "jwks_uri": md.JWKSURI} {
		if v == "" {
			return nil, fmt.Errorf("%w: %s", ErrNoEndpoint, name)
		}
	}
	return &md, nil
}
