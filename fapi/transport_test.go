package fapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTransportSetsFAPIHeaders(t *testing.T) {
	t.Parallel()
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() }))
	defer srv.Close()
	hc := &http.Client{Transport: &Transport{}}

	ctx := WithIdempotencyKey(context.Background(), "op-1")
	ctx = WithCustomer(ctx, Customer{
		IPAddress: "2001:db8::1",
		UserAgent: strings.Repeat("é", 60), // 120 bytes
		AuthDate:  time.Date(2026, 11, 23, 12, 0, 0, 0, time.FixedZone("BRT", -3*3600)),
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, nil)
	resp, err := hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()

	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, got.Get(HeaderInteractionID))
	assert.Equal(t, "op-1", got.Get(HeaderIdempotencyKey))
	assert.Equal(t, "2001:db8::1", got.Get(HeaderCustomerIPAddress))
	assert.Equal(t, "Mon, 23 Nov 2026 15:00:00 GMT", got.Get(HeaderAuthDate))
	assert.Len(t, got.Get(HeaderAuthDate), 29)
	ua := got.Get(HeaderCustomerUserAgent)
	assert.LessOrEqual(t, len(ua), MaxUserAgentLength)
	assert.Equal(t, strings.Repeat("é", 50), ua, "truncated on a character boundary")
	assert.Empty(t, req.Header.Get(HeaderInteractionID), "the caller's request is not modified")
}

func TestTransportKeepsCallerInteractionID(t *testing.T) {
	t.Parallel()
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Get(HeaderInteractionID) }))
	defer srv.Close()
	hc := &http.Client{Transport: &Transport{}}
	req, _ := http.NewRequestWithContext(WithInteractionID(context.Background(), "11111111-2222-4333-8444-555555555555"), http.MethodGet, srv.URL, nil)
	resp, err := hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "11111111-2222-4333-8444-555555555555", got)
}

func TestTransportRefusesBadHeaderValues(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("request must not be sent") }))
	defer srv.Close()
	hc := &http.Client{Transport: &Transport{}}
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{
		{"idempotency key too long", WithIdempotencyKey(context.Background(), strings.Repeat("k", 41))},
		{"idempotency key empty", WithIdempotencyKey(context.Background(), "")},
		{"idempotency key padded", WithIdempotencyKey(context.Background(), " k")},
		{"customer ip not an ip", WithCustomer(context.Background(), Customer{IPAddress: "example.com"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(tc.ctx, http.MethodPost, srv.URL, nil)
			_, err := hc.Do(req)
			require.ErrorIs(t, err, ErrInvalidHeader)
		})
	}
}

func TestParseCallback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		in      string
		want    *Callback
		wantErr bool
	}{
		{"full url", "https://itp.example/cb#code=c1&id_token=a.b.c.d.e&state=s1", &Callback{Code: "c1", IDToken: "a.b.c.d.e", State: "s1"}, false},
		{"hash", "#code=c1&id_token=t&state=s1&iss=https%3A%2F%2Fbank", &Callback{Code: "c1", IDToken: "t", State: "s1", Issuer: "https://bank"}, false},
		{"bare fragment", "code=c1&id_token=t&state=s1", &Callback{Code: "c1", IDToken: "t", State: "s1"}, false},
		{"error", "https://itp.example/cb#error=access_denied&error_description=no&state=s1", &Callback{Error: "access_denied", ErrorDescription: "no", State: "s1"}, false},
		{"error in query", "https://itp.example/cb?error=access_denied&state=s1", &Callback{Error: "access_denied", State: "s1"}, false},
		{"code in query", "https://itp.example/cb?code=c1&state=s1#id_token=t", nil, true},
		{"empty", "", nil, true},
		{"no id_token", "#code=c1&state=s", nil, true},
		{"repeated param", "#code=c1&code=c2&id_token=t&state=s", nil, true},
		{"bad escape", "#code=%zz", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCallback(tc.in)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseTokenResponseDefaults(t *testing.T) {
	t.Parallel()
	env := newUnitEnv(t)
	tok, err := env.c.parseTokenResponse([]byte(`{"access_token":"at","token_type":"bearer"}`), "recurring-payments")
	require.NoError(t, err)
	assert.Equal(t, env.clock.Now().Add(DefaultTokenLifetime), tok.Expiry, "missing expires_in means 300 s, never 'valid forever'")
	assert.Equal(t, "recurring-payments", Scope(tok), "missing scope means the requested one")

	tok, err = env.c.parseTokenResponse([]byte(`{"access_token":"at","token_type":"Bearer","expires_in":"900","scope":"a b","id_token":"x"}`), "")
	require.NoError(t, err)
	assert.Equal(t, env.clock.Now().Add(900*time.Second), tok.Expiry)
	assert.Equal(t, "a b", Scope(tok))
	assert.Equal(t, "x", IDTokenOf(tok))

	for _, bad := range []string{`{}`, `{"access_token":"at","token_type":"DPoP"}`, `nope`, `{"access_token":"at","token_type":"Bearer","expires_in":{}}`} {
		_, err := env.c.parseTokenResponse([]byte(bad), "")
		var oe *OAuthError
		require.ErrorAs(t, err, &oe, bad)
		assert.Equal(t, "invalid_response", oe.Code)
	}
}

func TestIdentityFromCertificate(t *testing.T) {
	t.Parallel()
	sharedKeys(t)
	id, err := IdentityFromCertificate(shared.cert.Leaf)
	require.NoError(t, err)
	assert.Equal(t, CertificateIdentity{OrganisationID: "itp-org", SoftwareID: "itp-sw", CNPJ: "12345678000199"}, id)
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	sharedKeys(t)
	good := Config{Issuer: "https://bank", Certificate: shared.cert, SigningKey: SigningKey{Signer: shared.itpKey, KeyID: "k"}}
	_, err := New(good)
	require.NoError(t, err)
	for _, tc := range []struct {
		field string
		mod   func(*Config)
	}{
		{"Issuer", func(c *Config) { c.Issuer = "" }},
		{"Issuer", func(c *Config) { c.Issuer = "http://bank" }},
		{"Certificate", func(c *Config) { c.Certificate.Certificate = nil }},
		{"SigningKey.Signer", func(c *Config) { c.SigningKey.Signer = nil }},
		{"SigningKey.KeyID", func(c *Config) { c.SigningKey.KeyID = "" }},
		{"RequestObjectLifetime", func(c *Config) { c.RequestObjectLifetime = 61 * time.Minute }},
		{"DecryptionKeys", func(c *Config) { c.DecryptionKeys = []DecryptionKey{{KeyID: "x"}} }},
	} {
		cfg := good
		tc.mod(&cfg)
		_, err := New(cfg)
		var ce *ConfigError
		require.ErrorAs(t, err, &ce, tc.field)
		assert.Equal(t, tc.field, ce.Field)
		assert.ErrorIs(t, err, ErrConfig)
	}
}
