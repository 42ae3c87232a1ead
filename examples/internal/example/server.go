package example

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/ofb-go/pixauto/pixauto/server"
)

// Server is the reference server (pixauto/server) running in the process
// on an Env: the same sandbox bank, manual clock and SQLite store, with the
// Initiator's events going to the server's webhook Deliverer instead of
// the story's printer. It is what `pixauto serve --sandbox` runs, on the
// example's clock.
type Server struct {
	*Env
	// URL is the API's base URL (https, a certificate of httptest's own).
	URL string
	// APIKey is the receiver's key, shown once at creation.
	APIKey string
	// Receiver is the receiver the key belongs to: the example's creditor.
	Receiver *server.Receiver
	// Deliverer sends the receiver's webhooks. Nothing runs it in the
	// background: the example calls DeliverDue, as the server's job would.
	Deliverer *server.Deliverer

	http *httptest.Server
}

// StartServer starts the bank, the Initiator and the reference server
// (wired as `pixauto serve --sandbox` wires them) and creates the receiver
// with its first API key. The ITP's redirect URI registered at the bank is
// the server's /callback. out receives the lines the example prints with
// Printf and Note. Close the Server when done.
func StartServer(ctx context.Context, out io.Writer, opts ...Option) (*Server, error) {
	s := &Server{}
	// The server's URL must be known before the bank registers the ITP's
	// redirect URI; the handler is set once everything is wired.
	var handler atomic.Pointer[http.Handler]
	s.http = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := handler.Load()
		if h == nil {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		(*h).ServeHTTP(w, r)
	}))
	s.URL = s.http.URL
	opts = append(opts, func(c *sandbox.Config) { c.ITP.RedirectURIs = []string{s.URL + "/callback"} })

	key := make([]byte, 32) // seals webhook secrets at rest, and refresh tokens
	if _, err := rand.Read(key); err != nil {
		s.http.Close()
		return nil, err
	}
	env := &Env{Clock: sandbox.NewClock(StartTime), out: out, labels: map[string]string{}}
	s.Env = env
	env.secretKey = key
	env.onEvent = func(st pixauto.Store) (func(pixauto.Event), error) {
		ss, ok := st.(server.Store)
		if !ok {
			return nil, errors.New("example: the store is not a server.Store")
		}
		var err error
		s.Deliverer, err = server.NewDeliverer(server.DelivererConfig{Store: ss, SecretKey: key, Clock: env.Clock})
		if err != nil {
			return nil, err
		}
		return s.Deliverer.OnEvent, nil
	}
	if err := env.start(ctx, opts); err != nil {
		s.Close()
		return nil, err
	}
	srv, err := server.New(server.Config{
		Initiator: env.Initiator, Store: env.store, HolderIDs: []string{HolderID}, SecretKey: key, Clock: env.Clock,
		AllowHTTPWebhooks: true, // the receiver's endpoint is a local http:// server
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	h := srv.Handler()
	handler.Store(&h)
	s.Receiver, s.APIKey, err = server.CreateReceiver(ctx, env.store,
		server.ReceiverInput{Name: CreditorName, CNPJ: CreditorCNPJ, Account: CreditorAccount}, env.Clock.Now(), nil)
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Client is an HTTP client that trusts the server's certificate: the
// receiver's plain net/http client.
func (s *Server) Client() *http.Client { return s.http.Client() }

// Close stops the server, the bank and removes the store.
func (s *Server) Close() {
	if s.http != nil {
		s.http.Close()
	}
	if s.Env != nil {
		s.Env.Close()
	}
}
