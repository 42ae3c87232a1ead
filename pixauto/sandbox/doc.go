// Package sandbox runs an Open Finance Brasil account-holding bank
// (detentora) in-process, the way net/http/httptest runs an HTTP server, so
// that an ITP (payment initiator) can be tested end to end without a
// network, a directory or a real bank.
//
// A Bank is a strict FAPI-BR v2 authorization server — what the OpenID
// conformance suite checks on both the server and the client side — plus
// the directory keystore it trusts and the resource APIs, on two loopback
// TLS ports:
//
//   - PublicURL (TLS, no client certificate): discovery at
//     /.well-known/openid-configuration, the authorization server's
//     jwks_uri at /jwks, the authorization endpoint /authorize, and the
//     directory keystore under /keystore (/{orgId}/application.jwks,
//     /{orgId}/{softwareId}/application.jwks, /openbanking.jwks).
//   - MTLSURL (TLS requiring a client certificate of the sandbox CA): the
//     mtls_endpoint_aliases /token, /par and /register[/{clientId}], and the
//     resource APIs (a payments v4 mock under /open-banking/payments/v4,
//     mirroring the conformance suite's own).
//
// The token, PAR and registration endpoints advertised on the public host
// refuse every call, as a client must use mtls_endpoint_aliases.
//
// # What the bank enforces
//
// Client authentication is private_key_jwt only (PS256, iss = sub =
// client_id, aud = the token endpoint or the issuer, short exp, jti never
// reused) and the client certificate must belong to the client. PAR takes a
// signed (optionally encrypted) request object and checks it as FAPI 1.0
// Advanced and FAPI-BR v2 require: exp/nbf limits, no sub = client_id,
// response_type "code id_token", openid scope, registered redirect_uri,
// state, nonce, PKCE S256 and claims.id_token.acr essential without values.
// Authorization codes are single use and bound to the PAR certificate and
// the PKCE verifier; access tokens are opaque, last 300 s and are bound to
// the client certificate (RFC 8705). id_tokens are signed PS256 and
// encrypted RSA-OAEP/A256GCM to the client's encryption key. DCR and DCM
// check a fresh directory-signed software statement against the client
// certificate. Signed resource requests are verified against the sender's
// organisation keys in the keystore (iss, aud, jti, iat), and responses are
// signed with the bank's.
//
// # Playing the payer
//
// There is no browser: Bank.Authorize GETs the authorization URL the client
// built and returns the redirect Location, whose fragment carries code,
// id_token and state (or error=access_denied). Config.OnAuthorize decides
// per request whether the payer approves, and as whom.
//
// # Time
//
// Every lifetime and freshness check reads Config.Clock. The default is a
// ManualClock frozen at start-up: advance it to expire a token or a code
// instead of sleeping. TLS certificates are checked against real time.
//
// # Faults
//
// Bank.SetFaults makes the bank misbehave on purpose (an id_token with a
// wrong nonce, an RSA1_5 JWE, a discovery issuer mismatch, 401 from a
// resource, …), one switch per client test of the conformance suite, so a
// client can be shown to refuse what it must refuse. Bank.Requests records
// every call, so a test can also check that the client made no further call
// after refusing.
//
// # Identities
//
// Bank.ITP is a payment initiator registered at start-up, with a BRCAC-like
// transport certificate (organizationIdentifier OFBBR-<orgId>, UID
// <softwareId>), a signing key in the keystore and an encryption key in its
// software JWKS. Bank.NewITP creates more (optionally unregistered, to
// exercise DCR with Bank.SoftwareStatement). Bank.Client returns an HTTP
// client for an ITP. All banks of a process share one sandbox CA.
package sandbox
