// The ITP's webhook endpoint: the payer's bank notifies every change of the
// ITP's consents and payments (webhook API 1.3.0) — a POST with no data,
// only "this resource changed". Initiator.WebhookHandler answers 202 at
// once, and the Initiator then re-reads the resource from the bank and
// moves the charge on. Here webhooks alone take a charge from submitted to
// settled, and bring in an edit the payer made in their bank's app:
// Sync is never called.
//
//	go run ./examples/webhook-receiver
package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/examples/internal/example"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "webhook-receiver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	// The endpoint comes first: the ITP registers its URL with the bank
	// (the software statement's webhook URIs), and the handler needs the
	// Initiator, which needs the bank. So the server starts with a handler
	// that is filled in once everything is wired. sandbox.NewWebhookServer
	// serves HTTPS with a certificate the bank trusts and requires the
	// bank's client certificate: webhooks are authenticated by mTLS only.
	var endpoint atomic.Pointer[http.Handler]
	srv, err := sandbox.NewWebhookServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := endpoint.Load()
		if h == nil {
			http.Error(w, "starting", http.StatusServiceUnavailable) // the bank tries again
			return
		}
		(*h).ServeHTTP(w, r)
	}))
	if err != nil {
		return err
	}
	defer srv.Close()

	env, err := example.Start(ctx, out, func(c *sandbox.Config) {
		c.ITP = sandbox.ITPConfig{WebhookURIs: []string{srv.URL}} // the bank posts to srv.URL + "/open-banking/webhook/v1/…"
	})
	if err != nil {
		return err
	}
	defer env.Close()
	fmt.Fprintln(out, "Webhooks: the bank notifies, the Initiator re-reads, the charge moves — no polling.")

	// The handler. Dispatch receives each accepted notification after the
	// 202 is written; a real ITP enqueues a job (the jobs package does),
	// and a worker calls HandleNotification. Here the queue is a channel,
	// drained by the story below so that it prints in order. VerifyPeer
	// checks that the client certificate is the bank's: its
	// organizationIdentifier names the bank's organisation in the
	// directory.
	queue := make(chan pixauto.Notification, 256)
	h := env.Initiator.WebhookHandler(pixauto.WebhookOptions{
		Dispatch: func(n pixauto.Notification) { queue <- n },
		VerifyPeer: func(cert *x509.Certificate) error {
			id, err := fapi.IdentityFromCertificate(cert)
			if err != nil {
				return err
			}
			if id.OrganisationID != env.Bank.OrganisationID {
				return fmt.Errorf("a notification from organisation %s, not the bank", id.OrganisationID)
			}
			return nil
		},
	})
	endpoint.Store(&h)

	w := &worker{env: env, queue: queue}

	// The adhesion (see journey1). The bank notifies the authorisation
	// too; re-reading the consent finds what Complete already stored.
	due := env.Today().AddDays(3)
	rec, err := env.Enrol(ctx, env.MonthlyConsent(due))
	if err != nil {
		return err
	}
	if err := w.drain(ctx); err != nil {
		return err
	}

	// A charge due within LeadDays: Charge submits it, and the bank
	// answers RCVD. The bank then accepts and schedules it a minute
	// apart, notifying each change.
	ch, err := env.Initiator.Charge(ctx, pixauto.ChargeRequest{
		ConsentID: rec.ID, DueDate: due, Amount: consent.MustAmount("129.90"),
		CreditorAccount: example.CreditorAccount, Description: "mensalidade dezembro",
	})
	if err != nil {
		return err
	}
	env.Printf("%s: %s due %s, submitted now", env.Label(ch.ID), example.BRL(ch.Amount), due)
	if err := w.advance(ctx, env.Clock.Now().Add(5*time.Minute)); err != nil {
		return err
	}
	if _, err := env.ExpectCharge(ctx, ch.ID, pixauto.ChargeScheduled); err != nil {
		return err
	}

	// The bank debits the payer at 00:00 on the due date and notifies.
	if err := w.advance(ctx, example.At(due, 6, 0)); err != nil {
		return err
	}
	if _, err := env.ExpectCharge(ctx, ch.ID, pixauto.ChargeSettled); err != nil {
		return err
	}

	// The payer lowers the maximum in the bank's app: the bank notifies a
	// DATA_CHANGED, and the Initiator re-reads and stores the consent.
	lower := consent.MustAmount("200.00")
	if err := env.Bank.EditConsentAtHolder(rec.ID, sandbox.HolderEdit{MaximumVariableAmount: &lower}); err != nil {
		return err
	}
	env.Printf("the payer lowers the maximum in the bank's app")
	if err := w.drain(ctx); err != nil {
		return err
	}
	if rec, err = env.Initiator.GetConsent(ctx, rec.ID); err != nil {
		return err
	}
	if m := rec.Consent.Automatic().MaximumVariableAmount; m == nil || *m != lower {
		return errors.New("the Initiator did not store the payer's new maximum")
	}
	env.Printf("the stored consent now has a maximum of %s", example.BRL(lower))

	// Anyone else is turned away, even with a valid certificate of the
	// same directory: here another participant posts a forged
	// notification, and VerifyPeer refuses it before anything is read.
	status, err := forge(ctx, env, srv.URL, rec.ID)
	if err != nil {
		return err
	}
	if status != http.StatusUnauthorized {
		return fmt.Errorf("a forged notification was answered %d, want 401", status)
	}
	env.Printf("a notification from another participant's certificate: %d %s", status, http.StatusText(status))

	for _, d := range env.Bank.Webhooks() {
		if d.Status != http.StatusAccepted {
			return fmt.Errorf("the bank's notification to %s was answered %d", d.Path, d.Status)
		}
	}
	fmt.Fprintf(out, "\n%d notifications, each answered 202 and followed by a re-read; Sync was never called.\n", w.handled)
	return nil
}

