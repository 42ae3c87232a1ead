package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ofb-go/pixauto/consent"
)

// AuthorizationRequest is what the payer is asked to approve: a validated
// pushed authorization request at the moment the authorization endpoint is
// called. Config.OnAuthorize receives it.
type AuthorizationRequest struct {
	// ClientID is the requesting client.
	ClientID string
	// Scopes are the requested scopes.
	Scopes []string
	// ConsentScope is the dynamic consent scope ("consent:<id>" or
	// "recurring-consent:<id>"), "" if none; ConsentID is its id.
	ConsentScope string
	ConsentID    string
	// RedirectURI and State are those of the request.
	RedirectURI string
	State       string
}

// AuthorizationDecision is the payer's answer. The zero value approves as
// Config.PayerCPF with acr ACRLoa2.
type AuthorizationDecision struct {
	// Deny rejects the request: the client gets error=access_denied and the
	// consent, if any, is rejected.
	Deny bool
	// Description is the error_description of a denial. "" → "the payer
	// rejected the authorization request".
	Description string
	// RejectionCode is the consent rejection reason recorded on a denial.
	// "" → "REJEITADO_USUARIO".
	RejectionCode string
	// Subject is the id_token sub (the payer's CPF or an opaque id).
	// "" → Config.PayerCPF.
	Subject string
	// ACR is the id_token acr. "" → ACRLoa2.
	ACR string
	// DebtorAccount is the account the payer picks for a recurring consent
	// of the automatic-payments API. nil → the debtorAccount the ITP sent,
	// or else the payer's account at this bank (Bank.PayerAccount).
	DebtorAccount *consent.Account
}

func (b *Bank) decide(ctx context.Context, req AuthorizationRequest) AuthorizationDecision {
	var d AuthorizationDecision
	if b.cfg.OnAuthorize != nil {
		d = b.cfg.OnAuthorize(ctx, req)
	}
	if d.Subject == "" {
		d.Subject = b.PayerCPF
	}
	if d.ACR == "" {
		d.ACR = ACRLoa2
	}
	if d.Deny && d.Description == "" {
		d.Description = "the payer rejected the authorization request"
	}
	if d.Deny && d.RejectionCode == "" {
		d.RejectionCode = "REJEITADO_USUARIO"
	}
	return d
}

// codeRecord is an issued authorization code.
type codeRecord struct {
	Request         authzRequest
	CertThumbprint  string
	Subject         string
	ACR             string
	AuthTime        time.Time
	ExpiresAt       time.Time
	Used            bool
	AuthorizationID string
}

// handleAuthorize is GET /authorize?client_id=…&request_uri=… on the public
// host. Problems that make the redirect_uri untrustworthy are answered with
// a 400 page; the rest go back to the client in the fragment.
func (b *Bank) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	par, oe := b.takePAR(q)
	if oe != nil {
		b.refuseOAuth(w, r, oe)
		return
	}
	ar := par.Request
	if extra := extraAuthorizeParams(q); len(extra) > 0 {
		b.log.Warn("sandbox: authorization request carries parameters besides client_id and request_uri", "params", extra)
	}
	c := b.client(ar.ClientID)
	if c == nil {
		b.refuseOAuth(w, r, invalidRequest("client %s is no longer registered", ar.ClientID))
		return
	}
	req := AuthorizationRequest{ClientID: ar.ClientID, Scopes: slices.Clone(ar.Scopes), RedirectURI: ar.RedirectURI, State: ar.State}
	var api consentAPI
	if ar.Consent != nil {
		req.ConsentScope, req.ConsentID = ar.Consent.String(), ar.Consent.ID
		var info consentInfo
		var ok bool
		api, info, ok = b.findConsent(*ar.Consent)
		if !ok || !info.Awaiting {
			b.redirectError(w, r, ar, "access_denied", fmt.Sprintf("consent %s is not awaiting authorisation", ar.Consent.ID))
			return
		}
	}
	d := b.decide(r.Context(), req)
	if api != nil {
		d = api.decideConsent(r.Context(), *ar.Consent, req, d)
	}
	if d.Deny {
		b.redirectError(w, r, ar, "access_denied", d.Description)
		return
	}
	b.redirectCode(w, r, c, par, d)
}

