package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/pixauto"
)

func exerciseTime(t *testing.T, newStore func(*testing.T) pixauto.Store) {
	t.Run("UTCMicroseconds", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		brt := time.FixedZone("BRT", -3*60*60)
		c := newConsent("k1")
		c.NextCheckAt = t0.Add(789 * time.Nanosecond) // truncated
		c.CreatedAt = t0.In(brt)                      // same instant, in UTC
		c.UpdatedAt = time.Time{}.Add(time.Microsecond)
		require.NoError(t, b.store.InsertConsent(b.ctx, c))
		got, err := b.store.GetConsent(b.ctx, "k1")
		require.NoError(t, err)
		require.Equal(t, t0, got.NextCheckAt)
		require.Equal(t, t0, got.CreatedAt)
		require.Equal(t, time.UTC, got.CreatedAt.Location())
		require.Equal(t, time.Time{}.Add(time.Microsecond), got.UpdatedAt, "an instant near the zero time is not the zero time")
		require.False(t, got.UpdatedAt.IsZero())
	})

	t.Run("FarTimes", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		c := newConsent("k1")
		c.NextCheckAt = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
		c.CreatedAt = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
		c.UpdatedAt = time.Date(1969, 12, 31, 23, 59, 59, 1000, time.UTC)
		require.NoError(t, b.store.InsertConsent(b.ctx, c))
		got, err := b.store.GetConsent(b.ctx, "k1")
		require.NoError(t, err)
		require.Equal(t, c, got)
	})

	t.Run("Dates", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		for i, d := range []consent.Date{
			consent.MustDate("1900-01-01"), consent.MustDate("2024-02-29"), consent.MustDate("9999-12-31"),
		} {
			c := newCharge("k1", d.String(), d.String())
			c.DueDate = d
			a := newAttempt(c, d.String()+"-0", 0)
			a.Date = d
			require.NoError(t, b.store.InsertCharge(b.ctx, c, a), i)
			got, err := b.store.GetCharge(b.ctx, c.ID)
			require.NoError(t, err)
			require.Equal(t, d, got.DueDate)
			gotA, err := b.store.GetAttempt(b.ctx, a.ID)
			require.NoError(t, err)
			require.Equal(t, d, gotA.Date)
		}
	})
}
