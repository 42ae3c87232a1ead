package sandbox_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// shared is a bank for the tests that neither move its clock nor set
// faults; they may run in parallel. decisions lets a test script the payer's
// answer for its own authorization request, keyed by state.
var (
	shared    *sandbox.Bank
	decisions sync.Map // state → sandbox.AuthorizationDecision
)

func TestMain(m *testing.M) {
	b, err := sandbox.New(sandbox.Config{OnAuthorize: func(_ context.Context, req sandbox.AuthorizationRequest) sandbox.AuthorizationDecision {
		if d, ok := decisions.Load(req.State); ok {
			return d.(sandbox.AuthorizationDecision)
		}
		return sandbox.AuthorizationDecision{}
	}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared = b
	code := m.Run()
	b.Close()
	os.Exit(code)
}

// tclient is a small hand-rolled FAPI-BR client, enough to drive the bank
// without the fapi package.
type tclient struct {
	t   testing.TB
	b   *sandbox.Bank
	itp *sandbox.ITP
	hc  *http.Client
}

func newClient(t testing.TB, b *sandbox.Bank, itp *sandbox.ITP) *tclient {
	hc := b.Client(itp)
	t.Cleanup(hc.CloseIdleConnections)
	return &tclient{t: t, b: b, itp: itp, hc: hc}
}

// withCert returns a copy of c presenting cert instead of the ITP's.
func (c *tclient) withCert(cert tls.Certificate) *tclient {
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: c.b.RootCAs, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
	}}}
	c.t.Cleanup(hc.CloseIdleConnections)
	return &tclient{t: c.t, b: c.b, itp: c.itp, hc: hc}
}

func (c *tclient) now() time.Time { return c.b.Clock.Now() }

