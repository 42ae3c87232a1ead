package pixauto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
)

// ErrSealed: a sealed value could not be opened (wrong key, or tampered).
var ErrSealed = errors.New("pixauto: sealed value cannot be opened")

// sealer encrypts secrets at rest (refresh tokens, PKCE verifiers) with
// AES-256-GCM. The additional data binds each value to its purpose and key,
// so a sealed value copied to another row does not open.
type sealer struct {
	aead cipher.AEAD
	rand io.Reader
}

func newSealer(key []byte, r io.Reader) (*sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("pixauto: Config.SecretKey must be 32 bytes (AES-256), got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if r == nil {
		r = rand.Reader
	}
	return &sealer{aead: aead, rand: r}, nil
}

func (s *sealer) seal(plain []byte, binding string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := io.ReadFull(s.rand, nonce); err != nil {
		return nil, fmt.Errorf("pixauto: seal: %w", err)
	}
	return s.aead.Seal(nonce, nonce, plain, []byte(binding)), nil
}

func (s *sealer) open(sealed []byte, binding string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, ErrSealed
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(binding))
	if err != nil {
		return nil, ErrSealed
	}
	return plain, nil
}
