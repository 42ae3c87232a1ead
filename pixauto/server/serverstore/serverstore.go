// Package serverstore defines the reference server's own records —
// receivers, their API keys, webhook subscriptions and deliveries — and the
// Store its databases implement. It is kept apart from package server so
// that the database packages (pixauto/store/sqlite, pixauto/store/postgres)
// do not depend on the server and its HTTP stack.
package serverstore

import (
	"context"
	"time"

	"github.com/ofb-go/pixauto/consent"
)

// The server's records. The Initiator's own data (consents, charges,
// attempts) stays in pixauto.Store; these are what the server adds around
// it: receivers, their API keys, webhook subscriptions and deliveries.
//
// Stores return pixauto.ErrNotFound and pixauto.ErrConflict (possibly
// wrapped), like pixauto.Store.

// Receiver is a receiver (recebedor) using the API: the creditor of its
// consents and the owner of everything created with its keys.
type Receiver struct {
	// ID is the receiver's id, the ReceiverID of its consents and charges.
	ID string
	// Name is the receiver's name (the consents' creditor name).
	Name string
	// CNPJ is the receiver's CNPJ (the consents' creditor).
	CNPJ string
	// Account is the receiver's account, credited by every charge.
	Account   consent.Account
	CreatedAt time.Time
}

// APIKey is a receiver's API key, kept hashed: the key itself is shown
// once, when it is created.
type APIKey struct {
	// ID is the key's public prefix ("pxa_" and 12 characters), the part
	// that finds it; the rest of the key is secret.
	ID         string
	ReceiverID string
	// Hash is the SHA-256 of the whole key.
	Hash      []byte
	CreatedAt time.Time
	// RevokedAt is when the key stopped working (zero: it works).
	RevokedAt time.Time
}

// Subscription is a receiver's webhook endpoint.
type Subscription struct {
	ID          string
	ReceiverID  string
	URL         string
	Description string
	// Secret is the signing secret, sealed by the server (the store never
	// sees it in clear).
	Secret    []byte
	CreatedAt time.Time
	// DeletedAt is when the subscription was deleted (zero: live).
	DeletedAt time.Time
}

// DeliveryStatus is where a webhook delivery stands.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "PENDING"   // an attempt is due at NextAttemptAt
	DeliveryDelivered DeliveryStatus = "DELIVERED" // the receiver answered 2xx
	DeliveryFailed    DeliveryStatus = "FAILED"    // every attempt failed
	DeliveryCancelled DeliveryStatus = "CANCELLED" // the subscription was deleted first
)

// Delivery is one event for one subscription: the body, stored before the
// first attempt, and where its attempts stand.
type Delivery struct {
	ID             string
	SubscriptionID string
	ReceiverID     string
	EventID        string
	EventType      string
	// Payload is the JSON body, the same on every attempt.
	Payload []byte
	Status  DeliveryStatus
	// Attempts is how many attempts were made.
	Attempts int
	// NextAttemptAt is when the next attempt is due (zero once final).
	NextAttemptAt time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// Version is incremented by every change; RecordAttempt requires the
	// version that was claimed.
	Version int64
}

// DeliveryAttempt is one POST of a delivery.
type DeliveryAttempt struct {
	DeliveryID string
	Seq        int // 1, 2, …
	At         time.Time
	// StatusCode is the receiver's answer (0: none came).
	StatusCode int
	// Error says why the attempt failed ("" if it succeeded).
	Error    string
	Duration time.Duration
}

// DeliveryFilter selects deliveries, in ID order.
type DeliveryFilter struct {
	SubscriptionID string // required
	Status         DeliveryStatus
	After          string // keyset cursor on ID
	Limit          int    // 0: no limit
}

// Store is the server's persistence, implemented in pixauto/store/sqlite
// and pixauto/store/postgres next to pixauto.Store, and exercised by the
// conformance suite in pixauto/server/servertest. Every method is safe for
// concurrent use, also from several processes on one database.
type Store interface {
	// Ping checks that the database answers.
	Ping(ctx context.Context) error

	// InsertReceiver stores a receiver; ErrConflict if its ID exists.
	InsertReceiver(ctx context.Context, r *Receiver) error
	// GetReceiver returns a receiver or ErrNotFound.
	GetReceiver(ctx context.Context, id string) (*Receiver, error)
	// ListReceivers returns every receiver, in ID order.
	ListReceivers(ctx context.Context) ([]*Receiver, error)

	// InsertAPIKey stores a key; ErrConflict if its ID exists, ErrNotFound
	// if its receiver does not.
	InsertAPIKey(ctx context.Context, k *APIKey) error
	// GetAPIKey returns a key (revoked or not) or ErrNotFound.
	GetAPIKey(ctx context.Context, id string) (*APIKey, error)
	// RevokeAPIKey sets a live key's RevokedAt; ErrNotFound if there is no
	// live key with that ID.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) error

	// InsertSubscription stores a subscription; ErrConflict if its ID
	// exists, ErrNotFound if its receiver does not.
	InsertSubscription(ctx context.Context, s *Subscription) error
	// GetSubscription returns a subscription, deleted or not, or
	// ErrNotFound.
	GetSubscription(ctx context.Context, id string) (*Subscription, error)
	// ListSubscriptions returns a receiver's live subscriptions, in ID
	// order.
	ListSubscriptions(ctx context.Context, receiverID string) ([]*Subscription, error)
	// DeleteSubscription marks a live subscription deleted at at and
	// cancels its pending deliveries, in one transaction; ErrNotFound if
	// there is no live subscription with that ID.
	DeleteSubscription(ctx context.Context, id string, at time.Time) error

	// InsertDeliveries stores deliveries, all or none; ErrConflict if an
	// ID exists or (SubscriptionID, EventID) repeats, ErrNotFound if a
	// subscription does not exist.
	InsertDeliveries(ctx context.Context, ds []*Delivery) error
	// ClaimDueDeliveries takes up to limit PENDING deliveries whose
	// NextAttemptAt is at or before now, oldest first, and moves their
	// NextAttemptAt to leaseUntil (and their Version on), so that no other
	// worker takes them until then; a worker that dies leaves them due
	// again at leaseUntil. It returns them as updated.
	ClaimDueDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*Delivery, error)
	// RecordAttempt stores an attempt and the delivery's new state (Status,
	// Attempts, NextAttemptAt, UpdatedAt) in one transaction, if d.Version
	// is the stored one (else ErrConflict, and nothing is stored); it
	// increments d.Version.
	RecordAttempt(ctx context.Context, d *Delivery, a *DeliveryAttempt) error
	// GetDelivery returns a delivery or ErrNotFound.
	GetDelivery(ctx context.Context, id string) (*Delivery, error)
	// ListDeliveries returns the deliveries matching f, in ID order.
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]*Delivery, error)
	// ListDeliveryAttempts returns a delivery's attempts in Seq order.
	ListDeliveryAttempts(ctx context.Context, deliveryID string) ([]*DeliveryAttempt, error)
}