// takePAR finds and consumes the pushed request a front-channel request
// refers to.
func (b *Bank) takePAR(q url.Values) (*parRecord, *oauthError) {
	if q.Has("request") {
		return nil, invalidRequest("request objects must be pushed to the PAR endpoint")
	}
	clientID, uri := q.Get("client_id"), q.Get("request_uri")
	if clientID == "" || uri == "" {
		return nil, invalidRequest("client_id and request_uri are required")
	}
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	par := b.pars[uri]
	switch {
	case par == nil:
		return nil, invalidRequest("request_uri is unknown")
	case par.Used:
		return nil, invalidRequest("request_uri has already been used")
	case now.After(par.ExpiresAt):
		return nil, invalidRequest("request_uri expired")
	case par.Request.ClientID != clientID:
		return nil, invalidRequest("client_id does not match the pushed request")
	}
	par.Used = true
	return par, nil
}

func extraAuthorizeParams(q url.Values) []string {
	var extra []string
	for k := range q {
		if k != "client_id" && k != "request_uri" {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	return extra
}

func (b *Bank) redirectCode(w http.ResponseWriter, r *http.Request, c *client, par *parRecord, d AuthorizationDecision) {
	ar := par.Request
	now := b.now()
	code := randomToken()
	idt, err := b.issueIDToken(idTokenParams{Client: c, Subject: d.Subject, Nonce: ar.Nonce, ACR: d.ACR, AuthTime: now, Code: code, State: ar.State})
	if err != nil {
		b.log.Error("sandbox: cannot issue id_token", "error", err)
		b.redirectError(w, r, ar, "server_error", "the id_token could not be issued")
		return
	}
	b.mu.Lock()
	b.codes[code] = &codeRecord{
		Request: ar, CertThumbprint: par.CertThumbprint, Subject: d.Subject, ACR: d.ACR,
		AuthTime: now, ExpiresAt: now.Add(CodeLifetime), AuthorizationID: randomToken(),
	}
	b.mu.Unlock()
	b.redirect(w, r, ar.RedirectURI, url.Values{"code": {code}, "id_token": {idt}, "state": {ar.State}})
}

func (b *Bank) redirectError(w http.ResponseWriter, r *http.Request, ar authzRequest, code, desc string) {
	b.log.Info("sandbox: authorization refused", "client_id", ar.ClientID, "error", code, "description", desc)
	b.redirect(w, r, ar.RedirectURI, url.Values{"error": {code}, "error_description": {desc}, "state": {ar.State}})
}

// redirect sends the response parameters in the fragment (response_mode
// fragment, the FAPI-BR default for code id_token).
func (b *Bank) redirect(w http.ResponseWriter, r *http.Request, redirectURI string, params url.Values) {
	base, _, _ := strings.Cut(redirectURI, "#")
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, base+"#"+params.Encode(), http.StatusFound)
}

// Authorize plays the payer's browser: it GETs authURL (which must be this
// bank's authorization endpoint), without following the redirect, and
// returns the Location the bank redirects to —
// redirect_uri#code=…&id_token=…&state=… on approval, or
// redirect_uri#error=…&error_description=…&state=… on denial. A request the
// bank refuses outright (unknown request_uri, wrong client_id…) is an error.
func (b *Bank) Authorize(ctx context.Context, authURL string) (string, error) {
	u, err := url.Parse(authURL)
	if err != nil {
		return "", fmt.Errorf("sandbox: Authorize: %w", err)
	}
	if u.Scheme+"://"+u.Host != b.PublicURL || u.Path != "/authorize" {
		return "", fmt.Errorf("sandbox: Authorize: %q is not this bank's authorization endpoint %s/authorize", authURL, b.PublicURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return "", fmt.Errorf("sandbox: Authorize: %w", err)
	}
	hc := b.Client(nil)
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	defer hc.CloseIdleConnections()
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("sandbox: Authorize: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusFound {
		return "", fmt.Errorf("sandbox: Authorize: authorization endpoint answered %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	loc := resp.Header.Get("Location")
	if loc == "" {
		return "", errors.New("sandbox: Authorize: redirect without Location")
	}
	return loc, nil
}
