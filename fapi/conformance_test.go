package fapi_test

// The 25 Brazil-applicable client checks of the OpenID conformance suite's
// fapi1-advanced-final-client-test-plan (fapi-digest §11), each as its own
// test, driven through the sandbox bank. Like the suite, the resource
// server is a payments v4 mock (consents + pix/payments); the flow is the
// same one automatic-payments uses.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	consentsPath = "/open-banking/payments/v4/consents"
	paymentsPath = "/open-banking/payments/v4/pix/payments"
)

type suite struct {
	bank   *sandbox.Bank
	itp    *sandbox.ITP
	client *fapi.Client
	store  *fapi.MemoryRefreshTokenStore
}

func newSuite(t *testing.T) *suite {
	t.Helper()
	bank := sandbox.NewTest(t, sandbox.Config{})
	s := &suite{bank: bank, itp: bank.ITP, store: &fapi.MemoryRefreshTokenStore{}}
	s.client = newClient(t, bank, bank.ITP)
	return s
}

func newClient(t *testing.T, bank *sandbox.Bank, itp *sandbox.ITP) *fapi.Client {
	t.Helper()
	c, err := fapi.New(bank.FAPIConfig(itp))
	require.NoError(t, err)
	return c
}

// createConsent runs client_credentials and the signed consent POST.
func (s *suite) createConsent(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	resp, err := s.client.Do(ctx, fapi.Call{
		Method: http.MethodPost, URL: s.bank.MTLSURL + consentsPath,
		Data:           map[string]any{"creditor": map[string]any{"name": "Escola X"}, "payment": map[string]any{"type": "PIX", "amount": "100.00", "currency": "BRL"}},
		Token:          s.client.ClientCredentialsSource("payments"),
		IdempotencyKey: fapi.NewIdempotencyKey(nil),
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	var data struct {
		ConsentID string `json:"consentId"`
		Status    string `json:"status"`
	}
	require.NoError(t, json.Unmarshal(resp.Message.Data, &data))
	require.NotEmpty(t, data.ConsentID)
	return data.ConsentID
}

// authorize runs PAR and the front channel, and returns the pending
// authorization with the callback the bank redirected to.
func (s *suite) authorize(t *testing.T, consentID string) (*fapi.Authorization, *fapi.Callback) {
	t.Helper()
	ctx := context.Background()
	a, err := s.client.PushAuthorization(ctx, []string{"openid", "payments", "consent:" + consentID}, nil)
	require.NoError(t, err)
	redirect, err := s.bank.Authorize(ctx, a.URL)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(redirect, s.itp.RedirectURI+"#"), redirect)
	cb, err := fapi.ParseCallback(redirect)
	require.NoError(t, err)
	return a, cb
}

// pay makes the signed payment POST with the consent's token source.
func (s *suite) pay(t *testing.T, ts fapi.TokenSource) *fapi.Response {
	t.Helper()
	resp, err := s.client.Do(context.Background(), fapi.Call{
		Method: http.MethodPost, URL: s.bank.MTLSURL + paymentsPath,
		Data:           map[string]any{"payment": map[string]any{"amount": "100.00", "currency": "BRL"}},
		Token:          ts,
		IdempotencyKey: fapi.NewIdempotencyKey(nil),
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	return resp
}

// fullFlow is the happy path of the suite's client test.
func (s *suite) fullFlow(t *testing.T) *fapi.Grant {
	t.Helper()
	consentID := s.createConsent(t)
	a, cb := s.authorize(t, consentID)
	g, err := s.client.CompleteAuthorization(context.Background(), a, cb)
	require.NoError(t, err)
	require.NoError(t, fapi.SaveGrant(context.Background(), s.store, consentID, g))
	s.pay(t, s.client.ConsentTokenSource(consentID, s.store, g.Token))
	return g
}

// requireNoCallAfter asserts that no token or resource call reached the bank
// after the last authorization-endpoint request: what the suite's negative
// tests wait 5 s to see.
func (s *suite) requireNoCallAfterAuthorize(t *testing.T) {
	t.Helper()
	reqs := s.bank.Requests()
	last := -1
	for i, r := range reqs {
		if strings.HasSuffix(r.Path, "/authorize") {
			last = i
		}
	}
	require.GreaterOrEqual(t, last, 0, "the authorization endpoint was called")
	for _, r := range reqs[last+1:] {
		if r.Server != "mtls" {
			continue // fetching the bank's JWKS to verify the id_token is expected
		}
		t.Errorf("unexpected call after a refused id_token: %s %s (%s)", r.Method, r.Path, r.Server)
	}
}

// 1. fapi1-advanced-final-client-test: the happy path, with every check the
// suite applies to every test (mTLS aliases, PAR without request_uri,
// authorization URL with only client_id and request_uri, signed messages).
func TestConformance01_ClientTestHappyPath(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	g := s.fullFlow(t)
	assert.Equal(t, fapi.ACRLoA2, g.IDToken.ACR)
	assert.NotEmpty(t, g.Token.RefreshToken)

	for _, r := range s.bank.Requests() {
		switch {
		case strings.HasSuffix(r.Path, "/token"), strings.HasSuffix(r.Path, "/par"), strings.HasPrefix(r.Path, "/open-banking/"):
			assert.Equal(t, "mtls", r.Server, "%s must go to the mtls_endpoint_aliases host", r.Path)
			assert.Equal(t, s.itp.OrganisationID, r.ClientCertOrgID, "the registered BRCAC is presented on every mTLS call")
		}
	}
}

func TestAuthorizationURLCarriesOnlyClientIDAndRequestURI(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	a, err := s.client.PushAuthorization(context.Background(), []string{"openid", "payments", "consent:" + s.createConsent(t)}, nil)
	require.NoError(t, err)
	q, err := urlParse(a.URL)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"client_id", "request_uri"}, keys(q))
	assert.Equal(t, []string{s.itp.ClientID}, q["client_id"])
}

// 3. …-client-test-discovery-issuer-mismatch: stop at discovery.
func TestConformance03_DiscoveryIssuerMismatch(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	s.bank.SetFaults(sandbox.Faults{Discovery: sandbox.DiscoveryFaults{IssuerMismatch: true}})
	_, err := s.client.ClientCredentials(context.Background(), "payments")
	require.ErrorIs(t, err, fapi.ErrIssuerMismatch)
	for _, r := range s.bank.Requests() {
		assert.NotEqual(t, "mtls", r.Server, "no call to the bank after a bad discovery document: %s", r.Path)
	}
}

// 4–20: each malformed id_token is refused, naming the failed check, and no
// token, userinfo or resource call follows.
func TestConformance_RefusedIDTokens(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault sandbox.IDTokenFaults
		check string
	}{
		{"04_EncryptedIDTokenUsingRSA15", sandbox.IDTokenFaults{EncryptRSA15: true}, "encryption"},
		{"05_InvalidSHash", sandbox.IDTokenFaults{InvalidSHash: true}, "s_hash"},
		{"06_InvalidCHash", sandbox.IDTokenFaults{InvalidCHash: true}, "c_hash"},
		{"07_InvalidNonce", sandbox.IDTokenFaults{InvalidNonce: true}, "nonce"},
		{"08_InvalidIss", sandbox.IDTokenFaults{InvalidIssuer: true}, "iss"},
		{"09_InvalidAud", sandbox.IDTokenFaults{InvalidAudience: true}, "aud"},
		{"10_InvalidSecondaryAud", sandbox.IDTokenFaults{SecondaryAudience: true}, "aud"},
		{"11_InvalidSignature", sandbox.IDTokenFaults{InvalidSignature: true}, "signature"},
		{"12_InvalidNullAlg", sandbox.IDTokenFaults{AlgNone: true}, "alg"},
		{"13_InvalidAlternateAlg", sandbox.IDTokenFaults{AlgRS256: true}, "alg"},
		{"14_InvalidExpiredExp", sandbox.IDTokenFaults{Expired: true}, "exp"},
		{"15_InvalidMissingExp", sandbox.IDTokenFaults{MissingExp: true}, "exp"},
		{"16_IatIsWeekInPast", sandbox.IDTokenFaults{IatWeekOld: true}, "iat"},
		{"17_InvalidMissingAud", sandbox.IDTokenFaults{MissingAud: true}, "aud"},
		{"18_InvalidMissingIss", sandbox.IDTokenFaults{MissingIss: true}, "iss"},
		{"19_InvalidMissingNonce", sandbox.IDTokenFaults{MissingNonce: true}, "nonce"},
		{"20_InvalidMissingSHash", sandbox.IDTokenFaults{MissingSHash: true}, "s_hash"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSuite(t)
			consentID := s.createConsent(t)
			s.bank.SetFaults(sandbox.Faults{IDToken: tc.fault})
			a, cb := s.authorize(t, consentID)
			g, err := s.client.CompleteAuthorization(context.Background(), a, cb)
			require.Nil(t, g)
			var ie *fapi.IDTokenError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tc.check, ie.Check, "%v", err)
			s.requireNoCallAfterAuthorize(t)
		})
	}
}

