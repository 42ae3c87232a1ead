package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/pixauto"
)

func newAuthorization(state string) *pixauto.AuthorizationRecord {
	return &pixauto.AuthorizationRecord{
		State:     state,
		ConsentID: "c1",
		HolderID:  "holder-1",
		Sealed:    []byte{0x00, 0xff, 0x10, 'x', 0x00},
		ExpiresAt: t0.Add(10 * time.Minute),
		CreatedAt: t0,
	}
}

func exerciseAuthorizations(t *testing.T, newStore func(*testing.T) pixauto.Store) {
	t.Run("PutTake", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		want := newAuthorization("state-1")
		require.NoError(t, b.store.PutAuthorization(b.ctx, want))
		require.NoError(t, b.store.PutAuthorization(b.ctx, newAuthorization("state-2")))
		got, err := b.store.TakeAuthorization(b.ctx, "state-1")
		require.NoError(t, err)
		require.Equal(t, want, got)

		_, err = b.store.TakeAuthorization(b.ctx, "state-1")
		require.ErrorIs(t, err, pixauto.ErrNotFound, "an authorization is taken once")
		_, err = b.store.TakeAuthorization(b.ctx, "state-2")
		require.NoError(t, err, "taking one must leave the others")
	})

	t.Run("Zero", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		require.NoError(t, b.store.PutAuthorization(b.ctx, &pixauto.AuthorizationRecord{State: "s", Sealed: []byte("x")}))
		got, err := b.store.TakeAuthorization(b.ctx, "s")
		require.NoError(t, err)
		require.Equal(t, &pixauto.AuthorizationRecord{State: "s", Sealed: []byte("x")}, got)
	})

	t.Run("ExpiredIsStillReturned", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		a := newAuthorization("s")
		a.ExpiresAt = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		require.NoError(t, b.store.PutAuthorization(b.ctx, a))
		got, err := b.store.TakeAuthorization(b.ctx, "s")
		require.NoError(t, err, "expiry is the Initiator's to check, with its own clock")
		require.Equal(t, a, got)
	})

	t.Run("PutDuplicate", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		require.NoError(t, b.store.PutAuthorization(b.ctx, newAuthorization("s")))
		other := newAuthorization("s")
		other.ConsentID = "c2"
		require.ErrorIs(t, b.store.PutAuthorization(b.ctx, other), pixauto.ErrConflict)
		got, err := b.store.TakeAuthorization(b.ctx, "s")
		require.NoError(t, err)
		require.Equal(t, "c1", got.ConsentID)
	})

	t.Run("TakeNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		_, err := b.store.TakeAuthorization(b.ctx, "missing")
		require.ErrorIs(t, err, pixauto.ErrNotFound)
	})

	t.Run("TakeConcurrent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		for round := range 3 {
			state := "state-" + string(rune('a'+round))
			require.NoError(t, b.store.PutAuthorization(b.ctx, newAuthorization(state)))
			taken := make([]*pixauto.AuthorizationRecord, racers)
			errs := race(racers, func(i int) error {
				a, err := b.store.TakeAuthorization(b.ctx, state)
				taken[i] = a
				return err
			})
			requireOneWinner(t, errs, pixauto.ErrNotFound)
			n := 0
			for _, a := range taken {
				if a != nil {
					n++
					require.Equal(t, newAuthorization(state), a)
				}
			}
			require.Equal(t, 1, n)
		}
	})
}

