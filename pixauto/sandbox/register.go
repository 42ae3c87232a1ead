package sandbox

import (
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/ofb-go/pixauto/pixauto/sandbox/internal/directory"
)

// client is a registered OAuth client.
type client struct {
	ID             string
	OrganisationID string
	SoftwareID     string
	Metadata       clientMetadata
	RAT            string
}

func (c *client) hasScope(s string) bool { return slices.Contains(c.Metadata.scopes(), s) }

func (c *client) hasGrantType(g string) bool { return slices.Contains(c.Metadata.GrantTypes, g) }

// clientMetadata is the registered metadata, as DCR and DCM return it.
type clientMetadata struct {
	ClientID                    string   `json:"client_id"`
	ClientIDIssuedAt            int64    `json:"client_id_issued_at"`
	RegistrationClientURI       string   `json:"registration_client_uri"`
	RegistrationAccessToken     string   `json:"registration_access_token,omitempty"`
	SoftwareID                  string   `json:"software_id"`
	SoftwareStatement           string   `json:"software_statement"`
	ClientName                  string   `json:"client_name,omitempty"`
	RedirectURIs                []string `json:"redirect_uris"`
	JWKSURI                     string   `json:"jwks_uri"`
	TokenEndpointAuthMethod     string   `json:"token_endpoint_auth_method"`
	TokenEndpointAuthSigningAlg string   `json:"token_endpoint_auth_signing_alg"`
	GrantTypes                  []string `json:"grant_types"`
	ResponseTypes               []string `json:"response_types"`
	IDTokenSignedResponseAlg    string   `json:"id_token_signed_response_alg"`
	IDTokenEncryptedResponseAlg string   `json:"id_token_encrypted_response_alg"`
	IDTokenEncryptedResponseEnc string   `json:"id_token_encrypted_response_enc"`
	RequestObjectSigningAlg     string   `json:"request_object_signing_alg"`
	RequestObjectEncryptionAlg  string   `json:"request_object_encryption_alg,omitempty"`
	RequestObjectEncryptionEnc  string   `json:"request_object_encryption_enc,omitempty"`
	RequirePAR                  bool     `json:"require_pushed_authorization_requests"`
	TLSBoundAccessTokens        bool     `json:"tls_client_certificate_bound_access_tokens"`
	SubjectType                 string   `json:"subject_type"`
	Scope                       string   `json:"scope"`
	WebhookURIs                 []string `json:"webhook_uris,omitempty"`
}

func (m *clientMetadata) scopes() []string { return strings.Fields(m.Scope) }

// registrationRequest is the body of POST /register and PUT /register/{id}
// (DCR-SWAGGER ClientRegistrationRequest). Unknown members are ignored, as
// RFC 7591 requires.
type registrationRequest struct {
	ClientID                    string          `json:"client_id"`
	SoftwareStatement           string          `json:"software_statement"`
	ClientName                  string          `json:"client_name"`
	RedirectURIs                []string        `json:"redirect_uris"`
	JWKSURI                     string          `json:"jwks_uri"`
	JWKS                        json.RawMessage `json:"jwks"`
	TokenEndpointAuthMethod     string          `json:"token_endpoint_auth_method"`
	TokenEndpointAuthSigningAlg string          `json:"token_endpoint_auth_signing_alg"`
	GrantTypes                  []string        `json:"grant_types"`
	ResponseTypes               []string        `json:"response_types"`
	IDTokenSignedResponseAlg    string          `json:"id_token_signed_response_alg"`
	IDTokenEncryptedResponseAlg string          `json:"id_token_encrypted_response_alg"`
	IDTokenEncryptedResponseEnc string          `json:"id_token_encrypted_response_enc"`
	RequestObjectSigningAlg     string          `json:"request_object_signing_alg"`
	RequestObjectEncryptionAlg  string          `json:"request_object_encryption_alg"`
	RequestObjectEncryptionEnc  string          `json:"request_object_encryption_enc"`
	RequirePAR                  *bool           `json:"require_pushed_authorization_requests"`
	TLSBoundAccessTokens        *bool           `json:"tls_client_certificate_bound_access_tokens"`
	SubjectType                 string          `json:"subject_type"`
	Scope                       string          `json:"scope"`
	WebhookURIs                 []string        `json:"webhook_uris"`
}

