package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/pixauto"
)

func exerciseConsents(t *testing.T, newStore func(*testing.T) pixauto.Store) {
	t.Run("InsertGet", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		want := newConsent("urn:bank:consent-1")
		require.NoError(t, b.store.InsertConsent(b.ctx, want))
		got, err := b.store.GetConsent(b.ctx, want.ID)
		require.NoError(t, err)
		require.Equal(t, want, got)
		require.Equal(t, fullConsent(want.ID), got.Consent, "the input must not have been changed")
	})

	t.Run("InsertGetOtherKind", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		want := newConsent("c1")
		want.Consent = otherConsent("c1")
		require.NoError(t, b.store.InsertConsent(b.ctx, want))
		got, err := b.store.GetConsent(b.ctx, want.ID)
		require.NoError(t, err)
		require.Equal(t, want, got)
		require.JSONEq(t, `{"z":1,"a":[true,null,"x"]}`, string(got.Consent.RecurringConfiguration.Vrp))
		require.Equal(t, string(want.Consent.RecurringConfiguration.Sweeping), string(got.Consent.RecurringConfiguration.Sweeping))
	})

	t.Run("InsertGetZero", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		want := &pixauto.ConsentRecord{ID: "c1"}
		require.NoError(t, b.store.InsertConsent(b.ctx, want))
		got, err := b.store.GetConsent(b.ctx, "c1")
		require.NoError(t, err)
		require.Equal(t, want, got)
		require.Nil(t, got.Consent)
		require.True(t, got.NextCheckAt.IsZero())
	})

	t.Run("InsertUnencodable", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		c := newConsent("c1")
		c.Consent = &consent.Consent{} // zero date-times have no wire form
		err := b.store.InsertConsent(b.ctx, c)
		require.ErrorIs(t, err, consent.ErrInvalidValue)
		_, err = b.store.GetConsent(b.ctx, "c1")
		require.ErrorIs(t, err, pixauto.ErrNotFound)
	})

	t.Run("InsertDuplicate", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "c1")
		dup := newConsent("c1")
		dup.ReceiverID = "receiver-2"
		require.ErrorIs(t, b.store.InsertConsent(b.ctx, dup), pixauto.ErrConflict)
		got, err := b.store.GetConsent(b.ctx, "c1")
		require.NoError(t, err)
		require.Equal(t, "receiver-1", got.ReceiverID)
	})

	t.Run("GetNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		_, err := b.store.GetConsent(b.ctx, "missing")
		require.ErrorIs(t, err, pixauto.ErrNotFound)
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		c := b.insertConsent(t, "c1")
		c.ReceiverID = "receiver-2"
		c.HolderID = "holder-2"
		c.Status = consent.StatusRevoked
		c.Consent = otherConsent("c1")
		c.IdempotencyKey = "idem-2"
		c.NextCheckAt = t0.Add(2 * time.Hour)
		c.CreatedAt = t0.Add(-time.Hour)
		c.UpdatedAt = t0.Add(3 * time.Hour)
		require.NoError(t, b.store.UpdateConsent(b.ctx, c))
		require.EqualValues(t, 2, c.Version)
		got, err := b.store.GetConsent(b.ctx, "c1")
		require.NoError(t, err)
		require.Equal(t, c, got)

		// Back to zero values.
		c.Consent, c.NextCheckAt, c.CreatedAt, c.UpdatedAt = nil, time.Time{}, time.Time{}, time.Time{}
		require.NoError(t, b.store.UpdateConsent(b.ctx, c))
		require.EqualValues(t, 3, c.Version)
		got, err = b.store.GetConsent(b.ctx, "c1")
		require.NoError(t, err)
		require.Equal(t, c, got)
	})

	t.Run("UpdateStale", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "c1")
		first, err := b.store.GetConsent(b.ctx, "c1")
		require.NoError(t, err)
		second, err := b.store.GetConsent(b.ctx, "c1")
		require.NoError(t, err)

		first.Status = consent.StatusRevoked
		require.NoError(t, b.store.UpdateConsent(b.ctx, first))
		second.Status = consent.StatusConsumed
		require.ErrorIs(t, b.store.UpdateConsent(b.ctx, second), pixauto.ErrConflict)
		require.EqualValues(t, 1, second.Version, "a failed update must not change Version")

		got, err := b.store.GetConsent(b.ctx, "c1")
		require.NoError(t, err)
		require.Equal(t, consent.StatusRevoked, got.Status)
		require.EqualValues(t, 2, got.Version)
	})

	t.Run("UpdateNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		c := newConsent("missing")
		require.ErrorIs(t, b.store.UpdateConsent(b.ctx, c), pixauto.ErrNotFound)
		require.EqualValues(t, 1, c.Version)
	})

	t.Run("UpdateConcurrent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "c1")
		for round := range 3 {
			read, err := b.store.GetConsent(b.ctx, "c1")
			require.NoError(t, err)
			errs := race(racers, func(int) error {
				c := *read
				return b.store.UpdateConsent(b.ctx, &c)
			})
			requireOneWinner(t, errs, pixauto.ErrConflict)
			got, err := b.store.GetConsent(b.ctx, "c1")
			require.NoError(t, err)
			require.EqualValues(t, 2+round, got.Version)
		}
	})

	t.Run("List", func(t *testing.T) { t.Parallel(); exerciseListConsents(t, newStore) })
}

