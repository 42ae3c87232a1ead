package fapi

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Run longer with: go test ./fapi -run '^$' -fuzz FuzzVerifyResponse -fuzztime 5m

func FuzzVerifyResponse(f *testing.F) {
	env := newUnitEnv(f)
	good := bankSign(f, shared.bankKey, bankKid, nil, validClaims(env))
	f.Add(good)
	f.Add([]byte(`{"data":{}}`))
	f.Add([]byte(`eyJhbGciOiJub25lIn0.e30.`))
	f.Add([]byte(`eyJhbGciOiJQUzI1NiIsImtpZCI6ImJhbmsta2lkIn0.bnVsbA.AAAA`))
	f.Add([]byte(`....`))
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, body []byte) {
		msg, err := env.c.VerifyResponse(context.Background(), body)
		if err == nil && msg == nil {
			t.Fatal("nil message without error")
		}
	})
}

func FuzzParseCallback(f *testing.F) {
	for _, s := range []string{
		"https://itp.example/cb#code=c&id_token=a.b.c.d.e&state=s",
		"#error=access_denied&state=s",
		"https://itp.example/cb?error=x",
		"%%%", "#", "code=&id_token=&state=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cb, err := ParseCallback(s)
		if err == nil && cb.Error == "" && (cb.Code == "" || cb.IDToken == "") {
			t.Fatalf("accepted a callback without code and id_token: %q", s)
		}
	})
}

// idTokenFuzzEnv is a client whose discovery and AS keys are preset.
func idTokenFuzzEnv(f *testing.F) (*unitEnv, string) {
	env := newUnitEnv(f)
	env.ks.put("/as.jwks", pub(shared.bankKey, "as-kid"))
	env.c.metadata = &ProviderMetadata{Issuer: "https://bank.example", JWKSURI: env.ks.srv.URL + "/as.jwks", AuthorizationEndpoint: "https://bank.example/auth"}
	env.c.decryptKeys["enc-kid"] = shared.other
	now := env.clock.Now()
	inner := bankSign(f, shared.bankKey, "as-kid", nil, map[string]any{
		"iss": "https://bank.example", "aud": "client-1", "sub": "payer", "exp": now.Add(5 * time.Minute).Unix(),
		"iat": now.Unix(), "nonce": "n", "acr": ACRLoA2, "c_hash": HalfHash("code"), "s_hash": HalfHash("state"),
	})
	enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.RSA_OAEP, Key: &shared.other.PublicKey, KeyID: "enc-kid"}, (&jose.EncrypterOptions{}).WithContentType("JWT"))
	if err != nil {
		f.Fatal(err)
	}
	obj, err := enc.Encrypt(inner)
	if err != nil {
		f.Fatal(err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		f.Fatal(err)
	}
	return env, s
}

func FuzzValidateIDToken(f *testing.F) {
	env, good := idTokenFuzzEnv(f)
	want := idTokenExpect{nonce: "n", code: "code", state: "state", frontChannel: true}
	if _, err := env.c.validateIDToken(context.Background(), good, want); err != nil {
		f.Fatalf("seed id_token must validate: %v", err)
	}
	f.Add(good)
	f.Add("a.b.c.d.e")
	f.Add("eyJhbGciOiJSU0ExXzUiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiZW5jLWtpZCJ9....")
	f.Add(good[:len(good)-10])
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := env.c.validateIDToken(context.Background(), raw, want)
		if err != nil {
			if _, ok := err.(*IDTokenError); !ok {
				var b, _ = json.Marshal(err.Error())
				t.Fatalf("error is %T, want *IDTokenError: %s", err, b)
			}
			return
		}
		if tok.Nonce != "n" || !tok.Audience.Only("client-1") {
			t.Fatalf("accepted an id_token with wrong claims: %+v", tok)
		}
	})
}
