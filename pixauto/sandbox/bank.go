package sandbox

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/ofb-go/pixauto/internal/pki"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto/sandbox/internal/directory"
)

// DefaultPayerCPF is the CPF of the payer the default authorization
// decision logs in as (a syntactically valid test CPF).
const DefaultPayerCPF = "52998224725"

// ACR values of Open Finance Brasil.
const (
	ACRLoa2 = "urn:brasil:openbanking:loa2"
	ACRLoa3 = "urn:brasil:openbanking:loa3"
)

// Lifetimes and limits the bank enforces. They follow FAPI-BR v2 and the
// OpenID conformance suite where those set a value.
const (
	// PARLifetime is the expires_in of a request_uri.
	PARLifetime = 90 * time.Second
	// CodeLifetime is how long an authorization code can be redeemed.
	CodeLifetime = 60 * time.Second
	// IDTokenLifetime is exp - iat of the id_tokens the bank issues.
	IDTokenLifetime = 5 * time.Minute
	// Leeway is the clock skew tolerated on incoming iat, nbf and exp.
	Leeway = 60 * time.Second
	// MaxAssertionLifetime bounds exp - now of a client assertion.
	MaxAssertionLifetime = 10 * time.Minute
	// MaxRequestObjectLifetime bounds exp - nbf of a request object and the
	// age of its nbf (FAPI 1.0 Advanced 5.2.2-13, -17).
	MaxRequestObjectLifetime = 60 * time.Minute
	// MaxSSAAge is how old a software statement may be at registration.
	MaxSSAAge = 5 * time.Minute
	// MessageIatTolerance is the tolerance on the iat of signed resource
	// requests (FAPI-BR message signing, ±60 s).
	MessageIatTolerance = 60 * time.Second
	// MessageJTIRetention is how long a message jti is remembered.
	MessageJTIRetention = 24 * time.Hour
)

// Config configures a Bank. The zero value is a working bank.
type Config struct {
	// Clock is the bank's time. nil → NewClock(time.Now()), a ManualClock
	// frozen at start-up that moves only when the test moves it (read it
	// back from Bank.Clock). Use SystemClock{} for a long-running program.
	Clock Clock
	// Logger receives a line for each request the bank refuses, with the
	// reason. nil → discard.
	Logger *slog.Logger
	// OrganisationID is the bank's organisation id in the directory (the iss
	// of its signed resource responses). "" → a random UUID.
	OrganisationID string
	// PayerCPF is the payer the default authorization decision logs in as
	// (the id_token sub). "" → DefaultPayerCPF.
	PayerCPF string
	// OnAuthorize decides, for each authorization request, whether the payer
	// approves and as whom. It is called from the authorization endpoint,
	// after the request has been validated. nil → approve as PayerCPF with
	// acr ACRLoa2.
	OnAuthorize func(ctx context.Context, req AuthorizationRequest) AuthorizationDecision
	// AccessTokenLifetime is the lifetime of access tokens, within the
	// 300–900 s FAPI-BR allows. 0 → 300 s.
	AccessTokenLifetime time.Duration
	// ITP configures the client registered at start-up (Bank.ITP).
	ITP ITPConfig

	// APIVersion is the automatic-payments API version the bank implements
	// and announces in x-v: "2.2.0", "2.1.0" or "2.0.0". "" → "2.2.0". It
	// decides the wire form (the /retry endpoint, localInstrument AUTO and
	// "R/<start>/P1M" references from 2.2.0; originalRecurringPaymentId in
	// the POST body, MANU and "M09-2024" references before) and the rules
	// that changed between versions (see the package documentation).
	APIVersion string
	// ProcessingDelay is the time a recurring payment spends in RCVD and in
	// ACCP before the bank moves it on (to SCHD, or to settlement for an
	// immediate payment). 0 → the moves are due as soon as the payment is
	// created: the POST answers RCVD and the next request, RunDue or
	// Advance sees SCHD. Must not be negative.
	ProcessingDelay time.Duration
	// TickInterval is how often the background loop started by New runs
	// the automatic-payments state machine when Clock is not a
	// *ManualClock (with a ManualClock, time moves only through Advance,
	// AdvanceTo and RunDue). 0 → 1 s. Must not be negative.
	TickInterval time.Duration
	// WebhookTimeout bounds each webhook delivery attempt. 0 → 5 s.
	WebhookTimeout time.Duration
	// WebhookRootCAs verifies the ITPs' webhook servers. nil → RootCAs, the
	// sandbox CA, which issued the certificates of NewWebhookServer.
	WebhookRootCAs *x509.CertPool
	// ISPB is the bank's ISPB (8 digits): the ispb of the payers' accounts.
	// "" → DefaultISPB.
	ISPB string
}

