package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// lockedBuffer is an io.Writer the test reads while the command writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func noEnv(string) string { return "" }

// startServe runs `pixauto serve args…` until the test ends and returns
// what it started.
func startServe(t *testing.T, cmd *ServeCommand, args ...string) (ServeInfo, *lockedBuffer) {
	t.Helper()
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, errOut
	started := make(chan ServeInfo, 1)
	cmd.Started = func(i ServeInfo) { started <- i }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.Run(ctx, args) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done, errOut.String())
	})
	select {
	case i := <-started:
		return i, out
	case err := <-done:
		t.Fatalf("serve stopped: %v\n%s", err, errOut.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start\n%s", errOut.String())
	}
	return ServeInfo{}, nil
}

func call(t *testing.T, method, url, key string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(res.Body)
	if len(b) > 0 {
		require.NoError(t, json.Unmarshal(b, &m), "%s", b)
	}
	return res.StatusCode, m
}

// payer plays the payer's browser: it opens the bank's authorization URL
// (the sandbox CA is not trusted here, as a browser would not trust it)
// and returns the redirect the bank answers with.
func payer(t *testing.T, redirectURL string) string {
	t.Helper()
	hc := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // the sandbox bank's self-issued certificate, as curl -k
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	res, err := hc.Get(redirectURL)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode)
	return res.Header.Get("Location")
}

var keyRE = regexp.MustCompile(`pxa_[a-z2-7]{52}`)

// `pixauto serve --sandbox`: the banner's key and curl example work, the
// payer's redirect completes at the callback, a charge is accepted; a
// restart refuses the old sandbox's data until --reset.
func TestServeSandbox(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "pixauto.db")
	args := []string{"--sandbox", "--listen", "127.0.0.1:0", "--callback-listen", "127.0.0.1:0", "--database-url", db, "--sync-interval", "100ms"}
	info, out := startServe(t, &ServeCommand{Getenv: noEnv}, args...)
	banner := out.String()
	key := keyRE.FindString(banner)
	require.NotEmpty(t, key, banner)
	assert.Equal(t, info.DemoKey, key)
	assert.Contains(t, banner, info.APIURL+"/v1/receiver")
	assert.Contains(t, banner, "curl -s -H \"Authorization: Bearer $PIXAUTO_KEY\"")
	assert.True(t, strings.HasPrefix(info.CallbackURL, "https://127.0.0.1:"), info.CallbackURL)
	assert.Equal(t, []string{info.CallbackURL}, info.Bank.ITP.RedirectURIs, "the ITP's redirect URI is the callback page")

	status, me := call(t, "GET", info.APIURL+"/v1/receiver", key, nil)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, demoName, me["name"])
	status, ready := call(t, "GET", info.APIURL+"/readyz", "", nil)
	require.Equal(t, http.StatusOK, status, "%v", ready)

	today := consent.Today(time.Now())
	status, en := call(t, "POST", info.APIURL+"/v1/consents", key, map[string]any{
		"payer": map[string]any{"document": sandbox.DefaultPayerCPF, "name": "Ana Souza"}, "contract_id": "C1", "interval": "MONTHLY",
		"reference_start_date": today.AddDays(3).String(), "maximum_amount": "300.00",
	})
	require.Equal(t, http.StatusCreated, status, "%v", en)
	location := payer(t, en["redirect_url"].(string))
	require.True(t, strings.HasPrefix(location, info.CallbackURL+"#"), location)
	status, res := call(t, "POST", info.APIURL+"/callback", "", map[string]any{"response": location})
	require.Equal(t, http.StatusOK, status, "%v", res)
	assert.Equal(t, "authorised", res["outcome"])
	consentID := res["consent_id"].(string)
	status, ch := call(t, "POST", info.APIURL+"/v1/charges", key, map[string]any{"consent_id": consentID, "amount": "129.90", "due_date": today.AddDays(4).String()})
	require.Equal(t, http.StatusCreated, status, "%v", ch)

	// The callback page is served over https on its own listener.
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the sandbox's own certificate
	page, err := hc.Get(info.CallbackURL)
	require.NoError(t, err)
	page.Body.Close()
	assert.Equal(t, http.StatusOK, page.StatusCode)
}

