package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/store/postgres"
)

// Sizes of the multi-process test: consents × cycles charges.
const (
	pgProcesses = 2
	pgConsents  = 75
	pgCycles    = 4
)

// Two processes — each its own pool, Initiator and River client — work one
// queue on one PostgreSQL database, against one bank, over a few hundred
// charges. While the submissions are in flight, the test keeps enqueueing
// syncs on both processes, so that syncs find attempts that are queued,
// being sent, or just sent; and every submission job is worked twice at
// once (see twice). The bank's own record is the judge: every charge was
// submitted exactly once, none was lost, all settled.
func TestProcessesShareTheWorkOnPostgres(t *testing.T) {
	t.Parallel()
	dsn := testSchema(t)
	began := time.Now()
	e := newEnv(t, sandboxtest.Options{})
	for range pgProcesses {
		st := openPostgres(t, dsn)
		e.addNode(st, Postgres(st.Pool()), 4, func(n *node, c *river.Config) {
			c.Middleware = append(c.Middleware, &twice{in: n.in})
		})
	}
	var wg sync.WaitGroup
	errs := make([]error, len(e.nodes))
	for i, n := range e.nodes {
		wg.Go(func() { errs[i] = n.runner.Migrate(t.Context()) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err, "processes migrating together")
	}
	for _, n := range e.nodes {
		e.start(n)
	}

	consents := make([]*pixauto.ConsentRecord, pgConsents)
	for i := range consents {
		consents[i] = e.enrol(e.nodes[i%len(e.nodes)], e.ConsentRequest())
	}
	billing, err := payments.BillingOf(consents[0].Consent)
	require.NoError(t, err)
	for k := range pgCycles {
		cycle, err := billing.Cycle(k)
		require.NoError(t, err)
		e.runCycle(e.nodes[k%len(e.nodes)], cycle.Start)
	}

	charges, duplicates := e.judge(consents)
	assert.Equal(t, pgConsents*pgCycles, charges)
	assert.Zero(t, duplicates)
	perNode := map[string]int{}
	for _, j := range e.jobs(KindSubmit, rivertype.JobStateCompleted) {
		perNode[strings.SplitN(j.AttemptedBy[len(j.AttemptedBy)-1], "-", 3)[1]]++
	}
	assert.Len(t, perNode, pgProcesses, "every process submitted: %v", perNode)
	t.Logf("%d charges for %d consents, %d processes, %d duplicates, submissions per process %v, %s",
		charges, pgConsents, pgProcesses, duplicates, perNode, time.Since(began).Round(time.Millisecond))
}

func openPostgres(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("pool_max_conns", "8")
	u.RawQuery = q.Encode()
	st, err := postgres.Open(t.Context(), u.String())
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	return st
}

// runCycle bills every consent for a due date (on one node) and moves the
// clock through submission, scheduling and settlement.
func (e *env) runCycle(biller *node, due consent.Date) {
	e.t.Helper()
	res, err := biller.in.Bill(e.t.Context(), pixauto.BillingRun{
		ReceiverID: receiver, DueDate: due, Amount: consent.MustAmount("99.90"), CreditorAccount: sandboxtest.CreditorAccount, Description: "mensalidade",
	})
	require.NoError(e.t, err)
	require.Equal(e.t, pgConsents, res.Planned, "billing run: %+v", res)

	submitAt := sandboxtest.At(due.AddDays(-5), 9, 0)
	if submitAt.Before(e.Clock.Now()) {
		submitAt = e.Clock.Now()
	}
	e.AdvanceTo(e.t, submitAt)
	e.contend()
	e.step(submitAt.Add(10 * time.Minute))
	e.step(sandboxtest.At(due, 8, 10))
}

// contend enqueues a sync on every node at once, and again on each job
// event until the queue is empty: the syncs overlap the submissions they
// enqueued.
func (e *env) contend() {
	e.t.Helper()
	syncs := func() {
		var wg sync.WaitGroup
		for _, n := range e.nodes {
			wg.Go(func() {
				_, err := n.runner.Enqueue(context.Background(), SyncArgs{})
				assert.NoError(e.t, err)
			})
		}
		wg.Wait()
	}
	syncs()
	e.waitFor("the submissions", func(ctx context.Context) bool {
		if len(e.unfinished(ctx)) == 0 {
			return true
		}
		syncs()
		return false
	})
	e.settle()
}

// judge compares the bank's record with the charges: each charge must have
// exactly one payment at the bank, its own, settled. It returns the number
// of charges and of duplicates (payments beyond one per charge).
func (e *env) judge(consents []*pixauto.ConsentRecord) (charges, duplicates int) {
	e.t.Helper()
	in := e.nodes[0].in
	for _, rec := range consents {
		atBank := map[string][]string{} // E2EID → payment ids
		for _, p := range e.Bank.Payments(rec.ID) {
			atBank[p.EndToEndID] = append(atBank[p.EndToEndID], p.ID)
			assert.Equal(e.t, payments.StatusACSC, p.Status, "payment %s", p.ID)
		}
		perConsent := 0
		for ch, err := range in.ListCharges(e.t.Context(), pixauto.ChargeFilter{ConsentID: rec.ID}) {
			require.NoError(e.t, err)
			perConsent++
			assert.Equal(e.t, pixauto.ChargeSettled, ch.Status, "charge %s due %s (failure code %q)", ch.ID, ch.DueDate, ch.FailureCode)
			as, err := in.Attempts(e.t.Context(), ch.ID)
			require.NoError(e.t, err)
			require.Len(e.t, as, 1)
			ids := atBank[as[0].EndToEndID]
			assert.Len(e.t, ids, 1, "charge %s at the bank", ch.ID)
			if len(ids) == 1 {
				assert.Equal(e.t, as[0].PaymentID, ids[0])
			}
			delete(atBank, as[0].EndToEndID)
			duplicates += max(len(ids)-1, 0)
		}
		assert.Empty(e.t, atBank, "payments at the bank that no charge knows")
		duplicates += len(atBank)
		assert.Equal(e.t, pgCycles, perConsent)
		charges += perConsent
	}
	return charges, duplicates
}

// twice works every submission job twice at once — the job, and beside it
// the same Initiator.Submit — as happens when River rescues the job of a
// process it presumed dead that is in fact still working it: River's
// uniqueness cannot help there, and the Initiator's claim (an optimistic
// update to SENDING before the request leaves, and a look-up at the bank
// before any resend) must keep the bank from receiving the payment twice.
type twice struct {
	river.MiddlewareDefaults
	in *pixauto.Initiator
}

func (m *twice) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	if job.Kind != KindSubmit {
		return doInner(ctx)
	}
	var args SubmitArgs
	if err := json.Unmarshal(job.EncodedArgs, &args); err != nil {
		return err
	}
	other := make(chan error, 1)
	go func() { other <- m.in.Submit(ctx, args.AttemptID) }()
	err := doInner(ctx)
	return errors.Join(err, <-other)
}
