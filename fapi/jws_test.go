package fapi

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSignRequestHeaderAndClaims(t *testing.T) {
	t.Parallel()
	env := newUnitEnv(t)
	const url = "https://bank.example/open-banking/automatic-payments/v2/recurring-consents"
	a, err := env.c.SignRequest(url, map[string]string{"x": "y"})
	require.NoError(t, err)
	b, err := env.c.SignRequest(url, map[string]string{"x": "y"})
	require.NoError(t, err)

	h, err := parseHeader(string(a))
	require.NoError(t, err)
	assert.Equal(t, joseHeader{Alg: "PS256", Kid: "itp-kid", Typ: "JWT"}, h)

	jws, err := jose.ParseSignedCompact(string(a), []jose.SignatureAlgorithm{jose.PS256})
	require.NoError(t, err)
	payload, err := jws.Verify(&shared.itpKey.PublicKey)
	require.NoError(t, err)
	var cl map[string]any
	require.NoError(t, json.Unmarshal(payload, &cl))
	assert.Equal(t, url, cl["aud"])
	assert.Equal(t, "itp-org", cl["iss"], "iss is the organisation id read from the BRCAC")
	assert.Equal(t, float64(env.clock.Now().Unix()), cl["iat"])
	assert.Equal(t, map[string]any{"x": "y"}, cl["data"])
	jti, _ := cl["jti"].(string)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, jti, "jti is a UUIDv4")

	jws2, _ := jose.ParseSignedCompact(string(b), []jose.SignatureAlgorithm{jose.PS256})
	var cl2 map[string]any
	require.NoError(t, json.Unmarshal(jws2.UnsafePayloadWithoutVerification(), &cl2))
	assert.NotEqual(t, jti, cl2["jti"], "every send gets a new jti")
}