func TestServeSandboxRefusesStaleDatabase(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "pixauto.db")
	args := []string{"--sandbox", "--listen", "127.0.0.1:0", "--callback-listen", "127.0.0.1:0", "--database-url", db}
	func() {
		var out, errOut bytes.Buffer
		cmd := &ServeCommand{Getenv: noEnv, Stdout: &out, Stderr: &errOut}
		ctx, cancel := context.WithCancel(context.Background())
		cmd.Started = func(i ServeInfo) {
			status, en := call(t, "POST", i.APIURL+"/v1/consents", i.DemoKey, map[string]any{
				"payer": map[string]any{"document": sandbox.DefaultPayerCPF, "name": "Ana"}, "contract_id": "C1", "interval": "MONTHLY",
				"reference_start_date": consent.Today(time.Now()).AddDays(3).String(),
			})
			require.Equal(t, http.StatusCreated, status, "%v", en)
			cancel()
		}
		require.NoError(t, cmd.Run(ctx, args))
	}()
	var out, errOut bytes.Buffer
	err := (&ServeCommand{Getenv: noEnv, Stdout: &out, Stderr: &errOut}).Run(context.Background(), args)
	require.ErrorContains(t, err, "--reset")

	info, _ := startServe(t, &ServeCommand{Getenv: noEnv}, append(args, "--reset")...)
	status, list := call(t, "GET", info.APIURL+"/v1/consents", info.DemoKey, nil)
	require.Equal(t, http.StatusOK, status)
	assert.Empty(t, list["data"])
}

