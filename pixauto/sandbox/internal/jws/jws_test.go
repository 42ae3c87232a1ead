package jws

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
)

func testKey(t testing.TB) *rsa.PrivateKey {
	keyOnce.Do(func() {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return key
}

// TestHalfHash uses the c_hash example of OpenID Connect Core (A.4): the
// code "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk" hashes to
// "LDktKdoQak3Pk0cnXxCltA".
func TestHalfHash(t *testing.T) {
	if got := HalfHash("Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"); got != "LDktKdoQak3Pk0cnXxCltA" {
		t.Fatalf("HalfHash = %s", got)
	}
}

func TestParse(t *testing.T) {
	k := testKey(t)
	good, err := Sign(k, "k1", jose.PS256, "JWT", []byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(good, jose.PS256)
	if err != nil || s.KeyID != "k1" || s.Type != "JWT" || s.Algorithm != "PS256" {
		t.Fatalf("Parse = %+v, %v", s, err)
	}
	if p, err := s.Verify(&k.PublicKey); err != nil || string(p) != `{"a":1}` {
		t.Fatalf("Verify = %s, %v", p, err)
	}
	if _, err := Parse(CorruptSignature(good), jose.PS256); err != nil {
		t.Fatalf("a corrupt signature must parse: %v", err)
	}
	if s, _ := Parse(CorruptSignature(good), jose.PS256); s != nil {
		if _, err := s.Verify(&k.PublicKey); err == nil {
			t.Fatal("a corrupt signature verifies")
		}
	}
	rs, _ := Sign(k, "k1", jose.RS256, "", []byte(`{}`))
	noKid, _ := Sign(k, "", jose.PS256, "", []byte(`{}`))
	for name, tt := range map[string]struct {
		in   string
		want error
	}{
		"none":       {Unsigned("JWT", []byte(`{}`)), ErrAlgorithm},
		"RS256":      {rs, ErrAlgorithm},
		"no kid":     {noKid, ErrNoKeyID},
		"two parts":  {"a.b", ErrMalformed},
		"not base64": {"!!.!!.!!", ErrMalformed},
		"empty":      {"", ErrMalformed},
		"JWE":        {"a.b.c.d.e", ErrMalformed},
	} {
		if _, err := Parse(tt.in, jose.PS256); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", name, err, tt.want)
		}
	}
}

func TestEncryptDecrypt(t *testing.T) {
	k := testKey(t)
	jwe, err := Encrypt("inner.jws.value", &k.PublicKey, "enc1", jose.RSA_OAEP)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := Decrypt(jwe, k, "enc1"); err != nil || string(pt) != "inner.jws.value" {
		t.Fatalf("Decrypt = %q, %v", pt, err)
	}
	if _, err := Decrypt(jwe, k, "other"); err == nil {
		t.Fatal("wrong kid accepted")
	}
	rsa15, err := Encrypt("x", &k.PublicKey, "enc1", jose.RSA1_5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decrypt(rsa15, k, "enc1"); err == nil || !strings.Contains(err.Error(), "RSA-OAEP") {
		t.Fatalf("RSA1_5 accepted: %v", err)
	}
}

// FuzzParse: no input makes Parse panic, and whatever it accepts names a
// kid and PS256.
func FuzzParse(f *testing.F) {
	k := testKey(f)
	good, _ := Sign(k, "k1", jose.PS256, "JWT", []byte(`{"a":1}`))
	for _, seed := range []string{good, CorruptSignature(good), Unsigned("", []byte("{}")), "", ".", "..", "a.b.c", "eyJhbGciOiJQUzI1NiJ9..", strings.Repeat(".", 10)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := Parse(in, jose.PS256)
		if err == nil && (s.KeyID == "" || s.Algorithm != "PS256") {
			t.Fatalf("accepted %q as %+v", in, s)
		}
	})
}
