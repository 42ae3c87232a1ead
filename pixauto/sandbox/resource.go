package sandbox

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"

	"github.com/ofb-go/pixauto/pixauto/sandbox/internal/directory"
	"github.com/ofb-go/pixauto/pixauto/sandbox/internal/jws"
)

// This file is the toolkit of the resource APIs served on the mTLS host
// (payments v4 here, automatic-payments later). A further API plugs in by:
//
//   - registering its handlers on b.mtlsMux in Bank.routes (the mTLS host,
//     where TLS has already verified the client certificate);
//   - starting each handler with b.beginCall (FAPI headers + access token:
//     a *grant with client, grant type, scopes, consent, payer and bound
//     certificate) and each write with b.beginWrite (x-idempotency-key,
//     signed body, idempotent replay);
//   - answering with b.writeSigned, b.writeSignedError (422) or b.refuseAPI;
//   - implementing consentAPI and calling b.registerConsentAPI, so that its
//     dynamic consent scope is checked at PAR, decided at /authorize (by
//     Config.OnAuthorize) and checked again at the token endpoint.

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// authenticate introspects the Bearer access token of a resource request:
// it must be known, unexpired and bound to the presented TLS client
// certificate (RFC 8705). ResourceFaults.InvalidToken is applied here, so
// every resource API honours it.
func (b *Bank) authenticate(r *http.Request) (*grant, *apiError) {
	if r.URL.Query().Has("access_token") {
		return nil, apiErr(http.StatusBadRequest, "PARAMETRO_INVALIDO", "Token in query", "access tokens must be sent in the Authorization header")
	}
	tok, ok := bearerToken(r)
	if !ok {
		return nil, apiErr(http.StatusUnauthorized, "NAO_INFORMADO", "Unauthorized", "a Bearer access token is required")
	}
	invalid := func(detail string) *apiError {
		e := apiErr(http.StatusUnauthorized, "UNAUTHORIZED", "Invalid token", "%s", detail)
		e.Bearer = "invalid_token"
		return e
	}
	if b.takeInvalidTokenFault() {
		return nil, invalid("the access token is invalid (injected fault)")
	}
	b.mu.Lock()
	g := b.access[tok]
	b.mu.Unlock()
	switch {
	case g == nil:
		return nil, invalid("the access token is unknown or revoked")
	case !b.now().Before(g.ExpiresAt):
		return nil, invalid("the access token expired")
	case certThumbprint(r) != g.CertThumbprint:
		return nil, invalid("the access token is not bound to the presented client certificate")
	}
	cp := *g
	return &cp, nil
}

// apiCall is the checked front part of a resource request.
type apiCall struct {
	// iid is the x-fapi-interaction-id to echo.
	iid string
	// grant is what the access token stands for.
	grant *grant
	// org is the organisation id of the client certificate.
	org string
}

// beginCall checks the FAPI headers and the access token of a resource
// request. On failure it has answered and returns false.
func (b *Bank) beginCall(w http.ResponseWriter, r *http.Request) (*apiCall, bool) {
	iid, ae := interactionID(r)
	if ae == nil {
		ae = checkCustomerHeaders(r)
	}
	if ae != nil {
		b.refuseAPI(w, r, iid, ae)
		return nil, false
	}
	g, ae := b.authenticate(r)
	if ae != nil {
		b.refuseAPI(w, r, iid, ae)
		return nil, false
	}
	org, _ := certIdentity(peerCert(r))
	return &apiCall{iid: iid, grant: g, org: org}, true
}

// beginWrite checks the x-idempotency-key and the signed body of a write
// and replays a write already done with the same key (the same data get
// the stored response re-signed, other data a 422 with the store's
// conflictCode, ERRO_IDEMPOTENCIA by default). It
// returns the key and the verified body of a new write; on failure or
// replay it has answered and returns false. Store the outcome with
// idemp.store.
func (b *Bank) beginWrite(w http.ResponseWriter, r *http.Request, call *apiCall, idemp *idempotency) (string, *signedRequest, bool) {
	key, ae := idempotencyKey(r)
	if ae != nil {
		b.refuseAPI(w, r, call.iid, ae)
		return "", nil, false
	}
	sr, ae := b.verifySignedRequest(r)
	if ae != nil {
		b.refuseAPI(w, r, call.iid, ae)
		return "", nil, false
	}
	prev, conflict, ae := idemp.lookup(b.now(), r.URL.Path, key, call.org, sr.Data)
	switch {
	case ae != nil:
		b.refuseAPI(w, r, call.iid, ae)
	case conflict:
		code := idemp.conflictCode
		if code == "" {
			code = "ERRO_IDEMPOTENCIA"
		}
		b.writeSignedError(w, r, call.iid, call.org, http.StatusUnprocessableEntity, code, "Idempotency error", "x-idempotency-key was used with different data")
	case prev != nil:
		b.writeSigned(w, r, prev.Status, call.iid, call.org, prev.Render())
	default:
		return key, sr, true
	}
	return "", nil, false
}

