package server

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/pixauto"
)

// Metrics are the server's Prometheus collectors, on a registry of their
// own (no global state): several servers in one process (tests) keep
// their counts apart.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests   *prometheus.CounterVec
	httpDuration   *prometheus.HistogramVec
	charges        *prometheus.CounterVec
	consents       *prometheus.CounterVec
	retries        prometheus.Counter
	bankDuration   *prometheus.HistogramVec
	deliveries     *prometheus.CounterVec
	deliveryTries  *prometheus.CounterVec
	deliveryErrors prometheus.Counter
}

// NewMetrics registers the collectors on a new registry, with the Go
// runtime and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pixauto_http_requests_total", Help: "API requests by route and status code.",
		}, []string{"route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pixauto_http_request_duration_seconds", Help: "API request latency by route.", Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		charges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pixauto_charges_total", Help: "Charges that reached each status.",
		}, []string{"status"}),
		consents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pixauto_consents_total", Help: "Consents that reached each status.",
		}, []string{"status"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pixauto_charge_retries_total", Help: "Charges that moved to RETRYING after a failed attempt.",
		}),
		bankDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "pixauto_bank_request_duration_seconds", Help: "Latency of calls to the banks, by bank, method and status code (0: no answer).",
			Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"holder", "method", "code"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pixauto_webhook_deliveries_total", Help: "Webhook deliveries by outcome (created, delivered, failed, cancelled).",
		}, []string{"outcome"}),
		deliveryTries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pixauto_webhook_attempts_total", Help: "Webhook delivery attempts by result (success, failure).",
		}, []string{"result"}),
		deliveryErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pixauto_webhook_events_lost_total", Help: "Events whose deliveries could not be stored.",
		}),
	}
	m.reg.MustRegister(m.httpRequests, m.httpDuration, m.charges, m.consents, m.retries, m.bankDuration,
		m.deliveries, m.deliveryTries, m.deliveryErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the metrics' registry.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveEvent counts an Initiator event (charges and consents by status,
// retries).
func (m *Metrics) ObserveEvent(e pixauto.Event) {
	if m == nil {
		return
	}
	switch {
	case e.ChargeID != "" && e.ChargeStatus != "":
		m.charges.WithLabelValues(string(e.ChargeStatus)).Inc()
		if e.ChargeStatus == pixauto.ChargeRetrying {
			m.retries.Inc()
		}
	case e.ChargeID == "" && e.ConsentStatus != "":
		m.consents.WithLabelValues(string(e.ConsentStatus)).Inc()
	}
}

func (m *Metrics) observeRequest(route string, code int, d time.Duration) {
	if m == nil {
		return
	}
	m.httpRequests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(d.Seconds())
}

func (m *Metrics) observeDelivery(outcome string) {
	if m != nil {
		m.deliveries.WithLabelValues(outcome).Inc()
	}
}

func (m *Metrics) observeAttempt(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.deliveryTries.WithLabelValues("success").Inc()
	} else {
		m.deliveryTries.WithLabelValues("failure").Inc()
	}
}

// BankTransport wraps the transport of a bank's FAPI client: every call
// is timed into pixauto_bank_request_duration_seconds and logged with its
// x-fapi-interaction-id and the request id of the API request that caused
// it (never a header value that carries a secret). Wrap the *innermost*
// transport (fapi.Transport.Base), so that the interaction id is already
// set. m and log may be nil.
func BankTransport(holderID string, base http.RoundTripper, m *Metrics, log *slog.Logger) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &bankTransport{holder: holderID, base: base, m: m, log: log}
}

type bankTransport struct {
	holder string
	base   http.RoundTripper
	m      *Metrics
	log    *slog.Logger
}

func (t *bankTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(r)
	d := time.Since(start)
	code := 0
	if resp != nil {
		code = resp.StatusCode
	}
	if t.m != nil {
		t.m.bankDuration.WithLabelValues(t.holder, r.Method, strconv.Itoa(code)).Observe(d.Seconds())
	}
	attrs := []any{
		"holder", t.holder, "method", r.Method, "host", r.URL.Host, "path", r.URL.Path, "status", code,
		"duration_ms", d.Milliseconds(), "x-fapi-interaction-id", r.Header.Get(fapi.HeaderInteractionID),
	}
	if id := requestIDFrom(r.Context()); id != "" {
		attrs = append(attrs, "request_id", id)
	}
	if err != nil {
		t.log.WarnContext(r.Context(), "bank call failed", append(attrs, "err", err.Error())...)
	} else {
		t.log.InfoContext(r.Context(), "bank call", attrs...)
	}
	return resp, err
}

// InstrumentFAPIClient wraps the innermost transport of an *http.Client
// built by fapi.NewMTLSClient (a *fapi.Transport over an *http.Transport)
// with BankTransport, and returns the client. A client of another shape is
// wrapped as a whole.
func InstrumentFAPIClient(holderID string, hc *http.Client, m *Metrics, log *slog.Logger) *http.Client {
	if ft, ok := hc.Transport.(*fapi.Transport); ok {
		ft.Base = BankTransport(holderID, ft.Base, m, log)
		return hc
	}
	hc.Transport = BankTransport(holderID, hc.Transport, m, log)
	return hc
}