// roleScopes maps directory software roles to the scopes they allow.
var roleScopes = map[string][]string{
	"PAGTO": {"openid", "payments", "recurring-payments", "nrp-consents"},
	"DADOS": {"openid", "accounts", "consents", "resources"},
	"CONTA": {"openid"},
}

var webhookURIPattern = regexp.MustCompile(`^(https://[^\s/?#]+(?:/[^\s/?#]+)*)$`)

func dcrErr(code, format string, args ...any) *oauthError {
	return oauthErr(http.StatusBadRequest, code, format, args...)
}

// validateRegistration checks a registration request against the SSA, the
// caller's certificate and FAPI-BR v2 DCR rules, and returns the metadata
// to register (without client id and registration fields).
func (b *Bank) validateRegistration(req *registrationRequest, cert *x509.Certificate) (*clientMetadata, *oauthError) {
	if req.SoftwareStatement == "" {
		return nil, dcrErr("invalid_software_statement", "software_statement is required")
	}
	ssa, err := b.dir.VerifySSA(req.SoftwareStatement, b.now(), MaxSSAAge, Leeway)
	if err != nil {
		return nil, dcrErr("invalid_software_statement", "%v", err)
	}
	if _, ok := b.dir.Software(ssa.OrganisationID, ssa.SoftwareID); !ok {
		return nil, dcrErr("unapproved_software_statement", "software %s of organisation %s is not in the directory", ssa.SoftwareID, ssa.OrganisationID)
	}
	if cert == nil {
		return nil, invalidClient("a client certificate is required")
	}
	orgID, softwareID := certIdentity(cert)
	if orgID != ssa.OrganisationID || softwareID != ssa.SoftwareID {
		return nil, invalidClient("client certificate (organisation %q, UID %q) does not match the software statement (org_id %q, software_id %q)", orgID, softwareID, ssa.OrganisationID, ssa.SoftwareID)
	}
	m := &clientMetadata{
		SoftwareID:                  ssa.SoftwareID,
		SoftwareStatement:           req.SoftwareStatement,
		ClientName:                  req.ClientName,
		RequirePAR:                  true,
		TLSBoundAccessTokens:        true,
		TokenEndpointAuthMethod:     "private_key_jwt",
		TokenEndpointAuthSigningAlg: "PS256",
		IDTokenSignedResponseAlg:    "PS256",
		IDTokenEncryptedResponseAlg: "RSA-OAEP",
		IDTokenEncryptedResponseEnc: "A256GCM",
		RequestObjectSigningAlg:     "PS256",
		SubjectType:                 "public",
	}
	if m.ClientName == "" {
		m.ClientName = ssa.SoftwareClientName
	}
	if oe := checkClientAuthMetadata(req); oe != nil {
		return nil, oe
	}
	if len(req.JWKS) > 0 {
		return nil, dcrErr("invalid_client_metadata", "jwks by value is not allowed; register the directory jwks_uri")
	}
	m.JWKSURI = req.JWKSURI
	if m.JWKSURI == "" {
		m.JWKSURI = ssa.SoftwareJWKSURI
	}
	if m.JWKSURI != ssa.SoftwareJWKSURI {
		return nil, dcrErr("invalid_client_metadata", "jwks_uri %q is not the software_jwks_uri of the software statement", req.JWKSURI)
	}
	if oe := b.checkClientKeys(m.JWKSURI); oe != nil {
		return nil, oe
	}
	if len(req.RedirectURIs) == 0 {
		return nil, dcrErr("invalid_redirect_uri", "redirect_uris is required")
	}
	for _, u := range req.RedirectURIs {
		if p, err := url.Parse(u); err != nil || p.Scheme != "https" || p.Host == "" || p.Fragment != "" || strings.Contains(u, "#") {
			return nil, dcrErr("invalid_redirect_uri", "redirect_uri %q must be an absolute https URI without fragment", u)
		}
		if !slices.Contains(ssa.SoftwareRedirectURIs, u) {
			return nil, dcrErr("invalid_redirect_uri", "redirect_uri %q is not in the software statement's software_redirect_uris", u)
		}
	}
	m.RedirectURIs = slices.Clone(req.RedirectURIs)
	var oe *oauthError
	if m.GrantTypes, oe = checkList("grant_types", req.GrantTypes, []string{"authorization_code"}, []string{"authorization_code", "client_credentials", "refresh_token", "implicit"}); oe != nil {
		return nil, oe
	}
	if m.ResponseTypes, oe = checkList("response_types", req.ResponseTypes, []string{"code id_token"}, []string{"code id_token"}); oe != nil {
		return nil, oe
	}
	if oe := checkAlgorithms(req, m); oe != nil {
		return nil, oe
	}
	if m.Scope, oe = checkRegisteredScope(req.Scope, ssa.SoftwareRoles); oe != nil {
		return nil, oe
	}
	if m.WebhookURIs, oe = checkWebhookURIs(req.WebhookURIs, ssa.SoftwareAPIWebhookURIs); oe != nil {
		return nil, oe
	}
	return m, nil
}