// DefaultISPB is the ISPB of a bank whose Config sets none.
const DefaultISPB = "99999999"

func (c Config) withDefaults() Config {
	if c.Clock == nil {
		c.Clock = NewClock(time.Now())
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.OrganisationID == "" {
		c.OrganisationID = uuid.NewString()
	}
	if c.PayerCPF == "" {
		c.PayerCPF = DefaultPayerCPF
	}
	if c.AccessTokenLifetime == 0 {
		c.AccessTokenLifetime = 300 * time.Second
	}
	if c.APIVersion == "" {
		c.APIVersion = string(payments.V220)
	}
	if c.TickInterval == 0 {
		c.TickInterval = time.Second
	}
	if c.WebhookTimeout == 0 {
		c.WebhookTimeout = 5 * time.Second
	}
	if c.ISPB == "" {
		c.ISPB = DefaultISPB
	}
	return c
}

var ispbPattern = regexp.MustCompile(`^[0-9]{8}$`)

func (c Config) validate() error {
	if c.AccessTokenLifetime < 300*time.Second || c.AccessTokenLifetime > 900*time.Second {
		return fmt.Errorf("sandbox: Config.AccessTokenLifetime %s is outside the 300–900 s FAPI-BR allows", c.AccessTokenLifetime)
	}
	switch payments.Version(c.APIVersion) {
	case payments.V220, payments.V210, payments.V200:
	default:
		return fmt.Errorf("sandbox: Config.APIVersion %q is not one of 2.2.0, 2.1.0 and 2.0.0", c.APIVersion)
	}
	if c.ProcessingDelay < 0 || c.TickInterval < 0 || c.WebhookTimeout < 0 {
		return fmt.Errorf("sandbox: Config.ProcessingDelay, TickInterval and WebhookTimeout must not be negative")
	}
	if !ispbPattern.MatchString(c.ISPB) {
		return fmt.Errorf("sandbox: Config.ISPB %q is not 8 digits", c.ISPB)
	}
	return nil
}

// Bank is an account-holding institution (detentora) running in-process: an
// FAPI-BR v2 authorization server, the directory keystore it trusts, and the
// resource APIs, on two loopback TLS listeners. Create it with New or
// NewTest and stop it with Close. Its methods are safe for concurrent use.
type Bank struct {
	// PublicURL is the base of the TLS server that asks for no client
	// certificate: discovery, jwks_uri, the authorization endpoint and the
	// directory keystore (PublicURL + "/keystore").
	PublicURL string
	// MTLSURL is the base of the TLS server that requires a client
	// certificate from the sandbox CA: token, PAR, registration and the
	// resource APIs (the mtls_endpoint_aliases).
	MTLSURL string
	// Issuer is the authorization server's issuer, equal to PublicURL;
	// discovery is at Issuer + "/.well-known/openid-configuration".
	Issuer string
	// OrganisationID is the bank's organisation id: the iss of its signed
	// resource responses, whose keys are at KeystoreURL/{id}/application.jwks.
	OrganisationID string
	// KeystoreURL is the base of the directory keystore.
	KeystoreURL string
	// RootCAs holds the sandbox root CA, which issued both servers'
	// certificates and every ITP transport certificate. All banks of a
	// process share it, as all participants share ICP-Brasil.
	RootCAs *x509.CertPool
	// ITP is the client registered at start-up.
	ITP *ITP
	// Clock is the bank's clock (Config.Clock or the ManualClock created
	// for it).
	Clock Clock
	// PayerCPF is the payer of the default authorization decision.
	PayerCPF string
	// APIVersion is the automatic-payments version the bank implements
	// (Config.APIVersion), sent as x-v.
	APIVersion string
	// ISPB is the bank's ISPB (Config.ISPB).
	ISPB string
	// AuthorisationServerID identifies the bank's authorization server in
	// the directory; webhooks carry it as x-authorization-server-id.
	AuthorisationServerID string

	cfg    Config
	log    *slog.Logger
	ca     *pki.CA
	dir    *directory.Directory
	keys   bankKeys
	public *http.Server
	mtls   *http.Server
	// mtlsMux routes the mTLS server. Resource APIs add their handlers to
	// it in routes.
	mtlsMux   *http.ServeMux
	publicMux *http.ServeMux
	closeOnce sync.Once

	// consentAPIs are the resource APIs owning the consents named by
	// dynamic scopes; see registerConsentAPI.
	consentAPIs []consentAPI

	mu       sync.Mutex
	faults   Faults
	requests []Request
	clients  map[string]*client
	pars     map[string]*parRecord
	codes    map[string]*codeRecord
	access   map[string]*grant
	refresh  map[string]*refreshRecord
	// assertionJTIs maps client id → jti → exp of accepted client assertions.
	assertionJTIs map[string]map[string]time.Time
	// messageJTIs maps organisation id → jti → time seen of signed requests.
	messageJTIs map[string]map[string]time.Time

	paymentsV4 *paymentsV4
	// auto is the automatic-payments API (Pix Automático).
	auto *automatic
	// hooks delivers webhooks.
	hooks *webhooks
	// lastJTI maps organisation id → jti of the last signed resource
	// response sent to it (ResourceFaults: FaultReplayedJTI).
	lastJTI map[string]string
	// closing is closed by Close; background work stops.
	closing chan struct{}
	bg      sync.WaitGroup
}

type bankKeys struct {
	idToken    *rsa.PrivateKey // signs id_tokens; published at jwks_uri
	idTokenJWK jose.JSONWebKey
	asEnc      *rsa.PrivateKey // decrypts request objects; published at jwks_uri
	asEncJWK   jose.JSONWebKey
	seal       *rsa.PrivateKey // signs resource responses; in the directory
	sealKID    string
}

// Request is one HTTP request the bank served, as logged by Requests.
type Request struct {
	// Time is the bank clock when the request arrived.
	Time time.Time
	// Server is "public" or "mtls".
	Server string
	// Method and Path are the request line (Path without the query).
	Method string
	Path   string
	// Status is the response status code; 0 when the connection was
	// dropped without an answer (FaultDrop, or FaultDelay when the client
	// gave up).
	Status int
	// ClientCertOrgID is the organisation id in the client certificate's
	// organizationIdentifier (or legacy OU), "" without a certificate.
	ClientCertOrgID string
}

// New starts a bank on two loopback ports and registers Bank.ITP. Close it
// when done.
func New(cfg Config) (*Bank, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ca, serverCert, err := sharedPKI()
	if err != nil {
		return nil, err
	}
	keys, err := newKeys(4)
	if err != nil {
		return nil, err
	}
	b := &Bank{
		OrganisationID: cfg.OrganisationID,
		RootCAs:        ca.Pool(),
		Clock:          cfg.Clock,
		PayerCPF:       cfg.PayerCPF,
		APIVersion:     cfg.APIVersion,
		ISPB:           cfg.ISPB,

		AuthorisationServerID: uuid.NewString(),
		lastJTI:               map[string]string{},
		closing:               make(chan struct{}),
		cfg:                   cfg,
		log:                   cfg.Logger,
		ca:                    ca,
		clients:               map[string]*client{},
		pars:                  map[string]*parRecord{},
		codes:                 map[string]*codeRecord{},
		access:                map[string]*grant{},
		refresh:               map[string]*refreshRecord{},
		assertionJTIs:         map[string]map[string]time.Time{},
		messageJTIs:           map[string]map[string]time.Time{},
	}
	publicLn, mtlsLn, err := b.listen(serverCert)
	if err != nil {
		return nil, err
	}
	if err := b.setupKeys(keys); err != nil {
		publicLn.Close()
		mtlsLn.Close()
		return nil, err
	}
	b.routes()
	b.serve(publicLn, mtlsLn)
	b.startBackground()
	itp, err := b.NewITP(cfg.ITP)
	if err != nil {
		b.Close()
		return nil, err
	}
	b.ITP = itp
	return b, nil
}

// NewTest is New for tests: it calls tb.Fatal if the bank cannot start and
// closes the bank when the test ends.
func NewTest(tb testing.TB, cfg Config) *Bank {
	tb.Helper()
	b, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(b.Close)
	return b
}

// Close stops both servers and closes their connections, stops the
// background loop and abandons undelivered webhooks. It is safe to call
// more than once.
func (b *Bank) Close() {
	b.closeOnce.Do(func() {
		close(b.closing)
		_ = b.public.Close()
		_ = b.mtls.Close()
		b.bg.Wait()
	})
}

// Requests returns every request served so far, oldest first. The log is
// kept in memory for the bank's lifetime.
func (b *Bank) Requests() []Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.requests)
}

