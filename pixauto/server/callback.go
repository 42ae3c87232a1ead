package server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/pixauto/server/api"
)

// The payer's side of the authorization: the bank redirects the payer's
// browser to the ITP's redirect URI, GET /callback, with the authorization
// response in the fragment (the hybrid flow), which never reaches a
// server. The page reads location.hash, removes it from the address bar,
// POSTs it to /callback and shows the outcome.

const callbackScript = `(function () {
  var out = document.getElementById("outcome"), detail = document.getElementById("detail");
  var response = window.location.hash;
  if (window.history && window.history.replaceState) { window.history.replaceState(null, "", window.location.pathname); }
  if (!response || response.length < 2) {
    out.textContent = "Nothing to complete";
    detail.textContent = "This page expects the bank's answer in its address; open it from your bank.";
    return;
  }
  fetch("callback", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({response: response}), credentials: "same-origin"})
    .then(function (r) { return r.json().then(function (b) { return {ok: r.ok, body: b}; }); })
    .then(function (res) {
      var b = res.body;
      if (res.ok && b.outcome === "authorised") { out.textContent = "Authorised"; document.body.className = "ok"; }
      else if (res.ok && b.outcome === "refused") { out.textContent = "Not authorised"; document.body.className = "ko"; }
      else if (res.ok) { out.textContent = "Waiting for the bank"; }
      else { out.textContent = "Could not complete"; document.body.className = "ko"; }
      detail.textContent = b.message || b.detail || "";
    })
    .catch(function () { out.textContent = "Could not complete"; detail.textContent = "The server could not be reached; try again."; document.body.className = "ko"; });
})();`

const callbackStyle = `body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem}.ok h1{color:#0a7d32}.ko h1{color:#b3261e}p{line-height:1.5}`

var callbackPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Pix Automático</title>
<style>` + callbackStyle + `</style>
</head>
<body>
<p>Pix Automático</p>
<h1 id="outcome">Completing…</h1>
<p id="detail">Checking your bank's answer.</p>
<noscript><p>This page needs JavaScript to read your bank's answer.</p></noscript>
<script>` + callbackScript + `</script>
</body>
</html>
`

func cspHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
}

// callbackCSP allows exactly the page's own script and style, and requests
// to this origin only.
var callbackCSP = "default-src 'none'; script-src " + cspHash(callbackScript) + "; style-src " + cspHash(callbackStyle) +
	"; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type callbackPageResponse struct{}

func (callbackPageResponse) VisitCallbackPageResponse(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("Content-Security-Policy", callbackCSP)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	return api.CallbackPage200TexthtmlResponse{Body: strings.NewReader(callbackPage), ContentLength: int64(len(callbackPage))}.VisitCallbackPageResponse(w)
}

// CallbackPage serves the payer's page.
func (s *Server) CallbackPage(context.Context, api.CallbackPageRequestObject) (api.CallbackPageResponseObject, error) {
	return callbackPageResponse{}, nil
}

// CompleteCallback completes an authorization from the redirect's
// fragment: the Initiator checks it (state, id_token, code), stores the
// consent's tokens, reads the consent and, for a first payment, starts it.
func (s *Server) CompleteCallback(ctx context.Context, req api.CompleteCallbackRequestObject) (api.CompleteCallbackResponseObject, error) {
	response := req.Body.Response
	if _, err := fapi.ParseCallback(response); err != nil {
		p := problem(http.StatusBadRequest, CodeCallbackInvalid, "This is not an authorization response.")
		p.cause = err
		return nil, p
	}
	rec, err := s.in.Complete(ctx, response)
	var oe *fapi.OAuthError
	switch {
	case errors.As(err, &oe) && oe.Endpoint == "authorize":
		return api.CompleteCallback200JSONResponse(api.CallbackResult{
			Outcome: api.Refused, Message: "The Pix Automático authorisation was not given at the bank. Nothing will be charged.",
		}), nil
	case err != nil && rec == nil:
		return nil, err
	case err != nil:
		// The consent is authorised and stored; starting its first
		// payment failed and is left to reconciliation.
		s.log.WarnContext(ctx, "consent authorised; its first payment will be retried by reconciliation", "consent", rec.ID, "request_id", requestIDFrom(ctx), "err", err)
	}
	res := api.CallbackResult{ConsentId: &rec.ID}
	switch rec.Status {
	case consent.StatusAuthorised:
		res.Outcome, res.Message = api.Authorised, "Pix Automático is authorised. You can close this page."
	case consent.StatusRejected, consent.StatusRevoked, consent.StatusConsumed:
		res.Outcome, res.Message = api.Refused, "The Pix Automático authorisation was not given at the bank. Nothing will be charged."
	default:
		res.Outcome, res.Message = api.Pending, "The bank has not confirmed the authorisation yet; you can close this page."
	}
	return api.CompleteCallback200JSONResponse(res), nil
}

// Healthz says the process is up.
func (s *Server) Healthz(context.Context, api.HealthzRequestObject) (api.HealthzResponseObject, error) {
	return api.Healthz200JSONResponse(api.Health{Status: api.Ok}), nil
}

// Readyz runs the store's Ping and every configured check, each within
// CheckTimeout; the first failure makes the answer 503. Failures are named
// by check, with no detail that could carry a secret.
func (s *Server) Readyz(ctx context.Context, _ api.ReadyzRequestObject) (api.ReadyzResponseObject, error) {
	checks := append([]Check{{Name: "database", Check: s.store.Ping}}, s.cfg.Checks...)
	results := map[string]string{}
	ok := true
	for _, c := range checks {
		cctx, cancel := context.WithTimeout(ctx, s.cfg.CheckTimeout)
		err := c.Check(cctx)
		cancel()
		if err != nil {
			ok = false
			results[c.Name] = "failed"
			s.log.WarnContext(ctx, "readiness check failed", "check", c.Name, "request_id", requestIDFrom(ctx), "err", err)
			continue
		}
		results[c.Name] = "ok"
	}
	if !ok {
		return api.Readyz503JSONResponse(api.Health{Status: api.Unavailable, Checks: &results}), nil
	}
	return api.Readyz200JSONResponse(api.Health{Status: api.Ok, Checks: &results}), nil
}
