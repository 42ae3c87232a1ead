package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"regexp"
	"runtime/debug"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/server/api"
)

// Check is a readiness check: /readyz answers 503 while one fails.
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// Config configures a Server.
type Config struct {
	// Initiator runs the agreements. Required.
	Initiator *pixauto.Initiator
	// Store keeps receivers, keys and webhooks. Required.
	Store Store
	// HolderIDs are the banks configured on the Initiator, in order; the
	// first is the default of a consent that names none when it is the
	// only one. At least one is required.
	HolderIDs []string
	// SecretKey (32 bytes) seals webhook secrets at rest. Required.
	SecretKey []byte
	// Metrics receives the server's metrics and is served at /metrics.
	// Nil means NewMetrics().
	Metrics *Metrics
	// Checks are the readiness checks besides the store's Ping (each
	// bank's discovery, for instance).
	Checks []Check
	// Clock tells the time. Nil means the system clock.
	Clock fapi.Clock
	// Rand feeds ids and generated webhook secrets. Nil means crypto/rand.
	Rand io.Reader
	// Logger receives a JSON-ready line per request (request id, route,
	// status, receiver) and the causes of 5xx answers; never a key, a
	// token or a secret. Nil discards.
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies. Zero means 64 KiB.
	MaxBodyBytes int64
	// CheckTimeout bounds each readiness check. Zero means 5 s.
	CheckTimeout time.Duration
	// AllowHTTPWebhooks accepts http:// subscription URLs (the sandbox and
	// tests); otherwise only https:// is accepted.
	AllowHTTPWebhooks bool
}

// Server is the reference server: the REST API of receivers, the payer's
// callback page, health, readiness and metrics, as one http.Handler.
type Server struct {
	cfg     Config
	in      *pixauto.Initiator
	store   Store
	seal    *sealer
	clock   fapi.Clock
	log     *slog.Logger
	metrics *Metrics
	routes  *routeTable
	handler http.Handler
}

// New validates cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Initiator == nil:
		return nil, errors.New("server: Config.Initiator is required")
	case cfg.Store == nil:
		return nil, errors.New("server: Config.Store is required")
	case len(cfg.HolderIDs) == 0:
		return nil, errors.New("server: Config.HolderIDs needs at least one bank")
	}
	seal, err := newSealer(cfg.SecretKey, cfg.Rand)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, in: cfg.Initiator, store: cfg.Store, seal: seal, clock: cfg.Clock, log: cfg.Logger, metrics: cfg.Metrics}
	if s.clock == nil {
		s.clock = fapi.ClockFunc(time.Now)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.metrics == nil {
		s.metrics = NewMetrics()
	}
	if s.cfg.MaxBodyBytes <= 0 {
		s.cfg.MaxBodyBytes = 64 << 10
	}
	if s.cfg.CheckTimeout <= 0 {
		s.cfg.CheckTimeout = 5 * time.Second
	}
	if s.routes, err = loadRoutes(); err != nil {
		return nil, err
	}
	s.handler = s.build()
	return s, nil
}

// Handler returns the server's handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Metrics returns the server's metrics.
func (s *Server) Metrics() *Metrics { return s.metrics }

func (s *Server) now() time.Time { return s.clock.Now().UTC() }

func (s *Server) build() http.Handler {
	apiMux := http.NewServeMux()
	strict := api.NewStrictHandlerWithOptions(s, nil, api.StrictHTTPServerOptions{
		RequestErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			writeProblem(w, r, &Problem{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Title: "Bad Request", Detail: "The request body could not be read as JSON.", cause: err})
		},
		ResponseErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			writeProblem(w, r, problemFor(err))
		},
	})
	api.HandlerWithOptions(strict, api.StdHTTPServerOptions{
		BaseRouter: apiMux,
		ErrorHandlerFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			writeProblem(w, r, &Problem{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Title: "Bad Request", Detail: "A parameter could not be read.", cause: err})
		},
	})
	root := http.NewServeMux()
	root.Handle("GET /metrics", s.metrics.Handler())
	root.Handle("/", s.dispatch(apiMux))
	return s.observe(root)
}

// Context values set by the middleware.
type ctxKey int

const (
	requestIDKey ctxKey = iota
	receiverKey
	recorderKey
)

func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// receiverFrom returns the authenticated receiver; the dispatcher never
// calls a secured operation without one.
func receiverFrom(ctx context.Context) *Receiver {
	r, _ := ctx.Value(receiverKey).(*Receiver)
	return r
}

// recorder collects what the access log reports.
type recorder struct {
	http.ResponseWriter
	status   int
	written  bool
	route    string
	receiver string
	problem  *Problem
}