// 21. …-client-test-valid-aud-as-array: accept aud ["client_id"].
func TestConformance21_ValidAudAsArray(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	s.bank.SetFaults(sandbox.Faults{IDToken: sandbox.IDTokenFaults{AudAsArray: true}})
	g := s.fullFlow(t)
	assert.Equal(t, fapi.Audience{s.itp.ClientID}, g.IDToken.Audience)
}

// 22. …-client-test-no-scope-in-token-endpoint-response: accept a token
// response without scope and expires_in.
func TestConformance22_NoScopeInTokenEndpointResponse(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	s.bank.SetFaults(sandbox.Faults{Token: sandbox.TokenFaults{OmitScopeAndExpiresIn: true}})
	cc, err := s.client.ClientCredentials(context.Background(), "payments")
	require.NoError(t, err)
	assert.Equal(t, "payments", fapi.Scope(cc), "the requested scope is assumed")
	assert.Equal(t, s.bank.Clock.Now().Add(fapi.DefaultTokenLifetime), cc.Expiry, "a missing expires_in means the shortest FAPI-BR lifetime")
	s.fullFlow(t)
}

// 23. …-client-test-missing-athash: accept an id_token without at_hash.
func TestConformance23_MissingAtHash(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	s.bank.SetFaults(sandbox.Faults{IDToken: sandbox.IDTokenFaults{NoAtHash: true}})
	s.fullFlow(t)
}

