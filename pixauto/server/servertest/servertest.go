// Package servertest is the conformance suite of server.Store: every
// implementation (pixauto/store/sqlite, pixauto/store/postgres) runs
// Exercise in its tests, so that the reference server behaves the same on
// both.
package servertest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/pixauto"
	"github.com/ofb-go/pixauto/pixauto/server"
)

// Open returns an empty store for one test; it is closed by the caller's
// cleanup.
type Open func(t *testing.T) server.Store

// T0 is the suite's base time, with a fraction finer than a microsecond so
// that truncation shows.
var T0 = time.Date(2026, 11, 23, 13, 0, 0, 123456789, time.UTC)

// at returns T0 plus d, truncated as the stores keep times.
func at(d time.Duration) time.Time { return T0.Add(d).Truncate(time.Microsecond) }

// Exercise runs every conformance test against stores made by open.
func Exercise(t *testing.T, open Open) {
	t.Run("Receivers", func(t *testing.T) { t.Parallel(); receivers(t, open(t)) })
	t.Run("APIKeys", func(t *testing.T) { t.Parallel(); apiKeys(t, open(t)) })
	t.Run("Subscriptions", func(t *testing.T) { t.Parallel(); subscriptions(t, open(t)) })
	t.Run("InsertDeliveries", func(t *testing.T) { t.Parallel(); insertDeliveries(t, open(t)) })
	t.Run("ClaimAndRecord", func(t *testing.T) { t.Parallel(); claimAndRecord(t, open(t)) })
	t.Run("ConcurrentClaims", func(t *testing.T) { t.Parallel(); concurrentClaims(t, open(t)) })
	t.Run("ListDeliveries", func(t *testing.T) { t.Parallel(); listDeliveries(t, open(t)) })
	t.Run("DeleteCancelsPending", func(t *testing.T) { t.Parallel(); deleteCancelsPending(t, open(t)) })
}

// Receiver returns a receiver fixture.
func Receiver(id string) *server.Receiver {
	return &server.Receiver{
		ID: id, Name: "Academia " + id, CNPJ: "11222333000181",
		Account:   consent.Account{ISPB: "87654321", Issuer: "0001", Number: "1234567890", AccountType: consent.AccountCACC},
		CreatedAt: T0,
	}
}

func receivers(t *testing.T, s server.Store) {
	ctx := t.Context()
	_, err := s.GetReceiver(ctx, "r1")
	require.ErrorIs(t, err, pixauto.ErrNotFound)
	require.NoError(t, s.InsertReceiver(ctx, Receiver("r2")))
	require.NoError(t, s.InsertReceiver(ctx, Receiver("r1")))
	require.ErrorIs(t, s.InsertReceiver(ctx, Receiver("r1")), pixauto.ErrConflict)

	got, err := s.GetReceiver(ctx, "r1")
	require.NoError(t, err)
	want := Receiver("r1")
	want.CreatedAt = at(0)
	assert.Equal(t, want, got)

	all, err := s.ListReceivers(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, []string{"r1", "r2"}, []string{all[0].ID, all[1].ID})
}

func apiKeys(t *testing.T, s server.Store) {
	ctx := t.Context()
	require.NoError(t, s.InsertReceiver(ctx, Receiver("r1")))
	k := &server.APIKey{ID: "pxa_abcdefghijkl", ReceiverID: "r1", Hash: []byte{1, 2, 3}, CreatedAt: T0}
	require.ErrorIs(t, s.InsertAPIKey(ctx, &server.APIKey{ID: "pxa_x", ReceiverID: "nobody", Hash: []byte{1}}), pixauto.ErrNotFound)
	require.NoError(t, s.InsertAPIKey(ctx, k))
	require.ErrorIs(t, s.InsertAPIKey(ctx, k), pixauto.ErrConflict)

	got, err := s.GetAPIKey(ctx, k.ID)
	require.NoError(t, err)
	assert.Equal(t, &server.APIKey{ID: k.ID, ReceiverID: "r1", Hash: []byte{1, 2, 3}, CreatedAt: at(0)}, got)
	_, err = s.GetAPIKey(ctx, "pxa_unknown")
	require.ErrorIs(t, err, pixauto.ErrNotFound)

	require.NoError(t, s.RevokeAPIKey(ctx, k.ID, T0.Add(time.Hour)))
	got, err = s.GetAPIKey(ctx, k.ID)
	require.NoError(t, err)
	assert.Equal(t, at(time.Hour), got.RevokedAt)
	require.ErrorIs(t, s.RevokeAPIKey(ctx, k.ID, T0.Add(2*time.Hour)), pixauto.ErrNotFound, "already revoked")
	require.ErrorIs(t, s.RevokeAPIKey(ctx, "pxa_unknown", T0), pixauto.ErrNotFound)
}

