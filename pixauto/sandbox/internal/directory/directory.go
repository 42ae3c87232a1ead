// Package directory plays the Open Finance Brasil Directory of Participants
// for the sandbox bank: it knows organisations and their software
// statements, publishes their keys the way the directory keystore does, and
// issues and verifies software statement assertions (SSAs).
package directory

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // x5t (SHA-1) is a JWK thumbprint field, not a security decision
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"

	"github.com/ofb-go/pixauto/internal/pki"
	"github.com/ofb-go/pixauto/pixauto/sandbox/internal/jws"
)

// SSAIssuer is the iss of every SSA, as the sandbox directory writes it.
const SSAIssuer = "Open Banking Open Banking Brasil sandbox SSA issuer"

// Key uses as published in JWKS.
const (
	UseSig = "sig"
	UseEnc = "enc"
)

// Organisation is a participant of the directory.
type Organisation struct {
	ID   string
	Name string
	CNPJ string
}

// Software is a software statement of an organisation.
type Software struct {
	ID             string
	OrganisationID string
	ClientName     string
	RedirectURIs   []string
	WebhookURIs    []string
	Roles          []string
}

// Directory is an in-memory directory with its keystore. It is safe for
// concurrent use.
type Directory struct {
	baseURL string
	key     *rsa.PrivateKey
	jwk     jose.JSONWebKey

	mux *http.ServeMux

	mu   sync.Mutex
	orgs map[string]*org
}

type org struct {
	Organisation
	keys      []jose.JSONWebKey
	softwares map[string]*software
}

type software struct {
	Software
	keys []jose.JSONWebKey
}

// New returns a directory whose keystore is served at baseURL (no trailing
// slash) and that signs SSAs with key.
func New(baseURL string, key *rsa.PrivateKey, now time.Time) (*Directory, error) {
	kid := uuid.NewString()
	jwk, err := PublicJWK(key, kid, UseSig, pkix.Name{CommonName: "Open Finance Brasil Sandbox Directory"}, now)
	if err != nil {
		return nil, err
	}
	d := &Directory{baseURL: baseURL, key: key, jwk: jwk, orgs: map[string]*org{}}
	d.mux = d.routes()
	return d, nil
}

// KeyID returns the kid of the SSA signing key.
func (d *Directory) KeyID() string { return d.jwk.KeyID }

// PublicJWK returns the public JWK of key as the directory publishes it: kty,
// kid, use, n, e, x5c and x5t#S256, and no alg. The x5c holds a self-signed
// certificate for subject (a BRSEAL stand-in).
func PublicJWK(key *rsa.PrivateKey, kid, use string, subject pkix.Name, now time.Time) (jose.JSONWebKey, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("directory: serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      subject,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(pki.Lifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
	}
	if use == UseEnc {
		tmpl.KeyUsage = x509.KeyUsageKeyEncipherment | x509.KeyUsageDataEncipherment
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("directory: key certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return jose.JSONWebKey{}, fmt.Errorf("directory: key certificate: %w", err)
	}
	s1 := sha1.Sum(der) //nolint:gosec // thumbprint only
	s256 := sha256.Sum256(der)
	return jose.JSONWebKey{
		Key:                         &key.PublicKey,
		KeyID:                       kid,
		Use:                         use,
		Certificates:                []*x509.Certificate{cert},
		CertificateThumbprintSHA1:   s1[:],
		CertificateThumbprintSHA256: s256[:],
	}, nil
}

// SealSubject is the subject of the BRSEAL-like certificate of an
// organisation's signing key.
func SealSubject(o Organisation) pkix.Name {
	return pkix.Name{
		Country:      []string{"BR"},
		Organization: []string{"ICP-Brasil"},
		CommonName:   o.Name,
		SerialNumber: o.CNPJ,
		ExtraNames:   []pkix.AttributeTypeAndValue{{Type: pki.OIDUID, Value: o.ID}},
	}
}

// AddOrganisation registers o with its organisation-level signing keys,
// replacing any previous registration of the same id.
func (d *Directory) AddOrganisation(o Organisation, keys ...jose.JSONWebKey) {
	d.mu.Lock()
	defer d.mu.Unlock()
	prev := d.orgs[o.ID]
	n := &org{Organisation: o, keys: slices.Clone(keys), softwares: map[string]*software{}}
	if prev != nil {
		n.softwares = prev.softwares
	}
	d.orgs[o.ID] = n
}

// AddSoftware registers a software statement with its software-level keys
// (signing and encryption). Its organisation must exist.
func (d *Directory) AddSoftware(s Software, keys ...jose.JSONWebKey) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	o := d.orgs[s.OrganisationID]
	if o == nil {
		return fmt.Errorf("directory: unknown organisation %q", s.OrganisationID)
	}
	s.RedirectURIs = slices.Clone(s.RedirectURIs)
	s.WebhookURIs = slices.Clone(s.WebhookURIs)
	s.Roles = slices.Clone(s.Roles)
	o.softwares[s.ID] = &software{Software: s, keys: slices.Clone(keys)}
	return nil
}

