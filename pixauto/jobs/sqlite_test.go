package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
)

// A charge goes from planned to settled with River alone doing the work:
// the test only moves the clock and enqueues syncs, never calls
// Initiator.Sync, Submit or Follow. The bank fails the first submission
// (and the SDK's own resends are off), so the job fails; River's retry
// reconciles the attempt with the bank and sends it: the bank holds
// exactly one payment.
func TestChargeWorkedByRiverOnSQLite(t *testing.T) {
	t.Parallel()
	e := newSQLiteEnv(t, sandboxtest.Options{}, func(c *fapi.Config) { c.Resend.MaxAttempts = 1 })
	n := e.nodes[0]
	rec := e.enrol(n, e.ConsentRequest())
	due := e.Today().AddDays(8)
	ch, err := n.in.Charge(t.Context(), pixauto.ChargeRequest{ConsentID: rec.ID, DueDate: due, Amount: consent.MustAmount("150.00"), CreditorAccount: sandboxtest.CreditorAccount, Description: "mensalidade"})
	require.NoError(t, err)
	require.Equal(t, pixauto.ChargePlanned, ch.Status)
	as, err := n.in.Attempts(t.Context(), ch.ID)
	require.NoError(t, err)
	require.Len(t, as, 1)
	submitAt := as[0].SubmitAt

	e.step(submitAt.Add(-time.Minute))
	assert.Equal(t, pixauto.ChargePlanned, e.charge(ch.ID).Status, "not due yet: the sync enqueued nothing for it")
	assert.Empty(t, e.jobs(KindSubmit, rivertype.JobStateCompleted))
	assert.Empty(t, e.Bank.Payments(rec.ID))

	e.Bank.InjectFault(sandbox.CallFault{Op: sandbox.OpCreatePayment, Kind: sandbox.FaultStatus, Status: http.StatusInternalServerError})
	e.step(submitAt)
	as, err = n.in.Attempts(t.Context(), ch.ID)
	require.NoError(t, err)
	require.Len(t, as, 1)
	assert.Equal(t, pixauto.AttemptSubmitted, as[0].State)
	submits := e.jobs(KindSubmit, rivertype.JobStateCompleted)
	require.Len(t, submits, 1)
	assert.Equal(t, 2, submits[0].Attempt, "the first try met the 500; River retried it")
	require.Len(t, submits[0].Errors, 1)
	assert.Len(t, e.Bank.Payments(rec.ID), 1)

	e.step(submitAt.Add(10 * time.Minute))
	assert.Equal(t, pixauto.ChargeScheduled, e.charge(ch.ID).Status)

	// Nothing is due until the due date's settlement window: the syncs in
	// between find no work.
	for _, tm := range []time.Time{sandboxtest.At(due.AddDays(-1), 12, 0), sandboxtest.At(due, 8, 10), sandboxtest.At(due, 12, 0)} {
		follows := len(e.jobs(KindFollow, rivertype.JobStateCompleted))
		e.step(tm)
		if tm.Before(sandboxtest.At(due, 0, 0)) {
			assert.Len(t, e.jobs(KindFollow, rivertype.JobStateCompleted), follows, "no check due before the date")
		}
	}
	assert.Equal(t, pixauto.ChargeSettled, e.charge(ch.ID).Status)
	assert.Equal(t, []pixauto.EventType{pixauto.EventChargePlanned, pixauto.EventChargeScheduled, pixauto.EventChargeSettled}, e.eventTypes(ch.ID))
	ps := e.Bank.Payments(rec.ID)
	require.Len(t, ps, 1, "submitted exactly once")
	assert.Equal(t, as[0].EndToEndID, ps[0].EndToEndID)
	assert.NotEmpty(t, e.jobs(KindFollow, rivertype.JobStateCompleted), "the payment was followed by jobs")
	assert.Empty(t, e.jobs(KindSubmit, rivertype.JobStateDiscarded))
	assert.Empty(t, e.jobs(KindFollow, rivertype.JobStateDiscarded))
}

func (e *env) charge(id string) *pixauto.ChargeRecord {
	e.t.Helper()
	ch, err := e.nodes[0].in.GetCharge(e.t.Context(), id)
	require.NoError(e.t, err)
	return ch
}

// newWebhookEnv is a SQLite env whose ITP registered a webhook URI served
// by the node's handler, with the Runner's Dispatch.
func newWebhookEnv(t *testing.T) *env {
	t.Helper()
	var handler atomic.Pointer[http.Handler]
	srv, err := sandbox.NewWebhookServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*handler.Load()).ServeHTTP(w, r)
	}))
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	e := newSQLiteEnv(t, sandboxtest.Options{Bank: sandbox.Config{ITP: sandbox.ITPConfig{WebhookURIs: []string{srv.URL}}}})
	n := e.nodes[0]
	h := n.in.WebhookHandler(pixauto.WebhookOptions{Dispatch: n.runner.Dispatch()})
	handler.Store(&h)
	return e
}