// Subscription returns a subscription fixture.
func Subscription(id, receiverID string) *server.Subscription {
	return &server.Subscription{ID: id, ReceiverID: receiverID, URL: "https://receiver.example/hooks/" + id, Description: "d " + id, Secret: []byte("sealed-" + id), CreatedAt: T0}
}

func subscriptions(t *testing.T, s server.Store) {
	ctx := t.Context()
	require.NoError(t, s.InsertReceiver(ctx, Receiver("r1")))
	require.NoError(t, s.InsertReceiver(ctx, Receiver("r2")))
	require.ErrorIs(t, s.InsertSubscription(ctx, Subscription("s0", "nobody")), pixauto.ErrNotFound)
	for _, sub := range []*server.Subscription{Subscription("s2", "r1"), Subscription("s1", "r1"), Subscription("s3", "r2")} {
		require.NoError(t, s.InsertSubscription(ctx, sub))
	}
	require.ErrorIs(t, s.InsertSubscription(ctx, Subscription("s1", "r1")), pixauto.ErrConflict)

	got, err := s.GetSubscription(ctx, "s1")
	require.NoError(t, err)
	want := Subscription("s1", "r1")
	want.CreatedAt = at(0)
	assert.Equal(t, want, got)

	list, err := s.ListSubscriptions(ctx, "r1")
	require.NoError(t, err)
	assert.Equal(t, []string{"s1", "s2"}, subIDs(list), "only r1's, in ID order")

	require.NoError(t, s.DeleteSubscription(ctx, "s1", T0.Add(time.Minute)))
	require.ErrorIs(t, s.DeleteSubscription(ctx, "s1", T0.Add(2*time.Minute)), pixauto.ErrNotFound, "already deleted")
	require.ErrorIs(t, s.DeleteSubscription(ctx, "nope", T0), pixauto.ErrNotFound)
	list, err = s.ListSubscriptions(ctx, "r1")
	require.NoError(t, err)
	assert.Equal(t, []string{"s2"}, subIDs(list), "deleted subscriptions are not listed")
	got, err = s.GetSubscription(ctx, "s1")
	require.NoError(t, err, "a deleted subscription can still be read")
	assert.Equal(t, at(time.Minute), got.DeletedAt)
}

func subIDs(subs []*server.Subscription) []string {
	out := []string{}
	for _, s := range subs {
		out = append(out, s.ID)
	}
	return out
}

// Delivery returns a pending delivery fixture due at T0+due.
func Delivery(id, subscriptionID, eventID string, due time.Duration) *server.Delivery {
	return &server.Delivery{
		ID: id, SubscriptionID: subscriptionID, ReceiverID: "r1", EventID: eventID, EventType: "charge.settled",
		Payload: []byte(`{"id":"` + eventID + `"}`), Status: server.DeliveryPending,
		NextAttemptAt: T0.Add(due), CreatedAt: T0.Add(due), UpdatedAt: T0.Add(due),
	}
}

func setUpSubscription(t *testing.T, s server.Store, ids ...string) {
	t.Helper()
	ctx := t.Context()
	require.NoError(t, s.InsertReceiver(ctx, Receiver("r1")))
	for _, id := range ids {
		require.NoError(t, s.InsertSubscription(ctx, Subscription(id, "r1")))
	}
}

func insertDeliveries(t *testing.T, s server.Store) {
	ctx := t.Context()
	setUpSubscription(t, s, "s1", "s2")
	require.NoError(t, s.InsertDeliveries(ctx, []*server.Delivery{Delivery("d1", "s1", "e1", 0), Delivery("d2", "s2", "e1", 0)}))
	require.NoError(t, s.InsertDeliveries(ctx, nil))

	// A batch with one bad delivery stores nothing.
	err := s.InsertDeliveries(ctx, []*server.Delivery{Delivery("d3", "s1", "e2", 0), Delivery("d4", "s1", "e1", 0)})
	require.ErrorIs(t, err, pixauto.ErrConflict, "(subscription, event) repeats")
	_, err = s.GetDelivery(ctx, "d3")
	require.ErrorIs(t, err, pixauto.ErrNotFound, "all or none")
	require.ErrorIs(t, s.InsertDeliveries(ctx, []*server.Delivery{Delivery("d1", "s2", "e9", 0)}), pixauto.ErrConflict, "ID exists")
	require.ErrorIs(t, s.InsertDeliveries(ctx, []*server.Delivery{Delivery("d5", "nope", "e9", 0)}), pixauto.ErrNotFound)

	got, err := s.GetDelivery(ctx, "d1")
	require.NoError(t, err)
	want := Delivery("d1", "s1", "e1", 0)
	want.NextAttemptAt, want.CreatedAt, want.UpdatedAt = at(0), at(0), at(0)
	assert.Equal(t, want, got)
}

