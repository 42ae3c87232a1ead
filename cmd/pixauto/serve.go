package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/internal/pki"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/jobs"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/ofb-go/pixauto/pixauto/server"
	"github.com/ofb-go/pixauto/pixauto/store/postgres"
	"github.com/ofb-go/pixauto/pixauto/store/sqlite"
)

// ServeCommand runs the reference server: the receivers' API, the payer's
// callback page, the banks' notifications, reconciliation and outbound
// webhooks — on the embedded sandbox bank (--sandbox) or on the banks of a
// config file.
type ServeCommand struct {
	Stdout, Stderr io.Writer
	// Getenv reads the environment (nil: os.Getenv).
	Getenv func(string) string
	// Started, if set, receives the addresses once the server listens.
	Started func(ServeInfo)
}

// ServeInfo is what a started server tells.
type ServeInfo struct {
	APIURL, CallbackURL string
	DemoKey             string
	Bank                *sandbox.Bank
}

// The sandbox's fixed identities.
const (
	sandboxISPB     = "12345678"
	sandboxHolderID = "sandbox"
	demoName        = "Academia Demo Ltda"
	demoCNPJ        = "11222333000181"
)

var demoReceiverAccount = consent.Account{ISPB: "87654321", Issuer: "0001", Number: "1234567890", AccountType: consent.AccountCACC}

// sandboxSecretKey seals the sandbox's secrets: sandbox data is not
// secret, and a fixed key lets a restarted sandbox read its database.
var sandboxSecretKey = sha256.Sum256([]byte("pixauto sandbox: not a secret"))

// Run parses flags and serves until ctx ends.
func (c *ServeCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	configPath := fs.String("config", "", "JSON configuration file (PIXAUTO_CONFIG)")
	sandboxFlag := fs.Bool("sandbox", false, "run on the embedded sandbox bank, with a demo receiver (PIXAUTO_SANDBOX)")
	reset := fs.Bool("reset", false, "sandbox: delete the SQLite database first")
	values := map[string]*string{}
	for _, o := range serveOptions {
		values[o.flag] = fs.String(o.flag, "", o.usage+" ("+o.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected arguments %q", fs.Args())
	}
	getenv := c.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	cfg, err := loadServeConfig(fs, values, sandboxFlag, configPath, getenv)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if *reset {
		if !cfg.Sandbox || strings.Contains(cfg.DatabaseURL, "://") {
			return errors.New("serve: --reset only deletes the SQLite file of a sandbox")
		}
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(strings.TrimPrefix(cfg.DatabaseURL, "sqlite:") + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("serve: --reset: %w", err)
			}
		}
	}
	level, _ := parseLevel(cfg.LogLevel)
	log := slog.New(slog.NewJSONHandler(c.Stderr, &slog.HandlerOptions{Level: level}))
	return c.serve(ctx, cfg, log)
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("log-level %q: debug, info, warn or error", s)
	}
	return l, nil
}

// app is everything a running server holds, to close in reverse order.
type app struct {
	closers []func()
}

func (a *app) onClose(f func()) { a.closers = append(a.closers, f) }

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

