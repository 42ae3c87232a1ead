package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/internal/pki"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/server"
	"github.com/ofb-go/pixauto/pixauto/store/postgres"
	"github.com/ofb-go/pixauto/pixauto/store/sqlite"
)

// serveConfig is the configuration of `pixauto serve`, read from an
// optional JSON file (--config, PIXAUTO_CONFIG), then PIXAUTO_… variables,
// then flags, each overriding the one before.
type serveConfig struct {
	Listen          string `json:"listen"`
	DatabaseURL     string `json:"database_url"`
	SecretKey       string `json:"secret_key"`
	PublicURL       string `json:"public_url"`
	Sandbox         bool   `json:"sandbox"`
	CallbackListen  string `json:"callback_listen"`
	SyncInterval    string `json:"sync_interval"`
	DeliverInterval string `json:"deliver_interval"`
	LogLevel        string `json:"log_level"`

	// The ITP (without --sandbox).
	CNPJ    string         `json:"cnpj"`
	ISPB    string         `json:"ispb"`
	Holders []holderConfig `json:"holders"`
	// HolderWebhooks is the mTLS listener of the banks' notifications.
	HolderWebhooks *webhookListenerConfig `json:"holder_webhooks"`
}

// holderConfig is a bank of a real deployment, with the ITP's credentials
// at that bank (PEM files).
type holderConfig struct {
	ID                 string `json:"id"`
	Issuer             string `json:"issuer"`
	ClientID           string `json:"client_id"`
	BaseURL            string `json:"base_url"`
	BankOrganisationID string `json:"bank_organisation_id"`
	KeystoreURL        string `json:"keystore_url"`
	CertificateFile    string `json:"certificate_file"` // the BRCAC with its chain
	KeyFile            string `json:"key_file"`
	RootCAsFile        string `json:"root_cas_file"`        // the bank's mTLS roots (ICP-Brasil)
	PublicRootCAsFile  string `json:"public_root_cas_file"` // "" → the system pool
	SigningKeyFile     string `json:"signing_key_file"`
	SigningKeyID       string `json:"signing_key_id"`
	EncryptionKeyFile  string `json:"encryption_key_file"`
	EncryptionKeyID    string `json:"encryption_key_id"`
}

type webhookListenerConfig struct {
	Listen       string `json:"listen"`
	CertFile     string `json:"cert_file"`
	KeyFile      string `json:"key_file"`
	ClientCAFile string `json:"client_ca_file"`
}

// option is a setting that can come from the file, the environment and a
// flag.
type option struct {
	flag, env, usage string
	value            func(c *serveConfig) *string
}

var serveOptions = []option{
	{flag: "listen", env: "PIXAUTO_LISTEN", usage: "address of the API", value: func(c *serveConfig) *string { return &c.Listen }},
	{flag: "database-url", env: "PIXAUTO_DATABASE_URL", usage: "postgres://… for PostgreSQL, or a SQLite file path (sandbox: pixauto.db)", value: func(c *serveConfig) *string { return &c.DatabaseURL }},
	{flag: "secret-key", env: "PIXAUTO_SECRET_KEY", usage: "32 bytes, hex or base64: seals refresh tokens and webhook secrets (required without --sandbox)", value: func(c *serveConfig) *string { return &c.SecretKey }},
	{flag: "public-url", env: "PIXAUTO_PUBLIC_URL", usage: "https base URL where payers reach /callback (the ITP's redirect URI is <public-url>/callback)", value: func(c *serveConfig) *string { return &c.PublicURL }},
	{flag: "callback-listen", env: "PIXAUTO_CALLBACK_LISTEN", usage: "sandbox: address of the https listener of the payer's callback page", value: func(c *serveConfig) *string { return &c.CallbackListen }},
	{flag: "sync-interval", env: "PIXAUTO_SYNC_INTERVAL", usage: "how often the Initiator reconciles with the banks", value: func(c *serveConfig) *string { return &c.SyncInterval }},
	{flag: "deliver-interval", env: "PIXAUTO_DELIVER_INTERVAL", usage: "how often due webhook deliveries are sent", value: func(c *serveConfig) *string { return &c.DeliverInterval }},
	{flag: "log-level", env: "PIXAUTO_LOG_LEVEL", usage: "debug, info, warn or error", value: func(c *serveConfig) *string { return &c.LogLevel }},
}

func defaultConfig() serveConfig {
	return serveConfig{Listen: "127.0.0.1:8080", CallbackListen: "127.0.0.1:8443", SyncInterval: "1m", DeliverInterval: "5s", LogLevel: "info"}
}

// loadServeConfig applies the file, the environment and the flags to the
// defaults. fs has been parsed; getenv reads the environment.
func loadServeConfig(fs *flag.FlagSet, flagValues map[string]*string, sandboxFlag *bool, configFlag *string, getenv func(string) string) (serveConfig, error) {
	cfg := defaultConfig()
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	path := getenv("PIXAUTO_CONFIG")
	if set["config"] {
		path = *configFlag
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if v := getenv("PIXAUTO_SANDBOX"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return cfg, fmt.Errorf("PIXAUTO_SANDBOX=%q: not a boolean", v)
		}
		cfg.Sandbox = b
	}
	if set["sandbox"] {
		cfg.Sandbox = *sandboxFlag
	}
	for _, o := range serveOptions {
		if v := getenv(o.env); v != "" {
			*o.value(&cfg) = v
		}
		if set[o.flag] {
			*o.value(&cfg) = *flagValues[o.flag]
		}
	}
	if cfg.Sandbox && cfg.DatabaseURL == "" {
		cfg.DatabaseURL = "pixauto.db"
	}
	return cfg, cfg.validate()
}

