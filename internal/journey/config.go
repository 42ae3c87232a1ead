package journey

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
)

// BankConfig is the JSON file that points the journeys at a bank: the ITP's
// registration and keys there, the bank's endpoints, and the test payer.
// Paths are relative to the file's directory. Its keys are those of a
// "holders" entry of the pixauto serve configuration (and of the
// holder.json that pixauto sandbox writes), plus redirect_uri, payer_cpf
// and itp_ispb.
type BankConfig struct {
	// ID names the bank; it is not used.
	ID string `json:"id,omitempty"`
	// Issuer is the bank's OpenID issuer (discovery is read from
	// Issuer/.well-known/openid-configuration).
	Issuer string `json:"issuer"`
	// ClientID is the ITP's client id at the bank (from DCR).
	ClientID string `json:"client_id"`
	// Certificate and CertificateKey are PEM files of the BRCAC transport
	// certificate (with its intermediates) and its private key.
	Certificate    string `json:"certificate_file"`
	CertificateKey string `json:"key_file"`
	// SigningKey is a PEM RSA private key (BRSEAL), published in the
	// directory under SigningKeyID.
	SigningKey   string `json:"signing_key_file"`
	SigningKeyID string `json:"signing_key_id"`
	// EncryptionKey is a PEM RSA private key, published in the software
	// JWKS under EncryptionKeyID; the bank encrypts id_tokens to it.
	EncryptionKey   string `json:"encryption_key_file"`
	EncryptionKeyID string `json:"encryption_key_id"`
	// RedirectURI is the registered redirect URI.
	RedirectURI string `json:"redirect_uri"`
	// BankOrganisationID is the bank's organisation id in the directory.
	BankOrganisationID string `json:"bank_organisation_id"`
	// KeystoreURL is the directory keystore base.
	KeystoreURL string `json:"keystore_url"`
	// APIBaseURL is the bank's automatic-payments base on its mTLS host,
	// ending in /open-banking/automatic-payments/v2.
	APIBaseURL string `json:"base_url"`
	// RootCAs is a PEM bundle of the roots of the bank's mTLS endpoints
	// (ICP-Brasil, or the directory sandbox's).
	RootCAs string `json:"root_cas_file"`
	// PayerCPF is the test payer at the bank: every consent's loggedUser.
	PayerCPF string `json:"payer_cpf"`
	// ITPISPB is the ITP's ISPB, the start of its endToEndIds.
	ITPISPB string `json:"itp_ispb"`

	// Optional.

	// PublicRootCAs is a PEM bundle of the roots of its public endpoints
	// (discovery, keystore, authorization); "" → the system's and RootCAs.
	PublicRootCAs string `json:"public_root_cas_file,omitempty"`
	// PayerName is the contract debtor's name ("" → DefaultPayerName).
	PayerName string `json:"payer_name,omitempty"`
	// ITPCNPJ is cnpjInitiator ("" → the transport certificate's).
	ITPCNPJ string `json:"itp_cnpj,omitempty"`
	// OrganisationID is the ITP's organisation id ("" → the transport
	// certificate's).
	OrganisationID string `json:"organisation_id,omitempty"`
	// Creditor is the receiver (nil → the test receiver).
	Creditor *CreditorConfig `json:"creditor,omitempty"`

	dir string
}

// CreditorConfig is the receiver of a BankConfig.
type CreditorConfig struct {
	CNPJ    string          `json:"cnpj"`
	Name    string          `json:"name"`
	Account consent.Account `json:"account"`
}

