// Package jobs runs the [pixauto.Initiator]'s due work as River jobs
// (github.com/riverqueue/river), in the store's own database: SQLite for
// one process, PostgreSQL for several. The Initiator only exposes the steps
// (Submit, Follow, SyncConsent, HandleNotification); this package decides
// when they run and where, so a fintech with its own scheduler can do
// without it.
//
// # Jobs
//
//   - [SyncArgs], periodic (Config.SyncInterval, one minute by default, and
//     once at start): reads the store for due work — planned attempts whose
//     submission time has come, attempts left SENDING past their grace,
//     payments and consents whose next check is due — and enqueues one job
//     per record. Unique while waiting or running: one sync at a time
//     across processes. Not retried: the next one is its retry.
//   - [SubmitArgs]{AttemptID}: Initiator.Submit — the crash-safe send, or
//     the reconciliation of a SENDING attempt with the bank.
//   - [FollowArgs]{AttemptID}: Initiator.Follow — read the payment, move the
//     charge, let the retry policy act.
//   - [ConsentCheckArgs]{ConsentID}: Initiator.SyncConsent.
//   - [NotificationArgs]: Initiator.HandleNotification, the follow-up of a
//     holder's webhook; [Runner.Dispatch] is the WebhookOptions.Dispatch
//     that enqueues it. Unique per delivery (x-webhook-interaction-id).
//   - [CleanupArgs], periodic (Config.CleanupInterval, one hour):
//     Store.DeleteExpiredAuthorizations.
//
// Submit, follow and consent-check jobs are unique per record while they
// wait, run or wait for a retry: a record is never enqueued twice at once,
// and a record still due after its job completed is enqueued again by the
// next sync. A job that fails is retried with River's back-off
// (attempt⁴ seconds, up to 25 attempts); a job about a record that no
// longer exists succeeds with nothing to do. Beneath River's uniqueness the
// Initiator's own guards hold: an attempt is claimed SENDING with an
// optimistic update before its request leaves, and a SENDING attempt is
// looked up at the bank before anything is resent — so a job worked twice
// (a stuck job rescued, two deliveries of one notification) sends nothing
// twice.
//
// Notifications go ahead of a billing run's backlog (River priority 1, the
// sync too; submissions and checks 2, cleanup 3), on one queue
// (Config.Queue) worked by Config.MaxWorkers goroutines per process.
//
// # Time
//
// What is due is decided on Config.Clock, which must be the Initiator's:
// the sync reads the store with it, and the jobs it enqueues are available
// at once. River itself keeps real time — job scheduling, retries, leader
// leases, the rescue of stuck jobs — so a test can move the Initiator's
// clock by days without River seeing its leases expire or its jobs
// rescued. The cost is latency: work becomes a job at the first sync after
// it is due, within SyncInterval. Tests disable the periodic jobs
// (negative intervals), move the clock, enqueue SyncArgs themselves with
// [Runner.Enqueue] and wait on River's job events.
//
// # One process, on SQLite
//
// River's SQLite driver shares the store's write pool, a single connection
// whose transactions begin IMMEDIATE:
//
//	st, err := sqlite.Open(ctx, "pixauto.db")
//	…
//	in, err := pixauto.New(pixauto.Config{Store: st, …})
//	…
//	r, err := jobs.New(jobs.Config{Initiator: in, Store: st, Driver: jobs.SQLite(st.DB())})
//	…
//	if err := r.Migrate(ctx); err != nil { … } // River's tables, beside the store's
//	if err := r.Start(ctx); err != nil { … }
//	defer r.Stop(context.WithoutCancel(ctx))
//	http.Handle(pixauto.WebhookPrefix, in.WebhookHandler(pixauto.WebhookOptions{Dispatch: r.Dispatch()}))
//
// # Many processes, on PostgreSQL
//
// Each process opens the store on the same database and schema, and runs a
// Runner on the store's pool; River elects one leader to enqueue the
// periodic jobs, and hands each job to one process:
//
//	st, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"))
//	…
//	r, err := jobs.New(jobs.Config{Initiator: in, Store: st, Driver: jobs.Postgres(st.Pool())})
//	…
//	if err := r.Migrate(ctx); err != nil { … } // safe from every process at once
//	if err := r.Start(ctx); err != nil { … }
//
// River's tables go to the pool's search_path schema, beside the store's.
// Migrate holds an advisory lock on a connection of its own while River's
// migrator works on others: the pool needs at least two connections (River
// itself needs one for LISTEN, plus one per busy worker).
package jobs
