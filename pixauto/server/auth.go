package server

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/pixauto"
)

// API keys are "pxa_" and 52 base32 characters (32 random bytes). The first
// 16 characters ("pxa_" and 12) are the key's ID, stored in clear to find
// it; the store keeps only the SHA-256 of the whole key, compared in
// constant time. A key is shown once, when it is issued.
const (
	keyPrefix   = "pxa_"
	keyIDLength = len(keyPrefix) + 12
	keyLength   = len(keyPrefix) + 52
)

var (
	keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)
	keyPattern  = regexp.MustCompile(`^pxa_[a-z2-7]{52}$`)

	ispbPattern          = regexp.MustCompile(`^\d{8}$`)
	accountNumberPattern = regexp.MustCompile(`^\d{1,20}$`)
	branchPattern        = regexp.MustCompile(`^\d{4}$`)
)

// errBadKey is every authentication failure: the answer never says which
// check failed.
var errBadKey = errors.New("server: invalid API key")

func hashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// NewAPIKey returns a new key for receiverID (to show once) and its record
// (to store), from r (nil: crypto/rand).
func NewAPIKey(receiverID string, now time.Time, r io.Reader) (string, *APIKey, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [32]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", nil, fmt.Errorf("server: new API key: %w", err)
	}
	key := keyPrefix + keyEncoding.EncodeToString(b[:])
	return key, &APIKey{ID: key[:keyIDLength], ReceiverID: receiverID, Hash: hashKey(key), CreatedAt: now.UTC()}, nil
}

// IssueAPIKey creates and stores a new key of an existing receiver and
// returns it; it is not kept in clear anywhere.
func IssueAPIKey(ctx context.Context, s Store, receiverID string, now time.Time, r io.Reader) (string, error) {
	if _, err := s.GetReceiver(ctx, receiverID); err != nil {
		return "", err
	}
	key, rec, err := NewAPIKey(receiverID, now, r)
	if err != nil {
		return "", err
	}
	if err := s.InsertAPIKey(ctx, rec); err != nil {
		return "", err
	}
	return key, nil
}

// ReceiverInput describes a receiver to create.
type ReceiverInput struct {
	Name    string
	CNPJ    string
	Account consent.Account
}

// Validate checks the receiver's data as the consents and charges will
// need it.
func (in ReceiverInput) Validate() error {
	var errs []error
	if n := strings.TrimSpace(in.Name); n == "" || len(n) > 140 {
		errs = append(errs, errors.New("name: 1 to 140 characters"))
	}
	if !consent.IsCNPJ(in.CNPJ) {
		errs = append(errs, fmt.Errorf("cnpj %q: 14 characters, [0-9A-Z]{12}[0-9]{2}", in.CNPJ))
	}
	a := in.Account
	if !ispbPattern.MatchString(a.ISPB) {
		errs = append(errs, fmt.Errorf("account ISPB %q: 8 digits", a.ISPB))
	}
	if !accountNumberPattern.MatchString(a.Number) {
		errs = append(errs, fmt.Errorf("account number %q: 1 to 20 digits", a.Number))
	}
	switch a.AccountType {
	case consent.AccountCACC, consent.AccountSVGS:
		if !branchPattern.MatchString(a.Issuer) {
			errs = append(errs, fmt.Errorf("account branch %q: 4 digits (required for %s)", a.Issuer, a.AccountType))
		}
	case consent.AccountTRAN:
		if a.Issuer != "" && !branchPattern.MatchString(a.Issuer) {
			errs = append(errs, fmt.Errorf("account branch %q: 4 digits", a.Issuer))
		}
	default:
		errs = append(errs, fmt.Errorf("account type %q: CACC, SVGS or TRAN", a.AccountType))
	}
	return errors.Join(errs...)
}

// CreateReceiver validates and stores a new receiver with a first API key,
// and returns both; the key is shown once.
func CreateReceiver(ctx context.Context, s Store, in ReceiverInput, now time.Time, r io.Reader) (*Receiver, string, error) {
	if err := in.Validate(); err != nil {
		return nil, "", fmt.Errorf("server: receiver: %w", err)
	}
	id, err := newUUID(r)
	if err != nil {
		return nil, "", err
	}
	rec := &Receiver{ID: id, Name: strings.TrimSpace(in.Name), CNPJ: in.CNPJ, Account: in.Account, CreatedAt: now.UTC()}
	if err := s.InsertReceiver(ctx, rec); err != nil {
		return nil, "", err
	}
	key, err := IssueAPIKey(ctx, s, rec.ID, now, r)
	if err != nil {
		return nil, "", err
	}
	return rec, key, nil
}

// newUUID returns a UUIDv7: time-ordered, so that records made one after
// the other in a process sort in that order even within a millisecond.
func newUUID(r io.Reader) (string, error) {
	var (
		u   uuid.UUID
		err error
	)
	if r == nil {
		u, err = uuid.NewV7()
	} else {
		u, err = uuid.NewV7FromReader(r)
	}
	if err != nil {
		return "", fmt.Errorf("server: new id: %w", err)
	}
	return u.String(), nil
}

// authenticate returns the receiver of a bearer key: the key must have the
// right form, exist, be live, hash to the stored hash (compared in
// constant time) and belong to a stored receiver. Every failure is
// errBadKey, except a store failure.
func authenticate(ctx context.Context, s Store, header string) (*Receiver, *APIKey, error) {
	scheme, key, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, nil, errBadKey
	}
	key = strings.TrimSpace(key)
	if len(key) != keyLength || !keyPattern.MatchString(key) {
		return nil, nil, errBadKey
	}
	k, err := s.GetAPIKey(ctx, key[:keyIDLength])
	if errors.Is(err, pixauto.ErrNotFound) {
		return nil, nil, errBadKey
	}
	if err != nil {
		return nil, nil, err
	}
	if subtle.ConstantTimeCompare(k.Hash, hashKey(key)) != 1 || !k.RevokedAt.IsZero() {
		return nil, nil, errBadKey
	}
	rcv, err := s.GetReceiver(ctx, k.ReceiverID)
	if errors.Is(err, pixauto.ErrNotFound) {
		return nil, nil, errBadKey
	}
	if err != nil {
		return nil, nil, err
	}
	return rcv, k, nil
}

// sealer keeps webhook secrets encrypted at rest with AES-256-GCM, bound to
// their subscription.
type sealer struct {
	aead cipher.AEAD
	rand io.Reader
}

func newSealer(key []byte, r io.Reader) (*sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("server: SecretKey must be 32 bytes (AES-256), got %d", len(key))
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

func secretBinding(subscriptionID string) []byte { return []byte("webhook-secret:" + subscriptionID) }

func (s *sealer) seal(plain []byte, subscriptionID string) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := io.ReadFull(s.rand, nonce); err != nil {
		return nil, fmt.Errorf("server: seal: %w", err)
	}
	return s.aead.Seal(nonce, nonce, plain, secretBinding(subscriptionID)), nil
}

// errSealed: a webhook secret could not be opened (another key, or
// tampered).
var errSealed = errors.New("server: webhook secret cannot be opened (was SecretKey changed?)")

func (s *sealer) open(sealed []byte, subscriptionID string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, errSealed
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], secretBinding(subscriptionID))
	if err != nil {
		return nil, errSealed
	}
	return plain, nil
}
