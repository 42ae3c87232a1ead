package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/internal/sandboxtest"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/sandbox"
	"github.com/ofb-go/pixauto/pixauto/store/sqlite"
)

const receiver = "receiver-1"

var secretKey = []byte("0123456789abcdef0123456789abcdef")

// env is a sandbox bank on a manual clock, and one or more nodes working
// for its ITP: each node is a process of its own (its store handle, its
// Initiator, its Runner), all on one database.
type env struct {
	*sandboxtest.Env
	t     *testing.T
	nodes []*node
	// fapiConfig adjusts the FAPI configuration of the nodes added next.
	fapiConfig func(*fapi.Config)
	// wake receives a value (coalesced) whenever a job of any node
	// completes, fails, is cancelled or snoozed.
	wake chan struct{}

	mu     sync.Mutex
	events []pixauto.Event
}

type node struct {
	store  pixauto.Store
	in     *pixauto.Initiator
	runner *Runner
}

func newEnv(t *testing.T, o sandboxtest.Options) *env {
	t.Helper()
	return &env{Env: sandboxtest.New(t, o), t: t, wake: make(chan struct{}, 1)}
}

// newSQLiteEnv is an env with one node on a SQLite file.
func newSQLiteEnv(t *testing.T, o sandboxtest.Options, fapiConfig ...func(*fapi.Config)) *env {
	t.Helper()
	e := newEnv(t, o)
	for _, f := range fapiConfig {
		e.fapiConfig = f
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "pixauto.db"))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, st.Close()) })
	n := e.addNode(st, SQLite(st.DB()), 4)
	require.NoError(t, n.runner.Migrate(t.Context()))
	e.start(n)
	return e
}

// addNode builds an Initiator with its own FAPI client on store, and its
// Runner; the Runner is neither migrated nor started.
func (e *env) addNode(store pixauto.Store, driver Driver, workers int, adjust ...func(*node, *river.Config)) *node {
	e.t.Helper()
	fc := e.Bank.FAPIConfig(e.Bank.ITP)
	if e.fapiConfig != nil {
		e.fapiConfig(&fc)
	}
	client, err := fapi.New(fc)
	require.NoError(e.t, err)
	in, err := pixauto.New(pixauto.Config{
		CNPJ: e.ITPCNPJ, ISPB: sandboxtest.ITPISPB, Store: store, SecretKey: secretKey, Clock: e.Clock,
		Holders: []pixauto.Holder{{ID: "bank", FAPI: client, BaseURL: e.Bank.MTLSURL + sandbox.AutomaticPaymentsBase}},
		OnEvent: func(ev pixauto.Event) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.events = append(e.events, ev)
		},
	})
	require.NoError(e.t, err)
	n := &node{store: store, in: in}
	r, err := New(Config{
		Initiator: in, Store: store, Driver: driver, MaxWorkers: workers, Clock: e.Clock,
		// The tests enqueue the syncs: a periodic one would see the clock
		// between two of the test's moves.
		SyncInterval: -1, CleanupInterval: -1,
		river: func(c *river.Config) {
			testRiverConfig(len(e.nodes))(c)
			for _, f := range adjust {
				f(n, c)
			}
		},
	})
	require.NoError(e.t, err)
	n.runner = r
	e.nodes = append(e.nodes, n)
	return n
}

// testRiverConfig makes River quick to start and stop and to notice new
// jobs; River keeps its own real time (see the package doc).
func testRiverConfig(i int) func(*river.Config) {
	return func(c *river.Config) {
		c.TestOnly = true
		c.FetchCooldown = 5 * time.Millisecond
		c.FetchPollInterval = 50 * time.Millisecond
		c.ID = "node-" + string(rune('0'+i)) + "-" + randomHex(4)
	}
}

// start starts a node's Runner, subscribed to its job events, and stops it
// when the test ends.
func (e *env) start(n *node) {
	e.t.Helper()
	events, cancel := n.runner.client.SubscribeConfig(&river.SubscribeConfig{
		ChanSize: 100_000,
		Kinds:    []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled, river.EventKindJobSnoozed},
	})
	go func() {
		for range events {
			select {
			case e.wake <- struct{}{}:
			default:
			}
		}
	}()
	require.NoError(e.t, n.runner.Start(context.Background()))
	e.t.Cleanup(func() {
		ctx, stop := context.WithTimeout(context.Background(), 30*time.Second)
		defer stop()
		require.NoError(e.t, n.runner.Stop(ctx))
		cancel()
	})
}

