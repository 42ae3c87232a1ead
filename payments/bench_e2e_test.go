package payments_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/payments"
)

// BenchmarkCreatePayment is the SDK's full cost of creating a payment
// against the in-process sandbox bank: plan (E2EID, reference, checklist),
// validate, encode, sign the request JWS, the mTLS round trip, verify the
// response JWS, decode. Each iteration creates the first recurrence of its
// own authorised consent (prepared before the timer starts), so the bank
// accepts every one; planning is inside the loop.
//
// The bank runs in the same process, so wall time per op includes its work
// (verifying the request, signing the response) and the loopback network.
// The benchmark times everything below the SDK's FAPI transport — the base
// http.RoundTripper's RoundTrip plus the reads of the response body — as
// "round trip", and reports:
//
//   - client_ns/op: wall ns/op minus round-trip ns/op, the SDK's own share;
//   - rtt_ns/op: the round trip (bank, loopback, the client's TLS records);
//   - raw_ps256_ns/op: one bare RSA-2048 PS256 sign + verify, this run;
//   - ratio_to_raw_crypto: client_ns/op over raw_ps256_ns/op (goal 1.2);
//   - cpu_ns/op: the process's user+sys CPU per op (client and bank);
//   - handshakes/op, newconns/op: TLS handshakes and dials (goal 0).
//
// B/op and allocs/op count the whole process: the client and the bank.
//
//	go test ./payments -run '^$' -bench CreatePayment -benchmem
func BenchmarkCreatePayment(b *testing.B) {
	e := sandboxtest.New(b, sandboxtest.Options{})
	hc := e.FAPI.HTTPClient()
	ft, ok := hc.Transport.(*fapi.Transport)
	if !ok {
		b.Fatalf("the FAPI client's transport is %T, want *fapi.Transport", hc.Transport)
	}
	rt := &timedTransport{base: ft.Base}
	ft.Base = rt

	var handshakes, newConns atomic.Int64
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		TLSHandshakeStart: func() { handshakes.Add(1) },
		GotConn: func(i httptrace.GotConnInfo) {
			if !i.Reused {
				newConns.Add(1)
			}
		},
	})

	gen := &payments.Generator{ISPB: sandboxtest.ITPISPB}
	planner := func() *payments.Planner {
		v := e.Payments.Version()
		if v == "" {
			v = payments.DefaultVersion
		}
		return &payments.Planner{Version: v, Generator: gen, CNPJInitiator: e.ITPCNPJ}
	}
	type authorised struct {
		c     *consent.Consent
		token fapi.TokenSource
		key   string
	}
	prepare := func(n int) []authorised {
		as := make([]authorised, n)
		for i := range as {
			as[i].c, as[i].token = e.Authorised(b, e.ConsentRequest())
			as[i].key = fapi.NewIdempotencyKey(nil)
		}
		return as
	}
	due := e.Today().AddDays(3)
	create := func(a authorised) {
		billing, err := payments.BillingOf(a.c)
		if err != nil {
			b.Fatal(err)
		}
		cycle, err := billing.CycleContaining(due)
		if err != nil {
			b.Fatal(err)
		}
		req, err := planner().Recurrence(a.c, payments.Charge{Cycle: cycle.Index, Due: due, Amount: consent.MustAmount("150.00"), CreditorAccount: sandboxtest.CreditorAccount}, e.Clock.Now(), nil)
		if err != nil {
			b.Fatal(err)
		}
		p, err := e.Payments.Create(ctx, payments.CreateParams{Consent: a.c, Request: req, Token: a.token, IdempotencyKey: a.key})
		if err != nil {
			b.Fatal(err)
		}
		if p.Status != payments.StatusRCVD {
			b.Fatalf("status %s, want RCVD", p.Status)
		}
	}

	// Warm up: learn the version, fetch the bank's keys, open the connection.
	for _, a := range prepare(2) {
		create(a)
	}
	as := prepare(b.N)

	handshakes.Store(0)
	newConns.Store(0)
	rt.reset()
	cpu0 := processCPU()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		create(as[i])
	}
	wall := time.Since(start)
	b.StopTimer()
	cpu := processCPU() - cpu0

	n := float64(b.N)
	rtt := float64(rt.elapsed())
	client := float64(wall) - rtt
	raw := rawPS256(b, e.Bank.ITP.SigningKey)
	b.ReportMetric(client/n, "client_ns/op")
	b.ReportMetric(rtt/n, "rtt_ns/op")
	b.ReportMetric(float64(cpu)/n, "cpu_ns/op")
	b.ReportMetric(float64(raw), "raw_ps256_ns/op")
	b.ReportMetric(client/n/float64(raw), "ratio_to_raw_crypto")
	b.ReportMetric(float64(handshakes.Load())/n, "handshakes/op")
	b.ReportMetric(float64(newConns.Load())/n, "newconns/op")
}

// timedTransport accumulates the wall time spent in the base transport's
// RoundTrip and in reads of the response bodies it returns.
type timedTransport struct {
	base http.RoundTripper
	ns   atomic.Int64
}

func (t *timedTransport) reset()                 { t.ns.Store(0) }
func (t *timedTransport) elapsed() time.Duration { return time.Duration(t.ns.Load()) }

func (t *timedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(r)
	t.ns.Add(int64(time.Since(start)))
	if resp != nil && resp.Body != nil {
		resp.Body = &timedBody{ReadCloser: resp.Body, ns: &t.ns}
	}
	return resp, err
}

type timedBody struct {
	io.ReadCloser
	ns *atomic.Int64
}

func (b *timedBody) Read(p []byte) (int, error) {
	start := time.Now()
	n, err := b.ReadCloser.Read(p)
	b.ns.Add(int64(time.Since(start)))
	return n, err
}

// processCPU is the process's user+sys CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rawPS256 returns the ns of one bare RSA-2048 PS256 sign + verify with
// key (the median of batches, as fapi's BenchmarkRawPS256SignVerify does
// it: hash, sign, hash, verify).
func rawPS256(b *testing.B, key *rsa.PrivateKey) time.Duration {
	b.Helper()
	msg := []byte(`{"aud":"https://bank.example/open-banking/automatic-payments/v2/pix/recurring-payments","iss":"itp-org","jti":"0c6b8f3e-8f1c-4b8e-9d55-2a8f4d1f0a11","iat":1795000000,"data":{}}`)
	opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
	const batches, per = 7, 40
	ds := make([]time.Duration, batches)
	for i := range ds {
		start := time.Now()
		for range per {
			h := sha256.Sum256(msg)
			sig, err := rsa.SignPSS(rand.Reader, key, crypto.SHA256, h[:], opts)
			if err != nil {
				b.Fatal(err)
			}
			h2 := sha256.Sum256(msg)
			if err := rsa.VerifyPSS(&key.PublicKey, crypto.SHA256, h2[:], sig, opts); err != nil {
				b.Fatal(err)
			}
		}
		ds[i] = time.Since(start) / per
	}
	for i := 1; i < len(ds); i++ { // insertion sort; seven entries
		for j := i; j > 0 && ds[j] < ds[j-1]; j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
	return ds[len(ds)/2]
}