// A strict verifier (salt length = hash length) must accept our signatures:
// go-jose's cryptosigner would produce a maximum-length salt instead.
func TestSignaturesUsePSSSaltEqualToHashLength(t *testing.T) {
	t.Parallel()
	env := newUnitEnv(t)
	body, err := env.c.SignRequest("https://bank.example/x", 1)
	require.NoError(t, err)
	parts := strings.Split(string(body), ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	err = rsa.VerifyPSS(&shared.itpKey.PublicKey, crypto.SHA256, h[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
	require.NoError(t, err, "signature must use a 32-byte salt")
}

func validClaims(env *unitEnv) map[string]any {
	return map[string]any{
		"iss": bankOrg, "aud": "itp-org", "jti": "0c6b8f3e-8f1c-4b8e-9d55-2a8f4d1f0a11",
		"iat": env.clock.Now().Unix(), "data": map[string]any{"status": "AUTHORISED"},
		"links": map[string]any{"self": "https://bank.example/x"}, "meta": map[string]any{},
	}
}

func TestVerifyResponseAccepts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		tweak func(map[string]any)
	}{
		{"aud string", func(map[string]any) {}},
		{"aud one-element array", func(c map[string]any) { c["aud"] = []string{"itp-org"} }},
		{"iat 59s in the past", func(c map[string]any) { c["iat"] = c["iat"].(int64) - 59 }},
		{"iat 59s in the future", func(c map[string]any) { c["iat"] = c["iat"].(int64) + 59 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newUnitEnv(t)
			cl := validClaims(env)
			tc.tweak(cl)
			msg, err := env.c.VerifyResponse(context.Background(), bankSign(t, shared.bankKey, bankKid, nil, cl))
			require.NoError(t, err)
			assert.JSONEq(t, `{"status":"AUTHORISED"}`, string(msg.Data))
			assert.Equal(t, bankKid, msg.KeyID)
		})
	}
}

func TestVerifyResponseRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		check string
		body  func(t *testing.T, env *unitEnv) []byte
	}{
		{"wrong iss", "iss", func(t *testing.T, env *unitEnv) []byte {
			c := validClaims(env)
			c["iss"] = "other-org"
			return bankSign(t, shared.bankKey, bankKid, nil, c)
		}},
		{"missing iss", "iss", func(t *testing.T, env *unitEnv) []byte {
			c := validClaims(env)
			delete(c, "iss")
			return bankSign(t, shared.bankKey, bankKid, nil, c)
		}},
		{"wrong aud", "aud", func(t *testing.T, env *unitEnv) []byte {
			c := validClaims(env)
			c["aud"] = "someone-else"
			return bankSign(t, shared.bankKey, bankKid, nil, c)
		}},
		{"extra aud", "aud", func(t *testing.T, env *unitEnv) []byte {
			c := validClaims(env)
			c["aud"] = []string{"itp-org", "someone-else"}
			return bankSign(t, shared.bankKey, bankKid, nil, c)
		}},
		{"stale iat", "iat", func(t *testing.T, env *unitEnv) []byte {
			c := validClaims(env)
			c["iat"] = env.clock.Now().Add(-61 * time.Second).Unix()
			return bankSign(t, shared.bankKey, bankKid, nil, c)
		}},
		{"future iat", "iat", func(t *testing.T, env *unitEnv) []byte {
			c := validClaims(env)
			c["iat"] = env.clock.Now().Add(61 * time.Second).Unix()
			return bankSign(t, shared.bankKey, bankKid, nil, c)
		}},
		{"missing iat", "iat", func(t *testing.T, env *unitEnv) []byte {
			c := validClaims(env)
			delete(c, "iat")
			return bankSign(t, shared.bankKey, bankKid, nil, c)
		}},
		{"missing jti", "jti", func(t *testing.T, env *unitEnv) []byte {
			c := validClaims(env)
			delete(c, "jti")
			return bankSign(t, shared.bankKey, bankKid, nil, c)
		}},
		{"expired exp", "exp", func(t *testing.T, env *unitEnv) []byte {
			c := validClaims(env)
			c["exp"] = env.clock.Now().Add(-2 * time.Minute).Unix()
			return bankSign(t, shared.bankKey, bankKid, nil, c)
		}},
		{"signed by another key with the bank's kid", "signature", func(t *testing.T, env *unitEnv) []byte {
			return bankSign(t, shared.other, bankKid, nil, validClaims(env))
		}},
		{"unknown kid", "kid", func(t *testing.T, env *unitEnv) []byte {
			return bankSign(t, shared.bankKey, "nope", nil, validClaims(env))
		}},
		{"no kid", "kid", func(t *testing.T, env *unitEnv) []byte {
			return bankSign(t, shared.bankKey, "", nil, validClaims(env))
		}},
		{"typ is not JWT", "typ", func(t *testing.T, env *unitEnv) []byte {
			return bankSign(t, shared.bankKey, bankKid, map[jose.HeaderKey]any{"typ": "at+jwt"}, validClaims(env))
		}},
		{"tampered payload", "signature", func(t *testing.T, env *unitEnv) []byte {
			b := bankSign(t, shared.bankKey, bankKid, nil, validClaims(env))
			parts := strings.Split(string(b), ".")
			c := validClaims(env)
			c["data"] = map[string]any{"status": "REVOKED"}
			p, _ := json.Marshal(c)
			parts[1] = base64.RawURLEncoding.EncodeToString(p)
			return []byte(strings.Join(parts, "."))
		}},
		{"RS256", "alg", func(t *testing.T, env *unitEnv) []byte {
			s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: shared.bankKey, KeyID: bankKid}}, nil)
			require.NoError(t, err)
			p, _ := json.Marshal(validClaims(env))
			jws, _ := s.Sign(p)
			out, _ := jws.CompactSerialize()
			return []byte(out)
		}},
		{"alg none", "alg", func(t *testing.T, env *unitEnv) []byte {
			p, _ := json.Marshal(validClaims(env))
			return []byte(b64([]byte(`{"alg":"none","kid":"bank-kid"}`)) + "." + b64(p) + ".")
		}},
		{"plain JSON", "format", func(*testing.T, *unitEnv) []byte { return []byte(`{"data":{}}`) }},
		{"JSON serialization", "format", func(*testing.T, *unitEnv) []byte {
			return []byte(`{"payload":"e30","signatures":[{"protected":"eyJhbGciOiJQUzI1NiJ9","signature":"AA"}]}`)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newUnitEnv(t)
			_, err := env.c.VerifyResponse(context.Background(), tc.body(t, env))
			var se *SignatureError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tc.check, se.Check, "%v", err)
		})
	}
}