func (c serveConfig) validate() error {
	var errs []error
	for name, v := range map[string]string{"sync-interval": c.SyncInterval, "deliver-interval": c.DeliverInterval} {
		if d, err := time.ParseDuration(v); err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s %q: a positive duration such as 30s", name, v))
		}
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("database-url is required (postgres://… or a SQLite file)"))
	}
	if !c.Sandbox {
		if _, err := decodeSecretKey(c.SecretKey); err != nil {
			errs = append(errs, err)
		}
		if len(c.Holders) == 0 {
			errs = append(errs, errors.New("without --sandbox, the config file must list the banks (holders)"))
		}
		if !strings.HasPrefix(c.PublicURL, "https://") {
			errs = append(errs, errors.New("without --sandbox, public-url must be the https base URL of this server (the redirect URI registered at the banks is <public-url>/callback)"))
		}
		if c.CNPJ == "" || c.ISPB == "" {
			errs = append(errs, errors.New("without --sandbox, the config file must give the ITP's cnpj and ispb"))
		}
	}
	return errors.Join(errs...)
}

func (c serveConfig) duration(s string) time.Duration {
	d, _ := time.ParseDuration(s)
	return d
}

// decodeSecretKey reads 32 bytes given as 64 hex digits or base64.
func decodeSecretKey(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("secret-key (PIXAUTO_SECRET_KEY) is required: 32 random bytes, hex or base64 (openssl rand -hex 32)")
	}
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, errors.New("secret-key must be 32 bytes, as 64 hex digits or base64")
}

// stores is what both store packages implement.
type stores interface {
	pixauto.Store
	server.Store
}

// openStore opens PostgreSQL for a postgres:// URL, else the SQLite file.
func openStore(ctx context.Context, url string) (stores, string, error) {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		s, err := postgres.Open(ctx, url)
		return s, "PostgreSQL", err
	}
	path := strings.TrimPrefix(url, "sqlite:")
	s, err := sqlite.Open(ctx, path)
	return s, "SQLite " + path, err
}

// holderFAPI builds the FAPI client of a configured bank; redirectURI is
// the callback page, registered at the bank.
func holderFAPI(h holderConfig, redirectURI string, hc func(*http.Client) *http.Client) (*fapi.Client, error) {
	if h.ID == "" || h.Issuer == "" || h.ClientID == "" || h.BaseURL == "" {
		return nil, fmt.Errorf("holder %q: id, issuer, client_id and base_url are required", h.ID)
	}
	cert, err := tls.LoadX509KeyPair(h.CertificateFile, h.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("holder %s: transport certificate: %w", h.ID, err)
	}
	roots, err := certPool(h.RootCAsFile)
	if err != nil {
		return nil, fmt.Errorf("holder %s: root_cas_file: %w", h.ID, err)
	}
	var public *x509.CertPool
	if h.PublicRootCAsFile != "" {
		if public, err = certPool(h.PublicRootCAsFile); err != nil {
			return nil, fmt.Errorf("holder %s: public_root_cas_file: %w", h.ID, err)
		}
	}
	sig, err := readKey(h.SigningKeyFile)
	if err != nil {
		return nil, fmt.Errorf("holder %s: signing_key_file: %w", h.ID, err)
	}
	enc, err := readKey(h.EncryptionKeyFile)
	if err != nil {
		return nil, fmt.Errorf("holder %s: encryption_key_file: %w", h.ID, err)
	}
	mtls, err := fapi.NewMTLSClient(cert, roots, 0)
	if err != nil {
		return nil, fmt.Errorf("holder %s: %w", h.ID, err)
	}
	return fapi.New(fapi.Config{
		Issuer: h.Issuer, ClientID: h.ClientID, Certificate: cert, RootCAs: roots, PublicRootCAs: public,
		SigningKey:         fapi.SigningKey{Signer: sig, KeyID: h.SigningKeyID},
		DecryptionKeys:     []fapi.DecryptionKey{{KeyID: h.EncryptionKeyID, Key: enc}},
		BankOrganisationID: h.BankOrganisationID, KeystoreURL: h.KeystoreURL, HTTPClient: hc(mtls), RedirectURI: redirectURI,
	})
}

func certPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, errors.New("no PEM certificate")
	}
	return p, nil
}

func readKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return pki.DecodeKey(b)
}

// discoveryCheck is a readiness check: the bank's discovery document
// answers 200 now (the FAPI client caches it, so it cannot tell).
func discoveryCheck(issuer string, hc *http.Client) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", nil)
		if err != nil {
			return err
		}
		res, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("discovery answered HTTP %d", res.StatusCode)
		}
		return nil
	}
}