// Client returns an HTTP client for itp: it trusts RootCAs and presents the
// ITP's transport certificate (with its intermediate; no certificate when
// itp is nil), with TLS session resumption off as FAPI-BR requires.
func (b *Bank) Client(itp *ITP) *http.Client {
	cfg := &tls.Config{RootCAs: b.RootCAs, MinVersion: tls.VersionTLS12}
	if itp != nil {
		cfg.Certificates = []tls.Certificate{itp.Certificate}
	}
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true},
	}
}

func (b *Bank) now() time.Time { return b.Clock.Now() }

var shared struct {
	once   sync.Once
	ca     *pki.CA
	server tls.Certificate
	err    error
}

// sharedPKI returns the process-wide sandbox CA and the loopback server
// certificate, created on first use.
func sharedPKI() (*pki.CA, tls.Certificate, error) {
	shared.once.Do(func() {
		shared.ca, shared.err = pki.NewCA("Open Finance Brasil Sandbox")
		if shared.err != nil {
			return
		}
		shared.server, shared.err = shared.ca.IssueServer("127.0.0.1", "localhost", "::1")
	})
	if shared.err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("sandbox: PKI: %w", shared.err)
	}
	return shared.ca, shared.server, nil
}

// newKeys generates n RSA keys in parallel.
func newKeys(n int) ([]*rsa.PrivateKey, error) {
	keys := make([]*rsa.PrivateKey, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = pki.NewKey() })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	return keys, nil
}

