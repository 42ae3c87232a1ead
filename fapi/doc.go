// Package fapi is the Open Finance Brasil FAPI-BR v2 security client an
// ITP (iniciadora) needs to call a bank: mutual TLS with the BRCAC transport
// certificate, discovery with the issuer check and mtls_endpoint_aliases,
// private_key_jwt client authentication, pushed authorization requests with
// a signed request object and PKCE, the hybrid "code id_token" callback with
// an encrypted id_token checked claim by claim, client_credentials,
// authorization_code and refresh_token grants, JWS-signed request and
// response bodies (application/jwt, PS256, keys from the directory
// keystore), the FAPI headers and idempotency keys.
//
// It knows nothing of Pix: the consent and payments packages build the
// automatic-payments API on Client.Do.
//
// # Flow
//
//	c, _ := fapi.New(fapi.Config{Issuer: …, ClientID: …, Certificate: brcac, SigningKey: …, DecryptionKeys: …, RedirectURI: …, BankOrganisationID: …, KeystoreURL: …})
//	cc := c.ClientCredentialsSource(fapi.ScopeRecurringPayments) // consents, reads, PATCH
//	auth, _ := c.PushAuthorization(ctx, fapi.RecurringConsentScopes(consentID), nil)
//	// store auth by auth.State; send the payer to auth.URL; the bank redirects back with a fragment
//	cb, _ := fapi.ParseCallback(fragment)
//	grant, _ := c.CompleteAuthorization(ctx, auth, cb) // no token call unless the id_token passes every check
//	_ = fapi.SaveGrant(ctx, store, consentID, grant)
//	payer := c.ConsentTokenSource(consentID, store, grant.Token) // POST /pix/recurring-payments, refreshed as needed
//	resp, err := c.Do(ctx, fapi.Call{Method: "POST", URL: u, Data: data, Token: payer, IdempotencyKey: key})
//
// # Errors
//
// Authorization-server errors are *OAuthError, resource errors *APIError
// (with every {code, title, detail} and whether the body was signed),
// id_token failures *IDTokenError naming the failed check, response
// signature failures *SignatureError, configuration mistakes *ConfigError.
// Nothing here panics on input from the network.
//
// # Time and randomness
//
// Config.Clock and Config.Rand are injected; nothing reads time.Now in
// validation logic. Leeway defaults to 60 s.
package fapi
