package fapi

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// TokenSource returns access tokens. Unlike oauth2.TokenSource it takes a
// context, so a token request can be cancelled. Implementations are safe for
// concurrent use and return tokens that must not be modified.
type TokenSource interface {
	Token(ctx context.Context) (*oauth2.Token, error)
}

// Invalidator is implemented by token sources that can drop a token the
// resource server refused (401 invalid_token), so the next Token call gets a
// new one.
type Invalidator interface {
	Invalidate(stale *oauth2.Token)
}

// expiryDelta is how long before its expiry a cached token is renewed.
const expiryDelta = 10 * time.Second

func valid(t *oauth2.Token, now time.Time) bool {
	return t != nil && t.AccessToken != "" && (t.Expiry.IsZero() || now.Add(expiryDelta).Before(t.Expiry))
}

// ClientCredentialsSource returns a cached client_credentials TokenSource
// for scopes (for Pix Automático: ScopeRecurringPayments). A new token is
// requested — with a fresh client assertion — when the cached one is within
// 10 s of its expiry or was invalidated.
func (c *Client) ClientCredentialsSource(scopes ...string) TokenSource {
	return &ccSource{c: c, scopes: scopes}
}

type ccSource struct {
	c      *Client
	scopes []string
	mu     sync.Mutex
	tok    *oauth2.Token
}

func (s *ccSource) Token(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if valid(s.tok, s.c.now()) {
		return s.tok, nil
	}
	tok, err := s.c.ClientCredentials(ctx, s.scopes...)
	if err != nil {
		return nil, err
	}
	s.tok = tok
	return tok, nil
}

func (s *ccSource) Invalidate(stale *oauth2.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && stale != nil && s.tok.AccessToken == stale.AccessToken {
		s.tok = nil
	}
}

// RefreshTokenStore persists the refresh token of each consent. Refresh
// tokens of Pix Automático consents live as long as the consent (months or
// years), so they must survive restarts; implementations should encrypt them
// at rest. The newest token returned by the bank always replaces the stored
// one.
type RefreshTokenStore interface {
	// LoadRefreshToken returns the refresh token stored under key, or an
	// error wrapping ErrNoRefreshToken.
	LoadRefreshToken(ctx context.Context, key string) (string, error)
	// SaveRefreshToken stores token under key, replacing any older one.
	SaveRefreshToken(ctx context.Context, key, token string) error
}

// MemoryRefreshTokenStore is a RefreshTokenStore in memory, for tests and
// single-process tools. The zero value is ready to use.
type MemoryRefreshTokenStore struct {
	mu sync.Mutex
	m  map[string]string
}

// LoadRefreshToken implements RefreshTokenStore.
func (m *MemoryRefreshTokenStore) LoadRefreshToken(_ context.Context, key string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.m[key]
	if !ok {
		return "", ErrNoRefreshToken
	}
	return t, nil
}

// SaveRefreshToken implements RefreshTokenStore.
func (m *MemoryRefreshTokenStore) SaveRefreshToken(_ context.Context, key, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]string{}
	}
	m.m[key] = token
	return nil
}

// ConsentTokenSource returns the TokenSource of a consent's authorization:
// it starts from initial (the Grant's token; may be nil after a restart),
// and when the access token expires or is invalidated it uses the refresh
// token from store (key is usually the consent id) — saving any new refresh
// token the bank returns before handing out the access token. scopes, if
// given, are sent with the refresh (a subset of the granted ones).
func (c *Client) ConsentTokenSource(key string, store RefreshTokenStore, initial *oauth2.Token, scopes ...string) TokenSource {
	return &consentSource{c: c, key: key, store: store, tok: initial, scopes: scopes}
}

// SaveGrant stores the grant's refresh token under key, the first step
// after CompleteAuthorization.
func SaveGrant(ctx context.Context, store RefreshTokenStore, key string, g *Grant) error {
	if g == nil || g.Token == nil || g.Token.RefreshToken == "" {
		return errors.New("fapi: grant has no refresh token")
	}
	return store.SaveRefreshToken(ctx, key, g.Token.RefreshToken)
}

type consentSource struct {
	c      *Client
	key    string
	store  RefreshTokenStore
	scopes []string
	mu     sync.Mutex
	tok    *oauth2.Token
}

func (s *consentSource) Token(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if valid(s.tok, s.c.now()) {
		return s.tok, nil
	}
	rt, err := s.store.LoadRefreshToken(ctx, s.key)
	if err != nil {
		if s.tok != nil && s.tok.RefreshToken != "" && errors.Is(err, ErrNoRefreshToken) {
			rt = s.tok.RefreshToken
		} else {
			return nil, err
		}
	}
	tok, err := s.c.Refresh(ctx, rt, s.scopes...)
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken != rt {
		if err := s.store.SaveRefreshToken(ctx, s.key, tok.RefreshToken); err != nil {
			return nil, err
		}
	}
	s.tok = tok
	return tok, nil
}

func (s *consentSource) Invalidate(stale *oauth2.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok != nil && stale != nil && s.tok.AccessToken == stale.AccessToken {
		s.tok = &oauth2.Token{RefreshToken: s.tok.RefreshToken} // keep the refresh token, drop the access token
	}
}

// OAuth2 adapts a TokenSource to golang.org/x/oauth2.TokenSource, using ctx
// for every token request (x/oauth2's interface has no context of its own).
func OAuth2(ctx context.Context, ts TokenSource) oauth2.TokenSource {
	return oauth2TokenSource{ctx: ctx, ts: ts}
}

type oauth2TokenSource struct {
	ctx context.Context
	ts  TokenSource
}

func (o oauth2TokenSource) Token() (*oauth2.Token, error) { return o.ts.Token(o.ctx) }

// StaticTokenSource always returns t; for tests.
func StaticTokenSource(t *oauth2.Token) TokenSource { return staticSource{t} }

type staticSource struct{ t *oauth2.Token }

func (s staticSource) Token(context.Context) (*oauth2.Token, error) { return s.t, nil }
