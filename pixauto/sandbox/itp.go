package sandbox

import (
	"crypto/rsa"
	"crypto/tls"
	"fmt"
	"slices"
	"sync"

	"github.com/google/uuid"

	"github.com/ofb-go/pixauto/internal/pki"
	"github.com/ofb-go/pixauto/pixauto/sandbox/internal/directory"
)

// DefaultRedirectURI is the redirect URI of an ITP whose ITPConfig sets none.
const DefaultRedirectURI = "https://itp.example/callback"

// ITPConfig describes an ITP (payment initiator) to create with NewITP. The
// zero value is a registered ITP with one redirect URI and role PAGTO.
type ITPConfig struct {
	// RedirectURIs are the software statement's redirect URIs (absolute
	// https URIs without fragment), all registered.
	// nil → []string{DefaultRedirectURI}.
	RedirectURIs []string
	// WebhookURIs are the software statement's software_api_webhook_uris,
	// registered as webhook_uris. nil → none.
	WebhookURIs []string
	// Unregistered puts the ITP in the directory only: it has certificates,
	// keys and a software statement, and must register itself with DCR.
	// ITP.ClientID is then "".
	Unregistered bool
	// LegacyOU issues the transport certificate with the organisation id in
	// OU instead of organizationIdentifier, as before September 2022.
	LegacyOU bool
}

// ITP is everything a payment initiator needs to talk to the bank: its
// directory identity, transport certificate, keys and registration.
type ITP struct {
	// ClientID is the client id at the bank ("" if not registered).
	ClientID string
	// OrganisationID and SoftwareID are the directory identity, also in the
	// certificate's organizationIdentifier (OFBBR-…) and UID.
	OrganisationID string
	SoftwareID     string
	// CNPJ is the organisation's CNPJ, also the certificate's serialNumber.
	CNPJ string
	// Certificate is the BRCAC-like transport certificate; its chain
	// includes the intermediate.
	Certificate tls.Certificate
	// SigningKey (kid SigningKeyID) signs client assertions, request objects
	// and resource requests. It is published with use "sig" both in the
	// organisation JWKS and in the software JWKS.
	SigningKey   *rsa.PrivateKey
	SigningKeyID string
	// EncryptionKey (kid EncryptionKeyID) is published with use "enc" in the
	// software JWKS; the bank encrypts id_tokens to it.
	EncryptionKey   *rsa.PrivateKey
	EncryptionKeyID string
	// RedirectURI is the first of RedirectURIs.
	RedirectURI  string
	RedirectURIs []string
	// Scope is the registered scope ("" if not registered).
	Scope string
	// KeystoreURL is the base of the directory keystore.
	KeystoreURL string
	// JWKSURI is the software JWKS (the registered jwks_uri); OrgJWKSURI the
	// organisation JWKS, where resource servers find SigningKey.
	JWKSURI    string
	OrgJWKSURI string
	// RegistrationClientURI and RegistrationAccessToken are the DCM
	// credentials as issued at registration. The access token is rotated on
	// every DCM call, so this copy goes stale after the first one.
	RegistrationClientURI   string
	RegistrationAccessToken string
}

// NewITP creates an ITP with its own organisation, transport certificate
// and keys, publishes it in the directory and, unless cfg.Unregistered,
// registers it as a client through the same checks as DCR.
func (b *Bank) NewITP(cfg ITPConfig) (*ITP, error) {
	if cfg.RedirectURIs == nil {
		cfg.RedirectURIs = []string{DefaultRedirectURI}
	}
	if len(cfg.RedirectURIs) == 0 {
		return nil, fmt.Errorf("sandbox: ITPConfig.RedirectURIs is empty")
	}
	itp := &ITP{
		OrganisationID: uuid.NewString(),
		SoftwareID:     uuid.NewString(),
		CNPJ:           newCNPJ(),
		RedirectURI:    cfg.RedirectURIs[0],
		RedirectURIs:   slices.Clone(cfg.RedirectURIs),
		KeystoreURL:    b.KeystoreURL,
		SigningKeyID:   uuid.NewString(),
	}
	itp.EncryptionKeyID = uuid.NewString()
	itp.JWKSURI = b.dir.SoftwareJWKSURI(itp.OrganisationID, itp.SoftwareID)
	itp.OrgJWKSURI = b.dir.OrgJWKSURI(itp.OrganisationID)
	if err := b.issueITPCredentials(itp, cfg.LegacyOU); err != nil {
		return nil, err
	}
	if err := b.publishITP(itp, cfg); err != nil {
		return nil, err
	}
	if cfg.Unregistered {
		return itp, nil
	}
	if err := b.registerITP(itp); err != nil {
		return nil, err
	}
	return itp, nil
}

