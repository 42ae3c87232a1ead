package fapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// RegistrationRequest is what an ITP registers at a bank by Dynamic Client
// Registration. The FAPI-BR metadata (private_key_jwt with PS256, "code
// id_token", PS256 id_tokens encrypted RSA-OAEP/A256GCM, PAR required,
// certificate-bound tokens) is fixed by Register.
type RegistrationRequest struct {
	// SoftwareStatement is a fresh SSA from the directory (the bank
	// refuses one older than 5 minutes).
	SoftwareStatement string
	// RedirectURIs must be a subset of the SSA's software_redirect_uris.
	RedirectURIs []string
	// JWKSURI is the software JWKS in the directory (never keys by value).
	JWKSURI string
	// WebhookURIs must equal the SSA's software_api_webhook_uris; empty
	// disables webhooks.
	WebhookURIs []string
	// Scope, if set, narrows the scopes (default: all of the SSA's roles).
	Scope string
}

// Registration is a registered client. Persist it: RegistrationAccessToken
// is the only way to manage the registration, and a bank may return a new
// one on every call.
type Registration struct {
	ClientID                string `json:"client_id"`
	RegistrationClientURI   string `json:"registration_client_uri"`
	RegistrationAccessToken string `json:"registration_access_token"`
	// Metadata is the whole response.
	Metadata map[string]json.RawMessage `json:"-"`
}

// Register registers the client (POST to the registration endpoint's mTLS
// alias, presenting the transport certificate that matches the SSA).
func (c *Client) Register(ctx context.Context, r RegistrationRequest) (*Registration, error) {
	md, err := c.Discover(ctx)
	if err != nil {
		return nil, err
	}
	u, err := md.RegistrationURL()
	if err != nil {
		return nil, err
	}
	body := map[string]any{
		"software_statement":                         r.SoftwareStatement,
		"redirect_uris":                              r.RedirectURIs,
		"jwks_uri":                                   r.JWKSURI,
		"token_endpoint_auth_method":                 "private_key_jwt",
		"token_endpoint_auth_signing_alg":            "PS256",
		"grant_types":                                []string{"authorization_code", "client_credentials", "refresh_token"},
		"response_types":                             []string{"code id_token"},
		"id_token_signed_response_alg":               "PS256",
		"id_token_encrypted_response_alg":            "RSA-OAEP",
		"id_token_encrypted_response_enc":            "A256GCM",
		"request_object_signing_alg":                 "PS256",
		"require_pushed_authorization_requests":      true,
		"tls_client_certificate_bound_access_tokens": true,
		"subject_type":                               "public",
	}
	if len(r.WebhookURIs) > 0 {
		body["webhook_uris"] = r.WebhookURIs
	}
	if r.Scope != "" {
		body["scope"] = r.Scope
	}
	return c.registrationCall(ctx, http.MethodPost, u, "", body, http.StatusCreated)
}

// ReadRegistration reads the registration (GET registration_client_uri with
// the registration access token). The result carries the access token to
// use next time — a new one if the bank rotated it.
func (c *Client) ReadRegistration(ctx context.Context, reg *Registration) (*Registration, error) {
	if reg == nil || reg.RegistrationClientURI == "" || reg.RegistrationAccessToken == "" {
		return nil, fmt.Errorf("fapi: registration needs registration_client_uri and registration_access_token")
	}
	out, err := c.registrationCall(ctx, http.MethodGet, reg.RegistrationClientURI, reg.RegistrationAccessToken, nil, http.StatusOK)
	if err != nil {
		return nil, err
	}
	if out.RegistrationAccessToken == "" {
		out.RegistrationAccessToken = reg.RegistrationAccessToken
	}
	if out.RegistrationClientURI == "" {
		out.RegistrationClientURI = reg.RegistrationClientURI
	}
	return out, nil
}

func (c *Client) registrationCall(ctx context.Context, method, u, rat string, body any, want int) (*Registration, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("fapi: register: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if rat != "" {
		req.Header.Set("Authorization", "Bearer "+rat)
	}
	resp, err := c.mtls.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fapi: register: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentSize))
	if err != nil {
		return nil, fmt.Errorf("fapi: register: %w", err)
	}
	if resp.StatusCode != want {
		return nil, oauthErrorFrom("register", resp.StatusCode, b)
	}
	var reg Registration
	if err := json.Unmarshal(b, &reg); err != nil {
		return nil, fmt.Errorf("fapi: register: decode: %w", err)
	}
	_ = json.Unmarshal(b, &reg.Metadata)
	if reg.ClientID == "" {
		return nil, &OAuthError{Endpoint: "register", StatusCode: resp.StatusCode, Code: "invalid_response", Description: "no client_id"}
	}
	return &reg, nil
}
