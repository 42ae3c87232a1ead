package sandbox

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"strings"

	"github.com/ofb-go/pixauto/internal/pki"
	"github.com/ofb-go/pixauto/pixauto/sandbox/internal/jws"
)

// randomToken returns 32 random bytes, base64url: opaque tokens, codes and
// request_uri references.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newCNPJ returns a random CNPJ with valid check digits.
func newCNPJ() string {
	d := make([]int, 12, 14)
	for i := range 8 {
		n, _ := rand.Int(rand.Reader, big.NewInt(10))
		d[i] = int(n.Int64())
	}
	d[11] = 1 // branch 0001
	for _, weights := range [][]int{
		{5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2},
		{6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2},
	} {
		sum := 0
		for i, w := range weights {
			sum += d[i] * w
		}
		check := 11 - sum%11
		if check >= 10 {
			check = 0
		}
		d = append(d, check)
	}
	var s strings.Builder
	for _, v := range d {
		fmt.Fprint(&s, v)
	}
	return s.String()
}

// peerCert returns the client's leaf certificate, nil without one.
func peerCert(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil
	}
	return r.TLS.PeerCertificates[0]
}

// certThumbprint returns the x5t#S256 of the client certificate, "" without one.
func certThumbprint(r *http.Request) string {
	if c := peerCert(r); c != nil {
		return jws.Thumbprint(c.Raw)
	}
	return ""
}

// certIdentity extracts the organisation id (organizationIdentifier minus
// "OFBBR-", or the legacy OU) and the software id (UID) of a BRCAC, as the
// OpenID conformance suite does.
func certIdentity(c *x509.Certificate) (orgID, softwareID string) {
	for _, atv := range c.Subject.Names {
		v, _ := atv.Value.(string)
		switch {
		case atv.Type.Equal(pki.OIDOrganizationIdentifier):
			if id, ok := strings.CutPrefix(v, "OFBBR-"); ok {
				orgID = id
			}
		case atv.Type.Equal(pki.OIDUID):
			softwareID = v
		}
	}
	if orgID == "" && len(c.Subject.OrganizationalUnit) > 0 {
		orgID = c.Subject.OrganizationalUnit[0]
	}
	return orgID, softwareID
}