func claimAndRecord(t *testing.T, s server.Store) {
	ctx := t.Context()
	setUpSubscription(t, s, "s1")
	require.NoError(t, s.InsertDeliveries(ctx, []*server.Delivery{
		Delivery("d1", "s1", "e1", 0), Delivery("d2", "s1", "e2", time.Second), Delivery("d3", "s1", "e3", time.Hour),
	}))
	claimed, err := s.ClaimDueDeliveries(ctx, T0.Add(time.Minute), T0.Add(2*time.Minute), 10)
	require.NoError(t, err)
	require.Equal(t, []string{"d1", "d2"}, deliveryIDs(claimed), "due ones, oldest first; d3 is not due")
	assert.Equal(t, at(2*time.Minute), claimed[0].NextAttemptAt, "leased")

	again, err := s.ClaimDueDeliveries(ctx, T0.Add(time.Minute), T0.Add(3*time.Minute), 10)
	require.NoError(t, err)
	assert.Empty(t, again, "leased deliveries are not claimed twice")
	limited, err := s.ClaimDueDeliveries(ctx, T0.Add(2*time.Minute), T0.Add(3*time.Minute), 1)
	require.NoError(t, err)
	assert.Equal(t, []string{"d1"}, deliveryIDs(limited), "a lease that ran out makes it due again; limit applies")
	none, err := s.ClaimDueDeliveries(ctx, T0.Add(time.Minute), T0.Add(3*time.Minute), 0)
	require.NoError(t, err)
	assert.Empty(t, none)

	// d1 was claimed twice: the first claim's version is stale.
	stale := claimed[0]
	stale.Status, stale.Attempts, stale.NextAttemptAt, stale.UpdatedAt = server.DeliveryDelivered, 1, time.Time{}, T0.Add(time.Minute)
	err = s.RecordAttempt(ctx, stale, &server.DeliveryAttempt{DeliveryID: "d1", Seq: 1, At: T0.Add(time.Minute), StatusCode: 200})
	require.ErrorIs(t, err, pixauto.ErrConflict)
	attempts, err := s.ListDeliveryAttempts(ctx, "d1")
	require.NoError(t, err)
	assert.Empty(t, attempts, "a stale record stores nothing")

	d := limited[0]
	d.Status, d.Attempts, d.NextAttemptAt, d.UpdatedAt = server.DeliveryPending, 1, T0.Add(time.Hour), T0.Add(2*time.Minute)
	v := d.Version
	require.NoError(t, s.RecordAttempt(ctx, d, &server.DeliveryAttempt{
		DeliveryID: "d1", Seq: 1, At: T0.Add(2 * time.Minute), StatusCode: 503, Error: "HTTP 503", Duration: 1500 * time.Microsecond,
	}))
	assert.Equal(t, v+1, d.Version)
	d.Status, d.Attempts, d.NextAttemptAt = server.DeliveryDelivered, 2, time.Time{}
	require.NoError(t, s.RecordAttempt(ctx, d, &server.DeliveryAttempt{DeliveryID: "d1", Seq: 2, At: T0.Add(time.Hour), StatusCode: 204}))

	got, err := s.GetDelivery(ctx, "d1")
	require.NoError(t, err)
	assert.Equal(t, server.DeliveryDelivered, got.Status)
	assert.Equal(t, 2, got.Attempts)
	assert.True(t, got.NextAttemptAt.IsZero())
	assert.Equal(t, d.Version, got.Version)
	attempts, err = s.ListDeliveryAttempts(ctx, "d1")
	require.NoError(t, err)
	require.Len(t, attempts, 2)
	assert.Equal(t, &server.DeliveryAttempt{DeliveryID: "d1", Seq: 1, At: at(2 * time.Minute), StatusCode: 503, Error: "HTTP 503", Duration: 1500 * time.Microsecond}, attempts[0])
	assert.Equal(t, 204, attempts[1].StatusCode)
	require.ErrorIs(t, s.RecordAttempt(ctx, &server.Delivery{ID: "nope", Status: server.DeliveryFailed}, &server.DeliveryAttempt{DeliveryID: "nope", Seq: 1}), pixauto.ErrNotFound)

	final, err := s.ClaimDueDeliveries(ctx, T0.Add(48*time.Hour), T0.Add(49*time.Hour), 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"d2", "d3"}, deliveryIDs(final), "a delivered delivery is never claimed")
}

