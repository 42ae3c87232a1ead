package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/ofb-go/pixauto/fapi"
	"github.com/ofb-go/pixauto/pixauto"
)

// Defaults of Config.
const (
	DefaultQueue           = "pixauto"
	DefaultMaxWorkers      = 10
	DefaultSyncInterval    = time.Minute
	DefaultCleanupInterval = time.Hour
)

// dispatchTimeout bounds the enqueueing of a webhook's follow-up.
const dispatchTimeout = 10 * time.Second

// Config configures a Runner.
type Config struct {
	// Initiator does the work: every job calls one of its steps. Required.
	Initiator *pixauto.Initiator
	// Store is the Initiator's store: the sync job reads due work from it
	// and the cleanup job deletes expired authorizations. Required.
	Store pixauto.Store
	// Driver is the database of the jobs, the store's: SQLite(store.DB())
	// or Postgres(store.Pool()). Required.
	Driver Driver
	// Queue is the River queue of the jobs. Empty means DefaultQueue.
	Queue string
	// MaxWorkers is how many jobs this process works at once. Zero means
	// DefaultMaxWorkers.
	MaxWorkers int
	// SyncInterval is the period of the sync job, which enqueues the due
	// work (and runs once when the process starts, or becomes River's
	// leader). Zero means DefaultSyncInterval; negative means no periodic
	// sync (enqueue SyncArgs yourself).
	SyncInterval time.Duration
	// CleanupInterval is the period of the cleanup job. Zero means
	// DefaultCleanupInterval; negative means no periodic cleanup.
	CleanupInterval time.Duration
	// Deliver, if set, is run by a periodic job every DeliverInterval: the
	// reference server passes its outbound webhook Deliverer's DeliverDue,
	// so deliveries and their retries with back-off run on River.
	Deliver func(ctx context.Context) error
	// DeliverInterval is the period of the deliver job. Zero means 5 s.
	DeliverInterval time.Duration
	// Batch bounds how many records of each kind one sync enqueues. Zero
	// means pixauto.SyncBatch.
	Batch int
	// Clock tells the time of the scheduling decisions (what is due), and
	// must be the Initiator's. Nil means the system clock.
	Clock fapi.Clock
	// Logger receives the jobs' diagnostics, and River's. Nil discards.
	Logger *slog.Logger

	// river adjusts River's configuration (tests: TestOnly, fetch
	// intervals).
	river func(*river.Config)
}

// Runner works the Initiator's due work as River jobs. Several Runners —
// in one process or many — may share one database: River hands each job to
// one of them, unique jobs keep a record's work from being enqueued twice,
// and the Initiator's own optimistic claims make a job that runs twice
// harmless.
type Runner struct {
	cfg    Config
	clock  fapi.Clock
	log    *slog.Logger
	client riverClient
}

