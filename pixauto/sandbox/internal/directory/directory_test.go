package directory

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/ofb-go/pixauto/pixauto/sandbox/internal/jws"
)

func setup(t *testing.T) (*Directory, *rsa.PrivateKey, time.Time) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	d, err := New("https://keystore.test", key, now)
	if err != nil {
		t.Fatal(err)
	}
	org := Organisation{ID: "org-1", Name: "Org One", CNPJ: "11222333000181"}
	sig, err := PublicJWK(key, "sig-1", UseSig, SealSubject(org), now)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := PublicJWK(key, "enc-1", UseEnc, SealSubject(org), now)
	if err != nil {
		t.Fatal(err)
	}
	d.AddOrganisation(org, sig)
	if err := d.AddSoftware(Software{ID: "sw-1", OrganisationID: "org-1", RedirectURIs: []string{"https://cb"}, Roles: []string{"PAGTO"}}, sig, enc); err != nil {
		t.Fatal(err)
	}
	return d, key, now
}

func TestSSA(t *testing.T) {
	d, key, now := setup(t)
	ssa, err := d.SignSSA("org-1", "sw-1", now)
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.VerifySSA(ssa, now.Add(4*time.Minute), 5*time.Minute, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got.SoftwareID != "sw-1" || got.OrganisationID != "org-1" || got.SoftwareJWKSURI != "https://keystore.test/org-1/sw-1/application.jwks" || got.OrganisationJWKSURI != "https://keystore.test/org-1/application.jwks" {
		t.Fatalf("SSA %+v", got)
	}
	if _, err := d.VerifySSA(ssa, now.Add(5*time.Minute+time.Second), 5*time.Minute, time.Minute); !errors.Is(err, ErrSSAStale) {
		t.Fatalf("stale SSA: %v", err)
	}
	if _, err := d.VerifySSA(ssa, now.Add(-2*time.Minute), 5*time.Minute, time.Minute); !errors.Is(err, ErrSSAStale) {
		t.Fatalf("future SSA: %v", err)
	}
	if _, err := d.VerifySSA(jws.CorruptSignature(ssa), now, 5*time.Minute, time.Minute); !errors.Is(err, ErrSSASignature) {
		t.Fatalf("corrupt SSA: %v", err)
	}
	other, _ := jws.SignJSON(key, "not-the-directory", jose.PS256, "JWT", map[string]any{"iat": now.Unix()})
	if _, err := d.VerifySSA(other, now, 5*time.Minute, time.Minute); !errors.Is(err, ErrSSASignature) {
		t.Fatalf("SSA with another kid: %v", err)
	}
	incomplete, _ := jws.SignJSON(key, d.KeyID(), jose.PS256, "JWT", map[string]any{"iat": now.Unix(), "iss": SSAIssuer})
	if _, err := d.VerifySSA(incomplete, now, 5*time.Minute, time.Minute); !errors.Is(err, ErrSSAClaims) {
		t.Fatalf("incomplete SSA: %v", err)
	}
	if _, err := d.SignSSA("org-1", "nope", now); err == nil {
		t.Fatal("SSA for an unknown software")
	}
}

func TestKeystore(t *testing.T) {
	d, _, _ := setup(t)
	get := func(path string) (int, jose.JSONWebKeySet) {
		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		var set jose.JSONWebKeySet
		if rec.Code == http.StatusOK {
			if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		return rec.Code, set
	}
	for path, want := range map[string][]string{
		"/openbanking.jwks":                     {d.KeyID()},
		"/org-1/application.jwks":               {"sig-1"},
		"/org-1/sw-1/application.jwks":          {"sig-1", "enc-1"},
		"/org-1/inactive/application.jwks":      {},
		"/org-1/sw-1/inactive/application.jwks": {},
	} {
		code, set := get(path)
		if code != http.StatusOK || len(set.Keys) != len(want) {
			t.Fatalf("%s: %d %+v", path, code, set.Keys)
		}
		for i, k := range set.Keys {
			if k.KeyID != want[i] || k.Algorithm != "" || len(k.Certificates) != 1 || !k.IsPublic() {
				t.Errorf("%s key %d: %+v", path, i, k)
			}
		}
	}
	for _, path := range []string{"/nope/application.jwks", "/org-1/nope/application.jwks", "/nope/inactive/application.jwks"} {
		if code, _ := get(path); code != http.StatusNotFound {
			t.Errorf("%s: %d", path, code)
		}
	}
	if _, ok := d.KeysAt("https://keystore.test/org-1/sw-1/application.jwks"); !ok {
		t.Error("KeysAt does not resolve a software JWKS")
	}
	for _, u := range []string{"https://elsewhere/org-1/sw-1/application.jwks", "https://keystore.test/org-1/application.jwks", "https://keystore.test/org-1/sw-1/x.jwks"} {
		if _, ok := d.KeysAt(u); ok {
			t.Errorf("KeysAt(%s) resolved", u)
		}
	}
	if err := d.AddSoftware(Software{ID: "sw-2", OrganisationID: "nope"}); err == nil {
		t.Error("software of an unknown organisation added")
	}
}
