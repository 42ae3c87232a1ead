package jobs

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/ofb-go/pixauto/pixauto"
)

// workers registers one worker per kind. A worker returns the Initiator's
// error, and River retries the job with its back-off; a record that no
// longer exists is nothing to do, and the job succeeds.
func (r *Runner) workers() *river.Workers {
	ws := river.NewWorkers()
	river.AddWorker(ws, river.WorkFunc(r.workSync))
	river.AddWorker(ws, river.WorkFunc(func(ctx context.Context, job *river.Job[SubmitArgs]) error {
		return r.done(ctx, job.Kind, job.Args.AttemptID, r.cfg.Initiator.Submit(ctx, job.Args.AttemptID))
	}))
	river.AddWorker(ws, river.WorkFunc(func(ctx context.Context, job *river.Job[FollowArgs]) error {
		return r.done(ctx, job.Kind, job.Args.AttemptID, r.cfg.Initiator.Follow(ctx, job.Args.AttemptID))
	}))
	river.AddWorker(ws, river.WorkFunc(func(ctx context.Context, job *river.Job[ConsentCheckArgs]) error {
		_, err := r.cfg.Initiator.SyncConsent(ctx, job.Args.ConsentID)
		return r.done(ctx, job.Kind, job.Args.ConsentID, err)
	}))
	river.AddWorker(ws, river.WorkFunc(func(ctx context.Context, job *river.Job[NotificationArgs]) error {
		return r.done(ctx, job.Kind, job.Args.ID, r.cfg.Initiator.HandleNotification(ctx, job.Args.Notification()))
	}))
	river.AddWorker(ws, river.WorkFunc(r.workCleanup))
	river.AddWorker(ws, river.WorkFunc(func(ctx context.Context, _ *river.Job[DeliverArgs]) error {
		if r.cfg.Deliver == nil {
			return nil
		}
		return r.cfg.Deliver(ctx)
	}))
	return ws
}

func (r *Runner) done(ctx context.Context, kind, id string, err error) error {
	if errors.Is(err, pixauto.ErrNotFound) {
		r.log.InfoContext(ctx, "jobs: nothing to do: unknown record", "kind", kind, "id", id)
		return nil
	}
	return err
}

// workSync enqueues a job for every record whose work is due, in one batch.
// Jobs already waiting or running for a record are skipped by River's
// uniqueness.
func (r *Runner) workSync(ctx context.Context, _ *river.Job[SyncArgs]) error {
	params, err := r.dueWork(ctx, r.now())
	if err != nil || len(params) == 0 {
		return err
	}
	res, err := r.client.InsertMany(ctx, params)
	if err != nil {
		return err
	}
	skipped := 0
	for _, x := range res {
		if x.UniqueSkippedAsDuplicate {
			skipped++
		}
	}
	r.log.DebugContext(ctx, "jobs: sync", "due", len(params), "enqueued", len(params)-skipped, "already_enqueued", skipped)
	return nil
}

// dueWork reads what Initiator.Sync would work now, as jobs.
func (r *Runner) dueWork(ctx context.Context, now time.Time) ([]river.InsertManyParams, error) {
	opts := r.insertOpts()
	var out []river.InsertManyParams
	add := func(args river.JobArgs) { out = append(out, river.InsertManyParams{Args: args, InsertOpts: opts}) }
	submit, err := r.cfg.Store.DueAttempts(ctx, pixauto.AttemptFilter{
		States: []pixauto.AttemptState{pixauto.AttemptPlanned, pixauto.AttemptSending}, SubmitBefore: now, Limit: r.cfg.Batch,
	})
	if err != nil {
		return nil, err
	}
	for _, a := range submit {
		add(SubmitArgs{AttemptID: a.ID})
	}
	follow, err := r.cfg.Store.DueAttempts(ctx, pixauto.AttemptFilter{
		States: []pixauto.AttemptState{pixauto.AttemptSubmitted}, CheckDueBefore: now, Limit: r.cfg.Batch,
	})
	if err != nil {
		return nil, err
	}
	for _, a := range follow {
		add(FollowArgs{AttemptID: a.ID})
	}
	for c, err := range r.cfg.Store.ListConsents(ctx, pixauto.ConsentFilter{CheckDueBefore: now, Limit: r.cfg.Batch}) {
		if err != nil {
			return nil, err
		}
		add(ConsentCheckArgs{ConsentID: c.ID})
	}
	return out, nil
}

func (r *Runner) workCleanup(ctx context.Context, _ *river.Job[CleanupArgs]) error {
	n, err := r.cfg.Store.DeleteExpiredAuthorizations(ctx, r.now())
	if err != nil {
		return err
	}
	if n > 0 {
		r.log.InfoContext(ctx, "jobs: expired authorizations deleted", "count", n)
	}
	return nil
}