func TestVerifyResponseRefusesReplayedJTI(t *testing.T) {
	t.Parallel()
	env := newUnitEnv(t)
	body := bankSign(t, shared.bankKey, bankKid, nil, validClaims(env))
	_, err := env.c.VerifyResponse(context.Background(), body)
	require.NoError(t, err)
	_, err = env.c.VerifyResponse(context.Background(), body)
	var se *SignatureError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "jti", se.Check)
}

func TestReplayCacheForgetsOnlyAfterWindow(t *testing.T) {
	t.Parallel()
	r := newReplayCache(time.Minute)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	assert.True(t, r.add("a", t0))
	assert.False(t, r.add("a", t0.Add(time.Minute)))
	assert.True(t, r.add("b", t0.Add(2*time.Minute)), "sweep happens")
	assert.True(t, r.add("a", t0.Add(2*time.Minute+time.Second)), "a is outside the window and was swept")
	assert.Len(t, r.seen, 2)
}

func TestAudience(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in string
		only     bool
		err      bool
	}{
		{"string", `"a"`, true, false},
		{"array", `["a"]`, true, false},
		{"array extra", `["a","b"]`, false, false},
		{"other", `"b"`, false, false},
		{"empty array", `[]`, false, false},
		{"number", `1`, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Audience
			err := json.Unmarshal([]byte(tc.in), &a)
			if tc.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.only, a.Only("a"))
		})
	}
}

func TestKeySetRefreshesOnceOnUnknownKidAndRateLimits(t *testing.T) {
	t.Parallel()
	sharedKeys(t)
	ks := newKeystore(t)
	ks.put("/org/application.jwks", pub(shared.bankKey, "k1"))
	clock := newFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	set := NewKeySet(KeySetConfig{URL: ks.srv.URL + "/org/application.jwks", HTTPClient: ks.srv.Client(), Clock: clock, MinRefresh: 30 * time.Second})
	ctx := context.Background()

	_, err := set.Keys(ctx, "k1")
	require.NoError(t, err)
	assert.EqualValues(t, 1, ks.fetches.Load())

	ks.put("/org/application.jwks", pub(shared.bankKey, "k1"), pub(shared.other, "k2"))
	_, err = set.Keys(ctx, "k2")
	require.ErrorIs(t, err, ErrUnknownKeyID, "within MinRefresh the set is not refetched")
	assert.EqualValues(t, 1, ks.fetches.Load())

	clock.set(clock.Now().Add(31 * time.Second))
	keys, err := set.Keys(ctx, "k2")
	require.NoError(t, err, "an unknown kid refreshes the set once")
	assert.Equal(t, &shared.other.PublicKey, keys[0])
	assert.EqualValues(t, 2, ks.fetches.Load())

	for range 10 {
		_, err = set.Keys(ctx, "bogus")
		require.ErrorIs(t, err, ErrUnknownKeyID)
	}
	assert.EqualValues(t, 2, ks.fetches.Load(), "a flood of unknown kids causes no fetch within MinRefresh")
}

func TestKeySetSkipsMalformedAndEncryptionKeys(t *testing.T) {
	t.Parallel()
	sharedKeys(t)
	ks := newKeystore(t)
	good, _ := json.Marshal(pub(shared.bankKey, "good"))
	enc, _ := json.Marshal(jose.JSONWebKey{Key: &shared.other.PublicKey, KeyID: "enc", Use: "enc"})
	ks.putRaw("/set", `{"keys":[{"kty":"RSA","kid":"bad","n":"!!","e":"AQAB"},`+string(good)+`,`+string(enc)+`]}`)
	set := NewKeySet(KeySetConfig{URL: ks.srv.URL + "/set", HTTPClient: ks.srv.Client()})
	_, err := set.Keys(context.Background(), "good")
	require.NoError(t, err)
	_, err = set.Keys(context.Background(), "enc")
	require.True(t, errors.Is(err, ErrUnknownKeyID), "use=enc keys never verify signatures")
}
