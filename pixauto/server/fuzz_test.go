package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/ofb-go/pixauto/pixauto/server"
	"github.com/ofb-go/pixauto/pixauto/store/sqlite"
)

// fuzzServer is a light env for fuzz targets (testing.F has no
// *testing.T for newEnv): the reference server on a sandbox bank and a
// SQLite store, called in process, with one receiver and one authorised
// consent.
type fuzzServer struct {
	*sandboxtest.Env
	h         http.Handler
	key       string
	consentID string
}

const fuzzRedirect = "https://pixauto.test/callback"

func newFuzzServer(f *testing.F) *fuzzServer {
	f.Helper()
	must := func(err error) {
		f.Helper()
		if err != nil {
			f.Fatal(err)
		}
	}
	fs := &fuzzServer{Env: sandboxtest.New(f, sandboxtest.Options{Bank: sandbox.Config{ITP: sandbox.ITPConfig{RedirectURIs: []string{fuzzRedirect}}}})}
	st, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "pixauto.db"))
	must(err)
	f.Cleanup(func() { st.Close() })
	log := slog.New(slog.DiscardHandler)
	metrics := server.NewMetrics()
	d, err := server.NewDeliverer(server.DelivererConfig{Store: st, SecretKey: secretKey, Clock: fs.Clock, Logger: log, Metrics: metrics})
	must(err)
	in, err := pixauto.New(pixauto.Config{
		CNPJ: fs.ITPCNPJ, ISPB: sandboxtest.ITPISPB, Store: st, SecretKey: secretKey, Clock: fs.Clock, Logger: log,
		Holders: []pixauto.Holder{{ID: "bank", FAPI: fs.FAPI, BaseURL: fs.Bank.MTLSURL + sandbox.AutomaticPaymentsBase}},
		OnEvent: d.OnEvent,
	})
	must(err)
	srv, err := server.New(server.Config{
		Initiator: in, Store: st, HolderIDs: []string{"bank"}, SecretKey: secretKey, Clock: fs.Clock, Logger: log,
		Metrics: metrics, AllowHTTPWebhooks: true,
	})
	must(err)
	fs.h = srv.Handler()
	_, fs.key, err = server.CreateReceiver(context.Background(), st, server.ReceiverInput{Name: sandboxtest.CreditorName, CNPJ: sandboxtest.CreditorCNPJ, Account: sandboxtest.CreditorAccount}, fs.Clock.Now(), nil)
	must(err)

	// Enrol one consent, so that valid charges can be created.
	status, _, b := fs.post("/v1/consents", fs.key, []byte(fs.consentJSON()))
	if status != http.StatusCreated {
		f.Fatalf("enrolment: %d %s", status, b)
	}
	var en struct {
		RedirectURL string `json:"redirect_url"`
		Consent     struct {
			ID string `json:"id"`
		} `json:"consent"`
	}
	must(json.Unmarshal(b, &en))
	location, err := fs.Bank.Authorize(context.Background(), en.RedirectURL)
	must(err)
	cb, err := json.Marshal(map[string]string{"response": location[strings.Index(location, "#"):]})
	must(err)
	if status, _, b := fs.post("/callback", "", cb); status != http.StatusOK {
		f.Fatalf("callback: %d %s", status, b)
	}
	fs.consentID = en.Consent.ID
	return fs
}

func (fs *fuzzServer) post(path, key string, body []byte) (int, http.Header, []byte) {
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	w := httptest.NewRecorder()
	fs.h.ServeHTTP(w, r)
	return w.Code, w.Header(), w.Body.Bytes()
}

// consentJSON is a valid monthly variable consent for the sandbox payer.
func (fs *fuzzServer) consentJSON() string {
	return `{"payer":{"document":"` + sandbox.DefaultPayerCPF + `","name":"Ana Souza"},"contract_id":"CTR2026001","interval":"MONTHLY",` +
		`"reference_start_date":"` + fs.Today().AddDays(3).String() + `","expires_on":"` + fs.Today().AddDays(400).String() + `",` +
		`"maximum_amount":"300.00","retries_accepted":true}`
}

// Run longer with: go test ./pixauto/server -run '^$' -fuzz '^FuzzServerJSON$' -fuzztime 5m
//
// FuzzServerJSON POSTs any body to /v1/charges (charges true) or
// /v1/consents with a valid API key: the answer is a 4xx problem+json, or a
// 201 JSON resource only for a well-formed JSON object; never a 5xx nor a
// panic.
func FuzzServerJSON(f *testing.F) {
	fs := newFuzzServer(f)
	due := fs.Today().AddDays(4).String()
	f.Add(true, []byte(`{"consent_id":"`+fs.consentID+`","amount":"99.90","due_date":"`+due+`","description":"mensalidade"}`))
	f.Add(true, []byte(`{"consent_id":"`+fs.consentID+`","amount":"10.5","due_date":"`+due+`"}`))
	f.Add(true, []byte(`{"consent_id":"urn:bancoex:nope","amount":"10.00","due_date":"`+due+`"}`))
	f.Add(true, []byte(`{"consent_id":"`+fs.consentID+`","amount":"10.00","due_date":"2026-02-30"}`))
	f.Add(true, []byte(`[1,2]`))
	f.Add(true, []byte(``))
	f.Add(false, []byte(fs.consentJSON()))
	f.Add(false, []byte(strings.Replace(fs.consentJSON(), `"MONTHLY"`, `"DAILY"`, 1)))
	f.Add(false, []byte(`{"payer": {`))
	f.Add(false, []byte(`{"payer":{"document":"123","age":30},"first_payment":{"date":"2026-11-31","amount":"49.90"}}`))

	f.Fuzz(func(t *testing.T, charges bool, body []byte) {
		path := "/v1/consents"
		if charges {
			path = "/v1/charges"
		}
		status, h, b := fs.post(path, fs.key, body)
		switch {
		case status == http.StatusCreated:
			var in, out map[string]any
			if json.Unmarshal(body, &in) != nil || in == nil {
				t.Fatalf("201 for a body that is not a JSON object: %q", body)
			}
			if json.Unmarshal(b, &out) != nil || out == nil {
				t.Fatalf("201 without a JSON resource: %s", b)
			}
		case status >= 400 && status < 500:
			if ct := h.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("%d with Content-Type %q: %s", status, ct, b)
			}
			var p struct {
				Status int    `json:"status"`
				Code   string `json:"code"`
			}
			if err := json.Unmarshal(b, &p); err != nil || p.Status != status || p.Code == "" {
				t.Fatalf("%d with a malformed problem: %s", status, b)
			}
		default:
			t.Fatalf("POST %s %q: %d %s", path, body, status, b)
		}
	})
}
