package sandbox

import (
	"fmt"
	"slices"
	"time"
)

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
	// Calls are per-call faults of the automatic-payments API (see
	// CallFault), tried in order: a call takes the first one whose Op
	// matches, which then counts down. Bank.InjectFault appends one.
	Calls []CallFault
}

// Operation names one endpoint of the automatic-payments API, as CallFault.Op.
type Operation string

// The automatic-payments operations (the spec's operationIds, shortened).
const (
	OpCreateConsent Operation = "POST /recurring-consents"
	OpGetConsent    Operation = "GET /recurring-consents/{recurringConsentId}"
	OpPatchConsent  Operation = "PATCH /recurring-consents/{recurringConsentId}"
	OpCreatePayment Operation = "POST /pix/recurring-payments"
	OpListPayments  Operation = "GET /pix/recurring-payments"
	OpRetryPayment  Operation = "POST /pix/recurring-payments/{originalRecurringPaymentId}/retry"
	OpGetPayment    Operation = "GET /pix/recurring-payments/{recurringPaymentId}"
	OpPatchPayment  Operation = "PATCH /pix/recurring-payments/{recurringPaymentId}"
)

// Operations lists every automatic-payments operation, for fault matrices.
// OpRetryPayment exists only on a 2.2.0 bank.
func Operations() []Operation {
	return []Operation{OpCreateConsent, OpGetConsent, OpPatchConsent, OpCreatePayment, OpListPayments, OpRetryPayment, OpGetPayment, OpPatchPayment}
}

// FaultKind is what goes wrong with a call (CallFault.Kind).
type FaultKind int

// Fault kinds. Whether the bank acted on the call is part of each kind's
// contract, because that is what a client has to reconcile.
const (
	// FaultStatus answers Status (500, 504, 529, …; 0 → 500) with a plain
	// JSON ResponseError and, when RetryAfter is set, a Retry-After header,
	// before doing anything: the call has no effect.
	FaultStatus FaultKind = iota + 1
	// FaultDelay processes the call at once but holds the answer back for
	// Delay of real time, or until the client gives up (its timeout or
	// context) or the bank closes; Delay 0 holds it until the client gives
	// up. A client whose timeout is shorter than Delay therefore times out
	// although the bank acted: it must resend with the same idempotency
	// key, or read the resource, to find out. Tests need not sleep: the
	// client's own timeout ends the call.
	FaultDelay
	// FaultDrop processes the call, then closes the connection without an
	// answer: only the first bytes of a status line are sent, so that the
	// client reports an error instead of replaying the request
	// transparently (the request log shows status 0). The bank acted.
	FaultDrop
	// FaultBadSignature answers as usual but with one bit of the JWS
	// signature flipped. Applies to signed answers (2xx and 422); the bank
	// acted.
	FaultBadSignature
	// FaultWrongAudience signs the answer with an aud other than the
	// ITP's organisation id.
	FaultWrongAudience
	// FaultWrongIssuer signs the answer with an iss other than the bank's
	// organisation id.
	FaultWrongIssuer
	// FaultStaleIat signs the answer with an iat ten minutes in the past,
	// far outside the ±60 s tolerance.
	FaultStaleIat
	// FaultReplayedJTI signs the answer with the jti of the last signed
	// answer the bank sent to the same organisation (a fresh one if there
	// was none: make a normal call first).
	FaultReplayedJTI
	// FaultUnknownKID signs the answer with the bank's key but a kid that
	// is in no JWKS of the directory.
	FaultUnknownKID
)

var faultKindNames = map[FaultKind]string{
	FaultStatus: "Status", FaultDelay: "Delay", FaultDrop: "Drop", FaultBadSignature: "BadSignature",
	FaultWrongAudience: "WrongAudience", FaultWrongIssuer: "WrongIssuer", FaultStaleIat: "StaleIat",
	FaultReplayedJTI: "ReplayedJTI", FaultUnknownKID: "UnknownKID",
}

// String returns the kind's name, e.g. "BadSignature".
func (k FaultKind) String() string {
	if n, ok := faultKindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// FaultKinds lists every fault kind, for fault matrices.
func FaultKinds() []FaultKind {
	return []FaultKind{FaultStatus, FaultDelay, FaultDrop, FaultBadSignature, FaultWrongAudience, FaultWrongIssuer, FaultStaleIat, FaultReplayedJTI, FaultUnknownKID}
}

// CallFault makes the next Times calls of an automatic-payments operation
// misbehave. Faults are taken when a call arrives, before any check, and
// consumed even when the call then ends in an unsigned error (to which a
// signature fault cannot apply).
type CallFault struct {
	// Op is the operation the fault applies to; "" → any.
	Op Operation
	// Kind is what goes wrong.
	Kind FaultKind
	// Status is the HTTP status of FaultStatus; 0 → 500.
	Status int
	// RetryAfter is the Retry-After header of FaultStatus ("" → none), e.g.
	// "2" or an HTTP-date.
	RetryAfter string
	// Delay is how long FaultDelay holds the answer; 0 → until the client
	// gives up.
	Delay time.Duration
	// Times is how many calls the fault applies to; 0 → 1.
	Times int
}

// InjectFault appends f to Faults.Resource.Calls: the next f.Times calls of
// f.Op misbehave as f.Kind says.
func (b *Bank) InjectFault(f CallFault) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f.Times <= 0 {
		f.Times = 1
	}
	b.faults.Resource.Calls = append(b.faults.Resource.Calls, f)
}

// takeCallFault consumes one firing of the first call fault matching op.
func (b *Bank) takeCallFault(op Operation) (CallFault, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	calls := b.faults.Resource.Calls
	for i, f := range calls {
		if f.Op != "" && f.Op != op {
			continue
		}
		if f.Times <= 1 {
			b.faults.Resource.Calls = slices.Delete(slices.Clone(calls), i, i+1)
		} else {
			calls = slices.Clone(calls)
			calls[i].Times--
			b.faults.Resource.Calls = calls
		}
		f.Times = 1
		return f, true
	}
	return CallFault{}, false
}

// SetFaults replaces the faults the bank applies from now on. The zero value
// restores correct behaviour.
func (b *Bank) SetFaults(f Faults) {
	calls := slices.Clone(f.Resource.Calls)
	for i := range calls {
		if calls[i].Times <= 0 {
			calls[i].Times = 1
		}
	}
	f.Resource.Calls = calls
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = f
}

// Faults returns the faults in force, with counters as they stand now.
func (b *Bank) Faults() Faults {
	b.mu.Lock()
	defer b.mu.Unlock()
	f := b.faults
	f.Resource.Calls = slices.Clone(f.Resource.Calls)
	return f
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
