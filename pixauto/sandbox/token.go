package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// grant is what an access token stands for. Resource handlers get it from
// authenticate.
type grant struct {
	// ClientID is the client the token was issued to.
	ClientID string
	// GrantType is the grant that produced the token: "client_credentials",
	// "authorization_code" or "refresh_token".
	GrantType string
	// Scopes are the token's scopes.
	Scopes []string
	// Consent is the consent the token is linked to (nil for
	// client_credentials).
	Consent *consentScope
	// Subject is the payer who authorised (authorization code and refresh).
	Subject string
	// CertThumbprint is the x5t#S256 of the certificate the token is bound
	// to (RFC 8705).
	CertThumbprint string
	// ExpiresAt is the token's expiry.
	ExpiresAt time.Time
	// AuthorizationID links every token issued from one authorization code.
	AuthorizationID string
}

func (g *grant) hasScope(s string) bool { return slices.Contains(g.Scopes, s) }

// refreshRecord is an issued refresh token. It has no expiry (FAPI-BR
// §5.1-22); it dies with its consent, its client or a code replay.
type refreshRecord struct {
	ClientID        string
	Scopes          []string
	Consent         *consentScope
	Subject         string
	AuthorizationID string
}

// tokenResponse is a successful RFC 6749 §5.1 response.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in,omitempty"`
	Scope        string `json:"scope,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

var codeVerifierPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// handleToken is POST /token on the mTLS host.
func (b *Bank) handleToken(w http.ResponseWriter, r *http.Request) {
	form, oe := readForm(r)
	if oe != nil {
		b.refuseOAuth(w, r, oe)
		return
	}
	c, oe := b.authenticateClient(r, form, []string{b.tokenEndpoint(), b.Issuer})
	if oe != nil {
		b.refuseOAuth(w, r, oe)
		return
	}
	gt := form.Get("grant_type")
	if gt == "" {
		b.refuseOAuth(w, r, invalidRequest("grant_type is required"))
		return
	}
	if !c.hasGrantType(gt) && slices.Contains([]string{"client_credentials", "authorization_code", "refresh_token"}, gt) {
		b.refuseOAuth(w, r, oauthErr(http.StatusBadRequest, "unauthorized_client", "grant_type %s is not registered for the client", gt))
		return
	}
	var resp *tokenResponse
	switch gt {
	case "client_credentials":
		resp, oe = b.clientCredentials(r, c, form)
	case "authorization_code":
		resp, oe = b.authorizationCode(r, c, form)
	case "refresh_token":
		resp, oe = b.refreshToken(r, c, form)
	default:
		oe = oauthErr(http.StatusBadRequest, "unsupported_grant_type", "grant_type %q is not supported", gt)
	}
	if oe != nil {
		b.refuseOAuth(w, r, oe)
		return
	}
	if b.Faults().Token.OmitScopeAndExpiresIn {
		resp.Scope, resp.ExpiresIn = "", 0
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

func (b *Bank) clientCredentials(r *http.Request, c *client, form url.Values) (*tokenResponse, *oauthError) {
	scopes := strings.Fields(form.Get("scope"))
	if len(scopes) == 0 {
		return nil, invalidScope("scope is required")
	}
	for _, s := range scopes {
		switch {
		case s == "openid":
			return nil, invalidScope("openid is not a client_credentials scope")
		case strings.Contains(s, ":"):
			return nil, invalidScope("consent scope %q needs the authorization code flow", s)
		case !c.hasScope(s):
			return nil, invalidScope("scope %q is not registered for the client", s)
		}
	}
	at := b.issueAccessToken(&grant{ClientID: c.ID, GrantType: "client_credentials", Scopes: scopes, CertThumbprint: certThumbprint(r)})
	return b.bearer(at, scopes), nil
}

func (b *Bank) authorizationCode(r *http.Request, c *client, form url.Values) (*tokenResponse, *oauthError) {
	code := form.Get("code")
	if code == "" {
		return nil, invalidRequest("code is required")
	}
	rec, oe := b.redeemCode(c, code)
	if oe != nil {
		return nil, oe
	}
	ar := rec.Request
	switch {
	case form.Get("redirect_uri") != ar.RedirectURI:
		return nil, invalidGrant("redirect_uri does not match the authorization request")
	case !codeVerifierPattern.MatchString(form.Get("code_verifier")):
		return nil, invalidGrant("code_verifier is missing or not 43–128 unreserved characters")
	case !pkceMatches(form.Get("code_verifier"), ar.CodeChallenge):
		return nil, invalidGrant("code_verifier does not match the code_challenge")
	case certThumbprint(r) != rec.CertThumbprint:
		return nil, invalidGrant("the TLS client certificate is not the one used for the pushed authorization request")
	}
	if ar.Consent != nil {
		if _, info, ok := b.findConsent(*ar.Consent); !ok || !info.Active {
			return nil, invalidGrant("consent %s is not authorised", ar.Consent.ID)
		}
	}
	g := &grant{
		ClientID: c.ID, GrantType: "authorization_code", Scopes: ar.Scopes, Consent: ar.Consent,
		Subject: rec.Subject, CertThumbprint: certThumbprint(r), AuthorizationID: rec.AuthorizationID,
	}
	at := b.issueAccessToken(g)
	resp := b.bearer(at, ar.Scopes)
	resp.RefreshToken = b.issueRefreshToken(&refreshRecord{ClientID: c.ID, Scopes: ar.Scopes, Consent: ar.Consent, Subject: rec.Subject, AuthorizationID: rec.AuthorizationID})
	idt, err := b.issueIDToken(idTokenParams{Client: c, Subject: rec.Subject, Nonce: ar.Nonce, ACR: rec.ACR, AuthTime: rec.AuthTime, AccessToken: at})
	if err != nil {
		b.log.Error("sandbox: cannot issue id_token", "error", err)
		return nil, oauthErr(http.StatusInternalServerError, "server_error", "the id_token could not be issued")
	}
	resp.IDToken = idt
	return resp, nil
}

// redeemCode consumes an authorization code. A code presented twice is
// refused and every token issued from it is revoked (RFC 6749 §4.1.2).
func (b *Bank) redeemCode(c *client, code string) (*codeRecord, *oauthError) {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	rec := b.codes[code]
	switch {
	case rec == nil:
		return nil, invalidGrant("authorization code is unknown")
	case rec.Request.ClientID != c.ID:
		return nil, invalidGrant("authorization code was issued to another client")
	case rec.Used:
		b.revokeAuthorizationLocked(rec.AuthorizationID)
		return nil, invalidGrant("authorization code has already been used; tokens issued from it are revoked")
	}
	rec.Used = true
	if now.After(rec.ExpiresAt) {
		return nil, invalidGrant("authorization code expired")
	}
	return rec, nil
}

func (b *Bank) revokeAuthorizationLocked(authID string) {
	for k, g := range b.access {
		if g.AuthorizationID == authID {
			delete(b.access, k)
		}
	}
	for k, rt := range b.refresh {
		if rt.AuthorizationID == authID {
			delete(b.refresh, k)
		}
	}
}

func pkceMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

func (b *Bank) refreshToken(r *http.Request, c *client, form url.Values) (*tokenResponse, *oauthError) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, invalidRequest("refresh_token is required")
	}
	b.mu.Lock()
	rec := b.refresh[rt]
	b.mu.Unlock()
	if rec == nil || rec.ClientID != c.ID {
		return nil, invalidGrant("refresh_token is unknown, revoked or issued to another client")
	}
	scopes := rec.Scopes
	if s := form.Get("scope"); s != "" {
		scopes = strings.Fields(s)
		for _, v := range scopes {
			if !slices.Contains(rec.Scopes, v) {
				return nil, invalidScope("scope %q was not granted to this refresh token", v)
			}
		}
	}
	if rec.Consent != nil {
		if _, info, ok := b.findConsent(*rec.Consent); !ok || !info.Active {
			return nil, invalidGrant("consent %s is no longer active", rec.Consent.ID)
		}
	}
	at := b.issueAccessToken(&grant{
		ClientID: c.ID, GrantType: "refresh_token", Scopes: scopes, Consent: rec.Consent,
		Subject: rec.Subject, CertThumbprint: certThumbprint(r), AuthorizationID: rec.AuthorizationID,
	})
	resp := b.bearer(at, scopes)
	if b.Faults().Token.RotateRefreshTokens {
		b.mu.Lock()
		delete(b.refresh, rt)
		b.mu.Unlock()
		next := *rec
		resp.RefreshToken = b.issueRefreshToken(&next)
	}
	return resp, nil
}

func (b *Bank) issueAccessToken(g *grant) string {
	tok := randomToken()
	now := b.now()
	g.ExpiresAt = now.Add(b.cfg.AccessTokenLifetime)
	g.Scopes = slices.Clone(g.Scopes)
	b.mu.Lock()
	b.sweepLocked(now)
	b.access[tok] = g
	b.mu.Unlock()
	return tok
}

// sweepLimit is the size above which expired entries are dropped.
const sweepLimit = 1024

// sweepLocked drops expired access tokens, request_uris and codes once their
// tables grow past sweepLimit, so a long-running sandbox stays small.
func (b *Bank) sweepLocked(now time.Time) {
	if len(b.access) > sweepLimit {
		for k, g := range b.access {
			if now.After(g.ExpiresAt) {
				delete(b.access, k)
			}
		}
	}
	if len(b.pars) > sweepLimit {
		for k, p := range b.pars {
			if now.After(p.ExpiresAt) {
				delete(b.pars, k)
			}
		}
	}
	if len(b.codes) > sweepLimit {
		for k, c := range b.codes {
			if now.After(c.ExpiresAt) && !c.Used {
				delete(b.codes, k)
			}
		}
	}
}

func (b *Bank) issueRefreshToken(rec *refreshRecord) string {
	tok := randomToken()
	rec.Scopes = slices.Clone(rec.Scopes)
	b.mu.Lock()
	b.refresh[tok] = rec
	b.mu.Unlock()
	return tok
}

func (b *Bank) bearer(at string, scopes []string) *tokenResponse {
	return &tokenResponse{
		AccessToken: at,
		TokenType:   "Bearer",
		ExpiresIn:   int(b.cfg.AccessTokenLifetime / time.Second),
		Scope:       strings.Join(scopes, " "),
	}
}
