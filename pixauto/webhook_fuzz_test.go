package pixauto

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
)

// Run longer with: go test ./pixauto -run '^$' -fuzz '^FuzzParseNotification$' -fuzztime 5m
//
// FuzzParseNotification sends any path, method, interaction id and body
// through WebhookHandler (plain HTTP allowed, so parsing is reached): the
// answer is a 202 only for a well-formed notification, which is then
// dispatched as parsed, and otherwise one of the documented refusals; never
// a panic.
func FuzzParseNotification(f *testing.F) {
	const consentPath = WebhookPrefix + "v2/recurring-consents/urn:bancoex:C1DD33123"
	const paymentPath = WebhookPrefix + "v2/pix/recurring-payments/TXpRMU9UQTROMWhZV2xSU1FUazJSMDl"
	body := `{"data":{"timestamp":"2026-11-23T13:00:00Z","eventType":"STATE_CHANGED"}}`
	f.Add("POST", consentPath, "b6f1c4e2-0c1e-4f3a-9e1a-1234567890ab", []byte(body))
	f.Add("POST", paymentPath, "b6f1c4e2", []byte(`{"data":{"timestamp":"2026-11-23T13:00:00Z"}}`))
	f.Add("GET", consentPath, "id-1", []byte(body))
	f.Add("POST", WebhookPrefix+"v0/recurring-consents/urn:a:b", "id-1", []byte(body))
	f.Add("POST", WebhookPrefix+"v2/recurring-consents/not-a-urn", "id-1", []byte(body))
	f.Add("POST", WebhookPrefix+"v2/pix/recurring-payments/a/b", "id-1", []byte(body))
	f.Add("POST", consentPath, "", []byte(body))
	f.Add("POST", consentPath, "id 1", []byte(body))
	f.Add("POST", consentPath, "id-1", []byte(`{"data":{}}`))
	f.Add("POST", consentPath, "id-1", []byte(`{"data":{"timestamp":"2026-02-30T13:00:00Z"}}`))
	f.Add("POST", consentPath, "id-1", []byte(`{"data":`))
	f.Add("POST", paymentPath, "id-1", []byte(nil))

	notes := make(chan Notification, 1)
	in := &Initiator{log: slog.New(slog.DiscardHandler)}
	h := in.WebhookHandler(WebhookOptions{AllowPlainHTTP: true, Dispatch: func(n Notification) { notes <- n }})
	refusals := map[int]bool{
		http.StatusMethodNotAllowed: true, http.StatusNotFound: true,
		http.StatusBadRequest: true, http.StatusRequestEntityTooLarge: true,
	}

	f.Fuzz(func(t *testing.T, method, path, interactionID string, body []byte) {
		r := &http.Request{
			Method: method, URL: &url.URL{Path: path}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body)), Host: "itp.example",
		}
		r.Header.Set("x-webhook-interaction-id", interactionID)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusAccepted {
			if !refusals[w.Code] {
				t.Fatalf("status %d for %s %q: %s", w.Code, method, path, w.Body)
			}
			return
		}
		var n Notification
		select {
		case n = <-notes:
		case <-time.After(5 * time.Second):
			t.Fatal("202 without a dispatch")
		}
		if method != http.MethodPost {
			t.Fatalf("accepted method %q", method)
		}
		if got := w.Header().Get("x-webhook-interaction-id"); got != interactionID || got == "" || len(got) > 100 || strings.ContainsAny(got, " \t\r\n/") {
			t.Fatalf("echoed interaction id %q for %q", got, interactionID)
		}
		var want string
		switch n.Kind {
		case NotifyConsent:
			want = WebhookPrefix + n.APIVersion + "/recurring-consents/" + n.ID
			if consent.ValidateID(n.ID) != nil {
				t.Fatalf("accepted consent id %q", n.ID)
			}
		case NotifyPayment:
			want = WebhookPrefix + n.APIVersion + "/pix/recurring-payments/" + n.ID
			if n.ID == "" || len(n.ID) > 100 || strings.ContainsAny(n.ID, "/:. ") {
				t.Fatalf("accepted payment id %q", n.ID)
			}
		default:
			t.Fatalf("accepted kind %q", n.Kind)
		}
		if path != want {
			t.Fatalf("path %q parsed as %+v", path, n)
		}
		if !strings.HasPrefix(n.APIVersion, "v") || len(n.APIVersion) > 3 || strings.Contains(n.APIVersion, "/") {
			t.Fatalf("accepted versionApi %q", n.APIVersion)
		}
		if n.InteractionID != interactionID || n.Timestamp.IsZero() {
			t.Fatalf("notification %+v from body %q", n, body)
		}
	})
}