// `pixauto serve` on "real" banks: the sandbox bank alone (`pixauto
// sandbox`) with the ITP's credentials written to files, and a config file
// naming it as a holder — the path a deployment takes.
func TestServeWithConfiguredBank(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	banks := make(chan *sandbox.Bank, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var sbOut, sbErr bytes.Buffer
	sbDone := make(chan error, 1)
	go func() {
		sbDone <- (&SandboxCommand{Stdout: &sbOut, Stderr: &sbErr, Started: func(b *sandbox.Bank) { banks <- b }}).Run(ctx,
			[]string{"--credentials-dir", dir, "--redirect-uri", "https://pay.example.com/callback"})
	}()
	var bank *sandbox.Bank
	select {
	case bank = <-banks:
	case err := <-sbDone:
		t.Fatalf("sandbox: %v %s", err, sbErr.String())
	}
	assert.Contains(t, sbOut.String(), bank.Issuer)

	var holder holderConfig
	b, err := os.ReadFile(filepath.Join(dir, "holder.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &holder))
	cfg := map[string]any{
		"database_url": filepath.Join(dir, "server.db"), "secret_key": strings.Repeat("ab", 32),
		"public_url": "https://pay.example.com", "cnpj": bank.ITP.CNPJ, "ispb": "12345678", "holders": []any{holder},
		"listen": "127.0.0.1:0",
	}
	cj, err := json.Marshal(cfg)
	require.NoError(t, err)
	cfgPath := filepath.Join(dir, "pixauto.json")
	require.NoError(t, os.WriteFile(cfgPath, cj, 0o600))

	db := filepath.Join(dir, "server.db")
	var rOut, rErr bytes.Buffer
	require.NoError(t, (&ReceiversCommand{Stdout: &rOut, Stderr: &rErr, Getenv: noEnv}).Run(context.Background(),
		[]string{"create", "Escola Exemplo Ltda", "--database-url", db, "--cnpj", "11222333000181", "--ispb", "87654321", "--branch", "0001", "--account", "1234567890"}))
	key := keyRE.FindString(rOut.String())
	require.NotEmpty(t, key, rOut.String())

	info, _ := startServe(t, &ServeCommand{Getenv: func(k string) string {
		if k == "PIXAUTO_CONFIG" {
			return cfgPath
		}
		return ""
	}})
	assert.Equal(t, "https://pay.example.com/callback", info.CallbackURL)
	status, ready := call(t, "GET", info.APIURL+"/readyz", "", nil)
	require.Equal(t, http.StatusOK, status, "%v", ready)
	status, en := call(t, "POST", info.APIURL+"/v1/consents", key, map[string]any{
		"payer": map[string]any{"document": sandbox.DefaultPayerCPF, "name": "Ana"}, "contract_id": "C9", "interval": "MONTHLY",
		"reference_start_date": consent.Today(time.Now()).AddDays(3).String(),
	})
	require.Equal(t, http.StatusCreated, status, "%v", en)
	location := payer(t, en["redirect_url"].(string))
	require.True(t, strings.HasPrefix(location, "https://pay.example.com/callback#"), location)
	status, res := call(t, "POST", info.APIURL+"/callback", "", map[string]any{"response": location})
	require.Equal(t, http.StatusOK, status, "%v", res)
	assert.Equal(t, "authorised", res["outcome"])
}

func TestReceiversCommand(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "r.db")
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := (&ReceiversCommand{Stdout: &out, Stderr: &errOut, Getenv: noEnv}).Run(context.Background(), append(args, "--database-url", db))
		return out.String(), err
	}
	out, err := run("create", "Escola Exemplo Ltda", "--cnpj", "11222333000181", "--ispb", "87654321", "--branch", "0001", "--account", "1234567890")
	require.NoError(t, err)
	key := keyRE.FindString(out)
	require.NotEmpty(t, key)
	list, err := run("list")
	require.NoError(t, err)
	assert.Contains(t, list, "Escola Exemplo Ltda")
	assert.NotContains(t, list, key[16:], "keys are never shown again")
	id := strings.Fields(list)[0]
	out, err = run("key", id)
	require.NoError(t, err)
	key2 := keyRE.FindString(out)
	require.NotEmpty(t, key2)
	assert.NotEqual(t, key, key2)
	_, err = run("revoke-key", key2[:16])
	require.NoError(t, err)
	_, err = run("revoke-key", key2[:16])
	require.Error(t, err, "already revoked")

	_, err = run("create", "Sem Conta", "--cnpj", "123")
	require.ErrorContains(t, err, "cnpj")
	_, err = run("key", "nobody")
	require.Error(t, err)
	_, err = run("create")
	require.Error(t, err)
	_, err = run("explode")
	require.Error(t, err)
	_, err = run()
	require.Error(t, err)
}

func TestServeConfigPrecedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "c.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"sandbox": true, "listen": "127.0.0.1:1", "sync_interval": "10s", "log_level": "debug"}`), 0o600))
	env := map[string]string{"PIXAUTO_CONFIG": file, "PIXAUTO_LISTEN": "127.0.0.1:2", "PIXAUTO_DELIVER_INTERVAL": "3s"}
	parse := func(args ...string) (serveConfig, error) {
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		cfgFlag := fs.String("config", "", "")
		sb := fs.Bool("sandbox", false, "")
		values := map[string]*string{}
		for _, o := range serveOptions {
			values[o.flag] = fs.String(o.flag, "", "")
		}
		require.NoError(t, fs.Parse(args))
		return loadServeConfig(fs, values, sb, cfgFlag, func(k string) string { return env[k] })
	}
	cfg, err := parse()
	require.NoError(t, err)
	assert.True(t, cfg.Sandbox)
	assert.Equal(t, "127.0.0.1:2", cfg.Listen, "the environment overrides the file")
	assert.Equal(t, "10s", cfg.SyncInterval, "the file overrides the default")
	assert.Equal(t, "3s", cfg.DeliverInterval)
	assert.Equal(t, "pixauto.db", cfg.DatabaseURL, "the sandbox default")
	cfg, err = parse("--listen", "127.0.0.1:3")
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:3", cfg.Listen, "a flag overrides the environment")

	_, err = parse("--sandbox=false")
	require.Error(t, err)
	for _, want := range []string{"secret-key", "holders", "public-url", "cnpj"} {
		assert.ErrorContains(t, err, want)
	}
	_, err = parse("--sync-interval", "soon")
	assert.ErrorContains(t, err, "sync-interval")
	require.NoError(t, os.WriteFile(file, []byte(`{"sandbox": true, "lisen": "x"}`), 0o600))
	_, err = parse()
	assert.ErrorContains(t, err, "lisen", "unknown keys are refused")

	key, err := decodeSecretKey(strings.Repeat("0f", 32))
	require.NoError(t, err)
	assert.Len(t, key, 32)
	_, err = decodeSecretKey("c2hvcnQ=")
	assert.Error(t, err)
}
