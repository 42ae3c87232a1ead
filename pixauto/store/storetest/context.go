package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/pixauto"
)

func exerciseContext(t *testing.T, newStore func(*testing.T) pixauto.Store) {
	t.Run("Cancelled", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		k := b.insertConsent(t, "k1")
		c, a := b.insertCharge(t, "k1", "ch1", "zero")
		require.NoError(t, b.store.PutAuthorization(b.ctx, newAuthorization("s")))
		require.NoError(t, b.store.PutSecret(b.ctx, "key", []byte("v")))

		ctx, cancel := context.WithCancel(b.ctx)
		cancel()
		c2 := newCharge("k1", "ch2", "2025-09-01")
		calls := map[string]func() error{
			"InsertConsent": func() error { return b.store.InsertConsent(ctx, newConsent("k2")) },
			"UpdateConsent": func() error { return b.store.UpdateConsent(ctx, k) },
			"GetConsent":    func() error { _, err := b.store.GetConsent(ctx, "k1"); return err },
			"ListConsents": func() error {
				return firstErr(adapt(b.store.ListConsents(ctx, pixauto.ConsentFilter{})))
			},
			"PutAuthorization":  func() error { return b.store.PutAuthorization(ctx, newAuthorization("s2")) },
			"TakeAuthorization": func() error { _, err := b.store.TakeAuthorization(ctx, "s"); return err },
			"PutSecret":         func() error { return b.store.PutSecret(ctx, "key", []byte("w")) },
			"GetSecret":         func() error { _, err := b.store.GetSecret(ctx, "key"); return err },
			"InsertCharge":      func() error { return b.store.InsertCharge(ctx, c2, newAttempt(c2, "ch2-0", 0)) },
			"InsertCharges": func() error {
				_, err := b.store.InsertCharges(ctx, []pixauto.ChargePlan{{Charge: c2, First: newAttempt(c2, "ch2-0", 0)}})
				return err
			},
			"DeleteExpiredAuthorizations": func() error {
				_, err := b.store.DeleteExpiredAuthorizations(ctx, t0.Add(time.Hour))
				return err
			},
			"UpdateCharge": func() error { return b.store.UpdateCharge(ctx, c) },
			"GetCharge":    func() error { _, err := b.store.GetCharge(ctx, "ch1"); return err },
			"ListCharges": func() error {
				return firstErr(adapt(b.store.ListCharges(ctx, pixauto.ChargeFilter{})))
			},
			"InsertAttempt":      func() error { return b.store.InsertAttempt(ctx, newAttempt(c, "ch1-1", 1)) },
			"UpdateAttempt":      func() error { return b.store.UpdateAttempt(ctx, a) },
			"GetAttempt":         func() error { _, err := b.store.GetAttempt(ctx, a.ID); return err },
			"AttemptByPaymentID": func() error { _, err := b.store.AttemptByPaymentID(ctx, "pay"); return err },
			"ListAttempts":       func() error { _, err := b.store.ListAttempts(ctx, "ch1"); return err },
			"DueAttempts":        func() error { _, err := b.store.DueAttempts(ctx, pixauto.AttemptFilter{}); return err },
		}
		for name, call := range calls {
			require.ErrorIs(t, call(), context.Canceled, name)
		}

		// Nothing was changed.
		_, err := b.store.TakeAuthorization(b.ctx, "s")
		require.NoError(t, err)
		got, err := b.store.GetSecret(b.ctx, "key")
		require.NoError(t, err)
		require.Equal(t, []byte("v"), got)
		_, err = b.store.GetCharge(b.ctx, "ch2")
		require.ErrorIs(t, err, pixauto.ErrNotFound)
		gotK, err := b.store.GetConsent(b.ctx, "k1")
		require.NoError(t, err)
		require.EqualValues(t, 1, gotK.Version)
	})
}

// firstErr returns the first error a list yields, or nil.
func firstErr(seq func(func(any, error) bool)) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}