// deliver moves the clock (the bank posts its notifications before
// AdvanceTo returns) and waits until every notification the handler
// accepted was worked as a job, and the queue is empty.
func (e *env) deliver(tm time.Time) {
	e.t.Helper()
	e.AdvanceTo(e.t, tm)
	accepted := 0
	for _, w := range e.Bank.Webhooks() {
		if w.Status == http.StatusAccepted {
			accepted++
		}
	}
	e.waitFor("the notification jobs", func(ctx context.Context) bool {
		return len(e.jobs(KindNotification, rivertype.JobStateCompleted)) >= accepted
	})
	e.settle()
}

// Webhooks alone move a charge from submitted to settled: each accepted
// notification is enqueued by Dispatch and worked as a job; no sync runs.
func TestWebhooksDispatchedAsJobs(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t)
	n := e.nodes[0]
	rec := e.enrol(n, e.ConsentRequest())
	due := e.Today().AddDays(3)
	ch, err := n.in.Charge(t.Context(), pixauto.ChargeRequest{ConsentID: rec.ID, DueDate: due, Amount: consent.MustAmount("150.00"), CreditorAccount: sandboxtest.CreditorAccount})
	require.NoError(t, err)
	as, err := n.in.Attempts(t.Context(), ch.ID)
	require.NoError(t, err)
	require.Equal(t, pixauto.AttemptSubmitted, as[0].State, "due within LeadDays: submitted by Charge")

	e.deliver(e.Clock.Now().Add(time.Minute))
	assert.Equal(t, pixauto.ChargeScheduled, e.charge(ch.ID).Status, "SCHD arrived by webhook")
	e.deliver(sandboxtest.At(due, 9, 0))
	assert.Equal(t, pixauto.ChargeSettled, e.charge(ch.ID).Status, "ACSC arrived by webhook")

	assert.Empty(t, e.jobs(KindSync, rivertype.JobStateCompleted), "no sync ran")
	assert.Empty(t, e.jobs(KindFollow, rivertype.JobStateCompleted), "no follow job ran")
	notes := e.jobs(KindNotification, rivertype.JobStateCompleted)
	var payments int
	for _, j := range notes {
		// Two deliveries about one payment may be worked at once: the one
		// that loses the Initiator's optimistic update fails, and River
		// works it again.
		for _, err := range j.Errors {
			assert.ErrorContains(t, errors.New(err.Error), "conflict", "%s", j.EncodedArgs)
		}
		if args := decodeArgs[NotificationArgs](t, j); args.Resource == pixauto.NotifyPayment {
			payments++
		}
	}
	assert.GreaterOrEqual(t, payments, 2, "SCHD and ACSC")
}

// A delivery dispatched twice is one job; a notification about a resource
// the Initiator does not know is worked once, not retried.
func TestNotificationJobs(t *testing.T) {
	t.Parallel()
	e := newSQLiteEnv(t, sandboxtest.Options{})
	r := e.nodes[0].runner
	unknown := pixauto.Notification{Kind: pixauto.NotifyPayment, ID: "unknown-payment", InteractionID: "delivery-1", Timestamp: e.Clock.Now().UTC()}
	ok, err := r.Enqueue(t.Context(), NotificationArgsFor(unknown))
	require.NoError(t, err)
	assert.True(t, ok)
	e.settle()
	ok, err = r.Enqueue(t.Context(), NotificationArgsFor(unknown))
	require.NoError(t, err)
	assert.False(t, ok, "the same delivery is not enqueued twice")

	r.Dispatch()(pixauto.Notification{Kind: pixauto.NotifyConsent, ID: "urn:bank:unknown-consent", InteractionID: "delivery-2", Timestamp: e.Clock.Now()})
	e.settle()
	done := e.jobs(KindNotification, rivertype.JobStateCompleted)
	require.Len(t, done, 2)
	for _, j := range done {
		assert.Equal(t, 1, j.Attempt)
		assert.Empty(t, j.Errors)
	}
	assert.Equal(t, unknown, decodeArgs[NotificationArgs](t, done[0]).Notification())
}

// The cleanup job deletes the authorizations that expired, and only those.
func TestCleanupJob(t *testing.T) {
	t.Parallel()
	e := newSQLiteEnv(t, sandboxtest.Options{})
	n := e.nodes[0]
	now := e.Clock.Now()
	for state, expires := range map[string]time.Time{"expired": now.Add(-time.Minute), "live": now.Add(time.Minute)} {
		require.NoError(t, n.store.PutAuthorization(t.Context(), &pixauto.AuthorizationRecord{
			State: state, ConsentID: "urn:bank:" + state, HolderID: "bank", Sealed: []byte("x"), ExpiresAt: expires, CreatedAt: now.Add(-time.Hour),
		}))
	}
	ok, err := n.runner.Enqueue(t.Context(), CleanupArgs{})
	require.NoError(t, err)
	require.True(t, ok)
	e.settle()
	_, err = n.store.TakeAuthorization(t.Context(), "expired")
	assert.ErrorIs(t, err, pixauto.ErrNotFound)
	_, err = n.store.TakeAuthorization(t.Context(), "live")
	assert.NoError(t, err)
	require.Len(t, e.jobs(KindCleanup, rivertype.JobStateCompleted), 1)
}

func decodeArgs[T river.JobArgs](t *testing.T, j *rivertype.JobRow) T {
	t.Helper()
	var args T
	require.NoError(t, json.Unmarshal(j.EncodedArgs, &args))
	return args
}
