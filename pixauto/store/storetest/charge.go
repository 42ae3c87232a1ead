package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ofb-go/pixauto/consent"
	"github.com/ofb-go/pixauto/payments"
	"github.com/ofb-go/pixauto/pixauto"
)

func exerciseCharges(t *testing.T, newStore func(*testing.T) pixauto.Store) {
	t.Run("InsertGet", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		c := newCharge("k1", "ch1", "2025-08-01")
		c.ExternalID = "NF-0001"
		c.Amount = consent.MaxAmount
		a := newAttempt(c, "at1", 0)
		require.NoError(t, b.store.InsertCharge(b.ctx, c, a))

		got, err := b.store.GetCharge(b.ctx, "ch1")
		require.NoError(t, err)
		require.Equal(t, c, got)
		gotA, err := b.store.GetAttempt(b.ctx, "at1")
		require.NoError(t, err)
		require.Equal(t, a, gotA)
	})

	t.Run("InsertGetZero", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		c := &pixauto.ChargeRecord{ID: "ch1", ConsentID: "k1", Reference: "zero"}
		a := &pixauto.AttemptRecord{ID: "at1", ChargeID: "ch1", ConsentID: "k1", EndToEndID: "e1", IdempotencyKey: "i1"}
		require.NoError(t, b.store.InsertCharge(b.ctx, c, a))
		got, err := b.store.GetCharge(b.ctx, "ch1")
		require.NoError(t, err)
		require.Equal(t, c, got)
		gotA, err := b.store.GetAttempt(b.ctx, "at1")
		require.NoError(t, err)
		require.Equal(t, a, gotA)
		require.Nil(t, gotA.Request)
	})

	t.Run("GetNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		_, err := b.store.GetCharge(b.ctx, "missing")
		require.ErrorIs(t, err, pixauto.ErrNotFound)
	})

	t.Run("InsertDuplicateID", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		b.insertCharge(t, "k1", "ch1", "2025-08-01")
		c := newCharge("k1", "ch1", "2025-09-01")
		require.ErrorIs(t, b.store.InsertCharge(b.ctx, c, newAttempt(c, "other", 0)), pixauto.ErrConflict)
		_, err := b.store.GetAttempt(b.ctx, "other")
		require.ErrorIs(t, err, pixauto.ErrNotFound)
	})

	t.Run("InsertUnknownConsent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		c := newCharge("missing", "ch1", "zero")
		require.ErrorIs(t, b.store.InsertCharge(b.ctx, c, newAttempt(c, "at1", 0)), pixauto.ErrNotFound)
		_, err := b.store.GetCharge(b.ctx, "ch1")
		require.ErrorIs(t, err, pixauto.ErrNotFound)
	})

	t.Run("InsertForeignFirstAttempt", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		b.insertConsent(t, "k2")
		c := newCharge("k1", "ch1", "zero")
		for name, a := range map[string]*pixauto.AttemptRecord{
			"Nil":          nil,
			"OtherCharge":  newAttempt(newCharge("k1", "ch2", "zero"), "at1", 0),
			"OtherConsent": newAttempt(newCharge("k2", "ch1", "zero"), "at1", 0),
		} {
			require.Error(t, b.store.InsertCharge(b.ctx, c, a), name)
		}
		_, err := b.store.GetCharge(b.ctx, "ch1")
		require.ErrorIs(t, err, pixauto.ErrNotFound)
	})

	t.Run("LiveChargePerCycle", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			status pixauto.ChargeStatus
			live   bool
		}{
			{pixauto.ChargePlanned, true},
			{pixauto.ChargeScheduled, true},
			{pixauto.ChargeRetrying, true},
			{pixauto.ChargeSettled, true},
			{pixauto.ChargeFailed, false},
			{pixauto.ChargeCancelled, false},
		} {
			t.Run(string(tc.status), func(t *testing.T) {
				t.Parallel()
				b := setup(t, newStore)
				b.insertConsent(t, "k1")
				first := newCharge("k1", "ch1", "2025-08-01")
				first.Status = tc.status
				require.NoError(t, b.store.InsertCharge(b.ctx, first, newAttempt(first, "at1", 0)))

				second := newCharge("k1", "ch2", "2025-08-01")
				err := b.store.InsertCharge(b.ctx, second, newAttempt(second, "at2", 0))
				if !tc.live {
					require.NoError(t, err, "a %s charge does not hold its cycle", tc.status)
					return
				}
				require.ErrorIs(t, err, pixauto.ErrConflict, "a %s charge holds its cycle", tc.status)
				_, err = b.store.GetCharge(b.ctx, "ch2")
				require.ErrorIs(t, err, pixauto.ErrNotFound)
				_, err = b.store.GetAttempt(b.ctx, "at2")
				require.ErrorIs(t, err, pixauto.ErrNotFound)
			})
		}
	})

	t.Run("LiveChargeOtherCycleOrConsent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		b.insertConsent(t, "k2")
		b.insertCharge(t, "k1", "ch1", "zero")
		b.insertCharge(t, "k1", "ch2", "2025-08-01")
		b.insertCharge(t, "k2", "ch3", "2025-08-01")
		b.insertCharge(t, "k2", "ch4", "zero")
	})

	t.Run("LiveChargeAfterFailure", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		c1, _ := b.insertCharge(t, "k1", "ch1", "2025-08-01")
		c1.Status = pixauto.ChargeFailed
		require.NoError(t, b.store.UpdateCharge(b.ctx, c1))
		b.insertCharge(t, "k1", "ch2", "2025-08-01") // the cycle is free again
		c2, err := b.store.GetCharge(b.ctx, "ch2")
		require.NoError(t, err)
		c2.Status = pixauto.ChargeCancelled
		require.NoError(t, b.store.UpdateCharge(b.ctx, c2))
		b.insertCharge(t, "k1", "ch3", "2025-08-01")

		// Reviving a failed charge while another is live breaks the rule.
		c1.Status = pixauto.ChargeRetrying
		require.ErrorIs(t, b.store.UpdateCharge(b.ctx, c1), pixauto.ErrConflict)
		got, err := b.store.GetCharge(b.ctx, "ch1")
		require.NoError(t, err)
		require.Equal(t, pixauto.ChargeFailed, got.Status)
	})

	t.Run("LiveChargeConcurrent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		errs := race(racers, func(i int) error {
			c := newCharge("k1", "ch"+string(rune('a'+i)), "2025-08-01")
			return b.store.InsertCharge(b.ctx, c, newAttempt(c, c.ID+"-0", 0))
		})
		requireOneWinner(t, errs, pixauto.ErrConflict)
		require.Len(t, chargeIDs(t, b, pixauto.ChargeFilter{}), 1)
	})

	t.Run("ExternalID", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		insert := func(id, receiver, external string) error {
			c := newCharge("k1", id, "ref-"+id)
			c.ReceiverID, c.ExternalID = receiver, external
			return b.store.InsertCharge(b.ctx, c, newAttempt(c, id+"-0", 0))
		}
		require.NoError(t, insert("ch1", "r1", "NF-1"))
		require.ErrorIs(t, insert("ch2", "r1", "NF-1"), pixauto.ErrConflict)
		require.NoError(t, insert("ch3", "r2", "NF-1"), "another receiver may use the same id")
		require.NoError(t, insert("ch4", "r1", ""), "no external id")
		require.NoError(t, insert("ch5", "r1", ""), "no external id, twice")
		require.NoError(t, insert("ch6", "r1", "NF-2"))

		// Even a failed charge keeps its external id.
		c1, err := b.store.GetCharge(b.ctx, "ch1")
		require.NoError(t, err)
		c1.Status = pixauto.ChargeFailed
		require.NoError(t, b.store.UpdateCharge(b.ctx, c1))
		require.ErrorIs(t, insert("ch7", "r1", "NF-1"), pixauto.ErrConflict)

		// An update to a taken external id is a conflict too.
		c6, err := b.store.GetCharge(b.ctx, "ch6")
		require.NoError(t, err)
		c6.ExternalID = "NF-1"
		require.ErrorIs(t, b.store.UpdateCharge(b.ctx, c6), pixauto.ErrConflict)
	})

	t.Run("InsertAtomic", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		_, taken := b.insertCharge(t, "k1", "ch1", "2025-08-01")

		for name, mutate := range map[string]func(a *pixauto.AttemptRecord){
			"EndToEndID":     func(a *pixauto.AttemptRecord) { a.EndToEndID = taken.EndToEndID },
			"IdempotencyKey": func(a *pixauto.AttemptRecord) { a.IdempotencyKey = taken.IdempotencyKey },
			"AttemptID":      func(a *pixauto.AttemptRecord) { a.ID = taken.ID },
		} {
			c := newCharge("k1", "ch2", "2025-09-01")
			a := newAttempt(c, "at2", 0)
			mutate(a)
			require.ErrorIs(t, b.store.InsertCharge(b.ctx, c, a), pixauto.ErrConflict, name)
			_, err := b.store.GetCharge(b.ctx, "ch2")
			require.ErrorIs(t, err, pixauto.ErrNotFound, "%s: the charge must not outlive its first attempt", name)
		}

		// The cycle is still free.
		c := newCharge("k1", "ch2", "2025-09-01")
		require.NoError(t, b.store.InsertCharge(b.ctx, c, newAttempt(c, "at2", 0)))
	})

	t.Run("Update", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		b.insertConsent(t, "k2")
		c, _ := b.insertCharge(t, "k1", "ch1", "2025-08-01")
		c.ReceiverID = "receiver-2"
		c.ConsentID = "k2"
		c.HolderID = "holder-2"
		c.Reference = "2025-09-01"
		c.Amount = consent.MustAmount("0.01")
		c.DueDate = consent.MustDate("2025-09-05")
		c.Status = pixauto.ChargeRetrying
		c.FailureCode = payments.RejectionValorAcimaLimite
		c.Description = "nova descrição"
		c.ExternalID = "NF-9"
		c.CreatedAt = t0.Add(time.Second)
		c.UpdatedAt = t0.Add(time.Hour)
		require.NoError(t, b.store.UpdateCharge(b.ctx, c))
		require.EqualValues(t, 2, c.Version)
		got, err := b.store.GetCharge(b.ctx, "ch1")
		require.NoError(t, err)
		require.Equal(t, c, got)

		c.DueDate, c.FailureCode, c.Description, c.ExternalID = consent.Date{}, "", "", ""
		c.CreatedAt, c.UpdatedAt = time.Time{}, time.Time{}
		require.NoError(t, b.store.UpdateCharge(b.ctx, c))
		require.EqualValues(t, 3, c.Version)
		got, err = b.store.GetCharge(b.ctx, "ch1")
		require.NoError(t, err)
		require.Equal(t, c, got)
	})

	t.Run("UpdateStale", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		c, _ := b.insertCharge(t, "k1", "ch1", "2025-08-01")
		stale := *c
		c.Status = pixauto.ChargeScheduled
		require.NoError(t, b.store.UpdateCharge(b.ctx, c))
		stale.Status = pixauto.ChargeCancelled
		require.ErrorIs(t, b.store.UpdateCharge(b.ctx, &stale), pixauto.ErrConflict)
		require.EqualValues(t, 1, stale.Version)
		got, err := b.store.GetCharge(b.ctx, "ch1")
		require.NoError(t, err)
		require.Equal(t, c, got)
	})

	t.Run("UpdateNotFound", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		require.ErrorIs(t, b.store.UpdateCharge(b.ctx, newCharge("k1", "missing", "zero")), pixauto.ErrNotFound)
	})

	t.Run("UpdateConcurrent", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		b.insertCharge(t, "k1", "ch1", "2025-08-01")
		for round := range 3 {
			read, err := b.store.GetCharge(b.ctx, "ch1")
			require.NoError(t, err)
			errs := race(racers, func(i int) error {
				c := *read
				c.Amount = consent.Amount(i + 1)
				return b.store.UpdateCharge(b.ctx, &c)
			})
			requireOneWinner(t, errs, pixauto.ErrConflict)
			got, err := b.store.GetCharge(b.ctx, "ch1")
			require.NoError(t, err)
			require.EqualValues(t, 2+round, got.Version)
			winner := 0
			for i, err := range errs {
				if err == nil {
					winner = i
				}
			}
			require.Equal(t, consent.Amount(winner+1), got.Amount, "the stored charge is the winner's")
		}
	})

	t.Run("List", func(t *testing.T) { t.Parallel(); exerciseListCharges(t, newStore) })
}

