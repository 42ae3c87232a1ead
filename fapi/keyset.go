package fapi

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// KeySetConfig configures a KeySet.
type KeySetConfig struct {
	// URL of the JWKS (a jwks_uri, or a directory keystore path such as
	// …/{orgId}/application.jwks).
	URL string
	// HTTPClient fetches it. Nil means a client with a 30 s timeout.
	HTTPClient *http.Client
	// Clock tells the time. Nil means the system clock.
	Clock Clock
	// MinRefresh is the least time between two fetches. Zero means 30 s.
	MinRefresh time.Duration
	// MaxAge is how long a fetched set is used before it is refetched on
	// the next lookup. Zero means 1 hour.
	MaxAge time.Duration
	// Logger receives notes about keys that were skipped. Nil discards.
	Logger *slog.Logger
}

// KeySet is a cached JSON Web Key Set of verification keys. A lookup of an
// unknown kid refreshes the set once, at most every MinRefresh, so a key
// rotation at the bank is picked up without letting a flood of bogus kids
// turn into a flood of fetches. Keys are parsed one by one: a malformed
// key is skipped instead of failing the whole set, and keys with use "enc"
// or of a type other than RSA are ignored. It is safe for concurrent use.
type KeySet struct {
	cfg KeySetConfig

	fetchMu sync.Mutex // serialises fetches

	mu          sync.RWMutex
	keys        map[string][]*rsa.PublicKey
	fetchedAt   time.Time
	lastAttempt time.Time
}

// NewKeySet returns an empty KeySet; nothing is fetched until a lookup.
func NewKeySet(cfg KeySetConfig) *KeySet {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	if cfg.MinRefresh == 0 {
		cfg.MinRefresh = 30 * time.Second
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &KeySet{cfg: cfg}
}

// URL returns the JWKS URL.
func (s *KeySet) URL() string { return s.cfg.URL }

// Keys returns the RSA signature keys with the given kid, fetching or
// refreshing the set as described on KeySet. It wraps ErrUnknownKeyID when
// no key matches.
func (s *KeySet) Keys(ctx context.Context, kid string) ([]*rsa.PublicKey, error) {
	now := s.cfg.Clock.Now()
	s.mu.RLock()
	keys, stale := s.keys[kid], s.keys == nil || now.Sub(s.fetchedAt) > s.cfg.MaxAge
	s.mu.RUnlock()
	if len(keys) > 0 && !stale {
		return keys, nil
	}
	if err := s.refresh(ctx, now); err != nil && len(keys) == 0 {
		return nil, err
	}
	s.mu.RLock()
	keys = s.keys[kid]
	s.mu.RUnlock()
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w %q in %s", ErrUnknownKeyID, kid, s.cfg.URL)
	}
	return keys, nil
}

// refresh fetches the set unless another fetch happened less than
// MinRefresh ago.
func (s *KeySet) refresh(ctx context.Context, now time.Time) error {
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	s.mu.RLock()
	recent := !s.lastAttempt.IsZero() && now.Sub(s.lastAttempt) < s.cfg.MinRefresh
	s.mu.RUnlock()
	if recent {
		return nil
	}
	s.mu.Lock()
	s.lastAttempt = now
	s.mu.Unlock()
	keys, err := s.fetch(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.keys, s.fetchedAt = keys, now
	s.mu.Unlock()
	return nil
}

func (s *KeySet) fetch(ctx context.Context) (map[string][]*rsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("fapi: jwks %s: %w", s.cfg.URL, err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fapi: jwks %s: %w", s.cfg.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentSize))
	if err != nil {
		return nil, fmt.Errorf("fapi: jwks %s: %w", s.cfg.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fapi: jwks %s: HTTP %d", s.cfg.URL, resp.StatusCode)
	}
	return parseKeySet(body, s.cfg.Logger)
}

// parseKeySet decodes a JWKS key by key (go-jose fails a whole set on one
// bad key) and keeps the RSA keys that may verify signatures.
func parseKeySet(body []byte, log *slog.Logger) (map[string][]*rsa.PublicKey, error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("fapi: jwks: decode: %w", err)
	}
	out := make(map[string][]*rsa.PublicKey, len(raw.Keys))
	for i, r := range raw.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(r); err != nil {
			log.Warn("fapi: skipping malformed JWK", "index", i, "err", err)
			continue
		}
		pub, ok := k.Key.(*rsa.PublicKey)
		if !ok || k.KeyID == "" || k.Use == "enc" {
			continue
		}
		out[k.KeyID] = append(out[k.KeyID], pub)
	}
	return out, nil
}