// issueITPCredentials creates the transport certificate and the two keys in
// parallel.
func (b *Bank) issueITPCredentials(itp *ITP, legacyOU bool) error {
	var wg sync.WaitGroup
	var certErr error
	wg.Go(func() {
		itp.Certificate, certErr = b.ca.IssueTransport(pki.Transport{
			OrganisationID: itp.OrganisationID,
			SoftwareID:     itp.SoftwareID,
			CNPJ:           itp.CNPJ,
			LegacyOU:       legacyOU,
		})
	})
	keys, keyErr := newKeys(2)
	wg.Wait()
	if certErr != nil {
		return fmt.Errorf("sandbox: ITP certificate: %w", certErr)
	}
	if keyErr != nil {
		return keyErr
	}
	itp.SigningKey, itp.EncryptionKey = keys[0], keys[1]
	return nil
}

func (b *Bank) publishITP(itp *ITP, cfg ITPConfig) error {
	now := b.now()
	org := directory.Organisation{ID: itp.OrganisationID, Name: "ITP " + itp.OrganisationID[:8] + " Ltda.", CNPJ: itp.CNPJ}
	sig, err := directory.PublicJWK(itp.SigningKey, itp.SigningKeyID, directory.UseSig, directory.SealSubject(org), now)
	if err != nil {
		return err
	}
	enc, err := directory.PublicJWK(itp.EncryptionKey, itp.EncryptionKeyID, directory.UseEnc, directory.SealSubject(org), now)
	if err != nil {
		return err
	}
	b.dir.AddOrganisation(org, sig)
	return b.dir.AddSoftware(directory.Software{
		ID:             itp.SoftwareID,
		OrganisationID: itp.OrganisationID,
		ClientName:     "ITP software " + itp.SoftwareID[:8],
		RedirectURIs:   cfg.RedirectURIs,
		WebhookURIs:    cfg.WebhookURIs,
		Roles:          []string{"PAGTO"},
	}, sig, enc)
}

// registerITP registers itp as DCR would, with a fresh SSA.
func (b *Bank) registerITP(itp *ITP) error {
	ssa, err := b.SoftwareStatement(itp)
	if err != nil {
		return err
	}
	sw, _ := b.dir.Software(itp.OrganisationID, itp.SoftwareID)
	yes := true
	req := &registrationRequest{
		SoftwareStatement:           ssa,
		RedirectURIs:                itp.RedirectURIs,
		JWKSURI:                     itp.JWKSURI,
		TokenEndpointAuthMethod:     "private_key_jwt",
		TokenEndpointAuthSigningAlg: "PS256",
		GrantTypes:                  []string{"authorization_code", "client_credentials", "refresh_token"},
		ResponseTypes:               []string{"code id_token"},
		IDTokenEncryptedResponseAlg: "RSA-OAEP",
		IDTokenEncryptedResponseEnc: "A256GCM",
		TLSBoundAccessTokens:        &yes,
		RequirePAR:                  &yes,
		WebhookURIs:                 sw.WebhookURIs,
	}
	m, oe := b.validateRegistration(req, itp.Certificate.Leaf)
	if oe != nil {
		return fmt.Errorf("sandbox: register ITP: %w", oe)
	}
	c, oe := b.register(m, itp.OrganisationID)
	if oe != nil {
		return fmt.Errorf("sandbox: register ITP: %w", oe)
	}
	itp.ClientID = c.ID
	itp.Scope = c.Metadata.Scope
	itp.RegistrationClientURI = c.Metadata.RegistrationClientURI
	itp.RegistrationAccessToken = c.RAT
	return nil
}

// SoftwareStatement returns a software statement assertion for itp, signed
// (PS256) by the directory key published at KeystoreURL/openbanking.jwks and
// issued now by the bank clock. The bank accepts it for MaxSSAAge.
func (b *Bank) SoftwareStatement(itp *ITP) (string, error) {
	if itp == nil {
		return "", fmt.Errorf("sandbox: SoftwareStatement: nil ITP")
	}
	return b.dir.SignSSA(itp.OrganisationID, itp.SoftwareID, b.now())
}

// NewCertificate issues a further transport certificate for itp's software,
// as after a certificate renewal. It does not replace itp.Certificate:
// tokens stay bound to the certificate they were issued to.
func (b *Bank) NewCertificate(itp *ITP) (tls.Certificate, error) {
	if itp == nil {
		return tls.Certificate{}, fmt.Errorf("sandbox: NewCertificate: nil ITP")
	}
	cert, err := b.ca.IssueTransport(pki.Transport{OrganisationID: itp.OrganisationID, SoftwareID: itp.SoftwareID, CNPJ: itp.CNPJ})
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("sandbox: NewCertificate: %w", err)
	}
	return cert, nil
}
