package fapi

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

var (
	oidOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}
	oidUID                    = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
)

// CertificateIdentity is what Open Finance Brasil reads from a BRCAC
// transport certificate's subject.
type CertificateIdentity struct {
	// OrganisationID is organizationIdentifier without its "OFBBR-" prefix,
	// or, for certificates issued before September 2022, the OU.
	OrganisationID string
	// SoftwareID is the UID attribute (the software statement id).
	SoftwareID string
	// CNPJ is the serialNumber attribute.
	CNPJ string
}

// IdentityFromCertificate extracts the organisation and software ids from a
// BRCAC subject, the way the directory and the conformance suite do.
func IdentityFromCertificate(cert *x509.Certificate) (CertificateIdentity, error) {
	if cert == nil {
		return CertificateIdentity{}, errors.New("fapi: no certificate")
	}
	var id CertificateIdentity
	id.CNPJ = cert.Subject.SerialNumber
	for _, atv := range cert.Subject.Names {
		v, ok := atv.Value.(string)
		if !ok {
			continue
		}
		switch {
		case atv.Type.Equal(oidOrganizationIdentifier):
			if org, found := strings.CutPrefix(v, "OFBBR-"); found {
				id.OrganisationID = org
			}
		case atv.Type.Equal(oidUID):
			id.SoftwareID = v
		}
	}
	if id.OrganisationID == "" && len(cert.Subject.OrganizationalUnit) == 1 {
		id.OrganisationID = cert.Subject.OrganizationalUnit[0]
	}
	if id.OrganisationID == "" {
		return id, errors.New("fapi: certificate subject has no organizationIdentifier (OFBBR-…) or OU")
	}
	return id, nil
}

// leafCertificate returns the parsed leaf of c.
func leafCertificate(c tls.Certificate) (*x509.Certificate, error) {
	if c.Leaf != nil {
		return c.Leaf, nil
	}
	if len(c.Certificate) == 0 {
		return nil, errors.New("fapi: empty certificate chain")
	}
	return x509.ParseCertificate(c.Certificate[0])
}

// CertificateThumbprint returns base64url(SHA-256(DER)), the x5t#S256 value
// that binds tokens to a certificate (RFC 8705 §3.1).
func CertificateThumbprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TLSConfig returns the client TLS configuration FAPI-BR asks for: TLS 1.2
// or later with the ECDHE-RSA AES-GCM suites, the transport certificate
// chain (leaf plus intermediates, which must be sent), the given roots
// (ICP-Brasil roots are not in public stores), no session resumption and
// no renegotiation.
func TLSConfig(cert tls.Certificate, roots *x509.CertPool) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		RootCAs:      roots,
		CipherSuites: []uint16{ // TLS 1.2 only; TLS 1.3 suites are not configurable and all are AEAD
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		},
		ClientSessionCache: nil,
		Renegotiation:      tls.RenegotiateNever,
	}
}

// NewMTLSClient returns an *http.Client that presents cert on every
// connection, trusts roots, reuses connections, and sends the FAPI headers
// through a Transport. timeout bounds each request (0 means 30 s).
func NewMTLSClient(cert tls.Certificate, roots *x509.CertPool, timeout time.Duration) (*http.Client, error) {
	if len(cert.Certificate) == 0 || cert.PrivateKey == nil {
		return nil, fmt.Errorf("fapi: transport certificate and key are required")
	}
	return newHTTPClient(TLSConfig(cert, roots), timeout), nil
}

// newPublicClient returns a client for endpoints without mTLS (discovery,
// JWKS, keystore, the authorization endpoint).
func newPublicClient(roots *x509.CertPool, timeout time.Duration) *http.Client {
	return newHTTPClient(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots}, timeout)
}

func newHTTPClient(tc *tls.Config, timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	base := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		TLSClientConfig:       tc,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: &Transport{Base: base},
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // FAPI endpoints never redirect; never follow with a bearer token
		},
	}
}