// unfinished is the queue's jobs that are waiting, running or due for a
// retry, in every process.
func (e *env) unfinished(ctx context.Context) []*rivertype.JobRow {
	e.t.Helper()
	res, err := e.nodes[0].runner.client.JobList(ctx, river.NewJobListParams().Queues(DefaultQueue).States(liveStates...).First(10))
	require.NoError(e.t, err)
	return res.Jobs
}

// settle waits until the queue has no unfinished job, waking on the nodes'
// job events: every job is worked by a node, and each outcome is an event.
func (e *env) settle() {
	e.t.Helper()
	e.waitFor("the queue to empty", func(ctx context.Context) bool { return len(e.unfinished(ctx)) == 0 })
}

// waitFor waits, for at most a minute, until cond holds; cond is re-read after
// each job event.
func (e *env) waitFor(what string, cond func(context.Context) bool) {
	e.t.Helper()
	timeout := time.NewTimer(time.Minute)
	defer timeout.Stop()
	for !cond(e.t.Context()) {
		select {
		case <-e.wake:
		case <-timeout.C:
			e.t.Fatalf("waiting for %s: timed out; unfinished jobs:%s", what, describe(e.unfinished(e.t.Context())))
		}
	}
}

func describe(jobs []*rivertype.JobRow) string {
	s := ""
	for _, j := range jobs {
		s += " " + j.Kind + "/" + string(j.State) + " " + string(j.EncodedArgs)
		for _, err := range j.Errors {
			s += " err=" + err.Error
		}
	}
	return s
}

// step moves the clock to tm, enqueues a sync and waits for the queue to
// empty.
func (e *env) step(tm time.Time) {
	e.t.Helper()
	e.AdvanceTo(e.t, tm)
	_, err := e.nodes[0].runner.Enqueue(e.t.Context(), SyncArgs{})
	require.NoError(e.t, err)
	e.settle()
}

// jobs lists the queue's jobs of a kind in a state.
func (e *env) jobs(kind string, state rivertype.JobState) []*rivertype.JobRow {
	e.t.Helper()
	var out []*rivertype.JobRow
	params := river.NewJobListParams().Queues(DefaultQueue).Kinds(kind).States(state).First(1000)
	for {
		res, err := e.nodes[0].runner.client.JobList(e.t.Context(), params)
		require.NoError(e.t, err)
		out = append(out, res.Jobs...)
		if len(res.Jobs) < 1000 {
			return out
		}
		params = params.After(res.LastCursor)
	}
}

// enrol runs Enrol, the payer's approval and Complete on node n.
func (e *env) enrol(n *node, req *consent.CreateRequest) *pixauto.ConsentRecord {
	e.t.Helper()
	ctx := e.t.Context()
	en, err := n.in.Enrol(ctx, pixauto.EnrolRequest{ReceiverID: receiver, HolderID: "bank", Consent: req})
	require.NoError(e.t, err)
	redirect, err := e.Bank.Authorize(ctx, en.RedirectURL)
	require.NoError(e.t, err)
	rec, err := n.in.Complete(ctx, redirect)
	require.NoError(e.t, err)
	require.Equal(e.t, consent.StatusAuthorised, rec.Status)
	return rec
}

func (e *env) eventTypes(chargeID string) []pixauto.EventType {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []pixauto.EventType
	for _, ev := range e.events {
		if ev.ChargeID == chargeID {
			out = append(out, ev.Type)
		}
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// testPostgresURL returns PIXAUTO_TEST_POSTGRES_URL. Without it the test is
// skipped, unless CI is set: there a missing database is a failure.
func testPostgresURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("PIXAUTO_TEST_POSTGRES_URL")
	if u == "" {
		const msg = "PIXAUTO_TEST_POSTGRES_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; CI is set, so the PostgreSQL tests must run")
		}
		t.Skip(msg + "; skipping the PostgreSQL tests")
	}
	return u
}

// testSchema creates a schema of the test's own, dropped when the test
// ends, and returns the test URL with search_path set to it: the store's
// and River's tables are created there.
func testSchema(t *testing.T) string {
	t.Helper()
	base := testPostgresURL(t)
	schema := "pixauto_jobs_test_" + randomHex(8)
	exec := func(ctx context.Context, sql string) {
		conn, err := pgx.Connect(ctx, base)
		require.NoError(t, err)
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		require.NoError(t, err)
	}
	exec(t.Context(), "CREATE SCHEMA "+schema)
	t.Cleanup(func() { exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	u, err := url.Parse(base)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
