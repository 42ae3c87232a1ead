package server

import (
	"context"
	_ "embed"
	"net/http"
	"strings"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/pixauto/server/api"
)

// The receivers' dashboard, GET /dashboard: one HTML page with its script
// and style inline (no build step, nothing else to fetch). It signs in with
// the receiver's API key, keeps it in the tab's sessionStorage and sends it
// as a bearer token to the JSON API (GET /v1/receiver, /v1/consents,
// /v1/charges/report, /v1/charges/export): the API needs no cookie and so
// no CSRF defence, and the key never appears in a URL, a cookie or a log.
// What protects the key in the page is the Content-Security-Policy: only
// the page's own script and style (by hash) run, requests go to this origin
// only, and the page cannot be framed; the script renders API data with
// textContent only.

var (
	//go:embed dashboard/index.html
	dashboardHTML string
	//go:embed dashboard/app.js
	dashboardScript string
	//go:embed dashboard/app.css
	dashboardStyle string
)

// dashboardPage is the page with today's date left to fill in (the failed
// and settled views default to the last 30 days of the server's calendar,
// not the browser's).
var dashboardPage = strings.NewReplacer("{{style}}", dashboardStyle, "{{script}}", dashboardScript).Replace(dashboardHTML)

var dashboardCSP = "default-src 'none'; script-src " + cspHash(dashboardScript) + "; style-src " + cspHash(dashboardStyle) +
	"; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type dashboardPageResponse struct{ page string }

func (p dashboardPageResponse) VisitDashboardPageResponse(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("Content-Security-Policy", dashboardCSP)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	return api.DashboardPage200TexthtmlResponse{Body: strings.NewReader(p.page), ContentLength: int64(len(p.page))}.VisitDashboardPageResponse(w)
}

// DashboardPage serves the dashboard.
func (s *Server) DashboardPage(context.Context, api.DashboardPageRequestObject) (api.DashboardPageResponseObject, error) {
	today := consent.Today(s.clock.Now()).String()
	return dashboardPageResponse{page: strings.Replace(dashboardPage, "{{today}}", today, 1)}, nil
}