func (b *Bank) listen(serverCert tls.Certificate) (public, mtls net.Listener, err error) {
	base := &tls.Config{
		Certificates:           []tls.Certificate{serverCert},
		MinVersion:             tls.VersionTLS12,
		SessionTicketsDisabled: true,
		CipherSuites: []uint16{ // TLS 1.2; FAPI-BR §6.4
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		},
	}
	mtlsCfg := base.Clone()
	mtlsCfg.ClientAuth = tls.RequireAndVerifyClientCert
	mtlsCfg.ClientCAs = b.RootCAs
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("sandbox: listen: %w", err)
	}
	ml, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pl.Close()
		return nil, nil, fmt.Errorf("sandbox: listen: %w", err)
	}
	b.PublicURL = "https://" + pl.Addr().String()
	b.MTLSURL = "https://" + ml.Addr().String()
	b.Issuer = b.PublicURL
	b.KeystoreURL = b.PublicURL + "/keystore"
	return tls.NewListener(pl, base), tls.NewListener(ml, mtlsCfg), nil
}

func (b *Bank) setupKeys(k []*rsa.PrivateKey) error {
	now := b.now()
	dir, err := directory.New(b.KeystoreURL, k[3], now)
	if err != nil {
		return err
	}
	b.dir = dir
	asName := pkix.Name{CommonName: "Sandbox Bank Authorization Server"}
	b.keys.idToken, b.keys.asEnc, b.keys.seal = k[0], k[1], k[2]
	if b.keys.idTokenJWK, err = directory.PublicJWK(k[0], uuid.NewString(), directory.UseSig, asName, now); err != nil {
		return err
	}
	b.keys.idTokenJWK.Algorithm = string(jose.PS256)
	if b.keys.asEncJWK, err = directory.PublicJWK(k[1], uuid.NewString(), directory.UseEnc, asName, now); err != nil {
		return err
	}
	b.keys.asEncJWK.Algorithm = string(jose.RSA_OAEP)
	org := directory.Organisation{ID: b.OrganisationID, Name: "Sandbox Bank S.A.", CNPJ: newCNPJ()}
	b.keys.sealKID = uuid.NewString()
	seal, err := directory.PublicJWK(k[2], b.keys.sealKID, directory.UseSig, directory.SealSubject(org), now)
	if err != nil {
		return err
	}
	dir.AddOrganisation(org, seal)
	return nil
}