// Software returns a registered software statement.
func (d *Directory) Software(orgID, softwareID string) (Software, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if o := d.orgs[orgID]; o != nil {
		if s := o.softwares[softwareID]; s != nil {
			return s.Software, true
		}
	}
	return Software{}, false
}

// Organisation returns a registered organisation.
func (d *Directory) Organisation(orgID string) (Organisation, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if o := d.orgs[orgID]; o != nil {
		return o.Organisation, true
	}
	return Organisation{}, false
}

// OrgJWKSURI returns the keystore URL of an organisation's signing keys.
func (d *Directory) OrgJWKSURI(orgID string) string {
	return d.baseURL + "/" + orgID + "/application.jwks"
}

// SoftwareJWKSURI returns the keystore URL of a software statement's keys
// (the jwks_uri a client registers).
func (d *Directory) SoftwareJWKSURI(orgID, softwareID string) string {
	return d.baseURL + "/" + orgID + "/" + softwareID + "/application.jwks"
}

// DirectoryJWKSURI returns the keystore URL of the SSA signing key.
func (d *Directory) DirectoryJWKSURI() string { return d.baseURL + "/openbanking.jwks" }

// OrgKeys returns the organisation-level signing keys of orgID.
func (d *Directory) OrgKeys(orgID string) (jose.JSONWebKeySet, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	o := d.orgs[orgID]
	if o == nil {
		return jose.JSONWebKeySet{}, false
	}
	return jose.JSONWebKeySet{Keys: slices.Clone(o.keys)}, true
}

// SoftwareKeys returns the keys of a software statement.
func (d *Directory) SoftwareKeys(orgID, softwareID string) (jose.JSONWebKeySet, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	o := d.orgs[orgID]
	if o == nil || o.softwares[softwareID] == nil {
		return jose.JSONWebKeySet{}, false
	}
	return jose.JSONWebKeySet{Keys: slices.Clone(o.softwares[softwareID].keys)}, true
}

// KeysAt resolves a software JWKS URL of this keystore (as registered as a
// client's jwks_uri) to its keys.
func (d *Directory) KeysAt(jwksURI string) (jose.JSONWebKeySet, bool) {
	rest, ok := strings.CutPrefix(jwksURI, d.baseURL+"/")
	if !ok {
		return jose.JSONWebKeySet{}, false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[2] != "application.jwks" {
		return jose.JSONWebKeySet{}, false
	}
	return d.SoftwareKeys(parts[0], parts[1])
}

// ServeHTTP serves the keystore, with paths relative to its base URL:
// /openbanking.jwks, /{orgId}/application.jwks,
// /{orgId}/{softwareId}/application.jwks and the inactive sets, which are
// always empty.
func (d *Directory) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mux.ServeHTTP(w, r)
}

func (d *Directory) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openbanking.jwks", func(w http.ResponseWriter, r *http.Request) {
		writeJWKS(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{d.jwk}})
	})
	mux.HandleFunc("GET /{org}/application.jwks", func(w http.ResponseWriter, r *http.Request) {
		set, ok := d.OrgKeys(r.PathValue("org"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		writeJWKS(w, set)
	})
	mux.HandleFunc("GET /{org}/{sw}/application.jwks", func(w http.ResponseWriter, r *http.Request) {
		set, ok := d.SoftwareKeys(r.PathValue("org"), r.PathValue("sw"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		writeJWKS(w, set)
	})
	empty := func(w http.ResponseWriter, r *http.Request) {
		if _, ok := d.Organisation(r.PathValue("org")); !ok {
			http.NotFound(w, r)
			return
		}
		writeJWKS(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}})
	}
	mux.HandleFunc("GET /{org}/inactive/application.jwks", empty)
	mux.HandleFunc("GET /{org}/{sw}/inactive/application.jwks", empty)
	return mux
}

func writeJWKS(w http.ResponseWriter, set jose.JSONWebKeySet) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(set)
}

// SSA is the claim set of a software statement assertion.
type SSA struct {
	Issuer                    string           `json:"iss"`
	IssuedAt                  *jwt.NumericDate `json:"iat"`
	ID                        string           `json:"jti"`
	SoftwareEnvironment       string           `json:"software_environment"`
	SoftwareMode              string           `json:"software_mode"`
	SoftwareID                string           `json:"software_id"`
	SoftwareClientID          string           `json:"software_client_id"`
	SoftwareClientName        string           `json:"software_client_name"`
	SoftwareVersion           string           `json:"software_version"`
	SoftwareRedirectURIs      []string         `json:"software_redirect_uris"`
	SoftwareRoles             []string         `json:"software_roles"`
	SoftwareJWKSURI           string           `json:"software_jwks_uri"`
	SoftwareJWKSInactiveURI   string           `json:"software_jwks_inactive_uri"`
	SoftwareAPIWebhookURIs    []string         `json:"software_api_webhook_uris,omitempty"`
	OrganisationID            string           `json:"org_id"`
	OrganisationName          string           `json:"org_name"`
	OrganisationNumber        string           `json:"org_number"`
	OrganisationStatus        string           `json:"org_status"`
	OrganisationJWKSURI       string           `json:"org_jwks_uri"`
	OrganisationJWKSInactiveU string           `json:"org_jwks_inactive_uri"`
}

