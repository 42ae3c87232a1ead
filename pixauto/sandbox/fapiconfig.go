package sandbox

import (
	"context"
	"time"

	"github.com/ofb-go/pixauto/fapi"
)

// FAPIConfig returns the configuration of a FAPI client for itp at this
// bank: its certificate, keys and client id, the bank's roots, issuer,
// organisation and keystore, and the bank's clock (so that signed messages
// and token lifetimes agree with a ManualClock), and a Sleep that returns at
// once, so that resends after a fault cost a test no time. The bank only
// hands over what a real ITP would hold; the client still checks
// everything.
func (b *Bank) FAPIConfig(itp *ITP) fapi.Config {
	return fapi.Config{
		Issuer:             b.Issuer,
		ClientID:           itp.ClientID,
		Certificate:        itp.Certificate,
		RootCAs:            b.RootCAs,
		PublicRootCAs:      b.RootCAs,
		SigningKey:         fapi.SigningKey{Signer: itp.SigningKey, KeyID: itp.SigningKeyID},
		DecryptionKeys:     []fapi.DecryptionKey{{KeyID: itp.EncryptionKeyID, Key: itp.EncryptionKey}},
		RedirectURI:        itp.RedirectURI,
		BankOrganisationID: b.OrganisationID,
		KeystoreURL:        itp.KeystoreURL,
		Clock:              b.Clock,
		Sleep:              func(context.Context, time.Duration) error { return nil },
	}
}