// New validates cfg and returns a Runner; River's schema must exist before
// Start (see Migrate).
func New(cfg Config) (*Runner, error) {
	switch {
	case cfg.Initiator == nil:
		return nil, errors.New("jobs: Config.Initiator is required")
	case cfg.Store == nil:
		return nil, errors.New("jobs: Config.Store is required")
	case !cfg.Driver.valid():
		return nil, errors.New("jobs: Config.Driver is required (jobs.SQLite or jobs.Postgres)")
	case cfg.MaxWorkers < 0:
		return nil, fmt.Errorf("jobs: Config.MaxWorkers %d is negative", cfg.MaxWorkers)
	case cfg.Batch < 0:
		return nil, fmt.Errorf("jobs: Config.Batch %d is negative", cfg.Batch)
	}
	r := &Runner{cfg: cfg.withDefaults(), clock: cfg.Clock, log: cfg.Logger}
	if r.clock == nil {
		r.clock = fapi.ClockFunc(time.Now)
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	rc := &river.Config{
		Logger:       r.log,
		Queues:       map[string]river.QueueConfig{r.cfg.Queue: {MaxWorkers: r.cfg.MaxWorkers}},
		Workers:      r.workers(),
		PeriodicJobs: r.periodicJobs(),
	}
	if cfg.river != nil {
		cfg.river(rc)
	}
	client, err := cfg.Driver.newClient(rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	r.client = client
	return r, nil
}

func (c Config) withDefaults() Config {
	if c.Queue == "" {
		c.Queue = DefaultQueue
	}
	if c.MaxWorkers == 0 {
		c.MaxWorkers = DefaultMaxWorkers
	}
	if c.SyncInterval == 0 {
		c.SyncInterval = DefaultSyncInterval
	}
	if c.CleanupInterval == 0 {
		c.CleanupInterval = DefaultCleanupInterval
	}
	if c.Batch == 0 {
		c.Batch = pixauto.SyncBatch
	}
	if c.DeliverInterval == 0 {
		c.DeliverInterval = 5 * time.Second
	}
	return c
}

func (r *Runner) periodicJobs() []*river.PeriodicJob {
	var out []*river.PeriodicJob
	add := func(id string, every time.Duration, args river.JobArgs) {
		if every <= 0 {
			return
		}
		out = append(out, river.NewPeriodicJob(river.PeriodicInterval(every),
			func() (river.JobArgs, *river.InsertOpts) { return args, r.insertOpts() },
			&river.PeriodicJobOpts{ID: id, RunOnStart: true}))
	}
	add(KindSync, r.cfg.SyncInterval, SyncArgs{})
	add(KindCleanup, r.cfg.CleanupInterval, CleanupArgs{})
	if r.cfg.Deliver != nil {
		add(KindDeliver, r.cfg.DeliverInterval, DeliverArgs{})
	}
	return out
}

// Migrate creates or updates River's tables in the driver's database. It
// is idempotent. On PostgreSQL, processes calling it together apply each
// migration once; a SQLite file belongs to one process, which calls it
// before Start. The store's own tables are the store's business.
func (r *Runner) Migrate(ctx context.Context) error {
	if err := r.cfg.Driver.migrate(ctx, r.log); err != nil {
		return fmt.Errorf("jobs: migrate %s: %w", r.cfg.Driver.name, err)
	}
	return nil
}

// Start starts working jobs, and, while this process is River's leader,
// enqueueing the periodic ones. It returns once started; ctx ending stops
// the Runner as Stop does.
func (r *Runner) Start(ctx context.Context) error {
	if err := r.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// Stop stops fetching jobs and waits for the running ones to finish, or
// for ctx to end. A job cut short is worked again later: every step is
// safe to repeat.
func (r *Runner) Stop(ctx context.Context) error {
	if err := r.client.Stop(ctx); err != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}
	return nil
}

// Enqueue adds a job of one of this package's kinds, to be worked now by
// any Runner on the database. It reports false, without error, when an
// equal unique job is already waiting or running (for NotificationArgs:
// when that delivery was already enqueued).
func (r *Runner) Enqueue(ctx context.Context, args river.JobArgs) (bool, error) {
	res, err := r.client.Insert(ctx, args, r.insertOpts())
	if err != nil {
		return false, fmt.Errorf("jobs: enqueue %s: %w", args.Kind(), err)
	}
	return !res.UniqueSkippedAsDuplicate, nil
}

// Dispatch returns the WebhookOptions.Dispatch of the Initiator's webhook
// handler: each accepted notification becomes a NotificationArgs job, so
// the follow-up survives a restart and is retried on errors. A
// notification that cannot be enqueued is logged; what it announced is
// read anyway at the resource's next check.
func (r *Runner) Dispatch() func(pixauto.Notification) {
	return func(n pixauto.Notification) {
		ctx, cancel := context.WithTimeout(context.Background(), dispatchTimeout)
		defer cancel()
		if _, err := r.Enqueue(ctx, NotificationArgsFor(n)); err != nil {
			r.log.WarnContext(ctx, "jobs: notification not enqueued", "kind", n.Kind, "id", n.ID, "x-webhook-interaction-id", n.InteractionID, "err", err)
		}
	}
}

func (r *Runner) insertOpts() *river.InsertOpts { return &river.InsertOpts{Queue: r.cfg.Queue} }

func (r *Runner) now() time.Time { return r.clock.Now().UTC() }