// required lists the required fields with what each is.
func (c *BankConfig) required() []struct{ name, value, what string } {
	return []struct{ name, value, what string }{
		{"issuer", c.Issuer, "the bank's OpenID issuer URL"},
		{"client_id", c.ClientID, "the ITP's client id at the bank"},
		{"certificate_file", c.Certificate, "PEM file of the transport certificate"},
		{"key_file", c.CertificateKey, "PEM file of the transport certificate's key"},
		{"signing_key_file", c.SigningKey, "PEM file of the message-signing key"},
		{"signing_key_id", c.SigningKeyID, "the signing key's kid in the directory"},
		{"encryption_key_file", c.EncryptionKey, "PEM file of the id_token encryption key"},
		{"encryption_key_id", c.EncryptionKeyID, "the encryption key's kid"},
		{"redirect_uri", c.RedirectURI, "the ITP's registered redirect URI"},
		{"bank_organisation_id", c.BankOrganisationID, "the bank's organisation id in the directory"},
		{"keystore_url", c.KeystoreURL, "the directory keystore URL"},
		{"base_url", c.APIBaseURL, "the bank's automatic-payments base URL"},
		{"root_cas_file", c.RootCAs, "PEM bundle of the bank's root CAs"},
		{"payer_cpf", c.PayerCPF, "the CPF of the test payer at the bank"},
		{"itp_ispb", c.ITPISPB, "the ITP's ISPB"},
	}
}

var ispbRE = regexp.MustCompile(`^[0-9A-Z]{8}$`)

// LoadBankConfig reads and checks a bank configuration file.
func LoadBankConfig(path string) (*BankConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bank config: %w", err)
	}
	var c BankConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("bank config %s: %w", path, err)
	}
	c.dir = filepath.Dir(path)
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("bank config %s: %w", path, err)
	}
	return &c, nil
}

