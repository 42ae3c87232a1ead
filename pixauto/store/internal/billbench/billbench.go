// Package billbench is the billing-run benchmark that every store runs:
// [pixauto.Initiator.Bill] over 10,000 and 100,000 authorised consents of
// one receiver, reporting consents/s and the peak heap during the run.
// It is imported by the stores' tests only.
package billbench

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

const (
	// Receiver owns every consent of the benchmark.
	Receiver = "receiver-bench"
	// HolderID is the Initiator's name of the sandbox bank.
	HolderID = "bank"
	itpISPB  = "12345678"
	// creditorCNPJ is the receiver's CNPJ, the consents' creditor.
	creditorCNPJ = "11222333000181"
	payerCPF     = sandbox.DefaultPayerCPF
)

// CreditorAccount is the receiver's account.
var CreditorAccount = consent.Account{ISPB: "87654321", Issuer: "0001", Number: "1234567890", AccountType: consent.AccountCACC}

// Now is the Initiator's clock: before the first due date's submission
// time, so that every charge is planned for later (Bill never sends).
var Now = time.Date(2026, time.January, 2, 12, 0, 0, 0, time.UTC)

// anchor is every consent's referenceStartDate: cycle k starts k months
// later.
var anchor = consent.NewDate(2026, time.January, 10)

// FixedAmount is charged to every tenth consent (Consent(i) with i%10 == 0);
// the others are variable, capped at 300.00.
var FixedAmount = consent.MustAmount("99.90")

// Consent returns consent i of the receiver: AUTHORISED, monthly from
// 2026-01-10, without expiry, with every field a holder returns.
func Consent(i int) *pixauto.ConsentRecord {
	id := fmt.Sprintf("urn:bank:consent-%07d", i)
	amounts := consent.Variable(consent.MustAmount("300.00"), 0)
	if i%10 == 0 {
		amounts = consent.Fixed(FixedAmount)
	}
	auto := consent.NewAutomatic(fmt.Sprintf("CT-%07d", i), consent.IntervalMensal, anchor,
		consent.ContractDebtor{Name: "Ana Souza", Document: consent.DocumentFor(payerCPF)}, amounts, consent.WithRetries())
	created := Now.Add(-30 * 24 * time.Hour)
	authorised := consent.NewDateTime(created.Add(time.Minute))
	c := &consent.Consent{
		RecurringConsentID:     id,
		Status:                 consent.StatusAuthorised,
		StatusUpdateDateTime:   authorised,
		CreationDateTime:       consent.NewDateTime(created),
		LoggedUser:             &consent.LoggedUser{Document: consent.DocumentFor(payerCPF)},
		Creditors:              []consent.Creditor{consent.NewCreditor(creditorCNPJ, "Academia Forma Ltda")},
		RecurringConfiguration: consent.RecurringConfiguration{Automatic: auto},
		DebtorAccount:          &consent.Account{ISPB: "99999004", Issuer: "0001", Number: "9876543", AccountType: consent.AccountCACC},
		AuthorisedAtDateTime:   &authorised,
		UpdatedAtDateTime:      &authorised,
	}
	return &pixauto.ConsentRecord{
		ID: id, ReceiverID: Receiver, HolderID: HolderID, Status: consent.StatusAuthorised, Consent: c,
		IdempotencyKey: fmt.Sprintf("idem-consent-%07d", i), CreatedAt: created, UpdatedAt: created, Version: 1,
	}
}

// DueDate is the due date of cycle k (k ≥ 1): the cycle's start.
func DueDate(k int) consent.Date {
	return consent.NewDate(anchor.Year, anchor.Month+time.Month(k), anchor.Day)
}

// Run returns a billing run of cycle k for the receiver.
func Run(k, batch int) pixauto.BillingRun {
	return pixauto.BillingRun{
		ReceiverID: Receiver, DueDate: DueDate(k), Amount: consent.MustAmount("149.90"),
		CreditorAccount: CreditorAccount, Description: "Mensalidade", BatchSize: batch,
	}
}

