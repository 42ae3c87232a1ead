package sandbox

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ofb-go/pixauto/pixauto/sandbox/internal/directory"
	"github.com/ofb-go/pixauto/pixauto/sandbox/internal/jws"
)

// idTokenParams describe one id_token to issue.
type idTokenParams struct {
	Client   *client
	Subject  string
	Nonce    string
	ACR      string
	AuthTime time.Time
	// Code and State are set for the front-channel id_token (c_hash,
	// s_hash); AccessToken for the token-endpoint one (at_hash).
	Code        string
	State       string
	AccessToken string
}

// issueIDToken builds, signs (PS256) and encrypts (RSA-OAEP/A256GCM, to the
// client's enc key) an id_token, applying the IDToken faults in force.
func (b *Bank) issueIDToken(p idTokenParams) (string, error) {
	f := b.Faults().IDToken
	claims := b.idTokenClaims(p, f)
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sandbox: id_token claims: %w", err)
	}
	signed, err := b.signIDToken(payload, f)
	if err != nil {
		return "", err
	}
	set, ok := b.dir.KeysAt(p.Client.Metadata.JWKSURI)
	if !ok {
		return "", fmt.Errorf("sandbox: client %s jwks_uri cannot be resolved", p.Client.ID)
	}
	enc := findKey(set, "", directory.UseEnc)
	if enc == nil {
		return "", fmt.Errorf("sandbox: client %s has no encryption key", p.Client.ID)
	}
	alg := jose.RSA_OAEP
	if f.EncryptRSA15 {
		alg = jose.RSA1_5
	}
	return jws.Encrypt(signed, enc.Key.(*rsa.PublicKey), enc.KeyID, alg)
}

func (b *Bank) idTokenClaims(p idTokenParams, f IDTokenFaults) map[string]any {
	now := b.now()
	c := map[string]any{
		"iss":       b.Issuer,
		"sub":       p.Subject,
		"aud":       p.Client.ID,
		"exp":       now.Add(IDTokenLifetime).Unix(),
		"iat":       now.Unix(),
		"nonce":     p.Nonce,
		"acr":       p.ACR,
		"auth_time": p.AuthTime.Unix(),
	}
	if p.Code != "" {
		c["c_hash"] = jws.HalfHash(p.Code)
		if f.InvalidCHash {
			c["c_hash"] = jws.HalfHash(p.Code) + "1"
		}
	}
	if p.State != "" {
		c["s_hash"] = jws.HalfHash(p.State)
		if f.InvalidSHash {
			c["s_hash"] = jws.HalfHash(p.State) + "1"
		}
		if f.MissingSHash {
			delete(c, "s_hash")
		}
	}
	if p.AccessToken != "" && !f.NoAtHash {
		c["at_hash"] = jws.HalfHash(p.AccessToken)
	}
	applyClaimFaults(c, p, f, now)
	return c
}

func applyClaimFaults(c map[string]any, p idTokenParams, f IDTokenFaults, now time.Time) {
	if f.InvalidNonce {
		c["nonce"] = p.Nonce + "-invalid"
	}
	if f.InvalidIssuer {
		c["iss"] = c["iss"].(string) + "/invalid"
	}
	switch {
	case f.InvalidAudience:
		c["aud"] = "invalid-" + p.Client.ID
	case f.SecondaryAudience:
		c["aud"] = []string{p.Client.ID, p.Client.ID + "1"}
	case f.AudAsArray:
		c["aud"] = []string{p.Client.ID}
	}
	if f.Expired {
		c["exp"] = now.Add(-6 * time.Minute).Unix()
	}
	if f.IatWeekOld {
		c["iat"] = now.Add(-7 * 24 * time.Hour).Unix()
	}
	for name, missing := range map[string]bool{"exp": f.MissingExp, "aud": f.MissingAud, "iss": f.MissingIss, "nonce": f.MissingNonce} {
		if missing {
			delete(c, name)
		}
	}
}

func (b *Bank) signIDToken(payload []byte, f IDTokenFaults) (string, error) {
	kid := b.keys.idTokenJWK.KeyID
	var signed string
	var err error
	switch {
	case f.AlgNone:
		return jws.Unsigned("", payload), nil
	case f.AlgRS256:
		signed, err = jws.Sign(b.keys.idToken, kid, jose.RS256, "", payload)
	default:
		signed, err = jws.Sign(b.keys.idToken, kid, jose.PS256, "", payload)
	}
	if err != nil {
		return "", err
	}
	if f.InvalidSignature {
		signed = jws.CorruptSignature(signed)
	}
	return signed, nil
}
