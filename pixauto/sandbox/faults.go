package sandbox

// Faults makes the bank misbehave on purpose, so that a client can be shown
// to refuse what it must refuse (and to accept the odd-but-valid responses it
// must accept). Each field maps to a client test of the OpenID conformance
// suite's fapi1-advanced-final-client-test-plan (Brazil variant); the test
// name is given in brackets.
//
// Set faults with Bank.SetFaults. A fault stays in force until SetFaults is
// called again, except counters (such as ResourceFaults.InvalidToken) that
// count down as they fire. The zero Faults is a correct bank.
//
// Faults are grouped by where they act, and each group is a struct so that
// new kinds (5xx, delays, dropped connections, bad response signatures,
// stale iat, replayed jti, unknown kid…) can be added to it without breaking
// callers.
type Faults struct {
	// Discovery acts on the discovery document.
	Discovery DiscoveryFaults
	// IDToken acts on the id_tokens of the authorization and token
	// endpoints.
	IDToken IDTokenFaults
	// Token acts on token endpoint responses.
	Token TokenFaults
	// Resource acts on the resource APIs.
	Resource ResourceFaults
}

// DiscoveryFaults act on /.well-known/openid-configuration.
type DiscoveryFaults struct {
	// IssuerMismatch makes "issuer" differ from the URL the document was
	// fetched from (PublicURL + "/issuer-mismatch"); the client must stop.
	// [discovery-issuer-mismatch]
	IssuerMismatch bool
}

// IDTokenFaults act on every id_token the bank issues: the one in the
// authorization response fragment and the one from the token endpoint.
// Faults on c_hash and s_hash only concern the fragment id_token, and
// NoAtHash only the token-endpoint one, since only those carry the claim.
// All but AudAsArray and NoAtHash must make the client refuse the id_token
// and make no further call for the authorization.
type IDTokenFaults struct {
	// EncryptRSA15 encrypts with RSA1_5 instead of RSA-OAEP.
	// [encrypted-idtoken-usingrsa15]
	EncryptRSA15 bool
	// InvalidSHash sets s_hash to a wrong value. [invalid-shash]
	InvalidSHash bool
	// InvalidCHash sets c_hash to a wrong value. [invalid-chash]
	InvalidCHash bool
	// InvalidNonce sets nonce to a value other than the one requested.
	// [invalid-nonce]
	InvalidNonce bool
	// InvalidIssuer sets iss to Issuer + "/invalid". [invalid-iss]
	InvalidIssuer bool
	// InvalidAudience sets aud to a value other than the client id.
	// [invalid-aud]
	InvalidAudience bool
	// SecondaryAudience sets aud to [client_id, client_id + "1"], an extra
	// untrusted audience. [invalid-secondary-aud]
	SecondaryAudience bool
	// InvalidSignature flips a bit of the PS256 signature.
	// [invalid-signature]
	InvalidSignature bool
	// AlgNone issues an unsigned token, "alg": "none". [invalid-null-alg]
	AlgNone bool
	// AlgRS256 signs with RS256 instead of PS256 (same key).
	// [invalid-alternate-alg]
	AlgRS256 bool
	// Expired sets exp to six minutes ago (iat unchanged).
	// [invalid-expired-exp]
	Expired bool
	// MissingExp omits exp. [invalid-missing-exp]
	MissingExp bool
	// IatWeekOld sets iat to seven days ago (exp unchanged).
	// [iat-is-week-in-past]
	IatWeekOld bool
	// MissingAud omits aud. [invalid-missing-aud]
	MissingAud bool
	// MissingIss omits iss. [invalid-missing-iss]
	MissingIss bool
	// MissingNonce omits nonce. [invalid-missing-nonce]
	MissingNonce bool
	// MissingSHash omits s_hash. [invalid-missing-shash]
	MissingSHash bool
	// AudAsArray writes aud as the one-element array [client_id]. Valid:
	// the client must accept it. [valid-aud-as-array]
	AudAsArray bool
	// NoAtHash omits at_hash from the token-endpoint id_token. Valid.
	// [missing-athash]
	NoAtHash bool
}

// TokenFaults act on token endpoint responses.
type TokenFaults struct {
	// OmitScopeAndExpiresIn leaves "scope" and "expires_in" out of every
	// successful token response. Valid: the client must assume the requested
	// scope and a default lifetime. [no-scope-in-token-endpoint-response]
	OmitScopeAndExpiresIn bool
	// RotateRefreshTokens returns a new refresh_token on every refresh grant
	// and revokes the one presented, as the conformance suite does (FAPI-BR
	// forbids rotation; a robust client keeps whichever it was given last).
	// [client-refresh-token-test]
	RotateRefreshTokens bool
}

// ResourceFaults act on the resource APIs served on the mTLS host.
type ResourceFaults struct {
	// InvalidToken makes the next InvalidToken calls that present an access
	// token answer 401 with WWW-Authenticate: Bearer error="invalid_token",
	// whatever the token; it counts down by one per call. The client is
	// expected to refresh and retry. [client-refresh-token-test]
	InvalidToken int
	// AudAsArray writes the aud of signed resource responses as a
	// one-element array. Valid. [payment-consent-response-valid-aud-as-array]
	AudAsArray bool
}

// SetFaults replaces the faults the bank applies from now on. The zero value
// restores correct behaviour.
func (b *Bank) SetFaults(f Faults) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = f
}

// Faults returns the faults in force, with counters as they stand now.
func (b *Bank) Faults() Faults {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.faults
}

// takeInvalidTokenFault consumes one ResourceFaults.InvalidToken firing.
func (b *Bank) takeInvalidTokenFault() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.faults.Resource.InvalidToken <= 0 {
		return false
	}
	b.faults.Resource.InvalidToken--
	return true
}
