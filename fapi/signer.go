package fapi

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/go-jose/go-jose/v4"
)

// SigningKey is the ITP's message-signing key (BRSEAL): a crypto.Signer,
// so the private key may live in an HSM or a KMS, and the key id under
// which its public key is published in the directory's organisation JWKS.
type SigningKey struct {
	Signer crypto.Signer
	KeyID  string
}

// pssSigner adapts a crypto.Signer to go-jose's OpaqueSigner for PS256 with
// the salt length equal to the hash length (32 bytes), as RFC 7518 §3.5
// requires. go-jose's own cryptosigner passes PSSSaltLengthAuto, which an
// *rsa.PrivateKey turns into the maximum salt length, and strict verifiers
// reject such signatures.
type pssSigner struct {
	signer crypto.Signer
	kid    string
	rand   io.Reader
}

func (s *pssSigner) Public() *jose.JSONWebKey {
	return &jose.JSONWebKey{Key: s.signer.Public(), KeyID: s.kid, Algorithm: string(jose.PS256), Use: "sig"}
}

func (s *pssSigner) Algs() []jose.SignatureAlgorithm { return []jose.SignatureAlgorithm{jose.PS256} }

func (s *pssSigner) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if alg != jose.PS256 {
		return nil, fmt.Errorf("fapi: signing algorithm %s not supported", alg)
	}
	h := sha256.Sum256(payload)
	return s.signer.Sign(s.rand, h[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
}

// newJOSESigner returns a PS256 signer that writes kid and, if typ is not
// empty, typ into the protected header.
func newJOSESigner(k SigningKey, typ string, r io.Reader) (jose.Signer, error) {
	if k.Signer == nil {
		return nil, errors.New("fapi: no signing key")
	}
	if _, ok := k.Signer.Public().(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("fapi: signing key is %T, want RSA for PS256", k.Signer.Public())
	}
	if r == nil {
		r = rand.Reader
	}
	// The kid comes from pssSigner.Public().
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	return jose.NewSigner(jose.SigningKey{
		Algorithm: jose.PS256,
		Key:       jose.OpaqueSigner(&pssSigner{signer: k.Signer, kid: k.KeyID, rand: r}),
	}, opts)
}

// DecryptionKey is one of the ITP's encryption keys (published with
// use "enc" in its software JWKS); the bank encrypts id_tokens to it.
// Key is an *rsa.PrivateKey or a jose.OpaqueKeyDecrypter.
type DecryptionKey struct {
	KeyID string
	Key   any
}