func (b *Bank) serve(publicLn, mtlsLn net.Listener) {
	errLog := slog.NewLogLogger(b.log.Handler(), slog.LevelDebug)
	b.public = &http.Server{Handler: b.logRequests("public", b.publicMux), ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}
	b.mtls = &http.Server{Handler: b.logRequests("mtls", b.mtlsMux), ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}
	go func() { _ = b.public.Serve(publicLn) }()
	go func() { _ = b.mtls.Serve(mtlsLn) }()
}

// routes registers every endpoint. Resource APIs register theirs here too.
func (b *Bank) routes() {
	b.publicMux = http.NewServeMux()
	b.mtlsMux = http.NewServeMux()

	b.publicMux.HandleFunc("GET /.well-known/openid-configuration", b.handleDiscovery)
	b.publicMux.HandleFunc("GET /jwks", b.handleJWKS)
	b.publicMux.HandleFunc("GET /authorize", b.handleAuthorize)
	b.publicMux.Handle("GET /keystore/", http.StripPrefix("/keystore", b.dir))
	for _, p := range []string{"/token", "/par", "/register", "/register/"} {
		b.publicMux.HandleFunc(p, b.handleNotMTLS)
	}

	b.mtlsMux.HandleFunc("POST /token", b.handleToken)
	b.mtlsMux.HandleFunc("POST /par", b.handlePAR)
	b.mtlsMux.HandleFunc("POST /register", b.handleRegister)
	b.mtlsMux.HandleFunc("GET /register/{clientID}", b.handleRegistrationGet)
	b.mtlsMux.HandleFunc("PUT /register/{clientID}", b.handleRegistrationPut)
	b.mtlsMux.HandleFunc("DELETE /register/{clientID}", b.handleRegistrationDelete)

	b.paymentsV4 = newPaymentsV4(b)
	b.paymentsV4.routes(b.mtlsMux)
	b.registerConsentAPI(b.paymentsV4)

	b.hooks = newWebhooks(b)
	b.auto = newAutomatic(b)
	b.auto.routes(b.mtlsMux)
	b.registerConsentAPI(b.auto)
}

// logRequests records every request in the log returned by Requests.
func (b *Bank) logRequests(server string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := Request{Time: b.now(), Server: server, Method: r.Method, Path: r.URL.Path}
		if cert := peerCert(r); cert != nil {
			rec.ClientCertOrgID, _ = certIdentity(cert)
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		rec.Status = sw.status
		b.mu.Lock()
		b.requests = append(b.requests, rec)
		b.mu.Unlock()
	})
}

type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wroteHeader {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	s.wroteHeader = true
	return s.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection (hijacking for
// FaultDrop).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
