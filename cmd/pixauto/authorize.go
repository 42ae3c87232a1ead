package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// AuthorizeCommand runs the whole FAPI-BR v2 journey of an ITP against an
// embedded sandbox bank: discovery, client_credentials, a signed consent,
// PAR, the payer's approval, the callback with its encrypted id_token, the
// code exchange, a payment with the consent's token, and a refresh.
type AuthorizeCommand struct {
	Stdout, Stderr io.Writer
}

// Run parses flags and runs the journey.
func (c *AuthorizeCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("authorize", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	deny := fs.Bool("deny", false, "the payer refuses at the bank")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := sandbox.Config{Clock: sandbox.SystemClock{}}
	if *deny {
		cfg.OnAuthorize = func(context.Context, sandbox.AuthorizationRequest) sandbox.AuthorizationDecision {
			return sandbox.AuthorizationDecision{Deny: true, Description: "the payer refused"}
		}
	}
	bank, err := sandbox.New(cfg)
	if err != nil {
		return err
	}
	defer bank.Close()
	return c.journey(ctx, bank)
}

func (c *AuthorizeCommand) step(format string, args ...any) {
	fmt.Fprintf(c.Stdout, "  ✔ "+format+"\n", args...)
}

func (c *AuthorizeCommand) journey(ctx context.Context, bank *sandbox.Bank) error {
	itp := bank.ITP
	fmt.Fprintf(c.Stdout, "Sandbox bank %s\n  issuer  %s\n  mTLS    %s\nITP organisation %s, client %s\n\n", bank.OrganisationID, bank.Issuer, bank.MTLSURL, itp.OrganisationID, itp.ClientID)
	client, err := fapi.New(bank.FAPIConfig(itp))
	if err != nil {
		return err
	}
	md, err := client.Discover(ctx)
	if err != nil {
		return err
	}
	tokenURL, _ := md.TokenURL()
	c.step("discovery: issuer checked; token endpoint (mTLS alias) %s", tokenURL)

	cc := client.ClientCredentialsSource("payments")
	tok, err := cc.Token(ctx)
	if err != nil {
		return err
	}
	c.step("client_credentials token (private_key_jwt, bound to the BRCAC), scope %q, expires %s", fapi.Scope(tok), tok.Expiry.UTC().Format(time.RFC3339))

	resp, err := client.Do(ctx, fapi.Call{
		Method: http.MethodPost, URL: bank.MTLSURL + "/open-banking/payments/v4/consents",
		Data:  map[string]any{"creditor": map[string]any{"personType": "PESSOA_JURIDICA", "cpfCnpj": "12345678000195", "name": "Escola Exemplo"}, "payment": map[string]any{"type": "PIX", "amount": "150.00", "currency": "BRL"}},
		Token: cc, IdempotencyKey: fapi.NewIdempotencyKey(nil),
	})
	if err != nil {
		return err
	}
	var consent struct {
		ConsentID string `json:"consentId"`
		Status    string `json:"status"`
	}
	if err := json.Unmarshal(resp.Message.Data, &consent); err != nil {
		return err
	}
	c.step("consent %s created (%s); the signed response was verified (kid %s, jti %s)", consent.ConsentID, consent.Status, resp.Message.KeyID, resp.Message.JTI)

	auth, err := client.PushAuthorization(ctx, []string{"openid", "payments", "consent:" + consent.ConsentID}, nil)
	if err != nil {
		return err
	}
	c.step("pushed authorization request (signed request object, PKCE S256): %s", auth.RequestURI)
	c.step("the payer is sent to %s", auth.URL)

	redirect, err := bank.Authorize(ctx, auth.URL)
	if err != nil {
		return err
	}
	frag := redirect
	if i := strings.IndexByte(redirect, '#'); i >= 0 {
		frag = redirect[i:]
	}
	c.step("the bank redirected back with fragment %s…", cut(frag, 60))
	cb, err := fapi.ParseCallback(redirect)
	if err != nil {
		return err
	}
	grant, err := client.CompleteAuthorization(ctx, auth, cb)
	if err != nil {
		fmt.Fprintf(c.Stdout, "  ✘ authorization refused: %v\n", err)
		return err
	}
	c.step("id_token decrypted (RSA-OAEP/A256GCM), verified (PS256) and checked: sub %s, acr %s", grant.IDToken.Subject, grant.IDToken.ACR)
	c.step("code exchanged with the PKCE verifier: access token for %q, refresh token stored", fapi.Scope(grant.Token))

	store := &fapi.MemoryRefreshTokenStore{}
	if err := fapi.SaveGrant(ctx, store, consent.ConsentID, grant); err != nil {
		return err
	}
	rt, _ := store.LoadRefreshToken(ctx, consent.ConsentID)
	if _, err := client.Refresh(ctx, rt); err != nil {
		return err
	}
	c.step("refresh_token grant: a new access token for the same consent")
	payer := client.ConsentTokenSource(consent.ConsentID, store, grant.Token)
	resp, err = client.Do(ctx, fapi.Call{
		Method: http.MethodPost, URL: bank.MTLSURL + "/open-banking/payments/v4/pix/payments",
		Data:  map[string]any{"payment": map[string]any{"amount": "150.00", "currency": "BRL"}},
		Token: payer, IdempotencyKey: fapi.NewIdempotencyKey(nil),
	})
	if err != nil {
		return err
	}
	c.step("payment created with the consent's token: HTTP %d, signed response verified", resp.StatusCode)

	fmt.Fprintf(c.Stdout, "\nDone: %d requests reached the bank.\n", len(bank.Requests()))
	return nil
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