func (c *ServeCommand) serve(ctx context.Context, cfg serveConfig, log *slog.Logger) error {
	a := &app{}
	defer a.close()
	st, dbName, err := openStore(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	a.onClose(func() { st.Close() })
	metrics := server.NewMetrics()
	key := sandboxSecretKey[:]
	if !cfg.Sandbox {
		key, _ = decodeSecretKey(cfg.SecretKey)
	}

	apiLn, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	a.onClose(func() { apiLn.Close() })
	apiURL := "http://" + apiLn.Addr().String()

	// The handler is built last; the listeners that must exist before the
	// bank registers their URLs forward to it.
	var handler struct {
		sync.RWMutex
		h http.Handler
	}
	forward := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.RLock()
		h := handler.h
		handler.RUnlock()
		if h == nil {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
	var holderHook struct {
		sync.RWMutex
		h http.Handler
	}
	holderForward := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		holderHook.RLock()
		h := holderHook.h
		holderHook.RUnlock()
		if h == nil {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})

	deliverer, err := server.NewDeliverer(server.DelivererConfig{Store: st, SecretKey: key, Logger: log, Metrics: metrics})
	if err != nil {
		return err
	}
	icfg := pixauto.Config{Store: st, SecretKey: key, Logger: log, OnEvent: deliverer.OnEvent}
	var (
		holderIDs   []string
		checks      []server.Check
		callbackURL string
		bank        *sandbox.Bank
		servers     []*http.Server
	)
	if cfg.Sandbox {
		cbLn, err := net.Listen("tcp", cfg.CallbackListen)
		if err != nil {
			return fmt.Errorf("serve: callback listener: %w", err)
		}
		a.onClose(func() { cbLn.Close() })
		cert, err := sandboxServerCert()
		if err != nil {
			return err
		}
		callbackURL = "https://" + cbLn.Addr().String() + "/callback"
		if cfg.PublicURL != "" {
			callbackURL = strings.TrimSuffix(cfg.PublicURL, "/") + "/callback"
		}
		cbSrv := newHTTPServer(forward)
		cbSrv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		servers = append(servers, cbSrv)
		go func() { _ = cbSrv.ServeTLS(cbLn, "", "") }()

		hookSrv, err := sandbox.NewWebhookServer(holderForward)
		if err != nil {
			return err
		}
		a.onClose(hookSrv.Close)
		bank, err = sandbox.New(sandbox.Config{
			Clock: sandbox.SystemClock{}, Logger: log,
			ITP: sandbox.ITPConfig{RedirectURIs: []string{callbackURL}, WebhookURIs: []string{hookSrv.URL}},
		})
		if err != nil {
			return fmt.Errorf("serve: sandbox bank: %w", err)
		}
		a.onClose(bank.Close)
		fc, err := fapi.New(bank.FAPIConfig(bank.ITP))
		if err != nil {
			return err
		}
		server.InstrumentFAPIClient(sandboxHolderID, fc.HTTPClient(), metrics, log)
		icfg.CNPJ, icfg.ISPB = bank.ITP.CNPJ, sandboxISPB
		icfg.Holders = []pixauto.Holder{{ID: sandboxHolderID, FAPI: fc, BaseURL: bank.MTLSURL + sandbox.AutomaticPaymentsBase}}
		holderIDs = []string{sandboxHolderID}
		checks = append(checks, server.Check{Name: "bank:" + sandboxHolderID, Check: discoveryCheck(bank.Issuer, bank.Client(nil))})
	} else {
		callbackURL = strings.TrimSuffix(cfg.PublicURL, "/") + "/callback"
		icfg.CNPJ, icfg.ISPB = cfg.CNPJ, cfg.ISPB
		for _, h := range cfg.Holders {
			h := h
			fc, err := holderFAPI(h, callbackURL, func(hc *http.Client) *http.Client { return server.InstrumentFAPIClient(h.ID, hc, metrics, log) })
			if err != nil {
				return fmt.Errorf("serve: %w", err)
			}
			icfg.Holders = append(icfg.Holders, pixauto.Holder{ID: h.ID, FAPI: fc, BaseURL: h.BaseURL})
			holderIDs = append(holderIDs, h.ID)
			public := http.DefaultClient
			if h.PublicRootCAsFile != "" {
				roots, _ := certPool(h.PublicRootCAsFile)
				public = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}
			}
			checks = append(checks, server.Check{Name: "bank:" + h.ID, Check: discoveryCheck(h.Issuer, public)})
		}
		if w := cfg.HolderWebhooks; w != nil {
			srv, ln, err := holderWebhookServer(*w, holderForward)
			if err != nil {
				return fmt.Errorf("serve: holder webhooks: %w", err)
			}
			a.onClose(func() { ln.Close() })
			servers = append(servers, srv)
			go func() { _ = srv.ServeTLS(ln, "", "") }()
		}
	}
	in, err := pixauto.New(icfg)
	if err != nil {
		return err
	}
	srv, err := server.New(server.Config{
		Initiator: in, Store: st, HolderIDs: holderIDs, SecretKey: key, Metrics: metrics, Checks: checks, Logger: log,
		AllowHTTPWebhooks: cfg.Sandbox,
	})
	if err != nil {
		return err
	}
	handler.Lock()
	handler.h = srv.Handler()
	handler.Unlock()
	// The Initiator's due work, the holders' notifications and the
	// outbound webhook deliveries run as River jobs on the store's own
	// database: several processes on one PostgreSQL share them.
	runner, err := jobs.New(jobs.Config{
		Initiator: in, Store: st, Driver: jobsDriver(st), Logger: log,
		SyncInterval: cfg.duration(cfg.SyncInterval), DeliverInterval: cfg.duration(cfg.DeliverInterval),
		Deliver: func(ctx context.Context) error { _, err := deliverer.DeliverDue(ctx); return err },
	})
	if err != nil {
		return err
	}
	if err := runner.Migrate(ctx); err != nil {
		return fmt.Errorf("serve: jobs: %w", err)
	}
	holderHook.Lock()
	holderHook.h = in.WebhookHandler(pixauto.WebhookOptions{Dispatch: runner.Dispatch()})
	holderHook.Unlock()

	var demoKey string
	if cfg.Sandbox {
		if demoKey, err = sandboxDemo(ctx, st, in); err != nil {
			return err
		}
	}
	apiSrv := newHTTPServer(forward)
	servers = append(servers, apiSrv)
	serveErr := make(chan error, 1)
	go func() { serveErr <- apiSrv.Serve(apiLn) }()

	loops, stop := context.WithCancel(ctx)
	defer stop()
	if err := runner.Start(loops); err != nil {
		return fmt.Errorf("serve: jobs: %w", err)
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = runner.Stop(stopCtx)
	}()

	c.banner(cfg, apiURL, callbackURL, dbName, bank, demoKey)
	if c.Started != nil {
		c.Started(ServeInfo{APIURL: apiURL, CallbackURL: callbackURL, DemoKey: demoKey, Bank: bank})
	}
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	}
	stop()
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(shutdown)
	}
	return nil
}