// forge posts a consent notification to the endpoint at base with the
// certificate of a participant other than the bank, and returns the status.
func forge(ctx context.Context, env *example.Env, base, consentID string) (int, error) {
	other, err := env.Bank.NewITP(sandbox.ITPConfig{})
	if err != nil {
		return 0, err
	}
	body := strings.NewReader(`{"data":{"timestamp":"` + consent.NewDateTime(env.Clock.Now()).String() + `"}}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+pixauto.WebhookPrefix+"v2/recurring-consents/"+consentID, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("x-webhook-interaction-id", "forged-1")
	resp, err := env.Bank.Client(other).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}

// worker handles the queued notifications: a real ITP's job worker.
type worker struct {
	env     *example.Env
	queue   chan pixauto.Notification
	handled int
}

// advance moves the bank's clock (the bank does what is due and posts its
// notifications) and handles them.
func (w *worker) advance(ctx context.Context, until time.Time) error {
	if _, err := w.env.Bank.AdvanceTo(until); err != nil {
		return err
	}
	return w.drain(ctx)
}

// drain waits until the bank has delivered what it queued, then handles
// each notification the endpoint accepted. HandleNotification re-reads the
// consent or payment and applies the change; the Initiator's events print
// what moved. A notification about a resource the Initiator does not know
// (yet) is ErrNotFound and changes nothing.
func (w *worker) drain(ctx context.Context) error {
	if err := w.env.Bank.FlushWebhooks(ctx); err != nil {
		return err
	}
	accepted := 0
	for _, d := range w.env.Bank.Webhooks() {
		if d.Status == http.StatusAccepted {
			accepted++
		}
	}
	for ; w.handled < accepted; w.handled++ {
		var n pixauto.Notification
		select {
		case n = <-w.queue:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("the endpoint accepted %d notifications but dispatched %d", accepted, w.handled)
		}
		what := "payment changed"
		if n.Kind == pixauto.NotifyConsent {
			what = "consent " + n.EventType
		}
		w.env.Printf("webhook   %s at %s → re-read", what, n.Timestamp.In(consent.Brasilia).Format("15:04"))
		if err := w.env.Initiator.HandleNotification(ctx, n); err != nil && !errors.Is(err, pixauto.ErrNotFound) {
			return err
		}
	}
	return nil
}
