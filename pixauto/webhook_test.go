package pixauto_test

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// webhookEnv is an env whose ITP registered a webhook URI served by the
// Initiator's own handler; notifications are queued and handled by the
// test, so the follow-ups are deterministic.
type webhookEnv struct {
	*env
	notes   chan pixauto.Notification
	handled int
}

func newWebhookEnv(t *testing.T) *webhookEnv {
	var handler atomic.Pointer[http.Handler]
	srv, err := sandbox.NewWebhookServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*handler.Load()).ServeHTTP(w, r)
	}))
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	w := &webhookEnv{notes: make(chan pixauto.Notification, 1024)}
	w.env = newEnv(t, sandboxtest.Options{Bank: sandbox.Config{ITP: sandbox.ITPConfig{WebhookURIs: []string{srv.URL}}}})
	h := w.in.WebhookHandler(pixauto.WebhookOptions{Dispatch: func(n pixauto.Notification) { w.notes <- n }})
	handler.Store(&h)
	return w
}

// deliver moves the clock (the bank posts its notifications, and Advance
// returns after the deliveries it caused) and handles every notification
// the handler accepted, without any Sync.
func (w *webhookEnv) deliver(t *testing.T, until time.Time) {
	t.Helper()
	w.AdvanceTo(t, until)
	for target := countAccepted(w.Bank.Webhooks()); w.handled < target; w.handled++ {
		var n pixauto.Notification
		select {
		case n = <-w.notes:
		case <-time.After(10 * time.Second):
			t.Fatalf("the handler accepted %d notifications but dispatched %d", target, w.handled)
		}
		if err := w.in.HandleNotification(bg, n); err != nil && !errors.Is(err, pixauto.ErrNotFound) {
			require.NoError(t, err)
		}
	}
}

func countAccepted(ws []sandbox.Webhook) int {
	n := 0
	for _, w := range ws {
		if w.Status == http.StatusAccepted {
			n++
		}
	}
	return n
}

// Webhooks alone move a charge from planned to settled: the handler answers
// 202 echoing the interaction id, and each notification re-reads the
// resource.
func TestWebhooksDriveTheCharge(t *testing.T) {
	t.Parallel()
	w := newWebhookEnv(t)
	rec := w.enrol(w.ConsentRequest())
	due := w.Today().AddDays(3)
	ch := w.newCharge(rec.ID, due, "150.00")

	w.deliver(t, w.Clock.Now().Add(time.Minute))
	assert.Equal(t, pixauto.ChargeScheduled, w.charge(ch.ID).Status, "SCHD arrived by webhook")
	w.deliver(t, sandboxtest.At(due, 9, 0))
	assert.Equal(t, pixauto.ChargeSettled, w.charge(ch.ID).Status, "ACSC arrived by webhook")

	hooks := w.Bank.Webhooks()
	require.NotEmpty(t, hooks)
	for _, h := range hooks {
		assert.Equal(t, http.StatusAccepted, h.Status, "%s", h.URL)
	}
}

// A notification handled twice changes nothing the second time, and one
// for a resource the Initiator does not know is reported, not applied.
func TestNotificationsAreIdempotent(t *testing.T) {
	t.Parallel()
	w := newWebhookEnv(t)
	rec := w.enrol(w.ConsentRequest())
	ch := w.newCharge(rec.ID, w.Today().AddDays(3), "150.00")
	w.deliver(t, w.Clock.Now().Add(time.Minute))
	as := w.attempts(ch.ID)
	n := pixauto.Notification{Kind: pixauto.NotifyPayment, ID: as[0].PaymentID, InteractionID: "dup-1", Timestamp: w.Clock.Now()}
	require.NoError(t, w.in.HandleNotification(bg, n))
	require.NoError(t, w.in.HandleNotification(bg, n))
	assert.Equal(t, []pixauto.EventType{pixauto.EventChargePlanned, pixauto.EventChargeScheduled}, w.eventTypes(ch.ID))

	err := w.in.HandleNotification(bg, pixauto.Notification{Kind: pixauto.NotifyPayment, ID: "unknown-payment", InteractionID: "x"})
	assert.ErrorIs(t, err, pixauto.ErrNotFound)
}

func TestInitiatorCancelEditRevoke(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandboxtest.Options{})
	rec := e.enrol(e.ConsentRequest())

	ch := e.newCharge(rec.ID, e.Today().AddDays(5), "150.00")
	e.runUntil(e.Clock.Now().Add(10*time.Minute), 5*time.Minute)
	ch, err := e.in.Cancel(bg, ch.ID, consent.DocumentFor(sandboxtest.CreditorCNPJ))
	require.NoError(t, err)
	assert.Equal(t, pixauto.ChargeCancelled, ch.Status)

	later := e.newCharge(rec.ID, e.Today().AddDays(8), "150.00")
	assert.Equal(t, pixauto.ChargePlanned, later.Status)
	later, err = e.in.Cancel(bg, later.ID, consent.DocumentFor(sandboxtest.CreditorCNPJ))
	require.NoError(t, err)
	assert.Equal(t, pixauto.ChargeCancelled, e.charge(later.ID).Status, "a charge not yet sent is withdrawn locally")

	edited, err := e.in.Edit(bg, rec.ID, consent.EditChange{CreditorName: "Academia Forma Fitness Ltda"}, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, "Academia Forma Fitness Ltda", edited.Consent.Creditors[0].Name)

	scheduled := e.newCharge(rec.ID, e.Today().AddDays(4), "150.00")
	e.runUntil(e.Clock.Now().Add(10*time.Minute), 5*time.Minute)
	require.Equal(t, pixauto.ChargeScheduled, e.charge(scheduled.ID).Status)
	revoked, err := e.in.Revoke(bg, rec.ID, consent.RevocationRecebedor, "contract ended")
	require.NoError(t, err)
	assert.Equal(t, consent.StatusRevoked, revoked.Status)
	assert.Equal(t, pixauto.ChargeCancelled, e.charge(scheduled.ID).Status, "the bank cancelled it, and the Initiator read that")

	_, err = e.in.Charge(bg, pixauto.ChargeRequest{ConsentID: rec.ID, DueDate: e.Today().AddDays(6), Amount: mustAmount("1.00"), CreditorAccount: sandboxtest.CreditorAccount})
	assert.ErrorIs(t, err, pixauto.ErrConsentState)

	e.mu.Lock()
	defer e.mu.Unlock()
	var revokedEvent *pixauto.Event
	for i := range e.events {
		if e.events[i].Type == pixauto.EventConsentRevoked {
			revokedEvent = &e.events[i]
		}
	}
	require.NotNil(t, revokedEvent)
	assert.Equal(t, pixauto.ReasonRevokedByReceiver, revokedEvent.Reason)
}
