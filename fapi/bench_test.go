package fapi

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"
)

// The ceiling of a signed request + verified response is one RSA-2048 PS256
// sign and one verify. BenchmarkRawPS256SignVerify measures exactly that;
// BenchmarkSignAndVerifyMessage measures the SDK doing the same job (JSON
// claims, JOSE header, base64, key lookup, claim checks, replay cache). The
// goal is the latter within 15% of the former:
//
//	go test ./fapi -run '^$' -bench 'PS256|Message' -benchmem -count 6 | benchstat -

type benchPayment struct {
	EndToEndID string `json:"endToEndId"`
	Date       string `json:"date"`
	Payment    struct {
		Amount   string `json:"amount"`
		Currency string `json:"currency"`
	} `json:"payment"`
	CnpjInitiator string `json:"cnpjInitiator"`
}

func benchData() benchPayment {
	var p benchPayment
	p.EndToEndID = "E1234567820261125150012345678901"
	p.Date = "2026-11-25"
	p.Payment.Amount = "199.90"
	p.Payment.Currency = "BRL"
	p.CnpjInitiator = "12345678000199"
	return p
}

func BenchmarkRawPS256SignVerify(b *testing.B) {
	sharedKeys(b)
	msg := []byte(`{"aud":"https://bank.example/open-banking/automatic-payments/v2/pix/recurring-payments","iss":"itp-org","jti":"0c6b8f3e-8f1c-4b8e-9d55-2a8f4d1f0a11","iat":1795000000,"data":{}}`)
	opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
	b.ReportAllocs()
	for b.Loop() {
		h := sha256.Sum256(msg)
		sig, err := rsa.SignPSS(rand.Reader, shared.itpKey, crypto.SHA256, h[:], opts)
		if err != nil {
			b.Fatal(err)
		}
		h2 := sha256.Sum256(msg)
		if err := rsa.VerifyPSS(&shared.bankKey.PublicKey, crypto.SHA256, h2[:], sig[:], opts); err == nil {
			b.Fatal("verification with the wrong key must fail") // a verify of the same cost as a real one
		}
	}
}

func BenchmarkSignRequest(b *testing.B) {
	env := newUnitEnv(b)
	data := benchData()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := env.c.SignRequest("https://bank.example/open-banking/automatic-payments/v2/pix/recurring-payments", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyResponse(b *testing.B) {
	env := newUnitEnv(b)
	ctx := context.Background()
	claims := validClaims(env)
	// Distinct jtis so the replay cache accepts every message.
	bodies := make([][]byte, 64)
	for i := range bodies {
		claims["jti"] = newUUID(nil)
		bodies[i] = bankSign(b, shared.bankKey, bankKid, nil, claims)
	}
	if _, err := env.c.VerifyResponse(ctx, bodies[0]); err != nil { // warm the key set
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		env.c.replay = newReplayCache(env.c.replay.window) // isolate from replay refusals
		if _, err := env.c.VerifyResponse(ctx, bodies[i%len(bodies)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkSignAndVerifyMessage(b *testing.B) {
	env := newUnitEnv(b)
	ctx := context.Background()
	claims := validClaims(env)
	body := bankSign(b, shared.bankKey, bankKid, nil, claims)
	if _, err := env.c.VerifyResponse(ctx, body); err != nil {
		b.Fatal(err)
	}
	data := benchData()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := env.c.SignRequest("https://bank.example/open-banking/automatic-payments/v2/pix/recurring-payments", data); err != nil {
			b.Fatal(err)
		}
		env.c.replay = newReplayCache(env.c.replay.window)
		if _, err := env.c.VerifyResponse(ctx, body); err != nil {
			b.Fatal(err)
		}
	}
}
