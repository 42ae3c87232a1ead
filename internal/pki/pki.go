// Package pki generates the test public-key infrastructure that stands in for
// ICP-Brasil and the Open Finance Brasil directory: a root CA, an
// intermediate, BRCAC-like transport certificates (subject carrying
// organizationIdentifier=OFBBR-<orgId> and UID=<softwareId>), TLS server
// certificates for loopback hosts, and RSA keys for signing (BRSEAL-like) and
// encryption.
//
// Everything is generated at run time, so nothing can expire during the life
// of the project: certificates are valid from one hour before the moment of
// issue for twenty years.
package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"sync"
	"time"
)

// Object identifiers used in Open Finance Brasil certificate subjects.
var (
	// OIDOrganizationIdentifier is organizationIdentifier (2.5.4.97); BRCAC
	// certificates carry "OFBBR-" + the organisation id in it.
	OIDOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}
	// OIDUID is userid (0.9.2342.19200300.100.1.1); BRCAC certificates carry
	// the software statement id in it.
	OIDUID = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
	// OIDBusinessCategory is businessCategory (2.5.4.15).
	OIDBusinessCategory = asn1.ObjectIdentifier{2, 5, 4, 15}
	// OIDJurisdictionCountry is jurisdictionCountryName (1.3.6.1.4.1.311.60.2.1.3).
	OIDJurisdictionCountry = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 60, 2, 1, 3}
)

// Lifetime is how long every generated certificate is valid.
const Lifetime = 20 * 365 * 24 * time.Hour

// KeyBits is the RSA modulus size of every generated key, as ICP-Brasil
// requires for BRCAC and BRSEAL.
const KeyBits = 2048

// CA is a two-level certificate authority: a self-signed root and an
// intermediate that issues the leaves. Leaves are returned with the
// intermediate in their chain, so a TLS client sends it as FAPI-BR requires.
type CA struct {
	Root            *x509.Certificate
	Intermediate    *x509.Certificate
	intermediateKey *rsa.PrivateKey
	now             func() time.Time
	mu              sync.Mutex
	serial          int64
}

// NewCA creates a root and an intermediate named after name.
func NewCA(name string) (*CA, error) {
	now := time.Now
	rootKey, err := NewKey()
	if err != nil {
		return nil, err
	}
	ca := &CA{now: now, serial: 1}
	rootTmpl := ca.template(pkix.Name{Organization: []string{name}, CommonName: name + " Root CA"})
	rootTmpl.IsCA = true
	rootTmpl.BasicConstraintsValid = true
	rootTmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	root, err := createCert(rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	interKey, err := NewKey()
	if err != nil {
		return nil, err
	}
	interTmpl := ca.template(pkix.Name{Organization: []string{name}, CommonName: name + " Issuing CA"})
	interTmpl.IsCA = true
	interTmpl.BasicConstraintsValid = true
	interTmpl.MaxPathLenZero = true
	interTmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	inter, err := createCert(interTmpl, root, &interKey.PublicKey, rootKey)
	if err != nil {
		return nil, err
	}
	ca.Root, ca.Intermediate, ca.intermediateKey = root, inter, interKey
	return ca, nil
}

// Pool returns a pool holding only the root, as a relying party configures
// the ICP-Brasil roots.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Root)
	return p
}

// Transport describes the subject of a BRCAC-like transport certificate.
type Transport struct {
	OrganisationID string // written as organizationIdentifier=OFBBR-<id>
	SoftwareID     string // written as UID
	CNPJ           string // written as serialNumber
	CommonName     string // an FQDN; defaults to "itp.example"
	// LegacyOU writes the organisation id in OU instead of
	// organizationIdentifier, as certificates issued before September 2022 do.
	LegacyOU bool
}

// IssueTransport issues a client certificate for mTLS with a fresh key.
func (ca *CA) IssueTransport(t Transport) (tls.Certificate, error) {
	key, err := NewKey()
	if err != nil {
		return tls.Certificate{}, err
	}
	cn := t.CommonName
	if cn == "" {
		cn = "itp.example"
	}
	name := pkix.Name{
		Country:      []string{"BR"},
		Province:     []string{"SP"},
		Locality:     []string{"Sao Paulo"},
		Organization: []string{"Test Org " + t.OrganisationID},
		CommonName:   cn,
		SerialNumber: t.CNPJ,
		ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: OIDBusinessCategory, Value: "Private Organization"},
			{Type: OIDJurisdictionCountry, Value: "BR"},
			{Type: OIDUID, Value: t.SoftwareID},
		},
	}
	if t.LegacyOU {
		name.OrganizationalUnit = []string{t.OrganisationID}
	} else {
		name.ExtraNames = append(name.ExtraNames, pkix.AttributeTypeAndValue{Type: OIDOrganizationIdentifier, Value: "OFBBR-" + t.OrganisationID})
	}
	tmpl := ca.template(name)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	tmpl.DNSNames = []string{cn}
	return ca.issue(tmpl, key)
}

// IssueServer issues a TLS server certificate for the given DNS names and IP
// addresses (for example "localhost" and "127.0.0.1").
func (ca *CA) IssueServer(hosts ...string) (tls.Certificate, error) {
	key, err := NewKey()
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := ca.template(pkix.Name{Country: []string{"BR"}, Organization: []string{"Sandbox Bank"}, CommonName: firstOr(hosts, "localhost")})
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	return ca.issue(tmpl, key)
}

func (ca *CA) issue(tmpl *x509.Certificate, key *rsa.PrivateKey) (tls.Certificate, error) {
	leaf, err := createCert(tmpl, ca.Intermediate, &key.PublicKey, ca.intermediateKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{
		Certificate: [][]byte{leaf.Raw, ca.Intermediate.Raw},
		PrivateKey:  key,
		Leaf:        leaf,
	}, nil
}

func (ca *CA) template(subject pkix.Name) *x509.Certificate {
	ca.mu.Lock()
	ca.serial++
	serial := ca.serial
	ca.mu.Unlock()
	now := ca.now()
	return &x509.Certificate{
		SerialNumber: new(big.Int).SetInt64(now.UnixNano() + serial),
		Subject:      subject,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(Lifetime),
	}
}

func createCert(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, fmt.Errorf("pki: create certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	return x509.ParseCertificate(der)
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

// NewKey returns a fresh RSA-2048 key from crypto/rand.
func NewKey() (*rsa.PrivateKey, error) {
	return NewKeyFrom(rand.Reader)
}

// NewKeyFrom returns a fresh RSA-2048 key from r.
func NewKeyFrom(r io.Reader) (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(r, KeyBits)
	if err != nil {
		return nil, fmt.Errorf("pki: generate RSA key: %w", err)
	}
	return k, nil
}

// EncodeCertificates returns the PEM encoding of a chain.
func EncodeCertificates(chain [][]byte) []byte {
	var out []byte
	for _, der := range chain {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	return out
}

// EncodeKey returns the PKCS#8 PEM encoding of a private key.
func EncodeKey(key crypto.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// DecodeKey parses a PEM private key (PKCS#8 or PKCS#1) and returns it as an
// RSA key.
func DecodeKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("pki: no PEM block in key data")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pki: parse key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("pki: key is %T, want RSA", k)
	}
	return rk, nil
}