// interactionID returns the request's x-fapi-interaction-id. When it is
// missing or not a UUID the request must be refused with 400, echoing the
// returned freshly generated id.
func interactionID(r *http.Request) (string, *apiError) {
	id := r.Header.Get("x-fapi-interaction-id")
	if !uuidPattern.MatchString(id) {
		return uuid.NewString(), apiErr(http.StatusBadRequest, "PARAMETRO_INVALIDO", "Invalid header", "x-fapi-interaction-id is required and must be a UUID")
	}
	return id, nil
}

// checkCustomerHeaders validates the optional FAPI customer headers when
// present, as the OpenID conformance suite does: x-fapi-auth-date must be an
// RFC 7231 HTTP-date (http.TimeFormat, 29 characters, GMT) and
// x-fapi-customer-ip-address an IPv4 or IPv6 address.
func checkCustomerHeaders(r *http.Request) *apiError {
	if d := r.Header.Get("x-fapi-auth-date"); d != "" {
		if _, err := time.Parse(http.TimeFormat, d); err != nil || len(d) != 29 {
			return apiErr(http.StatusBadRequest, "PARAMETRO_INVALIDO", "Invalid header", "x-fapi-auth-date %q is not an HTTP-date such as %q", d, "Sun, 10 Sep 2017 19:43:31 GMT")
		}
	}
	if ip := r.Header.Get("x-fapi-customer-ip-address"); ip != "" {
		if _, err := netip.ParseAddr(ip); err != nil {
			return apiErr(http.StatusBadRequest, "PARAMETRO_INVALIDO", "Invalid header", "x-fapi-customer-ip-address %q is not an IP address", ip)
		}
	}
	return nil
}

// idempotencyKey returns the request's x-idempotency-key (1–40 characters,
// no surrounding whitespace).
func idempotencyKey(r *http.Request) (string, *apiError) {
	k := r.Header.Get("x-idempotency-key")
	if k == "" || len(k) > 40 || strings.TrimSpace(k) != k {
		return "", apiErr(http.StatusBadRequest, "PARAMETRO_INVALIDO", "Invalid header", "x-idempotency-key is required: 1 to 40 characters without surrounding spaces")
	}
	return k, nil
}

// signedRequest is a verified signed request body (FAPI-BR message
// signing).
type signedRequest struct {
	// OrganisationID is the sender's organisation (iss = the certificate's).
	OrganisationID string
	// Data is the "data" claim.
	Data json.RawMessage
}

type signedRequestClaims struct {
	Issuer   string           `json:"iss"`
	Audience jwt.Audience     `json:"aud"`
	ID       string           `json:"jti"`
	IssuedAt *jwt.NumericDate `json:"iat"`
	Data     json.RawMessage  `json:"data"`
}

func badSignature(format string, args ...any) *apiError {
	return apiErr(http.StatusBadRequest, "BAD_SIGNATURE", "Invalid signature", format, args...)
}

func invalidClaims(format string, args ...any) *apiError {
	return apiErr(http.StatusForbidden, "INVALID_CLIENT", "Invalid JWT claims", format, args...)
}