func checkClientAuthMetadata(req *registrationRequest) *oauthError {
	if req.TokenEndpointAuthMethod != "private_key_jwt" {
		return dcrErr("invalid_client_metadata", "token_endpoint_auth_method must be private_key_jwt, got %q", req.TokenEndpointAuthMethod)
	}
	if req.TokenEndpointAuthSigningAlg != "" && req.TokenEndpointAuthSigningAlg != "PS256" {
		return dcrErr("invalid_client_metadata", "token_endpoint_auth_signing_alg must be PS256")
	}
	if req.TLSBoundAccessTokens != nil && !*req.TLSBoundAccessTokens {
		return dcrErr("invalid_client_metadata", "tls_client_certificate_bound_access_tokens must be true")
	}
	if req.SubjectType != "" && req.SubjectType != "public" {
		return dcrErr("invalid_client_metadata", "subject_type must be public")
	}
	return nil
}

func checkAlgorithms(req *registrationRequest, m *clientMetadata) *oauthError {
	for _, c := range []struct{ name, got, want string }{
		{"id_token_signed_response_alg", req.IDTokenSignedResponseAlg, "PS256"},
		{"id_token_encrypted_response_alg", req.IDTokenEncryptedResponseAlg, "RSA-OAEP"},
		{"id_token_encrypted_response_enc", req.IDTokenEncryptedResponseEnc, "A256GCM"},
		{"request_object_signing_alg", req.RequestObjectSigningAlg, "PS256"},
		{"request_object_encryption_alg", req.RequestObjectEncryptionAlg, "RSA-OAEP"},
		{"request_object_encryption_enc", req.RequestObjectEncryptionEnc, "A256GCM"},
	} {
		if c.got != "" && c.got != c.want {
			return dcrErr("invalid_client_metadata", "%s must be %s, got %q", c.name, c.want, c.got)
		}
	}
	m.RequestObjectEncryptionAlg = req.RequestObjectEncryptionAlg
	m.RequestObjectEncryptionEnc = req.RequestObjectEncryptionEnc
	return nil
}

func checkList(name string, got, def, allowed []string) ([]string, *oauthError) {
	if len(got) == 0 {
		return slices.Clone(def), nil
	}
	for _, v := range got {
		if !slices.Contains(allowed, v) {
			return nil, dcrErr("invalid_client_metadata", "%s value %q is not supported (allowed: %s)", name, v, strings.Join(allowed, ", "))
		}
	}
	return slices.Clone(got), nil
}

