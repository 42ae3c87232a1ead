package sandbox

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/ofb-go/pixauto/pixauto/sandbox/internal/directory"
	"github.com/ofb-go/pixauto/pixauto/sandbox/internal/jws"
)

const jwtBearerAssertion = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// readForm parses an application/x-www-form-urlencoded POST body, refusing
// parameters in the query string and repeated parameters (RFC 6749 §3.2).
func readForm(r *http.Request) (url.Values, *oauthError) {
	if r.URL.RawQuery != "" {
		return nil, invalidRequest("parameters must be sent in the form body, not the query string")
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		return nil, invalidRequest("Content-Type must be application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, invalidRequest("cannot read body: %v", err)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, invalidRequest("malformed form body: %v", err)
	}
	for k, v := range form {
		if len(v) > 1 {
			return nil, invalidRequest("parameter %q is repeated", k)
		}
	}
	return form, nil
}

// authenticateClient performs private_key_jwt client authentication (RFC
// 7523, FAPI-BR §5.1-1) for a form request whose assertion must name one of
// auds, and checks that the TLS client certificate belongs to the client.
func (b *Bank) authenticateClient(r *http.Request, form url.Values, auds []string) (*client, *oauthError) {
	if r.Header.Get("Authorization") != "" {
		return nil, invalidClient("only private_key_jwt client authentication is accepted; the Authorization header is not")
	}
	if form.Has("client_secret") {
		return nil, invalidClient("client_secret is not accepted; use private_key_jwt")
	}
	if form.Get("client_assertion_type") != jwtBearerAssertion {
		return nil, invalidClient("client_assertion_type must be %s", jwtBearerAssertion)
	}
	raw := form.Get("client_assertion")
	if raw == "" {
		return nil, invalidClient("client_assertion is required")
	}
	s, err := jws.Parse(raw, jose.PS256)
	if err != nil {
		return nil, invalidClient("client_assertion: %v", err)
	}
	var unverified jwt.Claims
	if err := json.Unmarshal(s.UnsafePayload(), &unverified); err != nil {
		return nil, invalidClient("client_assertion claims are malformed: %v", err)
	}
	c := b.client(unverified.Issuer)
	if c == nil {
		return nil, invalidClient("client_assertion iss %q is not a registered client", unverified.Issuer)
	}
	if id := form.Get("client_id"); id != "" && id != c.ID {
		return nil, invalidClient("client_id %q differs from the assertion issuer", id)
	}
	if oe := checkClientCert(r, c); oe != nil {
		return nil, oe
	}
	key, oe := b.clientKey(c, s.KeyID)
	if oe != nil {
		return nil, oe
	}
	payload, err := s.Verify(key)
	if err != nil {
		return nil, invalidClient("client_assertion: %v", err)
	}
	var claims jwt.Claims
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, invalidClient("client_assertion claims are malformed: %v", err)
	}
	if oe := b.checkAssertionClaims(c, &claims, auds); oe != nil {
		return nil, oe
	}
	return c, nil
}

// checkClientCert makes sure the TLS client certificate is one of the
// client's software statement.
func checkClientCert(r *http.Request, c *client) *oauthError {
	cert := peerCert(r)
	if cert == nil {
		return invalidClient("a TLS client certificate is required")
	}
	orgID, softwareID := certIdentity(cert)
	if orgID != c.OrganisationID || softwareID != c.SoftwareID {
		return invalidClient("the TLS client certificate (organisation %q, UID %q) does not belong to client %s", orgID, softwareID, c.ID)
	}
	return nil
}

// clientKey returns the client's signing key kid from its registered
// jwks_uri.
func (b *Bank) clientKey(c *client, kid string) (*rsa.PublicKey, *oauthError) {
	set, ok := b.dir.KeysAt(c.Metadata.JWKSURI)
	if !ok {
		return nil, invalidClient("the client's jwks_uri cannot be resolved")
	}
	k := findKey(set, kid, directory.UseSig)
	if k == nil {
		return nil, invalidClient("kid %q is not a signing key in the client's jwks_uri", kid)
	}
	return k.Key.(*rsa.PublicKey), nil
}

func (b *Bank) checkAssertionClaims(c *client, claims *jwt.Claims, auds []string) *oauthError {
	now := b.now()
	switch {
	case claims.Issuer != c.ID || claims.Subject != c.ID:
		return invalidClient("client_assertion iss and sub must both be the client id")
	case !slices.ContainsFunc(auds, claims.Audience.Contains):
		return invalidClient("client_assertion aud %v names none of %v", []string(claims.Audience), auds)
	case claims.Expiry == nil:
		return invalidClient("client_assertion has no exp")
	case claims.Expiry.Time().Before(now.Add(-Leeway)):
		return invalidClient("client_assertion expired at %s", claims.Expiry.Time().UTC().Format(time.RFC3339))
	case claims.Expiry.Time().After(now.Add(MaxAssertionLifetime)):
		return invalidClient("client_assertion exp is more than %s ahead", MaxAssertionLifetime)
	case claims.IssuedAt == nil:
		return invalidClient("client_assertion has no iat")
	case claims.IssuedAt.Time().After(now.Add(Leeway)):
		return invalidClient("client_assertion iat is in the future")
	case claims.NotBefore != nil && claims.NotBefore.Time().After(now.Add(Leeway)):
		return invalidClient("client_assertion nbf is in the future")
	case claims.ID == "":
		return invalidClient("client_assertion has no jti")
	}
	if err := b.rememberAssertionJTI(c.ID, claims.ID, claims.Expiry.Time()); err != nil {
		return invalidClient("%v", err)
	}
	return nil
}

var errJTIReused = errors.New("client_assertion jti has already been used")

// rememberAssertionJTI records an accepted assertion's jti until it expires
// and fails if the client used it before.
func (b *Bank) rememberAssertionJTI(clientID, jti string, exp time.Time) error {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	seen := b.assertionJTIs[clientID]
	if seen == nil {
		seen = map[string]time.Time{}
		b.assertionJTIs[clientID] = seen
	}
	if _, ok := seen[jti]; ok {
		return errJTIReused
	}
	for k, until := range seen {
		if until.Add(Leeway).Before(now) {
			delete(seen, k)
		}
	}
	seen[jti] = exp
	return nil
}