func recorderFrom(ctx context.Context) *recorder {
	r, _ := ctx.Value(recorderKey).(*recorder)
	return r
}

func (r *recorder) WriteHeader(code int) {
	if !r.written {
		r.status, r.written = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.written {
		r.status, r.written = http.StatusOK, true
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// observe gives every request an id (the caller's X-Request-Id when it is
// well formed), recovers panics as 500 problems, and logs and counts every
// request once it is answered.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !requestIDPattern.MatchString(id) {
			id = uuid.NewString()
		}
		w.Header().Set("X-Request-Id", id)
		rec := &recorder{ResponseWriter: w, route: "unmatched"}
		ctx := context.WithValue(context.WithValue(r.Context(), requestIDKey, id), recorderKey, rec)
		r = r.WithContext(ctx)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(ctx, "panic", "request_id", id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if !rec.written {
					writeProblem(rec, r, problem(http.StatusInternalServerError, CodeInternal, "An internal error; the request id identifies it in the logs."))
				}
			}
			if r.URL.Path == "/metrics" {
				rec.route = "GET /metrics"
			}
			d := time.Since(start)
			s.metrics.observeRequest(rec.route, rec.status, d)
			attrs := []any{"request_id", id, "method", r.Method, "route", rec.route, "path", r.URL.Path, "status", rec.status, "duration_ms", d.Milliseconds()}
			if rec.receiver != "" {
				attrs = append(attrs, "receiver_id", rec.receiver)
			}
			if p := rec.problem; p != nil {
				attrs = append(attrs, "code", p.Code)
				// Only a server failure's cause is logged: the causes of 4xx
				// answers (validation errors) may quote the request's values.
				if p.cause != nil && rec.status >= 500 {
					attrs = append(attrs, "err", p.cause.Error())
				}
			}
			level := slog.LevelInfo
			if rec.status >= 500 {
				level = slog.LevelError
			}
			s.log.Log(ctx, level, "request", attrs...)
		}()
		next.ServeHTTP(rec, r)
	})
}

// dispatch finds the operation of a request in the specification,
// answers 404 and 405 as problems, authenticates secured operations,
// validates the request against the specification, and hands it to the
// generated router.
func (s *Server) dispatch(apiMux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt, params, allowed := s.routes.match(r.Method, r.URL.EscapedPath())
		rec := recorderFrom(r.Context())
		if rt == nil {
			if len(allowed) > 0 {
				w.Header().Set("Allow", joinMethods(allowed))
				writeProblem(w, r, problem(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "The method is not allowed here."))
				return
			}
			writeProblem(w, r, problem(http.StatusNotFound, CodeNotFound, "No such endpoint."))
			return
		}
		rec.route = rt.method + " " + rt.path
		ctx := r.Context()
		if rt.secured {
			rcv, _, err := authenticate(ctx, s.store, r.Header.Get("Authorization"))
			if errors.Is(err, errBadKey) {
				writeProblem(w, r, problem(http.StatusUnauthorized, CodeUnauthorized, "A valid API key is required: Authorization: Bearer pxa_…"))
				return
			}
			if err != nil {
				writeProblem(w, r, problemFor(err))
				return
			}
			rec.receiver = rcv.ID
			ctx = context.WithValue(ctx, receiverKey, rcv)
			r = r.WithContext(ctx)
		}
		if p := s.readBody(w, r); p != nil {
			writeProblem(w, r, p)
			return
		}
		if p := s.routes.validate(r, rt, params); p != nil {
			writeProblem(w, r, p)
			return
		}
		apiMux.ServeHTTP(w, r)
	})
}

// readBody reads the body within MaxBodyBytes and, when it is JSON,
// requires exactly one well-formed JSON value (the validator would read
// the first one and ignore what follows); it puts the body back for the
// validator and the handler.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) *Problem {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	r.Body.Close()
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &Problem{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge, Title: "Content Too Large",
			Detail: fmt.Sprintf("The request body is larger than %d bytes.", s.cfg.MaxBodyBytes), cause: err}
	}
	if err != nil {
		return &Problem{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Title: "Bad Request", Detail: "The request body could not be read.", cause: err}
	}
	if len(b) > 0 {
		// Every request body of the API is JSON.
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			return &Problem{Status: http.StatusUnsupportedMediaType, Code: CodeInvalidRequest, Title: "Unsupported Media Type", Detail: "The body must be application/json."}
		}
		if !json.Valid(b) {
			return &Problem{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Title: "Bad Request", Detail: "The body is not one well-formed JSON value."}
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	return nil
}

func joinMethods(ms []string) string {
	slices.Sort(ms)
	out := ""
	for i, m := range ms {
		if i > 0 {
			out += ", "
		}
		out += m
	}
	return out
}
