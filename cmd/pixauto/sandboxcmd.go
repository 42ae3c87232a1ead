package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ofb-go/pixauto/internal/pki"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// SandboxCommand runs the sandbox bank alone, on the system clock, for
// other ITPs' tests: it prints its URLs and the registered ITP, and can
// write the ITP's credentials and a holder entry for `pixauto serve`.
type SandboxCommand struct {
	Stdout, Stderr io.Writer
	// Started, if set, receives the bank once it runs.
	Started func(*sandbox.Bank)
}

// Run parses flags and runs the bank until ctx ends.
func (c *SandboxCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	redirects := fs.String("redirect-uri", "https://127.0.0.1:8443/callback", "the ITP's redirect URIs, comma-separated (https)")
	webhooks := fs.String("webhook-uri", "", "the ITP's webhook base URIs, comma-separated (https, mTLS)")
	dir := fs.String("credentials-dir", "", "write the ITP's certificate, keys, the CA and holder.json (a holder for `pixauto serve`) here")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("sandbox: unexpected arguments %q", fs.Args())
	}
	itp := sandbox.ITPConfig{RedirectURIs: splitList(*redirects), WebhookURIs: splitList(*webhooks)}
	bank, err := sandbox.New(sandbox.Config{Clock: sandbox.SystemClock{}, ITP: itp})
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	defer bank.Close()
	w := c.Stdout
	fmt.Fprintf(w, "Sandbox bank (system clock)\n\n")
	fmt.Fprintf(w, "  issuer       %s   (discovery: /.well-known/openid-configuration)\n", bank.Issuer)
	fmt.Fprintf(w, "  mTLS         %s\n", bank.MTLSURL)
	fmt.Fprintf(w, "  Pix Auto     %s%s\n", bank.MTLSURL, sandbox.AutomaticPaymentsBase)
	fmt.Fprintf(w, "  keystore     %s\n", bank.KeystoreURL)
	fmt.Fprintf(w, "  organisation %s\n", bank.OrganisationID)
	fmt.Fprintf(w, "  ITP          client %s, organisation %s, CNPJ %s\n", bank.ITP.ClientID, bank.ITP.OrganisationID, bank.ITP.CNPJ)
	fmt.Fprintf(w, "  redirect     %s\n", strings.Join(bank.ITP.RedirectURIs, ", "))
	fmt.Fprintf(w, "  payer CPF    %s (approves every authorization)\n", bank.PayerCPF)
	if *dir != "" {
		if err := writeCredentials(*dir, bank); err != nil {
			return fmt.Errorf("sandbox: %w", err)
		}
		fmt.Fprintf(w, "  credentials  %s (holder.json is a `pixauto serve` holder)\n", *dir)
	}
	fmt.Fprintf(w, "\nRunning until interrupted.\n")
	if c.Started != nil {
		c.Started(bank)
	}
	<-ctx.Done()
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// writeCredentials writes what the registered ITP holds, as a real ITP
// keeps it: its transport certificate and key, its signing and encryption
// keys, the CA that verifies the bank, and a holder entry.
func writeCredentials(dir string, bank *sandbox.Bank) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	itp := bank.ITP
	certKey, err := pki.EncodeKey(itp.Certificate.PrivateKey)
	if err != nil {
		return err
	}
	sig, err := pki.EncodeKey(itp.SigningKey)
	if err != nil {
		return err
	}
	enc, err := pki.EncodeKey(itp.EncryptionKey)
	if err != nil {
		return err
	}
	if len(itp.Certificate.Certificate) < 2 {
		return fmt.Errorf("the ITP certificate has no intermediate")
	}
	path := func(name string) string { return filepath.Join(dir, name) }
	holder := holderConfig{
		ID: "sandbox", Issuer: bank.Issuer, ClientID: itp.ClientID, BaseURL: bank.MTLSURL + sandbox.AutomaticPaymentsBase,
		BankOrganisationID: bank.OrganisationID, KeystoreURL: itp.KeystoreURL,
		CertificateFile: path("transport.pem"), KeyFile: path("transport-key.pem"),
		RootCAsFile: path("ca.pem"), PublicRootCAsFile: path("ca.pem"),
		SigningKeyFile: path("signing-key.pem"), SigningKeyID: itp.SigningKeyID,
		EncryptionKeyFile: path("encryption-key.pem"), EncryptionKeyID: itp.EncryptionKeyID,
	}
	hj, err := json.MarshalIndent(holder, "", "  ")
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"transport.pem":      pki.EncodeCertificates(itp.Certificate.Certificate),
		"transport-key.pem":  certKey,
		"signing-key.pem":    sig,
		"encryption-key.pem": enc,
		// The sandbox CA's intermediate issued the bank's server
		// certificates: trusting it verifies the bank.
		"ca.pem":      pki.EncodeCertificates(itp.Certificate.Certificate[1:2]),
		"holder.json": append(hj, '\n'),
	}
	for name, b := range files {
		if err := os.WriteFile(path(name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}