func exerciseListConsents(t *testing.T, newStore func(*testing.T) pixauto.Store) {
	// IDs whose byte order differs from most collations' order.
	setupList := func(t *testing.T) *bundle {
		t.Helper()
		b := setup(t, newStore)
		for _, c := range []*pixauto.ConsentRecord{
			{ID: "b", ReceiverID: "r1", HolderID: "h1", Status: consent.StatusAuthorised, NextCheckAt: t0},
			{ID: "a-2", ReceiverID: "r1", HolderID: "h2", Status: consent.StatusAwaitingAuthorisation, NextCheckAt: t0.Add(-time.Microsecond)},
			{ID: "B", ReceiverID: "r2", HolderID: "h1", Status: consent.StatusRevoked},
			{ID: "a_1", ReceiverID: "r2", HolderID: "h2", Status: consent.StatusAuthorised, NextCheckAt: t0.Add(time.Hour)},
			{ID: "A", ReceiverID: "r1", HolderID: "h1", Status: consent.StatusConsumed, NextCheckAt: t0.Add(-time.Hour)},
		} {
			require.NoError(t, b.store.InsertConsent(b.ctx, c))
		}
		return b
	}

	for name, tc := range map[string]struct {
		f    pixauto.ConsentFilter
		want []string
	}{
		"All":            {pixauto.ConsentFilter{}, []string{"A", "B", "a-2", "a_1", "b"}},
		"ReceiverID":     {pixauto.ConsentFilter{ReceiverID: "r1"}, []string{"A", "a-2", "b"}},
		"HolderID":       {pixauto.ConsentFilter{HolderID: "h2"}, []string{"a-2", "a_1"}},
		"Statuses":       {pixauto.ConsentFilter{Statuses: []consent.Status{consent.StatusAuthorised, consent.StatusRevoked}}, []string{"B", "a_1", "b"}},
		"OneStatus":      {pixauto.ConsentFilter{Statuses: []consent.Status{consent.StatusConsumed}}, []string{"A"}},
		"CheckDueBefore": {pixauto.ConsentFilter{CheckDueBefore: t0}, []string{"A", "a-2"}}, // strict; unset excluded
		"After":          {pixauto.ConsentFilter{After: "B"}, []string{"a-2", "a_1", "b"}},
		"Limit":          {pixauto.ConsentFilter{Limit: 2}, []string{"A", "B"}},
		"Combined":       {pixauto.ConsentFilter{ReceiverID: "r1", HolderID: "h1", After: "A"}, []string{"b"}},
		"NoMatch":        {pixauto.ConsentFilter{ReceiverID: "r3"}, []string{}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setupList(t)
			require.Equal(t, tc.want, consentIDs(t, b, tc.f))
		})
	}

	t.Run("Records", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		want := b.insertConsent(t, "c1")
		var got []*pixauto.ConsentRecord
		for c, err := range b.store.ListConsents(b.ctx, pixauto.ConsentFilter{}) {
			require.NoError(t, err)
			got = append(got, c)
		}
		require.Equal(t, []*pixauto.ConsentRecord{want}, got)
	})

	t.Run("KeysetPaging", func(t *testing.T) {
		t.Parallel()
		b := setupList(t)
		var all []string
		f := pixauto.ConsentFilter{ReceiverID: "r1", Limit: 2}
		for range 10 {
			page := consentIDs(t, b, f)
			all = append(all, page...)
			if len(page) < f.Limit {
				break
			}
			f.After = page[len(page)-1]
		}
		require.Equal(t, []string{"A", "a-2", "b"}, all)
	})
}
