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
//     resource APIs: the automatic-payments API (Pix Automático) under
//     AutomaticPaymentsBase, and a payments v4 mock under
//     /open-banking/payments/v4, mirroring the conformance suite's own.
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
// On the automatic-payments API, Bank.InjectFault (or
// ResourceFaults.Calls) makes the next calls of an Operation fail in one of
// the FaultKinds: a 500, 504 or 529 (with or without Retry-After) before
// acting; an answer held until the client times out, or a connection
// dropped, after acting; a signed answer with a bad signature, a wrong aud
// or iss, a stale iat, a replayed jti or an unknown kid. Operations and
// FaultKinds list them for fault matrices.
//
// # Automatic payments (Pix Automático)
//
// The bank implements the eight endpoints of the automatic-payments API
// 2.2.0 under MTLSURL + AutomaticPaymentsBase — POST, GET and PATCH
// /recurring-consents[/{id}], POST and GET /pix/recurring-payments, POST
// /pix/recurring-payments/{originalRecurringPaymentId}/retry, GET and PATCH
// /pix/recurring-payments/{id} — or those of 2.1.0 or 2.0.0
// (Config.APIVersion): no /retry endpoint (a retry is a POST with
// originalRecurringPaymentId and a copy of the original), localInstrument
// MANU for everything, paymentReference "W50-2024", "M09-2024", "Q3-2024",
// "S2-2024" or "Y2024", numeric CNPJs and ISPBs, and scheduled payments of
// a revoked consent rejected with CONSENTIMENTO_REVOGADO instead of
// cancelled. 2.2.0 uses AUTO for recurrences and "R/<cycle start>/P1M".
// Every answer carries x-v and echoes x-fapi-interaction-id; 2xx and 422
// bodies are signed JWTs with links.self and meta.requestDateTime, other
// errors plain JSON ResponseErrors. Every body validates against the
// official schema of the version.
//
// Consent endpoints, the reads, PATCH and the retry take a
// client_credentials token with scope recurring-payments; POST
// /pix/recurring-payments takes the token of the consent's authorization
// (authorization_code or refresh_token with recurring-consent:<id>). The
// reads and the retry also accept the latter, for its own consent. A
// payment of another client is a 400, as the spec asks.
//
// # What the holder validates
//
// Syntax first: a missing member is PARAMETRO_NAO_INFORMADO, a member of
// the wrong JSON type or format PARAMETRO_INVALIDO (with its JSON path).
// Then, per endpoint, the first rule broken gives (consent creation lists
// every broken rule):
//
// POST /recurring-consents: sweeping or vrp → FUNCIONALIDADE_NAO_HABILITADA;
// not exactly one PESSOA_JURIDICA creditor with a CNPJ, fixedAmount with
// maximumVariableAmount or with minimumVariableAmount, minimum above
// maximum, an amount of zero, an expiry not at 23:59:59Z, in the past or
// before referenceStartDate, a firstPayment not in BRL or of zero →
// DETALHE_PAGAMENTO_INVALIDO; referenceStartDate in the past, a
// firstPayment dated in the past, not before referenceStartDate or after
// the expiry → DATA_PAGAMENTO_INVALIDA.
//
// POST /pix/recurring-payments: consent PARTIALLY_ACCEPTED →
// CONSENTIMENTO_PENDENTE_AUTORIZACAO, not AUTHORISED →
// CONSENTIMENTO_INVALIDO; another recurringConsentId, a document other than
// the creditor's → PAGAMENTO_DIVERGENTE_CONSENTIMENTO; authorisationFlow
// other than HYBRID_FLOW, currency other than BRL, a cnpjInitiator that is
// not the ITP's, proxy, transactionIdentification, DICT or INIC, no
// paymentReference, an endToEndId of a non-existent instant or already
// used, originalRecurringPaymentId on 2.2.0 → DETALHE_PAGAMENTO_INVALIDO;
// an amount of zero → VALOR_INVALIDO. The first payment ("zero"): none
// declared or already made (and not failed), not MANU →
// DETALHE_PAGAMENTO_INVALIDO; amount, creditorAccount or date other than
// firstPayment's → PAGAMENTO_DIVERGENTE_CONSENTIMENTO; dated in the past or
// after the expiry → FORA_PRAZO_PERMITIDO; an endToEndId not of now (±12 h,
// immediate) or not of the date at 15:00 UTC (scheduled) →
// DETALHE_PAGAMENTO_INVALIDO. A recurrence: not AUTO (2.2.0) or MANU
// (2.0/2.1), a reference in the other version's form, of another interval
// or naming no cycle start → DETALHE_PAGAMENTO_INVALIDO; a cycle or a date
// before referenceStartDate, a date not after the first payment's, an
// amount other than fixedAmount → PAGAMENTO_DIVERGENTE_CONSENTIMENTO; above
// maximumVariableAmount → LIMITE_VALOR_TRANSACAO_CONSENTIMENTO_EXCEDIDO
// (minimumVariableAmount is not a floor); a date outside [D+2, D+10] in
// Brasília or after the expiry → FORA_PRAZO_PERMITIDO; an endToEndId not of
// the date at 15:00 UTC, or a second non-failed original for the cycle →
// DETALHE_PAGAMENTO_INVALIDO.
//
// POST …/{originalRecurringPaymentId}/retry (and a 2.0/2.1 retry): the
// path names a retry, the recurrence settled or has an attempt pending or
// cancelled, an endToEndId not new or not of the date at 15:00 UTC, no
// morning failure today needing a new endToEndId (intraday), a field other
// than the original's (2.0/2.1) → DETALHE_TENTATIVA_INVALIDO; the first
// payment → NAO_PERMITIDO (DETALHE_TENTATIVA_INVALIDO on 2.0/2.1); consent
// not AUTHORISED → CONSENTIMENTO_INVALIDO; a last rejection that forbids
// retries (TITULARIDADE_INCONSISTENTE, VALOR_INVALIDO, …) →
// PAGAMENTO_RECUSADO_DETENTORA; a second intraday retry the same day,
// isRetryAccepted false, more than MaxExtradayRetries →
// LIMITE_TENTATIVAS_EXCEDIDO; intraday at or after 12:00 Brasília, a date
// that is neither today nor tomorrow, more than RetryWindowDays after the
// original's or after the expiry → FORA_PRAZO_PERMITIDO.
//
// PATCH /recurring-consents/{id}: revoking a consent that is not
// AUTHORISED or rejecting one that is not awaiting authorisation →
// CONSENTIMENTO_NAO_PERMITE_CANCELAMENTO. An edition: a member that cannot
// be edited → CAMPO_NAO_PERMITIDO; riskSignals or loggedUser missing
// (except in a name-only edition) → PARAMETRO_NAO_INFORMADO; only some of
// the native-app signals → FALTAM_SINAIS_OBRIGATORIOS_PLATAFORMA; a logged
// user who is neither the consent's nor its payer → PERMISSAO_INSUFICIENTE;
// a consent not AUTHORISED, more than one creditor, a maximum on a
// fixed-amount consent, of zero or below the minimum, an expiry not at
// 23:59:59Z or not in the future → DETALHE_EDICAO_INVALIDO. An omitted
// expiry or maximum becomes indefinite, updatedAtDateTime moves, and
// payments dated after a shortened expiry are cancelled.
//
// PATCH /pix/recurring-payments/{id}: not SCHD or PDNG, a document that is
// neither the payer's nor the receiver's, the payer cancelling a retry →
// PAGAMENTO_NAO_PERMITE_CANCELAMENTO; the receiver after 22:00 or the payer
// after 23:59 (Brasília) of the day before → CANCELAMENTO_FORA_PERIODO_PERMITIDO.
//
// # Lifecycle, settlement and time
//
// A consent is AWAITING_AUTHORISATION until the payer decides at
// /authorize (Config.OnAuthorize): AUTHORISED, with authorisedAtDateTime
// and a debtorAccount with ibgeTownCode (the payer's choice, the one the
// ITP sent, or Bank.PayerAccount); REJECTED with REJEITADO_USUARIO on a
// denial, or AUTENTICACAO_DIVERGENTE when the payer is not its loggedUser;
// REJECTED with TEMPO_EXPIRADO_AUTORIZACAO after
// RecurringConsentAuthorisationWindow; CONSUMED at its expiry. Payment
// failures never change it.
//
// A payment goes RCVD → ACCP → SCHD (Config.ProcessingDelay apart) and is
// attempted on its date at 00:00 and, after a failure the holder retries
// itself, at 18:00 Brasília; an immediate first payment is attempted as
// soon as it is ACCP. Nothing moves on its own with a ManualClock: Advance,
// AdvanceTo and RunDue apply, in time order, every transition due (each
// stamped with its own time), and every API call first catches up with the
// clock; with another Clock a background loop started by New does it every
// Config.TickInterval, until Close.
//
// Settlement attempts settle unless scripted: ScriptSettlement (per payer)
// and ScriptConsentSettlement queue Outcomes — Settle(), Reject(code),
// optionally .In(Morning) or .In(Evening) — each attempt consuming the
// first one that matches its window.
//
// # Webhooks
//
// Every status change of a consent (STATE_CHANGED) or payment, and every
// edition (DATA_CHANGED), is posted to each webhook_uri of the ITP that
// owns it, at {uri}/open-banking/webhook/v1/automatic-payments/v2/…, over
// mTLS with a certificate of the bank's organisation, with a new
// x-webhook-interaction-id per attempt and x-authorization-server-id;
// deliveries that fail are retried, WebhookAttempts in all. Bank.Webhooks
// logs every attempt; NewWebhookServer starts a receiver the bank trusts.
//
// # Test helpers
//
// Consent, ConsentPayer, Payments and Payment read the bank's own record;
// SetConsentStatus forces a consent's status (with its side effects);
// EditConsentAtHolder is the payer editing limits in the bank's app;
// HoldPayment and ReleasePayment move a payment in and out of PDNG.
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
