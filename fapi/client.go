package fapi

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Clock tells the time. Nothing in this package reads time.Now directly.
type Clock interface{ Now() time.Time }

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now returns f().
func (f ClockFunc) Now() time.Time { return f() }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// ACR values of Open Finance Brasil.
const (
	ACRLoA2 = "urn:brasil:openbanking:loa2"
	ACRLoA3 = "urn:brasil:openbanking:loa3"
)

// Config configures a Client for one bank (one authorization server and its
// resource server). Two banks need two Clients; nothing is global.
type Config struct {
	// Issuer is the bank's OpenID issuer. Discovery is fetched from
	// Issuer + "/.well-known/openid-configuration" and its issuer must equal
	// Issuer. Required.
	Issuer string
	// ClientID is the client id registered at the bank (by DCR). It may be
	// empty only to call Register.
	ClientID string
	// Certificate is the BRCAC transport certificate with its key and its
	// intermediate chain. Required: every mTLS endpoint and token binding
	// use it.
	Certificate tls.Certificate
	// RootCAs verifies the bank's mTLS endpoints (ICP-Brasil roots, or the
	// directory sandbox CA). Nil means the system pool, which does not hold
	// ICP-Brasil.
	RootCAs *x509.CertPool
	// PublicRootCAs verifies the endpoints without mTLS (discovery, JWKS,
	// directory keystore, authorization endpoint). Nil means the system
	// pool.
	PublicRootCAs *x509.CertPool
	// OrganisationID is the ITP's organisation id: iss of the request JWS
	// and the expected aud of responses. Empty means the one in
	// Certificate's organizationIdentifier.
	OrganisationID string
	// SigningKey signs client assertions, request objects and request
	// bodies (PS256). Required.
	SigningKey SigningKey
	// DecryptionKeys decrypt id_tokens, chosen by the JWE kid. Required
	// for the authorization flow.
	DecryptionKeys []DecryptionKey
	// RedirectURI is the registered redirect URI. Required for the
	// authorization flow.
	RedirectURI string
	// BankOrganisationID is the bank's organisation id: the required iss of
	// its signed responses, and the directory path of its keys. Required for
	// resource calls.
	BankOrganisationID string
	// KeystoreURL is the directory keystore base, e.g.
	// "https://keystore.directory.openbankingbrasil.org.br". The bank's
	// message-signing keys are read from
	// KeystoreURL/{BankOrganisationID}/application.jwks. Required for
	// resource calls.
	KeystoreURL string
	// ACRValues are the acr values an id_token may carry. Nil means loa2
	// and loa3.
	ACRValues []string
	// Leeway is the clock skew tolerated on exp, iat and nbf. Zero means
	// 60 s, FAPI-BR's tolerance for message iat.
	Leeway time.Duration
	// MaxIDTokenAge bounds how old an id_token's iat may be. Zero means
	// 10 minutes.
	MaxIDTokenAge time.Duration
	// RequestObjectLifetime is exp - nbf of request objects. Zero means
	// 10 minutes; more than 60 minutes is refused.
	RequestObjectLifetime time.Duration
	// KeySetMinRefresh is the least time between two fetches of one JWKS
	// (an unknown kid triggers one refresh, at most this often). Zero means
	// 30 s.
	KeySetMinRefresh time.Duration
	// HTTPClient is used for mTLS endpoints. Nil means one built from
	// Certificate and RootCAs (NewMTLSClient). A caller-supplied client
	// must present the same certificate.
	HTTPClient *http.Client
	// PublicHTTPClient is used for endpoints without mTLS. Nil means one
	// built from PublicRootCAs.
	PublicHTTPClient *http.Client
	// Timeout bounds each HTTP request of the clients built here. Zero
	// means 30 s.
	Timeout time.Duration
	// Resend bounds the resends of a resource call the bank did not answer
	// usefully (transport failures, 5xx, 429, 529); see ResendPolicy.
	Resend ResendPolicy
	// Breaker is the circuit breaker of this bank; see BreakerPolicy.
	Breaker BreakerPolicy
	// Sleep waits between resends. Nil means a timer that honours the
	// context; tests pass a function that returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
	// Clock tells the time. Nil means the system clock.
	Clock Clock
	// Rand feeds jti, nonces, state, PKCE verifiers and interaction ids.
	// Nil means crypto/rand.
	Rand io.Reader
	// Logger receives diagnostics; secrets are never logged. Nil discards.
	Logger *slog.Logger
}

// Client is a FAPI-BR v2 client of one bank. It is safe for concurrent use.
type Client struct {
	cfg         Config
	orgID       string
	certThumb   string
	mtls        *http.Client
	public      *http.Client
	clock       Clock
	log         *slog.Logger
	leeway      time.Duration
	acrs        map[string]bool
	objSigner   jose.Signer // typ oauth-authz-req+jwt (request objects)
	jwtSigner   jose.Signer // typ JWT (client assertions and message bodies)
	decryptKeys map[string]any

	mu       sync.Mutex
	metadata *ProviderMetadata

	resend  ResendPolicy
	breaker *breaker
	sleep   func(ctx context.Context, d time.Duration) error

	asKeysOnce sync.Once
	asKeys     *KeySet
	bankKeys   *KeySet
	replay     *replayCache
}