// verifySignedRequest reads and checks a signed request body: Content-Type
// application/jwt, a PS256 JWS whose kid is in the organisation JWKS of the
// client certificate's organisation, iss = that organisation, aud = the URL
// called, jti a UUIDv4 never seen before (24 h), iat within ±60 s, and a
// data claim. Signature problems give 400 BAD_SIGNATURE, claim problems 403
// INVALID_CLIENT.
func (b *Bank) verifySignedRequest(r *http.Request) (*signedRequest, *apiError) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/jwt" {
		return nil, badSignature("the body must be a signed JWT with Content-Type application/jwt")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, badSignature("cannot read the body: %v", err)
	}
	orgID, _ := certIdentity(peerCert(r))
	claims, ae := b.verifyMessageJWS(strings.TrimSpace(string(body)), orgID)
	if ae != nil {
		return nil, ae
	}
	now := b.now()
	// The aud is the URL as the client wrote it: with its path escaped (a
	// client may also have written it unescaped).
	url := b.MTLSURL + r.URL.EscapedPath()
	switch {
	case claims.Issuer != orgID:
		return nil, invalidClaims("iss %q is not the organisation of the client certificate (%s)", claims.Issuer, orgID)
	case !claims.Audience.Contains(url) && !claims.Audience.Contains(b.MTLSURL+r.URL.Path):
		return nil, invalidClaims("aud %v is not the URL called (%s)", []string(claims.Audience), url)
	case claims.IssuedAt == nil:
		return nil, invalidClaims("iat is required")
	case claims.IssuedAt.Time().Before(now.Add(-MessageIatTolerance)), claims.IssuedAt.Time().After(now.Add(MessageIatTolerance)):
		return nil, invalidClaims("iat is more than %s away from the bank's clock", MessageIatTolerance)
	case !isUUIDv4(claims.ID):
		return nil, invalidClaims("jti %q is not a UUID v4", claims.ID)
	case len(claims.Data) == 0 || string(claims.Data) == "null":
		return nil, apiErr(http.StatusBadRequest, "PARAMETRO_NAO_INFORMADO", "Missing data", "the data claim is required")
	}
	if !b.rememberMessageJTI(orgID, claims.ID) {
		return nil, invalidClaims("jti %s has already been used", claims.ID)
	}
	return &signedRequest{OrganisationID: orgID, Data: claims.Data}, nil
}

// verifyMessageJWS checks the signature of a message JWS against the
// directory's organisation JWKS of orgID and returns its claims.
func (b *Bank) verifyMessageJWS(compact, orgID string) (*signedRequestClaims, *apiError) {
	s, err := jws.Parse(compact, jose.PS256)
	if err != nil {
		return nil, badSignature("%v", err)
	}
	set, ok := b.dir.OrgKeys(orgID)
	if !ok {
		return nil, badSignature("organisation %q has no keys in the directory", orgID)
	}
	k := findKey(set, s.KeyID, directory.UseSig)
	if k == nil {
		return nil, badSignature("kid %q is not a signing key of organisation %s in the directory", s.KeyID, orgID)
	}
	payload, err := s.Verify(k.Key.(*rsa.PublicKey))
	if err != nil {
		return nil, badSignature("%v", err)
	}
	var claims signedRequestClaims
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, invalidClaims("claims are malformed: %v", err)
	}
	return &claims, nil
}

func isUUIDv4(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && uuidPattern.MatchString(s) && u.Version() == 4 && u.Variant() == uuid.RFC4122
}

// rememberMessageJTI records a message jti for MessageJTIRetention and
// reports false if the organisation used it before.
func (b *Bank) rememberMessageJTI(orgID, jti string) bool {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	seen := b.messageJTIs[orgID]
	if seen == nil {
		seen = map[string]time.Time{}
		b.messageJTIs[orgID] = seen
	}
	if at, ok := seen[jti]; ok && now.Sub(at) < MessageJTIRetention {
		return false
	}
	for k, at := range seen {
		if now.Sub(at) >= MessageJTIRetention {
			delete(seen, k)
		}
	}
	seen[jti] = now
	return true
}

// signResponse signs a resource response body for the organisation orgID:
// PS256 with the bank's directory key, typ JWT, and iss, aud, jti, iat added
// to body (which is not modified). A signature fault f (nil for none)
// breaks the result as its kind says.
func (b *Bank) signResponse(orgID string, body map[string]any, f *CallFault) (string, error) {
	claims := maps.Clone(body)
	claims["iss"] = b.OrganisationID
	claims["aud"] = orgID
	if b.Faults().Resource.AudAsArray {
		claims["aud"] = []string{orgID}
	}
	jti := uuid.NewString()
	kid := b.keys.sealKID
	now := b.now()
	claims["iat"] = now.Unix()
	kind := FaultKind(0)
	if f != nil {
		kind = f.Kind
	}
	switch kind {
	case FaultWrongAudience:
		claims["aud"] = uuid.NewString()
	case FaultWrongIssuer:
		claims["iss"] = uuid.NewString()
	case FaultStaleIat:
		claims["iat"] = now.Add(-10 * time.Minute).Unix()
	case FaultUnknownKID:
		kid = "unknown-" + uuid.NewString()
	}
	b.mu.Lock()
	if prev, ok := b.lastJTI[orgID]; ok && kind == FaultReplayedJTI {
		jti = prev
	}
	b.lastJTI[orgID] = jti
	b.mu.Unlock()
	claims["jti"] = jti
	signed, err := jws.SignJSON(b.keys.seal, kid, jose.PS256, "JWT", claims)
	if err == nil && kind == FaultBadSignature {
		signed = jws.CorruptSignature(signed)
	}
	return signed, err
}

