// Package jws holds the JOSE plumbing of the sandbox bank: compact JWS
// signing (including the deliberately broken variants used for fault
// injection), nested JWE encryption, strict parsing of incoming compact JWS
// with an explicit algorithm list, and the OpenID Connect left-half hash.
package jws

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// Errors returned by Parse. They are wrapped with detail; use errors.Is.
var (
	// ErrMalformed means the input is not a compact JWS.
	ErrMalformed = errors.New("jws: not a compact JWS")
	// ErrAlgorithm means the alg header is not the one required.
	ErrAlgorithm = errors.New("jws: unexpected signing algorithm")
	// ErrNoKeyID means the header carries no kid.
	ErrNoKeyID = errors.New("jws: header has no kid")
)

// Signed is a parsed, not yet verified, compact JWS.
type Signed struct {
	obj *jose.JSONWebSignature
	// KeyID is the kid header.
	KeyID string
	// Algorithm is the alg header.
	Algorithm string
	// Type is the typ header, "" when absent.
	Type string
}

// Parse parses a compact JWS that must be signed with alg and must name its
// key with kid. The signature is not verified: call Verify.
func Parse(compact string, alg jose.SignatureAlgorithm) (*Signed, error) {
	if strings.Count(compact, ".") != 2 {
		return nil, fmt.Errorf("%w: want three dot-separated parts", ErrMalformed)
	}
	if got := headerAlg(compact); got != "" && got != string(alg) {
		return nil, fmt.Errorf("%w: alg is %q, want %s", ErrAlgorithm, got, alg)
	}
	obj, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{alg})
	if err != nil {
		var algErr *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &algErr) {
			return nil, fmt.Errorf("%w: %v", ErrAlgorithm, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(obj.Signatures) != 1 {
		return nil, fmt.Errorf("%w: want exactly one signature", ErrMalformed)
	}
	h := obj.Signatures[0].Protected
	s := &Signed{obj: obj, KeyID: h.KeyID, Algorithm: h.Algorithm}
	if typ, ok := h.ExtraHeaders[jose.HeaderType].(string); ok {
		s.Type = typ
	}
	if s.KeyID == "" {
		return nil, ErrNoKeyID
	}
	return s, nil
}

// headerAlg returns the alg of a compact JWS header without validating
// anything else, so that "none" and RS256 get a precise error message.
func headerAlg(compact string) string {
	head, _, _ := strings.Cut(compact, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return ""
	}
	return h.Alg
}

// Verify checks the signature with key and returns the payload.
func (s *Signed) Verify(key *rsa.PublicKey) ([]byte, error) {
	payload, err := s.obj.Verify(key)
	if err != nil {
		return nil, fmt.Errorf("jws: signature does not verify with key %q", s.KeyID)
	}
	return payload, nil
}

// UnsafePayload returns the payload without verifying the signature, to
// find out who claims to have signed it.
func (s *Signed) UnsafePayload() []byte {
	return s.obj.UnsafePayloadWithoutVerification()
}

// Sign signs payload with key as a compact JWS with the given alg (PS256 or
// RS256), kid and typ (omitted when "").
func Sign(key *rsa.PrivateKey, kid string, alg jose.SignatureAlgorithm, typ string, payload []byte) (string, error) {
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	if err != nil {
		return "", fmt.Errorf("jws: signer: %w", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("jws: sign: %w", err)
	}
	return obj.CompactSerialize()
}

// SignJSON marshals v and signs it like Sign.
func SignJSON(key *rsa.PrivateKey, kid string, alg jose.SignatureAlgorithm, typ string, v any) (string, error) {
	payload, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("jws: marshal claims: %w", err)
	}
	return Sign(key, kid, alg, typ, payload)
}

// Unsigned returns an "alg":"none" JWS of payload (RFC 7519 §6), which every
// FAPI party must refuse.
func Unsigned(typ string, payload []byte) string {
	head := map[string]string{"alg": "none"}
	if typ != "" {
		head["typ"] = typ
	}
	h, _ := json.Marshal(head)
	return b64(h) + "." + b64(payload) + "."
}

// CorruptSignature returns compact with one bit of its signature flipped, so
// the header and payload are intact but verification fails.
func CorruptSignature(compact string) string {
	i := strings.LastIndexByte(compact, '.')
	if i < 0 {
		return compact
	}
	sig, err := base64.RawURLEncoding.DecodeString(compact[i+1:])
	if err != nil || len(sig) == 0 {
		return compact
	}
	sig[len(sig)/2] ^= 0x01
	return compact[:i+1] + b64(sig)
}

// Encrypt wraps a compact JWS in a compact JWE for pub: key management alg
// (RSA-OAEP normally), content encryption A256GCM, kid in the header and
// cty "JWT" to mark the nested token.
func Encrypt(jwt string, pub *rsa.PublicKey, kid string, alg jose.KeyAlgorithm) (string, error) {
	opts := (&jose.EncrypterOptions{}).WithContentType("JWT")
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: alg, Key: pub, KeyID: kid}, opts)
	if err != nil {
		return "", fmt.Errorf("jws: encrypter: %w", err)
	}
	obj, err := enc.Encrypt([]byte(jwt))
	if err != nil {
		return "", fmt.Errorf("jws: encrypt: %w", err)
	}
	return obj.CompactSerialize()
}

// Decrypt opens a compact JWE that must use RSA-OAEP and A256GCM and name
// wantKID in its header, and returns the plaintext.
func Decrypt(compact string, key *rsa.PrivateKey, wantKID string) ([]byte, error) {
	obj, err := jose.ParseEncryptedCompact(compact, []jose.KeyAlgorithm{jose.RSA_OAEP}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		return nil, fmt.Errorf("jws: JWE must be compact RSA-OAEP/A256GCM: %w", err)
	}
	if obj.Header.KeyID != wantKID {
		return nil, fmt.Errorf("jws: JWE kid %q is not the server's encryption key", obj.Header.KeyID)
	}
	pt, err := obj.Decrypt(key)
	if err != nil {
		return nil, errors.New("jws: JWE does not decrypt with the server's encryption key")
	}
	return pt, nil
}

// HalfHash returns the OpenID Connect hash of s for a SHA-256 based alg: the
// base64url encoding of the left-most 128 bits of SHA-256(s), as used by
// c_hash, s_hash and at_hash.
func HalfHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return b64(sum[:len(sum)/2])
}

// Thumbprint returns the RFC 8705 x5t#S256 of a DER certificate.
func Thumbprint(der []byte) string {
	sum := sha256.Sum256(der)
	return b64(sum[:])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
