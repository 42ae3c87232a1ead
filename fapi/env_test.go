package fapi

import (
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/ofb-go/pixauto/internal/pki"
	"github.com/stretchr/testify/require"
)

// Keys are expensive to generate; the unit tests share one set.
var (
	sharedOnce sync.Once
	shared     struct {
		ca                     *pki.CA
		cert                   tls.Certificate
		itpKey, bankKey, other *rsa.PrivateKey
	}
)

func sharedKeys(t testing.TB) {
	t.Helper()
	sharedOnce.Do(func() {
		var err error
		shared.ca, err = pki.NewCA("fapi unit")
		if err != nil {
			panic(err)
		}
		shared.cert, err = shared.ca.IssueTransport(pki.Transport{OrganisationID: "itp-org", SoftwareID: "itp-sw", CNPJ: "12345678000199"})
		if err != nil {
			panic(err)
		}
		for _, k := range []**rsa.PrivateKey{&shared.itpKey, &shared.bankKey, &shared.other} {
			if *k, err = pki.NewKey(); err != nil {
				panic(err)
			}
		}
	})
}

// fakeClock is a settable clock.
type fakeClock struct{ t atomic.Pointer[time.Time] }

func newFakeClock(t time.Time) *fakeClock { c := &fakeClock{}; c.set(t); return c }
func (c *fakeClock) Now() time.Time       { return *c.t.Load() }
func (c *fakeClock) set(t time.Time)      { c.t.Store(&t) }

// keystore serves JWKS documents by path and counts fetches.
type keystore struct {
	srv     *httptest.Server
	mu      sync.Mutex
	sets    map[string][]jose.JSONWebKey
	raw     map[string]string
	fetches atomic.Int64
}

func newKeystore(t testing.TB) *keystore {
	ks := &keystore{sets: map[string][]jose.JSONWebKey{}, raw: map[string]string{}}
	ks.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.fetches.Add(1)
		ks.mu.Lock()
		defer ks.mu.Unlock()
		if raw, ok := ks.raw[r.URL.Path]; ok {
			_, _ = w.Write([]byte(raw))
			return
		}
		keys, ok := ks.sets[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: keys})
	}))
	t.Cleanup(ks.srv.Close)
	return ks
}

func (ks *keystore) put(path string, keys ...jose.JSONWebKey) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.sets[path] = keys
}

func (ks *keystore) putRaw(path, body string) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.raw[path] = body
}

func pub(k *rsa.PrivateKey, kid string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Use: "sig"}
}

// unitEnv is a Client whose bank keys are served by a local keystore.
type unitEnv struct {
	c     *Client
	ks    *keystore
	clock *fakeClock
}

const (
	bankOrg = "bank-org"
	bankKid = "bank-kid"
)

func newUnitEnv(t testing.TB) *unitEnv {
	t.Helper()
	sharedKeys(t)
	ks := newKeystore(t)
	ks.put("/"+bankOrg+"/application.jwks", pub(shared.bankKey, bankKid))
	clock := newFakeClock(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	c, err := New(Config{
		Issuer:             "https://bank.example",
		ClientID:           "client-1",
		Certificate:        shared.cert,
		SigningKey:         SigningKey{Signer: shared.itpKey, KeyID: "itp-kid"},
		BankOrganisationID: bankOrg,
		KeystoreURL:        ks.srv.URL,
		PublicHTTPClient:   ks.srv.Client(),
		Clock:              clock,
	})
	require.NoError(t, err)
	return &unitEnv{c: c, ks: ks, clock: clock}
}

// bankSign signs claims as the bank would sign a response.
func bankSign(t testing.TB, key *rsa.PrivateKey, kid string, hdr map[jose.HeaderKey]any, claims any) []byte {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	for k, v := range hdr {
		opts = opts.WithHeader(k, v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.PS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	require.NoError(t, err)
	b, err := json.Marshal(claims)
	require.NoError(t, err)
	jws, err := s.Sign(b)
	require.NoError(t, err)
	out, err := jws.CompactSerialize()
	require.NoError(t, err)
	return []byte(out)
}