// 25. …-client-refresh-token-test: on 401 invalid_token the client uses the
// refresh_token grant, twice, storing the new refresh token the first
// refresh returned and using it for the second.
func TestConformance25_RefreshToken(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	ctx := context.Background()
	consentID := s.createConsent(t)
	a, cb := s.authorize(t, consentID)
	g, err := s.client.CompleteAuthorization(ctx, a, cb)
	require.NoError(t, err)
	require.NoError(t, fapi.SaveGrant(ctx, s.store, consentID, g))
	ts := s.client.ConsentTokenSource(consentID, s.store, g.Token)
	s.bank.SetFaults(sandbox.Faults{Token: sandbox.TokenFaults{RotateRefreshTokens: true}, Resource: sandbox.ResourceFaults{InvalidToken: 3}})

	// First call: 401 → refresh → replay → 401 again: one replay per call.
	_, err = s.client.Do(ctx, fapi.Call{
		Method: http.MethodPost, URL: s.bank.MTLSURL + paymentsPath, Data: map[string]any{},
		Token: ts, IdempotencyKey: fapi.NewIdempotencyKey(nil),
	})
	var ae *fapi.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusUnauthorized, ae.StatusCode)
	rt1, err := s.store.LoadRefreshToken(ctx, consentID)
	require.NoError(t, err)
	assert.NotEqual(t, g.Token.RefreshToken, rt1, "the rotated refresh token was stored")

	// Second call: 401 → refresh with the newest token → replay → 201.
	s.pay(t, ts)
	rt2, err := s.store.LoadRefreshToken(ctx, consentID)
	require.NoError(t, err)
	assert.NotEqual(t, rt1, rt2, "the second refresh used the newest token and stored its successor")

	tokenCalls := 0
	for _, r := range s.bank.Requests() {
		if strings.HasSuffix(r.Path, "/token") {
			tokenCalls++
		}
	}
	assert.Equal(t, 4, tokenCalls, "client_credentials, code exchange and two refreshes")
}

// A refresh refused by the bank is reported, not retried forever.
func TestRefreshFailureIsAnOAuthError(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	ctx := context.Background()
	require.NoError(t, s.store.SaveRefreshToken(ctx, "c1", "not-a-refresh-token"))
	_, err := s.client.ConsentTokenSource("c1", s.store, nil).Token(ctx)
	var oe *fapi.OAuthError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "invalid_grant", oe.Code)
}