func deliveryIDs(ds []*server.Delivery) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

// Concurrent claimers share the due deliveries without overlap.
func concurrentClaims(t *testing.T, s server.Store) {
	ctx := t.Context()
	setUpSubscription(t, s, "s1")
	var ds []*server.Delivery
	for i := range 40 {
		ds = append(ds, Delivery(fmt.Sprintf("d%02d", i), "s1", fmt.Sprintf("e%02d", i), 0))
	}
	require.NoError(t, s.InsertDeliveries(ctx, ds))
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for {
				got, err := s.ClaimDueDeliveries(context.Background(), T0.Add(time.Minute), T0.Add(time.Hour), 3)
				if !assert.NoError(t, err) || len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Len(t, seen, 40)
	for id, n := range seen {
		assert.Equal(t, 1, n, "%s claimed %d times", id, n)
	}
}

func listDeliveries(t *testing.T, s server.Store) {
	ctx := t.Context()
	setUpSubscription(t, s, "s1", "s2")
	require.NoError(t, s.InsertDeliveries(ctx, []*server.Delivery{
		Delivery("d3", "s1", "e3", 0), Delivery("d1", "s1", "e1", 0), Delivery("d2", "s1", "e2", 0), Delivery("d9", "s2", "e1", 0),
	}))
	claimed, err := s.ClaimDueDeliveries(ctx, T0, T0.Add(time.Minute), 10)
	require.NoError(t, err)
	for _, d := range claimed {
		if d.ID == "d2" {
			d.Status, d.Attempts, d.NextAttemptAt = server.DeliveryFailed, 1, time.Time{}
			require.NoError(t, s.RecordAttempt(ctx, d, &server.DeliveryAttempt{DeliveryID: d.ID, Seq: 1, At: T0}))
		}
	}
	all, err := s.ListDeliveries(ctx, server.DeliveryFilter{SubscriptionID: "s1"})
	require.NoError(t, err)
	assert.Equal(t, []string{"d1", "d2", "d3"}, deliveryIDs(all))
	page, err := s.ListDeliveries(ctx, server.DeliveryFilter{SubscriptionID: "s1", After: "d1", Limit: 1})
	require.NoError(t, err)
	assert.Equal(t, []string{"d2"}, deliveryIDs(page))
	failed, err := s.ListDeliveries(ctx, server.DeliveryFilter{SubscriptionID: "s1", Status: server.DeliveryFailed})
	require.NoError(t, err)
	assert.Equal(t, []string{"d2"}, deliveryIDs(failed))
	empty, err := s.ListDeliveries(ctx, server.DeliveryFilter{SubscriptionID: "nope"})
	require.NoError(t, err)
	assert.Empty(t, empty)
	attempts, err := s.ListDeliveryAttempts(ctx, "d1")
	require.NoError(t, err)
	assert.Empty(t, attempts)
}

func deleteCancelsPending(t *testing.T, s server.Store) {
	ctx := t.Context()
	setUpSubscription(t, s, "s1", "s2")
	require.NoError(t, s.InsertDeliveries(ctx, []*server.Delivery{Delivery("d1", "s1", "e1", 0), Delivery("d2", "s1", "e2", 0), Delivery("d3", "s2", "e1", 0)}))
	claimed, err := s.ClaimDueDeliveries(ctx, T0, T0.Add(time.Minute), 1)
	require.NoError(t, err)
	require.Equal(t, []string{"d1"}, deliveryIDs(claimed))
	d := claimed[0]
	d.Status, d.Attempts, d.NextAttemptAt = server.DeliveryDelivered, 1, time.Time{}
	require.NoError(t, s.RecordAttempt(ctx, d, &server.DeliveryAttempt{DeliveryID: "d1", Seq: 1, At: T0, StatusCode: 200}))

	require.NoError(t, s.DeleteSubscription(ctx, "s1", T0.Add(time.Minute)))
	got, err := s.GetDelivery(ctx, "d2")
	require.NoError(t, err)
	assert.Equal(t, server.DeliveryCancelled, got.Status)
	assert.True(t, got.NextAttemptAt.IsZero())
	got, err = s.GetDelivery(ctx, "d1")
	require.NoError(t, err)
	assert.Equal(t, server.DeliveryDelivered, got.Status, "a final delivery keeps its status")
	rest, err := s.ClaimDueDeliveries(ctx, T0.Add(time.Hour), T0.Add(2*time.Hour), 10)
	require.NoError(t, err)
	assert.Equal(t, []string{"d3"}, deliveryIDs(rest), "only the live subscription's delivery is still due")
}