func exerciseListCharges(t *testing.T, newStore func(*testing.T) pixauto.Store) {
	setupList := func(t *testing.T) *bundle {
		t.Helper()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		b.insertConsent(t, "k2")
		for _, c := range []*pixauto.ChargeRecord{
			{ID: "b", ReceiverID: "r1", ConsentID: "k1", Reference: "1", Status: pixauto.ChargePlanned,
				DueDate: consent.MustDate("2025-08-01"), UpdatedAt: t0, ExternalID: "INV-1"},
			{ID: "a-2", ReceiverID: "r1", ConsentID: "k2", Reference: "2", Status: pixauto.ChargeSettled,
				DueDate: consent.MustDate("2025-08-31"), UpdatedAt: t0.Add(-time.Microsecond)},
			{ID: "B", ReceiverID: "r2", ConsentID: "k1", Reference: "3", Status: pixauto.ChargeFailed,
				DueDate: consent.MustDate("2025-09-01"), UpdatedAt: t0.Add(time.Hour)},
			{ID: "a_1", ReceiverID: "r2", ConsentID: "k2", Reference: "4", Status: pixauto.ChargePlanned,
				DueDate: consent.MustDate("2025-07-31"), ExternalID: "INV-1"},
			{ID: "A", ReceiverID: "r1", ConsentID: "k1", Reference: "5", Status: pixauto.ChargeRetrying},
		} {
			require.NoError(t, b.store.InsertCharge(b.ctx, c, newAttempt(c, c.ID+"-0", 0)))
		}
		return b
	}

	for name, tc := range map[string]struct {
		f    pixauto.ChargeFilter
		want []string
	}{
		"All":                   {pixauto.ChargeFilter{}, []string{"A", "B", "a-2", "a_1", "b"}},
		"ReceiverID":            {pixauto.ChargeFilter{ReceiverID: "r2"}, []string{"B", "a_1"}},
		"ConsentID":             {pixauto.ChargeFilter{ConsentID: "k1"}, []string{"A", "B", "b"}},
		"Statuses":              {pixauto.ChargeFilter{Statuses: []pixauto.ChargeStatus{pixauto.ChargePlanned, pixauto.ChargeFailed}}, []string{"B", "a_1", "b"}},
		"DueFrom":               {pixauto.ChargeFilter{DueFrom: consent.MustDate("2025-08-31")}, []string{"B", "a-2"}},
		"DueTo":                 {pixauto.ChargeFilter{DueTo: consent.MustDate("2025-08-01")}, []string{"a_1", "b"}},
		"DueRange":              {pixauto.ChargeFilter{DueFrom: consent.MustDate("2025-08-01"), DueTo: consent.MustDate("2025-08-31")}, []string{"a-2", "b"}},
		"UpdatedSince":          {pixauto.ChargeFilter{UpdatedSince: t0}, []string{"B", "b"}}, // inclusive; unset excluded
		"After":                 {pixauto.ChargeFilter{After: "a-2"}, []string{"a_1", "b"}},
		"Limit":                 {pixauto.ChargeFilter{Limit: 3}, []string{"A", "B", "a-2"}},
		"Combined":              {pixauto.ChargeFilter{ReceiverID: "r1", Statuses: []pixauto.ChargeStatus{pixauto.ChargePlanned, pixauto.ChargeSettled}, Limit: 1}, []string{"a-2"}},
		"NoMatch":               {pixauto.ChargeFilter{ConsentID: "k3"}, []string{}},
		"ExternalID":            {pixauto.ChargeFilter{ExternalID: "INV-1"}, []string{"a_1", "b"}},
		"ReceiverAndExternalID": {pixauto.ChargeFilter{ReceiverID: "r2", ExternalID: "INV-1"}, []string{"a_1"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setupList(t)
			require.Equal(t, tc.want, chargeIDs(t, b, tc.f))
		})
	}

	t.Run("Records", func(t *testing.T) {
		t.Parallel()
		b := setup(t, newStore)
		b.insertConsent(t, "k1")
		want, _ := b.insertCharge(t, "k1", "ch1", "zero")
		var got []*pixauto.ChargeRecord
		for c, err := range b.store.ListCharges(b.ctx, pixauto.ChargeFilter{}) {
			require.NoError(t, err)
			got = append(got, c)
		}
		require.Equal(t, []*pixauto.ChargeRecord{want}, got)
	})

	t.Run("KeysetPaging", func(t *testing.T) {
		t.Parallel()
		b := setupList(t)
		var all []string
		f := pixauto.ChargeFilter{Limit: 2}
		for range 10 {
			page := chargeIDs(t, b, f)
			all = append(all, page...)
			if len(page) < f.Limit {
				break
			}
			f.After = page[len(page)-1]
		}
		require.Equal(t, []string{"A", "B", "a-2", "a_1", "b"}, all)
	})
}