func checkRegisteredScope(scope string, roles []string) (string, *oauthError) {
	var allowed []string
	for _, r := range roles {
		for _, s := range roleScopes[r] {
			if !slices.Contains(allowed, s) {
				allowed = append(allowed, s)
			}
		}
	}
	if scope == "" {
		return strings.Join(allowed, " "), nil
	}
	for _, s := range strings.Fields(scope) {
		if !slices.Contains(allowed, s) {
			return "", dcrErr("invalid_client_metadata", "scope %q is not allowed by the software roles %v", s, roles)
		}
	}
	return strings.Join(strings.Fields(scope), " "), nil
}

func checkWebhookURIs(got, ssa []string) ([]string, *oauthError) {
	if len(got) == 0 {
		return nil, nil
	}
	for _, u := range got {
		if !webhookURIPattern.MatchString(u) {
			return nil, dcrErr("invalid_webhook_uris", "webhook_uri %q is not an https base URI without trailing slash or query", u)
		}
	}
	a, b := slices.Clone(got), slices.Clone(ssa)
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(slices.Compact(a), slices.Compact(b)) {
		return nil, dcrErr("invalid_webhook_uris", "webhook_uris must equal the software statement's software_api_webhook_uris")
	}
	return slices.Clone(got), nil
}

// checkClientKeys makes sure the JWKS at jwksURI has an RSA signing key and
// an RSA encryption key, the latter needed to encrypt id_tokens.
func (b *Bank) checkClientKeys(jwksURI string) *oauthError {
	set, ok := b.dir.KeysAt(jwksURI)
	if !ok {
		return dcrErr("invalid_client_metadata", "jwks_uri %q cannot be resolved", jwksURI)
	}
	if findKey(set, "", directory.UseSig) == nil {
		return dcrErr("invalid_client_metadata", "jwks_uri has no RSA signing key")
	}
	if findKey(set, "", directory.UseEnc) == nil {
		return dcrErr("invalid_client_metadata", "jwks_uri has no RSA key with use \"enc\" to encrypt id_tokens")
	}
	return nil
}

// findKey returns the first RSA key of set with the given kid (any when "")
// and use (a key without use counts as both), nil if none.
func findKey(set jose.JSONWebKeySet, kid, use string) *jose.JSONWebKey {
	for i := range set.Keys {
		k := &set.Keys[i]
		if kid != "" && k.KeyID != kid {
			continue
		}
		if k.Use != "" && k.Use != use {
			continue
		}
		if _, ok := k.Key.(*rsa.PublicKey); ok {
			return k
		}
	}
	return nil
}

// register stores a new client with fresh credentials.
func (b *Bank) register(m *clientMetadata, orgID string) (*client, *oauthError) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.clients {
		if c.SoftwareID == m.SoftwareID {
			return nil, dcrErr("invalid_client_metadata", "software %s is already registered as client %s; use its registration_client_uri", m.SoftwareID, c.ID)
		}
	}
	c := &client{ID: uuid.NewString(), OrganisationID: orgID, SoftwareID: m.SoftwareID, Metadata: *m, RAT: randomToken()}
	c.Metadata.ClientID = c.ID
	c.Metadata.ClientIDIssuedAt = b.now().Unix()
	c.Metadata.RegistrationClientURI = b.registrationEndpoint() + "/" + c.ID
	b.clients[c.ID] = c
	return c, nil
}

// response returns the metadata with the current registration access token.
func (c *client) response() clientMetadata {
	m := c.Metadata
	m.RegistrationAccessToken = c.RAT
	return m
}

func (b *Bank) client(id string) *client {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.clients[id]
}

// readRegistration decodes a DCR/DCM JSON body.
func readRegistration(r *http.Request) (*registrationRequest, *oauthError) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		return nil, invalidRequest("registration requests must be application/json")
	}
	var req registrationRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	if err := dec.Decode(&req); err != nil {
		return nil, dcrErr("invalid_client_metadata", "body is not a JSON client metadata object: %v", err)
	}
	return &req, nil
}