// writeSigned signs body for orgID and writes it as application/jwt,
// applying the signature fault of the call (see CallFault), if any.
func (b *Bank) writeSigned(w http.ResponseWriter, r *http.Request, status int, iid, orgID string, body map[string]any) {
	signed, err := b.signResponse(orgID, body, callFaultOf(r))
	if err != nil {
		b.log.Error("sandbox: cannot sign response", "error", err)
		b.refuseAPI(w, r, iid, apiErr(http.StatusInternalServerError, "ERRO_INTERNO", "Internal error", "the response could not be signed"))
		return
	}
	w.Header().Set("x-fapi-interaction-id", iid)
	w.Header().Set("Content-Type", "application/jwt")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, signed)
}

// writeSignedError writes a signed error body (used for 422, which the
// payments APIs sign).
func (b *Bank) writeSignedError(w http.ResponseWriter, r *http.Request, iid, orgID string, status int, code, title, detail string) {
	b.log.Info("sandbox: refused", "method", r.Method, "path", r.URL.Path, "status", status, "code", code, "detail", detail)
	b.writeSigned(w, r, status, iid, orgID, map[string]any{
		"errors": []map[string]string{{"code": code, "title": title, "detail": detail}},
		"meta":   b.meta(),
	})
}

func (b *Bank) meta() map[string]any {
	return map[string]any{"totalRecords": 1, "totalPages": 1, "requestDateTime": b.now().UTC().Format(time.RFC3339)}
}

// idempotency remembers, per endpoint and key, the request data and the
// response body of a write for 24 h.
type idempotency struct {
	// conflictCode is the 422 code of a key reused with other data: ""
	// → ERRO_IDEMPOTENCIA. The PATCH endpoints of automatic payments,
	// whose 422 enums lack ERRO_IDEMPOTENCIA, use PARAMETRO_INVALIDO.
	conflictCode string

	mu      sync.Mutex
	entries map[string]*idempotentWrite
}

type idempotentWrite struct {
	OrganisationID string
	DataHash       [32]byte
	Status         int
	// Render returns the response body of a replay: the same resource, in
	// its current state.
	Render func() map[string]any
	At     time.Time
}

// idempotencyRetention is how long an idempotency key is remembered.
const idempotencyRetention = 24 * time.Hour

// lookup returns the write stored for (endpoint, key), nil if none. It
// reports conflict when the key was used with other data (the caller
// answers 422 ERRO_IDEMPOTENCIA) and fails with 403 when another
// organisation used the key.
func (s *idempotency) lookup(now time.Time, endpoint, key, orgID string, data json.RawMessage) (w *idempotentWrite, conflict bool, ae *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[endpoint+"\x00"+key]
	if e == nil || now.Sub(e.At) >= idempotencyRetention {
		return nil, false, nil
	}
	if e.OrganisationID != orgID {
		return nil, false, apiErr(http.StatusForbidden, "INVALID_CLIENT", "Idempotency key in use", "x-idempotency-key was used by another organisation")
	}
	if e.DataHash != canonicalHash(data) {
		return nil, true, nil
	}
	return e, false, nil
}

// store records a write under (endpoint, key); render produces the body a
// replay answers with.
func (s *idempotency) store(now time.Time, endpoint, key, orgID string, data json.RawMessage, status int, render func() map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries == nil {
		s.entries = map[string]*idempotentWrite{}
	}
	for k, e := range s.entries {
		if now.Sub(e.At) >= idempotencyRetention {
			delete(s.entries, k)
		}
	}
	s.entries[endpoint+"\x00"+key] = &idempotentWrite{OrganisationID: orgID, DataHash: canonicalHash(data), Status: status, Render: render, At: now}
}

// canonicalHash hashes JSON independently of whitespace and member order.
func canonicalHash(data json.RawMessage) [32]byte {
	var v any
	if err := json.Unmarshal(data, &v); err == nil {
		if c, err := json.Marshal(v); err == nil {
			data = c
		}
	}
	return sha256.Sum256(data)
}