// New validates cfg and returns a Client. It does no I/O: discovery happens
// on first use.
func New(cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, clock: cfg.Clock, log: cfg.Logger, leeway: cfg.Leeway}
	if c.clock == nil {
		c.clock = systemClock{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.leeway == 0 {
		c.leeway = 60 * time.Second
	}
	if c.cfg.MaxIDTokenAge == 0 {
		c.cfg.MaxIDTokenAge = 10 * time.Minute
	}
	if c.cfg.RequestObjectLifetime == 0 {
		c.cfg.RequestObjectLifetime = 10 * time.Minute
	}
	if c.cfg.KeySetMinRefresh == 0 {
		c.cfg.KeySetMinRefresh = 30 * time.Second
	}
	leaf, err := leafCertificate(cfg.Certificate)
	if err != nil {
		return nil, &ConfigError{Field: "Certificate", Msg: err.Error()}
	}
	c.certThumb = CertificateThumbprint(leaf)
	c.orgID = cfg.OrganisationID
	if c.orgID == "" {
		id, err := IdentityFromCertificate(leaf)
		if err != nil {
			return nil, &ConfigError{Field: "OrganisationID", Msg: "empty, and " + err.Error()}
		}
		c.orgID = id.OrganisationID
	}
	c.acrs = map[string]bool{}
	acrs := cfg.ACRValues
	if len(acrs) == 0 {
		acrs = []string{ACRLoA2, ACRLoA3}
	}
	for _, a := range acrs {
		c.acrs[a] = true
	}
	if c.objSigner, err = newJOSESigner(cfg.SigningKey, "oauth-authz-req+jwt", cfg.Rand); err != nil {
		return nil, &ConfigError{Field: "SigningKey", Msg: err.Error()}
	}
	if c.jwtSigner, err = newJOSESigner(cfg.SigningKey, "JWT", cfg.Rand); err != nil {
		return nil, &ConfigError{Field: "SigningKey", Msg: err.Error()}
	}
	c.decryptKeys = map[string]any{}
	for i, k := range cfg.DecryptionKeys {
		if k.KeyID == "" || k.Key == nil {
			return nil, &ConfigError{Field: "DecryptionKeys", Msg: "entry " + strconv.Itoa(i) + " needs KeyID and Key"}
		}
		c.decryptKeys[k.KeyID] = k.Key
	}
	c.mtls = cfg.HTTPClient
	if c.mtls == nil {
		c.mtls, err = NewMTLSClient(cfg.Certificate, cfg.RootCAs, cfg.Timeout)
		if err != nil {
			return nil, &ConfigError{Field: "Certificate", Msg: err.Error()}
		}
	}
	c.public = cfg.PublicHTTPClient
	if c.public == nil {
		c.public = newPublicClient(cfg.PublicRootCAs, cfg.Timeout)
	}
	if cfg.KeystoreURL != "" && cfg.BankOrganisationID != "" {
		c.bankKeys = NewKeySet(KeySetConfig{
			URL:        strings.TrimRight(cfg.KeystoreURL, "/") + "/" + cfg.BankOrganisationID + "/application.jwks",
			HTTPClient: c.public, Clock: c.clock, MinRefresh: c.cfg.KeySetMinRefresh, Logger: c.log,
		})
	}
	c.replay = newReplayCache(2*c.leeway + time.Minute)
	c.resend = cfg.Resend
	c.resend.withDefaults()
	c.breaker = newBreaker(cfg.Breaker)
	c.sleep = cfg.Sleep
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	return c, nil
}

func (cfg *Config) validate() error {
	switch {
	case cfg.Issuer == "":
		return &ConfigError{Field: "Issuer", Msg: "required"}
	case !strings.HasPrefix(cfg.Issuer, "https://"):
		return &ConfigError{Field: "Issuer", Msg: "must be an https URL"}
	case len(cfg.Certificate.Certificate) == 0 || cfg.Certificate.PrivateKey == nil:
		return &ConfigError{Field: "Certificate", Msg: "a transport certificate with its private key is required"}
	case cfg.SigningKey.Signer == nil:
		return &ConfigError{Field: "SigningKey.Signer", Msg: "required"}
	case cfg.SigningKey.KeyID == "":
		return &ConfigError{Field: "SigningKey.KeyID", Msg: "required (the kid published in the directory)"}
	case cfg.RequestObjectLifetime > time.Hour:
		return &ConfigError{Field: "RequestObjectLifetime", Msg: "at most 60 minutes (FAPI 1 Advanced 5.2.2-13)"}
	case cfg.Leeway < 0 || cfg.MaxIDTokenAge < 0 || cfg.RequestObjectLifetime < 0:
		return &ConfigError{Field: "Leeway", Msg: "durations must not be negative"}
	}
	return nil
}

// OrganisationID returns the ITP organisation id the client signs as.
func (c *Client) OrganisationID() string { return c.orgID }

// ClientID returns the configured client id.
func (c *Client) ClientID() string { return c.cfg.ClientID }

// HTTPClient returns the mTLS client; resource calls made with it present
// the transport certificate and carry the FAPI headers.
func (c *Client) HTTPClient() *http.Client { return c.mtls }

func (c *Client) now() time.Time { return c.clock.Now() }

func (c *Client) requireClientID() error {
	if c.cfg.ClientID == "" {
		return &ConfigError{Field: "ClientID", Msg: "required for this call (register first)"}
	}
	return nil
}

func (c *Client) newID() string { return newUUID(c.cfg.Rand) }

// asKeySet returns the authorization server's key set (jwks_uri).
func (c *Client) asKeySet(ctx context.Context) (*KeySet, error) {
	md, err := c.Discover(ctx)
	if err != nil {
		return nil, err
	}
	c.asKeysOnce.Do(func() {
		c.asKeys = NewKeySet(KeySetConfig{URL: md.JWKSURI, HTTPClient: c.public, Clock: c.clock, MinRefresh: c.cfg.KeySetMinRefresh, Logger: c.log})
	})
	return c.asKeys, nil
}