func exerciseSecrets(t *testing.T, newStore func(*testing.T) pixauto.Store) {
	t.Run("PutGetReplace", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		require.NoError(t, b.store.PutSecret(b.ctx, "refresh:c1", []byte{0x00, 0x01, 0xfe}))
		require.NoError(t, b.store.PutSecret(b.ctx, "refresh:c2", []byte("other")))
		got, err := b.store.GetSecret(b.ctx, "refresh:c1")
		require.NoError(t, err)
		require.Equal(t, []byte{0x00, 0x01, 0xfe}, got)

		require.NoError(t, b.store.PutSecret(b.ctx, "refresh:c1", []byte("rotated")))
		got, err = b.store.GetSecret(b.ctx, "refresh:c1")
		require.NoError(t, err)
		require.Equal(t, []byte("rotated"), got)
		got, err = b.store.GetSecret(b.ctx, "refresh:c2")
		require.NoError(t, err)
		require.Equal(t, []byte("other"), got)
	})

	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		require.NoError(t, b.store.PutSecret(b.ctx, "k", nil))
		got, err := b.store.GetSecret(b.ctx, "k")
		require.NoError(t, err, "an empty secret is stored, not missing")
		require.Empty(t, got)
	})

	t.Run("GetNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		_, err := b.store.GetSecret(b.ctx, "missing")
		require.ErrorIs(t, err, pixauto.ErrNotFound)
	})

	t.Run("PutConcurrent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		errs := race(racers, func(int) error { return b.store.PutSecret(b.ctx, "k", []byte("v")) })
		for _, err := range errs {
			require.NoError(t, err, "replacing a secret is never a conflict")
		}
		got, err := b.store.GetSecret(b.ctx, "k")
		require.NoError(t, err)
		require.Equal(t, []byte("v"), got)
	})
}

func exerciseExpiredAuthorizations(t *testing.T, newStore func(*testing.T) pixauto.Store) {
	put := func(t *testing.T, b *bundle, state string, expires time.Time) {
		t.Helper()
		a := newAuthorization(state)
		a.ExpiresAt = expires
		require.NoError(t, b.store.PutAuthorization(b.ctx, a))
	}
	// left returns which of states can still be taken.
	left := func(t *testing.T, b *bundle, states ...string) []string {
		t.Helper()
		out := []string{}
		for _, s := range states {
			_, err := b.store.TakeAuthorization(b.ctx, s)
			if err == nil {
				out = append(out, s)
				continue
			}
			require.ErrorIs(t, err, pixauto.ErrNotFound)
		}
		return out
	}

	t.Run("Before", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		put(t, b, "old", t0.Add(-time.Hour))
		put(t, b, "just-before", t0.Add(-time.Microsecond))
		put(t, b, "at", t0)
		put(t, b, "after", t0.Add(time.Microsecond))
		put(t, b, "zero", time.Time{}) // expired, as Enrol sees it
		n, err := b.store.DeleteExpiredAuthorizations(b.ctx, t0)
		require.NoError(t, err)
		require.Equal(t, 3, n)
		n, err = b.store.DeleteExpiredAuthorizations(b.ctx, t0)
		require.NoError(t, err)
		require.Zero(t, n, "nothing left to delete")
		require.Equal(t, []string{"at", "after"}, left(t, b, "old", "just-before", "at", "after", "zero"))
	})

	t.Run("SubMicrosecond", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		put(t, b, "s", t0)
		n, err := b.store.DeleteExpiredAuthorizations(b.ctx, t0.Add(time.Nanosecond))
		require.NoError(t, err)
		require.Equal(t, 1, n, "t0 is before t0+1ns, though stores keep microseconds")
	})

	t.Run("OtherZone", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		put(t, b, "s", t0)
		brt := time.FixedZone("BRT", -3*60*60)
		n, err := b.store.DeleteExpiredAuthorizations(b.ctx, t0.In(brt))
		require.NoError(t, err)
		require.Zero(t, n, "the same instant in another zone is not later")
		n, err = b.store.DeleteExpiredAuthorizations(b.ctx, t0.Add(time.Microsecond).In(brt))
		require.NoError(t, err)
		require.Equal(t, 1, n)
	})

	t.Run("ZeroBefore", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		put(t, b, "zero", time.Time{})
		put(t, b, "far", time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC))
		n, err := b.store.DeleteExpiredAuthorizations(b.ctx, time.Time{})
		require.NoError(t, err)
		require.Zero(t, n, "nothing is before the zero time")
		require.Equal(t, []string{"zero", "far"}, left(t, b, "zero", "far"))
	})

	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		n, err := b.store.DeleteExpiredAuthorizations(b.ctx, t0)
		require.NoError(t, err)
		require.Zero(t, n)
	})
}
