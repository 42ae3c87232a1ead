package jobs

import (
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/ofb-go/pixauto/pixauto"
)

// Job kinds, as stored in River's river_job.kind column.
const (
	KindCleanup      = "pixauto_cleanup"
	KindDeliver      = "pixauto_deliver"
	KindConsentCheck = "pixauto_consent_check"
	KindFollow       = "pixauto_follow"
	KindNotification = "pixauto_notification"
	KindSubmit       = "pixauto_submit"
	KindSync         = "pixauto_sync"
)

// liveStates are the states in which a job counts as waiting or working.
// A unique job over these states is enqueued at most once at a time: a new
// one can be added only after the last one completed (or was discarded or
// cancelled), so work that is still due after its job completed is enqueued
// again by the next sync.
var liveStates = []rivertype.JobState{
	rivertype.JobStateAvailable,
	rivertype.JobStatePending,
	rivertype.JobStateRetryable,
	rivertype.JobStateRunning,
	rivertype.JobStateScheduled,
}

// Priorities: River fetches lower numbers first. Notifications and the
// dispatcher go ahead of a billing run's backlog of submissions.
const (
	priorityUrgent = 1
	priorityWork   = 2
	priorityLow    = 3
)

// SyncArgs is the periodic reconciliation. Its worker reads the store for
// due work — planned attempts whose submission time has come, attempts
// left SENDING past their grace, payments and consents whose next check is
// due — and enqueues one SubmitArgs, FollowArgs or ConsentCheckArgs job per
// record, so that every process's workers share the work. It is unique
// while waiting or running, so one sync runs at a time across processes,
// and it is not retried: the next one is its retry.
type SyncArgs struct{}

// Kind is KindSync.
func (SyncArgs) Kind() string { return KindSync }

// InsertOpts makes the job unique while live and not retried.
func (SyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: 1,
		Priority:    priorityUrgent,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: liveStates},
	}
}

// SubmitArgs submits an attempt (Initiator.Submit): a planned attempt whose
// time has come, or a SENDING one to reconcile with the bank.
type SubmitArgs struct {
	AttemptID string `json:"attempt_id"`
}

// Kind is KindSubmit.
func (SubmitArgs) Kind() string { return KindSubmit }

// InsertOpts makes the job unique per attempt while live.
func (SubmitArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Priority: priorityWork, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: liveStates}}
}

// FollowArgs reads an attempt's payment from the bank (Initiator.Follow).
type FollowArgs struct {
	AttemptID string `json:"attempt_id"`
}

// Kind is KindFollow.
func (FollowArgs) Kind() string { return KindFollow }

// InsertOpts makes the job unique per attempt while live.
func (FollowArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Priority: priorityWork, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: liveStates}}
}

// ConsentCheckArgs reads a consent from the bank (Initiator.SyncConsent).
type ConsentCheckArgs struct {
	ConsentID string `json:"consent_id"`
}

// Kind is KindConsentCheck.
func (ConsentCheckArgs) Kind() string { return KindConsentCheck }

// InsertOpts makes the job unique per consent while live.
func (ConsentCheckArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Priority: priorityWork, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: liveStates}}
}

// NotificationArgs is the follow-up of a holder's webhook
// (Initiator.HandleNotification). The holder gives every delivery its own
// interaction id, so a notification enqueued twice (the same delivery
// dispatched again) is handled once; two deliveries about one resource are
// two jobs, as the second may carry a newer state.
type NotificationArgs struct {
	// Resource is what the notification is about (Notification.Kind).
	Resource      pixauto.NotificationKind `json:"resource" river:"unique"`
	ID            string                   `json:"id" river:"unique"`
	InteractionID string                   `json:"interaction_id" river:"unique"`
	APIVersion    string                   `json:"api_version,omitempty"`
	Timestamp     time.Time                `json:"timestamp"`
	EventType     string                   `json:"event_type,omitempty"`
}

// Kind is KindNotification.
func (NotificationArgs) Kind() string { return KindNotification }

// InsertOpts makes the job unique per delivery.
func (NotificationArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Priority: priorityUrgent, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// NotificationArgsFor returns the job of a notification.
func NotificationArgsFor(n pixauto.Notification) NotificationArgs {
	return NotificationArgs{
		Resource: n.Kind, ID: n.ID, InteractionID: n.InteractionID,
		APIVersion: n.APIVersion, Timestamp: n.Timestamp, EventType: n.EventType,
	}
}

// Notification returns the notification the job follows up.
func (a NotificationArgs) Notification() pixauto.Notification {
	return pixauto.Notification{
		Kind: a.Resource, ID: a.ID, InteractionID: a.InteractionID,
		APIVersion: a.APIVersion, Timestamp: a.Timestamp, EventType: a.EventType,
	}
}

// CleanupArgs is the periodic housekeeping: it deletes the authorizations
// that expired without a callback (Store.DeleteExpiredAuthorizations).
type CleanupArgs struct{}

// Kind is KindCleanup.
func (CleanupArgs) Kind() string { return KindCleanup }

// InsertOpts makes the job unique while live and not retried.
func (CleanupArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: 1,
		Priority:    priorityLow,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: liveStates},
	}
}

// DeliverArgs runs Config.Deliver: the reference server's outbound webhook
// deliveries that are due (their back-off schedule is stored with them).
type DeliverArgs struct{}

// Kind is KindDeliver.
func (DeliverArgs) Kind() string { return KindDeliver }

// InsertOpts makes the job unique while live and not retried: the next
// period is its retry.
func (DeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: 1,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: liveStates},
	}
}
