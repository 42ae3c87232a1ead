package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/ofb-go/pixauto/pixauto/server"
	"github.com/ofb-go/pixauto/pixauto/store/sqlite"
)

// BenchmarkServerCreateCharges is a load test of POST /v1/charges: N
// receivers at once, each with its own API key and authorised consents,
// each POSTing charges as fast as the server answers. Every charge is on a
// consent of its own and due within the lead days, so every request goes
// all the way: the spec check, authentication, Initiator.Charge, the store
// (SQLite), the delivery rows of the receiver's webhook subscription, and
// the submission to the sandbox bank over mTLS with a signed JWS and a
// token refresh. The bank, the server and the clients share the process,
// so allocs/op counts all three.
//
// One consent per request is enrolled before the timer (through the API:
// POST /v1/consents, the payer at the bank, POST /callback), so give a
// fixed count:
//
//	go test ./pixauto/server -run '^$' -bench ServerCreateCharges -benchtime 200x
//
// Reported: req/s over the timed loop, and p50/p99 of the requests'
// latencies as the receivers measured them (ms).
func BenchmarkServerCreateCharges(b *testing.B) {
	for _, n := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("receivers=%d", n), func(b *testing.B) { benchCreateCharges(b, n) })
	}
}

func benchCreateCharges(b *testing.B, receivers int) {
	e := newLoadEnv(b)
	ctx := context.Background()

	// The fixture, outside the timer: the receivers, their subscriptions
	// and b.N authorised consents dealt out among them.
	type worker struct {
		key      string
		consents []string
	}
	workers := make([]*worker, receivers)
	for i := range workers {
		cnpj := loadCNPJ(i)
		_, key, err := server.CreateReceiver(ctx, e.store, server.ReceiverInput{Name: fmt.Sprintf("Escola %02d Ltda", i), CNPJ: cnpj, Account: sandboxtest.CreditorAccount}, e.Clock.Now(), nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.call("POST", "/v1/webhook-subscriptions", key, map[string]any{"url": "http://127.0.0.1:9/hooks"}, http.StatusCreated); err != nil {
			b.Fatal(err)
		}
		workers[i] = &worker{key: key}
	}
	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		errs   []error
		next   atomic.Int64
		enrols = make([][]string, receivers)
	)
	for i, w := range workers {
		share := b.N / receivers
		if i < b.N%receivers {
			share++
		}
		wg.Go(func() {
			for range share {
				id, err := e.enrolConsent(ctx, w.key, int(next.Add(1)))
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				enrols[i] = append(enrols[i], id)
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		b.Fatal(errs[0])
	}
	for i, w := range workers {
		w.consents = enrols[i]
	}
	due := e.Today().AddDays(3).String()

	// The load: each receiver POSTs its charges one after the other, all
	// receivers at once; each request's latency is kept.
	latencies := make([]time.Duration, b.N)
	var slot atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for _, w := range workers {
		wg.Go(func() {
			for j, consentID := range w.consents {
				body := fmt.Sprintf(`{"consent_id":%q,"amount":"150.00","due_date":%q,"description":"mensalidade","external_id":"NF-%d"}`, consentID, due, j)
				t0 := time.Now()
				res, err := e.call("POST", "/v1/charges", w.key, body, http.StatusCreated)
				latencies[slot.Add(1)-1] = time.Since(t0)
				if err == nil && !bytes.Contains(res, []byte(`"state":"SUBMITTED"`)) {
					err = fmt.Errorf("charge not submitted at once: %s", res)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if len(errs) > 0 {
		b.Fatalf("%d requests failed; the first: %v", len(errs), errs[0])
	}

	// Every request reached the bank exactly once.
	held := 0
	for _, w := range workers {
		for _, c := range w.consents {
			held += len(e.Bank.Payments(c))
		}
	}
	if held != b.N {
		b.Fatalf("the bank holds %d payments for %d charges", held, b.N)
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(ms(percentile(latencies, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(latencies, 0.99)), "p99-ms")
}

// percentile is the nearest-rank percentile of sorted latencies.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// loadEnv is newEnv's server for a benchmark: the same wiring (sandbox
// bank on a manual clock, SQLite, the Deliverer as OnEvent, the
// instrumented FAPI client), logging JSON at Info to io.Discard so that
// the request log costs what it costs in production, and a client that
// keeps enough idle connections for every receiver. Its requests return
// errors instead of failing the benchmark, since they run on the workers'
// goroutines.
type loadEnv struct {
	*sandboxtest.Env
	store testStore
	api   *httptest.Server
	hc    *http.Client
}

func newLoadEnv(b *testing.B) *loadEnv {
	b.Helper()
	var handler atomic.Pointer[http.Handler]
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(w, r) }))
	b.Cleanup(api.Close)
	u, err := url.Parse(api.URL)
	if err != nil {
		b.Fatal(err)
	}
	e := &loadEnv{api: api}
	e.Env = sandboxtest.New(b, sandboxtest.Options{Bank: sandbox.Config{ITP: sandbox.ITPConfig{RedirectURIs: []string{"https://" + u.Host + "/callback"}}}})
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "pixauto.db"))
	if err != nil {
		b.Fatal(err)
	}
	e.store = st
	b.Cleanup(func() { st.Close() })

	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	metrics := server.NewMetrics()
	deliverer, err := server.NewDeliverer(server.DelivererConfig{Store: e.store, SecretKey: secretKey, Clock: e.Clock, Logger: log, Metrics: metrics})
	if err != nil {
		b.Fatal(err)
	}
	server.InstrumentFAPIClient("bank", e.FAPI.HTTPClient(), metrics, log)
	in, err := pixauto.New(pixauto.Config{
		CNPJ: e.ITPCNPJ, ISPB: sandboxtest.ITPISPB, Store: e.store, SecretKey: secretKey, Clock: e.Clock, Logger: log,
		Holders: []pixauto.Holder{{ID: "bank", FAPI: e.FAPI, BaseURL: e.Bank.MTLSURL + sandbox.AutomaticPaymentsBase}},
		OnEvent: deliverer.OnEvent,
	})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := server.New(server.Config{
		Initiator: in, Store: e.store, HolderIDs: []string{"bank"}, SecretKey: secretKey, Clock: e.Clock, Logger: log,
		Metrics: metrics, AllowHTTPWebhooks: true,
	})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	handler.Store(&h)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	e.hc = &http.Client{Transport: tr, Timeout: time.Minute}
	b.Cleanup(tr.CloseIdleConnections)
	return e
}

// call sends body (JSON-encoded unless a string; none if nil) and returns
// the answer's body, or an error unless its status is want.
func (e *loadEnv) call(method, path, key string, body any, want int) ([]byte, error) {
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	default:
		j, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.api.URL+path, rd)
	if err != nil {
		return nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := e.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != want {
		return out, fmt.Errorf("%s %s: HTTP %d: %s", method, path, res.StatusCode, out)
	}
	return out, nil
}

// enrolConsent enrols a payer for receiver key through the API, plays the
// payer at the bank and completes the callback; it returns the consent id.
func (e *loadEnv) enrolConsent(ctx context.Context, key string, n int) (string, error) {
	res, err := e.call("POST", "/v1/consents", key, map[string]any{
		"payer":                map[string]any{"document": sandbox.DefaultPayerCPF, "name": "Ana Souza"},
		"contract_id":          fmt.Sprintf("CTR%07d", n),
		"interval":             "MONTHLY",
		"reference_start_date": e.Today().AddDays(3).String(),
		"expires_on":           e.Today().AddDays(400).String(),
		"maximum_amount":       "300.00",
		"retries_accepted":     true,
	}, http.StatusCreated)
	if err != nil {
		return "", err
	}
	var en struct {
		Consent struct {
			ID string `json:"id"`
		} `json:"consent"`
		RedirectURL string `json:"redirect_url"`
	}
	if err := json.Unmarshal(res, &en); err != nil {
		return "", err
	}
	location, err := e.Bank.Authorize(ctx, en.RedirectURL)
	if err != nil {
		return "", err
	}
	_, fragment, _ := strings.Cut(location, "#")
	if _, err := e.call("POST", "/callback", "", map[string]any{"response": "#" + fragment}, http.StatusOK); err != nil {
		return "", err
	}
	return en.Consent.ID, nil
}

// loadCNPJ is a valid CNPJ for receiver i (its check digits computed).
func loadCNPJ(i int) string {
	base := fmt.Sprintf("%08d0001", 10000000+i*7919)
	digit := func(s string) byte {
		weights := []int{6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2}
		w := weights[len(weights)-len(s):]
		sum := 0
		for k := range len(s) {
			sum += int(s[k]-'0') * w[k]
		}
		if r := sum % 11; r >= 2 {
			return byte('0' + 11 - r)
		}
		return '0'
	}
	base += string(digit(base))
	return base + string(digit(base))
}
