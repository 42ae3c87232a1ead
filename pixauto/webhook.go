package pixauto

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/ofb-go/pixauto/consent"
)

// WebhookPrefix is the path prefix of the holder's notifications for
// automatic payments (webhook API 1.3.0).
const WebhookPrefix = "/open-banking/webhook/v1/automatic-payments/"

// NotificationKind names the resource a notification is about.
type NotificationKind string

// Notification kinds.
const (
	NotifyConsent NotificationKind = "recurring-consent"
	NotifyPayment NotificationKind = "recurring-payment"
)

// Notification is a holder's webhook call: a trigger to re-read a resource.
type Notification struct {
	Kind          NotificationKind
	ID            string // recurringConsentId or recurringPaymentId
	APIVersion    string // the path's versionApi ("v2")
	InteractionID string // x-webhook-interaction-id
	Timestamp     time.Time
	EventType     string // STATE_CHANGED or DATA_CHANGED (consents)
}

// WebhookOptions configure WebhookHandler.
type WebhookOptions struct {
	// Dispatch runs the follow-up of an accepted notification (the re-read
	// of the resource), after the 202 is written. Nil means a goroutine per
	// notification calling HandleNotification with a 30 s timeout; the jobs
	// package enqueues a job instead.
	Dispatch func(Notification)
	// VerifyPeer checks the holder's client certificate (the webhook is
	// mTLS-only; the server's TLS config must request client certificates).
	// Nil accepts any verified chain; requests without a client
	// certificate are refused either way unless AllowPlainHTTP is set.
	VerifyPeer func(cert *x509.Certificate) error
	// AllowPlainHTTP accepts requests without TLS (behind a TLS-terminating
	// proxy that authenticated the holder). Off by default.
	AllowPlainHTTP bool
}

var (
	webhookIDRE      = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9\-]{0,99}$`)
	webhookVersionRE = regexp.MustCompile(`^v([1-9][0-9]?|10)$`)
)

// maxWebhookBody bounds a notification body.
const maxWebhookBody = 16 << 10

// WebhookHandler returns the handler of the two holder notification paths:
//
//	POST …/open-banking/webhook/v1/automatic-payments/{versionApi}/recurring-consents/{recurringConsentId}
//	POST …/open-banking/webhook/v1/automatic-payments/{versionApi}/pix/recurring-payments/{recurringPaymentId}
//
// It answers 202 echoing x-webhook-interaction-id, then re-reads the
// resource (Dispatch). Notifications carry no data and may repeat, so
// handling one twice is harmless. Mount it at the server root (the paths are
// matched in full, from WebhookPrefix).
func (in *Initiator) WebhookHandler(opts WebhookOptions) http.Handler {
	if opts.Dispatch == nil {
		opts.Dispatch = func(n Notification) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := in.HandleNotification(ctx, n); err != nil {
				in.log.WarnContext(ctx, "pixauto: webhook follow-up failed", "kind", n.Kind, "id", n.ID, "x-webhook-interaction-id", n.InteractionID, "err", err)
			}
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, status, err := parseNotification(r, opts)
		if err != nil {
			in.log.InfoContext(r.Context(), "pixauto: webhook refused", "path", r.URL.Path, "status", status, "err", err)
			http.Error(w, err.Error(), status)
			return
		}
		w.Header().Set("x-webhook-interaction-id", n.InteractionID)
		w.WriteHeader(http.StatusAccepted)
		go opts.Dispatch(n)
	})
}

func parseNotification(r *http.Request, opts WebhookOptions) (Notification, int, error) {
	var n Notification
	if r.Method != http.MethodPost {
		return n, http.StatusMethodNotAllowed, errors.New("webhook: POST only")
	}
	if err := checkPeer(r, opts); err != nil {
		return n, http.StatusUnauthorized, err
	}
	rest, ok := strings.CutPrefix(r.URL.Path, WebhookPrefix)
	if !ok {
		return n, http.StatusNotFound, errors.New("webhook: unknown path")
	}
	version, resource, _ := strings.Cut(rest, "/")
	if !webhookVersionRE.MatchString(version) {
		return n, http.StatusNotFound, errors.New("webhook: bad versionApi")
	}
	n.APIVersion = version
	switch {
	case strings.HasPrefix(resource, "recurring-consents/"):
		n.Kind, n.ID = NotifyConsent, strings.TrimPrefix(resource, "recurring-consents/")
		if consent.ValidateID(n.ID) != nil {
			return n, http.StatusBadRequest, errors.New("webhook: bad recurringConsentId")
		}
	case strings.HasPrefix(resource, "pix/recurring-payments/"):
		n.Kind, n.ID = NotifyPayment, strings.TrimPrefix(resource, "pix/recurring-payments/")
		if !webhookIDRE.MatchString(n.ID) {
			return n, http.StatusBadRequest, errors.New("webhook: bad recurringPaymentId")
		}
	default:
		return n, http.StatusNotFound, errors.New("webhook: unknown resource")
	}
	n.InteractionID = r.Header.Get("x-webhook-interaction-id")
	if !webhookIDRE.MatchString(n.InteractionID) {
		return n, http.StatusBadRequest, errors.New("webhook: x-webhook-interaction-id is required")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
	if err != nil || len(body) > maxWebhookBody {
		return n, http.StatusRequestEntityTooLarge, errors.New("webhook: body too large or unreadable")
	}
	var b struct {
		Data struct {
			Timestamp consent.DateTime `json:"timestamp"`
			EventType string           `json:"eventType"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return n, http.StatusBadRequest, fmt.Errorf("webhook: body: %w", err)
	}
	if b.Data.Timestamp.IsZero() {
		return n, http.StatusBadRequest, errors.New("webhook: data.timestamp is required")
	}
	n.Timestamp, n.EventType = b.Data.Timestamp.Time, b.Data.EventType
	return n, 0, nil
}

func checkPeer(r *http.Request, opts WebhookOptions) error {
	if r.TLS == nil {
		if opts.AllowPlainHTTP {
			return nil
		}
		return errors.New("webhook: mTLS required")
	}
	if len(r.TLS.PeerCertificates) == 0 || len(r.TLS.VerifiedChains) == 0 {
		return errors.New("webhook: a verified client certificate is required")
	}
	if opts.VerifyPeer != nil {
		return opts.VerifyPeer(r.TLS.PeerCertificates[0])
	}
	return nil
}

// HandleNotification re-reads the resource a notification is about and
// applies what changed. A notification for a resource the Initiator does
// not know is reported as ErrNotFound and changes nothing.
func (in *Initiator) HandleNotification(ctx context.Context, n Notification) error {
	switch n.Kind {
	case NotifyConsent:
		_, err := in.SyncConsent(ctx, n.ID)
		return err
	case NotifyPayment:
		a, err := in.store.AttemptByPaymentID(ctx, n.ID)
		if err != nil {
			return err
		}
		return in.Follow(ctx, a.ID)
	}
	return fmt.Errorf("pixauto: unknown notification kind %q", n.Kind)
}