func sign(t testing.TB, key *rsa.PrivateKey, kid string, alg jose.SignatureAlgorithm, typ string, claims any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// signPS256 signs claims with the ITP's signing key.
func (c *tclient) signPS256(claims any) string {
	return sign(c.t, c.itp.SigningKey, c.itp.SigningKeyID, jose.PS256, "", claims)
}

func (c *tclient) assertionClaims(aud string) map[string]any {
	now := c.now()
	return map[string]any{
		"iss": c.itp.ClientID, "sub": c.itp.ClientID, "aud": aud, "jti": uuid.NewString(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}
}

// authForm returns private_key_jwt parameters; mutate edits the assertion
// claims before signing.
func (c *tclient) authForm(aud string, mutate func(map[string]any)) url.Values {
	claims := c.assertionClaims(aud)
	if mutate != nil {
		mutate(claims)
	}
	return url.Values{
		"client_id":             {c.itp.ClientID},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {c.signPS256(claims)},
	}
}

func merge(a, b url.Values) url.Values {
	out := url.Values{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// postForm posts form and decodes a JSON answer.
func (c *tclient) postForm(u string, form url.Values, header http.Header) (int, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return c.doJSON(req)
}

func (c *tclient) doJSON(req *http.Request) (int, map[string]any) {
	c.t.Helper()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if len(raw) > 0 && json.Unmarshal(raw, &body) != nil {
		c.t.Fatalf("%s %s: %d, body is not JSON: %s", req.Method, req.URL, resp.StatusCode, raw)
	}
	return resp.StatusCode, body
}

// token calls the token endpoint with params plus client authentication.
func (c *tclient) token(params url.Values) (int, map[string]any) {
	return c.postForm(c.b.MTLSURL+"/token", merge(c.authForm(c.b.MTLSURL+"/token", nil), params), nil)
}

// ccToken returns a client_credentials access token.
func (c *tclient) ccToken(scope string) string {
	c.t.Helper()
	status, body := c.token(url.Values{"grant_type": {"client_credentials"}, "scope": {scope}})
	if status != http.StatusOK {
		c.t.Fatalf("client_credentials %q: %d %v", scope, status, body)
	}
	return body["access_token"].(string)
}

// authReq is one authorization request in the making.
type authReq struct {
	state, nonce, verifier string
	claims                 map[string]any
}

func (c *tclient) newAuthReq(scope string) *authReq {
	v := make([]byte, 32)
	_, _ = rand.Read(v)
	verifier := base64.RawURLEncoding.EncodeToString(v)
	sum := sha256.Sum256([]byte(verifier))
	now := c.now()
	ar := &authReq{state: uuid.NewString(), nonce: uuid.NewString(), verifier: verifier}
	ar.claims = map[string]any{
		"iss": c.itp.ClientID, "aud": c.b.Issuer, "client_id": c.itp.ClientID,
		"response_type": "code id_token", "scope": scope, "redirect_uri": c.itp.RedirectURI,
		"state": ar.state, "nonce": ar.nonce,
		"code_challenge": base64.RawURLEncoding.EncodeToString(sum[:]), "code_challenge_method": "S256",
		"claims": map[string]any{"id_token": map[string]any{"acr": map[string]any{"essential": true}}},
		"nbf":    now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(), "jti": uuid.NewString(),
	}
	return ar
}

// par pushes a request object and returns the answer.
func (c *tclient) par(request string) (int, map[string]any) {
	form := c.authForm(c.b.Issuer, nil)
	form.Set("request", request)
	return c.postForm(c.b.MTLSURL+"/par", form, nil)
}

// pushAndAuthorize pushes ar (signed PS256) and plays the payer; it returns
// the redirect fragment.
func (c *tclient) pushAndAuthorize(ar *authReq) url.Values {
	c.t.Helper()
	status, body := c.par(c.signPS256(ar.claims))
	if status != http.StatusCreated {
		c.t.Fatalf("PAR: %d %v", status, body)
	}
	loc, err := c.b.Authorize(context.Background(), c.authURL(body["request_uri"].(string)))
	if err != nil {
		c.t.Fatal(err)
	}
	return fragment(c.t, loc, c.itp.RedirectURI)
}

func (c *tclient) authURL(requestURI string) string {
	return c.b.PublicURL + "/authorize?" + url.Values{"client_id": {c.itp.ClientID}, "request_uri": {requestURI}}.Encode()
}

func fragment(t testing.TB, loc, redirectURI string) url.Values {
	t.Helper()
	base, frag, ok := strings.Cut(loc, "#")
	if !ok || base != redirectURI {
		t.Fatalf("redirect %q is not %s#…", loc, redirectURI)
	}
	v, err := url.ParseQuery(frag)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// exchange redeems the code of an approved authorization.
func (c *tclient) exchange(ar *authReq, frag url.Values) (int, map[string]any) {
	return c.token(url.Values{
		"grant_type": {"authorization_code"}, "code": {frag.Get("code")},
		"redirect_uri": {c.itp.RedirectURI}, "code_verifier": {ar.verifier},
	})
}

// paymentConsentData is a payments v4 consent request body.
func paymentConsentData() map[string]any {
	return map[string]any{
		"loggedUser": map[string]any{"document": map[string]any{"identification": sandbox.DefaultPayerCPF, "rel": "CPF"}},
		"creditor":   map[string]any{"personType": "PESSOA_JURIDICA", "cpfCnpj": "58764789000137", "name": "Loja Exemplo"},
		"payment":    map[string]any{"type": "PIX", "date": "2026-01-01", "currency": "BRL", "amount": "100.00"},
	}
}

// messageClaims are the claims of a signed resource request to path.
func (c *tclient) messageClaims(path string, data any) map[string]any {
	return map[string]any{
		"iss": c.itp.OrganisationID, "aud": c.b.MTLSURL + path, "jti": uuid.NewString(),
		"iat": c.now().Unix(), "data": data,
	}
}

// resourceCall is one resource request.
type resourceCall struct {
	method, path, token, body, contentType string
	header                                 map[string]string
}

type resourceResp struct {
	status int
	header http.Header
	body   []byte
}

func (c *tclient) do(rc resourceCall) resourceResp {
	c.t.Helper()
	req, err := http.NewRequest(rc.method, c.b.MTLSURL+rc.path, strings.NewReader(rc.body))
	if err != nil {
		c.t.Fatal(err)
	}
	if rc.token != "" {
		req.Header.Set("Authorization", "Bearer "+rc.token)
	}
	if rc.body != "" {
		ct := rc.contentType
		if ct == "" {
			ct = "application/jwt"
		}
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("x-fapi-interaction-id", uuid.NewString())
	if rc.method == http.MethodPost {
		req.Header.Set("x-idempotency-key", uuid.NewString())
	}
	for k, v := range rc.header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resourceResp{status: resp.StatusCode, header: resp.Header, body: body}
}

// signedPost posts data signed as the ITP to path.
func (c *tclient) signedPost(path, token string, data any) resourceResp {
	return c.do(resourceCall{method: http.MethodPost, path: path, token: token, body: c.signPS256(c.messageClaims(path, data))})
}

// createConsent creates a payments v4 consent with a client_credentials
// token of scope product and returns its id.
func (c *tclient) createConsent(product string) string {
	c.t.Helper()
	resp := c.signedPost("/open-banking/payments/v4/consents", c.ccToken(product), paymentConsentData())
	if resp.status != http.StatusCreated {
		c.t.Fatalf("create consent: %d %s", resp.status, resp.body)
	}
	claims := c.verifyBankJWS(resp.body)
	return claims["data"].(map[string]any)["consentId"].(string)
}

// verifyBankJWS verifies a signed response with the bank's organisation
// keys from the keystore and returns its claims.
func (c *tclient) verifyBankJWS(body []byte) map[string]any {
	c.t.Helper()
	obj, err := jose.ParseSignedCompact(string(body), []jose.SignatureAlgorithm{jose.PS256})
	if err != nil {
		c.t.Fatalf("response is not a PS256 JWS: %v: %s", err, body)
	}
	set := c.fetchJWKS(c.b.KeystoreURL + "/" + c.b.OrganisationID + "/application.jwks")
	keys := set.Key(obj.Signatures[0].Protected.KeyID)
	if len(keys) != 1 {
		c.t.Fatalf("kid %q not in the bank's organisation JWKS", obj.Signatures[0].Protected.KeyID)
	}
	payload, err := obj.Verify(keys[0].Key)
	if err != nil {
		c.t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		c.t.Fatal(err)
	}
	return claims
}

func (c *tclient) fetchJWKS(u string) jose.JSONWebKeySet {
	c.t.Helper()
	resp, err := c.hc.Get(u)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		c.t.Fatal(err)
	}
	return set
}

// idToken is an opened id_token: the JWE header, the JWS header and the
// claims, and whether the signature verifies with the bank's jwks_uri key.
type idToken struct {
	jweHeader jose.Header
	alg, kid  string
	claims    map[string]any
	verified  bool
}

// openIDToken decrypts an id_token with the ITP's encryption key (any RSA
// key algorithm, to see faults) and decodes the inner JWS.
func (c *tclient) openIDToken(s string) idToken {
	c.t.Helper()
	jwe, err := jose.ParseEncryptedCompact(s, []jose.KeyAlgorithm{jose.RSA_OAEP, jose.RSA1_5}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		c.t.Fatalf("id_token is not a compact JWE: %v", err)
	}
	inner, err := jwe.Decrypt(c.itp.EncryptionKey)
	if err != nil {
		c.t.Fatalf("id_token does not decrypt: %v", err)
	}
	parts := strings.Split(string(inner), ".")
	if len(parts) != 3 {
		c.t.Fatalf("inner id_token is not a compact JWS")
	}
	var head struct{ Alg, Kid string }
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	_ = json.Unmarshal(hb, &head)
	out := idToken{jweHeader: jwe.Header, alg: head.Alg, kid: head.Kid}
	pb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(pb, &out.claims); err != nil {
		c.t.Fatal(err)
	}
	if obj, err := jose.ParseSignedCompact(string(inner), []jose.SignatureAlgorithm{jose.PS256}); err == nil {
		set := c.fetchJWKS(c.b.PublicURL + "/jwks")
		for _, k := range set.Key(head.Kid) {
			if _, err := obj.Verify(k.Key); err == nil && k.Use == "sig" {
				out.verified = true
			}
		}
	}
	return out
}

func halfHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// wantOAuthError checks an OAuth error answer.
func wantOAuthError(t testing.TB, status int, body map[string]any, wantStatus int, wantCode string) {
	t.Helper()
	if status != wantStatus || body["error"] != wantCode {
		t.Fatalf("got %d %v, want %d error=%s", status, body, wantStatus, wantCode)
	}
	if d, _ := body["error_description"].(string); d == "" {
		t.Fatalf("error %s has no error_description", wantCode)
	}
}

func sandboxDecision(deny bool, subject, acr string) sandbox.AuthorizationDecision {
	return sandbox.AuthorizationDecision{Deny: deny, Subject: subject, ACR: acr}
}

func b64json(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}
