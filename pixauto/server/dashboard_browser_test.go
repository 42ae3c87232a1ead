package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// chromiumPath finds Debian's chromium (.ci/run installs it).
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserTimeout bounds the whole browser test, and every wait in it.
const browserTimeout = 60 * time.Second

// The dashboard in a real headless Chromium, against the reference server
// on a SQLite store and the sandbox bank: sign in with receiver A's key,
// read the charges, filter them, switch views, export CSV and XLSX and read
// the downloaded files. Every wait polls a condition of the page (the
// script counts its loads in body[data-loads]) within browserTimeout.
//
// Set PIXAUTO_DASHBOARD_SCREENSHOT to a file name to keep a screenshot of
// the charges view.
func TestDashboardInBrowser(t *testing.T) {
	t.Parallel()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("no chromium on PATH, and CI is set: .ci/run installs it (apt-get install chromium)")
		}
		t.Skip("no chromium on PATH (apt-get install chromium): the dashboard's browser test is skipped")
	}
	d := newDashData(t)
	e := d.env

	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	// No network here: nothing in the background, no QUIC, no component
	// or sync updates. The allocator gives the browser a fresh temporary
	// --user-data-dir and removes it when the browser exits.
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1440, 900),
	)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	// The page's exceptions and console errors (a CSP violation among
	// them), seen before the command that follows them returns.
	var (
		mu       sync.Mutex
		problems []string
	)
	require.NoError(t, chromedp.Listen(bctx, func(ev any) {
		var p string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			p = "exception: " + ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				p += " " + ev.ExceptionDetails.Exception.Description
			}
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				p = "console." + string(ev.Type)
			}
		case *cdplog.EventEntryAdded:
			// The wrong key's 401 is the one error the test expects.
			if e := ev.Entry; e.Level == cdplog.EntryLevelError && !(e.Source == cdplog.EntrySourceNetwork && strings.Contains(e.Text, "401")) {
				p = string(e.Source) + ": " + e.Text
			}
		}
		if p != "" {
			mu.Lock()
			problems = append(problems, p)
			mu.Unlock()
		}
	}))
	downloads := t.TempDir()
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(bctx, steps...))
	}
	// until waits for a condition of the page.
	until := func(cond string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(browserTimeout))(ctx, tg)
			return chromedp.Void{}, err
		}
	}
	eval := func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](expr))
		require.NoError(t, err, expr)
		return v
	}
	loads := func() string { return eval(`document.body.dataset.loads`) }
	// reloaded waits for the load after the one counted by before.
	reloaded := func(before string) chromedp.Action[chromedp.Void] {
		return until(`document.body.dataset.state === "ready" && Number(document.body.dataset.loads) > ` + before)
	}
	chargeRows := func() [][]string {
		t.Helper()
		rows, err := chromedp.Run(bctx, chromedp.Evaluate[[][]string](
			`Array.from(document.querySelectorAll("#charges tbody tr:not(.empty)")).map(tr => Array.from(tr.cells).map(td => td.textContent))`))
		require.NoError(t, err)
		return rows
	}
	chargeIDs := func() []string {
		t.Helper()
		ids, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](
			`Array.from(document.querySelectorAll("#charges tbody tr[data-charge]")).map(tr => tr.dataset.charge)`))
		require.NoError(t, err)
		return ids
	}

	// The page, signed out.
	do(chromedp.Navigate(e.api.URL+"/dashboard"), chromedp.WaitVisible(chromedp.ID("login-form")), until(`document.body.dataset.state === "signed-out"`))

	// A wrong key is refused and nothing is kept.
	do(chromedp.SendKeys(chromedp.ID("key"), "pxa_"+strings.Repeat("a", 52)), chromedp.Click(chromedp.CSS(`#login-form button[type=submit]`)),
		until(`document.getElementById("login-error").textContent !== ""`))
	assert.Equal(t, "This API key is not valid.", eval(`document.getElementById("login-error").textContent`))
	assert.Equal(t, "", eval(`sessionStorage.getItem("pixauto.apiKey") || ""`))

	// Receiver A signs in: every charge of A, newest due date first.
	do(chromedp.SendKeys(chromedp.ID("key"), e.keyA), chromedp.Click(chromedp.CSS(`#login-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("charges")), reloaded("0"))
	assert.Equal(t, e.keyA, eval(`sessionStorage.getItem("pixauto.apiKey")`), "the key is kept in this tab")
	assert.Equal(t, e.api.URL+"/dashboard", eval(`location.href`), "never in the URL")
	assert.Equal(t, "", eval(`document.getElementById("key").value`))
	assert.Contains(t, eval(`document.getElementById("who").textContent`), "CNPJ 11.222.333/0001-81")
	rows := chargeRows()
	require.Len(t, rows, 4)
	assert.Equal(t, []string{d.planned, d.cancelled, d.failed, d.settled}, chargeIDs())
	assert.Equal(t, []string{"PAYER_BANK_REFUSED", "CTR0002", "27/11/2026", "retry · 4 attempts", pixauto.ReasonPayerBankRefused.Text(),
		"João Araújo Comércio Ltda", "**.***.***/**01-61", "R$ 150,00", "FAILED", "Next-day retry on 30/11/2026: rejected"}, rows[2])
	assert.Equal(t, []string{"", "CTR0001", "26/11/2026", "charge · 1 attempt", "", "Ana Souza", "***.***.*47-25", "R$ 1.234,56", "SETTLED",
		"Original attempt on 26/11/2026: settled"}, rows[3])
	assert.Equal(t, []string{"CANCELLED", "PLANNED"}, []string{rows[1][8], rows[0][8]})
	assert.Equal(t, "4 charges · R$ 2.719,02", eval(`document.getElementById("summary").textContent`))
	text := eval(`document.body.innerText`)
	assert.NotContains(t, text, "SALDO", "balance reasons are never shown as such")
	assert.NotContains(t, text, sandbox.DefaultPayerCPF)
	assert.NotContains(t, text, "CTRB001", "nothing of receiver B")

	if shot := os.Getenv("PIXAUTO_DASHBOARD_SCREENSHOT"); shot != "" {
		png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(shot, png, 0o644))
		t.Logf("screenshot: %s", shot)
	}

	// Filters: failed only, then a date range; the rows change.
	n := loads()
	do(chromedp.SetValue(chromedp.ID("status"), "FAILED"), chromedp.Click(chromedp.ID("apply")), reloaded(n))
	assert.Equal(t, []string{d.failed}, chargeIDs())
	n = loads()
	do(chromedp.SetValue(chromedp.ID("status"), ""), chromedp.SetValue(chromedp.ID("due-from"), "2026-11-26"),
		chromedp.SetValue(chromedp.ID("due-to"), "2026-11-27"), chromedp.Click(chromedp.ID("apply")), reloaded(n))
	assert.Equal(t, []string{d.failed, d.settled}, chargeIDs())
	n = loads()
	do(chromedp.SetValue(chromedp.ID("consent"), d.consentA1), chromedp.Click(chromedp.ID("apply")), reloaded(n))
	assert.Equal(t, []string{d.settled}, chargeIDs(), "the contract filter")

	// The failed view: failed or retrying, due in the last 30 days of the
	// server's calendar.
	n = loads()
	do(chromedp.Click(chromedp.CSS(`.tabs button[data-view=failed]`)), reloaded(n))
	assert.Equal(t, []string{"2026-10-31", "2026-11-30", "FAILED,RETRYING", ""},
		[]string{eval(`document.getElementById("due-from").value`), eval(`document.getElementById("due-to").value`),
			eval(`document.getElementById("status").value`), eval(`document.getElementById("consent").value`)})
	assert.Equal(t, []string{d.failed}, chargeIDs())
	n = loads()
	do(chromedp.Click(chromedp.CSS(`.tabs button[data-view=settled]`)), reloaded(n))
	assert.Equal(t, []string{d.settled}, chargeIDs())

	// Consents, with their statuses; a consent's charges are one click away.
	n = loads()
	do(chromedp.Click(chromedp.CSS(`.tabs button[data-view=consents]`)), reloaded(n), chromedp.WaitVisible(chromedp.ID("consents")))
	consents, err := chromedp.Run(bctx, chromedp.Evaluate[[][]string](
		`Array.from(document.querySelectorAll("#consents tbody tr[data-consent]")).map(tr => [tr.dataset.consent, tr.cells[0].textContent, tr.cells[2].textContent, tr.cells[4].textContent])`))
	require.NoError(t, err)
	assert.ElementsMatch(t, [][]string{
		{d.consentA1, "CTR0001", "***.***.*47-25", "AUTHORISED"},
		{d.consentA2, "CTR0002", "**.***.***/**01-61", "AUTHORISED"},
	}, consents)
	n = loads()
	do(chromedp.Click(chromedp.CSS(`#consents tr[data-consent="`+d.consentA2+`"] button`)), reloaded(n), chromedp.WaitVisible(chromedp.ID("charges")))
	assert.Equal(t, []string{d.failed}, chargeIDs())

	// Exports of the current filter (due 26–27/11: the failed and the
	// settled charge), downloaded by the browser.
	n = loads()
	do(chromedp.SetValue(chromedp.ID("consent"), ""), chromedp.SetValue(chromedp.ID("due-from"), "2026-11-26"),
		chromedp.SetValue(chromedp.ID("due-to"), "2026-11-27"), chromedp.Click(chromedp.ID("apply")), reloaded(n))
	require.Equal(t, []string{d.failed, d.settled}, chargeIDs())
	// A filter edited but not applied does not change what is exported.
	do(chromedp.SetValue(chromedp.ID("status"), "CANCELLED"))
	do(func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: new(true),
		})
		return chromedp.Void{}, err
	})
	// download clicks an export button and returns the file the browser
	// saved. (A subscription ends with the loop that breaks out of it: each
	// download subscribes anew, before its click.)
	download := func(button string) (name string, body []byte) {
		t.Helper()
		willBegin := chromedp.Events(bctx, browser.DownloadWillBegin)
		progress := chromedp.Events(bctx, browser.DownloadProgress)
		do(chromedp.Click(chromedp.ID(button)))
		var guid string
		for ev, err := range willBegin {
			require.NoError(t, err)
			guid, name = ev.GUID, ev.SuggestedFilename
			break
		}
		require.NotEmpty(t, guid, "a download began")
		for ev, err := range progress {
			require.NoError(t, err)
			if ev.GUID == guid && ev.State == browser.DownloadProgressStateCompleted {
				break
			}
			require.NotEqual(t, browser.DownloadProgressStateCanceled, ev.State, "download of %s", name)
		}
		body, err := os.ReadFile(filepath.Join(downloads, guid))
		require.NoError(t, err)
		return name, body
	}
	name, body := download("export-csv")
	assert.Equal(t, "charges-2026-11-30.csv", name)
	recs := parseCSV(t, body)
	require.Len(t, recs, 3)
	var ids []string
	for _, r := range recs[1:] {
		ids = append(ids, r[13])
		switch r[13] {
		case d.failed:
			assert.Equal(t, []string{"PAYER_BANK_REFUSED", "CTR0002", "27/11/2026", "retry", "4"}, r[:5])
			assert.Equal(t, "150,00", r[8])
		case d.settled:
			assert.Equal(t, []string{"", "CTR0001", "26/11/2026", "charge", "1"}, r[:5])
			assert.Equal(t, "1234,56", r[8])
		}
	}
	assert.ElementsMatch(t, []string{d.failed, d.settled}, ids)

	name, body = download("export-xlsx")
	assert.Equal(t, "charges-2026-11-30.xlsx", name)
	x := readXLSX(t, body)
	require.Len(t, x.rows, 3)
	ids = nil
	for i, r := range x.rows[1:] {
		ids = append(ids, r[13])
		want := map[string]float64{d.failed: 150, d.settled: 1234.56}[r[13]]
		x.assertNumber(t, i+1, 9, want, `"R$" #,##0.00`)
	}
	assert.ElementsMatch(t, []string{d.failed, d.settled}, ids)
	assert.Equal(t, "2", eval(`document.body.dataset.exports`))

	// A reload keeps the session; signing out forgets the key and the data.
	do(chromedp.Reload(), until(`document.body.dataset.state === "ready" && Number(document.body.dataset.loads) > 0`))
	assert.Len(t, chargeRows(), 4, "signed in again from sessionStorage")
	do(chromedp.Click(chromedp.ID("signout")), chromedp.WaitVisible(chromedp.ID("login-form")))
	assert.Equal(t, "", eval(`sessionStorage.getItem("pixauto.apiKey") || ""`))
	assert.Equal(t, "0", eval(`String(document.querySelectorAll("#charges tbody tr").length)`))

	// Nothing went wrong in the page: no exception, no CSP violation, no
	// console error.
	mu.Lock()
	assert.Empty(t, problems)
	mu.Unlock()
	assert.NotContains(t, e.logs.String(), e.keyA[16:], "the key never reaches the server's logs")
}