// 26. …-client-brazildcr-happypath-test: DCR over mTLS with the directory
// SSA, then the flow, then GET registration_client_uri twice keeping the
// newest registration access token.
func TestConformance26_BrazilDCRHappyPath(t *testing.T) {
	t.Parallel()
	bank := sandbox.NewTest(t, sandbox.Config{})
	itp, err := bank.NewITP(sandbox.ITPConfig{Unregistered: true})
	require.NoError(t, err)
	ctx := context.Background()
	unregistered := newClient(t, bank, itp)
	ssa, err := bank.SoftwareStatement(itp)
	require.NoError(t, err)
	reg, err := unregistered.Register(ctx, fapi.RegistrationRequest{SoftwareStatement: ssa, RedirectURIs: itp.RedirectURIs, JWKSURI: itp.JWKSURI})
	require.NoError(t, err)
	require.NotEmpty(t, reg.ClientID)

	itp.ClientID = reg.ClientID
	s := &suite{bank: bank, itp: itp, client: newClient(t, bank, itp), store: &fapi.MemoryRefreshTokenStore{}}
	s.fullFlow(t)

	r1, err := s.client.ReadRegistration(ctx, reg)
	require.NoError(t, err)
	assert.Equal(t, reg.ClientID, r1.ClientID)
	r2, err := s.client.ReadRegistration(ctx, r1)
	require.NoError(t, err, "the second read uses the access token the first returned")
	assert.Equal(t, reg.ClientID, r2.ClientID)
	_, err = s.client.ReadRegistration(ctx, reg)
	var oe *fapi.OAuthError
	assert.ErrorAs(t, err, &oe, "the original registration access token was rotated away")
}

// 27. …-client-test-payment-consent-response-valid-aud-as-array: accept a
// signed consent response whose aud is a one-element array.
func TestConformance27_ConsentResponseAudAsArray(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	s.bank.SetFaults(sandbox.Faults{Resource: sandbox.ResourceFaults{AudAsArray: true}})
	s.fullFlow(t)
}

// A payer who refuses at the bank comes back as an OAuthError, with no
// token call.
func TestAuthorizationDeniedByPayer(t *testing.T) {
	t.Parallel()
	bank := sandbox.NewTest(t, sandbox.Config{OnAuthorize: func(context.Context, sandbox.AuthorizationRequest) sandbox.AuthorizationDecision {
		return sandbox.AuthorizationDecision{Deny: true, Description: "payer said no"}
	}})
	s := &suite{bank: bank, itp: bank.ITP, client: newClient(t, bank, bank.ITP), store: &fapi.MemoryRefreshTokenStore{}}
	a, cb := s.authorize(t, s.createConsent(t))
	_, err := s.client.CompleteAuthorization(context.Background(), a, cb)
	var oe *fapi.OAuthError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "access_denied", oe.Code)
	s.requireNoCallAfterAuthorize(t)
}

// A callback whose state is not ours is refused before anything else.
func TestCallbackStateMismatch(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	a, cb := s.authorize(t, s.createConsent(t))
	cb.State = "forged"
	_, err := s.client.CompleteAuthorization(context.Background(), a, cb)
	require.ErrorIs(t, err, fapi.ErrStateMismatch)
	s.requireNoCallAfterAuthorize(t)
}

// Tokens are bound to the transport certificate: another ITP's certificate
// cannot use them.
func TestAccessTokenIsCertificateBound(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	tok, err := s.client.ClientCredentials(context.Background(), "payments")
	require.NoError(t, err)
	other, err := s.bank.NewITP(sandbox.ITPConfig{})
	require.NoError(t, err)
	thief := newClient(t, s.bank, other)
	_, err = thief.Do(context.Background(), fapi.Call{
		Method: http.MethodPost, URL: s.bank.MTLSURL + consentsPath, Data: map[string]any{},
		Token: fapi.StaticTokenSource(tok), IdempotencyKey: "k1",
	})
	var ae *fapi.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusUnauthorized, ae.StatusCode)
}

func TestClockSkewedTokenExpiry(t *testing.T) {
	t.Parallel()
	s := newSuite(t)
	ts := s.client.ClientCredentialsSource("payments")
	t1, err := ts.Token(context.Background())
	require.NoError(t, err)
	t2, err := ts.Token(context.Background())
	require.NoError(t, err)
	assert.Same(t, t1, t2, "a valid token is reused")
	clock, ok := s.bank.Clock.(*sandbox.ManualClock)
	require.True(t, ok)
	clock.Advance(t1.Expiry.Sub(clock.Now()) - 5*time.Second)
	t3, err := ts.Token(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, t1.AccessToken, t3.AccessToken, "a token within 10 s of expiry is renewed")
}

func urlParse(s string) (map[string][]string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	return u.Query(), nil
}

func keys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