// SignSSA returns a PS256 SSA for a registered software statement, issued at
// now.
func (d *Directory) SignSSA(orgID, softwareID string, now time.Time) (string, error) {
	o, ok := d.Organisation(orgID)
	if !ok {
		return "", fmt.Errorf("directory: unknown organisation %q", orgID)
	}
	s, ok := d.Software(orgID, softwareID)
	if !ok {
		return "", fmt.Errorf("directory: unknown software statement %q of %q", softwareID, orgID)
	}
	ssa := SSA{
		Issuer:                    SSAIssuer,
		IssuedAt:                  jwt.NewNumericDate(now),
		ID:                        uuid.NewString(),
		SoftwareEnvironment:       "sandbox",
		SoftwareMode:              "Live",
		SoftwareID:                s.ID,
		SoftwareClientID:          s.ID,
		SoftwareClientName:        s.ClientName,
		SoftwareVersion:           "1.0",
		SoftwareRedirectURIs:      s.RedirectURIs,
		SoftwareRoles:             s.Roles,
		SoftwareJWKSURI:           d.SoftwareJWKSURI(orgID, softwareID),
		SoftwareJWKSInactiveURI:   d.baseURL + "/" + orgID + "/" + softwareID + "/inactive/application.jwks",
		SoftwareAPIWebhookURIs:    s.WebhookURIs,
		OrganisationID:            o.ID,
		OrganisationName:          o.Name,
		OrganisationNumber:        o.CNPJ,
		OrganisationStatus:        "Active",
		OrganisationJWKSURI:       d.OrgJWKSURI(orgID),
		OrganisationJWKSInactiveU: d.baseURL + "/" + orgID + "/inactive/application.jwks",
	}
	return jws.SignJSON(d.key, d.jwk.KeyID, jose.PS256, "JWT", ssa)
}

// Errors of VerifySSA.
var (
	// ErrSSASignature means the SSA is not a PS256 JWS by the directory key.
	ErrSSASignature = errors.New("directory: software statement is not signed by the directory")
	// ErrSSAStale means the SSA's iat is missing, too old or in the future.
	ErrSSAStale = errors.New("directory: software statement is not fresh")
	// ErrSSAClaims means required claims are missing.
	ErrSSAClaims = errors.New("directory: software statement claims are incomplete")
)

// VerifySSA checks that raw is an SSA signed by this directory, issued no
// more than maxAge before now (and not after now+leeway), and carrying the
// claims a registration needs.
func (d *Directory) VerifySSA(raw string, now time.Time, maxAge, leeway time.Duration) (*SSA, error) {
	s, err := jws.Parse(raw, jose.PS256)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSSASignature, err)
	}
	if s.KeyID != d.jwk.KeyID {
		return nil, fmt.Errorf("%w: kid %q is not in %s", ErrSSASignature, s.KeyID, d.DirectoryJWKSURI())
	}
	payload, err := s.Verify(&d.key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSSASignature, err)
	}
	var ssa SSA
	if err := json.Unmarshal(payload, &ssa); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSSAClaims, err)
	}
	if ssa.IssuedAt == nil {
		return nil, fmt.Errorf("%w: no iat", ErrSSAStale)
	}
	iat := ssa.IssuedAt.Time()
	if now.Sub(iat) > maxAge {
		return nil, fmt.Errorf("%w: issued %s ago, more than %s", ErrSSAStale, now.Sub(iat).Round(time.Second), maxAge)
	}
	if iat.After(now.Add(leeway)) {
		return nil, fmt.Errorf("%w: iat is in the future", ErrSSAStale)
	}
	switch {
	case ssa.Issuer != SSAIssuer:
		return nil, fmt.Errorf("%w: iss %q", ErrSSAClaims, ssa.Issuer)
	case ssa.SoftwareID == "", ssa.OrganisationID == "":
		return nil, fmt.Errorf("%w: software_id and org_id are required", ErrSSAClaims)
	case ssa.SoftwareJWKSURI == "":
		return nil, fmt.Errorf("%w: software_jwks_uri is required", ErrSSAClaims)
	case len(ssa.SoftwareRedirectURIs) == 0:
		return nil, fmt.Errorf("%w: software_redirect_uris is required", ErrSSAClaims)
	}
	return &ssa, nil
}