// Initiator returns an Initiator on store, with one holder: a sandbox
// bank whose FAPI client is built but never used (Bill sends nothing).
func Initiator(tb testing.TB, store pixauto.Store) *pixauto.Initiator {
	tb.Helper()
	bank := sandbox.NewTest(tb, sandbox.Config{})
	fc, err := fapi.New(bank.FAPIConfig(bank.ITP))
	if err != nil {
		tb.Fatal(err)
	}
	in, err := pixauto.New(pixauto.Config{
		CNPJ: bank.ITP.CNPJ, ISPB: itpISPB, Store: store, SecretKey: []byte("0123456789abcdef0123456789abcdef"),
		Clock:   fapi.ClockFunc(func() time.Time { return Now }),
		Holders: []pixauto.Holder{{ID: HolderID, FAPI: fc, BaseURL: bank.MTLSURL + sandbox.AutomaticPaymentsBase}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return in
}

// Fill stores consents Consent(0) … Consent(n-1), handing them to insert
// a chunk at a time (so that the fixture never holds them all).
func Fill(tb testing.TB, n int, insert func([]*pixauto.ConsentRecord) error) {
	tb.Helper()
	const chunk = 5000
	recs := make([]*pixauto.ConsentRecord, 0, chunk)
	for i := 0; i < n; i += chunk {
		recs = recs[:0]
		for j := i; j < min(i+chunk, n); j++ {
			recs = append(recs, Consent(j))
		}
		if err := insert(recs); err != nil {
			tb.Fatal(err)
		}
	}
}

// Sizes are the sub-benchmarks: the peak heap of the two must be about the
// same, for Bill streams the consents a page at a time.
var Sizes = []struct {
	Name string
	N    int
}{{"10k", 10_000}, {"100k", 100_000}}

// Fixture is what a store gives the benchmark.
type Fixture struct {
	// Open returns an empty store of its own.
	Open func(b *testing.B) pixauto.Store
	// Insert stores a chunk of consents as fast as the store can.
	Insert func(ctx context.Context, s pixauto.Store, recs []*pixauto.ConsentRecord) error
	// Settle, if set, brings the stored consents to the state of consents
	// stored long ago (PostgreSQL: vacuumed; SQLite: the WAL checkpointed),
	// as a receiver's consents are when it bills them.
	Settle func(ctx context.Context, s pixauto.Store) error
}

// Benchmark runs Bill over each of Sizes; the fixture is not measured.
// Iteration k bills cycle k, so that every iteration plans a new charge
// per consent.
func Benchmark(b *testing.B, f Fixture) {
	for _, size := range Sizes {
		b.Run(size.Name, func(b *testing.B) {
			s := f.Open(b)
			ctx := b.Context()
			Fill(b, size.N, func(recs []*pixauto.ConsentRecord) error { return f.Insert(ctx, s, recs) })
			if f.Settle != nil {
				if err := f.Settle(ctx, s); err != nil {
					b.Fatal(err)
				}
			}
			in := Initiator(b, s)
			var peakLive, peakHeap, retained uint64
			k := 0
			for b.Loop() {
				b.StopTimer()
				k++
				sm := startSampler()
				b.StartTimer()
				res, err := in.Bill(ctx, Run(k, 0))
				b.StopTimer()
				live, heap, kept := sm.stop()
				peakLive, peakHeap, retained = max(peakLive, live), max(peakHeap, heap), max(retained, kept)
				if err != nil {
					b.Fatal(err)
				}
				if res.Planned != size.N || res.Existing != 0 || res.Refused != 0 {
					b.Fatalf("cycle %d: %+v, want %d planned", k, res, size.N)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(size.N*k)/b.Elapsed().Seconds(), "consents/s")
			b.ReportMetric(float64(peakLive), "peak-live-B")
			b.ReportMetric(float64(peakHeap), "peak-heap-B")
			b.ReportMetric(float64(retained), "retained-B")
		})
	}
}

// sampler records the heap while Bill runs, above the live heap before it
// (after a collection): peak live is the largest heap a collection found
// live, peak heap the largest heap of objects, garbage included, and
// retained the live heap after the run. What a run retains is the
// Initiator's E2EID generator remembering the ids it issued (to never
// issue one twice; payments.DefaultRemember ids, about 60 bytes each), so
// peak live minus retained is Bill's own working set.
type sampler struct {
	base       [2]uint64
	done       chan struct{}
	wg         sync.WaitGroup
	live, heap uint64
}

var sampleNames = [...]string{"/gc/heap/live:bytes", "/memory/classes/heap/objects:bytes"}

func startSampler() *sampler {
	runtime.GC()
	s := &sampler{done: make(chan struct{})}
	s.base = s.read()
	s.wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				v := s.read()
				s.live, s.heap = max(s.live, v[0]), max(s.heap, v[1])
			}
		}
	})
	return s
}

func (s *sampler) read() [2]uint64 {
	samples := make([]metrics.Sample, len(sampleNames))
	for i, n := range sampleNames {
		samples[i].Name = n
	}
	metrics.Read(samples)
	return [2]uint64{samples[0].Value.Uint64(), samples[1].Value.Uint64()}
}

// stop ends the sampling and returns the peaks and the retained heap,
// above the base.
func (s *sampler) stop() (live, heap, retained uint64) {
	close(s.done)
	s.wg.Wait()
	runtime.GC()
	after := s.read()[0]
	above := func(v, base uint64) uint64 {
		if v < base {
			return 0
		}
		return v - base
	}
	return above(s.live, s.base[0]), above(s.heap, s.base[1]), above(after, s.base[0])
}

// StreamCharges reads rows charges (stored by the caller, all of amount
// 14990) through one ListCharges loop per iteration. peak-heap-B is the
// largest live heap seen while iterating, above the heap before the loop:
// it stays flat (a few records), whatever the number of rows, because rows
// are streamed, never collected.
func StreamCharges(b *testing.B, s pixauto.Store, rows int) {
	ctx := b.Context()
	var peak uint64
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		base := liveHeap()
		b.StartTimer()
		n := 0
		for c, err := range s.ListCharges(ctx, pixauto.ChargeFilter{}) {
			if err != nil {
				b.Fatal(err)
			}
			if c.Amount != 14990 {
				b.Fatalf("charge %s: amount %d", c.ID, c.Amount)
			}
			n++
			if n%10_000 == 0 {
				b.StopTimer()
				if h := liveHeap(); h > base {
					peak = max(peak, h-base)
				}
				b.StartTimer()
			}
		}
		if n != rows {
			b.Fatalf("%d rows, want %d", n, rows)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
	b.ReportMetric(float64(peak), "peak-heap-B")
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