func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 90 * time.Second, IdleTimeout: 2 * time.Minute}
}

// sandboxServerCert is the https certificate of the sandbox's callback
// listener, from a CA of its own (browsers will warn: it is a sandbox).
func sandboxServerCert() (tls.Certificate, error) {
	ca, err := pki.NewCA("pixauto sandbox callback")
	if err != nil {
		return tls.Certificate{}, err
	}
	return ca.IssueServer("127.0.0.1", "localhost", "::1")
}

// holderWebhookServer is the mTLS listener of real banks' notifications.
func holderWebhookServer(w webhookListenerConfig, h http.Handler) (*http.Server, net.Listener, error) {
	cert, err := tls.LoadX509KeyPair(w.CertFile, w.KeyFile)
	if err != nil {
		return nil, nil, err
	}
	cas, err := certPool(w.ClientCAFile)
	if err != nil {
		return nil, nil, fmt.Errorf("client_ca_file: %w", err)
	}
	ln, err := net.Listen("tcp", w.Listen)
	if err != nil {
		return nil, nil, err
	}
	srv := newHTTPServer(h)
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: cas, MinVersion: tls.VersionTLS12}
	return srv, ln, nil
}

// sandboxDemo refuses a database holding consents of an earlier sandbox
// run (its bank lived in memory and is gone), and creates the demo
// receiver — or a new key for it — whose key it returns.
func sandboxDemo(ctx context.Context, st stores, in *pixauto.Initiator) (string, error) {
	for _, err := range in.ListConsents(ctx, pixauto.ConsentFilter{Limit: 1}) {
		if err != nil {
			return "", err
		}
		return "", errors.New("serve: the database holds consents of an earlier sandbox run, whose bank lived in memory and is gone; start with --reset to delete it, or give another --database-url")
	}
	rcvs, err := st.ListReceivers(ctx)
	if err != nil {
		return "", err
	}
	for _, r := range rcvs {
		if r.Name == demoName && r.CNPJ == demoCNPJ {
			return server.IssueAPIKey(ctx, st, r.ID, time.Now(), nil)
		}
	}
	_, key, err := server.CreateReceiver(ctx, st, server.ReceiverInput{Name: demoName, CNPJ: demoCNPJ, Account: demoReceiverAccount}, time.Now(), nil)
	return key, err
}

// jobsDriver is River's driver on the store's database.
func jobsDriver(st stores) jobs.Driver {
	if pg, ok := st.(*postgres.Store); ok {
		return jobs.Postgres(pg.Pool())
	}
	return jobs.SQLite(st.(*sqlite.Store).DB())
}

func (c *ServeCommand) banner(cfg serveConfig, apiURL, callbackURL, db string, bank *sandbox.Bank, demoKey string) {
	w := c.Stdout
	mode := "banks of the configuration"
	if cfg.Sandbox {
		mode = "embedded sandbox bank"
	}
	fmt.Fprintf(w, "pixauto reference server (%s)\n\n", mode)
	fmt.Fprintf(w, "  API        %s/v1   (OpenAPI: openapi/pixauto.yaml)\n", apiURL)
	fmt.Fprintf(w, "  dashboard  %s/dashboard   (sign in with a receiver's API key)\n", apiURL)
	fmt.Fprintf(w, "  callback   %s   (the ITP's redirect URI)\n", callbackURL)
	fmt.Fprintf(w, "  health     %s/healthz  %s/readyz  %s/metrics\n", apiURL, apiURL, apiURL)
	fmt.Fprintf(w, "  database   %s\n", db)
	if bank != nil {
		fmt.Fprintf(w, "  bank       issuer %s, mTLS %s\n", bank.Issuer, bank.MTLSURL)
	}
	if demoKey != "" {
		fmt.Fprintf(w, "\nDemo receiver %q, API key (shown once):\n\n  %s\n\n", demoName, demoKey)
		fmt.Fprintf(w, "Try it:\n\n  export PIXAUTO_KEY=%s\n", demoKey)
		fmt.Fprintf(w, "  curl -s -H \"Authorization: Bearer $PIXAUTO_KEY\" %s/v1/receiver\n", apiURL)
		fmt.Fprintf(w, "  curl -s -H \"Authorization: Bearer $PIXAUTO_KEY\" -H 'Content-Type: application/json' %s/v1/consents \\\n", apiURL)
		fmt.Fprintf(w, "    -d '{\"payer\":{\"document\":\"%s\",\"name\":\"Ana Souza\"},\"contract_id\":\"C1\",\"interval\":\"MONTHLY\",\"reference_start_date\":\"%s\",\"maximum_amount\":\"300.00\"}'\n",
			sandbox.DefaultPayerCPF, consent.Today(time.Now()).AddDays(3))
		fmt.Fprintf(w, "\nThen open redirect_url (the sandbox bank approves at once) or see README \"Reference server\" for the curl tour.\n")
	}
}