// handleRegister is POST /register (RFC 7591, FAPI-BR DCR).
func (b *Bank) handleRegister(w http.ResponseWriter, r *http.Request) {
	req, oe := readRegistration(r)
	if oe != nil {
		b.refuseOAuth(w, r, oe)
		return
	}
	m, oe := b.validateRegistration(req, peerCert(r))
	if oe != nil {
		b.refuseOAuth(w, r, oe)
		return
	}
	orgID, _ := certIdentity(peerCert(r))
	c, oe := b.register(m, orgID)
	if oe != nil {
		b.refuseOAuth(w, r, oe)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, c.response())
}

// dcmClient authenticates a DCM call: the client in the path, its current
// registration access token as Bearer, and a certificate of its software.
func (b *Bank) dcmClient(r *http.Request) (*client, *oauthError) {
	id := r.PathValue("clientID")
	tok, ok := bearerToken(r)
	if !ok {
		return nil, oauthErr(http.StatusUnauthorized, "invalid_token", "a Bearer registration access token is required")
	}
	b.mu.Lock()
	c := b.clients[id]
	b.mu.Unlock()
	if c == nil || subtle.ConstantTimeCompare([]byte(tok), []byte(c.RAT)) != 1 {
		return nil, oauthErr(http.StatusUnauthorized, "invalid_token", "the registration access token is not valid for this client")
	}
	orgID, softwareID := certIdentity(peerCert(r))
	if orgID != c.OrganisationID || softwareID != c.SoftwareID {
		return nil, invalidClient("the client certificate does not belong to client %s", c.ID)
	}
	return c, nil
}

// rotateRAT gives c a new registration access token, as the OpenID
// conformance suite does on every DCM call.
func (b *Bank) rotateRAT(c *client) clientMetadata {
	b.mu.Lock()
	defer b.mu.Unlock()
	c.RAT = randomToken()
	return c.response()
}

// handleRegistrationGet is GET /register/{clientID} (RFC 7592).
func (b *Bank) handleRegistrationGet(w http.ResponseWriter, r *http.Request) {
	c, oe := b.dcmClient(r)
	if oe != nil {
		b.refuseOAuth(w, r, oe)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, b.rotateRAT(c))
}

// handleRegistrationPut is PUT /register/{clientID}: a full update that
// re-validates a fresh SSA.
func (b *Bank) handleRegistrationPut(w http.ResponseWriter, r *http.Request) {
	c, oe := b.dcmClient(r)
	if oe != nil {
		b.refuseOAuth(w, r, oe)
		return
	}
	req, oe := readRegistration(r)
	if oe != nil {
		b.refuseOAuth(w, r, oe)
		return
	}
	if req.ClientID != "" && req.ClientID != c.ID {
		b.refuseOAuth(w, r, dcrErr("invalid_client_metadata", "client_id %q in the body is not %s", req.ClientID, c.ID))
		return
	}
	m, oe := b.validateRegistration(req, peerCert(r))
	if oe != nil {
		b.refuseOAuth(w, r, oe)
		return
	}
	if m.SoftwareID != c.SoftwareID {
		b.refuseOAuth(w, r, dcrErr("unapproved_software_statement", "the software statement is for software %s, not %s", m.SoftwareID, c.SoftwareID))
		return
	}
	b.mu.Lock()
	m.ClientID, m.ClientIDIssuedAt, m.RegistrationClientURI = c.ID, c.Metadata.ClientIDIssuedAt, c.Metadata.RegistrationClientURI
	c.Metadata = *m
	b.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, b.rotateRAT(c))
}

// handleRegistrationDelete is DELETE /register/{clientID}: the client and
// every token issued to it are gone.
func (b *Bank) handleRegistrationDelete(w http.ResponseWriter, r *http.Request) {
	c, oe := b.dcmClient(r)
	if oe != nil {
		b.refuseOAuth(w, r, oe)
		return
	}
	b.mu.Lock()
	delete(b.clients, c.ID)
	for k, g := range b.access {
		if g.ClientID == c.ID {
			delete(b.access, k)
		}
	}
	for k, rt := range b.refresh {
		if rt.ClientID == c.ID {
			delete(b.refresh, k)
		}
	}
	b.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}