// Validate checks that every required field is set and well formed.
func (c *BankConfig) Validate() error {
	var missing, bad []string
	for _, f := range c.required() {
		if strings.TrimSpace(f.value) == "" {
			missing = append(missing, fmt.Sprintf("%q (%s)", f.name, f.what))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s: %s", plural(len(missing), "field", "fields"), strings.Join(missing, ", "))
	}
	for _, u := range []struct{ name, value string }{{"issuer", c.Issuer}, {"redirect_uri", c.RedirectURI}, {"keystore_url", c.KeystoreURL}, {"base_url", c.APIBaseURL}} {
		p, err := url.Parse(u.value)
		if err != nil || p.Scheme != "https" || p.Host == "" {
			bad = append(bad, fmt.Sprintf("%q is not an absolute https URL: %q", u.name, u.value))
		}
	}
	if !consent.IsCPF(c.PayerCPF) {
		bad = append(bad, fmt.Sprintf(`"payer_cpf" is not a valid CPF (11 digits): %q`, c.PayerCPF))
	}
	if !ispbRE.MatchString(c.ITPISPB) {
		bad = append(bad, fmt.Sprintf(`"itp_ispb" is not an ISPB (8 digits or capital letters): %q`, c.ITPISPB))
	}
	if c.ITPCNPJ != "" && !consent.IsCNPJ(c.ITPCNPJ) {
		bad = append(bad, fmt.Sprintf(`"itp_cnpj" is not a valid CNPJ: %q`, c.ITPCNPJ))
	}
	if cr := c.Creditor; cr != nil {
		if !consent.IsCNPJ(cr.CNPJ) {
			bad = append(bad, fmt.Sprintf(`"creditor.cnpj" is not a valid CNPJ: %q`, cr.CNPJ))
		}
		if strings.TrimSpace(cr.Name) == "" {
			bad = append(bad, `"creditor.name" is empty`)
		}
		if cr.Account.Number == "" || cr.Account.ISPB == "" || cr.Account.AccountType == "" {
			bad = append(bad, `"creditor.account" needs ispb, number and accountType`)
		}
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (c *BankConfig) path(p string) string {
	if filepath.IsAbs(p) || c.dir == "" {
		return p
	}
	return filepath.Join(c.dir, p)
}

// FAPIConfig loads the certificate, keys and roots and returns the ITP's
// FAPI client configuration; clock nil means the system clock.
func (c *BankConfig) FAPIConfig(clock fapi.Clock) (fapi.Config, error) {
	cert, err := tls.LoadX509KeyPair(c.path(c.Certificate), c.path(c.CertificateKey))
	if err != nil {
		return fapi.Config{}, fmt.Errorf(`"certificate_file"/"key_file": %w`, err)
	}
	signer, err := loadRSAKey(c.path(c.SigningKey))
	if err != nil {
		return fapi.Config{}, fmt.Errorf(`"signing_key_file": %w`, err)
	}
	enc, err := loadRSAKey(c.path(c.EncryptionKey))
	if err != nil {
		return fapi.Config{}, fmt.Errorf(`"encryption_key_file": %w`, err)
	}
	roots, public, err := loadRoots(c.path(c.RootCAs), true)
	if err != nil {
		return fapi.Config{}, fmt.Errorf(`"root_cas_file": %w`, err)
	}
	if c.PublicRootCAs != "" {
		if public, _, err = loadRoots(c.path(c.PublicRootCAs), false); err != nil {
			return fapi.Config{}, fmt.Errorf(`"public_root_cas_file": %w`, err)
		}
	}
	return fapi.Config{
		Issuer: strings.TrimSuffix(c.Issuer, "/"), ClientID: c.ClientID, Certificate: cert,
		RootCAs: roots, PublicRootCAs: public, OrganisationID: c.OrganisationID,
		SigningKey:     fapi.SigningKey{Signer: signer, KeyID: c.SigningKeyID},
		DecryptionKeys: []fapi.DecryptionKey{{KeyID: c.EncryptionKeyID, Key: enc}},
		RedirectURI:    c.RedirectURI, BankOrganisationID: c.BankOrganisationID, KeystoreURL: strings.TrimSuffix(c.KeystoreURL, "/"),
		Clock: clock,
	}, nil
}

// Parties returns the parties of the journeys at this bank.
func (c *BankConfig) Parties(cert tls.Certificate) (Parties, error) {
	p := Parties{
		ITPISPB: c.ITPISPB, ITPCNPJ: c.ITPCNPJ, PayerCPF: c.PayerCPF, PayerName: c.PayerName,
		CreditorCNPJ: DefaultCreditorCNPJ, CreditorName: DefaultCreditorName, CreditorAccount: DefaultCreditorAccount,
	}
	if p.PayerName == "" {
		p.PayerName = DefaultPayerName
	}
	if cr := c.Creditor; cr != nil {
		p.CreditorCNPJ, p.CreditorName, p.CreditorAccount = cr.CNPJ, cr.Name, cr.Account
	}
	if p.ITPCNPJ == "" {
		if len(cert.Certificate) == 0 {
			return p, errors.New(`"certificate_file" holds no certificate`)
		}
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			return p, fmt.Errorf(`"certificate_file": %w`, err)
		}
		id, err := fapi.IdentityFromCertificate(leaf)
		if err != nil || !consent.IsCNPJ(id.CNPJ) {
			return p, fmt.Errorf(`the transport certificate carries no CNPJ (serialNumber); set "itp_cnpj" (%v)`, err)
		}
		p.ITPCNPJ = id.CNPJ
	}
	return p, nil
}

// Env returns the environment of the journeys against the configured bank:
// no control of its side (a payer may be added); clock nil means the system
// clock.
func (c *BankConfig) Env(clock fapi.Clock) (*Env, error) {
	fc, err := c.FAPIConfig(clock)
	if err != nil {
		return nil, err
	}
	parties, err := c.Parties(fc.Certificate)
	if err != nil {
		return nil, err
	}
	return NewEnv(fc, strings.TrimSuffix(c.APIBaseURL, "/"), parties)
}

func loadRSAKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: not a PKCS#1 or PKCS#8 private key: %w", path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: a %T key; PS256 and RSA-OAEP need RSA", path, k)
	}
	return rk, nil
}

// loadRoots reads a PEM bundle; with system, public is the system's roots
// and the bundle's.
func loadRoots(path string, system bool) (bundle, public *x509.CertPool, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	bundle = x509.NewCertPool()
	if !bundle.AppendCertsFromPEM(data) {
		return nil, nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	if !system {
		return bundle, nil, nil
	}
	public, err = x509.SystemCertPool()
	if err != nil || public == nil {
		public = x509.NewCertPool()
	}
	public.AppendCertsFromPEM(data)
	return bundle, public, nil
}
